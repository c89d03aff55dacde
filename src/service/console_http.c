/* console_http.c - the operators' console under /console (docs/console.md): the embedded front
 * end, sign-in and sign-out, sessions by cookie, the CSRF check of every change, the sign-in rate
 * limit, the security headers and the audit log route. The pages' own API (rules, publish,
 * results) is in console_rules.c, console_publish.c and console_results.c.
 *
 * Security, in short: the session cookie is HttpOnly, SameSite=Strict, Path=/console (Secure
 * behind a TLS proxy that says X-Forwarded-Proto: https); only the token's SHA-256 is stored. A
 * change (any method but GET) must carry the session's CSRF token in X-CSRF-Token, a JSON body
 * (Content-Type: application/json: a cross-site form cannot send one) and, when the browser sends
 * Origin, the same host. Every answer carries a strict Content-Security-Policy (scripts and styles
 * from /console only, no inline code), frame-ancestors 'none' and X-Frame-Options: DENY. */
#include "console_internal.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define CONSOLE_SESSION_TTL (12 * 3600) /* seconds a sign-in lasts */
#define CONSOLE_COOKIE "perk_session"
#define CONSOLE_MAX_FAILURES 5     /* failed sign-ins per name or address ... */
#define CONSOLE_FAILURE_WINDOW 900 /* ... within this many seconds, then refused until it passes */
#define CONSOLE_LIMIT_SLOTS 256
#define CONSOLE_NONCE_MARK "PERK-CSP-NONCE-PLACEHOLDER-32CH." /* in console/index.html */

bool console_is_path(const char *path)
{
    return strncmp(path, "/console", 8) == 0 && (path[8] == '\0' || path[8] == '/');
}

void console_add_headers(void *response, const serve_reply *r)
{
    struct MHD_Response *resp = response;
    /* Styles: our stylesheet, plus the <style> elements CodeMirror makes, which carry the page's
     * random nonce. Scripts: /console/app.js only, never inline. */
    char csp[512];
    snprintf(
        csp, sizeof csp,
        "default-src 'self'; script-src 'self'; style-src 'self'%s%s%s; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        r->csp_nonce[0] ? " 'nonce-" : "", r->csp_nonce, r->csp_nonce[0] ? "'" : "");
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

/* ------------------------------------------------------------ rate limit */

/* Failed sign-ins counted per key ("name:alice", "addr:127.0.0.1") in a small table; the oldest
 * slot is reused when it is full. In memory: a restart forgets, which only helps the owner. */
typedef struct limit_slot {
    char key[96];
    int failures;
    int64_t window_start;
} limit_slot;

static limit_slot limit_slots[CONSOLE_LIMIT_SLOTS];
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;

static limit_slot *limit_find(const char *key, int64_t now, bool create)
{
    limit_slot *oldest = &limit_slots[0];
    for (size_t i = 0; i < CONSOLE_LIMIT_SLOTS; i++) {
        limit_slot *sl = &limit_slots[i];
        if (sl->key[0] && strcmp(sl->key, key) == 0) {
            if (now - sl->window_start >= CONSOLE_FAILURE_WINDOW) {
                sl->failures = 0;
                sl->window_start = now;
            }
            return sl;
        }
        if (sl->window_start < oldest->window_start) oldest = sl;
    }
    if (!create) return NULL;
    snprintf(oldest->key, sizeof oldest->key, "%s", key);
    oldest->failures = 0;
    oldest->window_start = now;
    return oldest;
}

/* Seconds until `key` may try again (0 = now). */
static int64_t limit_wait(const char *key, int64_t now)
{
    pthread_mutex_lock(&limit_lock);
    limit_slot *sl = limit_find(key, now, false);
    int64_t wait =
        sl && sl->failures >= CONSOLE_MAX_FAILURES ? sl->window_start + CONSOLE_FAILURE_WINDOW - now : 0;
    pthread_mutex_unlock(&limit_lock);
    return wait > 0 ? wait : 0;
}

static void limit_fail(const char *key, int64_t now)
{
    pthread_mutex_lock(&limit_lock);
    limit_slot *sl = limit_find(key, now, true);
    sl->failures++;
    pthread_mutex_unlock(&limit_lock);
}

static void limit_clear(const char *key, int64_t now)
{
    pthread_mutex_lock(&limit_lock);
    limit_slot *sl = limit_find(key, now, false);
    if (sl) sl->failures = 0;
    pthread_mutex_unlock(&limit_lock);
}

/* --------------------------------------------------------------- helpers */

void *console_body(console_call *c, serve_reply *r)
{
    json_error_t je;
    json_t *o = json_loadb(c->body, c->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        serve_error(r, 400, "invalid_json", NULL, "the body must be a JSON object");
        return NULL;
    }
    return o;
}

const char *console_member(void *obj, const char *key, serve_reply *r)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        serve_error(r, 400, "invalid_request", key, "%s: a string is required", key);
        return NULL;
    }
    return json_string_value(v);
}

