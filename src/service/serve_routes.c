/* serve_routes.c - what each route of `perk serve` does (docs/service.md, docs/openapi.yaml):
 * evaluate a cart, commit / cancel / refund an order, points, budgets, the outbox and the health
 * checks (coupons: serve_coupons.c; reservations: serve_reservations.c). Every handler answers JSON through serve_reply; bad input is a 4xx with a stable
 * error code and, where there is one, the JSON path of the bad field. */
#include "serve_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "civil.h"
#include "money.h"
#include "program.h"

#define SERVE_MAX_TIERS 64

/* ----------------------------------------------------------------- helpers */

static json_t *money_json(int64_t minor, int exponent)
{
    char buf[64];
    money_format(minor, exponent, NULL, buf, sizeof buf);
    return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

/* The names of `prog` for rendering, cached per worker while the program stays the same. */
static const result_names *worker_names(serve_worker *w, perk_program *prog)
{
    if (w->names_prog != prog) {
        result_names_free(w->names);
        perk_program_free(w->names_prog);
        w->names = result_names_from_program(prog);
        w->names_prog = perk_program_retain(prog);
    }
    return w->names;
}

/* A query parameter as an integer in [min, max]; false (with the error set) when malformed. */
static bool query_int(serve_call *c, serve_reply *r, const char *name, int64_t dflt, int64_t min, int64_t max,
                      int64_t *out)
{
    const char *v = c->query(c->conn, name);
    *out = dflt;
    if (!v) return true;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || end == v || n < min || n > max) {
        serve_error(r, 400, "invalid_parameter", name, "%s must be an integer from %lld to %lld", name,
                    (long long)min, (long long)max);
        return false;
    }
    *out = n;
    return true;
}


/* An optional string member; false with a 400 when present and not a non-empty string. */
static bool member_string(json_t *o, const char *key, bool required, const char **out, serve_reply *r)
{
    json_t *v = json_object_get(o, key);
    char path[128];
    snprintf(path, sizeof path, "$.%s", key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) {
            serve_error(r, 400, "invalid_request", path, "%s: required field is missing", path);
            return false;
        }
        return true;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 255 ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        serve_error(r, 400, "invalid_request", path, "%s: must be a non-empty string of at most 255 bytes",
                    path);
        return false;
    }
    *out = json_string_value(v);
    return true;
}


/* The worker's context and program for this request; a 503 when no version is loaded. */
static perk_context *request_context(serve_call *c, serve_reply *r, reload_worker *rw)
{
    perk_error e;
    memset(&e, 0, sizeof e);
    perk_context *ctx = reload_worker_context(c->srv->reloader, rw, &c->srv->limits, &e);
    if (!ctx) {
        serve_error(r, 503, "not_ready", NULL,
                    "no rule-set version is active in the store yet (perk publish)");
        return NULL;
    }
    r->version = rw->version;
    return ctx;
}

/* Inserts "ruleset_version":N (and "customer_facts":{...} when facts is not NULL) as the first
 * members of a rendered result. */
static char *with_version(char *json, int64_t version, const char *facts)
{
    char head[48];
    int n = snprintf(head, sizeof head, "{\"ruleset_version\":%lld,", (long long)version);
    size_t len = strlen(json), flen = facts ? strlen(facts) + sizeof "\"customer_facts\":," - 1 : 0;
    char *out = malloc(len + (size_t)n + flen + 1);
    if (!out) {
        free(json);
        return NULL;
    }
    memcpy(out, head, (size_t)n);
    if (facts) snprintf(out + n, flen + 1, "\"customer_facts\":%s,", facts);
    memcpy(out + n + flen, json + 1, len); /* json starts with '{'; its NUL comes along */
    free(json);
    return out;
}

/* --------------------------------------------------------------- evaluate */

