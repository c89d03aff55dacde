/* diff.c - what-if replay of an orders file under two ruleset versions (see diff.h).
 *
 * Work is split by byte range: worker k handles the lines that *start* in [begin_k, begin_k+1).
 * A worker that does not start at offset 0 begins reading one byte early and drops everything
 * through the first newline, so every line belongs to exactly one worker. Line numbers are
 * counted per worker and made global when the workers' results are merged, in range order.
 *
 * Per order nothing is allocated here except by the cart parser (jansson builds a tree) and,
 * for the few orders that enter the top-N, their change lists.
 */
#include "diff.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json/json.h"
#include "money.h"

enum { OLD = 0, NEW = 1 };

/* Files smaller than this are replayed by one thread when the thread count is automatic. */
#define DIFF_SPLIT_MIN_BYTES (1u << 20)
/* First size of a worker's read buffer; it grows for longer lines. */
#define DIFF_READ_CHUNK (256u * 1024u)

static const char *const stage_names[] = { "parse", "OLD", "NEW" };

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ shared state and workers */

typedef struct diff_shared {
    perk_program *prog[2];
    result_names *names[2];
    size_t n_promos[2];
    const char *currency;
    int exponent;
    perk_limits limits;
    int fd;
    bool seekable;
    int64_t now;
    size_t top;
    size_t max_line;
} diff_shared;

typedef struct promo_stat {
    int64_t applied, discount, shipping;
} promo_stat;

typedef struct worker {
    const diff_shared *sh;
    uint64_t begin, end; /* byte range of the line starts this worker owns */

    /* reading: buf[start..len) holds unread bytes; buf[0] is at file offset buf_off */
    char *buf;
    size_t cap, start, len;
    uint64_t buf_off, read_off;
    bool eof;

    perk_context *ctx[2];
    const perk_promotion_result **by_index[2]; /* result of promotion i, per order */
    char err_text[512];

    /* results */
    uint64_t lines, orders, compared, changed, parse_failed, eval_failed, failed[2];
    diff_totals totals[2];
    promo_stat *stats[2];
    diff_failure failures[DIFF_MAX_FAILURES];
    size_t n_failures;
    diff_order *heap; /* min-heap: the least important of the kept orders at [0] */
    size_t n_heap;

    _Atomic uint64_t bytes_done, orders_done;
    atomic_bool done;
    bool error;
    char error_text[256];
    pthread_t thread;
    bool started;
} worker;

static void worker_fail(worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void worker_fail(worker *w, const char *fmt, ...)
{
    if (w->error) return;
    w->error = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->error_text, sizeof w->error_text, fmt, ap);
    va_end(ap);
}

static char *dup_text(worker *w, const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (!d) {
        worker_fail(w, "out of memory");
        return NULL;
    }
    memcpy(d, s, n + 1);
    return d;
}

static void order_free(diff_order *o)
{
    for (size_t i = 0; i < o->n_changes; i++) free(o->changes[i].reason);
    free(o->changes);
    free(o->id);
    memset(o, 0, sizeof *o);
}

/* ------------------------------------------------------------------ reading lines */

/* Reads more bytes after buf[len), first moving unread bytes to the front and growing the buffer
 * when it is full (up to max_line plus one chunk). Returns false on a read error. */
static bool fill(worker *w)
{
    if (w->start > 0) {
        memmove(w->buf, w->buf + w->start, w->len - w->start);
        w->len -= w->start;
        w->buf_off += w->start;
        w->start = 0;
    }
    if (w->len == w->cap) {
        size_t limit = w->sh->max_line + DIFF_READ_CHUNK;
        size_t cap = w->cap * 2 > limit ? limit : w->cap * 2;
        if (cap <= w->cap) return true; /* the caller sees a full buffer and treats the line as too long */
        char *nb = realloc(w->buf, cap);
        if (!nb) {
            worker_fail(w, "out of memory");
            return false;
        }
        w->buf = nb;
        w->cap = cap;
    }
    for (;;) {
        ssize_t n = w->sh->seekable ? pread(w->sh->fd, w->buf + w->len, w->cap - w->len, (off_t)w->read_off)
                                    : read(w->sh->fd, w->buf + w->len, w->cap - w->len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            worker_fail(w, "cannot read the orders: %s", strerror(errno));
            return false;
        }
        if (n == 0) w->eof = true;
        w->len += (size_t)n;
        w->read_off += (uint64_t)n;
        return true;
    }
}

