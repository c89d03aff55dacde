/* backup.c - `perk db backup`: an online copy of the store through SQLite's backup API, written
 * atomically (temporary file, quick_check, fsync, rename) so a crash or a full disk never
 * leaves a half backup under the target name. SQLite-only: it works on the SQLite driver's
 * connection (s->db) directly, the one store feature besides db_sqlite.c that does. */
#include "store_internal.h"

#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fsync of a file or folder by name; false with errno set. */
static bool sync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = fsync(fd) == 0;
    int e = errno;
    close(fd);
    errno = e;
    return ok;
}

static void remove_temp(const char *tmp)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    char name[4096];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(name, sizeof name, "%s%s", tmp, suffixes[i]);
        unlink(name);
    }
}

/* Copies the whole store into dst in one step: one read transaction, one snapshot. */
static perk_store_status copy_into(perk_store *s, sqlite3 *dst, int64_t *pages)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", s->db, "main");
    if (!b) return pstore_fail(s, PERK_STORE_IO, "cannot start the backup: %s", sqlite3_errmsg(dst));
    int rc;
    /* BUSY/LOCKED: another connection holds a lock the first read needs; retry briefly */
    for (int tries = 0; (rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED; tries++) {
        if (tries == 500) break;
        sqlite3_sleep(10);
    }
    if (pages) *pages = sqlite3_backup_pagecount(b);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        return pstore_fail(s, rc == SQLITE_FULL ? PERK_STORE_FULL : PERK_STORE_IO, "backup failed: %s",
                           sqlite3_errmsg(dst));
    sqlite3_stmt *st = NULL;
    const char *verdict = NULL;
    if (sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        verdict = (const char *)sqlite3_column_text(st, 0);
    bool ok = verdict && strcmp(verdict, "ok") == 0;
    perk_store_status status = ok ? PERK_STORE_OK
                                  : pstore_fail(s, PERK_STORE_CORRUPT, "the copy fails its check: %s",
                                                verdict ? verdict : sqlite3_errmsg(dst));
    sqlite3_finalize(st);
    return status;
}

perk_store_status perk_store_backup(perk_store *s, const char *path, int64_t *pages)
{
    if (!s) return PERK_STORE_INVALID;
    if (pages) *pages = 0;
    if (s->backend != PSTORE_BACKEND_SQLITE)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "backup: perk db backup copies SQLite stores only; back up a PostgreSQL store "
                           "with pg_dump (or the server's base backups and WAL archiving)");
    if (!path || !*path) return pstore_fail(s, PERK_STORE_INVALID, "backup: no destination file given");
    if (strlen(path) > 4000)
        return pstore_fail(s, PERK_STORE_INVALID, "backup: the destination path is too long");
    struct stat target;
    if (lstat(path, &target) == 0) {
        if (!S_ISREG(target.st_mode))
            return pstore_fail(s, PERK_STORE_INVALID, "backup: %s is not a regular file; it is left as it is",
                               path);
        const char *own = sqlite3_db_filename(s->db, "main");
        struct stat store_file;
        if (own && stat(own, &store_file) == 0 && store_file.st_dev == target.st_dev &&
            store_file.st_ino == target.st_ino)
            return pstore_fail(s, PERK_STORE_INVALID, "backup: %s is the store itself; name another file",
                               path);
    } else if (errno != ENOENT) {
        return pstore_fail(s, PERK_STORE_IO, "backup: %s: %s", path, strerror(errno));
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    remove_temp(tmp);
    sqlite3 *dst = NULL;
    int rc =
        sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL);
    perk_store_status status;
    if (rc != SQLITE_OK) {
        status = pstore_fail(s, PERK_STORE_IO, "backup: cannot create %s: %s", tmp,
                             dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
    } else {
        status = copy_into(s, dst, pages);
    }
    /* closing checkpoints the copy's WAL into its file and removes the WAL */
    if (dst && sqlite3_close(dst) != SQLITE_OK && status == PERK_STORE_OK)
        status = pstore_fail(s, PERK_STORE_IO, "backup: cannot close %s", tmp);
    if (status == PERK_STORE_OK && !sync_path(tmp, O_RDONLY))
        status = pstore_fail(s, PERK_STORE_IO, "backup: cannot sync %s: %s", tmp, strerror(errno));
    if (status == PERK_STORE_OK && rename(tmp, path) != 0)
        status =
            pstore_fail(s, PERK_STORE_IO, "backup: cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (status != PERK_STORE_OK) {
        remove_temp(tmp);
        return status;
    }
    /* the rename itself is durable once the folder is synced */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    sync_path(dir, O_RDONLY | O_DIRECTORY);
    return PERK_STORE_OK;
}
