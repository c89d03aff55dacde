/* phases.c - what a checkout pays around evaluation, phase by phase (make bench-phases).
 *
 * For each ruleset of the benchmark's workload (bench/gen.c: rules_N.perk, carts_M.bin) it times,
 * in this one process:
 *   load       perk_program_load on the compiled bytes (parse, CRC-32C, verify, string hash, rule
 *              index): the first load of the process ("cold") and the median of repeated ones
 *   context    perk_context_new with the default limits (and perk_context_free, untimed)
 *   struct in  the same cart through the C structs (perk_cart_reset, set_customer, set_order,
 *              add_line...), what a checkout embedding libperk with its own structs pays
 *   json in    cart_json_parse + cart_json_feed of the cart as the JSON a storefront sends (libperk's
 *              own reader, runtime/cart_json.c + json_read.c)
 *   evaluate   perk_evaluate on the loaded cart
 *   render     result_json_write_buf (one buffer kept across renders, as a checkout keeps one) of
 *              the result explaining every promotion, and of the result of
 *              a context explaining only what applied with RESULT_JSON_APPLIED_ONLY
 *   best       perk_best_coupons on the cart with a wallet of 16 codes (CP00000..CP00015): pruned
 *              (median, with the codes kept and subsets evaluated), and one exhaustive search
 * then the JSON path against the struct path: (json in + applied render) / struct in, and the whole
 * checkout (json in + evaluate + applied render) / (struct in + evaluate);
 * and reports what a context holds: bytes allocated through libperk's allocator hook (counting)
 * when new and once it has evaluated every cart of M lines. All of it is resident: libperk
 * zeroes or writes every block it allocates for a context.
 *
 * Usage: bench_phases --data DIR [--rules 100,1000,10000] [--lines 20] [--seconds S]
 * Times are medians in milliseconds over single-operation samples (S seconds per phase, at least
 * 5 samples); carts are cycled. Prints a markdown table.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cartfile.h"
#include "perk_carts.h"
#include "compiler/compiler.h"
#include "json/cart_json.h"
#include "json/result_json.h"
#include "perk.h"

#define MAX_LIST 16
#define MAX_SAMPLES 100000u

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_phases: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ samples */

typedef struct samples {
    uint64_t *ns;
    uint32_t n;
} samples;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double median_ms(samples *s)
{
    if (s->n == 0) return 0;
    qsort(s->ns, s->n, sizeof *s->ns, cmp_u64);
    return (double)s->ns[s->n / 2] / 1e6;
}

/* True while another sample should be taken: at least 5, then until `seconds` have been spent. */
static bool more(const samples *s, uint64_t spent_ns, double seconds)
{
    return s->n < 5 || (s->n < MAX_SAMPLES && (double)spent_ns < seconds * 1e9);
}

/* ------------------------------------------------------------------ carts */

typedef bench_perk_cart cart;

static cart *carts_build(const bench_cartfile *cf)
{
    cart *out = calloc(cf->n_carts, sizeof *out);
    if (out == NULL) die("out of memory");
    bench_perk_carts_build(cf, out);
    for (uint32_t k = 0; k < cf->n_carts; k++) bench_perk_cart_json(&out[k]);
    return out;
}

static void cart_load(perk_context *ctx, const cart *c)
{
    if (bench_perk_cart_load(ctx, c) != PERK_OK) die("cart rejected: %s", perk_context_error(ctx));
}

static cart_doc *json_in(perk_context *ctx, const perk_program *prog, const cart *c)
{
    char err[512];
    cart_doc *doc = cart_json_parse(c->json, c->json_len, perk_program_exponent(prog),
                                    perk_program_currency(prog), NULL, err, sizeof err);
    if (doc == NULL) die("cart JSON: %s", err);
    if (cart_json_feed(doc, ctx, prog, err, sizeof err) != PERK_OK) die("cart JSON feed: %s", err);
    return doc;
}

/* The cart with a wallet of PERK_BEST_COUPONS_MAX codes instead of its own coupons: CP00000,
 * CP00001, ... (the generated rulesets' coupon codes, those a ruleset has and the rest). */
