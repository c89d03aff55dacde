/* store_client.c - the load generator of `make bench-store` (bench/store.sh): N client threads,
 * each with one persistent HTTP/1.1 connection to one `perk serve` node (thread i talks to node
 * i mod nodes), commit a fixed number of orders through POST /v1/orders and time each one.
 *
 * The workload is the contested one of tests/pg/contest.sh: order k (k = 0..orders-1, shared out
 * among the threads) is "<tag>k" for customer c<k mod customers>, one line of 100.00 of sku T1 and
 * coupon CLUB-<k mod codes>, dated now. Every order asks for the same limited promotions, so the
 * budgets, the coupon codes and the per-customer counters are contended by all threads at once.
 *
 * From each answer it keeps: the HTTP status, the store's "attempts" (attempts - 1 = the store's
 * retries after serialization failures), the discount, which of the limited promotions applied
 * (flash, cap, once, seckill: named in the answer's line allocations) and whether the coupon was
 * accepted. A 503 "store_busy" (the store gave up after its own bounded retries: nothing was
 * committed) is sent again with the same order id, as a storefront would (an order is idempotent
 * by its id), up to --busy-retries times (5) after 20 ms x the attempt; these are counted apart
 * (busy), and the order's latency runs from its first send to its final answer. Any other answer
 * than 201 "committed", no answer, or a 503 after the last retry is an error: errors must be 0.
 *
 * It prints one line of name=value pairs (store.sh reads it): orders, errors, seconds, commits/s,
 * p50/p99/max latency in ms, retries, the applied counts, the discount sum in minor units and the
 * client's own CPU time (user + system), which shows whether the client could keep up.
 *
 * usage: store_client --ports P[,P...] --key KEY [--clients 16] [--orders 2000]
 *                     [--customers 200] [--codes 20] [--busy-retries 5] [--tag O] */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 64
#define MAX_CLIENTS 1024
#define RESP_MAX (1 << 20) /* an order's answer is about 2 kB */

/* what one order's answer said */
typedef struct {
    int64_t latency_ns; /* -1: no usable answer */
} sample;

/* the counts promotions can exhaust, one X per limited promotion of store.sh's rules */
#define LIMITED(X) X(flash) X(cap) X(once) X(seckill)

typedef struct {
    int index;
    int port;
    int fd;
    char *buf;
    /* results */
    int64_t errors, retries, busy, discount, coupons;
#define COUNT_FIELD(name) int64_t name;
    LIMITED(COUNT_FIELD)
#undef COUNT_FIELD
    char first_error[256];
} client;

static int nports, ports[MAX_PORTS];
static int nclients = 16;
static int64_t norders = 2000, ncustomers = 200, ncodes = 20, busy_retries = 5;
static const char *key, *tag = "O";
static sample *samples;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void note_error(client *c, const char *fmt, const char *detail)
{
    c->errors++;
    if (!c->first_error[0]) snprintf(c->first_error, sizeof c->first_error, fmt, detail);
}

