/* users.c - operators of the console, their sessions and the audit log (docs/console.md).
 *
 * Passwords are hashed with Argon2id (libargon2), a fresh 16-byte random salt per user, the
 * parameters inside the encoded string so that they can be raised later without a migration.
 * Session and CSRF tokens are 32 random bytes (getrandom) shown as hex; only the SHA-256 of a
 * session token is stored, so a copy of the database opens no session. */
#include "store_internal.h"

#include <argon2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* OWASP's recommended Argon2id floor: 19 MiB, 2 passes, 1 lane (about 30 ms on one core). */
#define USERS_T_COST 2
#define USERS_M_COST_KIB 19456
#define USERS_LANES 1
#define USERS_SALT_LEN 16
#define USERS_HASH_LEN 32
#define USERS_ENCODED_MAX 160

static bool valid_role(const char *role)
{
    return role &&
           (strcmp(role, "viewer") == 0 || strcmp(role, "editor") == 0 || strcmp(role, "publisher") == 0);
}

/* Names: letters, digits, '.', '_', '-' and '@' (an e-mail address works), so that a name never
 * needs quoting in the audit log or a listing. */
static perk_store_status check_user_name(perk_store *s, const char *name)
{
    perk_store_status st = pstore_check_name(s, "user name", name, PERK_STORE_USER_NAME_MAX);
    if (st != PERK_STORE_OK) return st;
    for (const char *p = name; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-' || c == '@';
        if (!ok)
            return pstore_fail(s, PERK_STORE_INVALID,
                               "user name \"%s\": only letters, digits and . _ - @ are allowed", name);
    }
    return PERK_STORE_OK;
}

static void hex_of(const unsigned char *raw, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 15];
    }
    out[2 * n] = '\0';
}

static bool random_hex(char out[PERK_STORE_TOKEN_LEN + 1])
{
    unsigned char raw[PERK_STORE_TOKEN_LEN / 2];
    if (pstore_random_bytes(raw, sizeof raw) != 0) return false;
    hex_of(raw, sizeof raw, out);
    memset(raw, 0, sizeof raw);
    return true;
}

static perk_store_status hash_password(perk_store *s, const char *password, size_t len,
                                       char encoded[USERS_ENCODED_MAX])
{
    unsigned char salt[USERS_SALT_LEN];
    if (pstore_random_bytes(salt, sizeof salt) != 0)
        return pstore_fail(s, PERK_STORE_IO, "no random bytes for a password salt (getrandom failed)");
    int rc = argon2id_hash_encoded(USERS_T_COST, USERS_M_COST_KIB, USERS_LANES, password, len, salt,
                                   sizeof salt, USERS_HASH_LEN, encoded, USERS_ENCODED_MAX);
    if (rc != ARGON2_OK)
        return pstore_fail(s, PERK_STORE_NOMEM, "hashing the password failed: %s", argon2_error_message(rc));
    return PERK_STORE_OK;
}

static perk_store_status check_password(perk_store *s, const char *password, size_t len)
{
    if (!password || len < PERK_STORE_PASSWORD_MIN)
        return pstore_fail(s, PERK_STORE_INVALID, "the password must have at least %d characters",
                           PERK_STORE_PASSWORD_MIN);
    if (len > PERK_STORE_PASSWORD_MAX)
        return pstore_fail(s, PERK_STORE_INVALID, "the password is longer than %d bytes",
                           PERK_STORE_PASSWORD_MAX);
    if (memchr(password, '\0', len))
        return pstore_fail(s, PERK_STORE_INVALID, "the password must not contain a NUL byte");
    return PERK_STORE_OK;
}

perk_store_status pstore_audit_insert(perk_store *s, int64_t now, const char *actor, const char *action,
                                      const char *detail)
{
    perk_store_status st = pstore_check_name(s, "audit actor", actor, 255);
    if (st == PERK_STORE_OK) st = pstore_check_name(s, "audit action", action, 64);
    if (st != PERK_STORE_OK) return st;
    if (!detail) detail = "";
    if (strlen(detail) > 4096)
        return pstore_fail(s, PERK_STORE_INVALID, "audit detail is longer than 4096 bytes");
    pstore_st *q =
        pstore_stmt(s, "INSERT INTO audit_log (at, actor, action, detail) VALUES (?1, ?2, ?3, ?4)");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_int64(q, 1, now);
    pstore_bind_text(q, 2, actor);
    pstore_bind_text(q, 3, action);
    pstore_bind_text(q, 4, detail);
    return pstore_step_done(s, q, "writing the audit log");
}

