/* store.h - Perk's persistent store: everything that must be remembered, on SQLite.
 *
 * What lives here:
 *   - rule-set versions (compiled bytecode + sources), their activations (publish, scheduled
 *     activation, rollback) and a cheap "did the active version change?" query for hot reload;
 *   - coupons (hand-made or generated codes) and their uses;
 *   - promotion budgets, keyed by (rule-set name, promotion id);
 *   - orders, committed atomically with their budget consumption, coupon uses, points ledger
 *     entries, tier changes and outbox events (one BEGIN IMMEDIATE transaction each);
 *   - refunds and cancellations, reversing points in proportion to the refunded amount;
 *   - an append-only points ledger (balance, pending and expiring points are derived from it);
 *   - an outbox of JSON events with per-consumer acknowledgement positions.
 *
 * Conventions:
 *   - Every function returns a perk_store_status; perk_store_errmsg() gives the detailed message
 *     of the last failure on that handle ("database or disk is full while committing order A1001;
 *     nothing was committed").
 *   - Times are int64 epoch seconds. Reads and admin calls take `now` from the caller. Writes
 *     that move money or points (perk_store_commit, perk_store_refund) are checked at the
 *     store's own clock (perk_store_set_clock; the real clock by default): the caller's time
 *     must be within the max skew of it (or, for a delayed order, within the max delay before).
 *   - Nothing a caller claims decides money or limits: a commit is checked against the
 *     published version it names (its promotions, earn rules, budget limits and points policy),
 *     coupons against their rows, refunds against the order's recorded lines (docs/security.md).
 *   - Money and points are int64 minor units. Arithmetic is overflow-checked.
 *   - One perk_store handle belongs to one thread at a time. Several processes (or several
 *     handles) may use the same database file concurrently: SQLite in WAL mode serialises writers,
 *     readers never block.
 *   - Callbacks receive borrowed pointers valid only during the call. A callback returns 0 to
 *     continue or non-zero to stop early (the function still returns PERK_STORE_OK). Callbacks must
 *     not call other functions on the same handle, except where noted (perk_store_events).
 *   - Strings (ids, names, codes) must be non-empty UTF-8 without NUL, at most 255 bytes unless
 *     said otherwise.
 */
#ifndef PERK_STORE_H
#define PERK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ status */

/* Status codes, defined once: X(NAME, generic message). */
/* clang-format off: a table, aligned by hand */
#define PERK_STORE_STATUS_LIST(X)                                              \
    X(PERK_STORE_OK, "ok")                                                     \
    X(PERK_STORE_IO, "I/O error on the database file")                         \
    X(PERK_STORE_BUSY, "database is locked by another process (timed out)")    \
    X(PERK_STORE_FULL, "database or disk is full")                             \
    X(PERK_STORE_READONLY, "database is read-only")                            \
    X(PERK_STORE_CORRUPT, "database file is corrupt or not a Perk database")   \
    X(PERK_STORE_NOT_FOUND, "not found")                                       \
    X(PERK_STORE_CONFLICT, "conflicts with data already stored")               \
    X(PERK_STORE_BUDGET_EXCEEDED, "a promotion budget or coupon is exhausted") \
    X(PERK_STORE_INSUFFICIENT_POINTS, "not enough points available to redeem") \
    X(PERK_STORE_INVALID, "invalid argument")                                  \
    X(PERK_STORE_SCHEMA_TOO_NEW, "database schema is newer than this program") \
    X(PERK_STORE_NOMEM, "out of memory")                                       \
    X(PERK_STORE_INTERNAL, "internal error")                                   \
    X(PERK_STORE_UNAVAILABLE, "the database server cannot be reached")
/* clang-format on */

typedef enum perk_store_status {
#define PERK_STORE_STATUS_ENUM(name, msg) name,
    PERK_STORE_STATUS_LIST(PERK_STORE_STATUS_ENUM)
#undef PERK_STORE_STATUS_ENUM
        PERK_STORE_STATUS_COUNT
} perk_store_status;

/* The generic message of a status ("database or disk is full"); never NULL. */
const char *perk_store_status_message(perk_store_status status);
/* The status's enum name as text ("PERK_STORE_FULL"); never NULL. */
const char *perk_store_status_name(perk_store_status status);

typedef struct perk_store perk_store;

/* The detailed message of the last failed call on this handle ("" after success is not
 * guaranteed: only read it after a failure). Never NULL; a NULL store gives a fixed text. */
const char *perk_store_errmsg(const perk_store *store);

/* Longest name kept in fixed-size fields (tier names, campaigns), including the NUL. */
#define PERK_STORE_NAME_MAX 64
/* Longest reason of a coupon revocation, in bytes (without the NUL). */
#define PERK_STORE_REASON_MAX 255
/* Longest normalised coupon code, including the NUL. */
#define PERK_STORE_CODE_MAX 64
/* "Expiring soon" in perk_store_points() means within this many seconds (30 days). */
#define PERK_STORE_EXPIRING_SOON_SECONDS (30 * 86400)

/* ---------------------------------------------------------- open / close */

/* The schema version this code writes; PRAGMA user_version of an up-to-date database. */
int perk_store_schema_version(void);

/* Whether a store address names a PostgreSQL database rather than a SQLite file: a libpq URI
 * ("postgres://...", "postgresql://...") or a libpq key=value string starting with "host=",
 * "hostaddr=", "dbname=" or "service=". Anything else is a SQLite file path. */
bool perk_store_address_is_postgres(const char *address);

/* Opens (creating if needed) the database at `path` and migrates it to the current schema in
 * one transaction. Sets WAL journaling, foreign keys, synchronous=FULL and a 5 s busy timeout.
 * A database whose schema is newer than this code is refused with PERK_STORE_SCHEMA_TOO_NEW.
 * A file the process may not write (chmod 0444, read-only mount) is opened read-only when its
 * schema is current: reads work, writes fail with PERK_STORE_READONLY.
 * On failure *out is set to a handle anyway when possible (so perk_store_errmsg() can explain);
 * the caller must perk_store_close() it in every case. *out is NULL only when out of memory. */
perk_store_status perk_store_open(const char *path, perk_store **out);
/* `path` may also be a PostgreSQL address (perk_store_address_is_postgres): the database must
 * exist; its schema is created or migrated at open (docs/postgresql.md), the PRAGMAs and busy
 * timeout do not apply. */

/* Opens an existing, up-to-date database for reading only (reporting tools, a read-only copy):
 * every write fails with PERK_STORE_READONLY. On PostgreSQL every transaction of the session is
 * read-only and the schema must be current. Same *out contract as perk_store_open(). */
perk_store_status perk_store_open_readonly(const char *path, perk_store **out);

/* Closes the handle (NULL is fine). Uncommitted work does not exist between calls. */
void perk_store_close(perk_store *store);

/* How long a call waits for another process's write lock before PERK_STORE_BUSY (default 5000). */
perk_store_status perk_store_set_busy_timeout(perk_store *store, int milliseconds);

/* true (default): every commit is fsync'ed (PRAGMA synchronous=FULL), so a power cut loses no
 * committed order. false: synchronous=NORMAL, a process crash still loses nothing but a power cut
 * may lose the last commits; used by tests and bulk imports. */
perk_store_status perk_store_set_durable(perk_store *store, bool durable);

/* true when the handle could only be opened read-only. */
bool perk_store_is_readonly(const perk_store *store);

/* How many times this handle ran a write transaction again after its backend reported a
 * serialization failure or deadlock (a metric: a rising count means writers contend). Each
 * write is tried up to 32 times before its error is returned. Always 0 on SQLite, whose writers
 * take the write lock up front and wait for it (the busy timeout) instead. */
