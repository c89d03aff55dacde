/* serve_internal.h - what the files of src/service/ share: the route table, per-thread workers,
 * replies and metrics. Not included outside src/service/. */
#ifndef PERK_SERVE_INTERNAL_H
#define PERK_SERVE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkout/checkout.h"
#include "json/json.h"
#include "service.h"
#include "store/store.h"

/* Scopes an API key may have; a route accepts a set of them. */
enum { SCOPE_READ = 1, SCOPE_CHECKOUT = 2, SCOPE_OPERATOR = 4, SCOPE_NONE = 0 };

/* X(id, method, pattern, scopes, name): patterns are matched by serve_match_route; "{id}" is one
 * path segment. A route with scopes SCOPE_NONE needs no key. */
/* clang-format off: a table, aligned by hand */
#define SERVE_ROUTE_LIST(X)                                                                                \
    X(ROUTE_EVALUATE, "POST", "/v1/evaluate", SCOPE_CHECKOUT | SCOPE_OPERATOR, "evaluate")                 \
    X(ROUTE_ORDERS, "POST", "/v1/orders", SCOPE_CHECKOUT | SCOPE_OPERATOR, "orders")                       \
    X(ROUTE_CANCEL, "POST", "/v1/orders/{id}/cancel", SCOPE_OPERATOR, "orders_cancel")                     \
    X(ROUTE_REFUND, "POST", "/v1/orders/{id}/refund", SCOPE_OPERATOR, "orders_refund")                     \
    X(ROUTE_POINTS, "GET", "/v1/customers/{id}/points", SCOPE_READ | SCOPE_CHECKOUT | SCOPE_OPERATOR,      \
      "customer_points")                                                                                   \
    X(ROUTE_COUPON_VALIDATE, "POST", "/v1/coupons/validate", SCOPE_CHECKOUT | SCOPE_OPERATOR,              \
      "coupons_validate")                                                                                  \
    X(ROUTE_BUDGETS, "GET", "/v1/budgets", SCOPE_READ | SCOPE_OPERATOR, "budgets")                         \
    X(ROUTE_EVENTS, "GET", "/v1/events", SCOPE_OPERATOR, "events")                                         \
    X(ROUTE_RESERVE, "POST", "/v1/reservations", SCOPE_CHECKOUT | SCOPE_OPERATOR, "reservations")          \
    X(ROUTE_RESERVATION, "GET", "/v1/reservations/{id}", SCOPE_READ | SCOPE_CHECKOUT | SCOPE_OPERATOR,     \
      "reservation")                                                                                       \
    X(ROUTE_RESERVATION_RELEASE, "POST", "/v1/reservations/{id}/release", SCOPE_CHECKOUT | SCOPE_OPERATOR, \
      "reservation_release")                                                                               \
    X(ROUTE_CUSTOMER_SET, "PUT", "/v1/customers/{id}", SCOPE_OPERATOR, "customers_set")                    \
    X(ROUTE_COUPON_WALLET, "GET", "/v1/customers/{id}/coupons", SCOPE_READ | SCOPE_CHECKOUT | SCOPE_OPERATOR, \
      "customer_coupons")                                                                                  \
    X(ROUTE_COUPON_ISSUE, "POST", "/v1/coupons", SCOPE_OPERATOR, "coupons_issue")                          \
    X(ROUTE_COUPON_REVOKE, "POST", "/v1/coupons/{id}/revoke", SCOPE_OPERATOR, "coupons_revoke")            \
    X(ROUTE_HEALTHZ, "GET", "/healthz", SCOPE_NONE, "healthz")                                             \
    X(ROUTE_READYZ, "GET", "/readyz", SCOPE_NONE, "readyz")                                                \
    X(ROUTE_METRICS, "GET", "/metrics", SCOPE_NONE, "metrics")
/* clang-format on */

typedef enum serve_route {
#define SERVE_ROUTE_ENUM(id, m, p, s, n) id,
    SERVE_ROUTE_LIST(SERVE_ROUTE_ENUM)
#undef SERVE_ROUTE_ENUM
        ROUTE_UNKNOWN, /* no route: 404 or 405 */
    ROUTE_COUNT
} serve_route;

typedef struct serve_route_info {
    const char *method, *pattern;
    int scopes;
    const char *name;
} serve_route_info;

extern const serve_route_info serve_routes[ROUTE_COUNT];

/* The service shared by every thread. */
typedef struct serve_server {
    serve_options opt;
    reload *reloader;
    perk_limits limits;     /* of every context and cart */
    atomic_int in_flight;   /* requests being received or answered */
    atomic_int connections; /* open client connections */
    pthread_mutex_t workers_lock;
    struct serve_worker *workers; /* every thread's state, freed at shutdown */
} serve_server;

/* One worker thread's state, created on its first request and reused. */
typedef struct serve_worker {
    reload_worker full;       /* context explaining every promotion */
    reload_worker applied;    /* context explaining only what applied (?explain=applied) */
    perk_store *store;        /* this thread's own handle (a handle is single-threaded) */
    result_names *names;      /* names of names_prog */
    perk_program *names_prog; /* retained while names borrow from it */
    struct serve_worker *next;
} serve_worker;

/* An answer: status, a malloc'ed body, and what the access log and metrics need. */
typedef struct serve_reply {
    int status;
    char *body;
    size_t len;
    const char *content_type; /* default application/json */
    const char *error_code;   /* for the access log; NULL on success */
    int64_t version;          /* rule-set version that answered (0 = none) */
    const char *allow;        /* Allow header of a 405 */
    char *set_cookie;         /* malloc'ed Set-Cookie value, or NULL (the console's session) */
    bool console;             /* a console answer: CSP, frame and sniffing headers (console_http.c) */
    char csp_nonce[40];       /* the console page's style nonce (CodeMirror's <style>), or "" */
} serve_reply;