perk_store_status perk_store_audit(perk_store *s, int64_t now, const char *actor, const char *action,
                                   const char *detail)
{
    if (!s) return PERK_STORE_INVALID;
    return pstore_audit_insert(s, now, actor, action, detail);
}

typedef struct user_add_ctx {
    const char *name, *role, *encoded, *actor;
    int64_t now;
} user_add_ctx;

/* perk_store_user_add's write transaction (may run again: it only writes in it). */
static perk_store_status user_add_body(perk_store *s, void *arg)
{
    const user_add_ctx *c = arg;
    const char *name = c->name, *role = c->role, *encoded = c->encoded, *actor = c->actor;
    int64_t now = c->now;
    perk_store_status st;
    pstore_st *q = pstore_stmt(s, "SELECT COUNT(*) FROM console_users WHERE name = ?1");
    int64_t exists = 0;
    if (!q) {
        st = pstore_stmt_status(s);
        return st;
    }
    pstore_bind_text(q, 1, name);
    if ((st = pstore_query_int(s, q, 0, &exists, "looking up a user")) != PERK_STORE_OK) return st;
    if (exists) {
        st = pstore_fail(s, PERK_STORE_CONFLICT, "user \"%s\" exists already (perk users remove it first)",
                         name);
        return st;
    }
    q = pstore_stmt(s,
                    "INSERT INTO console_users (name, role, password, created_at) VALUES (?1, ?2, ?3, ?4)");
    if (!q) {
        st = pstore_stmt_status(s);
        return st;
    }
    pstore_bind_text(q, 1, name);
    pstore_bind_text(q, 2, role);
    pstore_bind_text(q, 3, encoded);
    pstore_bind_int64(q, 4, now);
    if ((st = pstore_step_done(s, q, "adding a user")) != PERK_STORE_OK) return st;
    char detail[160];
    snprintf(detail, sizeof detail, "%s as %s", name, role);
    if ((st = pstore_audit_insert(s, now, actor, "user.add", detail)) != PERK_STORE_OK) return st;
    return PERK_STORE_OK;
}

perk_store_status perk_store_user_add(perk_store *s, const char *name, const char *role, const char *password,
                                      size_t len, const char *actor, int64_t now)
{
    if (!s) return PERK_STORE_INVALID;
    perk_store_status st = check_user_name(s, name);
    if (st != PERK_STORE_OK) return st;
    if (!valid_role(role))
        return pstore_fail(s, PERK_STORE_INVALID, "role must be viewer, editor or publisher, not \"%s\"",
                           role ? role : "");
    if ((st = check_password(s, password, len)) != PERK_STORE_OK) return st;
    char encoded[USERS_ENCODED_MAX];
    if ((st = hash_password(s, password, len, encoded)) != PERK_STORE_OK) return st;
    user_add_ctx c = { .name = name, .role = role, .encoded = encoded, .actor = actor, .now = now };
    st = pstore_write_txn(s, "adding a user", "adding a user", user_add_body, &c);
    return st;
}

typedef struct user_remove_ctx {
    const char *name, *actor;
    int64_t now;
} user_remove_ctx;

/* perk_store_user_remove's write transaction (may run again: it only writes in it). */
static perk_store_status user_remove_body(perk_store *s, void *arg)
{
    const user_remove_ctx *c = arg;
    const char *name = c->name, *actor = c->actor;
    int64_t now = c->now;
    perk_store_status st;
    pstore_st *q = pstore_stmt(
        s, "DELETE FROM console_sessions WHERE user_id IN (SELECT id FROM console_users WHERE name = ?1)");
    if (!q) {
        st = pstore_stmt_status(s);
        return st;
    }
    pstore_bind_text(q, 1, name);
    if ((st = pstore_step_done(s, q, "ending the user's sessions")) != PERK_STORE_OK) return st;
    q = pstore_stmt(s, "DELETE FROM console_users WHERE name = ?1");
    if (!q) {
        st = pstore_stmt_status(s);
        return st;
    }
    pstore_bind_text(q, 1, name);
    if ((st = pstore_step_done(s, q, "removing a user")) != PERK_STORE_OK) return st;
    if (pstore_changes(s) == 0) {
        st = pstore_fail(s, PERK_STORE_NOT_FOUND, "no user \"%s\" (perk users list shows them)", name);
        return st;
    }
    if ((st = pstore_audit_insert(s, now, actor, "user.remove", name)) != PERK_STORE_OK) return st;
    return PERK_STORE_OK;
}