int64_t perk_store_retries(const perk_store *store);
/* PostgreSQL: connections made again after one was lost (a server restart, a terminated session),
 * by every store handle of this process since it started: *ok made, *failed refused (the server
 * down or starting: PERK_STORE_UNAVAILABLE, tried again after a backoff of 50 ms doubling to 1 s).
 * Both 0 on SQLite. (db_pg.c) */
void perk_store_reconnects(int64_t *ok, int64_t *failed);

/* ------------------------------------------------------------------- clock */

/* The store's clock: what a commit or refund is checked against (coupon expiry, pending periods,
 * which version is active, how far an order's own time may be from now). The real clock
 * (time(NULL)) by default; tests inject another. It returns epoch seconds. */
typedef int64_t (*perk_store_clock_fn)(void *ctx);

/* Sets the clock (NULL = the real clock again). */
perk_store_status perk_store_set_clock(perk_store *store, perk_store_clock_fn clock, void *ctx);
/* The store's clock now. */
int64_t perk_store_now(perk_store *store);

/* How far an order's time (or a refund's `now`) may be from the store's clock, either way:
 * PERK_STORE_MAX_SKEW_DEFAULT (5 minutes) unless set (0 .. 1 day). */
#define PERK_STORE_MAX_SKEW_DEFAULT 300
perk_store_status perk_store_set_max_skew(perk_store *store, int64_t seconds);
/* How old a delayed order (perk_store_order.delayed) may be: PERK_STORE_MAX_DELAY_DEFAULT
 * (7 days) unless set (0 .. 366 days). */
#define PERK_STORE_MAX_DELAY_DEFAULT (7 * 86400)
perk_store_status perk_store_set_max_delay(perk_store *store, int64_t seconds);

/* ------------------------------------------------------ rule-set versions */

/* Lowercase hex SHA-256 of `len` bytes into out[65] (NUL-terminated). Used for version
 * checksums and order fingerprints. */
void perk_store_sha256_hex(const void *data, size_t len, char out[65]);

/* Stores a new version (bytecode copied, SHA-256 recorded) and records its activation at
 * `activate_at` (0 = now). An activation in the future changes nothing until then
 * ("scheduled activation"); an activation in the past is refused (PERK_STORE_INVALID).
 * `sources` is the rule source text (concatenated, or a JSON object {path: text}); may be NULL.
 * `message` may be NULL (empty). Emits a "ruleset.published" event. */
perk_store_status perk_store_publish(perk_store *store, const uint8_t *bytecode, size_t len,
                                     const char *sources, const char *author, const char *message,
                                     int64_t activate_at, int64_t now, int64_t *version_out);

/* One version in perk_store_history(). */
typedef struct perk_store_version_info {
    int64_t id;
    int64_t created_at;
    const char *author;
    const char *message;
    const char *checksum; /* SHA-256 of the bytecode, lowercase hex */
    size_t bytecode_len;
    int64_t activate_at;        /* activation requested at publish time */
    int64_t last_activated_at;  /* latest activation of this version at or before now; 0 = never */
    int64_t next_activation_at; /* earliest activation of this version after now; 0 = none */
    bool active;                /* this version is the one active at now */
} perk_store_version_info;

typedef int (*perk_store_version_cb)(const perk_store_version_info *info, void *ctx);

/* Every version, newest first; `now` decides the active flag. */
perk_store_status perk_store_history(perk_store *store, int64_t now, perk_store_version_cb cb, void *ctx);

/* One entry of the activation log (publish or rollback). */
typedef struct perk_store_activation {
    int64_t id;
    int64_t version_id;
    int64_t activate_at;
    int64_t created_at;
    const char *kind; /* "publish" or "rollback" */
    const char *author;
    const char *message;
} perk_store_activation;

typedef int (*perk_store_activation_cb)(const perk_store_activation *a, void *ctx);

/* The whole activation log, newest first. */
perk_store_status perk_store_activations(perk_store *store, perk_store_activation_cb cb, void *ctx);

/* A stored version with its bytes; filled by perk_store_get_version(). */
typedef struct perk_store_version {
    int64_t id;
    int64_t created_at;
    int64_t activate_at;
    char checksum[65];
    char *author;
    char *message;
    char *sources;
    uint8_t *bytecode;
    size_t bytecode_len;
} perk_store_version;

/* Loads version `id` (PERK_STORE_NOT_FOUND if absent). The bytecode's SHA-256 is verified
 * (PERK_STORE_CORRUPT on mismatch). Free with perk_store_free_version(), also after failure. */
perk_store_status perk_store_get_version(perk_store *store, int64_t id, perk_store_version *out);
void perk_store_free_version(perk_store_version *version);

/* Makes version `id` active again from `now` by recording a new activation; nothing is deleted.
 * A rollback does not cancel activations scheduled later than now. Emits "ruleset.rolled_back". */
perk_store_status perk_store_rollback(perk_store *store, int64_t id, const char *author, const char *message,
                                      int64_t now);

/* The version active at `now`: the latest activation with activate_at <= now (ties: the one
 * recorded last). PERK_STORE_NOT_FOUND with *id = 0 when nothing is active yet. */
perk_store_status perk_store_active_version(perk_store *store, int64_t now, int64_t *id);

/* Hot-reload helper for checkout processes, cheap enough to call per request: sets *new_id to
 * the version active at `now` (0 = none). The active version changed iff *new_id != known_id;
 * the caller then loads the bytecode with perk_store_get_version() and swaps its program.
 * When no other process wrote and no scheduled activation was reached, no table is read. */
perk_store_status perk_store_active_changed(perk_store *store, int64_t now, int64_t known_id,
                                            int64_t *new_id);

/* ------------------------------------------------------------------ coupons */

/* Codes are compared case-insensitively with '-' and spaces ignored: they are normalised
 * (ASCII upper case, separators removed) on insert and lookup. After normalisation a code is
 * 1..63 characters of A-Z, 0-9 and '_'. */

/* Adds one code. expires_at: 0 = never, else the code is valid while now < expires_at.
 * max_uses / max_per_customer: 0 = unlimited. only_customer: NULL = anyone.
 * PERK_STORE_CONFLICT if the code exists. */
perk_store_status perk_store_coupon_add(perk_store *store, const char *code, const char *campaign,
                                        int64_t expires_at, int max_uses, int max_per_customer,
                                        const char *only_customer, int64_t now);

typedef int (*perk_store_code_cb)(const char *code, void *ctx);

/* Generates `count` (1..1000000) unique, hard-to-guess codes for `campaign` and inserts them in
 * one transaction. A code is 12 symbols of Crockford base32 (0-9 A-Z without I L O U) drawn from
 * getrandom(2), plus a Luhn mod 32 check symbol, shown as "7K4M-Q2XD-9RTB-5". `prefix` (NULL or
 * "" = none; up to 8 of A-Z 0-9) is prepended as its own group: "SPRG-7K4M-Q2XD-9RTB-5"; it is
 * not secret and not covered by the check symbol. Collisions are retried. Before the commit,
 * `cb` (may be NULL) receives each formatted code; if it returns nonzero (the codes could not be
 * delivered) the transaction is rolled back and PERK_STORE_IO returned: no code was created. */
perk_store_status perk_store_coupons_generate(perk_store *store, const char *campaign, const char *prefix,
                                              int count, int64_t expires_at, int max_uses,
                                              int max_per_customer, int64_t now, perk_store_code_cb cb,
                                              void *ctx);

/* Verdicts on a code: the enum, the API's name (docs/openapi.yaml, CouponStatus) and the message.
 * New ones are appended: the numbers are kept by callers (and mirrored by perk.h's
 * PERK_COUPON_STATUS_LIST). */
