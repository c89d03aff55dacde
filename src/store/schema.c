/* schema.c - the SQLite database schema as a list of versioned migration steps, and the code
 * that applies them. PRAGMA user_version holds the schema version. Steps are never edited once
 * released: a change is a new step appended to the list. SQLite-only (SQLite's SQL dialect,
 * PRAGMAs, sqlite_schema), though it talks to the database through the driver layer. */
#include "store_internal.h"

#include <stdio.h>

/* Version 1: the first release. Tables only (plus the uniqueness constraints that make
 * idempotency safe). The ledger is append-only, enforced by triggers. */
static const char schema_v1[] =
    "PRAGMA application_id = 1346720331;\n" /* 'PERK' */
    "CREATE TABLE versions (\n"
    "  id          INTEGER PRIMARY KEY,\n"
    "  created_at  INTEGER NOT NULL,\n"
    "  author      TEXT NOT NULL,\n"
    "  message     TEXT NOT NULL,\n"
    "  checksum    TEXT NOT NULL,\n" /* SHA-256 of bytecode, lowercase hex */
    "  bytecode    BLOB NOT NULL,\n"
    "  sources     TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE activations (\n"
    "  id          INTEGER PRIMARY KEY,\n"
    "  version_id  INTEGER NOT NULL REFERENCES versions(id),\n"
    "  activate_at INTEGER NOT NULL,\n"
    "  created_at  INTEGER NOT NULL,\n"
    "  kind        TEXT NOT NULL CHECK (kind IN ('publish', 'rollback')),\n"
    "  author      TEXT NOT NULL,\n"
    "  message     TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE coupons (\n"
    "  code             TEXT PRIMARY KEY,\n" /* normalised */
    "  campaign         TEXT NOT NULL,\n"
    "  created_at       INTEGER NOT NULL,\n"
    "  expires_at       INTEGER NOT NULL,\n" /* 0 = never */
    "  max_uses         INTEGER NOT NULL,\n" /* 0 = unlimited */
    "  max_per_customer INTEGER NOT NULL,\n" /* 0 = unlimited */
    "  only_customer    TEXT\n"
    ");\n"
    "CREATE TABLE orders (\n"
    "  order_id        TEXT PRIMARY KEY,\n"
    "  customer_id     TEXT NOT NULL,\n"
    "  ruleset         TEXT NOT NULL,\n"
    "  ruleset_version INTEGER NOT NULL,\n"
    "  time            INTEGER NOT NULL,\n"
    "  currency        TEXT NOT NULL,\n"
    "  subtotal        INTEGER NOT NULL,\n"
    "  discount        INTEGER NOT NULL,\n"
    "  shipping        INTEGER NOT NULL,\n"
    "  payable         INTEGER NOT NULL,\n"
    "  points_earned   INTEGER NOT NULL,\n"
    "  points_redeemed INTEGER NOT NULL,\n"
    "  fingerprint     TEXT NOT NULL,\n" /* SHA-256 of the canonical order content */
    "  order_json      TEXT,\n"
    /* outcome of the first commit, returned on replays */
    "  out_available_at    INTEGER NOT NULL DEFAULT 0,\n"
    "  out_debt_collected  INTEGER NOT NULL DEFAULT 0,\n"
    "  out_balance         INTEGER NOT NULL DEFAULT 0,\n"
    "  out_pending         INTEGER NOT NULL DEFAULT 0,\n"
    "  out_tier            TEXT NOT NULL DEFAULT '',\n"
    "  out_previous_tier   TEXT NOT NULL DEFAULT '',\n"
    "  out_tier_changed    INTEGER NOT NULL DEFAULT 0,\n"
    "  out_event_id        INTEGER NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE TABLE coupon_uses (\n"
    "  id          INTEGER PRIMARY KEY,\n"
    "  code        TEXT NOT NULL REFERENCES coupons(code),\n"
    "  order_id    TEXT NOT NULL REFERENCES orders(order_id),\n"
    "  customer_id TEXT NOT NULL,\n"
    "  used_at     INTEGER NOT NULL,\n"
    "  released_at INTEGER,\n" /* set when a cancellation gives the use back */
    "  UNIQUE (code, order_id)\n"
    ");\n"
    "CREATE TABLE budget_uses (\n"
    "  id          INTEGER PRIMARY KEY,\n"
    "  ruleset     TEXT NOT NULL,\n"
    "  promo_id    TEXT NOT NULL,\n"
    "  order_id    TEXT NOT NULL REFERENCES orders(order_id),\n"
    "  customer_id TEXT NOT NULL,\n"
    "  discount    INTEGER NOT NULL,\n"
    "  used_at     INTEGER NOT NULL,\n"
    "  released_at INTEGER,\n"
    "  UNIQUE (ruleset, promo_id, order_id)\n"
    ");\n"
    "CREATE TABLE points_debts (\n"
    "  id          INTEGER PRIMARY KEY,\n"
    "  customer_id TEXT NOT NULL,\n"
    "  order_id    TEXT NOT NULL REFERENCES orders(order_id),\n"
    "  refund_id   TEXT NOT NULL,\n"
    "  points      INTEGER NOT NULL CHECK (points > 0),\n"
    "  created_at  INTEGER NOT NULL,\n"
    "  note        TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE ledger (\n"
    "  id           INTEGER PRIMARY KEY,\n"
    "  order_id     TEXT REFERENCES orders(order_id),\n"
    "  customer_id  TEXT NOT NULL,\n"
    "  kind         TEXT NOT NULL CHECK (kind IN ('earn','redeem','expire','adjust','reverse')),\n"
    "  points       INTEGER NOT NULL,\n"
    "  created_at   INTEGER NOT NULL,\n"
    "  available_at INTEGER NOT NULL,\n"
    "  expires_at   INTEGER NOT NULL DEFAULT 0,\n"
    "  rule_id      TEXT,\n"
    "  note         TEXT,\n"
    "  ref_id       INTEGER REFERENCES ledger(id),\n"      /* the lot a targeted debit takes from */
    "  debt_id      INTEGER REFERENCES points_debts(id)\n" /* debt this adjust entry collects */
    ");\n"
    "CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger\n"
    "  BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only'); END;\n"
    "CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger\n"
    "  BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only'); END;\n"
    "CREATE TABLE refunds (\n"
    "  refund_id        TEXT PRIMARY KEY,\n"
    "  order_id         TEXT NOT NULL REFERENCES orders(order_id),\n"
    "  amount           INTEGER NOT NULL,\n"
    "  lines_json       TEXT,\n"
    "  fingerprint      TEXT NOT NULL,\n"
    "  created_at       INTEGER NOT NULL,\n"
    "  full             INTEGER NOT NULL,\n"
    "  points_target    INTEGER NOT NULL,\n" /* reversal due by the formula */
    "  points_reversed  INTEGER NOT NULL,\n"
    "  points_expired   INTEGER NOT NULL,\n"
    "  points_shortfall INTEGER NOT NULL,\n"
    "  points_returned  INTEGER NOT NULL,\n"
    "  budget_released  INTEGER NOT NULL,\n"
    "  tier             TEXT NOT NULL,\n"
    "  tier_changed     INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE tier_state (\n"
    "  customer_id TEXT PRIMARY KEY,\n"
    "  tier        TEXT NOT NULL,\n"
    "  changed_at  INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE events (\n"
    "  id         INTEGER PRIMARY KEY AUTOINCREMENT,\n" /* never reused */
    "  type       TEXT NOT NULL,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  data       TEXT NOT NULL\n"
    ");\n";

