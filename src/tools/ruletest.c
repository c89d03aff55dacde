/* ruletest.c - the rule-test engine behind `perk test` (see ruletest.h, docs/testing.md).
 *
 * rules/tea_shop.test holds cases for rules/tea_shop.perk (same base name; a first line
 * `ruleset "other.perk"` names another file). A case is a cart and the outcome it must have:
 *
 *   case "member day stacks with the clearance"
 *   cart {
 *     "order": {"time": "2026-03-04T10:00:00+08:00"},
 *     "lines": [{"sku": "T1", "category": "tea", "price": "100.00", "quantity": 3}]
 *   }
 *   expect applied member_day ¥30.00
 *   expect payable ¥270.00
 *   end
 *
 * A case with `expect best-coupons A,C` (or `none`) treats the cart's coupons as a wallet: it runs
 * perk_best_coupons() and checks that line and every other against the chosen set's evaluation.
 *
 * Rules can also be inline: `rules` alone on a line, Perk source, then a line `end`; the cases
 * that follow run under them, up to the next `rules` block:
 *
 *   rules
 *     ruleset "t" { currency CNY }
 *     promotion ten "10% off" { then 10% off items }
 *   end
 *
 * The JSON cart runs from `cart {` to the first line that is exactly `}`; `cart file "x.json"`
 * reads one relative to the test file. Expectations are any subset of what docs/testing.md lists.
 * Each failing expectation prints the case's location, what was expected and what came out.
 * With update set, the expected values are rewritten in place with the actual ones.
 */
#include "ruletest.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "compiler/compiler.h"
#include "json/json.h"
#include "money.h"
#include "opcodes.h"
#include "program.h"

#define MAX_WORDS 8

typedef ruletest_run test_run;

/* A line of a test file, split into words ("quoted strings" kept whole). */
typedef struct words {
    int n;
    char *w[MAX_WORDS];
    char buf[1024];
} words;

/* Where this thread's run writes (ruletest_run.out, else stderr): set by ruletest_path, so that
 * the console can run tests in a service thread and show their output. */
static _Thread_local FILE *rt_out;

static void split_words(const char *line, words *out)
{
    out->n = 0;
    snprintf(out->buf, sizeof out->buf, "%s", line);
    char *p = out->buf;
    while (*p && out->n < MAX_WORDS) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
        if (!*p || *p == '#') break;
        if (*p == '"') {
            char *start = ++p;
            while (*p && *p != '"') p++;
            if (*p) *p++ = '\0';
            out->w[out->n++] = start;
        } else {
            out->w[out->n++] = p;
            while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') p++;
            if (*p) *p++ = '\0';
        }
    }
}

/* ---------------------------------------------------------------- money text */

/* Parses "¥268.00", "268.00", "-¥1.05", "$5" into minor units (any leading currency symbol). */
static bool parse_money(const char *s, int exponent, int64_t *out)
{
    bool neg = false;
    if (*s == '-') {
        neg = true;
        s++;
    }
    while (*s && !(*s >= '0' && *s <= '9')) s++; /* skip a symbol such as ¥ or $ */
    if (!*s) return false;
    if (money_parse_decimal(s, strlen(s), exponent, out) != MONEY_PARSE_OK) return false;
    if (neg) *out = -*out;
    return true;
}

static const char *fmt_money(const perk_program *p, int64_t v, char *buf, size_t cap)
{
    const money_currency *cur = money_currency_find(perk_program_currency(p));
    money_format(v, perk_program_exponent(p), cur ? cur->symbol : "", buf, cap);
    return buf;
}

static bool parse_int(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end) return false;
    *out = v;
    return true;
}

/* ---------------------------------------------------------------- lookups in a result */

static long promo_index(const perk_program *p, const char *id) { return perk_program_find_promotion(p, id); }

static const perk_promotion_result *promo_result(const perk_result *r, long idx)
{
    for (uint32_t i = 0; i < r->n_promotions; i++)
        if ((long)r->promotions[i].promotion == idx) return &r->promotions[i];
    return NULL;
}

static long earn_index(const perk_program *p, const char *id)
{
    for (size_t i = 0; i < perk_program_earn_count(p); i++)
        if (strcmp(perk_program_earn_id(p, i), id) == 0) return (long)i;
    return -1;
}

/* Test files name reasons in upper case (`expect not applied x CONDITION`) and verdicts as the
 * results do (result_verdict_name); both come from perk.h's lists. */
static const char *reason_word(perk_reason r)
{
    switch (r) { /* no default: a reason missing here is a compile error (-Wswitch) */
#define REASON_WORD(NAME, name, text) \
    case PERK_REASON_##NAME: return #NAME;
        PERK_REASON_LIST(REASON_WORD)
#undef REASON_WORD
    case PERK_REASON_COUNT: break;
    }
    return "?";
}

