/* coupons.c - coupon codes: normalisation, adding one code, generating many random codes
 * (Crockford base32 from getrandom(2) with a Luhn mod 32 check symbol), and checking whether
 * a code may be used by a customer at a given time (the one verdict function). Issuing codes to
 * customers, revoking and wallets are in coupons_wallet.c. */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* Crockford's base32: digits and letters without I, L, O, U (easy to misread or offensive). */
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
enum { RANDOM_SYMBOLS = 12, GROUP = 4, MAX_PREFIX = 8 };

static const char *const coupon_messages[] = {
#define PERK_STORE_COUPON_MSG(name, key, msg) msg,
    PERK_STORE_COUPON_STATUS_LIST(PERK_STORE_COUPON_MSG)
#undef PERK_STORE_COUPON_MSG
};

static const char *const coupon_keys[] = {
#define PERK_STORE_COUPON_KEY(name, key, msg) key,
    PERK_STORE_COUPON_STATUS_LIST(PERK_STORE_COUPON_KEY)
#undef PERK_STORE_COUPON_KEY
};

const char *perk_store_coupon_status_message(perk_store_coupon_status status)
{
    if ((unsigned)status >= sizeof coupon_messages / sizeof coupon_messages[0])
        return "unknown coupon status";
    return coupon_messages[status];
}

const char *perk_store_coupon_status_key(perk_store_coupon_status status)
{
    if ((unsigned)status >= sizeof coupon_keys / sizeof coupon_keys[0]) return "unknown";
    return coupon_keys[status];
}

static int getrandom_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t got = getrandom(p, len, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += got;
        len -= (size_t)got;
    }
    return 0;
}

int (*pstore_random_bytes)(void *buf, size_t len) = getrandom_bytes;

static int symbol_value(char c)
{
    const char *p = c ? strchr(crockford, c) : NULL;
    return p ? (int)(p - crockford) : -1;
}

/* Luhn mod N with N = 32: detects every single-symbol error and nearly all transpositions of
 * adjacent symbols. Returns the symbol that makes the weighted sum a multiple of 32. */
char pstore_check_symbol(const char *symbols, size_t n)
{
    int factor = 2, sum = 0;
    for (size_t i = n; i-- > 0;) {
        int addend = factor * symbol_value(symbols[i]);
        factor = factor == 2 ? 1 : 2;
        sum += addend / 32 + addend % 32;
    }
    return crockford[(32 - sum % 32) % 32];
}

perk_store_status perk_store_coupon_normalize(const char *code, char out[PERK_STORE_CODE_MAX])
{
    size_t n = 0;
    out[0] = '\0';
    if (!code) return PERK_STORE_INVALID;
    for (const char *p = code; *p; p++) {
        char c = *p;
        if (c == '-' || c == ' ' || c == '\t') continue;
        if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return PERK_STORE_INVALID;
        if (n + 1 >= PERK_STORE_CODE_MAX) return PERK_STORE_INVALID;
        out[n++] = c;
    }
    out[n] = '\0';
    return n ? PERK_STORE_OK : PERK_STORE_INVALID;
}

static perk_store_status check_limits(perk_store *s, int64_t expires_at, int max_uses, int max_per_customer)
{
    if (expires_at < 0) return pstore_fail(s, PERK_STORE_INVALID, "expiry time must be >= 0 (0 = never)");
    if (max_uses < 0 || max_per_customer < 0)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "coupon use limits must be >= 0 (0 = unlimited), got %d and %d", max_uses,
                           max_per_customer);
    return PERK_STORE_OK;
}

typedef struct coupon_add_ctx {
    const char *norm, *campaign, *only_customer;
    int64_t expires_at, now;
    int max_uses, max_per_customer;
} coupon_add_ctx;

