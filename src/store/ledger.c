/* ledger.c - the append-only points ledger: appending entries, replaying a customer's
 * entries into "lots" (what is left of each earning), expiry (oldest points first), refund
 * debts, and the derived views: balance, pending, expiring soon, history.
 *
 * Nothing stores a balance: every figure is computed from the entries. An entry counts towards
 * the balance from its available_at; earn entries are lots, debits take from lots either by
 * reference (ref_id: expiry, refund reversal, debt collection) or oldest first (redeem). */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

perk_store_status pstore_ledger_append(perk_store *s, const pstore_entry *e, int64_t *id_out)
{
    pstore_st *st =
        pstore_stmt(s, "INSERT INTO ledger (order_id, customer_id, kind, points, created_at, available_at, "
                       "expires_at, rule_id, note, ref_id, debt_id) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, e->order_id);
    pstore_bind_text(st, 2, e->customer_id);
    pstore_bind_text(st, 3, e->kind);
    pstore_bind_int64(st, 4, e->points);
    pstore_bind_int64(st, 5, e->created_at);
    pstore_bind_int64(st, 6, e->available_at);
    pstore_bind_int64(st, 7, e->expires_at);
    pstore_bind_text(st, 8, e->rule_id);
    pstore_bind_text(st, 9, e->note);
    if (e->ref_id) pstore_bind_int64(st, 10, e->ref_id);
    if (e->debt_id) pstore_bind_int64(st, 11, e->debt_id);
    int64_t id = 0;
    perk_store_status status = pstore_query_int(s, st, 0, &id, "writing a ledger entry");
    if (status == PERK_STORE_OK && id_out) *id_out = id;
    return status;
}

perk_store_status pstore_ledger_sums(perk_store *s, const char *customer, int64_t now, int64_t *available,
                                     int64_t *pending)
{
    pstore_st *st = pstore_stmt(s, "SELECT COALESCE(SUM(CASE WHEN available_at <= ?2 THEN points END), 0),"
                                      " COALESCE(SUM(CASE WHEN available_at > ?2 THEN points END), 0)"
                                      " FROM ledger WHERE customer_id = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, customer);
    pstore_bind_int64(st, 2, now);
    int rc = pstore_step(st);
    if (rc != PSTORE_ROW) {
        perk_store_status status = pstore_sqlfail(s, rc, "summing the points ledger");
        pstore_done(st);
        return status;
    }
    *available = pstore_col_int64(st, 0);
    *pending = pstore_col_int64(st, 1);
    pstore_done(st);
    return PERK_STORE_OK;
}

/* ------------------------------------------------------------------ replay */

typedef struct raw_entry {
    int64_t id, points, created_at, available_at, expires_at, ref_id;
    bool is_expire;
} raw_entry;

void pstore_replay_free(pstore_replay *r)
{
    free(r->lots);
    memset(r, 0, sizeof *r);
}

pstore_lot *pstore_replay_find(pstore_replay *r, int64_t entry_id)
{
    size_t lo = 0, hi = r->n_lots;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->lots[mid].entry_id < entry_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n_lots && r->lots[lo].entry_id == entry_id ? &r->lots[lo] : NULL;
}

/* Lots ordered by age for oldest-first spending. */
typedef struct lot_age {
    int64_t available_at, entry_id;
    size_t index;
} lot_age;

static int lot_age_cmp(const void *a, const void *b)
{
    const lot_age *x = a, *y = b;
    if (x->available_at != y->available_at) return x->available_at < y->available_at ? -1 : 1;
    return x->entry_id < y->entry_id ? -1 : x->entry_id > y->entry_id;
}

static perk_store_status load_entries(perk_store *s, const char *customer, raw_entry **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    pstore_st *st = pstore_stmt(s, "SELECT id, kind, points, created_at, available_at, "
                                      "expires_at, ref_id FROM ledger WHERE customer_id = ?1 "
                                      "ORDER BY id");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, customer);
    raw_entry *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = pstore_step(st)) == PSTORE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            raw_entry *grown = realloc(rows, ncap * sizeof *grown);
            if (!grown) {
                free(rows);
                pstore_done(st);
                return pstore_fail(s, PERK_STORE_NOMEM, "out of memory replaying the ledger");
            }
            rows = grown;
            cap = ncap;
        }
        const char *kind = pstore_col_text(st, 1);
        rows[n++] = (raw_entry){
            .id = pstore_col_int64(st, 0),
            .points = pstore_col_int64(st, 2),
            .created_at = pstore_col_int64(st, 3),
            .available_at = pstore_col_int64(st, 4),
            .expires_at = pstore_col_int64(st, 5),
            .ref_id = pstore_col_int64(st, 6),
            .is_expire = kind && strcmp((const char *)kind, "expire") == 0,
        };
    }
    perk_store_status status = PERK_STORE_OK;
    if (rc != PSTORE_DONE) status = pstore_sqlfail(s, rc, "reading the points ledger");
    pstore_done(st);
    if (status != PERK_STORE_OK) {
        free(rows);
        return status;
    }
    *out = rows;
    *n_out = n;
    return PERK_STORE_OK;
}

