/* console_publish.c - the Publish page's API (docs/console.md): the what-if replay of recent
 * committed orders under a draft against the active version (the engine of `perk diff`), publish
 * now or at a time in the shop's zone with a message, the history of versions, and roll back. Publishing and rolling back need the
 * publisher role and are written to the audit log. */
#include "console_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "civil.h"
#include "compiler/compiler.h"
#include "program.h"
#include "tools/tools.h"
#include "tz.h"

#define CONSOLE_REPLAY_ORDERS 1000 /* the most recent committed orders a draft is replayed on */

static int write_order(void *ctx, const char *order_json)
{
    FILE *f = ctx;
    /* one cart per line, as perk diff reads them */
    json_t *o = json_loads(order_json, 0, NULL);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (line) fprintf(f, "%s\n", line);
    free(line);
    return 0;
}

static void handle_whatif(console_call *c, json_t *body, serve_reply *r)
{
    console_draft d;
    if (!console_draft_read(body, &d, r)) return;
    uint8_t *bytes;
    size_t len;
    if (!console_draft_bytes(&d, &bytes, &len, r)) return;
    perk_error e;
    perk_program *draft = perk_program_load(bytes, len, &e);
    free(bytes);
    int64_t id = 0;
    perk_store_version v;
    memset(&v, 0, sizeof v);
    perk_store_status st = perk_store_active_version(c->w->store, (int64_t)time(NULL), &id);
    if (st == PERK_STORE_OK) st = perk_store_get_version(c->w->store, id, &v);
    perk_program *active = st == PERK_STORE_OK ? perk_program_load(v.bytecode, v.bytecode_len, &e) : NULL;
    perk_store_free_version(&v);
    if (!draft || !active) {
        perk_program_free(draft);
        perk_program_free(active);
        if (st == PERK_STORE_NOT_FOUND)
            serve_json(r, 200,
                       json_pack("{s:n,s:s}", "active_version", "message",
                                 "nothing is published yet: there is nothing to compare with"));
        else
            serve_error(r, 503, "store_unavailable", NULL, "cannot load the active version: %s",
                        st == PERK_STORE_OK ? e.message : perk_store_errmsg(c->w->store));
        return;
    }
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/perk-console-orders-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        perk_program_free(draft);
        perk_program_free(active);
        serve_error(r, 500, "internal", NULL, "cannot write the orders to replay: %s", strerror(errno));
        return;
    }
    st = perk_store_recent_orders(c->w->store, CONSOLE_REPLAY_ORDERS, write_order, f);
    fclose(f);
    char err[512] = "";
    diff_options opt;
    memset(&opt, 0, sizeof opt);
    opt.top = 10;
    opt.threads = 1;
    opt.now = (int64_t)time(NULL);
    diff_report *rep = st == PERK_STORE_OK ? diff_run(active, draft, path, &opt, err, sizeof err) : NULL;
    unlink(path);
    char active_name[32];
    snprintf(active_name, sizeof active_name, "version %lld", (long long)id);
    char *json = rep ? diff_report_json(rep, active_name, "draft") : NULL;
    diff_report_free(rep);
    perk_program_free(draft);
    perk_program_free(active);
    json_t *report = json ? json_loads(json, 0, NULL) : NULL;
    free(json);
    if (!report) {
        serve_error(r, 422, "replay_failed", NULL, "the replay failed: %s",
                    err[0]                ? err
                    : st != PERK_STORE_OK ? perk_store_errmsg(c->w->store)
                                          : "out of memory");
        return;
    }
    serve_json(r, 200, json_pack("{s:I,s:o}", "active_version", (json_int_t)id, "report", report));
}

/* The "activate_at" of a publish: absent, null or "" = now; else a wall time "2026-12-08T20:00"
 * (what an <input type=datetime-local> gives; seconds optional) in the time zone of the rule set
 * being published, since operators plan in the shop's time, or an RFC 3339 time with its offset.
 * False with a 400 when it is none of these or not after now. */
static bool activation_time(json_t *body, const uint8_t *bytes, size_t len, int64_t now, int64_t *at,
                            serve_reply *r)
{
    *at = 0;
    json_t *v = json_object_get(body, "activate_at");
    if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v))) return true;
    const char *text = json_string_value(v);
    int y, mo, d, hh, mm, ss = 0, used = 0;
    bool wall = text && ((sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &hh, &mm, &ss, &used) == 6 &&
                          text[used] == '\0') ||
                         (sscanf(text, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &hh, &mm, &used) == 5 &&
                          text[used] == '\0' && (ss = 0, true)));
    if (wall && y >= 1970 && y <= 9999 && civil_valid_date(y, mo, d) && hh < 24 && mm < 60 && ss < 60 && hh >= 0 &&
        mm >= 0 && ss >= 0) {
        perk_error err;
        perk_program *p = perk_program_load(bytes, len, &err);
        if (!p) {
            serve_error(r, 422, "draft_does_not_compile", NULL, "the draft does not load: %s", err.message);
            return false;
        }
        const prog_data *pd = prog_data_of(p);
        tz_zone zone = { pd->n_tz, pd->tz_at, pd->tz_offset, pd->tz_base_offset };
        *at = tz_from_local(&zone, civil_days_from_date(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss);
        perk_program_free(p);
    } else if (!text || !civil_parse_timestamp(text, strlen(text), at)) {
        serve_error(r, 400, "invalid_request", "activate_at",
                    "activate_at: expected a wall time in the rule set's time zone like 2026-12-08T20:00, an "
                    "RFC 3339 time with an offset, or nothing to publish now");
        return false;
    }
    if (*at <= now) {
        serve_error(r, 400, "invalid_request", "activate_at",
                    "activate_at: %s is not in the future: leave it empty to publish now", text);
        return false;
    }
    return true;
}