/* /v1/evaluate?budgets=store: a dry run of checkout_place_order (nothing is committed or held). */
static void evaluate_against_store(serve_call *c, serve_reply *r, reload_worker *rw, perk_program *prog,
                                   perk_context *ctx, cart_doc *doc, bool applied)
{
    checkout_outcome out;
    checkout_options copts = { .dry_run = true };
    bool ok = checkout_place_order_opts(c->w->store, prog, rw->version, ctx, doc, c->body, &copts, &out);
    if (out.result) serve_metrics_evaluation(prog, out.result);
    if (!ok) {
        if (serve_checkout_eval_error(r, &out)) {
            /* answered */
        } else if (out.store_status == PERK_STORE_INVALID) {
            serve_error(r, 400, "invalid_cart", NULL, "%s", out.message);
        } else {
            serve_error(r, 503, "store_unavailable", NULL, "%s", out.message);
        }
        checkout_outcome_free(&out);
        return;
    }
    const result_names *names = worker_names(c->w, prog);
    char *json = names ? result_json_render(names, out.result, doc, applied ? RESULT_JSON_APPLIED_ONLY : 0) : NULL;
    char *facts_json = out.facts.from_store ? checkout_facts_json(&out.facts) : NULL;
    if (json && out.facts.from_store && !facts_json) {
        free(json);
        json = NULL;
    }
    json = json ? with_version(json, rw->version, facts_json) : NULL;
    free(facts_json);
    checkout_outcome_free(&out);
    if (!json) {
        serve_error(r, 500, "internal", NULL, "out of memory rendering the result");
        return;
    }
    r->status = 200;
    r->body = json;
    r->len = strlen(json);
}

static void handle_evaluate(serve_call *c, serve_reply *r)
{
    const char *explain = c->query(c->conn, "explain");
    bool applied = false;
    if (explain && strcmp(explain, "applied") == 0)
        applied = true;
    else if (explain && strcmp(explain, "all") != 0) {
        serve_error(r, 400, "invalid_parameter", "explain", "explain must be applied or all");
        return;
    }
    /* ?budgets=store: priced as a commit would be now, against the budgets, per-customer uses and
     * coupon verdicts the store has (open reservations' holds included), nothing written;
     * ?budgets=cart (default): the `usage` and coupon `status` the cart carries, no store read */
    const char *budgets = c->query(c->conn, "budgets");
    bool against_store = budgets && strcmp(budgets, "store") == 0;
    if (budgets && !against_store && strcmp(budgets, "cart") != 0) {
        serve_error(r, 400, "invalid_parameter", "budgets", "budgets must be cart or store");
        return;
    }
    reload_worker *rw = applied ? &c->w->applied : &c->w->full;
    perk_limits lim = c->srv->limits;
    if (applied) lim.explain = PERK_EXPLAIN_APPLIED;
    perk_error e;
    memset(&e, 0, sizeof e);
    perk_context *ctx = reload_worker_context(c->srv->reloader, rw, &lim, &e);
    if (!ctx) {
        serve_error(r, 503, "not_ready", NULL,
                    "no rule-set version is active in the store yet (perk publish)");
        return;
    }
    perk_program *prog = rw->program;
    r->version = rw->version;
    char err[512];
    cart_doc *doc = cart_json_parse(c->body, c->body_len, perk_program_exponent(prog),
                                    perk_program_currency(prog), &c->srv->limits, err, sizeof err);
    if (!doc) {
        serve_error_from_message(r, 400, "invalid_cart", err);
        return;
    }
    if (against_store) {
        evaluate_against_store(c, r, rw, prog, ctx, doc, applied);
        cart_json_free(doc);
        return;
    }
    /* a cart naming a customer is priced with the store's facts, as its commit will be */
    checkout_facts facts;
    if (!checkout_store_customer(c->w->store, prog, doc, &facts, err, sizeof err)) {
        serve_error(r, 503, "store_unavailable", NULL, "%s", err);
        cart_json_free(doc);
        return;
    }
    if (cart_json_feed(doc, ctx, prog, err, sizeof err) != PERK_OK) {
        serve_error_from_message(r, 400, "invalid_cart", err);
        cart_json_free(doc);
        return;
    }
    const perk_result *res = perk_evaluate(ctx);
    serve_metrics_evaluation(prog, res);
    if (res->status != PERK_OK) {
        bool limit = res->status == PERK_LIMIT;
        serve_error(r, 422, limit ? "limit_exceeded" : "evaluation_failed", NULL,
                    "evaluation failed: %s (%s)%s", perk_status_message(res->status), perk_context_error(ctx),
                    limit ? " (instruction_budget)" : "");
        cart_json_free(doc);
        return;
    }
    const result_names *names = worker_names(c->w, prog);
    char *json = names ? result_json_render(names, res, doc, applied ? RESULT_JSON_APPLIED_ONLY : 0) : NULL;
    cart_json_free(doc);
    char *facts_json = facts.from_store ? checkout_facts_json(&facts) : NULL;
    if (json && facts.from_store && !facts_json) {
        free(json);
        json = NULL;
    }
    json = json ? with_version(json, rw->version, facts_json) : NULL;
    free(facts_json);
    if (!json) {
        serve_error(r, 500, "internal", NULL, "out of memory rendering the result");
        return;
    }
    r->status = 200;
    r->body = json;
    r->len = strlen(json);
}