/* ---------------------------------------------------------------- expectations */

/* Checks one `expect ...` line. Returns true when it holds. On failure or with --update,
 * `actual` receives the line as it would be written for the actual result. */
static bool check_expect(const perk_program *p, const perk_result *r, const char *err_text, const words *w,
                         char *actual, size_t cap, char *why, size_t whycap)
{
    int e = perk_program_exponent(p);
    char m1[64], m2[64];
    const char *k = w->n > 1 ? w->w[1] : "";
    int64_t want;
    actual[0] = why[0] = '\0';
#define MONEY_FIELD(word, value)                                                           \
    if (strcmp(k, word) == 0 && w->n == 3) {                                               \
        if (!parse_money(w->w[2], e, &want)) goto bad;                                     \
        snprintf(actual, cap, "expect %s %s", word, fmt_money(p, (value), m1, sizeof m1)); \
        return (value) == want;                                                            \
    }
    if (strcmp(k, "error") == 0 && w->n == 3) {
        snprintf(actual, cap, "expect error \"%s\"", err_text ? err_text : "");
        return err_text && strstr(err_text, w->w[2]);
    }
    if (err_text) {
        snprintf(why, whycap, "evaluation failed: %s", err_text);
        snprintf(actual, cap, "expect error \"%s\"", err_text);
        return false;
    }
    MONEY_FIELD("payable", r->payable)
    MONEY_FIELD("subtotal", r->subtotal)
    MONEY_FIELD("discount", r->discount)
    MONEY_FIELD("shipping", r->shipping_after)
    if (strcmp(k, "points") == 0 && w->n == 3) {
        if (!parse_int(w->w[2], &want)) goto bad;
        snprintf(actual, cap, "expect points %lld", (long long)r->points_earned);
        return r->points_earned == want;
    }
    if ((strcmp(k, "applied") == 0 && (w->n == 4 || w->n == 5)) || (strcmp(k, "not") == 0 && w->n >= 4)) {
        bool positive = k[0] == 'a';
        const char *id = positive ? w->w[2] : w->w[3];
        long idx = promo_index(p, id);
        const perk_promotion_result *pr = idx >= 0 ? promo_result(r, idx) : NULL;
        if (!pr) {
            snprintf(why, whycap, "no promotion named '%s' in this ruleset", id);
            return false;
        }
        bool applied = pr->reason == PERK_REASON_APPLIED;
        if (!positive) {
            /* expect not applied ID [REASON] */
            if (applied)
                snprintf(actual, cap, "expect applied %s %s", id, fmt_money(p, pr->discount, m1, sizeof m1));
            else
                snprintf(actual, cap, "expect not applied %s %s", id, reason_word(pr->reason));
            if (applied) return false;
            return w->n < 5 || strcasecmp(w->w[4], reason_word(pr->reason)) == 0;
        }
        /* expect applied ID AMOUNT | expect applied ID shipping AMOUNT */
        bool ship = w->n == 5 && strcmp(w->w[3], "shipping") == 0;
        int64_t got = ship ? pr->shipping_discount : pr->discount;
        if (!parse_money(w->w[w->n - 1], e, &want)) goto bad;
        if (applied)
            snprintf(actual, cap, "expect applied %s%s %s", id, ship ? " shipping" : "",
                     fmt_money(p, got, m1, sizeof m1));
        else
            snprintf(actual, cap, "expect not applied %s %s", id, reason_word(pr->reason));
        return applied && got == want;
    }
    if (strcmp(k, "best") == 0 && w->n == 4) {
        /* expect best ID M: a best-deal member that could apply takes (or, losing, would have
         * taken) M off, discount + shipping saving; `none`: it could not apply */
        long idx = promo_index(p, w->w[2]);
        if (idx < 0 || (uint32_t)idx >= r->n_promotions) {
            snprintf(why, whycap, "no promotion named '%s' in this ruleset", w->w[2]);
            return false;
        }
        bool none = strcmp(w->w[3], "none") == 0;
        if (!none && !parse_money(w->w[3], e, &want)) goto bad;
        int64_t got = r->promotion_extra ? r->promotion_extra[idx].best_saving : -1;
        if (got < 0)
            snprintf(actual, cap, "expect best %s none", w->w[2]);
        else
            snprintf(actual, cap, "expect best %s %s", w->w[2], fmt_money(p, got, m1, sizeof m1));
        return none ? got < 0 : got == want;
    }
    if (strcmp(k, "partial") == 0 && (w->n == 4 || w->n == 5)) {
        /* expect partial ID WANTED GRANTED: its money budget had less left than it wanted (discount
         * + shipping saving) and granted what was left; `expect partial ID none`: it was not cut */
        long idx = promo_index(p, w->w[2]);
        if (idx < 0 || (uint32_t)idx >= r->n_promotions) {
            snprintf(why, whycap, "no promotion named '%s' in this ruleset", w->w[2]);
            return false;
        }
        int64_t granted = 0;
        bool none = w->n == 4;
        if (none ? strcmp(w->w[3], "none") != 0
                 : !parse_money(w->w[3], e, &want) || !parse_money(w->w[4], e, &granted))
            goto bad;
        const perk_promotion_extra *x = r->promotion_extra ? &r->promotion_extra[idx] : NULL;
        if (x == NULL || x->budget_wanted < 0) {
            snprintf(actual, cap, "expect partial %s none", w->w[2]);
            return none;
        }
        snprintf(actual, cap, "expect partial %s %s %s", w->w[2], fmt_money(p, x->budget_wanted, m1, sizeof m1),
                 fmt_money(p, x->budget_granted, m2, sizeof m2));
        return !none && x->budget_wanted == want && x->budget_granted == granted;
    }
    if (strcmp(k, "units") == 0 && w->n == 4) {
        /* expect units ID N: a promotion with `limit N units per customer` gave its price to N
         * units (0: it did not apply, or the customer had none left) */
        long idx = promo_index(p, w->w[2]);
        if (idx < 0 || (uint32_t)idx >= r->n_promotions) {
            snprintf(why, whycap, "no promotion named '%s' in this ruleset", w->w[2]);
            return false;
        }
        int64_t n, got = 0;
        if (!parse_int(w->w[3], &n)) goto bad;
        for (uint32_t k2 = 0; k2 < r->n_promotion_units; k2++)
            if (r->promotion_units[k2].promotion == (uint32_t)idx) got = r->promotion_units[k2].units;
        snprintf(actual, cap, "expect units %s %lld", w->w[2], (long long)got);
        return got == n;
    }
    if ((strcmp(k, "reward_coupon") == 0 && (w->n == 4 || (w->n == 6 && strcmp(w->w[5], "days") == 0))) ||
        (strcmp(k, "no") == 0 && w->n == 4 && strcmp(w->w[2], "reward_coupon") == 0)) {
        /* expect reward_coupon ID CAMPAIGN [N days]: promotion ID earns a code of CAMPAIGN (valid N
         * days after the commit); expect no reward_coupon ID: it earns none */
        bool none = strcmp(k, "no") == 0;
        const char *id = none ? w->w[3] : w->w[2];
        long idx = promo_index(p, id);
        if (idx < 0) {
            snprintf(why, whycap, "no promotion named '%s' in this ruleset", id);
            return false;
        }
        int64_t days = -1;
        if (w->n == 6 && !parse_int(w->w[4], &days)) goto bad;
        const perk_reward_coupon *got = NULL;
        for (uint32_t k2 = 0; k2 < r->n_reward_coupons; k2++)
            if (r->reward_coupons[k2].promotion == (uint32_t)idx) got = &r->reward_coupons[k2];
        if (got == NULL) {
            snprintf(actual, cap, "expect no reward_coupon %s", id);
            return none;
        }
        if (got->valid_seconds > 0)
            snprintf(actual, cap, "expect reward_coupon %s %s %lld days", id, got->campaign,
                     (long long)(got->valid_seconds / 86400));
        else
            snprintf(actual, cap, "expect reward_coupon %s %s", id, got->campaign);
        if (none) return false;
        return strcmp(got->campaign, w->w[3]) == 0 && (days < 0 || got->valid_seconds == days * 86400);
    }
    if (strcmp(k, "line") == 0 && w->n == 5 && strcmp(w->w[3], "final") == 0) {
        int64_t n;
        if (!parse_int(w->w[2], &n) || !parse_money(w->w[4], e, &want)) goto bad;
        if (n < 1 || n > r->n_lines) {
            snprintf(why, whycap, "the result has %u lines", r->n_lines);
            return false;
        }
        int64_t got = r->lines[n - 1].final;
        snprintf(actual, cap, "expect line %lld final %s", (long long)n, fmt_money(p, got, m1, sizeof m1));
        return got == want;
    }
    if (strcmp(k, "line") == 0 && w->n == 6 && strcmp(w->w[3], "applied") == 0) {
        /* expect line N applied ID M: what promotion ID took off line N (0 when nothing) */
        int64_t n;
        if (!parse_int(w->w[2], &n) || !parse_money(w->w[5], e, &want)) goto bad;
        long idx = promo_index(p, w->w[4]);
        if (idx < 0) {
            snprintf(why, whycap, "no promotion named '%s' in this ruleset", w->w[4]);
            return false;
        }
        if (n < 1 || n > r->n_lines) {
            snprintf(why, whycap, "the result has %u lines", r->n_lines);
            return false;
        }
        const perk_line_result *l = &r->lines[n - 1];
        int64_t got = 0;
        for (uint32_t i = 0; i < l->n_allocations; i++)
            if ((long)r->allocations[l->first_allocation + i].promotion == idx)
                got += r->allocations[l->first_allocation + i].amount;
        snprintf(actual, cap, "expect line %lld applied %s %s", (long long)n, w->w[4],
                 fmt_money(p, got, m1, sizeof m1));
        return got == want;
    }
    if (strcmp(k, "gift") == 0 && w->n == 4) {
        int64_t q;
        if (!parse_int(w->w[3], &q)) goto bad;
        int64_t got = 0;
        for (uint32_t i = 0; i < r->n_gifts; i++)
            if (strcmp(r->gifts[i].sku, w->w[2]) == 0) got += r->gifts[i].quantity;
        snprintf(actual, cap, "expect gift %s %lld", w->w[2], (long long)got);
        return got == q;
    }
    if (strcmp(k, "effect") == 0 && w->n == 3) {
        for (uint32_t i = 0; i < r->n_effects; i++)
            if (strcmp(r->effects[i].kind, w->w[2]) == 0) {
                snprintf(actual, cap, "expect effect %s", w->w[2]);
                return true;
            }
        snprintf(actual, cap, "expect no effect %s", w->w[2]);
        return false;
    }
    if (strcmp(k, "earn") == 0 && w->n == 4) {
        long idx = earn_index(p, w->w[2]);
        if (idx < 0 || !parse_int(w->w[3], &want)) {
            snprintf(why, whycap, "no earn rule named '%s'", w->w[2]);
            return false;
        }
        int64_t got = 0;
        for (uint32_t i = 0; i < r->n_points; i++)
            if ((long)r->points[i].earn_rule == idx) got = r->points[i].points;
        snprintf(actual, cap, "expect earn %s %lld", w->w[2], (long long)got);
        return got == want;
    }
    if (strcmp(k, "redeem") == 0 && w->n == 4) {
        int64_t pts;
        if (!parse_int(w->w[2], &pts) || !parse_money(w->w[3], e, &want)) goto bad;
        snprintf(actual, cap, "expect redeem %lld %s", (long long)r->points_redeemed,
                 fmt_money(p, r->redeem_value, m1, sizeof m1));
        return r->points_redeemed == pts && r->redeem_value == want;
    }
    if (strcmp(k, "redeemable") == 0 && w->n == 3) {
        if (!parse_int(w->w[2], &want)) goto bad;
        snprintf(actual, cap, "expect redeemable %lld", (long long)r->points_redeemable);
        return r->points_redeemable == want;
    }
    if (strcmp(k, "best-coupons") == 0 && w->n == 3) {
        /* the case ran perk_best_coupons(): the result's coupons are the chosen set */
        char got[PERK_BEST_COUPONS_MAX * 72];
        size_t len = 0;
        got[0] = '\0';
        for (uint32_t i = 0; i < r->n_coupons && len < sizeof got; i++)
            len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? "," : "", r->coupons[i].code);
        if (r->n_coupons == 0) snprintf(got, sizeof got, "none");
        snprintf(actual, cap, "expect best-coupons %.600s", got);
        return strcmp(got, w->w[2]) == 0;
    }
    if (strcmp(k, "coupon") == 0 && w->n == 4) {
        for (uint32_t i = 0; i < r->n_coupons; i++)
            if (strcmp(r->coupons[i].code, w->w[2]) == 0) {
                const char *v = result_verdict_name(r->coupons[i].verdict);
                snprintf(actual, cap, "expect coupon %s %s", w->w[2], v);
                return strcmp(v, w->w[3]) == 0 ||
                       (strcmp(w->w[3], "rejected") == 0 && r->coupons[i].verdict != PERK_COUPON_ACCEPTED);
            }
        snprintf(why, whycap, "coupon %s is not in the result", w->w[2]);
        return false;
    }
    if (strcmp(k, "hint") == 0 &&
        (w->n == 4 || (w->n == 5 && (strcmp(w->w[4], "unit") == 0 || strcmp(w->w[4], "units") == 0)) ||
         (w->n == 6 && (strcmp(w->w[4], "store") == 0 ||
                        (strcmp(w->w[4], "without") == 0 && strcmp(w->w[5], "store") == 0))))) {
        /* `expect hint ID ¥32.00` (money to add), `expect hint ID 1 unit` (a count tier's row),
         * `expect hint ID ¥20.00 store 甲` / `... without store` (money to add in one store) */
        long idx = promo_index(p, w->w[2]);
        bool units = w->n == 5, per_store = w->n == 6;
        const char *want_store = per_store && strcmp(w->w[4], "store") == 0 ? w->w[5] : NULL;
        if (units) {
            char *end = NULL;
            want = strtoll(w->w[3], &end, 10);
            if (end == w->w[3] || *end != '\0' || want < 1) goto bad;
        } else if (!parse_money(w->w[3], e, &want)) {
            goto bad;
        }
        for (uint32_t i = 0; i < r->n_hints; i++)
            if ((long)r->hints[i].promotion == idx) {
                const perk_hint *h = &r->hints[i];
                bool got_store = r->hint_next[i].per_store;
                const char *store = result_hint_store(r, i);
                if (h->units)
                    snprintf(actual, cap, "expect hint %s %" PRId64 " %s", w->w[2], h->shortfall,
                             h->shortfall == 1 ? "unit" : "units");
                else if (got_store && store != NULL)
                    snprintf(actual, cap, "expect hint %s %s store %.200s", w->w[2],
                             fmt_money(p, h->shortfall, m1, sizeof m1), store);
                else if (got_store)
                    snprintf(actual, cap, "expect hint %s %s without store", w->w[2],
                             fmt_money(p, h->shortfall, m1, sizeof m1));
                else
                    snprintf(actual, cap, "expect hint %s %s", w->w[2],
                             fmt_money(p, h->shortfall, m1, sizeof m1));
                bool same_store = got_store == per_store &&
                                  (want_store == NULL ? store == NULL : store != NULL && strcmp(store, want_store) == 0);
                return h->units == units && h->shortfall == want && same_store;
            }
        snprintf(actual, cap, "expect no hint %s", w->w[2]);
        return false;
    }
    if (strcmp(k, "no") == 0 && w->n == 4 && strcmp(w->w[2], "hint") == 0) {
        long idx = promo_index(p, w->w[3]);
        for (uint32_t i = 0; i < r->n_hints; i++)
            if ((long)r->hints[i].promotion == idx) {
                snprintf(actual, cap, "expect hint %s %s", w->w[3],
                         fmt_money(p, r->hints[i].shortfall, m2, sizeof m2));
                return false;
            }
        snprintf(actual, cap, "expect no hint %s", w->w[3]);
        return true;
    }
    if (strcmp(k, "no") == 0 && w->n == 4 && strcmp(w->w[2], "effect") == 0) {
        for (uint32_t i = 0; i < r->n_effects; i++)
            if (strcmp(r->effects[i].kind, w->w[3]) == 0) {
                snprintf(actual, cap, "expect effect %s", w->w[3]);
                return false;
            }
        snprintf(actual, cap, "expect no effect %s", w->w[3]);
        return true;
    }