/* clang-format off: a table, aligned by hand */
#define PERK_STORE_COUPON_STATUS_LIST(X)                                              \
    X(PERK_STORE_COUPON_VALID, "valid", "valid")                                      \
    X(PERK_STORE_COUPON_UNKNOWN, "unknown", "unknown code")                           \
    X(PERK_STORE_COUPON_EXPIRED, "expired", "expired")                                \
    X(PERK_STORE_COUPON_USED_UP, "used_up", "used up")                                \
    X(PERK_STORE_COUPON_NOT_FOR_CUSTOMER, "not_for_customer", "not for this customer") \
    X(PERK_STORE_COUPON_REVOKED, "revoked", "revoked")                                \
    X(PERK_STORE_COUPON_NOT_YET_VALID, "not_yet_valid", "not yet valid")
/* clang-format on */

typedef enum perk_store_coupon_status {
#define PERK_STORE_COUPON_ENUM(name, key, msg) name,
    PERK_STORE_COUPON_STATUS_LIST(PERK_STORE_COUPON_ENUM)
#undef PERK_STORE_COUPON_ENUM
} perk_store_coupon_status;

const char *perk_store_coupon_status_message(perk_store_coupon_status status);
/* The API's name of a verdict ("used_up"), as the service and `perk coupons --json` print it. */
const char *perk_store_coupon_status_key(perk_store_coupon_status status);

typedef struct perk_store_coupon_info {
    perk_store_coupon_status status;
    char code[PERK_STORE_CODE_MAX];     /* normalised */
    char campaign[PERK_STORE_NAME_MAX]; /* "" when unknown */
    int64_t expires_at;                 /* 0 = never */
    int64_t max_uses, max_per_customer; /* 0 = unlimited */
    int64_t uses;                       /* uses not released by a cancellation */
    int64_t customer_uses;              /* of those, by this customer */
    bool restricted;                    /* only one customer may use it */
    bool check_symbol_mismatch;         /* unknown, and shaped like a generated code with a
                                                wrong check symbol: probably a typo */
    int64_t created_at;
    int64_t valid_from; /* valid while valid_from <= now (0 = from its creation) */
    int64_t uses_left;  /* further uses open to this customer now: 0 unless VALID; -1 = no limit
                           (the lower of what is left of max_uses and of max_per_customer) */
    int64_t revoked_at; /* 0 = not revoked */
    char revoked_by[PERK_STORE_NAME_MAX];
    char revoke_reason[PERK_STORE_REASON_MAX + 1];
} perk_store_coupon_info;

/* Whether `code` may be used by `customer_id` (NULL = anonymous) at `now`. Returns PERK_STORE_OK
 * with the verdict in out->status, in this order: UNKNOWN, REVOKED, NOT_YET_VALID (now <
 * valid_from), EXPIRED (now >= expires_at), NOT_FOR_CUSTOMER (restricted to another customer),
 * USED_UP, NOT_FOR_CUSTOMER (per-customer limit reached), VALID. Uses held by open reservations
 * count as uses. perk_store_commit and perk_store_reserve refuse every verdict but VALID. */
perk_store_status perk_store_coupon_check(perk_store *store, const char *code, const char *customer_id,
                                          int64_t now, perk_store_coupon_info *out);

/* Every code (of `campaign`, or all with NULL), by campaign then code, each with its verdict for
 * anyone at `now` (VALID, REVOKED, NOT_YET_VALID, EXPIRED or USED_UP; customer_uses stays 0). cb returning nonzero stops
 * the listing with PERK_STORE_IO. (src/store/coupons_list.c) */
typedef int (*perk_store_coupon_list_cb)(const perk_store_coupon_info *coupon, void *ctx);
perk_store_status perk_store_coupons_list(perk_store *store, const char *campaign, int64_t now,
                                          perk_store_coupon_list_cb cb, void *ctx);

/* A code issued to one customer (POST /v1/coupons, perk coupons issue; src/store/coupons_wallet.c). */
typedef struct perk_store_coupon_issue {
    const char *code;        /* as typed; normalised */
    const char *campaign;    /* must be known: it has codes in the store already, or a promotion of
                                the version active at `now` requires a code from it */
    const char *customer_id; /* the only customer who may use it */
    int64_t valid_from;      /* 0 = at once */
    int64_t expires_at;      /* 0 = never; else > valid_from and > now */
    int max_uses, max_per_customer; /* 0 = unlimited */
    const char *by;          /* who issues it, for the audit log (1..63 bytes) */
} perk_store_coupon_issue;

/* Issues a code to a customer, idempotent by code: a code that exists already with the same
 * campaign, customer, period and limits is PERK_STORE_OK with *created false (a retry); with any of
 * them different (another customer's code, a code anyone may use...) PERK_STORE_CONFLICT and
 * nothing changes. An unknown campaign is PERK_STORE_NOT_FOUND; a bad period (negative times,
 * expires_at <= valid_from, or already over at `now`) or limits PERK_STORE_INVALID. Audited as
 * "coupon.issue" by `by`. out (may be NULL) gets the code's verdict for the customer at `now`;
 * created (may be NULL) whether this call wrote it. */
perk_store_status perk_store_coupon_issue_code(perk_store *store, const perk_store_coupon_issue *issue,
                                               int64_t now, perk_store_coupon_info *out, bool *created);

/* Revokes `code` from `now`: it is refused from then on by perk_store_coupon_check, perk_store_reserve
 * and perk_store_commit (verdict REVOKED), also for open reservations that hold a use of it (their
 * commit fails on it; docs/service.md). `by` (1..63 bytes) and `reason` (1..PERK_STORE_REASON_MAX
 * bytes) are kept with the code and in the audit log ("coupon.revoke"). An unknown code is
 * PERK_STORE_NOT_FOUND; a code already revoked, or used up by committed orders (nothing left to
 * revoke), PERK_STORE_CONFLICT and nothing changes (the first revocation is kept: retrying is
 * safe). out (may be NULL) gets the code as it is after the call (out->revoked_at tells the two
 * conflicts apart); held (may be NULL) the uses open reservations held at that moment. */
perk_store_status perk_store_coupon_revoke(perk_store *store, const char *code, const char *by,
                                           const char *reason, int64_t now, perk_store_coupon_info *out,
                                           int64_t *held);

/* Changes codes in place (积分券延期, a campaign extended or ended early, its limits raised): every
 * code of `campaign` that is not revoked, or the one `code` (exactly one of the two is given).
 * What is set: the end of the period (expires_at: 0 = never, else >= now; a code that would end
 * before it starts, valid_from >= expires_at, is refused with CONFLICT), the uses (max_uses: 0 =
 * unlimited; never below what a code has used, counting the uses open reservations hold:
 * CONFLICT naming the code, revoke it instead), the uses per customer (max_per_customer: 0 =
 * unlimited; lowered, it stops later uses only). Nothing changes unless every code can take it.
 * An open reservation's commit checks its codes as they are then, as after a revocation. Audited
 * as "coupon.change" by `by` with `reason`, one `coupon.changed` event for the whole change. */
typedef struct perk_store_coupon_change {
    const char *campaign; /* every code of it not revoked... */
    const char *code;     /* ...or this one code (as typed; normalised) */
    bool set_expires_at, set_max_uses, set_max_per_customer;
    int64_t expires_at;
    int max_uses, max_per_customer;
    const char *by, *reason; /* 1..63 and 1..PERK_STORE_REASON_MAX bytes */
} perk_store_coupon_change;

/* perk_store_coupons_change's outcome: the codes changed, and those left alone as revoked. */
typedef struct perk_store_coupon_change_result {
    int64_t changed, revoked;
} perk_store_coupon_change_result;

/* NOT_FOUND when the campaign has no code or the code does not exist; CONFLICT when every code
 * is revoked, or one cannot take the change (nothing changed); INVALID for a bad change. */
perk_store_status perk_store_coupons_change(perk_store *store, const perk_store_coupon_change *change, int64_t now,
                                            perk_store_coupon_change_result *out);

