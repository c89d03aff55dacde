/* copy.c - perk db copy: every row of one store into another, empty one, whatever their backends
 * (SQLite to PostgreSQL to move a shop onto several nodes, or back). The tables go in dependency
 * order (a row's references are copied before it) with their ids as they are, in one read
 * transaction on the source and one write transaction on the target; PostgreSQL's identity
 * sequences are then moved past the copied ids. */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every table of the schema (SQLite version 13, PostgreSQL version 6), referenced tables first;
 * `id` says whether its key is a generated id (ordered by it, and a sequence to move on PG). */
static const struct copy_table {
    const char *name;
    bool id;
} copy_tables[] = {
    { "versions", true },         { "activations", true },   { "coupons", false },
    { "orders", false },          { "coupon_uses", true },   { "budget_uses", true },
    { "points_debts", true },     { "ledger", true },        { "refunds", false },
    { "tier_state", false },      { "events", true },        { "budget_totals", false },
    { "consumers", false },       { "order_lines", false },  { "refund_lines", false },
    { "customers", false },       { "reservations", false }, { "reservation_holds", true },
    { "api_keys", true },         { "console_users", true }, { "console_sessions", false },
    { "audit_log", true },        { "reward_coupons", false }, { "drafts", false },
};
#define COPY_N_TABLES (sizeof copy_tables / sizeof copy_tables[0])
#define COPY_MAX_COLS 64

typedef enum copy_type { COPY_INT, COPY_TEXT, COPY_BLOB } copy_type;

typedef struct copy_cols {
    int n;
    char names[COPY_MAX_COLS][64];
    copy_type types[COPY_MAX_COLS];
} copy_cols;

static bool copy_known(const char *table)
{
    for (size_t i = 0; i < COPY_N_TABLES; i++)
        if (strcmp(copy_tables[i].name, table) == 0) return true;
    return false;
}