void console_audit(console_call *c, const console_session *s, const char *action, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (perk_store_audit(c->w->store, (int64_t)time(NULL), s ? s->user.name : "-", action, detail) !=
        PERK_STORE_OK)
        serve_log("error", "cannot write the audit log (%s): %s", action, perk_store_errmsg(c->w->store));
}

static console_role role_of(const char *role)
{
    if (strcmp(role, "viewer") == 0) return ROLE_VIEWER;
    if (strcmp(role, "editor") == 0) return ROLE_EDITOR;
    if (strcmp(role, "publisher") == 0) return ROLE_PUBLISHER;
    return ROLE_NONE;
}

static const char *role_name(console_role role)
{
    switch (role) {
    case ROLE_VIEWER: return "viewer";
    case ROLE_EDITOR: return "editor";
    case ROLE_PUBLISHER: return "publisher";
    case ROLE_NONE: return "none";
    }
    return "none";
}

bool console_allow(const console_session *s, console_role need, serve_reply *r)
{
    if (s->role >= need) return true;
    serve_error(r, 403, "forbidden", NULL, "this needs the %s role; %s has the %s role", role_name(need),
                s->user.name, role_name(s->role));
    return false;
}

void console_post(console_call *c, const console_session *s, console_role need, console_post_fn fn, serve_reply *r)
{
    if (strcmp(c->method, "POST") != 0) {
        r->allow = "POST";
        serve_error(r, 405, "method_not_allowed", NULL, "use POST");
        return;
    }
    if (!console_allow(s, need, r)) return;
    json_t *body = console_body(c, r);
    if (!body) return;
    fn(c, s, body, r);
    json_decref(body);
}

/* The session token of the Cookie header (copied into out), or false. */
static bool cookie_token(console_call *c, char out[PERK_STORE_TOKEN_LEN + 1])
{
    const char *h = c->header(c->conn, "Cookie");
    size_t name_len = strlen(CONSOLE_COOKIE);
    while (h && *h) {
        while (*h == ' ' || *h == ';') h++;
        const char *end = strchr(h, ';');
        size_t len = end ? (size_t)(end - h) : strlen(h);
        if (len == name_len + 1 + PERK_STORE_TOKEN_LEN && strncmp(h, CONSOLE_COOKIE "=", name_len + 1) == 0) {
            memcpy(out, h + name_len + 1, PERK_STORE_TOKEN_LEN);
            out[PERK_STORE_TOKEN_LEN] = '\0';
            return true;
        }
        h = end;
    }
    return false;
}

/* Compares without an early exit, so that the time taken says nothing about the token. */
static bool same_token(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0 && la > 0;
}

static bool behind_tls(console_call *c)
{
    const char *p = c->header(c->conn, "X-Forwarded-Proto");
    return p && strcmp(p, "https") == 0;
}

static void set_cookie(console_call *c, serve_reply *r, const char *token, int max_age)
{
    char buf[256];
    snprintf(buf, sizeof buf, CONSOLE_COOKIE "=%s; Path=/console; HttpOnly; SameSite=Strict; Max-Age=%d%s",
             token, max_age, behind_tls(c) ? "; Secure" : "");
    free(r->set_cookie);
    r->set_cookie = strdup(buf);
}

/* Checks what a change must carry besides the session: a JSON body and, when the browser names
 * its origin, this host. */
static bool change_allowed(console_call *c, serve_reply *r)
{
    const char *ct = c->header(c->conn, "Content-Type");
    if (!ct || strncmp(ct, "application/json", 16) != 0) {
        serve_error(r, 415, "unsupported_media_type", NULL,
                    "a change must send Content-Type: application/json");
        return false;
    }
    const char *origin = c->header(c->conn, "Origin"), *host = c->header(c->conn, "Host");
    if (origin && strcmp(origin, "null") != 0) {
        const char *o = strstr(origin, "://");
        o = o ? o + 3 : origin;
        if (!host || strcmp(o, host) != 0) {
            serve_error(r, 403, "forbidden_origin", NULL, "the request comes from another site (%s)", origin);
            return false;
        }
    }
    return true;
}