/* perk_store_coupon_add's write transaction (may run again: it only writes in it). */
static perk_store_status coupon_add_body(perk_store *s, void *arg)
{
    const coupon_add_ctx *c = arg;
    const char *norm = c->norm, *campaign = c->campaign, *only_customer = c->only_customer;
    int64_t expires_at = c->expires_at, now = c->now;
    int max_uses = c->max_uses, max_per_customer = c->max_per_customer;
    perk_store_status status;
    pstore_st *st = pstore_stmt(s, "INSERT INTO coupons (code, campaign, created_at, expires_at, "
                                   "max_uses, max_per_customer, only_customer) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (code) DO NOTHING");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, norm);
    pstore_bind_text(st, 2, campaign);
    pstore_bind_int64(st, 3, now);
    pstore_bind_int64(st, 4, expires_at);
    pstore_bind_int64(st, 5, max_uses);
    pstore_bind_int64(st, 6, max_per_customer);
    pstore_bind_text(st, 7, only_customer);
    status = pstore_step_done(s, st, "inserting the coupon");
    if (status == PERK_STORE_OK && pstore_changes(s) == 0) /* the code exists */
        status = pstore_fail(s, PERK_STORE_CONFLICT, "coupon %s already exists", norm);
    return status;
}

perk_store_status perk_store_coupon_add(perk_store *s, const char *code, const char *campaign,
                                        int64_t expires_at, int max_uses, int max_per_customer,
                                        const char *only_customer, int64_t now)
{
    if (!s) return PERK_STORE_INVALID;
    char norm[PERK_STORE_CODE_MAX];
    if (perk_store_coupon_normalize(code, norm) != PERK_STORE_OK)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "coupon code \"%.80s\" is not 1..%d letters, digits or '_' (dashes and "
                           "spaces are ignored)",
                           code ? code : "(null)", PERK_STORE_CODE_MAX - 1);
    perk_store_status status = pstore_check_name(s, "campaign", campaign, PERK_STORE_NAME_MAX - 1);
    if (status == PERK_STORE_OK && only_customer)
        status = pstore_check_name(s, "customer id", only_customer, 255);
    if (status == PERK_STORE_OK) status = check_limits(s, expires_at, max_uses, max_per_customer);
    if (status != PERK_STORE_OK) return status;
    coupon_add_ctx c = { .norm = norm, .campaign = campaign, .only_customer = only_customer,
                         .expires_at = expires_at, .now = now, .max_uses = max_uses,
                         .max_per_customer = max_per_customer };
    return pstore_write_txn(s, "adding a coupon", "committing the coupon", coupon_add_body, &c);
}

/* Buffered random bytes, so 10,000 codes need a few dozen getrandom calls. */
typedef struct random_pool {
    unsigned char buf[512];
    size_t pos, len;
} random_pool;

static int pool_byte(random_pool *p, unsigned char *out)
{
    if (p->pos == p->len) {
        if (pstore_random_bytes(p->buf, sizeof p->buf) != 0) return -1;
        p->pos = 0;
        p->len = sizeof p->buf;
    }
    *out = p->buf[p->pos++];
    return 0;
}

/* A uniform value in [0, n) for n <= 256, rejecting the bytes that would bias the result
 * (none when n divides 256, as 32 does, but the rule stays right if the alphabet changes). */
static int pool_uniform(random_pool *p, unsigned n, unsigned *out)
{
    unsigned limit = 256 - 256 % n;
    unsigned char b;
    do {
        if (pool_byte(p, &b) != 0) return -1;
    } while (b >= limit);
    *out = b % n;
    return 0;
}

/* Formats prefix + 12 random symbols + check into "PREFIX-XXXX-XXXX-XXXX-C" and the
 * normalised form. */
static int make_code(random_pool *pool, const char *prefix, char *formatted, size_t fsize,
                     char norm[PERK_STORE_CODE_MAX])
{
    char symbols[RANDOM_SYMBOLS + 1];
    for (int i = 0; i < RANDOM_SYMBOLS; i++) {
        unsigned v;
        if (pool_uniform(pool, 32, &v) != 0) return -1;
        symbols[i] = crockford[v];
    }
    symbols[RANDOM_SYMBOLS] = '\0';
    char check = pstore_check_symbol(symbols, RANDOM_SYMBOLS);
    size_t n = 0;
    if (*prefix) n += (size_t)snprintf(formatted + n, fsize - n, "%s-", prefix);
    for (int g = 0; g < RANDOM_SYMBOLS; g += GROUP)
        n += (size_t)snprintf(formatted + n, fsize - n, "%.4s-", symbols + g);
    snprintf(formatted + n, fsize - n, "%c", check);
    snprintf(norm, PERK_STORE_CODE_MAX, "%s%s%c", prefix, symbols, check);
    return 0;
}

