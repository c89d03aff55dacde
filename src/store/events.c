/* events.c - the outbox: events written in the same transaction as their cause, read in
 * id order by consumers, who record how far they got. The event JSON shapes are documented in
 * docs/events.md. */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

perk_store_status pstore_emit(perk_store *s, const char *type, int64_t time, json_t *data, int64_t *id_out)
{
    if (!data) return pstore_fail(s, PERK_STORE_NOMEM, "out of memory while building a %s event", type);
    if (json_object_set_new(data, "time", json_integer(time)) != 0) {
        json_decref(data);
        return pstore_fail(s, PERK_STORE_NOMEM, "out of memory while building a %s event", type);
    }
    char *text = json_dumps(data, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(data);
    if (!text) return pstore_fail(s, PERK_STORE_NOMEM, "out of memory while encoding a %s event", type);
    /* ids in commit order (db.h): a reader's position never passes an event still to commit */
    perk_store_status lock = pstore_db_outbox_lock(s);
    if (lock != PERK_STORE_OK) {
        free(text);
        return lock;
    }
    pstore_st *st = pstore_stmt(s, "INSERT INTO events (type, created_at, data) VALUES (?1, ?2, ?3) RETURNING id");
    if (!st) {
        free(text);
        return pstore_stmt_status(s);
    }
    pstore_bind_text(st, 1, type);
    pstore_bind_int64(st, 2, time);
    pstore_bind_text(st, 3, text);
    int64_t id = 0;
    perk_store_status status = pstore_query_int(s, st, 0, &id, "writing an event to the outbox");
    free(text);
    if (status == PERK_STORE_OK && id_out) *id_out = id;
    return status;
}

typedef struct event_row {
    int64_t id, time;
    char *type, *data;
} event_row;

static void free_rows(event_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].type);
        free(rows[i].data);
    }
    free(rows);
}

static char *dup_column(pstore_st *st, int col)
{
    const char *t = pstore_col_text(st, col);
    return strdup(t ? (const char *)t : "");
}

perk_store_status perk_store_events(perk_store *s, int64_t after_id, int limit, perk_store_event_cb cb,
                                    void *ctx)
{
    if (!s) return PERK_STORE_INVALID;
    if (!cb) return pstore_fail(s, PERK_STORE_INVALID, "no callback given for reading events");
    if (limit < 1 || limit > 10000)
        return pstore_fail(s, PERK_STORE_INVALID, "event batch limit must be 1..10000, got %d", limit);
    pstore_st *st =
        pstore_stmt(s, "SELECT id, type, created_at, data FROM events WHERE id > ?1 ORDER BY id LIMIT ?2");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_int64(st, 1, after_id);
    pstore_bind_int64(st, 2, limit);
    /* Read the whole batch first so the callback may use the handle (e.g. to acknowledge). */
    event_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = pstore_step(st)) == PSTORE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            event_row *grown = realloc(rows, ncap * sizeof *grown);
            if (!grown) {
                pstore_done(st);
                free_rows(rows, n);
                return pstore_fail(s, PERK_STORE_NOMEM, "out of memory while reading events");
            }
            rows = grown;
            cap = ncap;
        }
        event_row *r = &rows[n++];
        r->id = pstore_col_int64(st, 0);
        r->time = pstore_col_int64(st, 2);
        r->type = dup_column(st, 1);
        r->data = dup_column(st, 3);
        if (!r->type || !r->data) {
            pstore_done(st);
            free_rows(rows, n);
            return pstore_fail(s, PERK_STORE_NOMEM, "out of memory while reading events");
        }
    }
    perk_store_status status = PERK_STORE_OK;
    if (rc != PSTORE_DONE) status = pstore_sqlfail(s, rc, "reading events");
    pstore_done(st);
    for (size_t i = 0; status == PERK_STORE_OK && i < n; i++)
        if (cb(rows[i].id, rows[i].type, rows[i].time, rows[i].data, ctx) != 0) break;
    free_rows(rows, n);
    return status;
}