/* A request as the handlers see it. */
typedef struct serve_call {
    serve_server *srv;
    serve_worker *w;
    serve_route route;
    const char *method;
    const char *path_id; /* the {id} segment, or NULL */
    const char *body;    /* NUL-terminated */
    size_t body_len;
    const char *(*query)(void *conn, const char *name);
    void *conn;
    const char *key_prefix; /* the API key's shown part (for the audit log), "" without a key */
} serve_call;

/* Sets an error reply {"error":{"code","message","path"}} (path may be NULL). */
void serve_error(serve_reply *r, int status, const char *code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* An error from a message that may start with a JSON path ("$.lines[2].qty: ..."), as the cart
 * parser words them: the path goes to "path", limits get the code limit_exceeded. */
void serve_error_from_message(serve_reply *r, int status, const char *code, const char *msg);
/* The answer to a checkout whose evaluation failed (400 invalid_cart, 422 limit_exceeded or
 * evaluation_failed); false when the evaluation succeeded and the store decides (each route maps
 * its own store statuses). */
struct checkout_outcome;
bool serve_checkout_eval_error(serve_reply *r, const struct checkout_outcome *out);
/* Takes a jansson object as the body (and frees it). */
void serve_json(serve_reply *r, int status, void *json_obj);
/* A store call's failure as an error reply: 404 not_found, 400 invalid_request, 409 conflict,
 * 503 store_busy, else 500 store_error, with the store's message. */
void serve_store_failure(serve_call *c, serve_reply *r, perk_store_status st);
/* The request body as a JSON object (a jansson json_t *); NULL with a 400 otherwise. An empty
 * body is {} when empty_ok. */
struct json_t *serve_body_object(serve_call *c, serve_reply *r, bool empty_ok);

/* The operators' console under /console (console_*.c, docs/console.md). */
typedef struct console_call {
    serve_server *srv;
    serve_worker *w;
    const char *method, *path; /* path starts with /console */
    const char *body;          /* NUL-terminated */
    size_t body_len;
    const char *(*header)(void *conn, const char *name);
    const char *(*query)(void *conn, const char *name);
    void *conn;
    const char *client; /* the peer's address, for the sign-in rate limit */
} console_call;
bool console_is_path(const char *path);
void console_handle(console_call *c, serve_reply *r);
/* Sets the console's security headers of reply r on a response (a struct MHD_Response *). */
void console_add_headers(void *response, const serve_reply *r);

/* The handlers (serve_routes.c). */
void serve_handle(serve_call *c, serve_reply *r);

/* The header deadline (serve_guard.c): connections register when opened and leave when closed
 * (socket_context is theirs), say when a request starts and ends; the main thread sweeps, shutting
 * down connections that waited for headers more than timeout_seconds (returns how many). */
struct MHD_Connection;
void serve_guard_opened(struct MHD_Connection *conn, void **socket_context);
void serve_guard_closed(void **socket_context);
void serve_guard_request(struct MHD_Connection *conn, bool started);
unsigned serve_guard_sweep(unsigned timeout_seconds);

/* The coupon routes: validate, a customer's wallet, issue, revoke (serve_coupons.c). */
void serve_handle_coupons(serve_call *c, serve_reply *r);

/* The reservation routes (serve_reservations.c). */
void serve_handle_reservations(serve_call *c, serve_reply *r);
/* Marks expired reservations and updates the reservations gauge (the main thread, each poll). */
void serve_reservations_sweep(perk_store *store);

/* Metrics (serve_metrics.c). */
void serve_metrics_request(serve_route route, int status, uint64_t micros);
void serve_metrics_evaluation(const perk_program *prog, const perk_result *res);
void serve_metrics_commit(uint64_t micros, bool ok);
void serve_metrics_swap(int64_t version);
/* Reservations open now, and how many more the last sweep found expired. */
void serve_metrics_reservations(int64_t open, int64_t expired);
/* The Prometheus text exposition, malloc'ed. */
char *serve_metrics_render(size_t *len);
void serve_metrics_free(void);

/* Webhook delivery of the outbox (serve_webhook.c): a thread of its own. */
typedef struct serve_webhook serve_webhook;
serve_webhook *serve_webhook_start(const serve_options *opt, const char *secret, size_t secret_len);
void serve_webhook_stop(serve_webhook *wh);
/* The webhook's delivery state as the console shows it (the position is the store's consumer
 * "webhook"): false when no webhook runs in this process. */
typedef struct serve_webhook_info {
    bool running;
    char url[512];
    int64_t failed_id;     /* the event being retried, 0 = none */
    char last_error[256];  /* the last failure's reason ("" = none since the start) */
    int64_t last_error_at; /* epoch seconds, 0 = none */
    int64_t next_retry_at; /* while failing: the next attempt (epoch seconds), else 0 */
    char node[64];         /* this node's name as a claim holder ("host:pid") */
    char holder[64];       /* who delivers now (perk_store_consumer_claim; "" = not known yet) */
    int64_t holder_until;  /* when that node's claim ends unless it renews */
} serve_webhook_info;
bool serve_webhook_state(serve_webhook_info *out);
#define SERVE_WEBHOOK_CONSUMER "webhook"
/* HMAC-SHA256 of msg under key, as lowercase hex (false when out of memory). */
bool serve_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len, char out[65]);

/* A JSON log line about the service itself (start, swap, webhook, shutdown) on stderr. */
void serve_log(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Monotonic microseconds. */
uint64_t serve_now_us(void);

#endif