/* ----------------------------------------------------------------- orders */

/* A program for a retried order priced by an earlier version (loaded from the store). */
static perk_program *load_version(serve_call *c, int64_t version, serve_reply *r)
{
    perk_store_version v;
    memset(&v, 0, sizeof v);
    perk_store_status st = perk_store_get_version(c->w->store, version, &v);
    perk_program *p = NULL;
    if (st == PERK_STORE_OK) {
        perk_error e;
        p = perk_program_load(v.bytecode, v.bytecode_len, &e);
        if (!p)
            serve_error(r, 500, "version_unloadable", NULL, "version %lld does not load: %s",
                        (long long)version, e.message);
    } else {
        serve_store_failure(c, r, st);
    }
    perk_store_free_version(&v);
    return p;
}

static void handle_orders(serve_call *c, serve_reply *r)
{
    perk_context *ctx = request_context(c, r, &c->w->full);
    if (!ctx) return;
    perk_program *prog = c->w->full.program;
    int64_t version = c->w->full.version;
    perk_program *own_prog = NULL; /* a retry priced by another version */
    perk_context *own_ctx = NULL;
    cart_doc *doc = NULL;
    char err[512];

    /* a retry of an order committed under an earlier version is priced by that version, so that
     * it replays instead of conflicting (as `perk commit` does) */
    char *order_id = cart_json_order_id(c->body, c->body_len);
    if (order_id) {
        bool found = false;
        int64_t committed = 0;
        perk_store_status st = perk_store_order_uses(c->w->store, order_id, &found, &committed, NULL, NULL);
        if (st != PERK_STORE_OK) {
            serve_store_failure(c, r, st);
            goto done;
        }
        if (found && committed > 0 && committed != version) {
            own_prog = load_version(c, committed, r);
            if (!own_prog) goto done;
            perk_error e;
            own_ctx = perk_context_new(own_prog, &c->srv->limits, &e);
            if (!own_ctx) {
                serve_error(r, 500, "internal", NULL, "%s", e.message);
                goto done;
            }
            prog = own_prog;
            ctx = own_ctx;
            version = committed;
            r->version = committed;
        }
    }
    doc = cart_json_parse(c->body, c->body_len, perk_program_exponent(prog), perk_program_currency(prog),
                          &c->srv->limits, err, sizeof err);
    if (!doc) {
        serve_error_from_message(r, 400, "invalid_cart", err);
        goto done;
    }
    if (!doc->order.id || !doc->customer.id || !doc->has_time) {
        const char *path = !doc->order.id      ? "$.order.id"
                           : !doc->customer.id ? "$.customer.id"
                                               : "$.order.time";
        serve_error(r, 400, "invalid_order", path, "%s: required to commit an order", path);
        goto done;
    }
    checkout_outcome out;
    uint64_t t0 = serve_now_us();
    /* ?reservation=ID: consume a reservation (serve_reservations.c) */
    checkout_options copts = { .reservation_id = c->query(c->conn, "reservation") };
    bool ok = checkout_place_order_opts(c->w->store, prog, version, ctx, doc, c->body, &copts, &out);
    serve_metrics_commit(serve_now_us() - t0, ok);
    if (out.result) serve_metrics_evaluation(prog, out.result);
    if (!ok) {
        if (!serve_checkout_eval_error(r, &out))
            switch (out.store_status) {
            case PERK_STORE_INVALID: serve_error(r, 400, "invalid_order", NULL, "%s", out.message); break;
            case PERK_STORE_CONFLICT: serve_error(r, 409, "order_conflict", NULL, "%s", out.message); break;
            case PERK_STORE_BUDGET_EXCEEDED:
                serve_error(r, 409, "budget_contention", NULL, "%s", out.message);
                break;
            case PERK_STORE_INSUFFICIENT_POINTS:
                serve_error(r, 422, "insufficient_points", "$.redeem", "%s", out.message);
                break;
            case PERK_STORE_BUSY: serve_error(r, 503, "store_busy", NULL, "%s", out.message); break;
            case PERK_STORE_UNAVAILABLE:
                serve_error(r, 503, "store_unavailable", NULL, "%s", out.message);
                break;
            default: serve_error(r, 500, "store_error", NULL, "%s", out.message); break;
            }
        checkout_outcome_free(&out);
        goto done;
    }
    json_t *o = json_object();
    json_object_set_new(o, "order_id", json_string(doc->order.id));
    json_object_set_new(o, "status", json_string(out.commit.replay ? "already_committed" : "committed"));
    json_object_set_new(o, "ruleset_version", json_integer(version));
    json_object_set_new(o, "attempts", json_integer(out.attempts));
    json_object_set_new(o, "subtotal", money_json(out.result->subtotal, perk_program_exponent(prog)));
    json_object_set_new(o, "discount", money_json(out.result->discount, perk_program_exponent(prog)));
    json_object_set_new(o, "payable", money_json(out.result->payable, perk_program_exponent(prog)));
    json_object_set_new(o, "points_earned", json_integer(out.commit.points_earned));
    json_object_set_new(o, "points_redeemed", json_integer(out.commit.points_redeemed));
    json_object_set_new(o, "balance", json_integer(out.commit.balance));
    json_object_set_new(o, "pending", json_integer(out.commit.pending));
    json_object_set_new(o, "tier", json_string(out.commit.tier));
    json_object_set_new(o, "event_id", json_integer(out.commit.event_id));
    json_object_set_new(o, "reward_coupons", checkout_reward_codes_json(&out.commit));
    if (copts.reservation_id)
        json_object_set_new(o, "reservation_consumed", json_boolean(out.commit.reservation_consumed));
    char *facts = checkout_facts_json(&out.facts);
    json_t *fj = facts ? json_loads(facts, 0, NULL) : NULL;
    free(facts);
    json_object_set_new(o, "customer_facts", fj ? fj : json_null());
    const result_names *names = prog == c->w->full.program ? worker_names(c->w, prog) : NULL;
    result_names *tmp = names ? NULL : result_names_from_program(prog);
    char *res = result_json_render(names ? names : tmp, out.result, doc, RESULT_JSON_APPLIED_ONLY);
    result_names_free(tmp);
    json_t *rj = res ? json_loads(res, 0, NULL) : NULL;
    free(res);
    json_object_set_new(o, "result", rj ? rj : json_null());
    serve_json(r, out.commit.replay ? 200 : 201, o);
    checkout_outcome_free(&out);
done:
    free(order_id);
    cart_json_free(doc);
    perk_context_free(own_ctx);
    perk_program_free(own_prog);
}

