/* store_facts.c - the store's customer facts in place of the cart's claims (see store_facts.h). */
#include "store_facts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"

const char *checkout_fact_name(checkout_fact fact)
{
    switch (fact) {
    case CHECKOUT_FACT_TIER: return "customer.tier";
    case CHECKOUT_FACT_POINTS_BALANCE: return "customer.points_balance";
    case CHECKOUT_FACT_FIRST_ORDER: return "customer.first_order";
    case CHECKOUT_FACT_ORDER_COUNT: return "customer.order_count";
    case CHECKOUT_FACT_MEMBER_SINCE: return "customer.member_since";
    case CHECKOUT_FACT_COUNT: break;
    }
    return "?";
}

perk_store_status checkout_facts_read(perk_store *store, const perk_program *prog, const char *customer,
                                      const char *except_order, int64_t now, checkout_facts *f)
{
    memset(f, 0, sizeof *f);
    perk_store_status st = perk_store_customer_get(store, customer, except_order, now, &f->store);
    if (st != PERK_STORE_OK) return st;
    bool known = false;
    for (size_t t = 0; t < perk_program_tier_count(prog); t++)
        if (strcmp(perk_program_tier_id(prog, t), f->store.tier) == 0) known = true;
    if (!known) f->store.tier[0] = '\0'; /* a tier these rules cannot name */
    f->from_store = true;
    f->claims = (1u << CHECKOUT_FACT_COUNT) - 1;
    return PERK_STORE_OK;
}

unsigned checkout_facts_claims(const cart_doc *doc)
{
    /* a claim is a fact the cart states: known in its customer (a JSON key absent or null is
     * unknown, as a zero presence flag is) - in checkout_fact order */
    if (!doc) return 0;
    const perk_customer *c = &doc->customer;
    const bool known[CHECKOUT_FACT_COUNT] = { c->tier != NULL, c->has_points_balance, c->has_first_order,
                                              c->has_order_count, c->has_member_since };
    unsigned mask = 0;
    for (int k = 0; k < CHECKOUT_FACT_COUNT; k++)
        if (known[k]) mask |= 1u << k;
    return mask;
}

static void note(checkout_facts *f, checkout_fact fact, int64_t claimed, int64_t store)
{
    if (claimed == store || !(f->claims & (1u << fact))) return;
    f->overrides[f->n_overrides++] = (checkout_override){ .fact = fact, .claimed = claimed, .store = store };
}

void checkout_facts_apply(checkout_facts *f, perk_customer *c)
{
    const perk_store_customer_facts *s = &f->store;
    f->n_overrides = 0;
    const char *claimed_tier = c->tier ? c->tier : "";
    if (strcmp(claimed_tier, s->tier) != 0 && (f->claims & (1u << CHECKOUT_FACT_TIER))) {
        checkout_override *o = &f->overrides[f->n_overrides++];
        memset(o, 0, sizeof *o);
        o->fact = CHECKOUT_FACT_TIER;
        snprintf(o->claimed_tier, sizeof o->claimed_tier, "%s", claimed_tier);
        snprintf(o->store_tier, sizeof o->store_tier, "%s", s->tier);
    }
    c->tier = s->tier[0] ? s->tier : NULL;
    note(f, CHECKOUT_FACT_POINTS_BALANCE, c->points_balance, s->points_balance);
    c->points_balance = s->points_balance;
    c->has_points_balance = true;
    bool first = s->order_count == 0;
    note(f, CHECKOUT_FACT_FIRST_ORDER, c->first_order, first);
    c->first_order = first;
    c->has_first_order = true;
    note(f, CHECKOUT_FACT_ORDER_COUNT, c->order_count, s->order_count);
    c->order_count = s->order_count;
    c->has_order_count = true;
    if (s->has_record) { /* without a CRM record the cart is the source */
        note(f, CHECKOUT_FACT_MEMBER_SINCE, c->has_member_since ? c->member_since_days : -1,
             s->member_since_days);
        /* the CRM's record decides: a member since that day, or (-1) not a member */
        c->has_member_since = s->member_since_days >= 0;
        c->member_since_days = c->has_member_since ? s->member_since_days : 0;
    }
}

bool checkout_store_customer(perk_store *store, const perk_program *prog, cart_doc *doc, checkout_facts *f,
                             char *msg, size_t msglen)
{
    memset(f, 0, sizeof *f);
    if (!doc->customer.id) return true;
    bool committed = false;
    perk_store_status st = PERK_STORE_OK;
    if (doc->order.id) st = perk_store_order_uses(store, doc->order.id, &committed, NULL, NULL, NULL);
    if (st == PERK_STORE_OK)
        st = checkout_facts_read(store, prog, doc->customer.id, committed ? doc->order.id : NULL,
                                 perk_store_now(store), f);
    if (st != PERK_STORE_OK) {
        snprintf(msg, msglen, "reading the facts of customer %s from the store: %s", doc->customer.id,
                 perk_store_errmsg(store));
        return false;
    }
    f->claims = checkout_facts_claims(doc);
    checkout_facts_apply(f, &doc->customer);
    return true;
}

static json_t *value_json(const checkout_override *o, bool claimed)
{
    int64_t v = claimed ? o->claimed : o->store;
    switch (o->fact) {
    case CHECKOUT_FACT_TIER: {
        const char *t = claimed ? o->claimed_tier : o->store_tier;
        return *t ? json_string(t) : json_null();
    }
    case CHECKOUT_FACT_FIRST_ORDER: return json_boolean(v != 0);
    case CHECKOUT_FACT_MEMBER_SINCE: {
        if (v < 0) return json_null();
        int y, m, d;
        civil_date_from_days(v, &y, &m, &d);
        char buf[32];
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
        return json_string(buf);
    }
    case CHECKOUT_FACT_POINTS_BALANCE:
    case CHECKOUT_FACT_ORDER_COUNT:
    case CHECKOUT_FACT_COUNT: break;
    }
    return json_integer(v);
}

char *checkout_facts_json(const checkout_facts *f)
{
    json_t *o = json_object(), *from = json_array(), *over = json_array();
    if (!o || !from || !over) {
        json_decref(o);
        json_decref(from);
        json_decref(over);
        return NULL;
    }
    for (int k = 0; f->from_store && k < CHECKOUT_FACT_COUNT; k++)
        if (k != CHECKOUT_FACT_MEMBER_SINCE || f->store.has_record)
            json_array_append_new(from, json_string(checkout_fact_name((checkout_fact)k)));
    for (size_t i = 0; i < f->n_overrides; i++) {
        const checkout_override *ov = &f->overrides[i];
        json_t *e = json_object();
        json_object_set_new(e, "fact", json_string(checkout_fact_name(ov->fact)));
        json_object_set_new(e, "claimed", value_json(ov, true));
        json_object_set_new(e, "store", value_json(ov, false));
        json_array_append_new(over, e);
    }
    json_object_set_new(o, "from_store", from);
    json_object_set_new(o, "overrides", over);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}