/* Refuses a store with a table this list does not know (a newer schema): it would be left out. */
static perk_store_status copy_check_tables(perk_store *s, const char *which)
{
    pstore_st *st = s->backend == PSTORE_BACKEND_SQLITE
                        ? pstore_stmt(s, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                        : pstore_stmt(s, "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                         "current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'perk_schema'");
    if (!st) return pstore_stmt_status(s);
    int rc;
    perk_store_status status = PERK_STORE_OK;
    while ((rc = pstore_step(st)) == PSTORE_ROW) {
        const char *t = pstore_col_text(st, 0);
        if (t && !copy_known(t)) {
            status = pstore_fail(s, PERK_STORE_INVALID,
                                 "the %s store has a table this perk does not know (%s): a newer perk must copy it",
                                 which, t);
            break;
        }
    }
    if (status == PERK_STORE_OK && rc != PSTORE_DONE) status = pstore_sqlfail(s, rc, "listing the tables");
    pstore_done(st);
    return status;
}

/* The columns of `table` on the source, with the kind of value each holds. */
static perk_store_status copy_columns(perk_store *s, const char *table, copy_cols *c)
{
    pstore_st *st = s->backend == PSTORE_BACKEND_SQLITE
                        ? pstore_stmt(s, "SELECT name, upper(type) FROM pragma_table_info(?1) ORDER BY cid")
                        : pstore_stmt(s, "SELECT column_name, upper(data_type) FROM information_schema.columns "
                                         "WHERE table_schema = current_schema() AND table_name = ?1 "
                                         "ORDER BY ordinal_position");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, table);
    c->n = 0;
    int rc;
    perk_store_status status = PERK_STORE_OK;
    while ((rc = pstore_step(st)) == PSTORE_ROW) {
        const char *name = pstore_col_text(st, 0), *type = pstore_col_text(st, 1);
        if (!name || !type || c->n == COPY_MAX_COLS || strlen(name) >= sizeof c->names[0] ||
            strspn(name, "abcdefghijklmnopqrstuvwxyz_0123456789") != strlen(name)) {
            status = pstore_fail(s, PERK_STORE_CORRUPT, "table %s: unexpected column \"%s\"", table,
                                 name ? name : "(null)");
            break;
        }
        snprintf(c->names[c->n], sizeof c->names[0], "%s", name);
        c->types[c->n] = strstr(type, "INT") ? COPY_INT
                         : (strstr(type, "BLOB") || strstr(type, "BYTEA")) ? COPY_BLOB
                                                                            : COPY_TEXT;
        c->n++;
    }
    if (status == PERK_STORE_OK && rc != PSTORE_DONE) status = pstore_sqlfail(s, rc, "listing the columns");
    pstore_done(st);
    if (status == PERK_STORE_OK && c->n == 0)
        status = pstore_fail(s, PERK_STORE_CORRUPT, "the source store has no table %s", table);
    return status;
}

/* "SELECT "a", "b" FROM t ORDER BY id" and "INSERT INTO t ("a", "b") VALUES (?1, ?2)". */
static bool copy_sql(const struct copy_table *t, const copy_cols *c, char *sel, size_t nsel, char *ins, size_t nins)
{
    size_t a = (size_t)snprintf(sel, nsel, "SELECT ");
    size_t b = (size_t)snprintf(ins, nins, "INSERT INTO %s (", t->name);
    for (int i = 0; i < c->n && a < nsel && b < nins; i++) {
        a += (size_t)snprintf(sel + a, nsel - a, "%s\"%s\"", i ? ", " : "", c->names[i]);
        b += (size_t)snprintf(ins + b, nins - b, "%s\"%s\"", i ? ", " : "", c->names[i]);
    }
    if (a < nsel) a += (size_t)snprintf(sel + a, nsel - a, " FROM %s ORDER BY %s", t->name, t->id ? "id" : "1");
    if (b < nins) b += (size_t)snprintf(ins + b, nins - b, ") VALUES (");
    for (int i = 0; i < c->n && b < nins; i++) b += (size_t)snprintf(ins + b, nins - b, "%s?%d", i ? ", " : "", i + 1);
    if (b < nins) b += (size_t)snprintf(ins + b, nins - b, ")");
    return a < nsel && b < nins;
}

static perk_store_status copy_count(perk_store *s, const char *table, int64_t *n)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
    pstore_st *st = pstore_prepare(s, sql);
    if (!st) return pstore_stmt_status(s);
    perk_store_status status = pstore_query_int(s, st, 0, n, "counting the rows");
    pstore_finalize(st);
    return status;
}

/* A failure on the source, reported on the target's handle (where perk_store_copy reports). */
static perk_store_status copy_source_failed(perk_store *from, perk_store *to, perk_store_status status)
{
    return pstore_fail(to, status, "the source store: %s", perk_store_errmsg(from));
}

/* One table's rows from `from` into `to`, both in their transactions; *rows gets the count. */
static perk_store_status copy_table(perk_store *from, perk_store *to, const struct copy_table *t, int64_t *rows)
{
    *rows = 0;
    copy_cols c;
    perk_store_status status = copy_columns(from, t->name, &c);
    if (status != PERK_STORE_OK) return copy_source_failed(from, to, status);
    char sel[4096], ins[4096];
    if (!copy_sql(t, &c, sel, sizeof sel, ins, sizeof ins))
        return pstore_fail(to, PERK_STORE_INVALID, "table %s has too many columns to copy", t->name);
    pstore_st *src = pstore_prepare(from, sel);
    if (!src) return copy_source_failed(from, to, pstore_stmt_status(from));
    pstore_st *dst = pstore_prepare(to, ins);
    if (!dst) {
        pstore_finalize(src);
        return pstore_stmt_status(to);
    }
    int rc;
    while ((rc = pstore_step(src)) == PSTORE_ROW) {
        for (int i = 0; i < c.n; i++) {
            if (pstore_col_is_null(src, i)) {
                pstore_bind_null(dst, i + 1);
                continue;
            }
            switch (c.types[i]) {
            case COPY_INT: pstore_bind_int64(dst, i + 1, pstore_col_int64(src, i)); break;
            case COPY_TEXT: pstore_bind_text(dst, i + 1, pstore_col_text(src, i)); break;
            case COPY_BLOB: {
                size_t n = 0;
                const void *p = pstore_col_blob(src, i, &n);
                pstore_bind_blob(dst, i + 1, p ? p : "", n);
                break;
            }
            }
        }
        int wrc = pstore_step(dst);
        pstore_done(dst);
        if (wrc != PSTORE_DONE) {
            status = pstore_sqlfail(to, wrc, "inserting a row");
            pstore_add_context(to, " (table %s, row %lld)", t->name, (long long)*rows + 1);
            break;
        }
        (*rows)++;
    }
    if (status == PERK_STORE_OK && rc != PSTORE_DONE) {
        status = pstore_sqlfail(from, rc, "reading the rows");
        pstore_add_context(from, " of %s", t->name);
        copy_source_failed(from, to, status);
    }
    pstore_finalize(dst);
    pstore_finalize(src);
    return status;
}

