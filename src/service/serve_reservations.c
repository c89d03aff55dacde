/* serve_reservations.c - the reservation routes of `perk serve` (docs/service.md, "Reservations"):
 *
 *   POST /v1/reservations?ttl=S           evaluate a cart for checkout and hold what its result
 *                                         needs (budget uses and money, coupon uses) for S seconds
 *   GET  /v1/reservations/{id}            its state (open, committed, released, expired)
 *   POST /v1/reservations/{id}/release    give the holds back before the TTL ends
 *
 * An order consumes a reservation with POST /v1/orders?reservation={id} (serve_routes.c): it is
 * priced with the holds as its own, so the price seen at checkout is the price at payment. The
 * periodic sweep of expired reservations and the "reservations open" gauge are here too. */
#include "serve_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "money.h"

/* Default and longest TTL of a reservation (seconds). */
#define SERVE_RESERVATION_TTL_DEFAULT 900

static json_t *res_money(int64_t minor, int exponent)
{
    char buf[64];
    money_format(minor, exponent, NULL, buf, sizeof buf);
    return json_string(buf);
}


/* "rsv_" and 32 hex digits from getrandom: not guessable, so an id is enough to address one. */
static bool new_reservation_id(char out[40])
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) return false;
    memcpy(out, "rsv_", 4);
    for (size_t i = 0; i < sizeof raw; i++) snprintf(out + 4 + 2 * i, 3, "%02x", raw[i]);
    return true;
}

static json_t *reservation_json(const char *id, const perk_store_reservation_info *info)
{
    json_t *o = json_object();
    json_object_set_new(o, "reservation_id", json_string(id));
    json_object_set_new(o, "state", json_string(perk_store_reservation_state_name(info->state)));
    json_object_set_new(o, "customer_id", json_string(info->customer_id));
    json_object_set_new(o, "order_id", json_string(info->order_id));
    json_object_set_new(o, "ruleset_version", json_integer(info->ruleset_version));
    json_object_set_new(o, "created_at", json_integer(info->created_at));
    json_object_set_new(o, "expires_at", json_integer(info->expires_at));
    json_object_set_new(o, "ended_at", info->ended_at ? json_integer(info->ended_at) : json_null());
    json_object_set_new(o, "promotions_held", json_integer(info->promos));
    json_object_set_new(o, "coupons_held", json_integer(info->coupons));
    return o;
}