/* Drops bytes through the next newline (or to the end of the file). */
static bool skip_line(worker *w)
{
    for (;;) {
        char *nl = memchr(w->buf + w->start, '\n', w->len - w->start);
        if (nl) {
            w->start = (size_t)(nl - w->buf) + 1;
            return true;
        }
        w->start = w->len;
        if (w->eof) return true;
        if (!fill(w)) return false;
    }
}

typedef enum { LINE_OK, LINE_TOO_LONG, LINE_END, LINE_ERROR } line_status;

/* The next line, without its newline, in text and len (valid until the next call). */
static line_status next_line(worker *w, const char **text, size_t *len)
{
    size_t scanned = 0; /* bytes after start already searched for a newline */
    for (;;) {
        char *from = w->buf + w->start + scanned;
        char *nl = memchr(from, '\n', w->len - w->start - scanned);
        if (nl) {
            *text = w->buf + w->start;
            *len = (size_t)(nl - *text);
            w->start = (size_t)(nl - w->buf) + 1;
            return *len > w->sh->max_line ? LINE_TOO_LONG : LINE_OK;
        }
        scanned = w->len - w->start;
        if (w->eof) {
            if (scanned == 0) return LINE_END;
            *text = w->buf + w->start;
            *len = scanned;
            w->start = w->len;
            return *len > w->sh->max_line ? LINE_TOO_LONG : LINE_OK;
        }
        if (scanned > w->sh->max_line) {
            w->start = w->len;
            return skip_line(w) ? LINE_TOO_LONG : LINE_ERROR;
        }
        if (!fill(w)) return LINE_ERROR;
    }
}

/* ------------------------------------------------------------------ per-order work */

static void add_failure(worker *w, uint64_t line, diff_stage stage, const char *message)
{
    if (w->n_failures >= DIFF_MAX_FAILURES) return;
    char *m = dup_text(w, message);
    if (!m) return;
    w->failures[w->n_failures++] = (diff_failure){ .line = line, .stage = stage, .message = m };
}

static bool sum_into(int64_t *acc, int64_t value) { return !__builtin_add_overflow(*acc, value, acc); }

static bool applied(const perk_promotion_result *pr) { return pr && pr->reason == PERK_REASON_APPLIED; }

/* Discount plus shipping discount of a promotion result, 0 when it did not apply. */
static int64_t promo_cost(const perk_promotion_result *pr)
{
    if (!applied(pr)) return 0;
    int64_t c;
    if (__builtin_add_overflow(pr->discount, pr->shipping_discount, &c)) return INT64_MAX;
    return c;
}

static bool accumulate(worker *w, int side, const perk_result *r)
{
    diff_totals *t = &w->totals[side];
    int64_t ship;
    if (__builtin_sub_overflow(r->shipping_before, r->shipping_after, &ship)) return false;
    if (!sum_into(&t->discount, r->discount) || !sum_into(&t->shipping_discount, ship) ||
        !sum_into(&t->points_earned, r->points_earned) ||
        !sum_into(&t->points_redeemed, r->points_redeemed) || !sum_into(&t->payable, r->payable))
        return false;
    size_t np = w->sh->n_promos[side];
    for (uint32_t i = 0; r->promotions && i < r->n_promotions; i++) {
        const perk_promotion_result *pr = &r->promotions[i];
        if (pr->promotion >= np || !applied(pr)) continue;
        promo_stat *s = &w->stats[side][pr->promotion];
        s->applied++;
        if (!sum_into(&s->discount, pr->discount) || !sum_into(&s->shipping, pr->shipping_discount))
            return false;
    }
    return true;
}

/* |new - old| without overflow: the true difference of two int64 fits in a uint64. */
static uint64_t magnitude(const diff_order *o)
{
    return o->new_payable >= o->old_payable ? (uint64_t)o->new_payable - (uint64_t)o->old_payable
                                            : (uint64_t)o->old_payable - (uint64_t)o->new_payable;
}

/* The ranking of changed orders: larger change first, then the earlier line. */
static bool more_important(const diff_order *a, const diff_order *b)
{
    uint64_t ma = magnitude(a), mb = magnitude(b);
    return ma != mb ? ma > mb : a->line < b->line;
}