/* The store's points policy of the program being served (tiers, pending and expiry). */
static bool current_policy(serve_call *c, serve_reply *r, perk_store_policy *policy, perk_store_tier *tiers,
                           int *exponent)
{
    if (!request_context(c, r, &c->w->full)) return false;
    checkout_policy(c->w->full.program, policy, tiers, SERVE_MAX_TIERS);
    *exponent = perk_program_exponent(c->w->full.program);
    return true;
}

static void refund_reply(serve_call *c, serve_reply *r, const char *refund_id,
                         const perk_store_refund_result *res, int exponent)
{
    json_t *o = json_object();
    json_object_set_new(o, "order_id", json_string(c->path_id));
    json_object_set_new(o, "refund_id", json_string(refund_id));
    json_object_set_new(o, "status", json_string(res->replay ? "already_recorded" : "recorded"));
    json_object_set_new(o, "amount", money_json(res->amount, exponent));
    json_object_set_new(o, "refunded_total", money_json(res->refunded_total, exponent));
    json_object_set_new(o, "full", json_boolean(res->full));
    json_object_set_new(o, "points_reversed", json_integer(res->points_reversed));
    json_object_set_new(o, "points_shortfall", json_integer(res->points_shortfall));
    json_object_set_new(o, "points_returned", json_integer(res->points_returned));
    json_object_set_new(o, "budget_released", json_boolean(res->budget_released));
    json_object_set_new(o, "tier", json_string(res->tier));
    json_object_set_new(o, "rewards_revoked", json_integer(res->rewards_revoked));
    json_object_set_new(o, "rewards_kept", json_integer(res->rewards_kept));
    serve_json(r, res->replay ? 200 : 201, o);
}

