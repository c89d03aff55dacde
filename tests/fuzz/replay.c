/* replay.c - a main() for the fuzz targets in a normal (non-libFuzzer) build.
 *
 *   fuzz-replay/<target> PATH...
 *
 * Feeds every file named, and every regular file directly inside every directory named (in name
 * order, skipping names that start with '.'), to the target's LLVMFuzzerTestOneInput, as libFuzzer
 * would. A broken invariant or a sanitizer report aborts the program; the name of each input is
 * printed to stderr before it runs, so the last name printed is the culprit. tests/run.sh runs it
 * over tests/fuzz/corpus/<target> and tests/fuzz/regressions/<target> on every `make test`.
 * Ends with "replayed N inputs" and exit status 0, or 2 when an input cannot be read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

/* Reads a whole file; returns NULL (with a message) when it cannot. */
static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    bool bad = buf == NULL || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: %s: cannot read\n", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static bool replay_file(const char *path)
{
    size_t len = 0;
    uint8_t *data = read_all(path, &len);
    if (data == NULL) return false;
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    /* libFuzzer hands over a buffer of exactly the input's size: keep overreads detectable */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL) {
        free(data);
        return false;
    }
    memcpy(exact, data, len);
    free(data);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return true;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Replays the regular files of a directory in name order; returns false if one could not be read. */
static bool replay_dir(const char *dir, unsigned long *count)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return false;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **bigger = realloc(names, cap * sizeof *names);
            if (bigger == NULL) {
                ok = false;
                break;
            }
            names = bigger;
        }
        names[n] = strdup(e->d_name);
        if (names[n] == NULL) {
            ok = false;
            break;
        }
        n++;
    }
    closedir(d);
    if (n > 0) qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        size_t size = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(size);
        struct stat st;
        if (path == NULL) {
            ok = false;
        } else {
            snprintf(path, size, "%s/%s", dir, names[i]);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                if (replay_file(path))
                    (*count)++;
                else
                    ok = false;
            }
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return ok;
}

int main(int argc, char **argv)
{
    unsigned long count = 0;
    bool ok = true;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            ok = false;
        } else if (S_ISDIR(st.st_mode)) {
            ok = replay_dir(argv[i], &count) && ok;
        } else if (replay_file(argv[i])) {
            count++;
        } else {
            ok = false;
        }
    }
    printf("replayed %lu inputs\n", count);
    return ok ? 0 : 2;
}