static void heap_sift_down(diff_order *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, least = i;
        if (l < n && more_important(&h[least], &h[l])) least = l;
        if (r < n && more_important(&h[least], &h[r])) least = r;
        if (least == i) return;
        diff_order t = h[i];
        h[i] = h[least];
        h[least] = t;
        i = least;
    }
}

static void heap_sift_up(diff_order *h, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!more_important(&h[parent], &h[i])) return;
        diff_order t = h[i];
        h[i] = h[parent];
        h[parent] = t;
        i = parent;
    }
}

static void index_results(worker *w, int side, const perk_result *r)
{
    size_t np = w->sh->n_promos[side];
    memset(w->by_index[side], 0, np * sizeof *w->by_index[side]);
    for (uint32_t i = 0; r->promotions && i < r->n_promotions; i++)
        if (r->promotions[i].promotion < np)
            w->by_index[side][r->promotions[i].promotion] = &r->promotions[i];
}

static bool add_change(worker *w, diff_order *o, diff_change_kind kind, const char *id,
                       const perk_promotion_result *old_pr, const perk_promotion_result *new_pr,
                       int reason_side, const perk_result *reason_result)
{
    diff_change *c = &o->changes[o->n_changes++];
    *c = (diff_change){
        .kind = kind, .promotion = id, .old_amount = promo_cost(old_pr), .new_amount = promo_cost(new_pr)
    };
    if (reason_side >= 0) {
        const perk_promotion_result *pr = reason_side == OLD ? old_pr : new_pr;
        char buf[1024];
        if (pr)
            explain_promotion_reason(w->sh->names[reason_side], reason_result, pr, buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "no result for this promotion");
        c->reason = dup_text(w, buf);
        if (!c->reason) return false;
    }
    return true;
}

/* Lists the promotions that behaved differently on this order: OLD's in evaluation order, then
 * those only NEW has. */
static bool describe_changes(worker *w, diff_order *o, const perk_result *r_old, const perk_result *r_new)
{
    const diff_shared *sh = w->sh;
    size_t n_old = sh->n_promos[OLD], n_new = sh->n_promos[NEW];
    o->changes = calloc(n_old + n_new + 1, sizeof *o->changes);
    if (!o->changes) {
        worker_fail(w, "out of memory");
        return false;
    }
    index_results(w, OLD, r_old);
    index_results(w, NEW, r_new);
    for (size_t i = 0; i < n_old; i++) {
        const char *id = perk_program_promotion_id(sh->prog[OLD], i);
        long j = perk_program_find_promotion(sh->prog[NEW], id);
        const perk_promotion_result *a = w->by_index[OLD][i];
        const perk_promotion_result *b = j >= 0 ? w->by_index[NEW][j] : NULL;
        bool ok = true;
        if (j < 0) {
            if (applied(a)) ok = add_change(w, o, DIFF_REMOVED, id, a, NULL, -1, NULL);
        } else if (applied(a) && !applied(b)) {
            ok = add_change(w, o, DIFF_STOPPED, id, a, b, NEW, r_new);
        } else if (!applied(a) && applied(b)) {
            ok = add_change(w, o, DIFF_STARTED, id, a, b, OLD, r_old);
        } else if (applied(a) && promo_cost(a) != promo_cost(b)) {
            ok = add_change(w, o, DIFF_AMOUNT, id, a, b, -1, NULL);
        }
        if (!ok) return false;
    }
    for (size_t j = 0; j < n_new; j++) {
        const char *id = perk_program_promotion_id(sh->prog[NEW], j);
        if (perk_program_find_promotion(sh->prog[OLD], id) >= 0 || !applied(w->by_index[NEW][j])) continue;
        if (!add_change(w, o, DIFF_ADDED, id, NULL, w->by_index[NEW][j], -1, NULL)) return false;
    }
    return true;
}