enum { CODE_TEXT = MAX_PREFIX + 1 + RANDOM_SYMBOLS + RANDOM_SYMBOLS / GROUP + 2 };

perk_store_status perk_store_coupons_generate(perk_store *s, const char *campaign, const char *prefix,
                                              int count, int64_t expires_at, int max_uses,
                                              int max_per_customer, int64_t now, perk_store_code_cb cb,
                                              void *ctx)
{
    if (!s) return PERK_STORE_INVALID;
    perk_store_status status = pstore_check_name(s, "campaign", campaign, PERK_STORE_NAME_MAX - 1);
    if (status == PERK_STORE_OK) status = check_limits(s, expires_at, max_uses, max_per_customer);
    if (status != PERK_STORE_OK) return status;
    if (count < 1 || count > 1000000)
        return pstore_fail(s, PERK_STORE_INVALID, "code count must be 1..1000000, got %d", count);
    char pfx[MAX_PREFIX + 1] = "";
    if (prefix && *prefix) {
        char norm[PERK_STORE_CODE_MAX];
        bool ok = perk_store_coupon_normalize(prefix, norm) == PERK_STORE_OK && strlen(norm) <= MAX_PREFIX &&
                  !strchr(norm, '_');
        if (!ok)
            return pstore_fail(s, PERK_STORE_INVALID, "code prefix \"%.40s\" must be 1..%d letters or digits",
                               prefix, MAX_PREFIX);
        memcpy(pfx, norm, strlen(norm) + 1);
    }
    char(*codes)[CODE_TEXT] = calloc((size_t)count, sizeof *codes);
    if (!codes) return pstore_fail(s, PERK_STORE_NOMEM, "out of memory for %d codes", count);

    /* Not a pstore_write_txn body: the codes reach the caller before the commit, so a second
     * run would hand out a second set. */
    status = pstore_begin(s, true, "generating coupons");
    if (status != PERK_STORE_OK) {
        free(codes);
        return status;
    }
    pstore_st *st = pstore_stmt(s, "INSERT INTO coupons (code, campaign, created_at, "
                                   "expires_at, max_uses, max_per_customer, only_customer) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL) ON CONFLICT (code) DO NOTHING");
    if (!st) {
        status = pstore_stmt_status(s);
        goto fail;
    }
    random_pool pool = { .pos = 0, .len = 0 };
    for (int i = 0; i < count; i++) {
        bool inserted = false;
        /* 60 random bits per code: a collision is rare; 32 in a row means the random source
         * is broken, not bad luck. */
        for (int attempt = 0; attempt < 32 && !inserted; attempt++) {
            char norm[PERK_STORE_CODE_MAX];
            if (make_code(&pool, pfx, codes[i], sizeof codes[i], norm) != 0) {
                status = pstore_fail(s, PERK_STORE_IO, "getrandom failed: %s", strerror(errno));
                goto fail;
            }
            pstore_bind_text(st, 1, norm);
            pstore_bind_text(st, 2, campaign);
            pstore_bind_int64(st, 3, now);
            pstore_bind_int64(st, 4, expires_at);
            pstore_bind_int64(st, 5, max_uses);
            pstore_bind_int64(st, 6, max_per_customer);
            int rc = pstore_step(st);
            pstore_done(st);
            if (rc != PSTORE_DONE) {
                status = pstore_sqlfail(s, rc, "inserting generated coupons");
                goto fail;
            }
            inserted = pstore_changes(s) == 1; /* 0: the code exists, draw another */
        }
        if (!inserted) {
            status = pstore_fail(s, PERK_STORE_CONFLICT,
                                 "could not find an unused code after 32 attempts; the random "
                                 "source looks broken");
            goto fail;
        }
    }
    pstore_done(st);
    st = NULL;
    /* Hand the codes out before the commit: codes nobody received must not exist. */
    for (int i = 0; cb && i < count; i++)
        if (cb(codes[i], ctx) != 0) {
            status = pstore_fail(s, PERK_STORE_IO,
                                 "handing the codes out failed at code %d of %d, "
                                 "so they were rolled back",
                                 i + 1, count);
            goto fail;
        }
    status = pstore_commit(s, "committing generated coupons");
    if (status != PERK_STORE_OK) {
        pstore_add_context(s, "; no code was created (any code already shown is void)");
        free(codes);
        return status;
    }
    free(codes);
    return PERK_STORE_OK;
fail:
    pstore_done(st);
    pstore_rollback(s);
    pstore_add_context(s, "; no code was created");
    free(codes);
    return status;
}