static json_t *session_json(const console_session *s, const char *csrf)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(s->user.name));
    json_object_set_new(o, "role", json_string(role_name(s->role)));
    json_object_set_new(o, "csrf", json_string(csrf));
    return o;
}

/* -------------------------------------------------------------- sign in */

static void handle_login(console_call *c, serve_reply *r)
{
    json_t *body = console_body(c, r);
    if (!body) return;
    const char *name = console_member(body, "name", r),
               *password = name ? console_member(body, "password", r) : NULL;
    if (!password) {
        json_decref(body);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    char by_name[96], by_addr[96];
    snprintf(by_name, sizeof by_name, "name:%.64s", name);
    snprintf(by_addr, sizeof by_addr, "addr:%s", c->client);
    int64_t wait = limit_wait(by_name, now), wait_addr = limit_wait(by_addr, now);
    if (wait_addr > wait) wait = wait_addr;
    if (wait > 0) {
        serve_error(r, 429, "too_many_attempts", NULL, "too many failed sign-ins; try again in %lld seconds",
                    (long long)wait);
        console_audit(c, NULL, "login.refused", "%.64s from %s (rate limit)", name, c->client);
        json_decref(body);
        return;
    }
    console_session s;
    bool ok = false;
    perk_store_status st =
        perk_store_user_verify(c->w->store, name, password, strlen(password), &s.user, &ok);
    if (st != PERK_STORE_OK) {
        serve_error(r, 503, "store_unavailable", NULL, "cannot check the password: %s",
                    perk_store_errmsg(c->w->store));
        json_decref(body);
        return;
    }
    if (!ok) {
        limit_fail(by_name, now);
        limit_fail(by_addr, now);
        console_audit(c, NULL, "login.failed", "%.64s from %s", name, c->client);
        serve_error(r, 401, "bad_credentials", NULL, "wrong name or password");
        json_decref(body);
        return;
    }
    json_decref(body);
    limit_clear(by_name, now);
    limit_clear(by_addr, now);
    s.role = role_of(s.user.role);
    char token[PERK_STORE_TOKEN_LEN + 1], csrf[PERK_STORE_TOKEN_LEN + 1];
    st = perk_store_session_create(c->w->store, s.user.id, now, CONSOLE_SESSION_TTL, token, csrf);
    if (st != PERK_STORE_OK) {
        serve_error(r, 503, "store_unavailable", NULL, "cannot start a session: %s",
                    perk_store_errmsg(c->w->store));
        return;
    }
    set_cookie(c, r, token, CONSOLE_SESSION_TTL);
    memset(token, 0, sizeof token);
    console_audit(c, &s, "login", "from %s", c->client);
    serve_json(r, 200, session_json(&s, csrf));
}

/* ---------------------------------------------------------------- audit */

static int audit_row(void *ctx, const perk_store_audit_entry *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(e->id));
    json_object_set_new(o, "at", json_integer(e->at));
    json_t *a = json_string(e->actor), *k = json_string(e->action), *d = json_string(e->detail);
    json_object_set_new(o, "actor", a ? a : json_string("?"));
    json_object_set_new(o, "action", k ? k : json_string("?"));
    json_object_set_new(o, "detail", d ? d : json_string("?"));
    json_array_append_new(ctx, o);
    return 0;
}

static void handle_audit(console_call *c, serve_reply *r)
{
    const char *b = c->query(c->conn, "before");
    int64_t before = b ? strtoll(b, NULL, 10) : 0;
    if (before < 0) before = 0;
    json_t *rows = json_array();
    perk_store_status st = perk_store_audit_list(c->w->store, before, 100, audit_row, rows);
    if (st != PERK_STORE_OK) {
        json_decref(rows);
        serve_error(r, 503, "store_unavailable", NULL, "cannot read the audit log: %s",
                    perk_store_errmsg(c->w->store));
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "entries", rows);
    serve_json(r, 200, o);
}

/* ---------------------------------------------------------------- assets */