static int connect_node(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    /* header and body go out in one write; no delay waiting for an ACK */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads one answer into c->buf: its status, body (NUL-terminated) and whether the server will
 * close the connection. libmicrohttpd answers these routes with a Content-Length. */
static bool read_answer(client *c, int *status, char **body, bool *closing)
{
    size_t have = 0, need = 0;
    char *hdr_end = NULL;
    for (;;) {
        if (have >= RESP_MAX - 1) return false;
        ssize_t r = recv(c->fd, c->buf + have, RESP_MAX - 1 - have, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        have += (size_t)r;
        c->buf[have] = '\0';
        if (!hdr_end) {
            hdr_end = strstr(c->buf, "\r\n\r\n");
            if (!hdr_end) continue;
            if (sscanf(c->buf, "HTTP/1.%*d %d", status) != 1) return false;
            /* header names are case-insensitive: look at a lower-cased copy of the head */
            size_t hlen = (size_t)(hdr_end - c->buf);
            char head[4096];
            if (hlen >= sizeof head) return false;
            for (size_t i = 0; i < hlen; i++)
                head[i] = (char)((c->buf[i] >= 'A' && c->buf[i] <= 'Z') ? c->buf[i] + 32 : c->buf[i]);
            head[hlen] = '\0';
            const char *cl = strstr(head, "\r\ncontent-length:");
            if (!cl) return false;
            long long len = strtoll(cl + 17, NULL, 10);
            if (len < 0 || (size_t)len > RESP_MAX - 1 - (hlen + 4)) return false;
            need = hlen + 4 + (size_t)len;
            *closing = strstr(head, "\r\nconnection: close") != NULL;
        }
        if (have >= need) break;
    }
    c->buf[need] = '\0';
    *body = hdr_end + 4;
    return true;
}

/* "discount":"45.00" -> 4500; the first one in the answer is the order's (the result's comes
 * after). Two decimals: the rules' currency is CNY. */
static bool answer_discount(const char *body, int64_t *minor)
{
    const char *p = strstr(body, "\"discount\":\"");
    if (!p) return false;
    long long units = 0, cents = 0;
    if (sscanf(p + 12, "%lld.%2lld", &units, &cents) != 2) return false;
    *minor = units * 100 + cents;
    return true;
}

static void *run_client(void *arg)
{
    client *c = arg;
    char body[512], req[1024], now[32];
    for (int64_t k = c->index; k < norders; k += nclients) {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
        int blen = snprintf(body, sizeof body,
                            "{\"order\":{\"id\":\"%s%" PRId64 "\",\"time\":\"%s\"},\"customer\":{\"id\":\"c%" PRId64
                            "\"},\"lines\":[{\"id\":\"l1\",\"sku\":\"T1\",\"price\":\"100.00\",\"quantity\":1}],"
                            "\"coupons\":[\"CLUB-%" PRId64 "\"]}",
                            tag, k, now, k % ncustomers, k % ncodes);
        int rlen = snprintf(req, sizeof req,
                            "POST /v1/orders HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                            c->port, key, blen, body);
        if (blen < 0 || rlen < 0 || (size_t)rlen >= sizeof req) {
            note_error(c, "%s", "request too long");
            samples[k].latency_ns = -1;
            continue;
        }
        int64_t t0 = now_ns();
        int status = 0;
        char *answer = NULL;
        bool ok = false;
        for (int64_t attempt = 0;; attempt++) {
            if (c->fd < 0) c->fd = connect_node(c->port);
            bool closing = false;
            ok = c->fd >= 0 && write_all(c->fd, req, (size_t)rlen) && read_answer(c, &status, &answer, &closing);
            if (!ok || closing) {
                if (c->fd >= 0) close(c->fd);
                c->fd = -1;
            }
            if (!ok || status != 503 || !strstr(answer, "\"store_busy\"") || attempt >= busy_retries) break;
            c->busy++;
            int64_t ms = 20 * (attempt + 1);
            struct timespec pause = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };
            nanosleep(&pause, NULL);
        }
        int64_t t1 = now_ns();
        if (!ok) {
            note_error(c, "no answer from the node (%s)", "connect failed or connection lost");
            samples[k].latency_ns = -1;
            continue;
        }
        int64_t discount = 0;
        if (status != 201 || !strstr(answer, "\"status\":\"committed\"") || !answer_discount(answer, &discount)) {
            char what[200];
            snprintf(what, sizeof what, "%d %.180s", status, answer);
            note_error(c, "answer %s", what);
            samples[k].latency_ns = -1;
            continue;
        }
        samples[k].latency_ns = t1 - t0;
        c->discount += discount;
        const char *a = strstr(answer, "\"attempts\":");
        if (a) c->retries += strtoll(a + 11, NULL, 10) - 1;
        /* one line per order, so a promotion that applied is named once in its allocations */
#define COUNT_APPLIED(name)                                                                        \
    if (strstr(answer, "{\"promotion\":\"" #name "\"")) c->name++;
        LIMITED(COUNT_APPLIED)
#undef COUNT_APPLIED
        if (strstr(answer, "\"verdict\":\"accepted\"")) c->coupons++;
    }
    if (c->fd >= 0) close(c->fd);
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* nearest rank on sorted samples: the smallest one with at least pct% of them at or below it */
static double percentile_ms(const int64_t *sorted, int64_t n, int pct)
{
    if (n == 0) return 0.0;
    int64_t rank = (n * pct + 99) / 100; /* ceil(n * pct / 100), 1-based */
    return (double)sorted[rank < 1 ? 0 : rank - 1] / 1e6;
}

static bool parse_count(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static int usage(const char *why)
{
    fprintf(stderr,
            "store_client: %s\nusage: store_client --ports P[,P...] --key KEY [--clients 16] [--orders 2000] "
            "[--customers 200] [--codes 20] [--busy-retries 5] [--tag O]\n",
            why);
    return 2;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc) return usage("an option without its value");
        const char *val = argv[++i];
        int64_t v;
        if (!strcmp(opt, "--ports")) {
            const char *p = val;
            while (*p) {
                char *end;
                long port = strtol(p, &end, 10);
                if (end == p || port < 1 || port > 65535 || nports == MAX_PORTS || (*end && *end != ','))
                    return usage("--ports takes up to 64 port numbers separated by commas");
                ports[nports++] = (int)port;
                p = *end ? end + 1 : end;
            }
        } else if (!strcmp(opt, "--key")) {
            key = val;
        } else if (!strcmp(opt, "--tag")) {
            if (strlen(val) > 32) return usage("--tag is at most 32 characters");
            tag = val;
        } else if (!strcmp(opt, "--clients")) {
            if (!parse_count(val, 1, MAX_CLIENTS, &v)) return usage("--clients takes 1..1024");
            nclients = (int)v;
        } else if (!strcmp(opt, "--orders")) {
            if (!parse_count(val, 1, 100000000, &norders)) return usage("--orders takes 1..100000000");
        } else if (!strcmp(opt, "--customers")) {
            if (!parse_count(val, 1, 100000000, &ncustomers)) return usage("--customers takes 1..100000000");
        } else if (!strcmp(opt, "--busy-retries")) {
            if (!parse_count(val, 0, 100, &busy_retries)) return usage("--busy-retries takes 0..100");
        } else if (!strcmp(opt, "--codes")) {
            if (!parse_count(val, 1, 100000000, &ncodes)) return usage("--codes takes 1..100000000");
        } else {
            return usage("unknown option");
        }
    }
    if (!nports || !key) return usage("--ports and --key are required");
    if (strlen(key) > 200) return usage("--key is too long");

    samples = calloc((size_t)norders, sizeof *samples);
    client *cs = calloc((size_t)nclients, sizeof *cs);
    pthread_t *th = calloc((size_t)nclients, sizeof *th);
    if (!samples || !cs || !th) {
        fprintf(stderr, "store_client: out of memory\n");
        return 1;
    }
    for (int i = 0; i < nclients; i++) {
        cs[i].index = i;
        cs[i].port = ports[i % nports];
        cs[i].fd = -1;
        cs[i].buf = malloc(RESP_MAX);
        if (!cs[i].buf) {
            fprintf(stderr, "store_client: out of memory\n");
            return 1;
        }
    }
    int64_t start = now_ns();
    int started = 0;
    for (; started < nclients; started++)
        if (pthread_create(&th[started], NULL, run_client, &cs[started]) != 0) break;
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    double seconds = (double)(now_ns() - start) / 1e9;
    if (started < nclients) {
        fprintf(stderr, "store_client: could only start %d of %d threads\n", started, nclients);
        return 1;
    }

    client total = { 0 };
    for (int i = 0; i < nclients; i++) {
        total.errors += cs[i].errors;
        total.retries += cs[i].retries;
        total.busy += cs[i].busy;
        total.discount += cs[i].discount;
        total.coupons += cs[i].coupons;
#define SUM(name) total.name += cs[i].name;
        LIMITED(SUM)
#undef SUM
        if (cs[i].first_error[0] && !total.first_error[0])
            memcpy(total.first_error, cs[i].first_error, sizeof total.first_error);
        free(cs[i].buf);
    }
    int64_t *lat = malloc((size_t)norders * sizeof *lat);
    if (!lat) {
        fprintf(stderr, "store_client: out of memory\n");
        return 1;
    }
    int64_t n = 0;
    for (int64_t k = 0; k < norders; k++)
        if (samples[k].latency_ns >= 0) lat[n++] = samples[k].latency_ns;
    qsort(lat, (size_t)n, sizeof *lat, cmp_i64);
    double p50 = percentile_ms(lat, n, 50), p99 = percentile_ms(lat, n, 99), max = n ? (double)lat[n - 1] / 1e6 : 0.0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 (double)ru.ru_stime.tv_usec / 1e6;
    printf("orders=%" PRId64 " committed=%" PRId64 " errors=%" PRId64 " seconds=%.3f commits_per_s=%.1f p50_ms=%.2f "
           "p99_ms=%.2f max_ms=%.2f retries=%" PRId64 " busy=%" PRId64 " coupons=%" PRId64,
           norders, n, total.errors, seconds, seconds > 0 ? (double)n / seconds : 0.0, p50, p99, max, total.retries,
           total.busy, total.coupons);
#define PRINT(name) printf(" " #name "=%" PRId64, total.name);
    LIMITED(PRINT)
#undef PRINT
    printf(" discount=%" PRId64 " client_cpu_s=%.3f\n", total.discount, cpu);
    if (total.first_error[0]) fprintf(stderr, "store_client: first error: %s\n", total.first_error);
    free(lat);
    free(samples);
    free(cs);
    free(th);
    return total.errors ? 1 : 0;
}