perk_store_status pstore_coupon_insert_generated(perk_store *s, const char *campaign, const char *customer,
                                                 int64_t now, int64_t valid_from, int64_t expires_at,
                                                 char norm[PERK_STORE_CODE_MAX])
{
    pstore_st *st = pstore_stmt(s, "INSERT INTO coupons (code, campaign, created_at, expires_at, max_uses, "
                                   "max_per_customer, only_customer, valid_from) "
                                   "VALUES (?1, ?2, ?3, ?4, 1, 1, ?5, ?6) ON CONFLICT (code) DO NOTHING");
    if (!st) return pstore_stmt_status(s);
    random_pool pool = { .pos = 0, .len = 0 };
    char formatted[CODE_TEXT];
    /* 60 random bits: a collision is rare; 32 in a row means the random source is broken */
    for (int attempt = 0; attempt < 32; attempt++) {
        if (make_code(&pool, "", formatted, sizeof formatted, norm) != 0)
            return pstore_fail(s, PERK_STORE_IO, "getrandom failed: %s", strerror(errno));
        pstore_bind_text(st, 1, norm);
        pstore_bind_text(st, 2, campaign);
        pstore_bind_int64(st, 3, now);
        pstore_bind_int64(st, 4, expires_at);
        pstore_bind_text(st, 5, customer);
        pstore_bind_int64(st, 6, valid_from);
        int rc = pstore_step(st);
        pstore_done(st);
        if (rc != PSTORE_DONE) return pstore_sqlfail(s, rc, "inserting a reward coupon");
        if (pstore_changes(s) == 1) return PERK_STORE_OK;
    }
    return pstore_fail(s, PERK_STORE_CONFLICT,
                       "could not find an unused code after 32 attempts; the random source looks broken");
}

/* Shaped like a generated code (ends in 12 base32 symbols + check) but the check fails. */
static bool looks_mistyped(const char *norm)
{
    size_t n = strlen(norm);
    if (n < RANDOM_SYMBOLS + 1) return false;
    const char *tail = norm + n - (RANDOM_SYMBOLS + 1);
    for (int i = 0; i <= RANDOM_SYMBOLS; i++)
        if (symbol_value(tail[i]) < 0) return false;
    return pstore_check_symbol(tail, RANDOM_SYMBOLS) != tail[RANDOM_SYMBOLS];
}