/* A customer's wallet: every code issued to `customer_id` (restricted to them), oldest first, each
 * with its verdict for them at `now` (VALID, REVOKED, NOT_YET_VALID, EXPIRED or USED_UP, which
 * here also means their own max_per_customer is reached), uses_left and its period. One read
 * transaction. cb returning nonzero stops with PERK_STORE_IO. */
perk_store_status perk_store_coupon_wallet(perk_store *store, const char *customer_id, int64_t now,
                                           perk_store_coupon_list_cb cb, void *ctx);

/* Normalises a code into out (PERK_STORE_INVALID when it has other characters or is too long). */
perk_store_status perk_store_coupon_normalize(const char *code, char out[PERK_STORE_CODE_MAX]);

/* ------------------------------------------------------------------ budgets */

/* The units customer_id has bought at the price of promotion promo_id (`limit N units per
 * customer`): over their orders not released by a refund, other than exclude_order_id (NULL: none;
 * a retried order's own), and their open reservations. */
perk_store_status perk_store_customer_units(perk_store *store, const char *ruleset, const char *promo_id,
                                            const char *customer_id, const char *exclude_order_id, int64_t *units);

/* Current consumption of the budget of (ruleset, promo_id): orders using it, discount money
 * given, and uses by customer_id (NULL = 0). Released uses (cancelled orders) do not count. */
perk_store_status perk_store_budget_usage(perk_store *store, const char *ruleset, const char *promo_id,
                                          const char *customer_id, int64_t *uses, int64_t *money,
                                          int64_t *customer_uses);

/* ------------------------------------------------------------------- orders */

/* A promotion applied to an order, with the limits of its budget (-1 = no limit). */
typedef struct perk_store_promo_use {
    const char *promo_id;
    int64_t discount; /* >= 0, counted against limit_money */
    int64_t limit_uses, limit_money, limit_per_customer;
} perk_store_promo_use;

/* A promotion's `limit N units per customer` in an order (limit_units = N, 0 = none): the units of
 * this order at its price (perk_result.promotion_units). The customer's units at the price, over
 * their orders not released by a refund and their open reservations, plus these must stay <= N. */
typedef struct perk_store_promo_units {
    int64_t units, limit_units;
} perk_store_promo_units;

/* Points earned by one rule. */
typedef struct perk_store_points_line {
    const char *rule_id;
    int64_t points; /* >= 0; 0 lines are ignored */
} perk_store_points_line;

/* One line of an order and what the customer paid for it: the ceiling of its refunds. */
typedef struct perk_store_order_line {
    const char *line_id; /* unique within the order; 1..255 bytes */
    int64_t amount;      /* the line's final amount (after its discounts), >= 0 */
} perk_store_order_line;

typedef struct perk_store_order {
    const char *order_id, *customer_id, *ruleset;
    int64_t ruleset_version;
    int64_t time;                                  /* the order's time; all its entries are dated so */
    const char *currency;                          /* e.g. "CNY"; 1..15 bytes */
    int64_t subtotal, discount, shipping, payable; /* all >= 0 */
    const perk_store_promo_use *promos;
    size_t n_promos;
    const char *const *coupons; /* codes as typed; normalised here */
    size_t n_coupons;
    const perk_store_points_line *earned;
    size_t n_earned;
    int64_t points_redeemed; /* >= 0 */
    /* The order's lines with their final amounts (may be NULL/0: the order is then refunded
     * by amount only). Refunds by line are checked against them. At most 10000. */
    const perk_store_order_line *lines;
    size_t n_lines;
    /* A delayed order (an offline till's order committed late): its time may be up to the max
     * delay before the store's clock instead of within the skew; coupons are checked at its time.
     * Recorded with the order (orders.delayed) and in its event ("delayed": true). */
    bool delayed;
    const char *order_json; /* optional JSON text; stored and embedded in the event;
                                   at most PERK_STORE_ORDER_JSON_MAX bytes */
    /* The reservation this order consumes (perk_store_reserve; NULL = none): while it is open,
     * its holds are not counted against the order, and the commit ends it. One that expired or
     * ended is ignored: the order is checked afresh. Not part of the order's content. */
    const char *reservation_id;
    /* Parallel to promos, or NULL when no promotion of the order limits units. */
    const perk_store_promo_units *promo_units;
} perk_store_order;

/* The most order JSON the store keeps per order (1 MiB): it is stored with the order and again
 * in its order.committed event. A larger document is refused (PERK_STORE_INVALID) before anything
 * is written; keep the full cart elsewhere and store a summary. */
#define PERK_STORE_ORDER_JSON_MAX (1024 * 1024)

/* A tier of the loyalty programme. */
typedef struct perk_store_tier {
    const char *name;        /* 1..63 bytes */
    int64_t spend_threshold; /* >= 0 */
    int64_t window_seconds;  /* spend counted over (now - window, now]; 0 = all time */
} perk_store_tier;

/* Rules of the points programme, given by the caller (they come from the compiled rule set). */
typedef struct perk_store_policy {
    int64_t pending_seconds;      /* earned points become available this long after the order */
    int64_t expire_seconds;       /* available points expire this long after; 0 = never */
    const perk_store_tier *tiers; /* ascending by spend_threshold; may be NULL */
    size_t n_tiers;
    /* Calendar expiry (`expire at end of year`; expire_seconds is then 0): 1 = points expire at the
     * first instant of the local year after the one they become available in (earned points: at
     * available_at; points a refund gives back: at the refund), 2 = a year later; 0 = none. The
     * year is the rule set's time zone: zone_* is its UTC-offset table, read as runtime/tz.h's
     * tz_zone (count transitions at[] with offset[] from each; base_offset before the first). */
    int expire_year_end;
    uint32_t zone_count;
    const int64_t *zone_at;
    const int32_t *zone_offset;
    int32_t zone_base_offset;
} perk_store_policy;

/* Why a promotion or coupon stopped an order. */
/* clang-format off: a table, aligned by hand */
#define PERK_STORE_FAILURE_LIST(X)                                                \
    X(PERK_STORE_FAIL_USES, "promotion has reached its limit of uses")            \
    X(PERK_STORE_FAIL_MONEY, "promotion's money budget would be exceeded")        \
    X(PERK_STORE_FAIL_PER_CUSTOMER, "customer has reached the promotion's limit") \
    X(PERK_STORE_FAIL_COUPON, "coupon cannot be used")                           \
    X(PERK_STORE_FAIL_UNITS, "customer has bought the promotion's units at its price")
/* clang-format on */

typedef enum perk_store_failure_reason {
#define PERK_STORE_FAILURE_ENUM(name, msg) name,
    PERK_STORE_FAILURE_LIST(PERK_STORE_FAILURE_ENUM)
#undef PERK_STORE_FAILURE_ENUM
} perk_store_failure_reason;

const char *perk_store_failure_message(perk_store_failure_reason reason);

typedef struct perk_store_failure {
    char *id; /* promo id, or normalised coupon code (owned) */
    perk_store_failure_reason reason;
    perk_store_coupon_status coupon_status; /* for PERK_STORE_FAIL_COUPON */
} perk_store_failure;

/* 满500返50券: a code the order earned (`then coupon from "RETURN50"`), issued at commit: usable
 * once, only by the order's customer, from valid_from until expires_at (0 = never). */
typedef struct perk_store_reward_code {
    char code[PERK_STORE_CODE_MAX];     /* normalised (12 Crockford base32 symbols + check) */
    char campaign[PERK_STORE_NAME_MAX];
    char *promo_id;                     /* the promotion that rewarded it (owned) */
    int64_t valid_from, expires_at;     /* valid_from: the commit's time unless the rule named one */
} perk_store_reward_code;

