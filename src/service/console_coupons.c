/* console_coupons.c - the Coupons, Customers and Outbox pages' API (docs/console.md):
 *
 *   GET  campaigns                         every campaign with its codes, redeemed, revoked, left
 *   GET  coupons?campaign=C[&format=csv]   the codes of a campaign (JSON, or CSV to download)
 *   GET  coupon?code=X                     one code's verdict for anyone now
 *   POST coupons/generate                  a batch of random codes (publisher; audited)
 *   POST coupons/issue                     a code of a campaign for one customer (publisher)
 *   POST coupons/revoke                    revoke a code with a reason (publisher)
 *   GET  customer?id=ID[&after=N]          points, pending, expiring, tier, a ledger page, wallet
 *   GET  outbox[?after=N]                  a page of events and the webhook's delivery state
 *
 * Issues and revocations are audited by the store itself (coupon.issue, coupon.revoke, as the
 * signed-in operator); a batch is audited here (coupon.generate). Every coupon is shown by
 * checkout_coupon_json, as /v1 and `perk coupons --json` show it. */
#include "console_internal.h"

#include "civil.h"
#include "program.h"
#include "tz.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONSOLE_LEDGER_PAGE 20
#define CONSOLE_EVENTS_PAGE 50
#define CONSOLE_BACKLOG_MAX 10000 /* the backlog is counted up to this */
#define CONSOLE_BATCH_MAX 10000   /* codes per generated batch */
#define CONSOLE_MAX_TIERS 64      /* of a points policy */

/* A store failure as an answer: 404, 409, 400, 503 or 500 with the store's message. */
static void store_failure(console_call *c, serve_reply *r, perk_store_status st)
{
    const char *msg = perk_store_errmsg(c->w->store);
    switch (st) {
    case PERK_STORE_NOT_FOUND: serve_error(r, 404, "not_found", NULL, "%s", msg); return;
    case PERK_STORE_CONFLICT: serve_error(r, 409, "conflict", NULL, "%s", msg); return;
    case PERK_STORE_INVALID: serve_error(r, 400, "invalid_request", NULL, "%s", msg); return;
    case PERK_STORE_BUSY: serve_error(r, 503, "store_busy", NULL, "%s", msg); return;
    case PERK_STORE_UNAVAILABLE: serve_error(r, 503, "store_unavailable", NULL, "%s", msg); return;
    default: serve_error(r, 500, "store_error", NULL, "%s", msg); return;
    }
}

/* An optional integer query parameter in [min, max]; false with a 400. */
static bool query_int(console_call *c, serve_reply *r, const char *key, int64_t dflt, int64_t min, int64_t max,
                      int64_t *out)
{
    const char *v = c->query(c->conn, key);
    *out = dflt;
    if (!v) return true;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < min || n > max) {
        serve_error(r, 400, "invalid_parameter", key, "%s must be an integer from %lld to %lld", key,
                    (long long)min, (long long)max);
        return false;
    }
    *out = n;
    return true;
}