perk_store_status pstore_coupon_lookup(perk_store *s, const char *norm, const char *customer, int64_t now,
                                       perk_store_coupon_info *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->code, sizeof out->code, "%s", norm);
    out->status = PERK_STORE_COUPON_UNKNOWN;
    pstore_st *st = pstore_stmt(s, "SELECT campaign, expires_at, max_uses, max_per_customer, "
                                      "only_customer, uses, created_at, valid_from, revoked_at, "
                                      "revoked_by, revoke_reason FROM coupons WHERE code = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, norm);
    int rc = pstore_step(st);
    if (rc == PSTORE_DONE) {
        pstore_done(st);
        out->check_symbol_mismatch = looks_mistyped(norm);
        return PERK_STORE_OK;
    }
    if (rc != PSTORE_ROW) {
        perk_store_status status = pstore_sqlfail(s, rc, "looking up a coupon");
        pstore_done(st);
        return status;
    }
    const char *campaign = pstore_col_text(st, 0);
    snprintf(out->campaign, sizeof out->campaign, "%s", campaign ? (const char *)campaign : "");
    out->expires_at = pstore_col_int64(st, 1);
    out->max_uses = pstore_col_int64(st, 2);
    out->max_per_customer = pstore_col_int64(st, 3);
    const char *only = pstore_col_text(st, 4);
    out->restricted = only != NULL;
    bool other_customer = only && (!customer || strcmp((const char *)only, customer) != 0);
    out->uses = pstore_col_int64(st, 5);
    out->created_at = pstore_col_int64(st, 6);
    out->valid_from = pstore_col_int64(st, 7);
    out->revoked_at = pstore_col_int64(st, 8);
    const char *by = pstore_col_text(st, 9), *why = pstore_col_text(st, 10);
    snprintf(out->revoked_by, sizeof out->revoked_by, "%s", by ? (const char *)by : "");
    snprintf(out->revoke_reason, sizeof out->revoke_reason, "%s", why ? (const char *)why : "");
    pstore_done(st);

    if (customer) {
        st = pstore_stmt(s, "SELECT COUNT(*) FROM coupon_uses WHERE code = ?1 AND customer_id = ?2 "
                            "AND released_at IS NULL");
        if (!st) return pstore_stmt_status(s);
        pstore_bind_text(st, 1, norm);
        pstore_bind_text(st, 2, customer);
        perk_store_status status = pstore_query_int(s, st, 0, &out->customer_uses, "counting coupon uses");
        if (status != PERK_STORE_OK) return status;
    }
    /* uses held by open reservations count as uses (committed + held <= max) */
    int64_t held = 0, held_customer = 0;
    perk_store_status hst = pstore_held_coupon(s, norm, customer, now, &held, &held_customer);
    if (hst != PERK_STORE_OK) return hst;
    out->uses += held;
    if (customer) out->customer_uses += held_customer;
    out->status = pstore_coupon_verdict(out, other_customer, now);
    return PERK_STORE_OK;
}

perk_store_coupon_status pstore_coupon_verdict(perk_store_coupon_info *info, bool other_customer, int64_t now)
{
    perk_store_coupon_status v;
    if (info->revoked_at != 0)
        v = PERK_STORE_COUPON_REVOKED;
    else if (now < info->valid_from)
        v = PERK_STORE_COUPON_NOT_YET_VALID;
    else if (info->expires_at != 0 && now >= info->expires_at)
        v = PERK_STORE_COUPON_EXPIRED;
    else if (other_customer)
        v = PERK_STORE_COUPON_NOT_FOR_CUSTOMER;
    else if (info->max_uses != 0 && info->uses >= info->max_uses)
        v = PERK_STORE_COUPON_USED_UP;
    else if (info->max_per_customer != 0 && info->customer_uses >= info->max_per_customer)
        v = PERK_STORE_COUPON_NOT_FOR_CUSTOMER;
    else
        v = PERK_STORE_COUPON_VALID;
    info->uses_left = 0;
    if (v == PERK_STORE_COUPON_VALID) {
        int64_t left = -1; /* no limit */
        if (info->max_uses != 0) left = info->max_uses - info->uses;
        if (info->max_per_customer != 0 && (left < 0 || info->max_per_customer - info->customer_uses < left))
            left = info->max_per_customer - info->customer_uses;
        info->uses_left = left;
    }
    return v;
}

perk_store_status perk_store_coupon_check(perk_store *s, const char *code, const char *customer_id,
                                          int64_t now, perk_store_coupon_info *out)
{
    if (!s || !out) return s ? pstore_fail(s, PERK_STORE_INVALID, "no output given") : PERK_STORE_INVALID;
    memset(out, 0, sizeof *out);
    out->status = PERK_STORE_COUPON_UNKNOWN;
    if (!code) return pstore_fail(s, PERK_STORE_INVALID, "no coupon code given");
    char norm[PERK_STORE_CODE_MAX];
    if (perk_store_coupon_normalize(code, norm) != PERK_STORE_OK)
        return PERK_STORE_OK; /* garbage typed by a customer is simply not a known code */
    if (customer_id && !*customer_id) customer_id = NULL;
    /* One read transaction so the coupon row and its use count agree. */
    perk_store_status status = pstore_begin(s, false, "checking a coupon");
    if (status != PERK_STORE_OK) return status;
    status = pstore_coupon_lookup(s, norm, customer_id, now, out);
    if (status != PERK_STORE_OK) {
        pstore_rollback(s);
        return status;
    }
    return pstore_commit(s, "finishing the coupon check");
}
