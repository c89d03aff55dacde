/* serve_http.c - the HTTP side of `perk serve`: the libmicrohttpd daemon and its thread pool,
 * request bodies and their size limit, routing, API-key checks, the access log, the reload poll
 * and the graceful shutdown. What each route does is in serve_routes.c. */
#include "serve_internal.h"

#include "checkout/checkout.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

const serve_route_info serve_routes[ROUTE_COUNT] = {
#define SERVE_ROUTE_INFO(id, m, p, s, n) [id] = { m, p, s, n },
    SERVE_ROUTE_LIST(SERVE_ROUTE_INFO)
#undef SERVE_ROUTE_INFO
        [ROUTE_UNKNOWN] = { "", "", SCOPE_NONE, "unknown" },
};

uint64_t serve_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ------------------------------------------------------------------- replies */

void serve_json(serve_reply *r, int status, void *json_obj)
{
    json_t *o = json_obj;
    free(r->body);
    r->body = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!r->body) { /* out of memory: a fixed answer */
        r->body = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\",\"path\":null}}");
        status = 500;
    }
    r->len = r->body ? strlen(r->body) : 0;
    r->status = status;
}

void serve_error(serve_reply *r, int status, const char *code, const char *path, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = json_object();
    json_object_set_new(e, "code", json_string(code));
    /* messages quote client input: json_string refuses invalid UTF-8, so fall back */
    json_t *m = json_string(msg);
    json_object_set_new(e, "message", m ? m : json_string("(message not valid UTF-8)"));
    json_t *p = path ? json_string(path) : NULL;
    json_object_set_new(e, "path", p ? p : json_null());
    json_t *o = json_object();
    json_object_set_new(o, "error", e);
    r->error_code = code;
    serve_json(r, status, o);
}

bool serve_checkout_eval_error(serve_reply *r, const checkout_outcome *out)
{
    if (out->eval_status == PERK_INVALID)
        serve_error_from_message(r, 400, "invalid_cart", out->message);
    else if (out->eval_status != PERK_OK)
        serve_error(r, 422, out->eval_status == PERK_LIMIT ? "limit_exceeded" : "evaluation_failed", NULL, "%s",
                    out->message);
    else
        return false;
    return true;
}

void serve_error_from_message(serve_reply *r, int status, const char *code, const char *msg)
{
    char path[256] = "";
    const char *text = msg;
    const char *sep = strstr(msg, ": ");
    if (msg[0] == '$' && sep && (size_t)(sep - msg) < sizeof path) {
        memcpy(path, msg, (size_t)(sep - msg));
        path[sep - msg] = '\0';
    }
    /* the cart parser names the perk_limits field it enforced: "(max_lines)" */
    if (strstr(msg, "(max_") || strstr(msg, "exceed the limit of") || strstr(msg, "exceeds the limit of"))
        code = "limit_exceeded";
    else if (strncmp(msg, "invalid JSON", 12) == 0)
        code = "invalid_json";
    serve_error(r, status, code, path[0] ? path : NULL, "%s", text);
}

void serve_store_failure(serve_call *c, serve_reply *r, perk_store_status st)
{
    const char *msg = perk_store_errmsg(c->w->store);
    switch (st) {
    case PERK_STORE_NOT_FOUND: serve_error(r, 404, "not_found", NULL, "%s", msg); break;
    case PERK_STORE_INVALID: serve_error(r, 400, "invalid_request", NULL, "%s", msg); break;
    case PERK_STORE_CONFLICT: serve_error(r, 409, "conflict", NULL, "%s", msg); break;
    case PERK_STORE_BUSY: serve_error(r, 503, "store_busy", NULL, "%s", msg); break;
    case PERK_STORE_UNAVAILABLE: serve_error(r, 503, "store_unavailable", NULL, "%s", msg); break;
    case PERK_STORE_OK:
    case PERK_STORE_IO:
    case PERK_STORE_FULL:
    case PERK_STORE_READONLY:
    case PERK_STORE_CORRUPT:
    case PERK_STORE_BUDGET_EXCEEDED:
    case PERK_STORE_INSUFFICIENT_POINTS:
    case PERK_STORE_SCHEMA_TOO_NEW:
    case PERK_STORE_NOMEM:
    case PERK_STORE_INTERNAL:
    case PERK_STORE_STATUS_COUNT: serve_error(r, 500, "store_error", NULL, "%s", msg); break;
    }
}