static void handle_reserve(serve_call *c, serve_reply *r)
{
    int64_t ttl = SERVE_RESERVATION_TTL_DEFAULT;
    const char *ttl_text = c->query(c->conn, "ttl");
    if (ttl_text) {
        char *end;
        errno = 0;
        long long n = strtoll(ttl_text, &end, 10);
        if (errno || *end || end == ttl_text || n < 1 || n > PERK_STORE_RESERVATION_TTL_MAX) {
            serve_error(r, 400, "invalid_parameter", "ttl", "ttl must be an integer from 1 to %d (seconds)",
                        PERK_STORE_RESERVATION_TTL_MAX);
            return;
        }
        ttl = n;
    }
    perk_error e;
    memset(&e, 0, sizeof e);
    perk_context *ctx = reload_worker_context(c->srv->reloader, &c->w->full, &c->srv->limits, &e);
    if (!ctx) {
        serve_error(r, 503, "not_ready", NULL,
                    "no rule-set version is active in the store yet (perk publish)");
        return;
    }
    perk_program *prog = c->w->full.program;
    int64_t version = c->w->full.version;
    r->version = version;
    char err[512];
    cart_doc *doc = cart_json_parse(c->body, c->body_len, perk_program_exponent(prog),
                                    perk_program_currency(prog), &c->srv->limits, err, sizeof err);
    if (!doc) {
        serve_error_from_message(r, 400, "invalid_cart", err);
        return;
    }
    if (!doc->order.id || !doc->customer.id || !doc->has_time) {
        const char *path = !doc->order.id      ? "$.order.id"
                           : !doc->customer.id ? "$.customer.id"
                                               : "$.order.time";
        serve_error(r, 400, "invalid_order", path, "%s: required to reserve for an order", path);
        cart_json_free(doc);
        return;
    }
    char id[40];
    if (!new_reservation_id(id)) {
        serve_error(r, 503, "no_randomness", NULL, "no random bytes for a reservation id (getrandom failed)");
        cart_json_free(doc);
        return;
    }
    checkout_options opts = { .reservation_id = id, .reserve_ttl = ttl };
    checkout_outcome out;
    bool ok = checkout_place_order_opts(c->w->store, prog, version, ctx, doc, NULL, &opts, &out);
    if (out.result) serve_metrics_evaluation(prog, out.result);
    if (!ok) {
        if (serve_checkout_eval_error(r, &out)) {
            /* answered */
        } else if (out.store_status == PERK_STORE_INVALID)
            serve_error(r, 400, "invalid_order", NULL, "%s", out.message);
        else if (out.store_status == PERK_STORE_BUDGET_EXCEEDED)
            serve_error(r, 409, "budget_contention", NULL, "%s", out.message);
        else if (out.store_status == PERK_STORE_CONFLICT)
            serve_error(r, 409, "conflict", NULL, "%s", out.message);
        else if (out.store_status == PERK_STORE_BUSY)
            serve_error(r, 503, "store_busy", NULL, "%s", out.message);
        else if (out.store_status == PERK_STORE_UNAVAILABLE)
            serve_error(r, 503, "store_unavailable", NULL, "%s", out.message);
        else
            serve_error(r, 500, "store_error", NULL, "%s", out.message);
        checkout_outcome_free(&out);
        cart_json_free(doc);
        return;
    }
    int exponent = perk_program_exponent(prog);
    json_t *o = json_object();
    json_object_set_new(o, "reservation_id", json_string(id));
    json_object_set_new(o, "state", json_string("open"));
    json_object_set_new(o, "order_id", json_string(doc->order.id));
    json_object_set_new(o, "customer_id", json_string(doc->customer.id));
    json_object_set_new(o, "ruleset_version", json_integer(version));
    json_object_set_new(o, "expires_at", json_integer(out.commit.reservation_expires_at));
    json_object_set_new(o, "ttl_seconds", json_integer(ttl));
    json_object_set_new(o, "attempts", json_integer(out.attempts));
    json_object_set_new(o, "subtotal", res_money(out.result->subtotal, exponent));
    json_object_set_new(o, "discount", res_money(out.result->discount, exponent));
    json_object_set_new(o, "payable", res_money(out.result->payable, exponent));
    result_names *names = result_names_from_program(prog);
    char *res = names ? result_json_render(names, out.result, doc, RESULT_JSON_APPLIED_ONLY) : NULL;
    result_names_free(names);
    json_t *rj = res ? json_loads(res, 0, NULL) : NULL;
    free(res);
    json_object_set_new(o, "result", rj ? rj : json_null());
    serve_json(r, 201, o);
    checkout_outcome_free(&out);
    cart_json_free(doc);
}

static void handle_reservation_get(serve_call *c, serve_reply *r)
{
    perk_store_reservation_info info;
    perk_store_status st = perk_store_reservation_get(c->w->store, c->path_id, &info);
    if (st != PERK_STORE_OK) {
        serve_store_failure(c, r, st);
        return;
    }
    serve_json(r, 200, reservation_json(c->path_id, &info));
}

static void handle_reservation_release(serve_call *c, serve_reply *r)
{
    bool released = false;
    perk_store_status st = perk_store_reservation_release(c->w->store, c->path_id, &released);
    if (st != PERK_STORE_OK) {
        serve_store_failure(c, r, st);
        return;
    }
    perk_store_reservation_info info;
    st = perk_store_reservation_get(c->w->store, c->path_id, &info);
    if (st != PERK_STORE_OK) {
        serve_store_failure(c, r, st);
        return;
    }
    json_t *o = reservation_json(c->path_id, &info);
    json_object_set_new(o, "released", json_boolean(released));
    serve_json(r, 200, o);
}

void serve_handle_reservations(serve_call *c, serve_reply *r)
{
    if (c->route == ROUTE_RESERVE)
        handle_reserve(c, r);
    else if (c->route == ROUTE_RESERVATION)
        handle_reservation_get(c, r);
    else
        handle_reservation_release(c, r);
}

void serve_reservations_sweep(perk_store *store)
{
    int64_t expired = 0, open = 0;
    if (perk_store_reservations_sweep(store, &expired) != PERK_STORE_OK) {
        serve_log("reservation_sweep", "sweeping expired reservations: %s", perk_store_errmsg(store));
        return;
    }
    if (perk_store_reservations_open(store, &open) != PERK_STORE_OK) {
        serve_log("reservation_sweep", "counting open reservations: %s", perk_store_errmsg(store));
        return;
    }
    serve_metrics_reservations(open, expired);
}