typedef struct perk_store_commit_result {
    bool replay;           /* order_id was committed before: these are the first outcome */
    int64_t points_earned; /* sum of the earned lines */
    int64_t points_redeemed;
    int64_t debt_collected;         /* earned points used to pay an earlier refund shortfall */
    int64_t available_at;           /* when the earned points become available */
    int64_t balance;                /* available balance at the order's time, after it */
    int64_t pending;                /* pending points at the order's time, after it */
    char tier[PERK_STORE_NAME_MAX]; /* tier after the order ("" = none) */
    char previous_tier[PERK_STORE_NAME_MAX];
    bool tier_changed;
    int64_t event_id; /* id of the order.committed event */
    /* PERK_STORE_BUDGET_EXCEEDED: every promo and coupon that failed (owned). */
    perk_store_failure *failures;
    size_t n_failures;
    /* PERK_STORE_INSUFFICIENT_POINTS: the available balance at the order's time. */
    int64_t points_available;
    /* perk_store_commit: the order consumed its open reservation (order->reservation_id). */
    bool reservation_consumed;
    /* perk_store_reserve: when the reservation's holds end unless committed (store clock). */
    int64_t reservation_expires_at;
    /* perk_store_commit: the codes the order earned (owned), one per applied promotion of the
     * version that rewards a coupon, in the order's promotion order; a replay returns the same
     * codes. None for a store that trusts its caller (tests) or a period over before the commit. */
    perk_store_reward_code *reward_codes;
    size_t n_reward_codes;
} perk_store_commit_result;

/* Releases what a result owns (safe on a zeroed or already-freed result). */
void perk_store_commit_result_free(perk_store_commit_result *result);

/* Commits an order in ONE transaction (BEGIN IMMEDIATE):
 *  - idempotent by order_id: the same order again changes nothing and returns the first
 *    outcome with result->replay set; the same id with different content (any field, including
 *    order_json) is PERK_STORE_CONFLICT;
 *  - the order must be priced by a published version (o->ruleset_version, active at the store's
 *    clock) and name its rule set, currency, promotions and earn rules with the version's limits,
 *    else PERK_STORE_INVALID; o->time must be within the max skew of the store's clock (a
 *    delayed order: up to the max delay before it), else PERK_STORE_INVALID; the points policy
 *    used is the version's (`policy` is ignored);
 *  - every promo's budget is checked against the version's limits (uses < limit_uses, money +
 *    discount <= limit_money, customer uses < limit_per_customer) and every coupon must be VALID
 *    for the customer at the store's clock (a delayed order: at o->time); if anything fails
 *    NOTHING is written: PERK_STORE_BUDGET_EXCEEDED with every failed promo and coupon in
 *    result->failures, so the caller re-evaluates without them;
 *  - points_redeemed must not exceed the available balance at the store's clock (expired points are
 *    written off first), else PERK_STORE_INSUFFICIENT_POINTS and nothing is written;
 *  - then writes the order, budget uses, coupon uses, ledger entries (earn entries available at
 *    o->time + pending_seconds and expiring expire_seconds later; a redeem entry available at
 *    once; outstanding refund debt is collected from the new earnings), and the events
 *    order.committed, points.changed (when points moved) and tier.changed (when the tier moved).
 * `policy` may be NULL (points available at once, never expire, no tiers). `result` may be NULL;
 * otherwise free it with perk_store_commit_result_free() whatever the status. After a failure
 * only `failures` (BUDGET_EXCEEDED) and `points_available` (INSUFFICIENT_POINTS) are meaningful.
 * Any other failure (FULL, IO, BUSY, READONLY...) also wrote nothing; retrying the same order is
 * always safe. */
perk_store_status perk_store_commit(perk_store *store, const perk_store_order *order,
                                    const perk_store_policy *policy, perk_store_commit_result *result);

/* ------------------------------------------------------------ reservations */

/* A reservation holds, for a TTL, the budget uses, budget money, per-customer uses and coupon
 * uses a priced cart needs (Voucherify's validation lock), so that the price seen at checkout is
 * the price at payment. While open and unexpired (expires_at > the store's clock) its holds count
 * like committed uses everywhere the store counts: perk_store_budget_usage, perk_store_coupon_check
 * (in `uses` and `customer_uses`) and the checks of perk_store_commit and perk_store_reserve, so
 * that committed + held <= limit for every budget and coupon, whatever the concurrency.
 * A reservation ends when an order consumes it (order->reservation_id), when it is released, or
 * when its TTL ends: an expired one stops counting at once and is marked expired by the next
 * reserve or commit (or perk_store_reservations_sweep). Points to redeem are not held. */
#define PERK_STORE_RESERVATION_TTL_MAX (24 * 3600)

/* Holds what `order` needs (its promos with their discounts and its coupons; its lines, points
 * and order_json are not kept) under `reservation_id` (1..255 bytes, unique) for `ttl_seconds`
 * (1 .. PERK_STORE_RESERVATION_TTL_MAX) from the store's clock. Checked exactly as
 * perk_store_commit checks an order (published version and its limits, time within the skew,
 * budgets and coupons counting other open reservations): PERK_STORE_BUDGET_EXCEEDED with the
 * failures in result, and nothing held, when something is taken. result->reservation_expires_at
 * gets the expiry. A reservation id used before is PERK_STORE_CONFLICT. Free result as for a
 * commit. */
perk_store_status perk_store_reserve(perk_store *store, const char *reservation_id,
                                     const perk_store_order *order, int64_t ttl_seconds,
                                     perk_store_commit_result *result);

/* clang-format off: a table, aligned by hand */
#define PERK_STORE_RESERVATION_STATE_LIST(X)                 \
    X(PERK_STORE_RESERVATION_OPEN, "open")                   \
    X(PERK_STORE_RESERVATION_COMMITTED, "committed")         \
    X(PERK_STORE_RESERVATION_RELEASED, "released")           \
    X(PERK_STORE_RESERVATION_EXPIRED, "expired")
/* clang-format on */

typedef enum perk_store_reservation_state {
#define PERK_STORE_RESERVATION_ENUM(name, text) name,
    PERK_STORE_RESERVATION_STATE_LIST(PERK_STORE_RESERVATION_ENUM)
#undef PERK_STORE_RESERVATION_ENUM
} perk_store_reservation_state;

/* "open", "committed", "released", "expired". */
const char *perk_store_reservation_state_name(perk_store_reservation_state state);

typedef struct perk_store_reservation_info {
    perk_store_reservation_state state; /* EXPIRED as soon as the TTL ended, marked or not */
    char customer_id[256];
    char order_id[256]; /* the cart's order id; when COMMITTED, the order that consumed it */
    int64_t ruleset_version;
    int64_t created_at, expires_at;
    int64_t ended_at;              /* 0 while open */
    int64_t promos, coupons;       /* holds */
    int64_t discount;              /* budget money held, minor units */
} perk_store_reservation_info;

/* Reads a reservation (PERK_STORE_NOT_FOUND when there is none with that id). */
perk_store_status perk_store_reservation_get(perk_store *store, const char *reservation_id,
                                             perk_store_reservation_info *out);

/* Ends an open reservation now, giving its holds back (*released true). Releasing one that
 * already ended changes nothing (*released false); one consumed by an order is
 * PERK_STORE_CONFLICT; an unknown id PERK_STORE_NOT_FOUND. `released` may be NULL. */
perk_store_status perk_store_reservation_release(perk_store *store, const char *reservation_id,
                                                 bool *released);

/* Marks every reservation whose TTL ended as expired; *expired (may be NULL) gets how many. */
perk_store_status perk_store_reservations_sweep(perk_store *store, int64_t *expired);

/* Reservations open (unexpired) at the store's clock. */
perk_store_status perk_store_reservations_open(perk_store *store, int64_t *open);

/* While set (not NULL), this handle counts the holds of that reservation as not there: a checkout
 * pricing the order that will consume it sees the budgets and coupons the reservation holds for
 * it. NULL clears it. The id is copied (at most 255 bytes). */