json_t *serve_body_object(serve_call *c, serve_reply *r, bool empty_ok)
{
    if (c->body_len == 0 && empty_ok) return json_object();
    json_error_t je;
    json_t *o = json_loadb(c->body, c->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        serve_error(r, 400, "invalid_json", NULL, "line %d, column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        serve_error(r, 400, "invalid_json", "$", "the body must be a JSON object");
        return NULL;
    }
    return o;
}

/* --------------------------------------------------------------- the request */

/* What MHD keeps per request between calls of the access handler. */
typedef struct serve_request {
    char *body;
    size_t len, cap;
    bool too_large;
    bool timed_out; /* the body was still arriving at the request deadline */
    uint64_t start_us;
    char id[40];
} serve_request;

static atomic_uint_fast64_t request_counter;
static uint32_t process_tag; /* random per process: request ids differ across restarts */

static bool safe_request_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '_' || ch == '.'))
            return false;
    }
    return n > 0 && n < 40;
}

static serve_request *request_new(struct MHD_Connection *conn)
{
    serve_request *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->start_us = serve_now_us();
    const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (given && safe_request_id(given))
        snprintf(q->id, sizeof q->id, "%s", given); /* a proxy's id keeps one id across hops */
    else
        snprintf(q->id, sizeof q->id, "%08x-%08llx", process_tag,
                 (unsigned long long)atomic_fetch_add(&request_counter, 1) + 1);
    return q;
}

static bool body_append(serve_request *q, const char *data, size_t n, size_t max)
{
    if (q->too_large || q->len + n > max) {
        q->too_large = true;
        return false;
    }
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap ? q->cap : 4096;
        while (cap < q->len + n + 1) cap *= 2;
        char *b = realloc(q->body, cap);
        if (!b) {
            q->too_large = true;
            return false;
        }
        q->body = b;
        q->cap = cap;
    }
    memcpy(q->body + q->len, data, n);
    q->len += n;
    q->body[q->len] = '\0';
    return true;
}

/* ------------------------------------------------------------------ routing */

/* Matches `path` against a pattern with at most one "{id}" segment. */
static bool match_pattern(const char *pattern, const char *path, const char **id, size_t *id_len)
{
    const char *brace = strstr(pattern, "{id}");
    if (!brace) return strcmp(pattern, path) == 0;
    size_t pre = (size_t)(brace - pattern);
    if (strncmp(pattern, path, pre) != 0) return false;
    const char *seg = path + pre, *end = strchr(seg, '/');
    const char *rest = brace + 4;
    if (!end) end = seg + strlen(seg);
    if (end == seg || strcmp(rest, end) != 0) return false;
    *id = seg;
    *id_len = (size_t)(end - seg);
    return true;
}

/* The route of (method, path); ROUTE_UNKNOWN with *path_known when the path exists under another
 * method (a 405, with allow naming it). */
static serve_route match_route(const char *method, const char *path, char *id_buf, size_t id_cap,
                               bool *path_known, const char **allow)
{
    *path_known = false;
    for (int i = 0; i < ROUTE_UNKNOWN; i++) {
        const char *id = NULL;
        size_t n = 0;
        if (!match_pattern(serve_routes[i].pattern, path, &id, &n)) continue;
        if (strcmp(serve_routes[i].method, method) != 0 &&
            !(strcmp(method, "HEAD") == 0 && strcmp(serve_routes[i].method, "GET") == 0)) {
            *path_known = true;
            *allow = serve_routes[i].method;
            continue;
        }
        if (id) {
            if (n >= id_cap) n = id_cap - 1;
            memcpy(id_buf, id, n);
            id_buf[n] = '\0';
        }
        return (serve_route)i;
    }
    return ROUTE_UNKNOWN;
}

static const char *scope_names(int scopes, char *buf, size_t cap)
{
    buf[0] = '\0';
    const char *names[] = { "read", "checkout", "operator" };
    for (int i = 0; i < 3; i++)
        if (scopes & (1 << i)) {
            size_t l = strlen(buf);
            snprintf(buf + l, cap - l, "%s%s", l ? " or " : "", names[i]);
        }
    return buf;
}

static int scope_bit(const char *scope)
{
    if (strcmp(scope, "read") == 0) return SCOPE_READ;
    if (strcmp(scope, "checkout") == 0) return SCOPE_CHECKOUT;
    if (strcmp(scope, "operator") == 0) return SCOPE_OPERATOR;
    return 0;
}

/* ---------------------------------------------------------------- workers */