static void wallet_load(perk_context *ctx, const cart *c, char codes[][12])
{
    perk_cart_reset(ctx);
    perk_status st = perk_cart_set_customer(ctx, &c->customer);
    if (st == PERK_OK) st = perk_cart_set_order(ctx, &c->order);
    for (uint32_t i = 0; i < c->n_lines && st == PERK_OK; i++) st = perk_cart_add_line(ctx, &c->lines[i]);
    for (int k = 0; k < PERK_BEST_COUPONS_MAX && st == PERK_OK; k++)
        st = perk_cart_add_coupon(ctx, codes[k], NULL, PERK_COUPON_UNCHECKED);
    if (st != PERK_OK) die("wallet cart rejected: %s", perk_context_error(ctx));
}

/* ------------------------------------------------------------------ one ruleset */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) die("%s: %s (make bench-phases generates the workloads)", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) die("%s: cannot seek", path);
    long n = ftell(f);
    if (n < 0) die("%s: cannot tell its size", path);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) die("%s: cannot read", path);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static uint8_t *compile_ruleset(const char *path, size_t *n_bytes)
{
    size_t len;
    char *text = read_file(path, &len);
    uint8_t *bytes = NULL;
    compiler c;
    compiler_init(&c);
    if (!compiler_compile_text(&c, path, text, len, &bytes, n_bytes)) {
        diag_print_text(&c.diags, stderr, false);
        die("%s does not compile", path);
    }
    compiler_free(&c);
    free(text);
    return bytes;
}

static void fmt_bytes(char *buf, size_t cap, int64_t b)
{
    if (b >= 1048576)
        snprintf(buf, cap, "%.2f MB", (double)b / 1048576);
    else if (b >= 10240)
        snprintf(buf, cap, "%.0f kB", (double)b / 1024);
    else
        snprintf(buf, cap, "%lld B", (long long)b);
}

/* The best-coupons figures, printed as a second table after the first. */
static char best_lines[MAX_LIST][160];
static int n_best_lines;

static void best_line_add(const char *N, int M, double ms, double evals, double cands, double all_ms)
{
    if (n_best_lines >= MAX_LIST) return;
    snprintf(best_lines[n_best_lines++], sizeof best_lines[0], "| %s | %d | %.3f | %.1f | %.1f | %.1f |", N, M, ms,
             cands, evals, all_ms);
}