typedef struct ack_ctx {
    const char *consumer;
    const char *holder; /* NULL: any caller may acknowledge */
    int64_t id;
} ack_ctx;

/* Who holds the consumer's claim (holder "" when no one, or no row). */
static perk_store_status read_claim(perk_store *s, const char *consumer, perk_store_claim *out)
{
    memset(out, 0, sizeof *out);
    pstore_st *st = pstore_stmt(s, "SELECT holder, held_until FROM consumers WHERE name = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, consumer);
    int rc = pstore_step(st);
    if (rc == PSTORE_ROW) {
        const char *h = pstore_col_text(st, 0);
        snprintf(out->holder, sizeof out->holder, "%s", h ? h : "");
        out->until = pstore_col_int64(st, 1);
        rc = pstore_step(st);
    }
    pstore_done(st);
    if (rc != PSTORE_DONE) return pstore_sqlfail(s, rc, "reading the consumer's claim");
    return PERK_STORE_OK;
}

/* The acknowledgement's write transaction (may run again: it only writes in the transaction). */
static perk_store_status ack_body(perk_store *s, void *arg)
{
    const ack_ctx *c = arg;
    const char *consumer = c->consumer;
    int64_t id = c->id;
    perk_store_status status;
    int64_t max_id = 0;
    pstore_st *st = pstore_stmt(s, "SELECT MAX(id) FROM events");
    status = st ? pstore_query_int(s, st, 0, &max_id, "reading the last event id") : pstore_stmt_status(s);
    if (status != PERK_STORE_OK) return status;
    if (id > max_id) {
        return pstore_fail(s, PERK_STORE_INVALID,
                           "cannot acknowledge event %lld for consumer %s: the last event is %lld",
                           (long long)id, consumer, (long long)max_id);
    }
    if (c->holder) {
        perk_store_claim claim;
        status = read_claim(s, consumer, &claim);
        if (status != PERK_STORE_OK) return status;
        if (strcmp(claim.holder, c->holder) != 0)
            return pstore_fail(s, PERK_STORE_CONFLICT,
                               "%s no longer delivers consumer %s: %s%s holds it; event %lld was not recorded",
                               c->holder, consumer, claim.holder[0] ? "node " : "", claim.holder[0] ? claim.holder : "no one",
                               (long long)id);
    }
    st = pstore_stmt(s, "INSERT INTO consumers (name, position) VALUES (?1, ?2) "
                        "ON CONFLICT (name) DO UPDATE SET position = CASE WHEN excluded.position > consumers.position "
                        "THEN excluded.position ELSE consumers.position END");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, consumer);
    pstore_bind_int64(st, 2, id);
    return pstore_step_done(s, st, "recording the consumer position");
}

perk_store_status perk_store_ack(perk_store *s, const char *consumer, int64_t id)
{
    if (!s) return PERK_STORE_INVALID;
    perk_store_status status = pstore_check_name(s, "consumer name", consumer, 255);
    if (status != PERK_STORE_OK) return status;
    if (id < 0) return pstore_fail(s, PERK_STORE_INVALID, "event id must be >= 0, got %lld", (long long)id);
    ack_ctx c = { .consumer = consumer, .id = id };
    return pstore_write_txn(s, "acknowledging events", "committing the consumer position", ack_body, &c);
}

perk_store_status perk_store_ack_held(perk_store *s, const char *consumer, const char *holder, int64_t id)
{
    if (!s) return PERK_STORE_INVALID;
    perk_store_status status = pstore_check_name(s, "consumer name", consumer, 255);
    if (status == PERK_STORE_OK) status = pstore_check_name(s, "holder name", holder, PERK_STORE_NAME_MAX - 1);
    if (status != PERK_STORE_OK) return status;
    if (id < 0) return pstore_fail(s, PERK_STORE_INVALID, "event id must be >= 0, got %lld", (long long)id);
    ack_ctx c = { .consumer = consumer, .holder = holder, .id = id };
    return pstore_write_txn(s, "acknowledging events", "committing the consumer position", ack_body, &c);
}