static serve_server *the_server; /* one service per process (signals are process-wide) */
static _Thread_local serve_worker *tl_worker;

/* This thread's worker: created on the thread's first request. NULL when its store handle
 * cannot be opened (the request gets a 503). */
static serve_worker *worker_get(serve_server *srv, char *err, size_t errlen)
{
    if (tl_worker) return tl_worker;
    serve_worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->full = (reload_worker)RELOAD_WORKER_INIT;
    w->applied = (reload_worker)RELOAD_WORKER_INIT;
    perk_store_status st = perk_store_open(srv->opt.db, &w->store);
    if (st == PERK_STORE_OK) st = perk_store_set_busy_timeout(w->store, (int)srv->opt.request_timeout * 1000);
    if (st == PERK_STORE_OK) st = perk_store_keys_prepare(w->store);
    if (st != PERK_STORE_OK) {
        snprintf(err, errlen, "%s", perk_store_errmsg(w->store));
        perk_store_close(w->store);
        free(w);
        return NULL;
    }
    pthread_mutex_lock(&srv->workers_lock);
    w->next = srv->workers;
    srv->workers = w;
    pthread_mutex_unlock(&srv->workers_lock);
    tl_worker = w;
    return w;
}

static void workers_free(serve_server *srv)
{
    serve_worker *w = srv->workers;
    while (w) {
        serve_worker *next = w->next;
        reload_worker_free(&w->full);
        reload_worker_free(&w->applied);
        result_names_free(w->names);
        perk_program_free(w->names_prog);
        perk_store_close(w->store);
        free(w);
        w = next;
    }
    srv->workers = NULL;
}

/* ------------------------------------------------------------- access log */

/* One JSON line per request on stderr. The Authorization header is never logged: only the
 * key's public prefix, once it is known. */
static void access_log(const serve_request *q, const char *method, const char *path, const serve_reply *r,
                       uint64_t micros, const char *key_prefix)
{
    json_t *o = json_object();
    char ts[40];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "request_id", json_string(q->id));
    json_t *m = json_string(method), *p = json_string(path);
    json_object_set_new(o, "method", m ? m : json_string("?"));
    json_object_set_new(o, "path", p ? p : json_string("(invalid UTF-8)"));
    json_object_set_new(o, "status", json_integer(r->status));
    json_object_set_new(o, "duration_us", json_integer((json_int_t)micros));
    json_object_set_new(o, "bytes_in", json_integer((json_int_t)q->len));
    json_object_set_new(o, "bytes_out", json_integer((json_int_t)r->len));
    if (r->version) json_object_set_new(o, "version", json_integer(r->version));
    if (key_prefix && key_prefix[0]) json_object_set_new(o, "key", json_string(key_prefix));
    if (r->error_code) json_object_set_new(o, "error", json_string(r->error_code));
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (line) {
        /* one write per line: lines of concurrent requests do not interleave */
        size_t n = strlen(line);
        line[n] = '\n';
        fwrite(line, 1, n + 1, stderr);
        free(line);
    }
}

/* A log line about the service itself (start, swap, shutdown). */
void serve_log(const char *event, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *o = json_object();
    char ts[40];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "event", json_string(event));
    json_t *m = json_string(msg);
    json_object_set_new(o, "message", m ? m : json_string("?"));
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (line) {
        fprintf(stderr, "%s\n", line);
        free(line);
    }
}

/* -------------------------------------------------------------- the handler */

static const char *query_value(void *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, serve_request *q, serve_reply *r,
                                  const char *method)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) return MHD_NO;
    r->body = NULL; /* owned by the response now */
    MHD_add_response_header(resp, "Content-Type", r->content_type ? r->content_type : "application/json");
    MHD_add_response_header(resp, "X-Request-Id", q->id);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (r->version) {
        char v[24];
        snprintf(v, sizeof v, "%lld", (long long)r->version);
        MHD_add_response_header(resp, "X-Perk-Version", v);
    }
    if (r->allow) MHD_add_response_header(resp, "Allow", r->allow);
    if (r->set_cookie) MHD_add_response_header(resp, "Set-Cookie", r->set_cookie);
    if (r->console) console_add_headers(resp, r);
    (void)method;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Bodies end with a newline: line-oriented tools (curl in a shell loop, jq -c) see one answer
 * per line. */
static void terminate_line(serve_reply *r)
{
    if (!r->body || (r->len && r->body[r->len - 1] == '\n')) return;
    char *b = realloc(r->body, r->len + 2);
    if (!b) return;
    b[r->len++] = '\n';
    b[r->len] = '\0';
    r->body = b;
}