static void run_ruleset(const char *data, const char *N, int M, double seconds, samples *s)
{
    char path[4096], msg[512];
    snprintf(path, sizeof path, "%s/rules_%s.perk", data, N);
    size_t n_bytes;
    uint8_t *bytes = compile_ruleset(path, &n_bytes);
    snprintf(path, sizeof path, "%s/carts_%d.bin", data, M);
    bench_cartfile *cf = bench_carts_read(path, msg, sizeof msg);
    if (cf == NULL) die("%s", msg);
    cart *carts = carts_build(cf);
    perk_error err;

    /* load + verify: the first load of this ruleset, then repeated ones */
    uint64_t t0 = now_ns();
    perk_program *prog = perk_program_load(bytes, n_bytes, &err);
    double load_first = (double)(now_ns() - t0) / 1e6;
    if (prog == NULL) die("rules_%s: %s", N, err.message);
    s->n = 0;
    for (uint64_t spent = 0; more(s, spent, seconds);) {
        t0 = now_ns();
        perk_program *p = perk_program_load(bytes, n_bytes, &err);
        uint64_t dt = now_ns() - t0;
        if (p == NULL) die("rules_%s: %s", N, err.message);
        perk_program_free(p);
        s->ns[s->n++] = dt;
        spent += dt;
    }
    double load = median_ms(s);

    /* perk_context_new with the default limits */
    s->n = 0;
    for (uint64_t spent = 0; more(s, spent, seconds);) {
        t0 = now_ns();
        perk_context *c = perk_context_new(prog, NULL, &err);
        uint64_t dt = now_ns() - t0;
        if (c == NULL) die("perk_context_new: %s", err.message);
        perk_context_free(c);
        s->ns[s->n++] = dt;
        spent += dt;
    }
    double ctx_new = median_ms(s);

    /* what a context holds: new, then after every cart (allocated bytes) */
    int64_t before = bench_live_bytes;
    perk_context *ctx = perk_context_new(prog, NULL, &err);
    if (ctx == NULL) die("perk_context_new: %s", err.message);
    int64_t bytes_new = bench_live_bytes - before;
    for (uint32_t k = 0; k < cf->n_carts; k++) {
        cart_load(ctx, &carts[k]);
        perk_evaluate(ctx);
    }
    int64_t bytes_fed = bench_live_bytes - before;

    perk_limits lean_limits = perk_limits_default();
    lean_limits.explain = PERK_EXPLAIN_APPLIED;
    perk_context *lean = perk_context_new(prog, &lean_limits, &err);
    if (lean == NULL) die("perk_context_new: %s", err.message);
    result_names *names = result_names_from_program(prog);
    if (names == NULL) die("out of memory");

    /* cart JSON parse + feed */
    s->n = 0;
    for (uint64_t spent = 0; more(s, spent, seconds);) {
        const cart *c = &carts[s->n % cf->n_carts];
        t0 = now_ns();
        cart_doc *doc = json_in(ctx, prog, c);
        uint64_t dt = now_ns() - t0;
        cart_json_free(doc);
        s->ns[s->n++] = dt;
        spent += dt;
    }
    double json_ms = median_ms(s);

    /* the same carts through the struct API */
    s->n = 0;
    for (uint64_t spent = 0; more(s, spent, seconds);) {
        const cart *c = &carts[s->n % cf->n_carts];
        t0 = now_ns();
        cart_load(ctx, c);
        uint64_t dt = now_ns() - t0;
        s->ns[s->n++] = dt;
        spent += dt;
    }
    double struct_ms = median_ms(s);

    /* evaluate (each cart loaded once through the struct API, then evaluated) */
    s->n = 0;
    for (uint64_t spent = 0; more(s, spent, seconds);) {
        cart_load(ctx, &carts[s->n % cf->n_carts]);
        t0 = now_ns();
        const perk_result *r = perk_evaluate(ctx);
        uint64_t dt = now_ns() - t0;
        if (r->status != PERK_OK) die("perk_evaluate: %s", perk_context_error(ctx));
        s->ns[s->n++] = dt;
        spent += dt;
    }
    double eval_ms = median_ms(s);

    /* the best coupon combination of a 16-code wallet: pruned (the median, and the evaluations
     * it made), and exhaustive (every one of the 65,536 subsets: the worst case, one run) */
    char codes[PERK_BEST_COUPONS_MAX][12];
    for (int k = 0; k < PERK_BEST_COUPONS_MAX; k++) snprintf(codes[k], sizeof codes[k], "CP%05d", k);
    double best_ms[2];
    uint64_t best_evals = 0, best_cands = 0, best_n = 0;
    for (int mode = 0; mode < 2; mode++) {
        s->n = 0;
        for (uint64_t spent = 0; mode == 0 ? more(s, spent, seconds) : s->n < 1;) {
            wallet_load(ctx, &carts[s->n % cf->n_carts], codes);
            perk_best_coupons_result b;
            t0 = now_ns();
            perk_status st = perk_best_coupons(ctx, mode == 0 ? 0 : PERK_BEST_EXHAUSTIVE, &b);
            uint64_t dt = now_ns() - t0;
            if (st != PERK_OK) die("perk_best_coupons: %s", perk_context_error(ctx));
            if (mode == 0) {
                best_evals += b.evaluations;
                best_cands += b.candidates;
                best_n++;
            }
            s->ns[s->n++] = dt;
            spent += dt;
        }
        best_ms[mode] = median_ms(s);
    }
    best_line_add(N, M, best_ms[0], (double)best_evals / (double)best_n, (double)best_cands / (double)best_n,
                  best_ms[1]);

    /* render: every promotion explained / the applied ones from a lean context */
    double render_ms[2];
    result_json_buf rbuf = { 0 }; /* one buffer for every render, as a checkout keeps one */
    for (int mode = 0; mode < 2; mode++) {
        perk_context *rc = mode == 0 ? ctx : lean;
        s->n = 0;
        for (uint64_t spent = 0; more(s, spent, seconds);) {
            const cart *c = &carts[s->n % cf->n_carts];
            cart_doc *doc = json_in(rc, prog, c);
            const perk_result *r = perk_evaluate(rc);
            t0 = now_ns();
            const char *out = result_json_write_buf(names, r, doc, mode == 0 ? 0 : RESULT_JSON_APPLIED_ONLY, &rbuf);
            uint64_t dt = now_ns() - t0;
            if (out == NULL) die("result_json_write_buf failed");
            cart_json_free(doc);
            s->ns[s->n++] = dt;
            spent += dt;
        }
        render_ms[mode] = median_ms(s);
    }

    char b_new[32], b_fed[32];
    fmt_bytes(b_new, sizeof b_new, bytes_new);
    fmt_bytes(b_fed, sizeof b_fed, bytes_fed);
    printf("| %s | %d | %.3f / %.3f | %.4f | %.4f | %.4f | %.4f | %.3f / %.4f | %.1fx / %.1fx | %s / %s |\n", N, M,
           load_first, load, ctx_new, struct_ms, json_ms, eval_ms, render_ms[0], render_ms[1],
           (json_ms + render_ms[1]) / struct_ms,
           (json_ms + eval_ms + render_ms[1]) / (struct_ms + eval_ms), b_new, b_fed);
    fflush(stdout);

    result_json_buf_free(&rbuf);
    result_names_free(names);
    perk_context_free(lean);
    perk_context_free(ctx);
    perk_program_free(prog);
    bench_perk_carts_free(carts, cf->n_carts);
    free(carts);
    bench_carts_free(cf);
    free(bytes);
}