static void serve_asset(console_call *c, serve_reply *r)
{
    const char *path = strcmp(c->path, "/console") == 0 ? "/console/" : c->path;
    /* the pages of the single-page app are all the same document */
    bool page =
        strncmp(path, "/console/", 9) == 0 && !strchr(path + 9, '.') && strncmp(path, "/console/api", 12);
    if (page) path = "/console/";
    for (size_t i = 0; i < console_asset_count; i++) {
        const console_asset *a = &console_assets[i];
        if (strcmp(a->path, path) != 0) continue;
        free(r->body);
        r->body = malloc(a->len + 1);
        if (!r->body) {
            serve_error(r, 500, "internal", NULL, "out of memory");
            return;
        }
        memcpy(r->body, a->data, a->len);
        r->body[a->len] = '\0';
        r->len = a->len;
        /* the page gets a fresh nonce for CodeMirror's styles, in its meta tag and its CSP */
        char *mark = strcmp(a->path, "/console/") == 0 ? strstr(r->body, CONSOLE_NONCE_MARK) : NULL;
        if (mark) {
            unsigned char raw[16];
            if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
                serve_error(r, 500, "internal", NULL, "no random bytes for the page's nonce");
                return;
            }
            for (size_t k = 0; k < sizeof raw; k++) snprintf(r->csp_nonce + 2 * k, 3, "%02x", raw[k]);
            memcpy(mark, r->csp_nonce, 32); /* the mark is 32 characters too */
        }
        r->status = 200;
        r->content_type = a->content_type;
        return;
    }
    serve_error(r, 404, "not_found", NULL, "no console file %s", c->path);
}

/* ----------------------------------------------------------------- routes */

void console_handle(console_call *c, serve_reply *r)
{
    bool get = strcmp(c->method, "GET") == 0 || strcmp(c->method, "HEAD") == 0;
    if (strncmp(c->path, "/console/api/", 13) != 0) {
        if (!get) {
            r->allow = "GET, HEAD";
            serve_error(r, 405, "method_not_allowed", NULL, "%s is not allowed here; use GET", c->method);
            return;
        }
        serve_asset(c, r);
        return;
    }
    const char *route = c->path + 13;
    if (strcmp(route, "login") == 0) {
        if (strcmp(c->method, "POST") != 0) {
            r->allow = "POST";
            serve_error(r, 405, "method_not_allowed", NULL, "sign in with POST");
            return;
        }
        if (change_allowed(c, r)) handle_login(c, r);
        return;
    }
    /* everything else needs a session */
    char token[PERK_STORE_TOKEN_LEN + 1], csrf[PERK_STORE_TOKEN_LEN + 1];
    console_session s;
    bool found = false;
    if (cookie_token(c, token)) {
        perk_store_status st =
            perk_store_session_lookup(c->w->store, token, (int64_t)time(NULL), &s.user, csrf, &found);
        if (st != PERK_STORE_OK) {
            serve_error(r, 503, "store_unavailable", NULL, "cannot check the session: %s",
                        perk_store_errmsg(c->w->store));
            return;
        }
    }
    if (!found) {
        serve_error(r, 401, "unauthorized", NULL, "sign in first (the session is missing or has expired)");
        return;
    }
    s.role = role_of(s.user.role);
    if (!get) {
        const char *given = c->header(c->conn, "X-CSRF-Token");
        if (!given || !same_token(given, csrf)) {
            serve_error(r, 403, "csrf", NULL,
                        "the request lacks this session's X-CSRF-Token: reload the console");
            return;
        }
        if (!change_allowed(c, r)) return;
    }
    if (strcmp(route, "me") == 0 && get) {
        serve_json(r, 200, session_json(&s, csrf));
        return;
    }
    if (strcmp(route, "logout") == 0 && !get) {
        perk_store_session_delete(c->w->store, token);
        console_audit(c, &s, "logout", "from %s", c->client);
        set_cookie(c, r, "", 0);
        serve_json(r, 200, json_pack("{s:b}", "signed_out", 1));
        return;
    }
    if (strcmp(route, "audit") == 0 && get) {
        handle_audit(c, r);
        return;
    }
    if (console_rules_route(c, &s, route, r) || console_publish_route(c, &s, route, r) ||
        console_results_route(c, &s, route, r) || console_coupons_route(c, &s, route, r) ||
        console_drafts_route(c, &s, route, r))
        return;
    serve_error(r, 404, "not_found", NULL, "no console route %s %s", c->method, c->path);
}
