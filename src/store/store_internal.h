/* store_internal.h - private declarations shared by the files of src/store/ (not a public API).
 *
 * Internal functions use the prefix pstore_. Store files talk to the database only through the
 * driver layer (db.h), which dispatches to SQLite (db_sqlite.c) or PostgreSQL (db_pg.c). Tests may include this header to reach the SQLite handle (fault injection,
 * SQLite-only: test_sqlite_handle in store_test_util.h) and the migration steps (upgrade tests).
 */
#ifndef PERK_STORE_INTERNAL_H
#define PERK_STORE_INTERNAL_H

#include "store.h"

#include "db.h"

#include <jansson.h>
#include <stdarg.h>

struct sqlite3;
struct pstore_pg;

/* The backend of a handle, chosen by the store's address (pstore_db_open). */
typedef enum pstore_backend { PSTORE_BACKEND_SQLITE, PSTORE_BACKEND_PG } pstore_backend;

/* How many times pstore_write_txn runs a body whose transaction failed as retryable. */
#define PSTORE_WRITE_RETRIES 32

struct perk_store {
    pstore_backend backend;        /* which of db and pg is the connection */
    struct sqlite3 *db;            /* the SQLite driver's connection (db_sqlite.c) */
    struct pstore_pg *pg;          /* the PostgreSQL driver's connection (db_pg.c) */
    char errmsg[768];
    char sql_detail[256];          /* the driver's message for the last database failure */
    bool sql_failed;               /* the last error came from the database, not from a check */
    bool retryable;                /* the driver: the last failure was a serialization failure or
                                      deadlock, so the write transaction may run again (never set
                                      by SQLite, whose BEGIN IMMEDIATE serialises writers) */
    bool commit_unknown;           /* the last write transaction failed, and a COMMIT of it whose
                                      connection was lost may have gone through */
    int64_t retries;               /* write transactions run again (perk_store_retries) */
    uint64_t retry_rng;            /* pstore_write_txn's backoff jitter */
    perk_store_status stmt_status; /* why the last pstore_stmt() returned NULL */
    int busy_timeout_ms;
    int64_t busy_slept_us; /* busy handler: time slept for the current lock attempt */
    uint64_t busy_rng;     /* busy handler: jitter */
    bool readonly;
    pstore_st **stmts; /* the statement cache (pstore_stmt), by the address of the SQL text */
    size_t n_stmts, cap_stmts;
    /* perk_store_active_changed() cache: valid while no other connection wrote (data_version)
     * and now stays within [valid_from, valid_until). */
    bool active_cached;
    int64_t active_id, active_valid_from, active_valid_until, active_data_version;
    /* The program of the version last committed against (pstore_version_program): its budgets,
     * promotion and earn-rule ids and points policy decide a commit, not the caller's. */
    struct perk_program *version_prog;
    int64_t version_prog_id;
    /* Tests written before the store decided limits and time itself run with this set (only
     * pstore_trust_caller_for_tests sets it; no public function can): the caller's limits, policy
     * and times are used as given, as the store did before. */
    bool trusts_caller;
    perk_store_clock_fn clock; /* NULL = time(NULL) */
    void *clock_ctx;
    int64_t max_skew, max_delay;
    /* perk_store_exclude_reservation: holds of this reservation are not counted ("" = none) */
    char own_reservation[256];
};

/* The time a write is checked at: the store's clock; for a store that trusts its caller (tests
 * of older behaviour), the time the caller claimed. */
int64_t pstore_now(perk_store *s, int64_t claimed);

/* Refuses a caller's time further than the max skew from the store's clock (PERK_STORE_INVALID
 * naming `what`); *now gets the store's time. */
perk_store_status pstore_check_time(perk_store *s, int64_t claimed, const char *what, int64_t *now);

/* ---- errors (store_core.c) */