perk_store_status pstore_replay_customer(perk_store *s, const char *customer, pstore_replay *out)
{
    memset(out, 0, sizeof *out);
    raw_entry *rows;
    size_t n;
    perk_store_status status = load_entries(s, customer, &rows, &n);
    if (status != PERK_STORE_OK) return status;
    size_t n_lots = 0;
    for (size_t i = 0; i < n; i++) n_lots += rows[i].points > 0;
    pstore_lot *lots = calloc(n_lots ? n_lots : 1, sizeof *lots);
    lot_age *by_age = calloc(n_lots ? n_lots : 1, sizeof *by_age);
    if (!lots || !by_age) {
        free(rows);
        free(lots);
        free(by_age);
        return pstore_fail(s, PERK_STORE_NOMEM, "out of memory replaying the ledger");
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].points <= 0) continue;
        lots[k] = (pstore_lot){ .entry_id = rows[i].id,
                                .points = rows[i].points,
                                .available_at = rows[i].available_at,
                                .expires_at = rows[i].expires_at,
                                .remaining = rows[i].points };
        by_age[k] = (lot_age){ rows[i].available_at, rows[i].id, k };
        k++;
    }
    qsort(by_age, n_lots, sizeof *by_age, lot_age_cmp);
    out->lots = lots;
    out->n_lots = n_lots;

    size_t first_open = 0; /* by_age index before which every lot is empty */
    for (size_t i = 0; i < n; i++) {
        const raw_entry *e = &rows[i];
        if (e->points >= 0) continue;
        int64_t need = -e->points;
        if (e->ref_id) {
            pstore_lot *lot = pstore_replay_find(out, e->ref_id);
            if (lot) {
                int64_t take = need < lot->remaining ? need : lot->remaining;
                lot->remaining -= take;
                if (e->is_expire) lot->expired += take;
                need -= take;
            }
        }
        /* Oldest available, unexpired lots first. */
        while (first_open < n_lots && lots[by_age[first_open].index].remaining == 0) first_open++;
        for (size_t j = first_open; need > 0 && j < n_lots; j++) {
            pstore_lot *lot = &lots[by_age[j].index];
            if (lot->remaining == 0 || lot->entry_id > e->id) continue;
            if (lot->available_at > e->created_at)
                break; /* sorted by availability: nothing later is available either */
            if (lot->expires_at != 0 && lot->expires_at <= e->created_at) continue;
            int64_t take = need < lot->remaining ? need : lot->remaining;
            lot->remaining -= take;
            need -= take;
        }
        out->unattributed += need;
    }
    free(rows);
    free(by_age);
    return PERK_STORE_OK;
}

/* ------------------------------------------------------------------ expiry */

perk_store_status pstore_expire_customer(perk_store *s, const char *customer, int64_t now, int64_t *expired)
{
    *expired = 0;
    /* Cheap test first: most customers have nothing whose expiry has passed. */
    pstore_st *st = pstore_stmt(s, "SELECT EXISTS (SELECT 1 FROM ledger WHERE customer_id = ?1 "
                                      "AND expires_at <> 0 AND expires_at <= ?2 AND points > 0)");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, customer);
    pstore_bind_int64(st, 2, now);
    int64_t any = 0;
    perk_store_status status = pstore_query_int(s, st, 0, &any, "looking for expired points");
    if (status != PERK_STORE_OK || !any) return status;
    pstore_replay r;
    status = pstore_replay_customer(s, customer, &r);
    if (status != PERK_STORE_OK) return status;
    for (size_t i = 0; i < r.n_lots && status == PERK_STORE_OK; i++) {
        const pstore_lot *lot = &r.lots[i];
        if (lot->expires_at == 0 || lot->expires_at > now || lot->remaining == 0) continue;
        st = pstore_stmt(s, "INSERT INTO ledger (order_id, customer_id, kind, points, created_at, "
                            "available_at, expires_at, ref_id, note) "
                            "SELECT order_id, customer_id, 'expire', ?2, ?3, ?4, 0, id, "
                            "'points not used before their expiry' FROM ledger WHERE id = ?1");
        if (!st) {
            status = pstore_stmt_status(s);
            break;
        }
        pstore_bind_int64(st, 1, lot->entry_id);
        pstore_bind_int64(st, 2, -lot->remaining);
        pstore_bind_int64(st, 3, now);
        pstore_bind_int64(st, 4, lot->expires_at);
        status = pstore_step_done(s, st, "writing an expiry entry");
        *expired += lot->remaining;
    }
    pstore_replay_free(&r);
    return status;
}

