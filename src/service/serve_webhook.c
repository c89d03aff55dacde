/* serve_webhook.c - delivers the outbox to a webhook: one POST per event, in id order, signed
 * with HMAC-SHA256, at least once. The position is the store's consumer "webhook"
 * (perk_store_ack_held after a 2xx), so a restart resumes where delivery stopped; a failed
 * delivery is retried with a growing pause (0.5 s doubling to 30 s) and nothing after it is sent
 * meanwhile. Several nodes on one store each run this relay, and one delivers at a time: it holds
 * the consumer's claim (perk_store_consumer_claim, renewed while it works); the others stand by
 * and take over when the claim ends (the node died or hangs) or is given up (it stopped). Parallel
 * delivery (FOR UPDATE SKIP LOCKED over the outbox) would break the order per endpoint.
 *
 *   X-Perk-Event-Id: 42
 *   X-Perk-Timestamp: 1796611192                      (epoch seconds of the attempt)
 *   X-Perk-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
 */
#include "serve_internal.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WEBHOOK_CONSUMER "webhook"

/* What the console shows of the delivery (serve_webhook_state): one webhook per process. */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static serve_webhook_info state;

static void state_set(bool failed, int64_t failed_id, const char *why, unsigned backoff_ms)
{
    pthread_mutex_lock(&state_lock);
    int64_t now = (int64_t)time(NULL);
    if (failed) {
        state.failed_id = failed_id;
        snprintf(state.last_error, sizeof state.last_error, "%s", why);
        state.last_error_at = now;
        state.next_retry_at = now + (backoff_ms + 999) / 1000;
    } else {
        state.failed_id = 0;
        state.next_retry_at = 0;
    }
    pthread_mutex_unlock(&state_lock);
}

/* The URL as shown, without a password it may carry ("https://user:***@host/..."). */
static void state_url(const char *url)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    const char *at = strchr(host, '@'), *slash = strchr(host, '/'), *colon = strchr(host, ':');
    if (at && (!slash || at < slash) && colon && colon < at)
        snprintf(state.url, sizeof state.url, "%.*s:***%s", (int)(colon - url), url, at);
    else
        snprintf(state.url, sizeof state.url, "%s", url);
}

bool serve_webhook_state(serve_webhook_info *out)
{
    pthread_mutex_lock(&state_lock);
    *out = state;
    pthread_mutex_unlock(&state_lock);
    return out->running;
}

struct serve_webhook {
    serve_options opt;
    char node[64];          /* this node's claim holder name: "host:pid" */
    int64_t claimed_until;  /* this node's claim ends then (0 = not held) */
    char *secret;
    size_t secret_len;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
};

static int hexval(char c) { return c >= 'a' ? c - 'a' + 10 : c - '0'; }

/* SHA-256 of data into 32 raw bytes, through the store's hex digest. */
static void sha256_raw(const void *data, size_t len, unsigned char out[32])
{
    char hex[65];
    perk_store_sha256_hex(data, len, hex);
    for (int i = 0; i < 32; i++) out[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
}

/* RFC 2104 HMAC over SHA-256 (64-byte blocks), as lowercase hex. false when out of memory. */
bool serve_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len, char out[65])
{
    unsigned char k[64] = { 0 }, inner[32];
    if (key_len > 64)
        sha256_raw(key, key_len, k);
    else
        memcpy(k, key, key_len);
    size_t n = 64 + (msg_len > 32 ? msg_len : 32);
    unsigned char *buf = malloc(n);
    if (!buf) return false;
    for (int i = 0; i < 64; i++) buf[i] = k[i] ^ 0x36;
    memcpy(buf + 64, msg, msg_len);
    sha256_raw(buf, 64 + msg_len, inner);
    for (int i = 0; i < 64; i++) buf[i] = k[i] ^ 0x5c;
    memcpy(buf + 64, inner, 32);
    perk_store_sha256_hex(buf, 64 + 32, out);
    free(buf);
    return true;
}

static size_t discard(char *p, size_t size, size_t n, void *u)
{
    (void)p;
    (void)u;
    return size * n;
}