/* Sets the detailed message and returns `status`. */
perk_store_status pstore_fail(perk_store *s, perk_store_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps a driver error code to a status, with the driver's message and `what` as the message:
 * "database or disk is full while inserting ledger entry". */
perk_store_status pstore_sqlfail(perk_store *s, int rc, const char *what);
/* For a failed multi-step write (commit, refund): when the error came from SQLite, replaces the
 * message by "<sqlite detail> while <action>; <consequence> (step: <what failed>)". */
void pstore_rewrite_sql_error(perk_store *s, const char *action, const char *consequence);
/* Appends context to the current message ("... while committing order X; nothing was committed"). */
void pstore_add_context(perk_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- statements and transactions (store_core.c) */

/* The status of the last pstore_stmt() failure (its message is already set). */
perk_store_status pstore_stmt_status(const perk_store *s);
/* Runs SQL without results (no caching). */
perk_store_status pstore_exec(perk_store *s, const char *sql, const char *what);
/* Starts a transaction through the driver (pstore_db_begin); a write transaction on a read-only
 * handle is refused. Write transactions go through pstore_write_txn. */
perk_store_status pstore_begin(perk_store *s, bool write, const char *what);
perk_store_status pstore_commit(perk_store *s, const char *what);
/* Rolls back if a transaction is open, keeping the current error message. */
void pstore_rollback(perk_store *s);
/* A write transaction: begins (`what` names it in a failure to begin), runs `body`, commits
 * (`commit_what` names it in a failure to commit). When it fails and the driver marked the
 * failure retryable (s->retryable: a serialization failure or deadlock), rolls back and runs the
 * body again, up to PSTORE_WRITE_RETRIES times in all with a short randomised backoff, counting
 * each retry in s->retries. A body may run several times: it must leave no effect outside the
 * transaction that a second run would double (outputs fully rewritten on each run, caches only
 * filled from committed data). Returns the body's status (its message kept) or the commit's. */
perk_store_status pstore_write_txn(perk_store *s, const char *what, const char *commit_what,
                                   perk_store_status (*body)(perk_store *, void *), void *ctx);
/* pstore_write_txn for a body that is idempotent by an id it looks up first (an order or a
 * refund: a second run finds what the first committed and only reads it back). A commit whose
 * outcome is unknown (pstore_db_commit_unknown: the connection was lost after COMMIT was sent)
 * runs the body again on a new session, within the same bound: it finds the first run's rows and
 * replays them if that commit went through, and writes them once if it did not. Never reports a
 * commit that did not happen, nor fails one that did. */
perk_store_status pstore_write_txn_idempotent(perk_store *s, const char *what, const char *commit_what,
                                              perk_store_status (*body)(perk_store *, void *), void *ctx);
/* The lookup of an idempotent write (an order or refund id committed before): steps `st`, a
 * "SELECT fingerprint, ..." for the id. No row: PERK_STORE_OK, *found false. A row with the same
 * fingerprint: PERK_STORE_OK, *found true and `st` still on the row (the caller reads the earlier
 * outcome from its columns, then calls pstore_done). Another fingerprint: PERK_STORE_CONFLICT with
 * the message `conflict`. A database failure: its status, with "while <what>". */
perk_store_status pstore_replay_row(perk_store *s, pstore_st *st, const char *fingerprint,
                                    const char *what, const char *conflict, bool *found);
/* Steps a statement that returns one integer row (or none: *out = dflt). */
perk_store_status pstore_query_int(perk_store *s, pstore_st *st, int64_t dflt, int64_t *out,
                                   const char *what);
/* Steps a statement that returns no row. */
perk_store_status pstore_step_done(perk_store *s, pstore_st *st, const char *what);

/* Checks a required identifier (non-empty, <= max bytes). */
perk_store_status pstore_check_name(perk_store *s, const char *what, const char *value, size_t max);

/* ---- schema (store_schema.c) */

/* Migration step k (1-based) brings the schema from version k-1 to k. */
typedef struct pstore_migration {
    int version;
    const char *description;
    const char *sql;
} pstore_migration;

extern const pstore_migration pstore_migrations[];
extern const size_t pstore_n_migrations;

/* Brings the open database to the latest schema in one transaction. */
perk_store_status pstore_migrate(perk_store *s);

/* ---- published versions (versions.c) */

/* The loaded program of version `id`, which must have been published with an activation at or
 * before `now` (a commit is priced by a published version, never by a program the caller
 * brings). Cached on the handle; the pointer stays valid until another version is asked for or
 * the handle is closed. PERK_STORE_INVALID with a message for a version that does not exist,
 * is not active yet or does not load. */
perk_store_status pstore_version_program(perk_store *s, int64_t id, int64_t now,
                                         const struct perk_program **out);

/* rewards.c - reward coupons (满500返50券), inside the caller's write transaction. Issue: one code
 * per promotion of o->promos whose rule in prog rewards one, restricted to o->customer_id, into
 * r->reward_codes. Load: a committed order's codes (a replay). Revoke: a fully refunded order's
 * unused codes; *revoked and *kept count them. */
perk_store_status pstore_issue_rewards(perk_store *s, const struct perk_program *prog, const perk_store_order *o,
                                       int64_t now, perk_store_commit_result *r);
perk_store_status pstore_load_rewards(perk_store *s, const char *order_id, perk_store_commit_result *r);
perk_store_status pstore_revoke_rewards(perk_store *s, const char *order_id, int64_t now, int64_t *revoked,
                                        int64_t *kept);
/* coupons.c: inserts one fresh generated code (no prefix) in the open transaction: max_uses 1, one
 * per customer, only for `customer`; norm gets it. */
perk_store_status pstore_coupon_insert_generated(perk_store *s, const char *campaign, const char *customer,
                                                 int64_t now, int64_t valid_from, int64_t expires_at,
                                                 char norm[PERK_STORE_CODE_MAX]);

/* For tests of behaviour that predates trusted limits and the store's clock: see trusts_caller. */
void pstore_trust_caller_for_tests(perk_store *s);

/* ---- events (store_events.c) */

/* Inserts an event in the current transaction. Takes ownership of `data` (a JSON object; the
 * "time" member is added). *id_out may be NULL. */
perk_store_status pstore_emit(perk_store *s, const char *type, int64_t time, json_t *data, int64_t *id_out);

/* ---- ledger (store_ledger.c) */

/* A positive ledger entry (earn, or a positive adjust) and what is left of it. */
typedef struct pstore_lot {
    int64_t entry_id;
    int64_t points;
    int64_t available_at, expires_at;
    int64_t remaining; /* not yet spent, reversed or expired */
    int64_t expired;   /* taken by expire entries */
} pstore_lot;

/* The customer's lots after replaying every ledger entry in id order: debits with a ref_id take
 * from that lot; others (redeem) take the oldest available lots first. */
typedef struct pstore_replay {
    pstore_lot *lots; /* sorted by entry id */
    size_t n_lots;
    int64_t unattributed; /* debits no lot could cover (0 in a consistent ledger) */
} pstore_replay;

perk_store_status pstore_replay_customer(perk_store *s, const char *customer, pstore_replay *out);
void pstore_replay_free(pstore_replay *r);
pstore_lot *pstore_replay_find(pstore_replay *r, int64_t entry_id);

/* The units `customer` has at promotion `promo`'s price: budget uses not released (other than
 * exclude_order's, NULL: none) plus holds of open reservations other than s->own_reservation
 * (units.c). */
perk_store_status pstore_customer_units(perk_store *s, const char *ruleset, const char *promo, const char *customer,
                                        const char *exclude_order, int64_t now, int64_t *units);

/* When points that become available at `from` expire under policy p (NULL: never): 0 = never;
 * expire_seconds after `from`, or the first instant of the local year expire_year_end years after
 * from's (points_expiry.c). False (and *expires_at = 0) when the date overflows. */
bool pstore_points_expiry(const perk_store_policy *p, int64_t from, int64_t *expires_at);

/* Sum of entries with available_at <= now (may include points due to expire but not written
 * off yet) and with available_at > now. */
perk_store_status pstore_ledger_sums(perk_store *s, const char *customer, int64_t now, int64_t *available,
                                     int64_t *pending);

/* Writes expire entries for the customer's lots expired at `now`; *expired gets the total. */
perk_store_status pstore_expire_customer(perk_store *s, const char *customer, int64_t now, int64_t *expired);

/* Appends a ledger entry. order_id, rule_id, note may be NULL; ref_id/debt_id 0 = none. */
typedef struct pstore_entry {
    const char *order_id, *customer_id, *kind, *rule_id, *note;
    int64_t points, created_at, available_at, expires_at, ref_id, debt_id;
} pstore_entry;
perk_store_status pstore_ledger_append(perk_store *s, const pstore_entry *e, int64_t *id_out);

/* Collects outstanding debt from the new lot `lot_id` (up to its points) with adjust entries;
 * *collected gets the amount. */
perk_store_status pstore_collect_debt(perk_store *s, const char *customer, const char *order_id,
                                      int64_t lot_id, int64_t lot_points, int64_t lot_available_at,
                                      int64_t now, int64_t *collected);

/* ---- tiers (store_tiers.c) */

perk_store_status pstore_policy_check(perk_store *s, const perk_store_policy *policy);
/* The customer's tier at now under the policy ("" = none). */
perk_store_status pstore_tier_compute(perk_store *s, const perk_store_policy *policy, const char *customer,
                                      int64_t now, char tier[PERK_STORE_NAME_MAX]);
/* The tier last recorded for a customer ("" = none). */
perk_store_status pstore_tier_recorded(perk_store *s, const char *customer, char tier[PERK_STORE_NAME_MAX]);
/* Computes the tier and, when it differs from the recorded one, records it and emits a
 * tier.changed event. Does nothing without tiers in the policy. */
perk_store_status pstore_tier_update(perk_store *s, const perk_store_policy *policy, const char *customer,
                                     int64_t now, const char *reason, char tier_out[PERK_STORE_NAME_MAX],
                                     char previous_out[PERK_STORE_NAME_MAX], bool *changed);

/* ---- points events (store_ledger.c) */

/* Emits points.changed with the balance and pending at `now`. */
typedef struct pstore_points_delta {
    const char *reason, *order_id, *refund_id;
    int64_t earned, redeemed, reversed, expired, returned, debt_collected, shortfall;
} pstore_points_delta;
perk_store_status pstore_emit_points_changed(perk_store *s, const char *customer, int64_t now,
                                             const pstore_points_delta *d);

/* ---- coupons (store_coupons.c) */

/* Checks a normalised code in the current transaction. */
perk_store_status pstore_coupon_lookup(perk_store *s, const char *norm, const char *customer, int64_t now,
                                       perk_store_coupon_info *out);
/* The verdict on a code whose row (and use counts) are in info, for a customer who is not the one
 * it is restricted to when other_customer; also sets info->uses_left. The one ordering of the
 * verdicts (perk_store_coupon_check documents it). */
perk_store_coupon_status pstore_coupon_verdict(perk_store_coupon_info *info, bool other_customer, int64_t now);

/* Source of random bytes for generated codes (getrandom by default); tests replace it to force
 * collisions. Returns 0 on success. */
extern int (*pstore_random_bytes)(void *buf, size_t len);

/* Luhn mod 32 check symbol over Crockford base32 symbols (returns the symbol character). */
char pstore_check_symbol(const char *symbols, size_t n);

/* ---- reservations (reservations.c) */

/* What open reservations other than s->own_reservation hold at `now` for a promotion budget
 * (uses, money, and uses by `customer`, which may be NULL). */
perk_store_status pstore_held_budget(perk_store *s, const char *ruleset, const char *promo, const char *customer,
                                     int64_t now, int64_t *uses, int64_t *money, int64_t *customer_uses);
/* What open reservations other than s->own_reservation hold at `now` of a normalised code. */
perk_store_status pstore_held_coupon(perk_store *s, const char *code, const char *customer, int64_t now,
                                     int64_t *uses, int64_t *customer_uses);
/* In the current write transaction: marks reservations whose TTL ended at `now` as expired. */
perk_store_status pstore_expire_reservations(perk_store *s, int64_t now, int64_t *expired);
/* In the current transaction: whether reservation `id` is open at `now`; an open one must be
 * the customer's (else PERK_STORE_INVALID). */
perk_store_status pstore_reservation_is_open(perk_store *s, const char *id, const char *customer, int64_t now,
                                             bool *open);
/* PERK_STORE_CONFLICT when reservation `id` exists already. */
perk_store_status pstore_reservation_check_new(perk_store *s, const char *id);
/* In the current write transaction: records a reservation and its holds. */
perk_store_status pstore_reservation_insert(perk_store *s, const char *id, const perk_store_order *o,
                                            char (*codes)[PERK_STORE_CODE_MAX], int64_t now,
                                            int64_t expires_at);
/* In the current write transaction: an open reservation consumed by order `order_id`. */
perk_store_status pstore_reservation_consume(perk_store *s, const char *id, const char *order_id, int64_t now);

/* Appends an audit log entry (users.c), inside the caller's transaction or on its own. */
perk_store_status pstore_audit_insert(perk_store *s, int64_t now, const char *actor, const char *action,
                                      const char *detail);

#endif /* PERK_STORE_INTERNAL_H */