/* -------------------------------------------------------------------- debt */

static perk_store_status debt_outstanding(perk_store *s, const char *customer, int64_t *debt)
{
    pstore_st *st =
        pstore_stmt(s, "SELECT (SELECT COALESCE(SUM(points), 0) FROM points_debts WHERE customer_id = ?1)"
                       " + (SELECT COALESCE(SUM(points), 0) FROM ledger WHERE customer_id = ?1"
                       "    AND debt_id IS NOT NULL)");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, customer);
    return pstore_query_int(s, st, 0, debt, "computing the points debt");
}

perk_store_status pstore_collect_debt(perk_store *s, const char *customer, const char *order_id,
                                      int64_t lot_id, int64_t lot_points, int64_t lot_available_at,
                                      int64_t now, int64_t *collected)
{
    *collected = 0;
    pstore_st *st = pstore_stmt(s, "SELECT EXISTS (SELECT 1 FROM points_debts WHERE customer_id = ?1)");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, customer);
    int64_t any = 0;
    perk_store_status status = pstore_query_int(s, st, 0, &any, "looking for points debts");
    if (status != PERK_STORE_OK || !any) return status;
    /* Each debt's open amount, oldest first. */
    st = pstore_stmt(s, "SELECT d.id, d.refund_id, d.points + (SELECT COALESCE(SUM(l.points), 0) "
                        "FROM ledger l WHERE l.customer_id = d.customer_id AND l.debt_id = d.id) "
                        "FROM points_debts d WHERE d.customer_id = ?1 ORDER BY d.id");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, customer);
    enum { MAX_DEBTS = 64 };
    struct {
        int64_t id, open;
        char refund[64];
    } debts[MAX_DEBTS];
    size_t n = 0;
    int rc = PSTORE_DONE;
    while (n < MAX_DEBTS && (rc = pstore_step(st)) == PSTORE_ROW) {
        int64_t open = pstore_col_int64(st, 2);
        if (open <= 0) continue;
        debts[n].id = pstore_col_int64(st, 0);
        debts[n].open = open;
        const char *refund = pstore_col_text(st, 1);
        snprintf(debts[n].refund, sizeof debts[n].refund, "%s", refund ? (const char *)refund : "");
        n++;
    }
    if (n < MAX_DEBTS && rc != PSTORE_DONE) {
        status = pstore_sqlfail(s, rc, "reading points debts");
        pstore_done(st);
        return status;
    }
    pstore_done(st);
    int64_t left = lot_points;
    for (size_t i = 0; i < n && left > 0 && status == PERK_STORE_OK; i++) {
        int64_t take = debts[i].open < left ? debts[i].open : left;
        char note[160];
        snprintf(note, sizeof note, "collects %lld points owed since refund %s", (long long)take,
                 debts[i].refund);
        pstore_entry e = { .order_id = order_id,
                           .customer_id = customer,
                           .kind = "adjust",
                           .note = note,
                           .points = -take,
                           .created_at = now,
                           .available_at = lot_available_at,
                           .ref_id = lot_id,
                           .debt_id = debts[i].id };
        status = pstore_ledger_append(s, &e, NULL);
        left -= take;
        *collected += take;
    }
    return status;
}

/* ------------------------------------------------------------------ events */