static const char *header_value(void *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* /console and below: the operators' console (console_*.c), signed in by session cookie. */
static void answer_console(serve_server *srv, struct MHD_Connection *conn, serve_request *q, const char *url,
                           const char *method, serve_reply *r)
{
    r->console = true;
    if (q->timed_out || q->too_large) {
        serve_error(r, q->too_large ? 413 : 408, q->too_large ? "body_too_large" : "request_timeout", NULL,
                    "the request body is too large or arrived too slowly");
        return;
    }
    char err[512];
    serve_worker *w = worker_get(srv, err, sizeof err);
    if (!w) {
        serve_error(r, 503, "store_unavailable", NULL, "cannot open the store: %s", err);
        return;
    }
    char client[INET6_ADDRSTRLEN] = "?";
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr, client,
                  sizeof client);
    console_call c = { srv, w, method, url, q->body ? q->body : "", q->len, header_value, query_value, conn, client };
    console_handle(&c, r);
}

static void answer(serve_server *srv, struct MHD_Connection *conn, serve_request *q, const char *url,
                   const char *method, serve_reply *r, char *key_prefix, serve_route *route_out)
{
    if (console_is_path(url)) {
        *route_out = ROUTE_UNKNOWN;
        answer_console(srv, conn, q, url, method, r);
        return;
    }
    char id[512] = "";
    bool path_known = false;
    const char *allow = NULL;
    serve_route route = match_route(method, url, id, sizeof id, &path_known, &allow);
    *route_out = route;
    if (route == ROUTE_UNKNOWN) {
        if (path_known) {
            r->allow = allow;
            serve_error(r, 405, "method_not_allowed", NULL, "%s is not allowed here; use %s", method, allow);
        } else {
            serve_error(r, 404, "not_found", NULL,
                        "no route %s %s (the API is under /v1: see docs/service.md)", method, url);
        }
        return;
    }
    if (q->timed_out) {
        serve_error(r, 408, "request_timeout", NULL,
                    "the request took longer than %u s to arrive (request_timeout)",
                    srv->opt.request_timeout);
        return;
    }
    if (q->too_large) {
        serve_error(r, 413, "body_too_large", NULL,
                    "the request body exceeds the limit of %zu bytes (max_body)", srv->opt.max_body);
        return;
    }
    char err[512];
    serve_worker *w = worker_get(srv, err, sizeof err);
    if (!w) {
        serve_error(r, 503, "store_unavailable", NULL, "cannot open the store: %s", err);
        return;
    }
    int scopes = serve_routes[route].scopes;
    if (scopes != SCOPE_NONE) {
        const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !auth[7]) {
            serve_error(r, 401, "unauthorized", NULL,
                        "this route needs an API key: Authorization: Bearer KEY");
            return;
        }
        perk_store_key_info key;
        perk_store_status st = perk_store_key_lookup(w->store, auth + 7, &key);
        if (st != PERK_STORE_OK) {
            serve_error(r, 503, "store_unavailable", NULL, "cannot check the API key: %s",
                        perk_store_errmsg(w->store));
            return;
        }
        if (!key.found) {
            serve_error(r, 401, "unauthorized", NULL, "unknown or revoked API key");
            return;
        }
        memcpy(key_prefix, key.prefix, sizeof key.prefix);
        if (!(scope_bit(key.scope) & scopes)) {
            char need[64];
            serve_error(r, 403, "forbidden", NULL,
                        "this route needs a key with scope %s; this key has scope %s",
                        scope_names(scopes, need, sizeof need), key.scope);
            return;
        }
    }
    serve_call c = { srv,    w,           route, method, id[0] ? id : NULL, q->body ? q->body : "",
                     q->len, query_value, conn,  key_prefix };
    serve_handle(&c, r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    serve_server *srv = cls;
    serve_request *q = *con_cls;
    if (!q) {
        q = request_new(conn);
        if (!q) return MHD_NO;
        *con_cls = q;
        serve_guard_request(conn, true); /* headers are in: the request deadline applies now */
        atomic_fetch_add(&srv->in_flight, 1);
        /* a declared length over the limit is refused before any of it is read */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > srv->opt.max_body) q->too_large = true;
        if (!q->too_large) return MHD_YES;
    } else if (*upload_data_size) {
        /* past the limit the rest is read and dropped (bounded by the connection timeout), so
         * that a client streaming without a length still gets its 413 */
        body_append(q, upload_data, *upload_data_size, srv->opt.max_body);
        *upload_data_size = 0;
        /* A client trickling its body is never idle long enough for the connection timeout: the
         * request as a whole has --request-timeout seconds. libmicrohttpd cannot answer before the
         * body has arrived, so a late body gets its 408 when it ends; one still arriving at twice
         * the limit has its connection closed. */
        uint64_t limit = (uint64_t)srv->opt.request_timeout * 1000000u, took = serve_now_us() - q->start_us;
        if (took > limit) q->timed_out = true;
        return took > 2 * limit ? MHD_NO : MHD_YES;
    }
    serve_reply r = { 0 };
    char key_prefix[PERK_STORE_KEY_PREFIX_LEN + 1] = "";
    serve_route route = ROUTE_UNKNOWN;
    answer(srv, conn, q, url, method, &r, key_prefix, &route);
    terminate_line(&r);
    uint64_t micros = serve_now_us() - q->start_us;
    serve_metrics_request(route, r.status, micros);
    access_log(q, method, url, &r, micros, key_prefix);
    enum MHD_Result ret = send_reply(conn, q, &r, method);
    free(r.body);
    free(r.set_cookie);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    serve_server *srv = cls;
    serve_request *q = *con_cls;
    if (!q) return;
    serve_guard_request(conn, false); /* the next request's headers have the deadline */
    free(q->body);
    free(q);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->in_flight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    serve_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        serve_guard_opened(conn, socket_context);
    else
        serve_guard_closed(socket_context);
    atomic_fetch_add(&srv->connections, toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
}