/* Version 2: indexes for the hot queries, running totals of budgets and coupon uses (kept in
 * the same transactions as the use rows, back-filled here), and outbox consumer positions. */
static const char schema_v2[] =
    "CREATE INDEX ledger_by_customer ON ledger(customer_id, available_at);\n"
    "CREATE INDEX ledger_by_order ON ledger(order_id);\n"
    "CREATE INDEX ledger_expiring ON ledger(expires_at) WHERE expires_at <> 0;\n"
    "CREATE INDEX orders_by_customer ON orders(customer_id, time);\n"
    "CREATE INDEX budget_uses_by_customer ON budget_uses(ruleset, promo_id, customer_id)\n"
    "  WHERE released_at IS NULL;\n"
    "CREATE INDEX budget_uses_by_order ON budget_uses(order_id);\n"
    "CREATE INDEX coupon_uses_by_customer ON coupon_uses(code, customer_id)\n"
    "  WHERE released_at IS NULL;\n"
    "CREATE INDEX coupon_uses_by_order ON coupon_uses(order_id);\n"
    "CREATE INDEX refunds_by_order ON refunds(order_id);\n"
    "CREATE INDEX debts_by_customer ON points_debts(customer_id);\n"
    "CREATE INDEX activations_by_time ON activations(activate_at, id);\n"
    "CREATE INDEX activations_by_version ON activations(version_id, activate_at);\n"
    "CREATE TABLE budget_totals (\n"
    "  ruleset  TEXT NOT NULL,\n"
    "  promo_id TEXT NOT NULL,\n"
    "  uses     INTEGER NOT NULL,\n"
    "  money    INTEGER NOT NULL,\n"
    "  PRIMARY KEY (ruleset, promo_id)\n"
    ");\n"
    "INSERT INTO budget_totals (ruleset, promo_id, uses, money)\n"
    "  SELECT ruleset, promo_id, COUNT(*), SUM(discount) FROM budget_uses\n"
    "  WHERE released_at IS NULL GROUP BY ruleset, promo_id;\n"
    "ALTER TABLE coupons ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;\n"
    "UPDATE coupons SET uses = (SELECT COUNT(*) FROM coupon_uses u\n"
    "  WHERE u.code = coupons.code AND u.released_at IS NULL);\n"
    "CREATE TABLE consumers (\n"
    "  name     TEXT PRIMARY KEY,\n"
    "  position INTEGER NOT NULL\n"
    ");\n";