/* An optional integer member of a body in [min, max] (absent: dflt); false with a 400. */
static bool member_int(json_t *o, const char *key, int64_t dflt, int64_t min, int64_t max, int64_t *out,
                       serve_reply *r)
{
    json_t *v = json_object_get(o, key);
    *out = dflt;
    if (!v || json_is_null(v)) return true;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        serve_error(r, 400, "invalid_request", key, "%s: an integer from %lld to %lld is required", key,
                    (long long)min, (long long)max);
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

/* A required string member of 1..max bytes; NULL with a 400. */
static const char *member_text(json_t *o, const char *key, size_t max, serve_reply *r)
{
    const char *s = console_member(o, key, r);
    if (!s) return NULL;
    if (!*s || strlen(s) > max) {
        serve_error(r, 400, "invalid_request", key, "%s: 1 to %zu bytes are required", key, max);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------- campaigns */

typedef struct campaign_sum {
    json_t *list, *cur; /* cur: the campaign being counted */
    char name[PERK_STORE_NAME_MAX];
} campaign_sum;

static void add_count(json_t *o, const char *key, int64_t n)
{
    json_object_set_new(o, key, json_integer(json_integer_value(json_object_get(o, key)) + n));
}

static int count_code(const perk_store_coupon_info *k, void *p)
{
    campaign_sum *cs = p;
    if (!cs->cur || strcmp(cs->name, k->campaign) != 0) {
        cs->cur = json_pack("{s:s,s:i,s:i,s:i,s:i,s:i}", "campaign", k->campaign, "codes", 0, "uses", 0,
                            "redeemed", 0, "revoked", 0, "left", 0);
        if (!cs->cur || json_array_append_new(cs->list, cs->cur) != 0) return 1;
        snprintf(cs->name, sizeof cs->name, "%s", k->campaign);
    }
    add_count(cs->cur, "codes", 1);
    add_count(cs->cur, "uses", k->uses);
    if (k->uses > 0) add_count(cs->cur, "redeemed", 1);
    if (k->status == PERK_STORE_COUPON_REVOKED) add_count(cs->cur, "revoked", 1);
    if (k->status == PERK_STORE_COUPON_VALID || k->status == PERK_STORE_COUPON_NOT_YET_VALID)
        add_count(cs->cur, "left", 1);
    return 0;
}

static void handle_campaigns(console_call *c, serve_reply *r)
{
    campaign_sum cs = { json_array(), NULL, "" };
    perk_store_status st = perk_store_coupons_list(c->w->store, NULL, (int64_t)time(NULL), count_code, &cs);
    if (st != PERK_STORE_OK) {
        json_decref(cs.list);
        store_failure(c, r, st);
        return;
    }
    serve_json(r, 200, json_pack("{s:o}", "campaigns", cs.list));
}

/* ---------------------------------------------------------- codes, lookup */

static int add_code(const perk_store_coupon_info *k, void *p)
{
    return json_array_append_new(p, checkout_coupon_json(k)) != 0;
}

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_time(FILE *f, json_t *t)
{
    if (!json_is_integer(t)) return;
    time_t tt = (time_t)json_integer_value(t);
    struct tm tm;
    char buf[32];
    if (gmtime_r(&tt, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm)) fputs(buf, f);
}

static void handle_codes(console_call *c, serve_reply *r)
{
    const char *campaign = c->query(c->conn, "campaign"), *format = c->query(c->conn, "format");
    if (!campaign || !*campaign) {
        serve_error(r, 400, "invalid_parameter", "campaign", "campaign is required");
        return;
    }
    bool csv = format && strcmp(format, "csv") == 0;
    if (format && !csv && strcmp(format, "json") != 0) {
        serve_error(r, 400, "invalid_parameter", "format", "format must be json or csv");
        return;
    }
    json_t *codes = json_array();
    perk_store_status st = perk_store_coupons_list(c->w->store, campaign, (int64_t)time(NULL), add_code, codes);
    if (st != PERK_STORE_OK) {
        json_decref(codes);
        store_failure(c, r, st);
        return;
    }
    if (!csv) {
        serve_json(r, 200, json_pack("{s:s,s:o}", "campaign", campaign, "coupons", codes));
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
        fputs("code,campaign,status,uses,max_uses,expires_at\r\n", mem);
        size_t i;
        json_t *k;
        json_array_foreach(codes, i, k)
        {
            csv_field(mem, json_string_value(json_object_get(k, "code")));
            fputc(',', mem);
            csv_field(mem, json_string_value(json_object_get(k, "campaign")));
            fprintf(mem, ",%s,%lld,", json_string_value(json_object_get(k, "status")),
                    (long long)json_integer_value(json_object_get(k, "uses")));
            json_t *mx = json_object_get(k, "max_uses");
            if (json_is_integer(mx)) fprintf(mem, "%lld", (long long)json_integer_value(mx));
            fputc(',', mem);
            csv_time(mem, json_object_get(k, "expires_at"));
            fputs("\r\n", mem);
        }
        fclose(mem);
    }
    json_decref(codes);
    if (!text) {
        serve_error(r, 500, "internal", NULL, "out of memory");
        return;
    }
    free(r->body);
    r->body = text;
    r->len = len;
    r->status = 200;
    r->content_type = "text/csv; charset=utf-8";
}

static void handle_lookup(console_call *c, serve_reply *r)
{
    const char *code = c->query(c->conn, "code");
    char norm[PERK_STORE_CODE_MAX];
    if (!code || perk_store_coupon_normalize(code, norm) != PERK_STORE_OK) {
        serve_error(r, 400, "invalid_parameter", "code",
                    "code: 1 to 63 letters, digits, '_' ('-' and spaces are ignored)");
        return;
    }
    perk_store_coupon_info k;
    perk_store_status st = perk_store_coupon_check(c->w->store, norm, NULL, (int64_t)time(NULL), &k);
    if (st != PERK_STORE_OK) {
        store_failure(c, r, st);
        return;
    }
    serve_json(r, 200, checkout_coupon_json(&k));
}

/* ------------------------------------------------------------- changes */

static int keep_code(const char *code, void *p)
{
    json_t *s = json_string(code);
    return !s || json_array_append_new(p, s) != 0;
}

static void handle_generate(console_call *c, const console_session *s, json_t *body, serve_reply *r)
{
    const char *campaign = member_text(body, "campaign", PERK_STORE_NAME_MAX - 1, r);
    if (!campaign) return;
    json_t *pv = json_object_get(body, "prefix");
    const char *prefix = json_is_string(pv) ? json_string_value(pv) : NULL;
    int64_t count, days, max_uses;
    if (!member_int(body, "count", 0, 1, CONSOLE_BATCH_MAX, &count, r) ||
        !member_int(body, "valid_days", 0, 0, 36600, &days, r) ||
        !member_int(body, "max_uses", 1, 0, 1000000, &max_uses, r))
        return;
    if (count == 0) {
        serve_error(r, 400, "invalid_request", "count", "count: an integer from 1 to %d is required",
                    CONSOLE_BATCH_MAX);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    json_t *codes = json_array();
    perk_store_status st = perk_store_coupons_generate(c->w->store, campaign, prefix, (int)count,
                                                       days ? now + days * 86400 : 0, (int)max_uses, 0, now,
                                                       keep_code, codes);
    if (st != PERK_STORE_OK) {
        json_decref(codes);
        store_failure(c, r, st);
        return;
    }
    console_audit(c, s, "coupon.generate", "%lld codes of %s%s%s, %lld uses each, %s", (long long)count, campaign,
                  prefix && *prefix ? " prefixed " : "", prefix && *prefix ? prefix : "", (long long)max_uses,
                  days ? "expiring" : "never expiring");
    serve_json(r, 201, json_pack("{s:s,s:I,s:o}", "campaign", campaign, "count", (json_int_t)count, "codes", codes));
}

static void handle_issue(console_call *c, const console_session *s, json_t *body, serve_reply *r)
{
    const char *code = member_text(body, "code", 255, r), *campaign = code ? member_text(body, "campaign", 255, r) : NULL,
               *customer = campaign ? member_text(body, "customer", 255, r) : NULL;
    int64_t days;
    if (!customer || !member_int(body, "valid_days", 0, 0, 36600, &days, r)) return;
    int64_t now = (int64_t)time(NULL);
    perk_store_coupon_issue is = { code, campaign, customer, 0, days ? now + days * 86400 : 0, 1, 0, s->user.name };
    perk_store_coupon_info k;
    bool created = false;
    perk_store_status st = perk_store_coupon_issue_code(c->w->store, &is, now, &k, &created);
    if (st != PERK_STORE_OK) {
        store_failure(c, r, st);
        return;
    }
    json_t *o = checkout_coupon_json(&k);
    json_object_set_new(o, "created", json_boolean(created));
    serve_json(r, created ? 201 : 200, o);
}

static void handle_revoke(console_call *c, const console_session *s, json_t *body, serve_reply *r)
{
    const char *code = member_text(body, "code", 255, r),
               *reason = code ? member_text(body, "reason", PERK_STORE_REASON_MAX, r) : NULL;
    if (!reason) return;
    perk_store_coupon_info k;
    int64_t held = 0;
    perk_store_status st =
        perk_store_coupon_revoke(c->w->store, code, s->user.name, reason, (int64_t)time(NULL), &k, &held);
    if (st != PERK_STORE_OK) {
        store_failure(c, r, st);
        return;
    }
    json_t *o = checkout_coupon_json(&k);
    json_object_set_new(o, "held_by_reservations", json_integer(held));
    serve_json(r, 200, o);
}

/* A time the operator gives in the shop's zone (the active version's): "YYYY-MM-DD" is through
 * that day (the next local midnight), "YYYY-MM-DDTHH:MM[:SS]" that wall time, or RFC 3339 with an
 * offset. False with a 400 naming `key`. */
static bool shop_time(console_call *c, const char *key, const char *text, int64_t now, int64_t *at, serve_reply *r)
{
    int y, mo, d, hh = 0, mm = 0, ss = 0, used = 0;
    bool date = sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 && text[used] == '\0';
    bool wall = !date && ((sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &hh, &mm, &ss, &used) == 6 &&
                           text[used] == '\0') ||
                          (sscanf(text, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &hh, &mm, &used) == 5 &&
                           text[used] == '\0' && (ss = 0, true)));
    if ((date || wall) && y >= 1970 && y <= 9999 && civil_valid_date(y, mo, d) && hh >= 0 && hh < 24 && mm >= 0 &&
        mm < 60 && ss >= 0 && ss < 60) {
        int64_t local = (civil_days_from_date(y, mo, d) + (date ? 1 : 0)) * 86400 + hh * 3600 + mm * 60 + ss;
        int64_t id = 0;
        perk_store_version v;
        memset(&v, 0, sizeof v);
        perk_program *p = NULL;
        if (perk_store_active_version(c->w->store, now, &id) == PERK_STORE_OK &&
            perk_store_get_version(c->w->store, id, &v) == PERK_STORE_OK) {
            perk_error err;
            p = perk_program_load(v.bytecode, v.bytecode_len, &err);
        }
        perk_store_free_version(&v);
        if (p) {
            const prog_data *pd = prog_data_of(p);
            tz_zone zone = { pd->n_tz, pd->tz_at, pd->tz_offset, pd->tz_base_offset };
            *at = tz_from_local(&zone, local);
            perk_program_free(p);
        } else {
            *at = local; /* nothing published yet: UTC, as the page says */
        }
        return true;
    }
    if (civil_parse_timestamp(text, strlen(text), at)) return true;
    serve_error(r, 400, "invalid_request", key,
                "%s: expected a day like 2026-12-31 (through that day in the shop's time zone), a wall time "
                "like 2026-12-31T20:00, an RFC 3339 time with an offset, or \"never\"",
                key);
    return false;
}

/* POST coupons/change {campaign | code, expires?, max_uses?, max_per_customer?, reason}: codes
 * changed in place (perk_store_coupons_change); only the members given change. */
static void handle_change(console_call *c, const console_session *s, json_t *body, serve_reply *r)
{
    const char *campaign = json_string_value(json_object_get(body, "campaign"));
    const char *code = json_string_value(json_object_get(body, "code"));
    if (campaign && !*campaign) campaign = NULL;
    if (code && !*code) code = NULL;
    if ((campaign == NULL) == (code == NULL)) {
        serve_error(r, 400, "invalid_request", "campaign", "give a campaign or one code (one of the two)");
        return;
    }
    const char *reason = member_text(body, "reason", PERK_STORE_REASON_MAX, r);
    if (!reason) return;
    int64_t now = (int64_t)time(NULL), uses = -1, per_customer = -1, expires = 0;
    if (!member_int(body, "max_uses", -1, 0, 1000000000, &uses, r) ||
        !member_int(body, "max_per_customer", -1, 0, 1000000000, &per_customer, r))
        return;
    json_t *ev = json_object_get(body, "expires");
    bool set_expires = ev != NULL && !json_is_null(ev);
    if (set_expires) {
        const char *text = json_string_value(ev);
        if (!text) {
            serve_error(r, 400, "invalid_request", "expires", "expires: a day, a time or \"never\"");
            return;
        }
        if (strcmp(text, "never") != 0 && !shop_time(c, "expires", text, now, &expires, r)) return;
    }
    perk_store_coupon_change in = { .campaign = campaign,
                                    .code = code,
                                    .set_expires_at = set_expires,
                                    .expires_at = expires,
                                    .set_max_uses = uses >= 0,
                                    .max_uses = (int)(uses < 0 ? 0 : uses),
                                    .set_max_per_customer = per_customer >= 0,
                                    .max_per_customer = (int)(per_customer < 0 ? 0 : per_customer),
                                    .by = s->user.name,
                                    .reason = reason };
    perk_store_coupon_change_result res;
    perk_store_status st = perk_store_coupons_change(c->w->store, &in, now, &res);
    if (st != PERK_STORE_OK) {
        store_failure(c, r, st);
        return;
    }
    json_t *o = json_pack("{s:s,s:I,s:I}", campaign ? "campaign" : "code", campaign ? campaign : code, "changed",
                          (json_int_t)res.changed, "revoked_left_alone", (json_int_t)res.revoked);
    if (set_expires) json_object_set_new(o, "expires_at", expires ? json_integer(expires) : json_null());
    if (uses >= 0) json_object_set_new(o, "max_uses", json_integer(uses));
    if (per_customer >= 0) json_object_set_new(o, "max_per_customer", json_integer(per_customer));
    serve_json(r, 200, o);
}

/* ------------------------------------------------------------- customer */

typedef struct ledger_page {
    json_t *entries;
    int64_t after, count;
    bool more;
} ledger_page;

static json_t *text_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static int add_ledger(const perk_store_ledger_entry *e, void *p)
{
    ledger_page *pg = p;
    if (e->id <= pg->after) return 0;
    if (pg->count == CONSOLE_LEDGER_PAGE) {
        pg->more = true;
        return 1;
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(e->id));
    json_object_set_new(o, "kind", json_string(e->kind));
    json_object_set_new(o, "points", json_integer(e->points));
    json_object_set_new(o, "order_id", text_or_null(e->order_id));
    json_object_set_new(o, "rule_id", text_or_null(e->rule_id));
    json_object_set_new(o, "created_at", json_integer(e->created_at));
    json_object_set_new(o, "available_at", json_integer(e->available_at));
    json_object_set_new(o, "expires_at", e->expires_at ? json_integer(e->expires_at) : json_null());
    json_object_set_new(o, "note", text_or_null(e->note));
    json_array_append_new(pg->entries, o);
    pg->count++;
    return 0;
}

/* The expiring amount: available points whose expiry is the next one. */
typedef struct next_expiry {
    int64_t at, points;
} next_expiry;

static int sum_expiry(const perk_store_ledger_entry *e, void *p)
{
    next_expiry *n = p;
    if (e->points > 0 && e->expires_at == n->at) n->points += e->points;
    return 0;
}

static void handle_customer(console_call *c, serve_reply *r)
{
    const char *id = c->query(c->conn, "id");
    ledger_page pg = { NULL, 0, 0, false };
    if (!id || !*id || strlen(id) > 255) {
        serve_error(r, 400, "invalid_parameter", "id", "id: a customer id of 1 to 255 bytes is required");
        return;
    }
    if (!query_int(c, r, "after", 0, 0, INT64_MAX, &pg.after)) return;
    /* the tier from the active version's policy (spend over its window), as /v1 computes it */
    perk_error e;
    memset(&e, 0, sizeof e);
    perk_store_policy policy;
    perk_store_tier tiers[CONSOLE_MAX_TIERS];
    bool have = reload_worker_context(c->srv->reloader, &c->w->full, &c->srv->limits, &e) != NULL;
    if (have) checkout_policy(c->w->full.program, &policy, tiers, CONSOLE_MAX_TIERS);
    int64_t now = (int64_t)time(NULL);
    perk_store_points_summary sum;
    perk_store_status st = perk_store_points(c->w->store, id, now, have ? &policy : NULL, &sum);
    next_expiry nx = { sum.next_expiry_at, 0 };
    pg.entries = json_array();
    json_t *wallet = json_array();
    if (st == PERK_STORE_OK) st = perk_store_points_history(c->w->store, id, add_ledger, &pg);
    if (st == PERK_STORE_OK && nx.at) st = perk_store_points_history(c->w->store, id, sum_expiry, &nx);
    if (st == PERK_STORE_OK) st = perk_store_coupon_wallet(c->w->store, id, now, add_code, wallet);
    if (st != PERK_STORE_OK) {
        json_decref(pg.entries);
        json_decref(wallet);
        store_failure(c, r, st);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "customer_id", json_string(id));
    json_object_set_new(o, "balance", json_integer(sum.balance));
    json_object_set_new(o, "pending", json_integer(sum.pending));
    json_object_set_new(o, "expiring_soon", json_integer(sum.expiring_soon));
    json_object_set_new(o, "next_expiry_at", nx.at ? json_integer(nx.at) : json_null());
    /* earned at that expiry; spent points are taken from the oldest first, so at most this */
    json_object_set_new(o, "next_expiry_points",
                        json_integer(nx.points < sum.balance ? nx.points : sum.balance));
    json_object_set_new(o, "debt", json_integer(sum.debt));
    json_object_set_new(o, "tier", json_string(sum.tier));
    json_object_set_new(o, "ledger", pg.entries);
    json_object_set_new(o, "next_after", pg.more ? json_integer(json_integer_value(json_object_get(
                                                       json_array_get(pg.entries, pg.count - 1), "id")))
                                                 : json_null());
    json_object_set_new(o, "coupons", wallet);
    serve_json(r, 200, o);
}

/* --------------------------------------------------------------- outbox */

typedef struct event_page {
    json_t *events;
    int64_t last;
} event_page;

static int add_event(int64_t id, const char *type, int64_t at, const char *data, void *p)
{
    event_page *pg = p;
    json_t *d = json_loads(data, 0, NULL);
    json_array_append_new(pg->events,
                          json_pack("{s:I,s:s,s:I,s:o}", "id", (json_int_t)id, "type", type, "time", (json_int_t)at,
                                    "data", d ? d : json_string(data)));
    pg->last = id;
    return 0;
}

static int count_event(int64_t id, const char *type, int64_t at, const char *data, void *p)
{
    (void)id, (void)type, (void)at, (void)data;
    ++*(int64_t *)p;
    return 0;
}

static void handle_outbox(console_call *c, serve_reply *r)
{
    int64_t after;
    if (!query_int(c, r, "after", 0, 0, INT64_MAX, &after)) return;
    event_page pg = { json_array(), 0 };
    perk_store_status st = perk_store_events(c->w->store, after, CONSOLE_EVENTS_PAGE, add_event, &pg);
    json_t *hooks = json_array();
    serve_webhook_info wh;
    if (st == PERK_STORE_OK && serve_webhook_state(&wh)) {
        int64_t pos = 0, backlog = 0;
        st = perk_store_consumer_position(c->w->store, SERVE_WEBHOOK_CONSUMER, &pos);
        if (st == PERK_STORE_OK) st = perk_store_events(c->w->store, pos, CONSOLE_BACKLOG_MAX, count_event, &backlog);
        json_t *o = json_object();
        json_object_set_new(o, "url", json_string(wh.url));
        json_object_set_new(o, "consumer", json_string(SERVE_WEBHOOK_CONSUMER));
        json_object_set_new(o, "position", json_integer(pos));
        json_object_set_new(o, "backlog", json_integer(backlog));
        json_object_set_new(o, "backlog_capped", json_boolean(backlog >= CONSOLE_BACKLOG_MAX));
        json_object_set_new(o, "failing_event", wh.failed_id ? json_integer(wh.failed_id) : json_null());
        json_object_set_new(o, "last_error", wh.last_error[0] ? json_string(wh.last_error) : json_null());
        json_object_set_new(o, "last_error_at", wh.last_error_at ? json_integer(wh.last_error_at) : json_null());
        json_object_set_new(o, "next_retry_at", wh.next_retry_at ? json_integer(wh.next_retry_at) : json_null());
        /* several nodes: which one delivers (its claim), and whether it is the one answering */
        json_object_set_new(o, "node", json_string(wh.node));
        json_object_set_new(o, "delivered_by", wh.holder[0] ? json_string(wh.holder) : json_null());
        json_object_set_new(o, "delivered_by_this_node", json_boolean(wh.holder[0] && !strcmp(wh.holder, wh.node)));
        json_object_set_new(o, "claim_until", wh.holder_until ? json_integer(wh.holder_until) : json_null());
        json_array_append_new(hooks, o);
    }
    if (st != PERK_STORE_OK) {
        json_decref(pg.events);
        json_decref(hooks);
        store_failure(c, r, st);
        return;
    }
    bool full = json_array_size(pg.events) == CONSOLE_EVENTS_PAGE;
    serve_json(r, 200,
               json_pack("{s:o,s:o,s:o}", "events", pg.events, "next_after",
                         full ? json_integer(pg.last) : json_null(), "webhooks", hooks));
}

/* ---------------------------------------------------------------- routes */

bool console_coupons_route(console_call *c, const console_session *s, const char *route, serve_reply *r)
{
    static const struct {
        const char *route;
        void (*get)(console_call *, serve_reply *);
        void (*post)(console_call *, const console_session *, json_t *, serve_reply *);
    } routes[] = {
        { "campaigns", handle_campaigns, NULL },        { "coupons", handle_codes, NULL },
        { "coupon", handle_lookup, NULL },              { "customer", handle_customer, NULL },
        { "outbox", handle_outbox, NULL },              { "coupons/generate", NULL, handle_generate },
        { "coupons/issue", NULL, handle_issue },        { "coupons/revoke", NULL, handle_revoke },
        { "coupons/change", NULL, handle_change },
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(route, routes[i].route) != 0) continue;
        const char *method = routes[i].get ? "GET" : "POST";
        if (strcmp(c->method, method) != 0 && !(routes[i].get && strcmp(c->method, "HEAD") == 0)) {
            r->allow = method;
            serve_error(r, 405, "method_not_allowed", NULL, "use %s", method);
            return true;
        }
        if (routes[i].get) {
            routes[i].get(c, r); /* every role may read */
            return true;
        }
        if (!console_allow(s, ROLE_PUBLISHER, r)) return true;
        json_t *body = console_body(c, r);
        if (!body) return true;
        routes[i].post(c, s, body, r);
        json_decref(body);
        return true;
    }
    return false;
}