perk_store_status perk_store_user_remove(perk_store *s, const char *name, const char *actor, int64_t now)
{
    if (!s) return PERK_STORE_INVALID;
    perk_store_status st = pstore_check_name(s, "user name", name, PERK_STORE_USER_NAME_MAX);
    if (st != PERK_STORE_OK) return st;
    user_remove_ctx c = { .name = name, .actor = actor, .now = now };
    st = pstore_write_txn(s, "removing a user", "removing a user", user_remove_body, &c);
    return st;
}

static void user_from_row(pstore_st *q, int first, perk_store_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = pstore_col_int64(q, first);
    const char *n = pstore_col_text(q, first + 1), *r = pstore_col_text(q, first + 2);
    snprintf(u->name, sizeof u->name, "%s", n ? (const char *)n : "");
    snprintf(u->role, sizeof u->role, "%s", r ? (const char *)r : "");
    u->created_at = pstore_col_int64(q, first + 3);
}

perk_store_status perk_store_users(perk_store *s, perk_store_user_cb cb, void *ctx)
{
    if (!s || !cb) return PERK_STORE_INVALID;
    pstore_st *q = pstore_stmt(s, "SELECT id, name, role, created_at FROM console_users ORDER BY name");
    if (!q) return pstore_stmt_status(s);
    int rc;
    while ((rc = pstore_step(q)) == PSTORE_ROW) {
        perk_store_user u;
        user_from_row(q, 0, &u);
        if (cb(ctx, &u)) {
            rc = PSTORE_DONE;
            break;
        }
    }
    perk_store_status st = rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(s, rc, "listing users");
    pstore_done(q);
    return st;
}

/* A valid hash of a password nobody knows: verified against when the name is unknown, so that
 * the answer takes as long as for a known name. Made once per process. */
static char dummy_encoded[USERS_ENCODED_MAX];
static bool dummy_ok;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
    static const unsigned char salt[USERS_SALT_LEN] = "perk-no-such-us";
    dummy_ok = argon2id_hash_encoded(USERS_T_COST, USERS_M_COST_KIB, USERS_LANES, "x", 1, salt, sizeof salt,
                                     USERS_HASH_LEN, dummy_encoded, sizeof dummy_encoded) == ARGON2_OK;
}

static const char *dummy_hash(void)
{
    pthread_once(&dummy_once, dummy_make);
    return dummy_ok ? dummy_encoded : NULL;
}

perk_store_status perk_store_user_verify(perk_store *s, const char *name, const char *password, size_t len,
                                         perk_store_user *out, bool *ok)
{
    *ok = false;
    memset(out, 0, sizeof *out);
    if (!s || !name || !password) return PERK_STORE_INVALID;
    if (len > PERK_STORE_PASSWORD_MAX || strlen(name) > PERK_STORE_USER_NAME_MAX) return PERK_STORE_OK;
    pstore_st *q =
        pstore_stmt(s, "SELECT id, name, role, created_at, password FROM console_users WHERE name = ?1");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_text(q, 1, name);
    int rc = pstore_step(q);
    char encoded[USERS_ENCODED_MAX] = "";
    bool found = false;
    if (rc == PSTORE_ROW) {
        user_from_row(q, 0, out);
        const char *p = pstore_col_text(q, 4);
        snprintf(encoded, sizeof encoded, "%s", p ? (const char *)p : "");
        found = true;
        rc = PSTORE_DONE;
    }
    pstore_done(q);
    if (rc != PSTORE_DONE) return pstore_sqlfail(s, rc, "looking up a user");
    const char *against = found ? encoded : dummy_hash();
    bool match = against && argon2id_verify(against, password, len) == ARGON2_OK;
    *ok = found && match;
    if (!*ok) memset(out, 0, sizeof *out);
    return PERK_STORE_OK;
}

typedef struct session_create_ctx {
    const char *hash, *csrf;
    int64_t user_id, now, ttl;
} session_create_ctx;

/* perk_store_session_create's write transaction (may run again: it only writes in it). */
static perk_store_status session_create_body(perk_store *s, void *arg)
{
    const session_create_ctx *c = arg;
    const char *hash = c->hash, *csrf = c->csrf;
    int64_t user_id = c->user_id, now = c->now, ttl = c->ttl;
    perk_store_status st;
    pstore_st *q = pstore_stmt(s, "DELETE FROM console_sessions WHERE expires_at <= ?1");
    if (!q) {
        st = pstore_stmt_status(s);
        return st;
    }
    pstore_bind_int64(q, 1, now);
    if ((st = pstore_step_done(s, q, "deleting expired sessions")) != PERK_STORE_OK) return st;
    q = pstore_stmt(s, "INSERT INTO console_sessions (token_hash, user_id, csrf, created_at, expires_at) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!q) {
        st = pstore_stmt_status(s);
        return st;
    }
    pstore_bind_text(q, 1, hash);
    pstore_bind_int64(q, 2, user_id);
    pstore_bind_text(q, 3, csrf);
    pstore_bind_int64(q, 4, now);
    pstore_bind_int64(q, 5, now + ttl);
    if ((st = pstore_step_done(s, q, "creating a session")) != PERK_STORE_OK) return st;
    return PERK_STORE_OK;
}