static void handle_cancel(serve_call *c, serve_reply *r)
{
    perk_store_policy policy;
    perk_store_tier tiers[SERVE_MAX_TIERS];
    int exponent;
    if (!current_policy(c, r, &policy, tiers, &exponent)) return;
    json_t *body = serve_body_object(c, r, true);
    if (!body) return;
    const char *refund_id = NULL;
    if (!member_string(body, "refund_id", false, &refund_id, r)) {
        json_decref(body);
        return;
    }
    char idbuf[300];
    if (!refund_id) {
        snprintf(idbuf, sizeof idbuf, "cancel:%s", c->path_id); /* a repeated cancel replays */
        refund_id = idbuf;
    }
    perk_store_refund_result res;
    memset(&res, 0, sizeof res);
    perk_store_status st = perk_store_refund(c->w->store, c->path_id, refund_id, NULL, 0, 0,
                                             (int64_t)time(NULL), &policy, true, &res);
    if (st == PERK_STORE_OK)
        refund_reply(c, r, refund_id, &res, exponent);
    else
        serve_store_failure(c, r, st);
    json_decref(body);
}

static bool parse_amount(json_t *v, const char *path, int exponent, int64_t *out, serve_reply *r)
{
    if (!json_is_string(v) ||
        money_parse_decimal(json_string_value(v), json_string_length(v), exponent, out) != MONEY_PARSE_OK ||
        *out <= 0) {
        serve_error(r, 400, "invalid_request", path,
                    "%s: must be a positive amount as a string, e.g. \"12.50\"", path);
        return false;
    }
    return true;
}