/* ------------------------------------------------------------------- running */

static bool parse_listen(const char *text, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host) return false;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 0 || port > 65535) return false;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (host[0] == '\0') strcpy(host, "0.0.0.0");
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

static void poll_versions(serve_server *srv)
{
    int64_t before = reload_version(srv->reloader);
    reload_event ev = reload_poll(srv->reloader, (int64_t)time(NULL));
    if (ev == RELOAD_SWAPPED) {
        int64_t v = reload_version(srv->reloader);
        serve_metrics_swap(v);
        serve_log("swap", "serving rule-set version %lld (was %lld)", (long long)v, (long long)before);
    } else if (ev == RELOAD_FAILED) {
        char buf[512];
        serve_log("reload_failed", "%s", reload_error(srv->reloader, buf, sizeof buf));
    }
}

/* The webhook secret: the first line of `path`, else $PERK_WEBHOOK_SECRET (never a command-line
 * argument, which other users can read in /proc). NULL (logged) when there is none. */
static char *read_secret(const char *path)
{
    char buf[1024] = "";
    if (path) {
        FILE *f = fopen(path, "r");
        if (!f || !fgets(buf, sizeof buf, f)) {
            serve_log("error", "--webhook-secret-file %s: %s", path, f ? "empty" : strerror(errno));
            if (f) fclose(f);
            return NULL;
        }
        fclose(f);
        buf[strcspn(buf, "\r\n")] = '\0';
    } else if (getenv("PERK_WEBHOOK_SECRET")) {
        snprintf(buf, sizeof buf, "%s", getenv("PERK_WEBHOOK_SECRET"));
    }
    if (strlen(buf) < 16) {
        serve_log(
            "error",
            "--webhook needs a secret of at least 16 bytes (--webhook-secret-file or $PERK_WEBHOOK_SECRET)");
        return NULL;
    }
    return strdup(buf);
}