typedef struct claim_ctx {
    const char *consumer, *holder;
    int64_t now, until;
    bool release;
    perk_store_claim out;
} claim_ctx;

/* The claim's write transaction: taken (or renewed, or given up) by one conditional upsert, then
 * read back, so two nodes claiming at once cannot both be granted. */
static perk_store_status claim_body(perk_store *s, void *arg)
{
    claim_ctx *c = arg;
    pstore_st *st;
    if (c->release) {
        st = pstore_stmt(s, "UPDATE consumers SET holder = NULL, held_until = 0 WHERE name = ?1 AND holder = ?2");
        if (!st) return pstore_stmt_status(s);
        pstore_bind_text(st, 1, c->consumer);
        pstore_bind_text(st, 2, c->holder);
    } else {
        st = pstore_stmt(s, "INSERT INTO consumers (name, position, holder, held_until) VALUES (?1, 0, ?2, ?3) "
                            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until "
                            "WHERE consumers.holder IS NULL OR consumers.holder = excluded.holder "
                            "OR consumers.held_until <= ?4");
        if (!st) return pstore_stmt_status(s);
        pstore_bind_text(st, 1, c->consumer);
        pstore_bind_text(st, 2, c->holder);
        pstore_bind_int64(st, 3, c->until);
        pstore_bind_int64(st, 4, c->now);
    }
    perk_store_status status = pstore_step_done(s, st, c->release ? "giving up the consumer's claim" : "claiming the consumer");
    if (status != PERK_STORE_OK) return status;
    status = read_claim(s, c->consumer, &c->out);
    if (status != PERK_STORE_OK) return status;
    c->out.granted = !c->release && strcmp(c->out.holder, c->holder) == 0;
    return PERK_STORE_OK;
}

perk_store_status perk_store_consumer_claim(perk_store *s, const char *consumer, const char *holder, int64_t now,
                                            int64_t ttl_seconds, perk_store_claim *out)
{
    if (!s) return PERK_STORE_INVALID;
    perk_store_status status = pstore_check_name(s, "consumer name", consumer, 255);
    if (status == PERK_STORE_OK) status = pstore_check_name(s, "holder name", holder, PERK_STORE_NAME_MAX - 1);
    if (status != PERK_STORE_OK) return status;
    if (now < 0 || ttl_seconds < 1 || ttl_seconds > 86400)
        return pstore_fail(s, PERK_STORE_INVALID, "a claim needs a time >= 0 and a TTL of 1 to 86400 s, got %lld and %lld",
                           (long long)now, (long long)ttl_seconds);
    claim_ctx c = { .consumer = consumer, .holder = holder, .now = now, .until = now + ttl_seconds };
    status = pstore_write_txn(s, "claiming a consumer", "committing the consumer's claim", claim_body, &c);
    if (status == PERK_STORE_OK && out) *out = c.out;
    return status;
}

perk_store_status perk_store_consumer_release(perk_store *s, const char *consumer, const char *holder)
{
    if (!s) return PERK_STORE_INVALID;
    perk_store_status status = pstore_check_name(s, "consumer name", consumer, 255);
    if (status == PERK_STORE_OK) status = pstore_check_name(s, "holder name", holder, PERK_STORE_NAME_MAX - 1);
    if (status != PERK_STORE_OK) return status;
    claim_ctx c = { .consumer = consumer, .holder = holder, .release = true };
    return pstore_write_txn(s, "giving up a consumer's claim", "committing the consumer's claim", claim_body, &c);
}


perk_store_status perk_store_consumer_position(perk_store *s, const char *consumer, int64_t *id)
{
    if (!s || !id) return s ? pstore_fail(s, PERK_STORE_INVALID, "no output given") : PERK_STORE_INVALID;
    perk_store_status status = pstore_check_name(s, "consumer name", consumer, 255);
    if (status != PERK_STORE_OK) return status;
    pstore_st *st = pstore_stmt(s, "SELECT position FROM consumers WHERE name = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, consumer);
    return pstore_query_int(s, st, 0, id, "reading the consumer position");
}