/* PostgreSQL: the identity sequence of a table with ids continues after the largest copied. */
static perk_store_status copy_setval(perk_store *to, const char *table)
{
    if (to->backend != PSTORE_BACKEND_PG) return PERK_STORE_OK; /* SQLite: max(rowid) + 1 anyway */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT setval(pg_get_serial_sequence('%s', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM %s", table,
             table);
    pstore_st *st = pstore_prepare(to, sql);
    if (!st) return pstore_stmt_status(to);
    int64_t ignored = 0;
    perk_store_status status = pstore_query_int(to, st, 0, &ignored, "moving the id sequence on");
    pstore_finalize(st);
    if (status != PERK_STORE_OK) pstore_add_context(to, " of %s", table);
    return status;
}

perk_store_status perk_store_copy(perk_store *from, perk_store *to, perk_store_copy_cb cb, void *ctx)
{
    if (!from || !to) return PERK_STORE_INVALID;
    if (from == to) return pstore_fail(to, PERK_STORE_INVALID, "cannot copy a store onto itself");
    if (to->readonly) return pstore_fail(to, PERK_STORE_INVALID, "the target store was opened read-only");
    perk_store_status status = copy_check_tables(from, "source");
    if (status != PERK_STORE_OK) return copy_source_failed(from, to, status);
    status = copy_check_tables(to, "target");
    if (status != PERK_STORE_OK) return status;
    status = pstore_begin(from, false, "starting to read the source store");
    if (status != PERK_STORE_OK) return copy_source_failed(from, to, status);
    status = pstore_begin(to, true, "starting to write the target store");
    if (status != PERK_STORE_OK) {
        pstore_rollback(from);
        return status;
    }
    int64_t counts[COPY_N_TABLES] = { 0 };
    /* the target must be empty: a copy never merges two shops */
    for (size_t i = 0; i < COPY_N_TABLES && status == PERK_STORE_OK; i++) {
        int64_t n = 0;
        status = copy_count(to, copy_tables[i].name, &n);
        if (status == PERK_STORE_OK && n > 0)
            status = pstore_fail(to, PERK_STORE_CONFLICT,
                                 "the target store already holds data (%lld rows in %s): db copy only fills an "
                                 "empty store",
                                 (long long)n, copy_tables[i].name);
    }
    for (size_t i = 0; i < COPY_N_TABLES && status == PERK_STORE_OK; i++) {
        status = copy_table(from, to, &copy_tables[i], &counts[i]);
        if (status == PERK_STORE_OK && copy_tables[i].id) status = copy_setval(to, copy_tables[i].name);
    }
    if (status == PERK_STORE_OK) status = pstore_commit(to, "committing the copy");
    pstore_rollback(from); /* a read transaction: nothing to commit */
    if (status != PERK_STORE_OK) {
        pstore_rollback(to);
        pstore_add_context(to, "; nothing was copied");
        return status;
    }
    if (cb)
        for (size_t i = 0; i < COPY_N_TABLES; i++) cb(copy_tables[i].name, counts[i], ctx);
    return PERK_STORE_OK;
}