/* Version 3: the lines of an order with their final amounts, and what each refund took from
 * each line, so that refunds by line are checked (a line refunded at most once over). */
static const char schema_v3[] = "CREATE TABLE order_lines (\n"
                                "  order_id TEXT NOT NULL REFERENCES orders(order_id),\n"
                                "  line_id  TEXT NOT NULL,\n"
                                "  amount   INTEGER NOT NULL CHECK (amount >= 0),\n"
                                "  PRIMARY KEY (order_id, line_id)\n"
                                ");\n"
                                "CREATE TABLE refund_lines (\n"
                                "  refund_id TEXT NOT NULL REFERENCES refunds(refund_id),\n"
                                "  order_id  TEXT NOT NULL,\n"
                                "  line_id   TEXT NOT NULL,\n"
                                "  amount    INTEGER NOT NULL CHECK (amount > 0),\n"
                                "  PRIMARY KEY (refund_id, line_id)\n"
                                ");\n"
                                "CREATE INDEX refund_lines_by_line ON refund_lines(order_id, line_id);\n";

/* Version 4: the ledger refuses an insert that reuses an existing id. INSERT OR REPLACE would
 * otherwise delete the old entry and write another in its place: the DELETE trigger does not
 * fire for a REPLACE's implicit delete unless recursive triggers are on. A BEFORE INSERT trigger
 * runs before the conflict is resolved, so it sees the old row and aborts. */
static const char schema_v4[] =
    "CREATE TRIGGER ledger_no_replace BEFORE INSERT ON ledger\n"
    "  WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM ledger WHERE id = NEW.id)\n"
    "  BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only: entry ids are never reused'); END;\n";

/* Version 5: a delayed order (committed late, its time older than the clock skew allows) is
 * recorded as such. */
static const char schema_v5[] = "ALTER TABLE orders ADD COLUMN delayed INTEGER NOT NULL DEFAULT 0;\n";

/* Version 6: what the store knows of a customer that no other table holds: the membership the
 * CRM records (perk customers set, PUT /v1/customers/{id}). member_since is a day number (days
 * since 1970-01-01); NULL = not a member. A customer without a row: the cart says. */