/* Keeps the order if it is among the `top` largest payable changes seen by this worker. */
static void consider_top(worker *w, uint64_t line, const cart_doc *doc, const perk_result *r_old,
                         const perk_result *r_new)
{
    size_t top = w->sh->top;
    if (top == 0) return;
    diff_order cand = { .line = line, .old_payable = r_old->payable, .new_payable = r_new->payable };
    if (w->n_heap == top && !more_important(&cand, &w->heap[0])) return;
    if (doc->order.id && !(cand.id = dup_text(w, doc->order.id))) return;
    if (!describe_changes(w, &cand, r_old, r_new)) {
        order_free(&cand);
        return;
    }
    if (w->n_heap == top) {
        order_free(&w->heap[0]);
        w->heap[0] = cand;
        heap_sift_down(w->heap, w->n_heap, 0);
    } else {
        w->heap[w->n_heap] = cand;
        heap_sift_up(w->heap, w->n_heap++);
    }
}

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return false;
    return true;
}

static void process_order(worker *w, uint64_t line, const char *text, size_t len)
{
    const diff_shared *sh = w->sh;
    char *err = w->err_text;
    size_t errlen = sizeof w->err_text;
    cart_doc *doc = cart_json_parse(text, len, sh->exponent, sh->currency, &sh->limits, err, errlen);
    if (!doc) {
        w->parse_failed++;
        add_failure(w, line, DIFF_STAGE_PARSE, err);
        return;
    }
    if (!doc->has_time) {
        doc->order.time = sh->now;
        doc->has_time = true;
    }
    const perk_result *r[2] = { NULL, NULL };
    bool failed = false;
    for (int side = OLD; side <= NEW; side++) {
        if (cart_json_feed(doc, w->ctx[side], sh->prog[side], err, errlen) != PERK_OK) {
            /* err holds the message */
        } else {
            r[side] = perk_evaluate(w->ctx[side]);
            if (r[side]->status == PERK_OK) continue;
            const char *detail = perk_context_error(w->ctx[side]);
            snprintf(err, errlen, "evaluation failed: %s%s%s%s", perk_status_message(r[side]->status),
                     detail && *detail ? " (" : "", detail && *detail ? detail : "",
                     detail && *detail ? ")" : "");
            r[side] = NULL;
        }
        w->failed[side]++;
        add_failure(w, line, side == OLD ? DIFF_STAGE_OLD : DIFF_STAGE_NEW, err);
        failed = true;
    }
    if (failed) {
        w->eval_failed++;
        cart_json_free(doc);
        return;
    }
    w->compared++;
    if (!accumulate(w, OLD, r[OLD]) || !accumulate(w, NEW, r[NEW])) {
        worker_fail(w, "line %" PRIu64 ": a total overflows int64", line);
        cart_json_free(doc);
        return;
    }
    if (r[OLD]->payable != r[NEW]->payable) {
        w->changed++;
        consider_top(w, line, doc, r[OLD], r[NEW]);
    }
    cart_json_free(doc);
}

static void *worker_run(void *arg)
{
    worker *w = arg;
    if (w->begin > 0 && !skip_line(w)) goto out;
    while (!w->error && w->buf_off + w->start < w->end) {
        const char *text;
        size_t len;
        line_status st = next_line(w, &text, &len);
        if (st == LINE_END || st == LINE_ERROR) break;
        uint64_t line = ++w->lines;
        if (st == LINE_TOO_LONG) {
            w->orders++;
            w->parse_failed++;
            char msg[96];
            snprintf(msg, sizeof msg, "line longer than %zu bytes: not parsed", w->sh->max_line);
            add_failure(w, line, DIFF_STAGE_PARSE, msg);
        } else if (!is_blank(text, len)) {
            w->orders++;
            process_order(w, line, text, len);
        }
        atomic_store_explicit(&w->orders_done, w->orders, memory_order_relaxed);
        atomic_store_explicit(&w->bytes_done, w->buf_off + w->start - w->begin, memory_order_relaxed);
    }
out:
    atomic_store_explicit(&w->done, true, memory_order_release);
    return NULL;
}

/* ------------------------------------------------------------------ setting up and merging */

static void worker_free(worker *w)
{
    free(w->buf);
    for (int s = 0; s < 2; s++) {
        perk_context_free(w->ctx[s]);
        free(w->stats[s]);
        free(w->by_index[s]);
    }
    for (size_t i = 0; i < w->n_failures; i++) free(w->failures[i].message);
    for (size_t i = 0; i < w->n_heap; i++) order_free(&w->heap[i]);
    free(w->heap);
}

