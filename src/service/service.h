/* service.h - `perk serve`: the checkout service over HTTP (docs/service.md).
 *
 * The one header other folders include. A fixed pool of libmicrohttpd worker threads serves the
 * versioned JSON API under /v1 from the store's active rule-set version; each thread keeps its
 * own store handle and perk_context, reused from request to request. The main thread polls the
 * store for a newly published or scheduled version (src/checkout/reload.h swaps it atomically)
 * and waits for SIGTERM/SIGINT to shut down gracefully.
 */
#ifndef PERK_SERVICE_H
#define PERK_SERVICE_H

#include <stddef.h>
#include <stdint.h>

typedef struct serve_options {
    const char *db;           /* the store file (must exist, with a published version to be ready) */
    const char *listen;       /* "HOST:PORT"; PORT 0 picks a free port (logged at start) */
    unsigned threads;         /* worker threads; 0 = one per online CPU */
    size_t max_body;          /* bytes of a request body (default 1 MiB) */
    uint32_t max_lines;       /* lines per cart (default 1000) */
    unsigned request_timeout; /* seconds a connection may stay idle or a store call may wait (default 10) */
    unsigned poll_ms;         /* how often the active version is checked (default 200) */
    unsigned drain_seconds;   /* how long shutdown waits for requests in flight (default 10) */
    const char *webhook_url;  /* deliver the outbox here (NULL = no delivery) */
    const char *webhook_secret_file; /* the HMAC-SHA256 key (else $PERK_WEBHOOK_SECRET) */
    unsigned webhook_claim_seconds;  /* one node delivers at a time: its claim lasts this long
                                        unless renewed; another takes over after (default 30) */
} serve_options;

#define SERVE_OPTIONS_DEFAULT                                                  \
    {                                                                          \
        NULL, "127.0.0.1:8080", 0, 1u << 20, 1000, 10, 200, 10, NULL, NULL, 30 \
    }

/* Runs the service until SIGTERM or SIGINT. Returns the process exit status: 0 after a graceful
 * shutdown, 1 when it cannot start (the reason is logged on stderr). */
int serve_run(const serve_options *opt);

#endif
