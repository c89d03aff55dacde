/* money.c: exact integer money arithmetic, rounding, proportional allocation, the ISO 4217
 * currency table, and decimal formatting/parsing for libperk. See money.h for the contracts. */
#include "money.h"

#include <string.h>

bool money_add(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return false;
    *out = r;
    return true;
}

bool money_sub(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r)) return false;
    *out = r;
    return true;
}

bool money_mul(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) return false;
    *out = r;
    return true;
}

const char *money_rounding_name(int mode)
{
    static const char *const names[MONEY_ROUNDING_COUNT] = {
#define MONEY_ROUNDING_NAME(NAME, name) [MONEY_ROUND_##NAME] = #name,
        MONEY_ROUNDING_LIST(MONEY_ROUNDING_NAME)
#undef MONEY_ROUNDING_NAME
    };
    return mode >= 0 && mode < MONEY_ROUNDING_COUNT ? names[mode] : NULL;
}

bool money_mul_div(int64_t a, int64_t num, int64_t den, money_rounding mode, int64_t *out)
{
    if (den <= 0) return false;
    if (mode != MONEY_ROUND_HALF_UP && mode != MONEY_ROUND_HALF_EVEN && mode != MONEY_ROUND_DOWN)
        return false;
    /* |a * num| <= 2^126, so the product is exact in 128 bits. C division truncates toward
     * zero, which is already MONEY_ROUND_DOWN; the other modes may step one unit away. */
    __int128 product = (__int128)a * num;
    __int128 quotient = product / den;
    __int128 rem = product % den;
    if (rem != 0 && mode != MONEY_ROUND_DOWN) {
        __int128 twice = rem < 0 ? -2 * rem : 2 * rem; /* < 2^64: no overflow */
        bool away;
        if (mode == MONEY_ROUND_HALF_UP)
            away = twice >= den;
        else
            away = twice > den || (twice == den && quotient % 2 != 0);
        if (away) quotient += product < 0 ? -1 : 1;
    }
    if (quotient < INT64_MIN || quotient > INT64_MAX) return false;
    *out = (int64_t)quotient;
    return true;
}

bool money_percent(int64_t amount, int64_t ppm, money_rounding mode, int64_t *out)
{
    return money_mul_div(amount, ppm, MONEY_PPM_ONE, mode, out);
}

/* --- largest-remainder allocation ------------------------------------------------------------ */

/* Up to this many lines with a remainder, the leftover units are placed by an insertion sort;
 * above, by a heap (O(n + k log n)). */
#define ALLOC_SMALL 32

/* True if line i should get a leftover unit before line j: larger remainder, then lower index. */
static bool alloc_before(const int64_t *rem, uint32_t i, uint32_t j)
{
    return rem[i] > rem[j] || (rem[i] == rem[j] && i < j);
}

/* Restores the heap property below position `pos` of a heap whose root is the best line. */
static void alloc_sift_down(const int64_t *rem, uint32_t *heap, size_t size, size_t pos)
{
    for (;;) {
        size_t best = pos, left = 2 * pos + 1, right = left + 1;
        if (left < size && alloc_before(rem, heap[left], heap[best])) best = left;
        if (right < size && alloc_before(rem, heap[right], heap[best])) best = right;
        if (best == pos) return;
        uint32_t t = heap[pos];
        heap[pos] = heap[best];
        heap[best] = t;
        pos = best;
    }
}

bool money_allocate(int64_t total, const int64_t *weights, size_t n, int64_t *out, uint32_t *order,
                    int64_t *remainders)
{
    if (n > UINT32_MAX) return false;
    if (n > 0 && (weights == NULL || out == NULL || order == NULL || remainders == NULL)) return false;
    int64_t weight_sum = 0, max_weight = 0;
    for (size_t i = 0; i < n; i++) {
        if (weights[i] < 0 || __builtin_add_overflow(weight_sum, weights[i], &weight_sum)) return false;
        if (weights[i] > max_weight) max_weight = weights[i];
    }
    if (total < 0 || total > weight_sum) return false;
    if (weight_sum == 0) { /* total is 0 too */
        for (size_t i = 0; i < n; i++) out[i] = 0;
        return true;
    }

    /* Floors and remainders: out[i] = floor(total * w[i] / W), remainders[i] = (total * w[i]) mod
     * W, in [0, W). Each floor is <= total (w[i] <= W), and their sum is <= total, so no
     * overflow. When every product fits in 64 bits (the usual case: cents times cents) one 64-bit
     * division gives both; else 128-bit arithmetic. Computing each remainder once keeps the heap
     * comparisons below to two loads. */
    int64_t assigned = 0, probe;
    if (!__builtin_mul_overflow(total, max_weight, &probe)) {
        for (size_t i = 0; i < n; i++) {
            int64_t product = total * weights[i];
            out[i] = product / weight_sum;
            remainders[i] = product % weight_sum;
            assigned += out[i];
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            __int128 product = (__int128)total * weights[i];
            out[i] = (int64_t)(product / weight_sum);
            remainders[i] = (int64_t)(product - (__int128)out[i] * weight_sum);
            assigned += out[i];
        }
    }
    /* The exact shares sum to total, so leftover = (sum of remainders) / W < n. Only lines with a
     * nonzero remainder can receive a unit, and there are at least `leftover` of them because
     * each remainder is < W. That is also why no line ever exceeds its weight: a line with a
     * nonzero remainder has total*w/W < w strictly, so its floor + 1 <= w. */
    int64_t leftover = total - assigned;
    if (leftover == 0) return true;

    size_t size = 0;
    for (size_t i = 0; i < n; i++) {
        if (remainders[i] != 0) order[size++] = (uint32_t)i;
    }
    if ((uint64_t)leftover > size) /* impossible by the argument above; kept as a guard */
        return false;
    if (size <= ALLOC_SMALL) {
        /* few candidates (a cart's lines): an insertion sort, larger remainder first; equal
         * remainders keep index order, since only a strictly smaller one is passed over. Fewer
         * mispredicted branches than the heap at this size. */
        for (size_t i = 1; i < size; i++) {
            uint32_t x = order[i];
            size_t j = i;
            while (j > 0 && remainders[order[j - 1]] < remainders[x]) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = x;
        }
        for (int64_t k = 0; k < leftover; k++) out[order[k]] += 1;
        return true;
    }
    for (size_t p = size / 2; p-- > 0;) alloc_sift_down(remainders, order, size, p);
    for (int64_t k = 0; k < leftover; k++) {
        out[order[0]] += 1;
        order[0] = order[--size];
        alloc_sift_down(remainders, order, size, 0);
    }
    return true;
}

