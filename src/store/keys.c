/* keys.c - API keys of `perk serve`: created with a scope, stored as SHA-256 hashes only (the
 * key itself is shown once, to its creator), looked up by hash on every request.
 *
 * The api_keys table is part of the schema (migration step 7); before that it was created on
 * first use, which is why that step says IF NOT EXISTS. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

perk_store_status perk_store_keys_prepare(perk_store *s)
{
    /* the migration made the table; kept so that callers written before it need no change */
    return s ? PERK_STORE_OK : PERK_STORE_INVALID;
}

static bool valid_scope(const char *scope)
{
    return scope &&
           (strcmp(scope, "read") == 0 || strcmp(scope, "checkout") == 0 || strcmp(scope, "operator") == 0);
}

perk_store_status perk_store_key_create(perk_store *s, const char *scope, const char *name, int64_t now,
                                        char key_out[PERK_STORE_KEY_MAX], int64_t *id_out)
{
    if (!valid_scope(scope))
        return pstore_fail(s, PERK_STORE_INVALID, "scope must be read, checkout or operator, not \"%s\"",
                           scope ? scope : "");
    perk_store_status st = pstore_check_name(s, "key name", name, 255);
    if (st != PERK_STORE_OK) return st;
    unsigned char raw[24];
    if (pstore_random_bytes(raw, sizeof raw) != 0)
        return pstore_fail(s, PERK_STORE_IO, "no random bytes for a key (getrandom failed)");
    /* "perk_" + 48 hex digits: 192 bits, so the unsalted hash cannot be searched */
    char key[PERK_STORE_KEY_MAX];
    memcpy(key, "perk_", 5);
    for (size_t i = 0; i < sizeof raw; i++) snprintf(key + 5 + 2 * i, 3, "%02x", raw[i]);
    char hash[65];
    perk_store_sha256_hex(key, strlen(key), hash);
    char prefix[PERK_STORE_KEY_PREFIX_LEN + 1];
    memcpy(prefix, key, PERK_STORE_KEY_PREFIX_LEN);
    prefix[PERK_STORE_KEY_PREFIX_LEN] = '\0';
    pstore_st *q = pstore_stmt(
        s, "INSERT INTO api_keys (hash, prefix, scope, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_text(q, 1, hash);
    pstore_bind_text(q, 2, prefix);
    pstore_bind_text(q, 3, scope);
    pstore_bind_text(q, 4, name);
    pstore_bind_int64(q, 5, now);
    int64_t id = 0;
    if ((st = pstore_query_int(s, q, 0, &id, "storing an API key")) != PERK_STORE_OK) return st;
    if (id_out) *id_out = id;
    memcpy(key_out, key, strlen(key) + 1);
    memset(key, 0, sizeof key);
    return PERK_STORE_OK;
}

perk_store_status perk_store_key_lookup(perk_store *s, const char *key, perk_store_key_info *out)
{
    memset(out, 0, sizeof *out);
    if (!key || !*key || strlen(key) >= PERK_STORE_KEY_MAX)
        return PERK_STORE_OK; /* not found: no key is that long */
    char hash[65];
    perk_store_sha256_hex(key, strlen(key), hash);
    pstore_st *q =
        pstore_stmt(s, "SELECT id, prefix, scope FROM api_keys WHERE hash = ?1 AND revoked_at IS NULL");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_text(q, 1, hash);
    int rc = pstore_step(q);
    if (rc == PSTORE_ROW) {
        out->found = true;
        out->id = pstore_col_int64(q, 0);
        const char *p = pstore_col_text(q, 1), *sc = pstore_col_text(q, 2);
        snprintf(out->prefix, sizeof out->prefix, "%s", p ? (const char *)p : "");
        snprintf(out->scope, sizeof out->scope, "%s", sc ? (const char *)sc : "");
        rc = PSTORE_DONE;
    }
    perk_store_status st = rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(s, rc, "looking up an API key");
    pstore_done(q);
    return st;
}

perk_store_status perk_store_key_revoke(perk_store *s, int64_t id, int64_t now)
{
    perk_store_status st;
    pstore_st *q =
        pstore_stmt(s, "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_int64(q, 1, id);
    pstore_bind_int64(q, 2, now);
    if ((st = pstore_step_done(s, q, "revoking an API key")) != PERK_STORE_OK) return st;
    if (pstore_changes(s) == 0)
        return pstore_fail(s, PERK_STORE_NOT_FOUND, "no active API key with id %lld", (long long)id);
    return PERK_STORE_OK;
}