static const char schema_v6[] = "CREATE TABLE customers (\n"
                                "  customer_id  TEXT PRIMARY KEY,\n"
                                "  member_since INTEGER,\n"
                                "  updated_at   INTEGER NOT NULL\n"
                                ");\n";

/* Version 7: reservations (the holds a priced cart keeps for a TTL, counted like committed uses
 * while open) and the API keys of `perk serve`, which were created on first use before: IF NOT
 * EXISTS, since a version-5 store that ran the service has the table already. */
static const char schema_v7[] =
    "CREATE TABLE reservations (\n"
    "  id              TEXT PRIMARY KEY,\n"
    "  customer_id     TEXT NOT NULL,\n"
    "  order_id        TEXT NOT NULL,\n" /* the cart's; the consuming order's once committed */
    "  ruleset         TEXT NOT NULL,\n"
    "  ruleset_version INTEGER NOT NULL,\n"
    "  created_at      INTEGER NOT NULL,\n"
    "  expires_at      INTEGER NOT NULL,\n"
    "  state           TEXT NOT NULL DEFAULT 'open'\n"
    "                  CHECK (state IN ('open', 'committed', 'released', 'expired')),\n"
    "  ended_at        INTEGER NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX reservations_open ON reservations(expires_at) WHERE state = 'open';\n"
    "CREATE TABLE reservation_holds (\n"
    "  id             INTEGER PRIMARY KEY,\n"
    "  reservation_id TEXT NOT NULL REFERENCES reservations(id),\n"
    "  customer_id    TEXT NOT NULL,\n"
    "  ruleset        TEXT,\n" /* a budget hold: ruleset and promo_id */
    "  promo_id       TEXT,\n"
    "  discount       INTEGER NOT NULL DEFAULT 0 CHECK (discount >= 0),\n"
    "  code           TEXT,\n" /* a coupon hold: the normalised code */
    "  CHECK ((promo_id IS NULL) <> (code IS NULL))\n"
    ");\n"
    "CREATE INDEX holds_by_promo ON reservation_holds(ruleset, promo_id) WHERE promo_id IS NOT NULL;\n"
    "CREATE INDEX holds_by_code ON reservation_holds(code) WHERE code IS NOT NULL;\n"
    "CREATE INDEX holds_by_reservation ON reservation_holds(reservation_id);\n"
    "CREATE TABLE IF NOT EXISTS api_keys (\n"
    "  id         INTEGER PRIMARY KEY,\n"
    "  hash       TEXT NOT NULL UNIQUE,\n" /* lowercase hex SHA-256 of the whole key */
    "  prefix     TEXT NOT NULL,\n"        /* the first characters: names the key in logs */
    "  scope      TEXT NOT NULL,\n"
    "  name       TEXT NOT NULL,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  revoked_at INTEGER\n"
    ");\n";
/* Version 8: operators of the console with a role and an Argon2id password hash (its
 * salt and parameters inside the encoded string), their sessions (only the SHA-256 of the token
 * is kept; the CSRF token is bound to the session) and the audit log of every change. */
static const char schema_v8[] =
    "CREATE TABLE console_users (\n"
    "  id         INTEGER PRIMARY KEY,\n"
    "  name       TEXT NOT NULL UNIQUE,\n"
    "  role       TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'publisher')),\n"
    "  password   TEXT NOT NULL,\n" /* $argon2id$v=19$m=...,t=...,p=...$salt$hash */
    "  created_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE console_sessions (\n"
    "  token_hash TEXT PRIMARY KEY,\n" /* lowercase hex SHA-256 of the cookie's token */
    "  user_id    INTEGER NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,\n"
    "  csrf       TEXT NOT NULL,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  expires_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX console_sessions_by_user ON console_sessions(user_id);\n"
    "CREATE TABLE audit_log (\n"
    "  id     INTEGER PRIMARY KEY,\n"
    "  at     INTEGER NOT NULL,\n"
    "  actor  TEXT NOT NULL,\n"
    "  action TEXT NOT NULL,\n"
    "  detail TEXT NOT NULL\n"
    ");\n";