perk_store_status perk_store_session_create(perk_store *s, int64_t user_id, int64_t now, int64_t ttl,
                                            char token[PERK_STORE_TOKEN_LEN + 1],
                                            char csrf[PERK_STORE_TOKEN_LEN + 1])
{
    if (!s || ttl <= 0) return PERK_STORE_INVALID;
    if (!random_hex(token) || !random_hex(csrf))
        return pstore_fail(s, PERK_STORE_IO, "no random bytes for a session (getrandom failed)");
    char hash[65];
    perk_store_sha256_hex(token, strlen(token), hash);
    perk_store_status st;
    session_create_ctx c = { .hash = hash, .csrf = csrf, .user_id = user_id, .now = now, .ttl = ttl };
    st = pstore_write_txn(s, "creating a session", "creating a session", session_create_body, &c);
    if (st != PERK_STORE_OK) memset(token, 0, PERK_STORE_TOKEN_LEN + 1);
    return st;
}

perk_store_status perk_store_session_lookup(perk_store *s, const char *token, int64_t now,
                                            perk_store_user *user, char csrf[PERK_STORE_TOKEN_LEN + 1],
                                            bool *found)
{
    *found = false;
    memset(user, 0, sizeof *user);
    csrf[0] = '\0';
    if (!s) return PERK_STORE_INVALID;
    if (!token || strlen(token) != PERK_STORE_TOKEN_LEN) return PERK_STORE_OK;
    char hash[65];
    perk_store_sha256_hex(token, strlen(token), hash);
    pstore_st *q =
        pstore_stmt(s, "SELECT u.id, u.name, u.role, u.created_at, s.csrf FROM console_sessions s "
                       "JOIN console_users u ON u.id = s.user_id "
                       "WHERE s.token_hash = ?1 AND s.expires_at > ?2");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_text(q, 1, hash);
    pstore_bind_int64(q, 2, now);
    int rc = pstore_step(q);
    if (rc == PSTORE_ROW) {
        user_from_row(q, 0, user);
        const char *c = pstore_col_text(q, 4);
        snprintf(csrf, PERK_STORE_TOKEN_LEN + 1, "%s", c ? (const char *)c : "");
        *found = true;
        rc = PSTORE_DONE;
    }
    perk_store_status st = rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(s, rc, "looking up a session");
    pstore_done(q);
    return st;
}

perk_store_status perk_store_session_delete(perk_store *s, const char *token)
{
    if (!s) return PERK_STORE_INVALID;
    if (!token) return PERK_STORE_OK;
    char hash[65];
    perk_store_sha256_hex(token, strlen(token), hash);
    pstore_st *q = pstore_stmt(s, "DELETE FROM console_sessions WHERE token_hash = ?1");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_text(q, 1, hash);
    return pstore_step_done(s, q, "ending a session");
}

perk_store_status perk_store_audit_list(perk_store *s, int64_t before, int64_t limit, perk_store_audit_cb cb,
                                        void *ctx)
{
    if (!s || !cb || limit <= 0) return PERK_STORE_INVALID;
    pstore_st *q = pstore_stmt(s, "SELECT id, at, actor, action, detail FROM audit_log "
                                     "WHERE ?1 = 0 OR id < ?1 ORDER BY id DESC LIMIT ?2");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_int64(q, 1, before);
    pstore_bind_int64(q, 2, limit);
    int rc;
    while ((rc = pstore_step(q)) == PSTORE_ROW) {
        perk_store_audit_entry e;
        e.id = pstore_col_int64(q, 0);
        e.at = pstore_col_int64(q, 1);
        const char *a = pstore_col_text(q, 2), *c = pstore_col_text(q, 3),
                            *d = pstore_col_text(q, 4);
        e.actor = a ? (const char *)a : "";
        e.action = c ? (const char *)c : "";
        e.detail = d ? (const char *)d : "";
        if (cb(ctx, &e)) {
            rc = PSTORE_DONE;
            break;
        }
    }
    perk_store_status st = rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(s, rc, "reading the audit log");
    pstore_done(q);
    return st;
}