/* ------------------------------------------------------------------ main */

static int split_list(char *s, const char **out)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok != NULL && n < MAX_LIST; tok = strtok(NULL, ",")) out[n++] = tok;
    return n;
}

int main(int argc, char **argv)
{
    const char *data = NULL;
    char rules_arg[256] = "100,1000,10000", lines_arg[64] = "20";
    double seconds = 0.3;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--data") == 0 && v)
            data = v;
        else if (strcmp(argv[i], "--rules") == 0 && v)
            snprintf(rules_arg, sizeof rules_arg, "%s", v);
        else if (strcmp(argv[i], "--lines") == 0 && v)
            snprintf(lines_arg, sizeof lines_arg, "%s", v);
        else if (strcmp(argv[i], "--seconds") == 0 && v)
            seconds = atof(v);
        else
            die("usage: bench_phases --data DIR [--rules 100,1000,10000] [--lines 20] [--seconds S]");
        i++;
    }
    if (data == NULL) die("--data DIR is required");
    perk_set_allocator(&bench_counting_allocator);

    const char *rules[MAX_LIST], *lines[MAX_LIST];
    int n_rules = split_list(rules_arg, rules), n_lines = split_list(lines_arg, lines);
    samples s = { calloc(MAX_SAMPLES, sizeof(uint64_t)), 0 };
    if (s.ns == NULL) die("out of memory");

    printf("Medians in ms (%.2f s per phase). load = perk_program_load (parse, CRC-32C, verify, index):\n"
           "the process's first load / warm; context new = perk_context_new (default limits); struct in =\n"
           "the cart through perk_cart_* from C structs; json in = cart_json_parse + cart_json_feed (libperk's\n"
           "reader); render = result_json_write_buf into one kept buffer, every promotion explained / applied\n"
           "only (from a context "
           "explaining what applied); json vs struct = (json in + applied render) / struct in, and with\n"
           "evaluation on both sides; context bytes = what a context holds\n"
           "(allocated through libperk, all of it written, so resident) when new / after every cart.\n\n",
           seconds);
    printf("| rules | lines | load first / warm | context new | struct in | json in | evaluate | "
           "render all / applied | json vs struct: in+out / with evaluate | context bytes new / fed |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    fflush(stdout);
    for (int r = 0; r < n_rules; r++)
        for (int l = 0; l < n_lines; l++) run_ruleset(data, rules[r], atoi(lines[l]), seconds, &s);
    printf("\nThe best coupon combination (perk_best_coupons) of a wallet of 16 codes, CP00000..CP00015, on\n"
           "the same carts: the median in ms with pruning, the codes it kept and the subsets it evaluated\n"
           "(means), and one exhaustive search (every one of the 65,536 subsets, the worst case) in ms.\n\n"
           "| rules | lines | best coupons | candidates | evaluations | exhaustive |\n|---:|---:|---:|---:|---:|---:|\n");
    for (int k = 0; k < n_best_lines; k++) printf("%s\n", best_lines[k]);
    free(s.ns);
    return 0;
}