/* Version 9: coupons issued to a customer for a period, and revoked ones. valid_from: the code
 * is valid from then (0 = from its creation); a revoked code (revoked_at not NULL) is refused
 * everywhere, and who revoked it and why are kept with it. The indexes serve a customer's wallet
 * and "is this campaign known" when issuing. */
static const char schema_v9[] = "ALTER TABLE coupons ADD COLUMN valid_from INTEGER NOT NULL DEFAULT 0;\n"
                                "ALTER TABLE coupons ADD COLUMN revoked_at INTEGER;\n"
                                "ALTER TABLE coupons ADD COLUMN revoked_by TEXT;\n"
                                "ALTER TABLE coupons ADD COLUMN revoke_reason TEXT;\n"
                                "CREATE INDEX coupons_by_customer ON coupons(only_customer, created_at)\n"
                                "  WHERE only_customer IS NOT NULL;\n"
                                "CREATE INDEX coupons_by_campaign ON coupons(campaign);\n";

/* Version 10: `limit N units per customer` - the units each order bought at a promotion's price,
 * and the units a reservation holds (docs/semantics.md 5.7). */
static const char schema_v10[] = "ALTER TABLE budget_uses ADD COLUMN units INTEGER NOT NULL DEFAULT 0;\n"
                                 "ALTER TABLE reservation_holds ADD COLUMN units INTEGER NOT NULL DEFAULT 0;\n";

/* Version 11: a consumer's claim (perk_store_consumer_claim): the node that delivers it and until
 * when, so that of several nodes' relays one delivers at a time, in id order. */
static const char schema_v11[] = "ALTER TABLE consumers ADD COLUMN holder TEXT;\n"
                                 "ALTER TABLE consumers ADD COLUMN held_until INTEGER NOT NULL DEFAULT 0;\n";

/* Version 12: 满500返50券 - the code each promotion of an order rewarded (`then coupon from "X"`),
 * issued at commit into coupons; one per order and promotion, so a retried commit finds it. */
static const char schema_v12[] = "CREATE TABLE reward_coupons (\n"
                                 "  order_id TEXT NOT NULL,\n"
                                 "  promo_id TEXT NOT NULL,\n"
                                 "  code     TEXT NOT NULL UNIQUE,\n"
                                 "  PRIMARY KEY (order_id, promo_id)\n"
                                 ");\n";

/* Version 13: the console's drafts kept on the server (drafts.c): a name, the sources as a
 * version keeps them, the active version they started from, and a revision each save increments. */
static const char schema_v13[] = "CREATE TABLE drafts (\n"
                                 "  name         TEXT PRIMARY KEY,\n"
                                 "  sources      TEXT NOT NULL,\n"
                                 "  base_version INTEGER NOT NULL DEFAULT 0,\n"
                                 "  revision     INTEGER NOT NULL,\n"
                                 "  saved_by     TEXT NOT NULL,\n"
                                 "  saved_at     INTEGER NOT NULL\n"
                                 ");\n";

const pstore_migration pstore_migrations[] = {
    { 1, "initial schema", schema_v1 },
    { 2, "indexes, budget and coupon totals, outbox consumers", schema_v2 },
    { 3, "order lines and refunded lines", schema_v3 },
    { 4, "the ledger refuses INSERT OR REPLACE of an existing entry", schema_v4 },
    { 5, "delayed orders recorded", schema_v5 },
    { 6, "customers: the CRM's membership record", schema_v6 },
    { 7, "reservations and their holds; API keys", schema_v7 },
    { 8, "console operators, sessions and the audit log", schema_v8 },
    { 9, "coupons: validity start, revocation (when, by whom, why)", schema_v9 },
    { 10, "units bought at a promotion's price, and held by reservations", schema_v10 },
    { 11, "outbox consumers: which node delivers them, until when", schema_v11 },
    { 12, "reward coupons: the codes an order earned (then coupon from ...)", schema_v12 },
    { 13, "the console's drafts kept on the server", schema_v13 },
};
const size_t pstore_n_migrations = sizeof pstore_migrations / sizeof pstore_migrations[0];