static bool worker_init(worker *w, const diff_shared *sh, uint64_t begin, uint64_t end, char *err,
                        size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->sh = sh;
    w->begin = begin;
    w->end = end;
    w->read_off = w->buf_off = begin > 0 ? begin - 1 : 0;
    atomic_init(&w->bytes_done, 0);
    atomic_init(&w->orders_done, 0);
    atomic_init(&w->done, false);
    w->cap = DIFF_READ_CHUNK;
    w->buf = malloc(w->cap);
    w->heap = calloc(sh->top ? sh->top : 1, sizeof *w->heap);
    if (!w->buf || !w->heap) goto nomem;
    for (int s = 0; s < 2; s++) {
        perk_error perr;
        w->ctx[s] = perk_context_new(sh->prog[s], &sh->limits, &perr);
        if (!w->ctx[s]) {
            set_err(err, errlen, "%s: cannot create an evaluation context: %s", stage_names[1 + s],
                    perr.message);
            return false;
        }
        size_t np = sh->n_promos[s] ? sh->n_promos[s] : 1;
        w->stats[s] = calloc(np, sizeof *w->stats[s]);
        w->by_index[s] = calloc(np, sizeof *w->by_index[s]);
        if (!w->stats[s] || !w->by_index[s]) goto nomem;
    }
    return true;
nomem:
    set_err(err, errlen, "out of memory");
    return false;
}

static int compare_orders(const void *a, const void *b)
{
    const diff_order *x = a, *y = b;
    if (more_important(x, y)) return -1;
    return more_important(y, x) ? 1 : 0;
}

static bool add_u64(uint64_t *acc, uint64_t v) { return !__builtin_add_overflow(*acc, v, acc); }