static void handle_refund(serve_call *c, serve_reply *r)
{
    perk_store_policy policy;
    perk_store_tier tiers[SERVE_MAX_TIERS];
    int exponent;
    if (!current_policy(c, r, &policy, tiers, &exponent)) return;
    json_t *body = serve_body_object(c, r, false);
    if (!body) return;
    perk_store_refund_line *lines = NULL;
    const char *refund_id = NULL;
    int64_t amount = 0;
    size_t n = 0;
    if (!member_string(body, "refund_id", true, &refund_id, r)) goto done;
    json_t *a = json_object_get(body, "amount");
    if (a && !parse_amount(a, "$.amount", exponent, &amount, r)) goto done;
    json_t *rb = json_object_get(body, "release_budget");
    if (rb && !json_is_boolean(rb)) {
        serve_error(r, 400, "invalid_request", "$.release_budget", "$.release_budget: must be true or false");
        goto done;
    }
    json_t *jl = json_object_get(body, "lines");
    if (jl) {
        if (!json_is_array(jl) || json_array_size(jl) == 0 ||
            json_array_size(jl) > c->srv->limits.max_lines) {
            serve_error(r, 400, "invalid_request", "$.lines",
                        "$.lines: must be a non-empty array of at most %u lines", c->srv->limits.max_lines);
            goto done;
        }
        n = json_array_size(jl);
        lines = calloc(n, sizeof *lines);
        if (!lines) {
            serve_error(r, 500, "internal", NULL, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *l = json_array_get(jl, i);
            char path[64];
            snprintf(path, sizeof path, "$.lines[%zu]", i);
            const char *lid = NULL;
            if (!json_is_object(l)) {
                serve_error(r, 400, "invalid_request", path,
                            "%s: must be an object {\"line_id\", \"amount\"}", path);
                goto done;
            }
            json_t *id = json_object_get(l, "line_id");
            if (!json_is_string(id) || json_string_length(id) == 0) {
                snprintf(path + strlen(path), sizeof path - strlen(path), ".line_id");
                serve_error(r, 400, "invalid_request", path, "%s: must be a non-empty string", path);
                goto done;
            }
            lid = json_string_value(id);
            snprintf(path + strlen(path), sizeof path - strlen(path), ".amount");
            if (!parse_amount(json_object_get(l, "amount"), path, exponent, &lines[i].amount, r)) goto done;
            lines[i].line_id = lid;
        }
    }
    perk_store_refund_result res;
    memset(&res, 0, sizeof res);
    perk_store_status st = perk_store_refund(c->w->store, c->path_id, refund_id, lines, n, amount,
                                             (int64_t)time(NULL), &policy, json_is_true(rb), &res);
    if (st == PERK_STORE_OK)
        refund_reply(c, r, refund_id, &res, exponent);
    else
        serve_store_failure(c, r, st);
done:
    free(lines);
    json_decref(body);
}

/* ----------------------------------------------------------------- points */

typedef struct ledger_page {
    json_t *entries;
    int64_t after, limit, count, last_id;
    bool more;
} ledger_page;

static int add_ledger(const perk_store_ledger_entry *e, void *p)
{
    ledger_page *pg = p;
    if (e->id <= pg->after) return 0;
    if (pg->count == pg->limit) {
        pg->more = true;
        return 1;
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(e->id));
    json_object_set_new(o, "kind", json_string(e->kind));
    json_object_set_new(o, "points", json_integer(e->points));
    json_object_set_new(o, "order_id", str_or_null(e->order_id));
    json_object_set_new(o, "rule_id", str_or_null(e->rule_id));
    json_object_set_new(o, "created_at", json_integer(e->created_at));
    json_object_set_new(o, "available_at", json_integer(e->available_at));
    json_object_set_new(o, "expires_at", e->expires_at ? json_integer(e->expires_at) : json_null());
    json_object_set_new(o, "note", str_or_null(e->note));
    json_array_append_new(pg->entries, o);
    pg->count++;
    pg->last_id = e->id;
    return 0;
}

static void handle_points(serve_call *c, serve_reply *r)
{
    ledger_page pg = { 0 };
    if (!query_int(c, r, "after", 0, 0, INT64_MAX, &pg.after) ||
        !query_int(c, r, "limit", 50, 1, 1000, &pg.limit))
        return;
    perk_store_policy policy;
    perk_store_tier tiers[SERVE_MAX_TIERS];
    int exponent;
    if (!current_policy(c, r, &policy, tiers, &exponent)) return;
    if (strlen(c->path_id) > 255) {
        serve_error(r, 400, "invalid_request", "id", "the customer id is longer than 255 bytes");
        return;
    }
    perk_store_points_summary sum;
    perk_store_status st = perk_store_points(c->w->store, c->path_id, (int64_t)time(NULL), &policy, &sum);
    if (st != PERK_STORE_OK) {
        serve_store_failure(c, r, st);
        return;
    }
    pg.entries = json_array();
    st = perk_store_points_history(c->w->store, c->path_id, add_ledger, &pg);
    if (st != PERK_STORE_OK) {
        json_decref(pg.entries);
        serve_store_failure(c, r, st);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "customer_id", json_string(c->path_id));
    json_object_set_new(o, "balance", json_integer(sum.balance));
    json_object_set_new(o, "pending", json_integer(sum.pending));
    json_object_set_new(o, "expiring_soon", json_integer(sum.expiring_soon));
    json_object_set_new(o, "next_expiry_at",
                        sum.next_expiry_at ? json_integer(sum.next_expiry_at) : json_null());
    json_object_set_new(o, "debt", json_integer(sum.debt));
    json_object_set_new(o, "tier", json_string(sum.tier));
    json_object_set_new(o, "ledger", pg.entries);
    json_object_set_new(o, "next_after", pg.more ? json_integer(pg.last_id) : json_null());
    serve_json(r, 200, o);
}

/* -------------------------------------------------------------- customers */

/* The CRM records a customer's membership: {"member_since": "YYYY-MM-DD"} or null (not a
 * member). Orders of the customer are then priced with it, whatever their carts say. */
static void handle_customer_set(serve_call *c, serve_reply *r)
{
    if (strlen(c->path_id) > 255) {
        serve_error(r, 400, "invalid_request", "id", "the customer id is longer than 255 bytes");
        return;
    }
    json_t *body = serve_body_object(c, r, false);
    if (!body) return;
    json_t *ms = json_object_get(body, "member_since");
    int64_t days = -1;
    int y = 0, m = 0, d = 0, used = 0;
    const char *text = json_string_value(ms);
    if (!ms) {
        serve_error(r, 400, "invalid_request", "$.member_since",
                    "$.member_since: required: a date YYYY-MM-DD, or null for not a member");
        json_decref(body);
        return;
    }
    if (!json_is_null(ms)) {
        if (!text || strlen(text) != 10 || sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 ||
            used != 10 || y < 1 || !civil_valid_date(y, m, d)) {
            serve_error(r, 400, "invalid_request", "$.member_since",
                        "$.member_since: expected a date YYYY-MM-DD (0001-01-01 to 9999-12-31) or null");
            json_decref(body);
            return;
        }
        days = civil_days_from_date(y, m, d);
    }
    perk_store_status st = perk_store_customer_set(c->w->store, c->path_id, days, (int64_t)time(NULL));
    if (st != PERK_STORE_OK) {
        json_decref(body);
        serve_store_failure(c, r, st);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "customer_id", json_string(c->path_id));
    json_object_set_new(o, "member_since", days < 0 ? json_null() : json_string(text));
    json_decref(body);
    serve_json(r, 200, o);
}

/* ---------------------------------------------------------------- budgets */

static json_t *limit_json(int64_t v, bool money, int exponent)
{
    if (v < 0) return json_null();
    return money ? money_json(v, exponent) : json_integer(v);
}

static void handle_budgets(serve_call *c, serve_reply *r)
{
    if (!request_context(c, r, &c->w->full)) return;
    const perk_program *prog = c->w->full.program;
    const prog_data *d = prog_data_of(prog);
    int exponent = perk_program_exponent(prog);
    json_t *list = json_array();
    for (uint32_t i = 0; i < d->n_rules; i++) {
        const prog_rule *rule = &d->rules[i];
        if (rule->limit_uses < 0 && rule->limit_money < 0 && rule->limit_per_customer < 0) continue;
        const char *id = prog_string(d, rule->id);
        int64_t uses = 0, money = 0, cu = 0;
        perk_store_status st =
            perk_store_budget_usage(c->w->store, perk_program_name(prog), id, NULL, &uses, &money, &cu);
        if (st != PERK_STORE_OK) {
            json_decref(list);
            serve_store_failure(c, r, st);
            return;
        }
        json_t *o = json_object();
        json_object_set_new(o, "promotion", json_string(id));
        json_object_set_new(o, "label", str_or_null(perk_program_promotion_label(prog, i)));
        json_object_set_new(o, "uses", json_integer(uses));
        json_object_set_new(o, "limit_uses", limit_json(rule->limit_uses, false, exponent));
        json_object_set_new(o, "uses_left",
                            rule->limit_uses < 0
                                ? json_null()
                                : json_integer(rule->limit_uses > uses ? rule->limit_uses - uses : 0));
        json_object_set_new(o, "money", money_json(money, exponent));
        json_object_set_new(o, "limit_money", limit_json(rule->limit_money, true, exponent));
        json_object_set_new(
            o, "money_left",
            rule->limit_money < 0
                ? json_null()
                : money_json(rule->limit_money > money ? rule->limit_money - money : 0, exponent));
        json_object_set_new(o, "limit_per_customer", limit_json(rule->limit_per_customer, false, exponent));
        json_array_append_new(list, o);
    }
    json_t *o = json_object();
    json_object_set_new(o, "ruleset", json_string(perk_program_name(prog)));
    json_object_set_new(o, "ruleset_version", json_integer(c->w->full.version));
    json_object_set_new(o, "budgets", list);
    serve_json(r, 200, o);
}

/* ----------------------------------------------------------------- events */

typedef struct event_page {
    json_t *events;
    int64_t last;
} event_page;

static int add_event(int64_t id, const char *type, int64_t time_, const char *data, void *p)
{
    event_page *pg = p;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "time", json_integer(time_));
    json_t *dj = json_loads(data, 0, NULL);
    json_object_set_new(o, "data", dj ? dj : json_string(data));
    json_array_append_new(pg->events, o);
    pg->last = id;
    return 0;
}

