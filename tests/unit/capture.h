/* capture.h - runs a CLI command function with its stdout and stderr captured, for the tests of
 * the commands (test_fmt, test_store_cli). */
#ifndef CAPTURE_H
#define CAPTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct captured {
    int rc;          /* what the command returned */
    char out[65536]; /* stdout, NUL-terminated (cut at the buffer's size) */
    char err[65536]; /* stderr */
} captured;

static inline void capture_read(FILE *f, char *buf, size_t size)
{
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
}

/* Runs cmd(argc, argv) on the arguments given, argv[0] first (the command's name), ended by
 * NULL. The result is static: the next call overwrites it. */
static inline captured *capture_run(int (*cmd)(int, char **), ...)
{
    static captured c;
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, cmd);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 31) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    /* flush first so that nothing printed before lands in the capture */
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fileno(out), 1);
    dup2(fileno(err), 2);
    c.rc = cmd(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    capture_read(out, c.out, sizeof c.out);
    capture_read(err, c.err, sizeof c.err);
    fclose(out);
    fclose(err);
    return &c;
}

#endif