perk_store_status perk_store_exclude_reservation(perk_store *store, const char *reservation_id);

/* One budget use or coupon use held by a committed order (perk_store_order_uses). */
typedef struct perk_store_order_use {
    const char *ruleset, *promo_id; /* a promotion budget use; both NULL for a coupon use */
    int64_t discount;               /* counted against the promotion's money budget */
    const char *coupon;             /* a coupon use: the normalised code; NULL for a budget use */
} perk_store_order_use;

typedef int (*perk_store_order_use_cb)(const perk_store_order_use *use, void *ctx);

/* Looks up a committed order: *found is false when `order_id` was never committed (not an
 * error). Otherwise *ruleset_version (may be NULL) gets the version it was priced with, and `cb`
 * (may be NULL) every budget use and coupon use the order still holds (uses released by a
 * cancellation are left out). A checkout retrying an order uses it to evaluate the order as it
 * was first evaluated, with budgets and coupon verdicts that do not count the order's own uses,
 * so that the retry has the same content and perk_store_commit() replays it. */
perk_store_status perk_store_order_uses(perk_store *store, const char *order_id, bool *found,
                                        int64_t *ruleset_version, perk_store_order_use_cb cb, void *ctx);

/* ------------------------------------------------------------------ refunds */

typedef struct perk_store_refund_line {
    const char *line_id;
    int64_t amount; /* > 0 */
} perk_store_refund_line;

typedef struct perk_store_refund_result {
    bool replay;                 /* refund_id was recorded before: first outcome returned */
    int64_t amount;              /* refunded by this refund */
    int64_t refunded_total;      /* by all refunds of the order, this one included */
    bool full;                   /* the order is now fully refunded (cancelled) */
    int64_t points_reversed;     /* points taken back by ledger entries */
    int64_t points_expired_part; /* part of the reversal that had already expired (not taken) */
    int64_t points_shortfall;    /* part the customer had already spent: recorded as debt */
    int64_t points_returned;     /* redeemed points given back on a full cancellation */
    bool budget_released;
    char tier[PERK_STORE_NAME_MAX];
    bool tier_changed;
    /* When the order became fully refunded: its reward codes (perk_store_commit_result.reward_codes)
     * not used by a committed order were revoked (revoked_by "refund"); those already used are
     * kept. A partial refund keeps them all (both 0). */
    int64_t rewards_revoked, rewards_kept;
} perk_store_refund_result;

/* Records refund `refund_id` of `order_id` at `now`, idempotent by refund_id (same refund again:
 * first outcome with replay set; same id with other content: PERK_STORE_CONFLICT).
 *  - lines == NULL: refund the whole rest of the order (refunded_amount must be 0 or that rest);
 *    otherwise the line amounts must add up to refunded_amount (0 = take their sum).
 *  - Refund lines are checked against the lines recorded with the order: a line the order does
 *    not have, a line named twice in one refund, or more than a line's final amount minus what
 *    earlier refunds took from it is PERK_STORE_INVALID (nothing written). An order committed
 *    without lines can only be refunded as a whole (lines == NULL).
 *  - Points: with E earned, P payable and R the total refunded so far (this refund included),
 *    the order keeps floor(E * (P - R) / P) points (all E are reversed once R == P; an order
 *    with P == 0 loses all E on a whole-order refund). The reversal takes the order's own
 *    unspent points first, then treats the part that already expired as gone, then other
 *    available points; what is still missing (the customer spent it) is NOT taken into a
 *    negative balance: it is recorded as a debt (points_debts) explained in the event, and
 *    collected from the customer's future earnings.
 *  - When the order becomes fully refunded: its redeemed points are given back (an "adjust"
 *    entry) and, if release_budget, its budget and coupon uses are released.
 * Emits order.refunded, points.changed and tier.changed (as needed). */
perk_store_status perk_store_refund(perk_store *store, const char *order_id, const char *refund_id,
                                    const perk_store_refund_line *lines, size_t n_lines,
                                    int64_t refunded_amount, int64_t now, const perk_store_policy *policy,
                                    bool release_budget, perk_store_refund_result *result);

/* ------------------------------------------------------------------- points */

typedef struct perk_store_points_summary {
    int64_t balance;                /* available now (expired points excluded even if not yet
                                   written off by perk_store_expire_points) */
    int64_t pending;                /* earned, not yet available */
    int64_t expiring_soon;          /* available points expiring within 30 days */
    int64_t next_expiry_at;         /* earliest expiry of available points; 0 = none */
    int64_t debt;                   /* refund shortfall not yet collected */
    char tier[PERK_STORE_NAME_MAX]; /* "" = none */
} perk_store_points_summary;

/* Points of `customer` at `now`, derived from the ledger. With a policy the tier is computed
 * from spend; with NULL it is the last tier recorded at a commit/refund/expiry. */
perk_store_status perk_store_points(perk_store *store, const char *customer, int64_t now,
                                    const perk_store_policy *policy, perk_store_points_summary *out);

/* One ledger entry. points are signed: earn > 0; redeem, expire, reverse < 0; adjust either. */
typedef struct perk_store_ledger_entry {
    int64_t id;
    const char *order_id; /* NULL when not tied to an order */
    const char *customer_id;
    const char *kind; /* "earn" "redeem" "expire" "adjust" "reverse" */
    int64_t points;
    int64_t created_at;
    int64_t available_at; /* when the entry counts towards the balance */
    int64_t expires_at;   /* for earning entries; 0 = never */
    const char *rule_id;  /* NULL unless earned by a rule */
    const char *note;     /* NULL or a human explanation */
} perk_store_ledger_entry;

typedef int (*perk_store_ledger_cb)(const perk_store_ledger_entry *e, void *ctx);

/* The customer's ledger, oldest first. */
perk_store_status perk_store_points_history(perk_store *store, const char *customer, perk_store_ledger_cb cb,
                                            void *ctx);

/* Writes "expire" entries for every available point whose expiry is <= now (oldest points are
 * spent first, so they are the ones that expire). Idempotent: running it twice at the same time
 * writes nothing the second time. With a policy, also re-checks the tier of every customer who
 * has one (spend leaving the window) and records tier.changed events. Emits points.changed per
 * customer. `expired_points` and `customers` (may be NULL) get the totals written. */
perk_store_status perk_store_expire_points(perk_store *store, int64_t now, const perk_store_policy *policy,
                                           int64_t *expired_points, int64_t *customers);

/* ------------------------------------------------------------------- outbox */

/* Events are written in the same transaction as their cause; ids strictly increase and are
 * never reused. `data` is compact JSON with sorted keys (see docs/events.md). */
typedef int (*perk_store_event_cb)(int64_t id, const char *type, int64_t time, const char *data, void *ctx);

/* Up to `limit` (1..10000) events with id > after_id, oldest first. The batch is read before
 * the first callback, so the callback may call perk_store_ack() on the same handle. */
perk_store_status perk_store_events(perk_store *store, int64_t after_id, int limit, perk_store_event_cb cb,
                                    void *ctx);

/* Records that `consumer` has processed every event up to `id`. Positions only move forward
 * (acknowledging an older id is a no-op); acknowledging an id that does not exist yet is
 * PERK_STORE_INVALID. Consumer names: 1..255 bytes. */
perk_store_status perk_store_ack(perk_store *store, const char *consumer, int64_t id);

/* The last id acknowledged by `consumer` (0 for a consumer never seen). */
perk_store_status perk_store_consumer_position(perk_store *store, const char *consumer, int64_t *id);