bad:
    snprintf(why, whycap, "cannot read this expectation (see docs/testing.md for the forms)");
    return false;
#undef MONEY_FIELD
}

/* ---------------------------------------------------------------- files */

/* Reads a whole file (NUL-terminated); returns NULL and prints "perk: error: ..." on failure. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(rt_out, "perk: error: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(rt_out, "perk: error: %s is a directory\n", path);
        fclose(f);
        return NULL;
    }
    /* never more than the limit + 1 bytes: the one past it tells a file of exactly the limit from
     * a larger one, the limit of every file the CLI reads (SOURCE_MAX_BYTES) */
    const size_t limit = SOURCE_MAX_BYTES;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) abort();
    for (;;) {
        if (n + 1 >= cap) {
            size_t ncap = cap * 2 > limit + 2 ? limit + 2 : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) abort();
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0 || n > limit) break;
    }
    bool err = ferror(f) != 0;
    fclose(f);
    if (n > limit) {
        fprintf(rt_out,
                "perk: error: %s is larger than the limit of %zu bytes [file-too-large]: split it into "
                "smaller files\n",
                path, limit);
        free(buf);
        return NULL;
    }
    if (err) {
        fprintf(rt_out, "perk: error: cannot read %s\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

typedef struct file_lines {
    char **line;
    int n;
} file_lines;

static bool read_lines(const char *path, file_lines *fl)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return false;
    fl->n = 0;
    int cap = 64;
    fl->line = malloc(sizeof(char *) * (size_t)cap);
    if (!fl->line) abort();
    char *s = text;
    while (*s) {
        char *nl = strchr(s, '\n');
        size_t l = nl ? (size_t)(nl - s) : strlen(s);
        if (fl->n == cap) {
            cap *= 2;
            fl->line = realloc(fl->line, sizeof(char *) * (size_t)cap);
            if (!fl->line) abort();
        }
        fl->line[fl->n] = strndup(s, l);
        if (!fl->line[fl->n]) abort();
        fl->n++;
        s += l + (nl ? 1 : 0);
    }
    free(text);
    return true;
}

static void free_lines(file_lines *fl)
{
    for (int i = 0; i < fl->n; i++) free(fl->line[i]);
    free(fl->line);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    return strndup(path, (size_t)(slash - path));
}

static char *join_path(const char *dir, const char *name)
{
    if (name[0] == '/') return strdup(name);
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    if (!s) abort();
    size_t dl = strlen(dir);
    snprintf(s, n, "%s%s%s", dir, (dl && dir[dl - 1] == '/') ? "" : "/", name);
    return s;
}

/* Runs one case: evaluates the cart and checks expectation lines [first, last). */
static void run_case(test_run *tr, const char *test_path, const char *case_name, int case_line,
                     perk_program *prog, perk_context *ctx, const char *cart_text, size_t cart_len,
                     file_lines *fl, int first, int last, bool *changed)
{
    char err[512] = "";
    const char *err_text = NULL;
    const perk_result *r = NULL;
    perk_limits lim = perk_limits_default();
    cart_doc *doc = cart_json_parse(cart_text, cart_len, perk_program_exponent(prog),
                                    perk_program_currency(prog), &lim, err, sizeof err);
    if (!doc) {
        err_text = err;
    } else if (cart_json_feed(doc, ctx, prog, err, sizeof err) != PERK_OK) {
        err_text = err;
    } else {
        /* a case that expects a best coupon set searches the cart's coupons (perk_best_coupons)
         * and checks every expectation against the evaluation of the set it chose */
        bool best = false;
        for (int i = first; i < last && !best; i++) {
            words w;
            split_words(fl->line[i], &w);
            best = w.n >= 2 && strcmp(w.w[0], "expect") == 0 && strcmp(w.w[1], "best-coupons") == 0;
        }
        perk_best_coupons_result b;
        perk_status st = best ? perk_best_coupons(ctx, 0, &b) : PERK_OK;
        if (st != PERK_OK) {
            snprintf(err, sizeof err, "%s: %s", perk_status_message(st), perk_context_error(ctx));
            err_text = err;
        } else {
            r = best ? b.result : perk_evaluate(ctx);
            if (r->status != PERK_OK) {
                snprintf(err, sizeof err, "%s: %s", perk_status_message(r->status), perk_context_error(ctx));
                err_text = err;
            }
        }
    }
    int case_failed = 0, n_expect = 0;
    for (int i = first; i < last; i++) {
        words w;
        split_words(fl->line[i], &w);
        if (w.n == 0 || strcmp(w.w[0], "expect") != 0) continue;
        n_expect++;
        char actual[700], why[700];
        bool ok = check_expect(prog, r, err_text, &w, actual, sizeof actual, why, sizeof why);
        if (ok) continue;
        if (tr->update && actual[0]) {
            fprintf(rt_out, "%s:%d: updated: %s\n    was: %s\n", test_path, i + 1, actual, fl->line[i]);
            /* keep the line's indentation */
            size_t ind = strspn(fl->line[i], " \t");
            char *nl = malloc(ind + strlen(actual) + 1);
            if (!nl) abort();
            memcpy(nl, fl->line[i], ind);
            strcpy(nl + ind, actual);
            free(fl->line[i]);
            fl->line[i] = nl;
            *changed = true;
            continue;
        }
        if (case_failed++ == 0) fprintf(rt_out, "FAIL %s:%d: case \"%s\"\n", test_path, case_line, case_name);
        fprintf(rt_out, "  %s:%d:\n    - %s\n", test_path, i + 1, fl->line[i] + strspn(fl->line[i], " \t"));
        if (actual[0]) fprintf(rt_out, "    + %s\n", actual);
        if (why[0]) fprintf(rt_out, "    (%s)\n", why);
    }
    if (n_expect == 0) {
        fprintf(rt_out, "FAIL %s:%d: case \"%s\" has no expectations\n", test_path, case_line, case_name);
        case_failed = 1;
    }
    if (case_failed)
        tr->failed++;
    else {
        tr->passed++;
        if (tr->verbose) fprintf(rt_out, "ok   %s:%d: %s\n", test_path, case_line, case_name);
    }
    cart_json_free(doc);
}

static void syntax_error(test_run *tr, const char *path, int line, const char *msg)
{
    fprintf(rt_out, "%s:%d: error: %s\n", path, line, msg);
    tr->failed++;
}

/* True when the line is exactly `word` (blanks and a trailing comment aside). */
static bool is_word_line(const char *line, const char *word)
{
    words w;
    split_words(line, &w);
    return w.n == 1 && strcmp(w.w[0], word) == 0;
}

/* True when a case comes before the first `rules` block (or there is neither): those cases run
 * under the rule file, which must then load. */
static bool needs_rule_file(const file_lines *fl)
{
    for (int i = 0; i < fl->n; i++) {
        words w;
        split_words(fl->line[i], &w);
        if (w.n == 0) continue;
        if (strcmp(w.w[0], "case") == 0) return true;
        if (w.n == 1 && strcmp(w.w[0], "rules") == 0) return false;
    }
    return true;
}

static perk_context *new_context(const char *path, perk_program *prog)
{
    perk_error err;
    perk_context *ctx = perk_context_new(prog, NULL, &err);
    if (!ctx) fprintf(rt_out, "%s: %s\n", path, err.message);
    return ctx;
}

/* Compiles the rule source on lines [first, last) of a test file (0-based). The lines before
 * it become empty lines, so the diagnostics name the test file at the right line and column,
 * and an `include` is found relative to the test file. Prints the diagnostics; NULL on error. */
static perk_program *compile_block(const char *path, const file_lines *fl, int first, int last)
{
    size_t n = (size_t)first;
    for (int i = first; i < last; i++) n += strlen(fl->line[i]) + 1;
    char *text = malloc(n + 1);
    if (!text) abort();
    memset(text, '\n', (size_t)first);
    size_t at = (size_t)first;
    for (int i = first; i < last; i++) {
        size_t l = strlen(fl->line[i]);
        memcpy(text + at, fl->line[i], l);
        at += l;
        text[at++] = '\n';
    }
    text[at] = '\0';
    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = compiler_compile_text(&c, path, text, at, &bytes, &len);
    compiler_report(&c, false);
    compiler_free(&c);
    free(text);
    if (!ok) {
        free(bytes);
        return NULL;
    }
    perk_error err;
    perk_program *p = perk_program_load(bytes, len, &err);
    free(bytes);
    if (!p) fprintf(rt_out, "perk: error: %s:%d: %s\n", path, first, err.message);
    return p;
}

static void run_test_file(test_run *tr, const char *path)
{
    file_lines fl;
    if (!read_lines(path, &fl)) {
        tr->failed++;
        return;
    }
    char *dir = dir_of(path);
    /* the ruleset: `ruleset "x.perk"` on the first non-comment line, else the same base name */
    char *rules = NULL;
    for (int i = 0; i < fl.n; i++) {
        words w;
        split_words(fl.line[i], &w);
        if (w.n == 0) continue;
        if (w.n == 2 && strcmp(w.w[0], "ruleset") == 0) rules = join_path(dir, w.w[1]);
        break;
    }
    if (!rules) {
        size_t n = strlen(path);
        rules = malloc(n + 6);
        if (!rules) abort();
        memcpy(rules, path, n - 5); /* strip ".test" */
        strcpy(rules + n - 5, ".perk");
    }
    /* The rule file is loaded only when some case runs under it: a file whose first block is
     * `rules` needs no .perk beside it. */
    perk_program *prog = NULL;
    perk_context *ctx = NULL;
    if (needs_rule_file(&fl)) {
        prog = compiler_load_program(rules, false);
        if (prog) ctx = new_context(path, prog);
        if (!prog || !ctx) {
            fprintf(rt_out, "FAIL %s: cannot load %s\n", path, rules);
            tr->failed++;
            goto done;
        }
    }
    bool changed = false;
    for (int i = 0; i < fl.n; i++) {
        words w;
        split_words(fl.line[i], &w);
        if (w.n == 0 || strcmp(w.w[0], "ruleset") == 0) continue;
        if (strcmp(w.w[0], "rules") == 0) {
            /* inline rules: the cases from here to the next `rules` block run under them */
            if (w.n != 1) {
                syntax_error(tr, path, i + 1,
                             "`rules` stands alone on its line (the rule source starts on the next line)");
                continue;
            }
            int k = i + 1;
            while (k < fl.n && !is_word_line(fl.line[k], "end")) k++;
            if (k >= fl.n) {
                syntax_error(tr, path, i + 1, "this rules block has no `end` line");
                break;
            }
            perk_context_free(ctx);
            perk_program_free(prog);
            ctx = NULL;
            prog = compile_block(path, &fl, i + 1, k);
            if (prog) ctx = new_context(path, prog);
            if (!prog || !ctx) {
                /* one failure for the block; its cases are skipped until the next block */
                fprintf(rt_out, "FAIL %s:%d: these rules do not compile; the cases under them are skipped\n",
                        path, i + 1);
                tr->failed++;
                perk_program_free(prog);
                prog = NULL;
            }
            i = k;
            continue;
        }
        if (strcmp(w.w[0], "case") != 0 || w.n < 2) {
            syntax_error(tr, path, i + 1, "expected `case \"name\"` or `rules`");
            continue;
        }
        char name[256];
        snprintf(name, sizeof name, "%s", w.w[1]);
        int case_line = i + 1;
        /* the cart */
        char *cart = NULL;
        size_t cart_len = 0;
        int j = i + 1;
        while (j < fl.n) {
            split_words(fl.line[j], &w);
            if (w.n) break;
            j++;
        }
        if (j < fl.n && w.n == 3 && strcmp(w.w[0], "cart") == 0 && strcmp(w.w[1], "file") == 0) {
            char *cp = join_path(dir, w.w[2]);
            cart = read_file(cp, &cart_len);
            free(cp);
            j++;
        } else if (j < fl.n && w.n >= 2 && strcmp(w.w[0], "cart") == 0 && strcmp(w.w[1], "{") == 0) {
            /* from the '{' to the first line that is exactly "}" */
            size_t cap = 256;
            cart = malloc(cap);
            if (!cart) abort();
            cart[0] = '\0';
            const char *brace = strchr(fl.line[j], '{');
            int k = j;
            for (; k < fl.n; k++) {
                const char *piece = k == j ? brace : fl.line[k];
                size_t pl = strlen(piece);
                while (cart_len + pl + 2 > cap) {
                    cap *= 2;
                    cart = realloc(cart, cap);
                    if (!cart) abort();
                }
                memcpy(cart + cart_len, piece, pl);
                cart_len += pl;
                cart[cart_len++] = '\n';
                cart[cart_len] = '\0';
                if (k > j && strcmp(fl.line[k], "}") == 0) break;
            }
            if (k >= fl.n) {
                syntax_error(tr, path, j + 1, "the cart's JSON has no closing `}` line");
                free(cart);
                break;
            }
            j = k + 1;
        } else {
            syntax_error(tr, path, case_line,
                         "a case needs `cart {` ... `}` or `cart file \"x.json\"` after it");
            i = j;
            continue;
        }
        if (!cart) {
            tr->failed++;
            i = j;
            continue;
        }
        int first = j;
        while (j < fl.n) {
            split_words(fl.line[j], &w);
            if (w.n >= 1 && strcmp(w.w[0], "end") == 0) break;
            if (w.n >= 1 && strcmp(w.w[0], "case") == 0) break;
            if (w.n == 1 && strcmp(w.w[0], "rules") == 0) break;
            j++;
        }
        if (j >= fl.n || strcmp(w.w[0], "end") != 0) {
            syntax_error(tr, path, case_line, "this case has no `end` line");
            free(cart);
            i = j - 1;
            continue;
        }
        if (ctx) run_case(tr, path, name, case_line, prog, ctx, cart, cart_len, &fl, first, j, &changed);
        free(cart);
        i = j;
    }
    if (changed) {
        FILE *f = fopen(path, "w");
        if (f) {
            for (int i = 0; i < fl.n; i++) fprintf(f, "%s\n", fl.line[i]);
            fclose(f);
        } else {
            fprintf(rt_out, "perk: error: cannot rewrite %s\n", path);
        }
    }
done:
    perk_context_free(ctx);
    perk_program_free(prog);
    free(rules);
    free(dir);
    free_lines(&fl);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void ruletest_path(ruletest_run *tr, const char *path)
{
    rt_out = tr->out ? tr->out : stderr;
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(rt_out, "perk: error: %s does not exist\n", path);
        tr->failed++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        tr->files++;
        run_test_file(tr, path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        tr->failed++;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.') continue;
        bool is_test = l > 5 && strcmp(e->d_name + l - 5, ".test") == 0;
        char *full = join_path(path, e->d_name);
        struct stat cs;
        bool is_dir = stat(full, &cs) == 0 && S_ISDIR(cs.st_mode);
        if (!is_test && !is_dir) {
            free(full);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = realloc(names, cap * sizeof *names);
            if (!names) abort();
        }
        names[n++] = full;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str); /* deterministic order */
    for (size_t i = 0; i < n; i++) {
        ruletest_path(tr, names[i]);
        free(names[i]);
    }
    free(names);
}