/* Moves the workers' results into the report, in range order. */
static bool merge(diff_report *rep, const diff_shared *sh, worker *ws, unsigned n, char *err, size_t errlen)
{
    size_t n_old = sh->n_promos[OLD], n_new = sh->n_promos[NEW];
    size_t n_kept = 0;
    for (unsigned k = 0; k < n; k++) n_kept += ws[k].n_heap;
    diff_order *all = calloc(n_kept ? n_kept : 1, sizeof *all);
    rep->promotions = calloc(n_old + n_new + 1, sizeof *rep->promotions);
    rep->failures = calloc(DIFF_MAX_FAILURES, sizeof *rep->failures);
    if (!all || !rep->promotions || !rep->failures) {
        free(all);
        set_err(err, errlen, "out of memory");
        return false;
    }
    /* promotions: OLD's in order, matched by id, then the ones only NEW has */
    for (size_t i = 0; i < n_old; i++) {
        diff_promotion *p = &rep->promotions[rep->n_promotions++];
        p->id = perk_program_promotion_id(sh->prog[OLD], i);
        p->old_index = (long)i;
        p->new_index = perk_program_find_promotion(sh->prog[NEW], p->id);
        p->label = p->new_index >= 0 ? perk_program_promotion_label(sh->prog[NEW], (size_t)p->new_index)
                                     : perk_program_promotion_label(sh->prog[OLD], i);
    }
    for (size_t j = 0; j < n_new; j++) {
        const char *id = perk_program_promotion_id(sh->prog[NEW], j);
        if (perk_program_find_promotion(sh->prog[OLD], id) >= 0) continue;
        diff_promotion *p = &rep->promotions[rep->n_promotions++];
        p->id = id;
        p->old_index = -1;
        p->new_index = (long)j;
        p->label = perk_program_promotion_label(sh->prog[NEW], j);
    }

    bool ok = true;
    uint64_t line_base = 0;
    n_kept = 0;
    for (unsigned k = 0; k < n; k++) {
        worker *w = &ws[k];
        ok = ok && add_u64(&rep->orders, w->orders) && add_u64(&rep->compared, w->compared) &&
             add_u64(&rep->changed, w->changed) && add_u64(&rep->parse_failed, w->parse_failed) &&
             add_u64(&rep->eval_failed, w->eval_failed) && add_u64(&rep->failed[OLD], w->failed[OLD]) &&
             add_u64(&rep->failed[NEW], w->failed[NEW]);
        for (int s = 0; s < 2 && ok; s++) {
            diff_totals *t = &rep->totals[s];
            const diff_totals *u = &w->totals[s];
            ok = sum_into(&t->discount, u->discount) &&
                 sum_into(&t->shipping_discount, u->shipping_discount) &&
                 sum_into(&t->points_earned, u->points_earned) &&
                 sum_into(&t->points_redeemed, u->points_redeemed) && sum_into(&t->payable, u->payable);
            for (size_t i = 0; i < rep->n_promotions && ok; i++) {
                diff_promotion *p = &rep->promotions[i];
                long idx = s == OLD ? p->old_index : p->new_index;
                if (idx < 0) continue;
                const promo_stat *st = &w->stats[s][idx];
                ok = sum_into(&p->applied[s], st->applied) && sum_into(&p->discount[s], st->discount) &&
                     sum_into(&p->shipping[s], st->shipping);
            }
        }
        for (size_t i = 0; i < w->n_failures; i++) {
            if (rep->n_failures < DIFF_MAX_FAILURES) {
                rep->failures[rep->n_failures] = w->failures[i];
                rep->failures[rep->n_failures++].line += line_base;
            } else {
                free(w->failures[i].message);
            }
        }
        w->n_failures = 0;
        for (size_t i = 0; i < w->n_heap; i++) {
            all[n_kept] = w->heap[i];
            all[n_kept++].line += line_base;
        }
        w->n_heap = 0;
        line_base += w->lines;
    }
    rep->lines = line_base;
    qsort(all, n_kept, sizeof *all, compare_orders);
    size_t keep = n_kept < sh->top ? n_kept : sh->top;
    for (size_t i = keep; i < n_kept; i++) order_free(&all[i]);
    rep->top = all;
    rep->n_top = keep;
    if (!ok) set_err(err, errlen, "a total overflows int64");
    return ok;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void report_progress(const diff_options *opt, worker *ws, unsigned n, uint64_t total,
                            const struct timespec *t0, bool finished)
{
    diff_progress p = { .bytes_total = total, .seconds = seconds_since(t0), .finished = finished };
    for (unsigned k = 0; k < n; k++) {
        p.bytes_done += atomic_load_explicit(&ws[k].bytes_done, memory_order_relaxed);
        p.orders_done += atomic_load_explicit(&ws[k].orders_done, memory_order_relaxed);
    }
    if (total && p.bytes_done > total) p.bytes_done = total;
    opt->progress(&p, opt->progress_user);
}

/* Starts the workers (worker 0 runs on its own thread too, so that the calling thread can report
 * progress), waits for them and reports progress meanwhile. */
static bool run_workers(const diff_options *opt, worker *ws, unsigned n, uint64_t total, char *err,
                        size_t errlen)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool ok = true;
    for (unsigned k = 0; k < n; k++) {
        if (pthread_create(&ws[k].thread, NULL, worker_run, &ws[k]) != 0) {
            set_err(err, errlen, "cannot start a worker thread");
            ok = false;
            break;
        }
        ws[k].started = true;
    }
    if (ok && opt->progress) {
        double last = 0;
        for (;;) {
            bool all_done = true;
            for (unsigned k = 0; k < n; k++)
                all_done = all_done && atomic_load_explicit(&ws[k].done, memory_order_acquire);
            if (all_done) break;
            struct timespec pause = { 0, 20 * 1000 * 1000 };
            nanosleep(&pause, NULL);
            double now = seconds_since(&t0);
            if (now - last >= 0.1) {
                report_progress(opt, ws, n, total, &t0, false);
                last = now;
            }
        }
    }
    for (unsigned k = 0; k < n; k++)
        if (ws[k].started) pthread_join(ws[k].thread, NULL);
    if (ok && opt->progress) report_progress(opt, ws, n, total, &t0, true);
    return ok;
}