static void handle_publish(console_call *c, const console_session *s, json_t *body, serve_reply *r)
{
    console_draft d;
    if (!console_draft_read(body, &d, r)) return;
    const char *message = console_member(body, "message", r);
    if (!message) return;
    if (!*message) {
        serve_error(r, 400, "invalid_request", "message", "message: say what this version changes");
        return;
    }
    uint8_t *bytes;
    size_t len;
    if (!console_draft_bytes(&d, &bytes, &len, r)) return;
    int64_t id = 0, now = (int64_t)time(NULL), activate_at = 0;
    if (!activation_time(body, bytes, len, now, &activate_at, r)) {
        free(bytes);
        return;
    }
    char *sources = console_draft_sources(&d); /* the main file and the files it includes */
    perk_store_status st =
        perk_store_publish(c->w->store, bytes, len, sources, s->user.name, message, activate_at, now, &id);
    free(bytes);
    free(sources);
    if (st != PERK_STORE_OK) {
        serve_error(r, st == PERK_STORE_INVALID ? 400 : 503, "publish_failed", NULL, "%s",
                    perk_store_errmsg(c->w->store));
        return;
    }
    if (activate_at)
        console_audit(c, s, "publish", "version %lld, to activate at %lld: %s", (long long)id,
                      (long long)activate_at, message);
    else
        console_audit(c, s, "publish", "version %lld: %s", (long long)id, message);
    serve_json(r, 201, json_pack("{s:I,s:s,s:I}", "version", (json_int_t)id, "message", message, "activate_at",
                                 (json_int_t)(activate_at ? activate_at : now)));
}

static void handle_rollback(console_call *c, const console_session *s, json_t *body, serve_reply *r)
{
    json_t *v = json_object_get(body, "version");
    const char *message = json_string_value(json_object_get(body, "message"));
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        serve_error(r, 400, "invalid_request", "version",
                    "version: the id of an earlier version is required");
        return;
    }
    int64_t id = json_integer_value(v);
    perk_store_status st =
        perk_store_rollback(c->w->store, id, s->user.name, message ? message : "", (int64_t)time(NULL));
    if (st != PERK_STORE_OK) {
        serve_error(r,
                    st == PERK_STORE_NOT_FOUND ? 404
                    : st == PERK_STORE_INVALID ? 400
                                               : 503,
                    "rollback_failed", NULL, "%s", perk_store_errmsg(c->w->store));
        return;
    }
    console_audit(c, s, "rollback", "to version %lld%s%s", (long long)id, message && *message ? ": " : "",
                  message ? message : "");
    serve_json(r, 200, json_pack("{s:I}", "version", (json_int_t)id));
}

static int history_row(const perk_store_version_info *info, void *ctx)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(info->id));
    json_object_set_new(o, "created_at", json_integer(info->created_at));
    json_t *a = json_string(info->author), *m = json_string(info->message);
    json_object_set_new(o, "author", a ? a : json_string("?"));
    json_object_set_new(o, "message", m ? m : json_string("?"));
    json_object_set_new(o, "checksum", json_string(info->checksum));
    json_object_set_new(o, "active", json_boolean(info->active));
    json_object_set_new(o, "last_activated_at", json_integer(info->last_activated_at));
    json_object_set_new(o, "next_activation_at", json_integer(info->next_activation_at));
    json_array_append_new(ctx, o);
    return 0;
}

static void handle_history(console_call *c, serve_reply *r)
{
    json_t *rows = json_array();
    perk_store_status st = perk_store_history(c->w->store, (int64_t)time(NULL), history_row, rows);
    if (st != PERK_STORE_OK) {
        json_decref(rows);
        serve_error(r, 503, "store_unavailable", NULL, "cannot read the history: %s",
                    perk_store_errmsg(c->w->store));
        return;
    }
    serve_json(r, 200, json_pack("{s:o}", "versions", rows));
}

bool console_publish_route(console_call *c, const console_session *s, const char *route, serve_reply *r)
{
    bool get = strcmp(c->method, "GET") == 0;
    if (strcmp(route, "history") == 0 && get) {
        handle_history(c, r);
        return true;
    }
    bool whatif = strcmp(route, "whatif") == 0, publish = strcmp(route, "publish") == 0,
         rollback = strcmp(route, "rollback") == 0;
    if (!(whatif || publish || rollback)) return false;
    if (get) {
        r->allow = "POST";
        serve_error(r, 405, "method_not_allowed", NULL, "use POST");
        return true;
    }
    if (!console_allow(s, whatif ? ROLE_EDITOR : ROLE_PUBLISHER, r)) return true;
    json_t *body = console_body(c, r);
    if (!body) return true;
    if (whatif)
        handle_whatif(c, body, r);
    else if (publish)
        handle_publish(c, s, body, r);
    else
        handle_rollback(c, s, body, r);
    json_decref(body);
    return true;
}