int perk_store_schema_version(void) { return (int)pstore_n_migrations; }

static perk_store_status read_user_version(perk_store *s, int64_t *v)
{
    pstore_st *st = pstore_stmt(s, "PRAGMA user_version");
    if (!st) return pstore_stmt_status(s);
    return pstore_query_int(s, st, 0, v, "reading the schema version");
}

perk_store_status pstore_migrate(perk_store *s)
{
    const int64_t latest = (int64_t)pstore_n_migrations;
    int64_t v = 0;
    perk_store_status status = read_user_version(s, &v);
    if (status != PERK_STORE_OK) return status;
    if (v > latest)
        return pstore_fail(s, PERK_STORE_SCHEMA_TOO_NEW,
                           "database schema version %lld is newer than this program's "
                           "(%lld); use a newer perk or a backup made for this version",
                           (long long)v, (long long)latest);
    if (v == latest) return PERK_STORE_OK;
    if (s->readonly && v == 0) {
        /* not a Perk store at all: say so rather than "read-only" */
        int64_t tables = 0;
        pstore_st *st = pstore_stmt(s, "SELECT COUNT(*) FROM sqlite_schema");
        status = st ? pstore_query_int(s, st, 0, &tables, "inspecting the database") : pstore_stmt_status(s);
        if (status != PERK_STORE_OK) return status;
        if (tables)
            return pstore_fail(s, PERK_STORE_CORRUPT,
                               "the file holds %lld tables or indexes but no Perk schema version: "
                               "not a Perk store (another application's database?)",
                               (long long)tables);
        return pstore_fail(s, PERK_STORE_CORRUPT,
                           "the file is an empty SQLite database, not a Perk store: nothing was "
                           "ever published to it (perk publish creates a store)");
    }
    if (s->readonly)
        return pstore_fail(s, PERK_STORE_READONLY,
                           "database schema version %lld needs migrating to %lld but the "
                           "database is read-only: open it once with write access (any "
                           "command that writes, e.g. perk expire) to migrate it",
                           (long long)v, (long long)latest);
    status = pstore_begin(s, true, "starting the schema migration");
    if (status != PERK_STORE_OK) return status;
    /* Another process may have migrated while we waited for the lock. */
    status = read_user_version(s, &v);
    if (status != PERK_STORE_OK) goto fail;
    if (v > latest) {
        status = pstore_fail(s, PERK_STORE_SCHEMA_TOO_NEW,
                             "database schema version %lld is newer than this program's (%lld)", (long long)v,
                             (long long)latest);
        goto fail;
    }
    if (v == 0) {
        /* A fresh file has no tables; anything else is some other application's database. */
        int64_t tables = 0;
        pstore_st *st = pstore_stmt(s, "SELECT COUNT(*) FROM sqlite_schema");
        status = st ? pstore_query_int(s, st, 0, &tables, "inspecting the database") : pstore_stmt_status(s);
        if (status != PERK_STORE_OK) goto fail;
        if (tables != 0) {
            status = pstore_fail(s, PERK_STORE_CORRUPT,
                                 "the file holds %lld tables or indexes but no Perk schema "
                                 "version: not a Perk store",
                                 (long long)tables);
            goto fail;
        }
    }
    for (int64_t k = v; k < latest; k++) {
        const pstore_migration *m = &pstore_migrations[k];
        char what[128];
        snprintf(what, sizeof what, "migrating the schema to version %d (%s)", m->version, m->description);
        status = pstore_exec(s, m->sql, what);
        if (status != PERK_STORE_OK) goto fail;
    }
    char set_version[64];
    snprintf(set_version, sizeof set_version, "PRAGMA user_version = %lld", (long long)latest);
    status = pstore_exec(s, set_version, "recording the schema version");
    if (status != PERK_STORE_OK) goto fail;
    status = pstore_commit(s, "committing the schema migration");
    if (status != PERK_STORE_OK) pstore_add_context(s, "; the schema was left at version %lld", (long long)v);
    return status;
fail:
    pstore_rollback(s);
    pstore_add_context(s, "; the schema was left at version %lld", (long long)v);
    return status;
}