diff_report *diff_run(perk_program *old_program, perk_program *new_program, const char *orders_path,
                      const diff_options *options, char *err, size_t errlen)
{
    set_err(err, errlen, "%s", "");
    if (!old_program || !new_program || !orders_path || !options) {
        set_err(err, errlen, "diff_run: missing program, orders path or options");
        return NULL;
    }
    const char *cur_old = perk_program_currency(old_program), *cur_new = perk_program_currency(new_program);
    if (!cur_old || !cur_new || strcmp(cur_old, cur_new) != 0 ||
        perk_program_exponent(old_program) != perk_program_exponent(new_program)) {
        set_err(err, errlen,
                "currency mismatch: OLD is in %s, NEW is in %s; orders can only be compared in one currency",
                cur_old ? cur_old : "?", cur_new ? cur_new : "?");
        return NULL;
    }
    if (options->threads > DIFF_MAX_THREADS) {
        set_err(err, errlen, "at most %d threads", DIFF_MAX_THREADS);
        return NULL;
    }

    diff_shared sh = {
        .prog = { old_program, new_program },
        .n_promos = { perk_program_promotion_count(old_program), perk_program_promotion_count(new_program) },
        .currency = cur_old,
        .exponent = perk_program_exponent(old_program),
        .limits = perk_limits_default(),
        .fd = -1,
        .now = options->now,
        .top = options->top,
        .max_line = options->max_line_bytes ? options->max_line_bytes : DIFF_MAX_LINE_BYTES,
    };
    diff_report *rep = calloc(1, sizeof *rep);
    worker *ws = NULL;
    unsigned n = 0;
    bool is_stdin = strcmp(orders_path, "-") == 0;
    if (!rep) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    rep->programs[OLD] = perk_program_retain(old_program);
    rep->programs[NEW] = perk_program_retain(new_program);
    rep->currency = perk_program_currency(old_program);
    rep->exponent = sh.exponent;

    sh.names[OLD] = result_names_from_program(old_program);
    sh.names[NEW] = result_names_from_program(new_program);
    if (!sh.names[OLD] || !sh.names[NEW]) {
        set_err(err, errlen, "out of memory");
        goto fail;
    }
    sh.fd = is_stdin ? STDIN_FILENO : open(orders_path, O_RDONLY | O_CLOEXEC);
    if (sh.fd < 0) {
        set_err(err, errlen, "cannot open %s: %s", orders_path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(sh.fd, &st) != 0) {
        set_err(err, errlen, "cannot read %s: %s", orders_path, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        set_err(err, errlen, "%s is a directory", orders_path);
        goto fail;
    }
    sh.seekable = S_ISREG(st.st_mode);
    uint64_t size = sh.seekable ? (uint64_t)st.st_size : 0;

    n = options->threads;
    if (!sh.seekable) {
        n = 1;
    } else if (n == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = size < DIFF_SPLIT_MIN_BYTES || cores < 2 ? 1 : 2;
    }
    rep->threads = n;
    ws = calloc(n, sizeof *ws);
    if (!ws) {
        set_err(err, errlen, "out of memory");
        goto fail;
    }
    /* jansson seeds its hash function on first use; do it before threads race for it */
    json_object_seed(0);
    for (unsigned k = 0; k < n; k++) {
        uint64_t begin = size / n * k, end = k + 1 == n ? UINT64_MAX : size / n * (k + 1);
        if (!worker_init(&ws[k], &sh, begin, end, err, errlen)) {
            worker_free(&ws[k]);
            n = k; /* free the ones made so far */
            goto fail;
        }
    }
    if (!run_workers(options, ws, n, size, err, errlen)) goto fail;
    for (unsigned k = 0; k < n; k++)
        if (ws[k].error) {
            set_err(err, errlen, "%s", ws[k].error_text);
            goto fail;
        }
    if (!merge(rep, &sh, ws, n, err, errlen)) goto fail;
    for (unsigned k = 0; k < n; k++) worker_free(&ws[k]);
    free(ws);
    if (!is_stdin) close(sh.fd);
    result_names_free(sh.names[OLD]);
    result_names_free(sh.names[NEW]);
    return rep;

fail:
    for (unsigned k = 0; k < n; k++) worker_free(&ws[k]);
    free(ws);
    if (sh.fd >= 0 && !is_stdin) close(sh.fd);
    result_names_free(sh.names[OLD]);
    result_names_free(sh.names[NEW]);
    diff_report_free(rep);
    return NULL;
}

void diff_report_free(diff_report *report)
{
    if (!report) return;
    for (size_t i = 0; i < report->n_top; i++) order_free(&report->top[i]);
    free(report->top);
    for (size_t i = 0; i < report->n_failures; i++) free(report->failures[i].message);
    free(report->failures);
    free(report->promotions);
    perk_program_free(report->programs[OLD]);
    perk_program_free(report->programs[NEW]);
    free(report);
}
