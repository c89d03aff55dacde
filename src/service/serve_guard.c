/* serve_guard.c - the header deadline of `perk serve`: a connection that has not finished sending a
 * request's headers within --request-timeout seconds (since it was opened, or since its last
 * answer) is closed, however slowly it keeps trickling bytes (slowloris). libmicrohttpd's own
 * connection timeout only closes connections that stay silent, and the request deadline of
 * serve_http.c starts once the headers are complete, so without this a client sending a header
 * byte every few seconds could hold connections forever.
 *
 * Every connection is registered here (serve_http.c's connection notifications); the main thread
 * sweeps the registry each poll and shuts down the socket of any connection waiting for headers
 * past the deadline; libmicrohttpd then sees the end of its input and closes the connection. */
#include "serve_internal.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <sys/socket.h>

struct serve_guard_conn {
    int fd;
    bool in_request; /* headers complete: the request deadline of serve_http.c applies */
    bool shut;
    uint64_t waiting_since_us;
    struct serve_guard_conn *prev, *next;
};

static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static struct serve_guard_conn *guard_head;

void serve_guard_opened(struct MHD_Connection *conn, void **socket_context)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct serve_guard_conn *g = calloc(1, sizeof *g);
    *socket_context = g;
    if (!g || !info) return; /* out of memory: that connection is only bounded by the idle timeout */
    g->fd = info->connect_fd;
    g->waiting_since_us = serve_now_us();
    pthread_mutex_lock(&guard_lock);
    g->next = guard_head;
    if (guard_head) guard_head->prev = g;
    guard_head = g;
    pthread_mutex_unlock(&guard_lock);
}

void serve_guard_closed(void **socket_context)
{
    struct serve_guard_conn *g = *socket_context;
    if (!g) return;
    pthread_mutex_lock(&guard_lock);
    if (g->prev)
        g->prev->next = g->next;
    else if (guard_head == g)
        guard_head = g->next;
    if (g->next) g->next->prev = g->prev;
    pthread_mutex_unlock(&guard_lock);
    free(g);
    *socket_context = NULL;
}

/* The connection's entry (from its socket context), or NULL. */
static struct serve_guard_conn *entry_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

void serve_guard_request(struct MHD_Connection *conn, bool started)
{
    struct serve_guard_conn *g = entry_of(conn);
    if (!g) return;
    pthread_mutex_lock(&guard_lock);
    g->in_request = started;
    if (!started) g->waiting_since_us = serve_now_us();
    pthread_mutex_unlock(&guard_lock);
}

unsigned serve_guard_sweep(unsigned timeout_seconds)
{
    uint64_t now = serve_now_us(), limit = (uint64_t)timeout_seconds * 1000000u;
    unsigned n = 0;
    pthread_mutex_lock(&guard_lock);
    for (struct serve_guard_conn *g = guard_head; g; g = g->next)
        if (!g->in_request && !g->shut && now - g->waiting_since_us > limit) {
            shutdown(g->fd, SHUT_RDWR);
            g->shut = true;
            n++;
        }
    pthread_mutex_unlock(&guard_lock);
    return n;
}