int serve_run(const serve_options *opt)
{
    serve_server srv;
    memset(&srv, 0, sizeof srv);
    srv.opt = *opt;
    if (srv.opt.threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        srv.opt.threads = n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
    }
    struct sockaddr_in sa;
    if (!parse_listen(opt->listen, &sa)) {
        serve_log("error", "--listen %s: expected IPV4:PORT such as 127.0.0.1:8080", opt->listen);
        return 1;
    }
    if (getrandom(&process_tag, sizeof process_tag, 0) != (ssize_t)sizeof process_tag)
        process_tag = (uint32_t)getpid();
    srv.limits = perk_limits_default();
    srv.limits.max_lines = opt->max_lines;
    pthread_mutex_init(&srv.workers_lock, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread: it is not thread-safe */
    char err[512];
    srv.reloader = reload_open(opt->db, err, sizeof err);
    if (!srv.reloader) {
        serve_log("error", "%s", err);
        pthread_mutex_destroy(&srv.workers_lock);
        return 1;
    }
    /* the key table must exist before read-only checks run on worker handles */
    perk_store *boot = NULL;
    perk_store_status bst = perk_store_open(opt->db, &boot);
    if (bst == PERK_STORE_OK) bst = perk_store_keys_prepare(boot);
    if (bst != PERK_STORE_OK) {
        serve_log("error", "%s", perk_store_errmsg(boot));
        perk_store_close(boot);
        reload_close(srv.reloader);
        pthread_mutex_destroy(&srv.workers_lock);
        return 1;
    }
    /* boot stays open: the main thread sweeps expired reservations with it */
    serve_reservations_sweep(boot);
    poll_versions(&srv);
    if (reload_version(srv.reloader) == 0)
        serve_log("not_ready", "no rule-set version is active yet in %s: /readyz answers 503 until one is",
                  opt->db);

    /* signals are taken by sigwait in this thread only: block them before MHD starts threads */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    the_server = &srv;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, &srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
        srv.opt.threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, &srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)opt->request_timeout,
        MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_END);
    if (!d) {
        serve_log("error", "cannot listen on %s: %s", opt->listen, strerror(errno));
        perk_store_close(boot);
        reload_close(srv.reloader);
        pthread_mutex_destroy(&srv.workers_lock);
        return 1;
    }
    serve_webhook *webhook = NULL;
    if (opt->webhook_url) {
        char *secret = read_secret(opt->webhook_secret_file);
        if (!secret) {
            MHD_stop_daemon(d);
            perk_store_close(boot);
            reload_close(srv.reloader);
            pthread_mutex_destroy(&srv.workers_lock);
            return 1;
        }
        webhook = serve_webhook_start(opt, secret, strlen(secret));
        memset(secret, 0, strlen(secret));
        free(secret);
        if (!webhook) {
            serve_log("error", "cannot start the webhook thread");
            MHD_stop_daemon(d);
            perk_store_close(boot);
            reload_close(srv.reloader);
            pthread_mutex_destroy(&srv.workers_lock);
            return 1;
        }
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
    serve_log("listening", "listening on %s:%u with %u threads, serving version %lld", host,
              info ? (unsigned)info->port : (unsigned)ntohs(sa.sin_port), srv.opt.threads,
              (long long)reload_version(srv.reloader));

    /* the main thread: poll for new versions until a signal asks to stop */
    for (;;) {
        struct timespec ts = { (time_t)(opt->poll_ms / 1000), (long)(opt->poll_ms % 1000) * 1000000L };
        int sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            serve_log("shutdown", "%s: no new connections; finishing %d requests in flight",
                      sig == SIGTERM ? "SIGTERM" : "SIGINT", atomic_load(&srv.in_flight));
            break;
        }
        poll_versions(&srv);
        serve_reservations_sweep(boot);
        unsigned cut = serve_guard_sweep(opt->request_timeout);
        if (cut)
            serve_log("header_timeout", "closed %u connections whose request headers took more than %u s",
                      cut, opt->request_timeout);
    }
    /* stop accepting, let what is in flight finish, then stop the threads */
    MHD_socket ls = MHD_quiesce_daemon(d);
    if (ls != MHD_INVALID_SOCKET) close(ls);
    /* A connection accepted just before the socket closed may not have sent its request yet:
     * open connections get a short grace to do so (idle keep-alive ones are then closed), and
     * requests in flight until the drain deadline. */
    uint64_t quiesced = serve_now_us();
    uint64_t deadline = quiesced + (uint64_t)opt->drain_seconds * 1000000u;
    while ((atomic_load(&srv.in_flight) > 0 ||
            (atomic_load(&srv.connections) > 0 && serve_now_us() < quiesced + 300000u)) &&
           serve_now_us() < deadline) {
        struct timespec nap = { 0, 10 * 1000000L };
        nanosleep(&nap, NULL);
    }
    int left = atomic_load(&srv.in_flight);
    MHD_stop_daemon(d);
    serve_webhook_stop(webhook);
    perk_store_close(boot);
    workers_free(&srv);
    reload_close(srv.reloader);
    pthread_mutex_destroy(&srv.workers_lock);
    serve_metrics_free();
    curl_global_cleanup();
    the_server = NULL;
    serve_log("stopped", "stopped%s",
              left ? " (some requests were still in flight at the drain deadline)" : "");
    return 0;
}