/* Several nodes may run a relay of the same consumer (every `perk serve --webhook` of a shop):
 * one delivers at a time, so the consumer's events go out in id order whichever node is up. A
 * relay claims the consumer before each batch; the claim lasts ttl_seconds and is renewed by each
 * claim of its holder. It is granted when no one holds it, when `holder` holds it already, or
 * when the other holder's claim ended (that node stopped renewing: it died or hangs). Claims
 * are times of the callers' clocks (`now`), so nodes' clocks must agree to well within the TTL.
 * out (may be NULL) gets the outcome and who holds the claim after the call. Holder names: 1..63
 * bytes. */
typedef struct perk_store_claim {
    bool granted;
    char holder[PERK_STORE_NAME_MAX]; /* who holds it after the call */
    int64_t until;                    /* when that claim ends */
} perk_store_claim;
perk_store_status perk_store_consumer_claim(perk_store *store, const char *consumer, const char *holder,
                                            int64_t now, int64_t ttl_seconds, perk_store_claim *out);

/* Gives the claim up (a relay that stops), so another node takes over at once. A claim held by
 * another holder is left alone (PERK_STORE_OK: nothing to give up). */
perk_store_status perk_store_consumer_release(perk_store *store, const char *consumer, const char *holder);

/* perk_store_ack by the holder of the consumer's claim: PERK_STORE_CONFLICT and nothing written
 * when another node holds it now (this one's claim ended and was taken over), so a relay that
 * stalled past its claim cannot move the position under the node that took over. */
perk_store_status perk_store_ack_held(perk_store *store, const char *consumer, const char *holder, int64_t id);

/* ---------------------------------------------------------------- integrity */

typedef int (*perk_store_problem_cb)(const char *problem, void *ctx);

/* Checks the store: SQLite's structure (PRAGMA quick_check), then its records against each
 * other: every committed order's earn and redeem entries present once and matching the order,
 * no ledger entry of an order that does not exist, budget and coupon counters equal to their use
 * rows (and coupon uses within max_uses), refunds within what the order and each line paid, and
 * every customer's ledger replaying with each debit covered and a sum that is not negative.
 * Each problem found goes to `cb` (may be NULL; returning non-zero stops the reports, not the
 * count) and is counted in *problems. Returns PERK_STORE_OK when the check ran (problems or
 * not); another status when it could not read the store. One read transaction: a consistent
 * snapshot while checkouts keep writing. */
perk_store_status perk_store_check(perk_store *store, perk_store_problem_cb cb, void *ctx, int64_t *problems);

/* ---------------------------------------------------------------- copy */

typedef void (*perk_store_copy_cb)(const char *table, int64_t rows, void *ctx);

/* perk db copy: every row of `from` into `to`, which must be empty (PERK_STORE_CONFLICT naming a
 * table that holds rows otherwise), whatever the backends of the two (SQLite, PostgreSQL). The
 * tables go in dependency order with their ids as they are, read in one snapshot of `from` and
 * written in one transaction on `to` (all or nothing); PostgreSQL identity sequences are moved past
 * the copied ids. A table either store has that this program does not know is refused. Then `cb`
 * (may be NULL) gets each table's row count. The message of any failure, on either side, is on
 * `to` (perk_store_errmsg(to)). */
perk_store_status perk_store_copy(perk_store *from, perk_store *to, perk_store_copy_cb cb, void *ctx);

/* ---------------------------------------------------------------- customers */

/* The customer facts the store owns (docs/operations.md, "Who supplies each fact"): a checkout
 * prices an order with these, not with what the cart claims. */
typedef struct perk_store_customer_facts {
    char tier[PERK_STORE_NAME_MAX]; /* the tier last recorded (tier_state); "" = none */
    int64_t points_balance;         /* available at `now`: pending and expired points excluded */
    int64_t order_count;            /* committed orders not cancelled (fully refunded) */
    bool has_record;                /* the CRM recorded the customer (perk_store_customer_set) */
    int64_t member_since_days;      /* with has_record: days since 1970-01-01, -1 = not a member */
} perk_store_customer_facts;

/* Records the CRM's membership of `customer`: member since the day `member_since_days` (days
 * since 1970-01-01, 0001-01-01 .. 9999-12-31), or -1 = not a member. Replaces an earlier record. */
perk_store_status perk_store_customer_set(perk_store *store, const char *customer, int64_t member_since_days,
                                          int64_t now);

/* The facts of `customer` at `now` from the store's own records. `except_order` (NULL = none):
 * an order already committed that is being retried; it is left out (its points, its tier change,
 * its count) so the retry is priced as the first time. A customer the store has never seen has
 * no tier, no points, no orders and no record. */
perk_store_status perk_store_customer_get(perk_store *store, const char *customer, const char *except_order,
                                            int64_t now, perk_store_customer_facts *out);
/* An online backup to `path` with SQLite's backup API (src/store/backup.c): one read
 * transaction, so the copy is one consistent snapshot while checkouts keep writing (WAL readers
 * do not block writers). Written to a temporary file beside path, checked (PRAGMA quick_check),
 * fsynced and renamed over path, so path is either the old file or the whole new copy. path must
 * be a regular file or absent (a symbolic link, directory or device is refused), and not the
 * store itself. *pages (may be NULL) gets the number of pages copied. */
perk_store_status perk_store_backup(perk_store *store, const char *path, int64_t *pages);

/* ----------------------------------------------------------------- API keys */

/* Keys of `perk serve` (docs/service.md). Only their SHA-256 is stored; the key is returned once
 * by perk_store_key_create. Scopes: "read", "checkout", "operator". */
#define PERK_STORE_KEY_MAX 64        /* "perk_" + 48 hex digits + NUL fits */
#define PERK_STORE_KEY_PREFIX_LEN 12 /* the part shown in logs and listings */

typedef struct perk_store_key_info {
    bool found; /* the key exists and is not revoked */
    int64_t id;
    char prefix[PERK_STORE_KEY_PREFIX_LEN + 1];
    char scope[16];
} perk_store_key_info;

/* Nothing to do since schema version 7 creates the key table (kept for older callers). */
perk_store_status perk_store_keys_prepare(perk_store *store);
/* A new random key with `scope` and a `name` (who or what it is for) into key_out. */
perk_store_status perk_store_key_create(perk_store *store, const char *scope, const char *name, int64_t now,
                                        char key_out[PERK_STORE_KEY_MAX], int64_t *id_out);
/* Finds a key by its hash: out->found false (and PERK_STORE_OK) when unknown or revoked. */
perk_store_status perk_store_key_lookup(perk_store *store, const char *key, perk_store_key_info *out);
/* Revokes key `id` from `now` (PERK_STORE_NOT_FOUND when no such active key). */
perk_store_status perk_store_key_revoke(perk_store *store, int64_t id, int64_t now);

/* ------------------------------------------------ console operators (users.c) */

/* Operators of the console (docs/console.md): a name, a role (viewer, editor, publisher) and an
 * Argon2id password hash with a per-user random salt. A session is a random token whose SHA-256
 * only is stored, with a CSRF token bound to it and an expiry. Every change (users added or
 * removed, sign-ins, publishes...) goes to the audit log: who, what, when. */
#define PERK_STORE_USER_NAME_MAX 64
#define PERK_STORE_PASSWORD_MIN 8
#define PERK_STORE_PASSWORD_MAX 1024
#define PERK_STORE_TOKEN_LEN 64 /* hex digits of a session or CSRF token (256 bits) */

typedef struct perk_store_user {
    int64_t id;
    char name[PERK_STORE_USER_NAME_MAX + 1];
    char role[16];
    int64_t created_at;
} perk_store_user;

/* Adds operator `name` with `role` and the password (len bytes, PERK_STORE_PASSWORD_MIN..MAX),
 * hashed with Argon2id; writes "user.add" to the audit log as `actor`, in the same transaction.
 * PERK_STORE_CONFLICT when the name exists, PERK_STORE_INVALID for a bad name, role or password. */
perk_store_status perk_store_user_add(perk_store *store, const char *name, const char *role, const char *password,
                                      size_t len, const char *actor, int64_t now);