/* POSTs one event; true on a 2xx answer. */
static bool deliver(serve_webhook *wh, CURL *curl, int64_t id, const char *type, int64_t time_,
                    const char *data, char *why, size_t whylen)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "time", json_integer(time_));
    json_t *dj = json_loads(data, 0, NULL);
    json_object_set_new(o, "data", dj ? dj : json_string(data));
    char *body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!body) {
        snprintf(why, whylen, "out of memory");
        return false;
    }
    char stamp[24], sig[65];
    snprintf(stamp, sizeof stamp, "%lld", (long long)time(NULL));
    size_t blen = strlen(body), slen = strlen(stamp);
    char *signed_text = malloc(slen + 1 + blen + 1);
    bool ok = false;
    if (signed_text) {
        memcpy(signed_text, stamp, slen);
        signed_text[slen] = '.';
        memcpy(signed_text + slen + 1, body, blen + 1);
        ok = serve_hmac_sha256_hex(wh->secret, wh->secret_len, signed_text, slen + 1 + blen, sig);
        free(signed_text);
    }
    if (!ok) {
        free(body);
        snprintf(why, whylen, "out of memory");
        return false;
    }
    char h_id[48], h_ts[48], h_sig[96];
    snprintf(h_id, sizeof h_id, "X-Perk-Event-Id: %lld", (long long)id);
    snprintf(h_ts, sizeof h_ts, "X-Perk-Timestamp: %s", stamp);
    snprintf(h_sig, sizeof h_sig, "X-Perk-Signature: sha256=%s", sig);
    struct curl_slist *hs = NULL;
    hs = curl_slist_append(hs, "Content-Type: application/json");
    hs = curl_slist_append(hs, h_id);
    hs = curl_slist_append(hs, h_ts);
    hs = curl_slist_append(hs, h_sig);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, wh->opt.webhook_url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)blen);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hs);
    free(body);
    if (rc != CURLE_OK) {
        snprintf(why, whylen, "%s", curl_easy_strerror(rc));
        return false;
    }
    if (status < 200 || status > 299) {
        snprintf(why, whylen, "the webhook answered %ld", status);
        return false;
    }
    return true;
}

typedef struct batch {
    serve_webhook *wh;
    CURL *curl;
    perk_store *store;
    bool failed;
    char why[256];
    int64_t failed_id;
} batch;

/* Takes or renews this node's claim on the consumer when less than half of it is left; false
 * when another node holds it (or the store cannot say): then this node must not deliver. */
static bool hold_claim(serve_webhook *wh, perk_store *store)
{
    int64_t now = (int64_t)time(NULL), ttl = wh->opt.webhook_claim_seconds ? wh->opt.webhook_claim_seconds : 30;
    if (wh->claimed_until && now < wh->claimed_until - ttl / 2) return true;
    perk_store_claim c;
    if (perk_store_consumer_claim(store, WEBHOOK_CONSUMER, wh->node, now, ttl, &c) != PERK_STORE_OK) {
        wh->claimed_until = 0;
        return false;
    }
    bool had = wh->claimed_until != 0;
    wh->claimed_until = c.granted ? c.until : 0;
    if (c.granted && !had) serve_log("webhook_claimed", "this node (%s) delivers the webhook now", wh->node);
    if (!c.granted && had)
        serve_log("webhook_standby", "node %s delivers the webhook now; this node (%s) stands by", c.holder, wh->node);
    pthread_mutex_lock(&state_lock);
    snprintf(state.holder, sizeof state.holder, "%s", c.holder);
    state.holder_until = c.until;
    pthread_mutex_unlock(&state_lock);
    return c.granted;
}

static int send_event(int64_t id, const char *type, int64_t time_, const char *data, void *p)
{
    batch *b = p;
    if (atomic_load(&b->wh->stop)) return 1;
    if (!hold_claim(b->wh, b->store)) return 1; /* taken over: the other node goes on from here */
    if (!deliver(b->wh, b->curl, id, type, time_, data, b->why, sizeof b->why)) {
        b->failed = true;
        b->failed_id = id;
        return 1; /* in order: nothing after a failed event */
    }
    if (perk_store_ack_held(b->store, WEBHOOK_CONSUMER, b->wh->node, id) != PERK_STORE_OK) {
        snprintf(b->why, sizeof b->why, "recording the delivery: %s", perk_store_errmsg(b->store));
        b->failed = true;
        b->failed_id = id;
        return 1;
    }
    return 0;
}

/* Sleeps up to ms, waking early at shutdown. */
static void nap(serve_webhook *wh, unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&wh->lock);
    if (!atomic_load(&wh->stop)) pthread_cond_timedwait(&wh->wake, &wh->lock, &ts);
    pthread_mutex_unlock(&wh->lock);
}

