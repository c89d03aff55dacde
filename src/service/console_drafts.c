/* console_drafts.c - the drafts kept on the server (docs/console.md, "Drafts on the server"): the
 * list and one draft for anyone signed in; save and delete for editors, each naming the revision
 * it was based on, so that a colleague's later save is never overwritten unseen (409 with who
 * saved which revision when). The store keeps them (src/store/drafts.c) and audits each change. */
#include "console_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int list_row(void *ctx, const perk_store_draft *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "draft", json_string(d->name));
    json_object_set_new(o, "revision", json_integer(d->revision));
    json_object_set_new(o, "saved_by", json_string(d->saved_by));
    json_object_set_new(o, "saved_at", json_integer(d->saved_at));
    json_object_set_new(o, "base_version", json_integer(d->base_version));
    json_array_append_new(ctx, o);
    return 0;
}

static void handle_list(console_call *c, serve_reply *r)
{
    json_t *a = json_array();
    if (perk_store_drafts(c->w->store, list_row, a) != PERK_STORE_OK) {
        json_decref(a);
        serve_error(r, 503, "store_unavailable", NULL, "cannot list the drafts: %s", perk_store_errmsg(c->w->store));
        return;
    }
    serve_json(r, 200, json_pack("{s:o}", "drafts", a));
}

/* The HTTP status of a store failure on a draft. */
static int draft_http_status(perk_store_status st)
{
    switch (st) {
    case PERK_STORE_NOT_FOUND: return 404;
    case PERK_STORE_CONFLICT: return 409;
    case PERK_STORE_INVALID: return 400;
    default: return 503;
    }
}

/* GET draft?draft=NAME: the draft as the Rules page opens it (main file, its files, revision). */
static void handle_get(console_call *c, serve_reply *r)
{
    const char *name = c->query(c->conn, "draft");
    if (!name || !*name) {
        serve_error(r, 400, "invalid_request", "draft", "draft: the draft's name is required (?draft=NAME)");
        return;
    }
    perk_store_draft d;
    perk_store_status st = perk_store_draft_get(c->w->store, name, &d);
    if (st != PERK_STORE_OK) {
        serve_error(r, draft_http_status(st), st == PERK_STORE_NOT_FOUND ? "not_found" : "draft_failed", "draft",
                    "%s", perk_store_errmsg(c->w->store));
        return;
    }
    char *main_name = NULL;
    json_t *files = NULL;
    char *text = console_split_sources(d.sources, &main_name, &files);
    json_t *o = json_pack("{s:s,s:I,s:s,s:I,s:I}", "draft", d.name, "revision", (json_int_t)d.revision, "saved_by",
                          d.saved_by, "saved_at", (json_int_t)d.saved_at, "base_version", (json_int_t)d.base_version);
    if (!o) { /* text the store holds that is not UTF-8: only a hand-edited database has it */
        free(main_name);
        free(text);
        json_decref(files);
        perk_store_free_draft(&d);
        serve_error(r, 500, "internal", NULL, "the draft cannot be shown as JSON");
        return;
    }
    json_t *n = json_string(main_name ? main_name : "draft.perk"), *t = json_string(text ? text : "");
    json_object_set_new(o, "name", n ? n : json_string("draft.perk"));
    json_object_set_new(o, "source", t ? t : json_string(""));
    json_object_set_new(o, "files", files);
    free(main_name);
    free(text);
    perk_store_free_draft(&d);
    serve_json(r, 200, o);
}

/* The draft name and revision of a body: false with a 400 set. */
static bool name_and_revision(json_t *body, const char **name, int64_t *revision, serve_reply *r)
{
    *name = console_member(body, "draft", r);
    if (!*name) return false;
    json_t *v = json_object_get(body, "revision");
    if (v != NULL && !json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 0)) {
        serve_error(r, 400, "invalid_request", "revision",
                    "revision: the revision the draft was opened at (0 or absent for a new draft)");
        return false;
    }
    *revision = json_is_integer(v) ? json_integer_value(v) : 0;
    return true;
}

/* A refused save or delete: 409 says who saved which revision, so the page can offer to open it. */
static void draft_refused(console_call *c, const char *name, perk_store_status st, serve_reply *r)
{
    if (st == PERK_STORE_CONFLICT) {
        perk_store_draft d;
        json_t *o = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "draft_changed", "field", "revision", "message",
                              perk_store_errmsg(c->w->store));
        if (perk_store_draft_get(c->w->store, name, &d) == PERK_STORE_OK) {
            json_object_set_new(o, "revision", json_integer(d.revision));
            json_object_set_new(o, "saved_by", json_string(d.saved_by));
            json_object_set_new(o, "saved_at", json_integer(d.saved_at));
            perk_store_free_draft(&d);
        }
        serve_json(r, 409, o);
        r->error_code = "draft_changed";
        return;
    }
    serve_error(r, draft_http_status(st), st == PERK_STORE_NOT_FOUND ? "not_found" : "draft_failed", "draft", "%s",
                perk_store_errmsg(c->w->store));
}

/* POST drafts/save {draft, revision, source, name, files}: the draft as the Rules page holds it
 * (checked as every draft call checks it, but saved whether or not it compiles: work in progress). */
static void handle_save(console_call *c, const console_session *s, json_t *body, serve_reply *r)
{
    const char *name;
    int64_t expected;
    console_draft draft;
    if (!name_and_revision(body, &name, &expected, r) || !console_draft_read(body, &draft, r)) return;
    char *sources = console_draft_sources(&draft);
    if (!sources) {
        serve_error(r, 500, "internal", NULL, "out of memory");
        return;
    }
    int64_t now = (int64_t)time(NULL), base = 0, revision = 0;
    if (perk_store_active_version(c->w->store, now, &base) != PERK_STORE_OK) base = 0;
    perk_store_status st =
        perk_store_draft_save(c->w->store, name, sources, base, expected, s->user.name, now, &revision);
    free(sources);
    if (st != PERK_STORE_OK) {
        draft_refused(c, name, st, r);
        return;
    }
    serve_json(r, expected == 0 ? 201 : 200,
               json_pack("{s:s,s:I,s:I}", "draft", name, "revision", (json_int_t)revision, "saved_at", (json_int_t)now));
}

/* POST drafts/delete {draft, revision}. */
static void handle_delete(console_call *c, const console_session *s, json_t *body, serve_reply *r)
{
    const char *name;
    int64_t expected;
    if (!name_and_revision(body, &name, &expected, r)) return;
    perk_store_status st = perk_store_draft_delete(c->w->store, name, expected, s->user.name, (int64_t)time(NULL));
    if (st != PERK_STORE_OK) {
        draft_refused(c, name, st, r);
        return;
    }
    serve_json(r, 200, json_pack("{s:s,s:b}", "draft", name, "deleted", 1));
}

bool console_drafts_route(console_call *c, const console_session *s, const char *route, serve_reply *r)
{
    bool get = strcmp(c->method, "GET") == 0;
    if (strcmp(route, "drafts") == 0 && get) {
        handle_list(c, r);
        return true;
    }
    if (strcmp(route, "draft") == 0 && get) {
        handle_get(c, r);
        return true;
    }
    console_post_fn fn = NULL;
    if (strcmp(route, "drafts/save") == 0)
        fn = handle_save;
    else if (strcmp(route, "drafts/delete") == 0)
        fn = handle_delete;
    if (!fn) return false;
    console_post(c, s, ROLE_EDITOR, fn, r);
    return true;
}