/* Removes operator `name` and its sessions, audited as "user.remove" (NOT_FOUND when unknown). */
perk_store_status perk_store_user_remove(perk_store *store, const char *name, const char *actor, int64_t now);
/* Every operator, by name. */
typedef int (*perk_store_user_cb)(void *ctx, const perk_store_user *user);
perk_store_status perk_store_users(perk_store *store, perk_store_user_cb cb, void *ctx);
/* Checks a password: *ok true and *out filled when `name` exists and the password matches. An
 * unknown name costs the same Argon2id time as a wrong password (no user enumeration by timing). */
perk_store_status perk_store_user_verify(perk_store *store, const char *name, const char *password, size_t len,
                                         perk_store_user *out, bool *ok);
/* A new session of user `user_id` valid until now + ttl: the token for the cookie and the CSRF
 * token, each PERK_STORE_TOKEN_LEN hex digits + NUL. Expired sessions are deleted on the way. */
perk_store_status perk_store_session_create(perk_store *store, int64_t user_id, int64_t now, int64_t ttl,
                                            char token[PERK_STORE_TOKEN_LEN + 1],
                                            char csrf[PERK_STORE_TOKEN_LEN + 1]);
/* The session of `token` if it exists and has not expired at `now`: *found, its user and CSRF. */
perk_store_status perk_store_session_lookup(perk_store *store, const char *token, int64_t now,
                                            perk_store_user *user, char csrf[PERK_STORE_TOKEN_LEN + 1],
                                            bool *found);
/* Ends the session of `token` (OK also when there is none). */
perk_store_status perk_store_session_delete(perk_store *store, const char *token);
/* Appends an entry to the audit log (actor, action and detail: at most 255, 64, 4096 bytes). */
perk_store_status perk_store_audit(perk_store *store, int64_t now, const char *actor, const char *action,
                                   const char *detail);
typedef struct perk_store_audit_entry {
    int64_t id, at;
    const char *actor, *action, *detail; /* borrowed: valid during the callback */
} perk_store_audit_entry;
typedef int (*perk_store_audit_cb)(void *ctx, const perk_store_audit_entry *entry);
/* The newest `limit` entries with id below `before` (0 = from the newest), newest first. */
perk_store_status perk_store_audit_list(perk_store *store, int64_t before, int64_t limit, perk_store_audit_cb cb,
                                        void *ctx);

/* ------------------------------------------------ the console's drafts (drafts.c) */

/* A rule-set draft kept on the server for the console's operators (docs/console.md, "Drafts on
 * the server"), so that an editor's work reaches the publisher who reviews it: a name, the sources
 * as a version keeps them (the JSON object {path: text}: the main file and the files it includes),
 * the active version it started from, who saved it last and when, and a revision each save
 * increments. A save names the revision it was based on, so that it never silently overwrites a
 * colleague's later save. */
#define PERK_STORE_DRAFT_NAME_MAX 64
#define PERK_STORE_DRAFT_SOURCES_MAX (4u * 1024u * 1024u)

typedef struct perk_store_draft {
    char name[PERK_STORE_DRAFT_NAME_MAX + 1];
    char *sources; /* perk_store_draft_get: malloc'ed (perk_store_free_draft); NULL in a listing */
    char saved_by[256];
    int64_t saved_at, revision;
    int64_t base_version; /* the active version when the draft was first saved, 0 = none */
} perk_store_draft;

/* Saves draft `name` (UTF-8 without control characters, 1..64 bytes) as `actor`. With
 * expected_revision 0 it must be new (CONFLICT when a draft of that name exists); else the draft
 * must still be at expected_revision (CONFLICT naming who saved which revision when, when it was
 * saved since; NOT_FOUND when it was deleted). *revision gets the new revision (1 for a new one).
 * base_version is kept from the first save. Audited as "draft.save" in the same transaction. */
perk_store_status perk_store_draft_save(perk_store *store, const char *name, const char *sources, int64_t base_version,
                                        int64_t expected_revision, const char *actor, int64_t now, int64_t *revision);
/* Draft `name` with its sources (NOT_FOUND when there is none). */
perk_store_status perk_store_draft_get(perk_store *store, const char *name, perk_store_draft *out);
void perk_store_free_draft(perk_store_draft *draft);
/* Every draft, the most recently saved first, without sources. */
typedef int (*perk_store_draft_cb)(void *ctx, const perk_store_draft *draft);
perk_store_status perk_store_drafts(perk_store *store, perk_store_draft_cb cb, void *ctx);
/* Deletes draft `name`, which must be at expected_revision (0: whatever its revision); audited
 * as "draft.delete". NOT_FOUND, or CONFLICT when it was saved since. */
perk_store_status perk_store_draft_delete(perk_store *store, const char *name, int64_t expected_revision,
                                          const char *actor, int64_t now);

/* --------------------------------------------- results of campaigns (report.c) */

/* What promotions and points did over the orders committed in [from, to) (epoch seconds, order
 * time): the console's Results page and `perk report`. Released uses (orders cancelled or fully
 * refunded with release_budget) are not counted. */
typedef struct perk_store_promo_report {
    const char *ruleset, *promo_id; /* borrowed: valid during the callback */
    int64_t uses;                   /* times applied */
    int64_t discount;               /* discount given, shipping discount included (minor units) */
    int64_t orders;                 /* distinct orders it applied to */
    int64_t revenue;                /* payable of those orders (minor units) */
} perk_store_promo_report;
typedef int (*perk_store_promo_report_cb)(void *ctx, const perk_store_promo_report *row);
/* One row per (rule set, promotion) that applied in the period, by rule set then promotion. */
perk_store_status perk_store_report_promotions(perk_store *store, int64_t from, int64_t to,
                                              perk_store_promo_report_cb cb, void *ctx);

typedef struct perk_store_period_report {
    int64_t orders, subtotal, discount, payable; /* orders committed in the period, money in minor units */
    int64_t points_issued, points_redeemed, points_expired; /* ledger earn / redeem / expire, as positive numbers */
} perk_store_period_report;
/* The totals of the period. */
perk_store_status perk_store_report_period(perk_store *store, int64_t from, int64_t to,
                                          perk_store_period_report *out);
/* Orders and discount per quarter of an hour of the period, oldest first: `start` is the epoch
 * second the quarter begins (a multiple of 900). Every time zone's offset is a whole number of
 * quarters, so the caller adds them up into the days of the shop's zone (src/tools/report.c). */
typedef int (*perk_store_quarter_report_cb)(void *ctx, int64_t start, int64_t orders, int64_t discount);
perk_store_status perk_store_report_quarters(perk_store *store, int64_t from, int64_t to,
                                             perk_store_quarter_report_cb cb, void *ctx);
/* Loyalty per tier over the period: orders and their payable, points issued and redeemed by the
 * tier the customer had when ordering (orders.out_previous_tier, "" = none), points expired by the
 * customer's tier now (tier_state). One row per tier that has any, by tier name. */
typedef struct perk_store_tier_report {
    const char *tier; /* borrowed: valid during the callback; "" = no tier */
    int64_t orders, revenue;
    int64_t points_issued, points_redeemed, points_expired; /* positive numbers */
} perk_store_tier_report;
typedef int (*perk_store_tier_report_cb)(void *ctx, const perk_store_tier_report *row);
perk_store_status perk_store_report_tiers(perk_store *store, int64_t from, int64_t to, perk_store_tier_report_cb cb,
                                          void *ctx);
/* The order JSON of the `limit` most recent committed orders that kept it, oldest first (the
 * what-if replay of a draft). */
typedef int (*perk_store_order_json_cb)(void *ctx, const char *order_json);
perk_store_status perk_store_recent_orders(perk_store *store, int64_t limit, perk_store_order_json_cb cb,
                                           void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* PERK_STORE_H */