/* --- currencies ------------------------------------------------------------------------------ */

static const money_currency money_currencies[] = {
#define CURRENCY(code, exponent, symbol) { code, exponent, symbol },
#include "currencies.def"
#undef CURRENCY
};

const money_currency *money_currency_find(const char *code)
{
    if (code == NULL) return NULL;
    for (size_t i = 0; i < sizeof money_currencies / sizeof money_currencies[0]; i++) {
        if (strcmp(money_currencies[i].code, code) == 0) return &money_currencies[i];
    }
    return NULL;
}

/* --- formatting ------------------------------------------------------------------------------ */

/* snprintf-style writer: counts every byte, stores only what fits before the final NUL. */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
} money_writer;

static void writer_put(money_writer *w, char ch)
{
    if (w->cap > 0 && w->len < w->cap - 1) w->buf[w->len] = ch;
    w->len++;
}

size_t money_format(int64_t minor, int exponent, const char *symbol, char *buf, size_t cap)
{
    money_writer w = { buf, cap, 0 };
    if (exponent >= 0 && exponent <= MONEY_MAX_EXPONENT) {
        /* Magnitude as unsigned so that INT64_MIN (2^63) is representable. */
        uint64_t mag = minor < 0 ? 0 - (uint64_t)minor : (uint64_t)minor;
        char digits[24]; /* least significant first; 20 digits max, padded to exponent + 1 */
        size_t nd = 0;
        do {
            digits[nd++] = (char)('0' + mag % 10);
            mag /= 10;
        } while (mag != 0);
        while (nd < (size_t)exponent + 1) digits[nd++] = '0';

        if (minor < 0) writer_put(&w, '-');
        for (const char *s = symbol; s != NULL && *s != '\0'; s++) writer_put(&w, *s);
        while (nd > 0) {
            if (nd == (size_t)exponent) writer_put(&w, '.');
            writer_put(&w, digits[--nd]);
        }
    }
    if (cap > 0) buf[w.len < cap ? w.len : cap - 1] = '\0';
    return w.len;
}

/* --- parsing --------------------------------------------------------------------------------- */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

money_parse_status money_parse_decimal(const char *text, size_t len, int exponent, int64_t *out)
{
    if (exponent < 0 || exponent > MONEY_MAX_EXPONENT || (text == NULL && len > 0)) return MONEY_PARSE_SYNTAX;

    /* Syntax first: -?[0-9]+(\.[0-9]+)? over the whole text. */
    size_t i = 0;
    bool negative = false;
    if (i < len && text[i] == '-') {
        negative = true;
        i++;
    }
    size_t int_start = i;
    while (i < len && is_digit(text[i])) i++;
    size_t int_end = i;
    if (int_end == int_start) return MONEY_PARSE_SYNTAX;
    size_t frac_start = i, frac_end = i;
    if (i < len && text[i] == '.') {
        frac_start = ++i;
        while (i < len && is_digit(text[i])) i++;
        frac_end = i;
        if (frac_end == frac_start) return MONEY_PARSE_SYNTAX;
    }
    if (i != len) return MONEY_PARSE_SYNTAX;

    /* Digits past the currency's precision must be zeros. */
    size_t frac_len = frac_end - frac_start;
    for (size_t k = (size_t)exponent; k < frac_len; k++) {
        if (text[frac_start + k] != '0') return MONEY_PARSE_TOO_PRECISE;
    }

    /* Accumulate the magnitude; a negative value may reach 2^63. */
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t value = 0;
    for (size_t k = int_start; k < int_end; k++) {
        unsigned d = (unsigned)(text[k] - '0');
        if (value > (limit - d) / 10) return MONEY_PARSE_RANGE;
        value = value * 10 + d;
    }
    for (size_t k = 0; k < (size_t)exponent; k++) {
        unsigned d = k < frac_len ? (unsigned)(text[frac_start + k] - '0') : 0;
        if (value > (limit - d) / 10) return MONEY_PARSE_RANGE;
        value = value * 10 + d;
    }
    if (!negative)
        *out = (int64_t)value;
    else if (value == (uint64_t)INT64_MAX + 1)
        *out = INT64_MIN;
    else
        *out = -(int64_t)value;
    return MONEY_PARSE_OK;
}

money_parse_status money_parse_ppm(const char *text, size_t len, int64_t *out)
{
    /* 1% = 10^4 ppm, so a percentage is a decimal with 4 fractional digits. */
    return money_parse_decimal(text, len, 4, out);
}