perk_store_status pstore_emit_points_changed(perk_store *s, const char *customer, int64_t now,
                                             const pstore_points_delta *d)
{
    int64_t balance = 0, pending = 0, debt = 0;
    perk_store_status status = pstore_ledger_sums(s, customer, now, &balance, &pending);
    if (status == PERK_STORE_OK) status = debt_outstanding(s, customer, &debt);
    if (status != PERK_STORE_OK) return status;
    json_t *ev = json_pack(
        "{s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "customer_id", customer,
        "reason", d->reason, "order_id", d->order_id ? json_string(d->order_id) : json_null(), "refund_id",
        d->refund_id ? json_string(d->refund_id) : json_null(), "earned", (json_int_t)d->earned, "redeemed",
        (json_int_t)d->redeemed, "reversed", (json_int_t)d->reversed, "expired", (json_int_t)d->expired,
        "returned", (json_int_t)d->returned, "debt_collected", (json_int_t)d->debt_collected, "shortfall",
        (json_int_t)d->shortfall, "balance", (json_int_t)balance, "pending", (json_int_t)pending, "debt",
        (json_int_t)debt);
    return pstore_emit(s, "points.changed", now, ev, NULL);
}

/* ---------------------------------------------------------------- public */

perk_store_status perk_store_points(perk_store *s, const char *customer, int64_t now,
                                    const perk_store_policy *policy, perk_store_points_summary *out)
{
    if (!s || !out) return s ? pstore_fail(s, PERK_STORE_INVALID, "no output given") : PERK_STORE_INVALID;
    memset(out, 0, sizeof *out);
    perk_store_status status = pstore_check_name(s, "customer id", customer, 255);
    if (status == PERK_STORE_OK && policy) status = pstore_policy_check(s, policy);
    if (status != PERK_STORE_OK) return status;
    status = pstore_begin(s, false, "reading points");
    if (status != PERK_STORE_OK) return status;
    int64_t available = 0;
    pstore_replay r = { 0 };
    status = pstore_ledger_sums(s, customer, now, &available, &out->pending);
    if (status == PERK_STORE_OK) status = pstore_replay_customer(s, customer, &r);
    if (status == PERK_STORE_OK) {
        /* Points past their expiry count as gone even before the expiry job writes them off. */
        int64_t due = 0;
        for (size_t i = 0; i < r.n_lots; i++) {
            const pstore_lot *lot = &r.lots[i];
            if (lot->remaining == 0 || lot->expires_at == 0 || lot->available_at > now) continue;
            if (lot->expires_at <= now) {
                due += lot->remaining;
                continue;
            }
            if (lot->expires_at - now <= PERK_STORE_EXPIRING_SOON_SECONDS)
                out->expiring_soon += lot->remaining;
            if (out->next_expiry_at == 0 || lot->expires_at < out->next_expiry_at)
                out->next_expiry_at = lot->expires_at;
        }
        out->balance = available - due;
        pstore_replay_free(&r);
    }
    if (status == PERK_STORE_OK) status = debt_outstanding(s, customer, &out->debt);
    if (status == PERK_STORE_OK)
        status = policy ? pstore_tier_compute(s, policy, customer, now, out->tier)
                        : pstore_tier_recorded(s, customer, out->tier);
    if (status != PERK_STORE_OK) {
        pstore_rollback(s);
        return status;
    }
    return pstore_commit(s, "finishing the points read");
}

perk_store_status perk_store_points_history(perk_store *s, const char *customer, perk_store_ledger_cb cb,
                                            void *ctx)
{
    if (!s) return PERK_STORE_INVALID;
    perk_store_status status = pstore_check_name(s, "customer id", customer, 255);
    if (status != PERK_STORE_OK) return status;
    if (!cb) return pstore_fail(s, PERK_STORE_INVALID, "no callback given for the points history");
    pstore_st *st = pstore_stmt(s, "SELECT id, order_id, customer_id, kind, points, created_at, "
                                      "available_at, expires_at, rule_id, note FROM ledger "
                                      "WHERE customer_id = ?1 ORDER BY id");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, customer);
    int rc;
    while ((rc = pstore_step(st)) == PSTORE_ROW) {
        perk_store_ledger_entry e = {
            .id = pstore_col_int64(st, 0),
            .order_id = pstore_col_text(st, 1),
            .customer_id = pstore_col_text(st, 2),
            .kind = pstore_col_text(st, 3),
            .points = pstore_col_int64(st, 4),
            .created_at = pstore_col_int64(st, 5),
            .available_at = pstore_col_int64(st, 6),
            .expires_at = pstore_col_int64(st, 7),
            .rule_id = pstore_col_text(st, 8),
            .note = pstore_col_text(st, 9),
        };
        if (cb(&e, ctx) != 0) {
            rc = PSTORE_DONE;
            break;
        }
    }
    if (rc != PSTORE_DONE) status = pstore_sqlfail(s, rc, "reading the points history");
    pstore_done(st);
    return status;
}

