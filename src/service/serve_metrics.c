/* serve_metrics.c - the Prometheus metrics of `perk serve` (GET /metrics): requests and latency
 * histograms per route, evaluations, VM instructions, promotions applied and discount given per
 * promotion, store commit latency, the store's reconnections, the version served. Counters are
 * atomics updated by the worker threads without locks, except the per-promotion table (a short
 * mutex per evaluation that applied something). */
#include "serve_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper bounds of the latency buckets, in microseconds (le="0.0001" ... le="2.5"). */
static const uint64_t bucket_us[] = { 100,   250,   500,    1000,   2500,   5000,    10000,
                                      25000, 50000, 100000, 250000, 500000, 1000000, 2500000 };
#define N_BUCKETS (sizeof bucket_us / sizeof bucket_us[0])

typedef struct histogram {
    atomic_uint_fast64_t buckets[N_BUCKETS + 1]; /* the last one is +Inf; not cumulative here */
    atomic_uint_fast64_t sum_us, count;
} histogram;

/* Status codes counted separately; others fall in the last slot ("other"). */
static const int codes[] = { 200, 201, 400, 401, 403, 404, 405, 408, 409, 413, 422, 500, 503 };
#define N_CODES (sizeof codes / sizeof codes[0])

static atomic_uint_fast64_t requests[ROUTE_COUNT][N_CODES + 1];
static histogram latency[ROUTE_COUNT];
static histogram commit_latency;
static atomic_uint_fast64_t commits_ok, commits_failed, evaluations, evaluations_failed, instructions, swaps;
static atomic_int_fast64_t version_served;
static atomic_int_fast64_t reservations_open, reservations_expired;

/* Per promotion: applied count and discount (minor units), keyed by id. */
#define PROMO_SLOTS 4096
typedef struct promo_stat {
    char *id;
    uint64_t applied;
    int64_t discount;
} promo_stat;
static pthread_mutex_t promo_lock = PTHREAD_MUTEX_INITIALIZER;
static promo_stat promos[PROMO_SLOTS];
static size_t n_promos;
static uint64_t promos_dropped; /* applications of promotions beyond the table */

static void observe(histogram *h, uint64_t us)
{
    size_t i = 0;
    while (i < N_BUCKETS && us > bucket_us[i]) i++;
    atomic_fetch_add(&h->buckets[i], 1);
    atomic_fetch_add(&h->sum_us, us);
    atomic_fetch_add(&h->count, 1);
}

void serve_metrics_request(serve_route route, int status, uint64_t micros)
{
    size_t k = 0;
    while (k < N_CODES && codes[k] != status) k++;
    atomic_fetch_add(&requests[route][k], 1);
    observe(&latency[route], micros);
}

void serve_metrics_commit(uint64_t micros, bool ok)
{
    observe(&commit_latency, micros);
    atomic_fetch_add(ok ? &commits_ok : &commits_failed, 1);
}

void serve_metrics_reservations(int64_t open, int64_t expired)
{
    atomic_store(&reservations_open, open);
    atomic_fetch_add(&reservations_expired, expired);
}

void serve_metrics_swap(int64_t version)
{
    atomic_store(&version_served, version);
    atomic_fetch_add(&swaps, 1);
}

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void serve_metrics_evaluation(const perk_program *prog, const perk_result *res)
{
    atomic_fetch_add(&evaluations, 1);
    if (res->status != PERK_OK) {
        atomic_fetch_add(&evaluations_failed, 1);
        return;
    }
    atomic_fetch_add(&instructions, res->instructions);
    bool locked = false;
    for (uint32_t i = 0; i < res->n_promotions; i++) {
        const perk_promotion_result *pr = &res->promotions[i];
        if (pr->reason != PERK_REASON_APPLIED) continue;
        const char *id = perk_program_promotion_id(prog, pr->promotion);
        if (!id) continue;
        if (!locked) {
            pthread_mutex_lock(&promo_lock);
            locked = true;
        }
        /* open addressing: promotion ids are few and stable, the table never shrinks */
        size_t slot = (size_t)(hash_id(id) % PROMO_SLOTS), probes = 0;
        while (promos[slot].id && strcmp(promos[slot].id, id) != 0 && probes < PROMO_SLOTS) {
            slot = (slot + 1) % PROMO_SLOTS;
            probes++;
        }
        if (!promos[slot].id) {
            if (n_promos >= PROMO_SLOTS / 2 || !(promos[slot].id = strdup(id))) {
                promos_dropped++;
                continue;
            }
            n_promos++;
        } else if (probes >= PROMO_SLOTS) {
            promos_dropped++;
            continue;
        }
        promos[slot].applied++;
        promos[slot].discount += pr->discount + pr->shipping_discount;
    }
    if (locked) pthread_mutex_unlock(&promo_lock);
}