static void *webhook_main(void *p)
{
    serve_webhook *wh = p;
    perk_store *store = NULL;
    CURL *curl = curl_easy_init();
    unsigned backoff = 0;
    int64_t last_failed = 0;
    while (!atomic_load(&wh->stop)) {
        if (!store && perk_store_open(wh->opt.db, &store) != PERK_STORE_OK) {
            serve_log("webhook_failed", "cannot open the store: %s", perk_store_errmsg(store));
            perk_store_close(store);
            store = NULL;
            nap(wh, 5000);
            continue;
        }
        if (!hold_claim(wh, store)) {
            /* another node delivers: look again within a third of a claim */
            unsigned ttl = wh->opt.webhook_claim_seconds ? wh->opt.webhook_claim_seconds : 30;
            backoff = 0;
            nap(wh, ttl * 1000 / 3 > wh->opt.poll_ms ? ttl * 1000 / 3 : wh->opt.poll_ms);
            continue;
        }
        int64_t pos = 0;
        batch b = { wh, curl, store, false, "", 0 };
        perk_store_status st = perk_store_consumer_position(store, WEBHOOK_CONSUMER, &pos);
        if (st == PERK_STORE_OK) st = perk_store_events(store, pos, 100, send_event, &b);
        if (st != PERK_STORE_OK) {
            b.failed = true;
            snprintf(b.why, sizeof b.why, "reading the outbox: %s", perk_store_errmsg(store));
        }
        if (b.failed) {
            if (b.failed_id != last_failed) /* one log line per event, not per retry */
                serve_log("webhook_failed", "event %lld not delivered (%s); retrying", (long long)b.failed_id,
                          b.why);
            last_failed = b.failed_id;
            backoff = backoff ? (backoff * 2 > 30000 ? 30000 : backoff * 2) : 500;
            state_set(true, b.failed_id, b.why, backoff);
            nap(wh, backoff);
        } else {
            backoff = 0;
            last_failed = 0;
            state_set(false, 0, "", 0);
            nap(wh, wh->opt.poll_ms);
        }
    }
    /* stopping: give the claim up so that another node takes over at once */
    if (store && wh->claimed_until) perk_store_consumer_release(store, WEBHOOK_CONSUMER, wh->node);
    curl_easy_cleanup(curl);
    perk_store_close(store);
    return NULL;
}

serve_webhook *serve_webhook_start(const serve_options *opt, const char *secret, size_t secret_len)
{
    serve_webhook *wh = calloc(1, sizeof *wh);
    if (!wh) return NULL;
    wh->opt = *opt;
    char host[48] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0]) snprintf(host, sizeof host, "node");
    host[sizeof host - 1] = '\0';
    snprintf(wh->node, sizeof wh->node, "%.47s:%ld", host, (long)getpid());
    wh->secret = malloc(secret_len + 1);
    if (!wh->secret) {
        free(wh);
        return NULL;
    }
    memcpy(wh->secret, secret, secret_len);
    wh->secret[secret_len] = '\0';
    wh->secret_len = secret_len;
    pthread_mutex_init(&wh->lock, NULL);
    pthread_cond_init(&wh->wake, NULL);
    pthread_mutex_lock(&state_lock);
    memset(&state, 0, sizeof state);
    state.running = true;
    snprintf(state.node, sizeof state.node, "%s", wh->node);
    state_url(opt->webhook_url ? opt->webhook_url : "");
    pthread_mutex_unlock(&state_lock);
    if (pthread_create(&wh->thread, NULL, webhook_main, wh) != 0) {
        pthread_mutex_lock(&state_lock);
        state.running = false;
        pthread_mutex_unlock(&state_lock);
        pthread_mutex_destroy(&wh->lock);
        pthread_cond_destroy(&wh->wake);
        free(wh->secret);
        free(wh);
        return NULL;
    }
    return wh;
}

void serve_webhook_stop(serve_webhook *wh)
{
    if (!wh) return;
    pthread_mutex_lock(&wh->lock);
    atomic_store(&wh->stop, true);
    pthread_cond_signal(&wh->wake);
    pthread_mutex_unlock(&wh->lock);
    pthread_join(wh->thread, NULL);
    pthread_mutex_lock(&state_lock);
    state.running = false;
    pthread_mutex_unlock(&state_lock);
    pthread_mutex_destroy(&wh->lock);
    pthread_cond_destroy(&wh->wake);
    memset(wh->secret, 0, wh->secret_len);
    free(wh->secret);
    free(wh);
}