/* A growable list of owned strings. */
typedef struct string_list {
    char **items;
    size_t n, cap;
} string_list;

static void string_list_free(string_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static perk_store_status collect_strings(perk_store *s, pstore_st *st, string_list *out, const char *what)
{
    int rc;
    while ((rc = pstore_step(st)) == PSTORE_ROW) {
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 16;
            char **grown = realloc(out->items, cap * sizeof *grown);
            if (!grown) break;
            out->items = grown;
            out->cap = cap;
        }
        const char *t = pstore_col_text(st, 0);
        char *copy = strdup(t ? (const char *)t : "");
        if (!copy) break;
        out->items[out->n++] = copy;
    }
    perk_store_status status = PERK_STORE_OK;
    if (rc == PSTORE_ROW)
        status = pstore_fail(s, PERK_STORE_NOMEM, "out of memory while %s", what);
    else if (rc != PSTORE_DONE)
        status = pstore_sqlfail(s, rc, what);
    pstore_done(st);
    return status;
}

typedef struct expire_ctx {
    int64_t now;
    const perk_store_policy *policy;
    int64_t total, customers; /* out */
} expire_ctx;

/* perk_store_expire_points's write transaction (may run again: its outputs are set afresh). */
static perk_store_status expire_body(perk_store *s, void *arg)
{
    expire_ctx *c = arg;
    int64_t now = c->now;
    const perk_store_policy *policy = c->policy;
    perk_store_status status;
    string_list who = { 0 }, tiered = { 0 };
    int64_t total = 0, n_customers = 0;
    c->total = c->customers = 0;
    pstore_st *st = pstore_stmt(s, "SELECT DISTINCT customer_id FROM ledger "
                                      "WHERE expires_at <> 0 AND expires_at <= ?1 AND points > 0");
    if (!st) {
        status = pstore_stmt_status(s);
        goto out;
    }
    pstore_bind_int64(st, 1, now);
    status = collect_strings(s, st, &who, "listing customers with expiring points");
    for (size_t i = 0; status == PERK_STORE_OK && i < who.n; i++) {
        int64_t expired = 0;
        status = pstore_expire_customer(s, who.items[i], now, &expired);
        if (status == PERK_STORE_OK && expired > 0) {
            pstore_points_delta d = { .reason = "expire", .expired = expired };
            status = pstore_emit_points_changed(s, who.items[i], now, &d);
            total += expired;
            n_customers++;
        }
    }
    if (status == PERK_STORE_OK && policy && policy->n_tiers > 0) {
        /* Spend leaves the tier windows with time: re-check everyone who has a tier. */
        st = pstore_stmt(s, "SELECT customer_id FROM tier_state WHERE tier <> ''");
        status =
            st ? collect_strings(s, st, &tiered, "listing customers with a tier") : pstore_stmt_status(s);
        for (size_t i = 0; status == PERK_STORE_OK && i < tiered.n; i++) {
            char tier[PERK_STORE_NAME_MAX], previous[PERK_STORE_NAME_MAX];
            bool changed;
            status = pstore_tier_update(s, policy, tiered.items[i], now, "expire", tier, previous, &changed);
        }
    }
    if (status == PERK_STORE_OK) {
        c->total = total;
        c->customers = n_customers;
    }
out:
    string_list_free(&who);
    string_list_free(&tiered);
    return status;
}

perk_store_status perk_store_expire_points(perk_store *s, int64_t now, const perk_store_policy *policy,
                                           int64_t *expired_points, int64_t *customers)
{
    if (!s) return PERK_STORE_INVALID;
    if (expired_points) *expired_points = 0;
    if (customers) *customers = 0;
    perk_store_status status = policy ? pstore_policy_check(s, policy) : PERK_STORE_OK;
    if (status != PERK_STORE_OK) return status;
    expire_ctx c = { .now = now, .policy = policy };
    status = pstore_write_txn(s, "expiring points", "committing expired points", expire_body, &c);
    if (status != PERK_STORE_OK) {
        pstore_add_context(s, "; nothing was expired");
        return status;
    }
    if (expired_points) *expired_points = c.total;
    if (customers) *customers = c.customers;
    return PERK_STORE_OK;
}