static void handle_events(serve_call *c, serve_reply *r)
{
    int64_t after, limit;
    if (!query_int(c, r, "after", 0, 0, INT64_MAX, &after) || !query_int(c, r, "limit", 100, 1, 1000, &limit))
        return;
    event_page pg = { json_array(), after };
    perk_store_status st = perk_store_events(c->w->store, after, (int)limit, add_event, &pg);
    if (st != PERK_STORE_OK) {
        json_decref(pg.events);
        serve_store_failure(c, r, st);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "events", pg.events);
    json_object_set_new(o, "next_after", json_integer(pg.last));
    serve_json(r, 200, o);
}

/* ----------------------------------------------------------------- health */

static void handle_readyz(serve_call *c, serve_reply *r)
{
    int64_t active = 0;
    perk_store_status st = perk_store_active_version(c->w->store, (int64_t)time(NULL), &active);
    if (st != PERK_STORE_OK && st != PERK_STORE_NOT_FOUND) {
        serve_error(r, 503, "store_unavailable", NULL, "the store is not reachable: %s",
                    perk_store_errmsg(c->w->store));
        return;
    }
    int64_t loaded = reload_version(c->srv->reloader);
    if (loaded == 0) {
        serve_error(r, 503, "not_ready", NULL,
                    "no rule-set version is loaded (publish one with perk publish)");
        return;
    }
    r->version = loaded;
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string("ready"));
    json_object_set_new(o, "ruleset_version", json_integer(loaded));
    serve_json(r, 200, o);
}