/* A growing text buffer. */
typedef struct text {
    char *s;
    size_t len, cap;
    bool failed;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    if (t->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 8192;
        while (cap < t->len + (size_t)n + 1) cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = true;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

static void put_histogram(text *t, const char *name, const char *labels, histogram *h)
{
    uint64_t cum = 0;
    for (size_t i = 0; i <= N_BUCKETS; i++) {
        cum += atomic_load(&h->buckets[i]);
        if (i < N_BUCKETS)
            put(t, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, labels[0] ? "," : "",
                (double)bucket_us[i] / 1e6, (unsigned long long)cum);
        else
            put(t, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, labels[0] ? "," : "",
                (unsigned long long)cum);
    }
    put(t, "%s_sum{%s} %.6f\n", name, labels, (double)atomic_load(&h->sum_us) / 1e6);
    put(t, "%s_count{%s} %llu\n", name, labels, (unsigned long long)atomic_load(&h->count));
}

/* Promotion ids are identifiers, but escape what the text format needs anyway. */
static void put_label_value(text *t, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            put(t, "\\%c", *v);
        else if (*v == '\n')
            put(t, "\\n");
        else
            put(t, "%c", *v);
    }
}

char *serve_metrics_render(size_t *len)
{
    text t = { 0 };
    put(&t, "# HELP perk_http_requests_total HTTP requests answered, by route and status code.\n"
            "# TYPE perk_http_requests_total counter\n");
    for (int r = 0; r < ROUTE_COUNT; r++)
        for (size_t k = 0; k <= N_CODES; k++) {
            uint64_t n = atomic_load(&requests[r][k]);
            if (!n) continue;
            if (k < N_CODES)
                put(&t, "perk_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n", serve_routes[r].name,
                    codes[k], (unsigned long long)n);
            else
                put(&t, "perk_http_requests_total{route=\"%s\",code=\"other\"} %llu\n", serve_routes[r].name,
                    (unsigned long long)n);
        }
    put(&t, "# HELP perk_http_request_duration_seconds Time from the request's first byte to its answer, by "
            "route.\n"
            "# TYPE perk_http_request_duration_seconds histogram\n");
    for (int r = 0; r < ROUTE_COUNT; r++) {
        if (!atomic_load(&latency[r].count)) continue;
        char labels[64];
        snprintf(labels, sizeof labels, "route=\"%s\"", serve_routes[r].name);
        put_histogram(&t, "perk_http_request_duration_seconds", labels, &latency[r]);
    }
    put(&t,
        "# HELP perk_evaluations_total Carts evaluated (evaluate and order routes).\n"
        "# TYPE perk_evaluations_total counter\nperk_evaluations_total %llu\n",
        (unsigned long long)atomic_load(&evaluations));
    put(&t,
        "# HELP perk_evaluations_failed_total Evaluations that ended with an error status.\n"
        "# TYPE perk_evaluations_failed_total counter\nperk_evaluations_failed_total %llu\n",
        (unsigned long long)atomic_load(&evaluations_failed));
    put(&t,
        "# HELP perk_vm_instructions_total VM instructions executed by evaluations.\n"
        "# TYPE perk_vm_instructions_total counter\nperk_vm_instructions_total %llu\n",
        (unsigned long long)atomic_load(&instructions));
    put(&t, "# HELP perk_promotion_applied_total Evaluations in which a promotion applied.\n"
            "# TYPE perk_promotion_applied_total counter\n");
    pthread_mutex_lock(&promo_lock);
    for (size_t i = 0; i < PROMO_SLOTS; i++) {
        if (!promos[i].id) continue;
        put(&t, "perk_promotion_applied_total{promotion=\"");
        put_label_value(&t, promos[i].id);
        put(&t, "\"} %llu\n", (unsigned long long)promos[i].applied);
    }
    put(&t,
        "# HELP perk_promotion_discount_minor_total Discount given by a promotion, in minor currency units "
        "(evaluations, not only commits).\n# TYPE perk_promotion_discount_minor_total counter\n");
    for (size_t i = 0; i < PROMO_SLOTS; i++) {
        if (!promos[i].id) continue;
        put(&t, "perk_promotion_discount_minor_total{promotion=\"");
        put_label_value(&t, promos[i].id);
        put(&t, "\"} %lld\n", (long long)promos[i].discount);
    }
    uint64_t dropped = promos_dropped;
    pthread_mutex_unlock(&promo_lock);
    put(&t,
        "# HELP perk_promotion_untracked_total Applications of promotions beyond the metrics table.\n"
        "# TYPE perk_promotion_untracked_total counter\nperk_promotion_untracked_total %llu\n",
        (unsigned long long)dropped);
    put(&t, "# HELP perk_store_commit_duration_seconds Time to place an order (evaluate, commit, retries).\n"
            "# TYPE perk_store_commit_duration_seconds histogram\n");
    put_histogram(&t, "perk_store_commit_duration_seconds", "", &commit_latency);
    put(&t,
        "# HELP perk_store_commits_total Orders placed, by outcome.\n# TYPE perk_store_commits_total "
        "counter\n"
        "perk_store_commits_total{outcome=\"ok\"} %llu\nperk_store_commits_total{outcome=\"failed\"} %llu\n",
        (unsigned long long)atomic_load(&commits_ok), (unsigned long long)atomic_load(&commits_failed));
    int64_t reconnected, refused;
    perk_store_reconnects(&reconnected, &refused);
    put(&t,
        "# HELP perk_store_reconnects_total Connections to PostgreSQL made again after one was lost, by "
        "result (failed: the server could not be reached; 0 on SQLite).\n"
        "# TYPE perk_store_reconnects_total counter\n"
        "perk_store_reconnects_total{result=\"ok\"} %lld\nperk_store_reconnects_total{result=\"failed\"} %lld\n",
        (long long)reconnected, (long long)refused);
    put(&t,
        "# HELP perk_ruleset_version The rule-set version being served.\n# TYPE perk_ruleset_version gauge\n"
        "perk_ruleset_version %lld\n",
        (long long)atomic_load(&version_served));
    put(&t,
        "# HELP perk_ruleset_swaps_total Versions swapped in without a restart.\n"
        "# TYPE perk_ruleset_swaps_total counter\nperk_ruleset_swaps_total %llu\n",
        (unsigned long long)atomic_load(&swaps));
    put(&t,
        "# HELP perk_reservations_open Reservations holding budgets and coupons now (at the last sweep).\n"
        "# TYPE perk_reservations_open gauge\nperk_reservations_open %lld\n"
        "# HELP perk_reservations_expired_total Reservations whose TTL ended uncommitted (found by the "
        "sweep).\n"
        "# TYPE perk_reservations_expired_total counter\nperk_reservations_expired_total %lld\n",
        (long long)atomic_load(&reservations_open), (long long)atomic_load(&reservations_expired));
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    *len = t.len;
    return t.s;
}

void serve_metrics_free(void)
{
    pthread_mutex_lock(&promo_lock);
    for (size_t i = 0; i < PROMO_SLOTS; i++) {
        free(promos[i].id);
        promos[i].id = NULL;
    }
    n_promos = 0;
    pthread_mutex_unlock(&promo_lock);
}