void serve_handle(serve_call *c, serve_reply *r)
{
    switch (c->route) {
    case ROUTE_EVALUATE: handle_evaluate(c, r); break;
    case ROUTE_ORDERS: handle_orders(c, r); break;
    case ROUTE_CANCEL: handle_cancel(c, r); break;
    case ROUTE_REFUND: handle_refund(c, r); break;
    case ROUTE_POINTS: handle_points(c, r); break;
    case ROUTE_COUPON_VALIDATE:
    case ROUTE_COUPON_WALLET:
    case ROUTE_COUPON_ISSUE:
    case ROUTE_COUPON_REVOKE: serve_handle_coupons(c, r); break;
    case ROUTE_BUDGETS: handle_budgets(c, r); break;
    case ROUTE_EVENTS: handle_events(c, r); break;
    case ROUTE_RESERVE:
    case ROUTE_RESERVATION:
    case ROUTE_RESERVATION_RELEASE: serve_handle_reservations(c, r); break;
    case ROUTE_CUSTOMER_SET: handle_customer_set(c, r); break;
    case ROUTE_HEALTHZ: {
        json_t *o = json_object();
        json_object_set_new(o, "status", json_string("ok"));
        serve_json(r, 200, o);
        break;
    }
    case ROUTE_READYZ: handle_readyz(c, r); break;
    case ROUTE_METRICS:
        r->body = serve_metrics_render(&r->len);
        r->status = r->body ? 200 : 500;
        r->content_type = "text/plain; version=0.0.4";
        break;
    case ROUTE_UNKNOWN:
    case ROUTE_COUNT: serve_error(r, 404, "not_found", NULL, "no such route"); break;
    }
}
