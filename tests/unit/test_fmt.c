/* test_fmt.c - `perk fmt` (src/compiler/fmt.c, src/cli/cmd_fmt.c).
 *
 *  - golden pairs: tests/fmt/NAME.in.perk formats to NAME.out.perk byte for byte (one cmocka test
 *    each; PERK_FMT_UPDATE=1 rewrites the .out files: review the diff before committing);
 *  - idempotence: formatting a golden output, every rules/ file and every ```perk block of
 *    docs/ again changes nothing;
 *  - meaning: the original and the formatted text give the same AST (ast_dump, which prints no
 *    positions) and, when the original compiles, the same program. The programs are compared as
 *    bytecode after a normalisation that removes exactly what layout may change: every source
 *    location (prog_loc: line and column) is zeroed, and whitespace is removed from the strings
 *    the code generator copies from the source text (condition texts and threshold set texts,
 *    src/compiler/codegen.c text_of, which squeezes whitespace and leaves comments out). Everything else
 *    (code, constants, every other string, tables, settings) must be equal byte for byte. This
 *    is sound: locations and condition texts only serve diagnostics and explanations, and they
 *    depend on the layout exactly through what is removed, so a difference that survives the
 *    normalisation is a difference in the rules. A test below shows that the comparison does see
 *    a changed amount, label, clause or operand order;
 *  - canonical form: re-spacing a file (other blanks, tabs, spaces inserted between tokens) does
 *    not change its formatted text; re-breaking it and adding comments anywhere keeps its meaning
 *    and an idempotent result;
 *  - details: the FMT_WIDTH boundary (display columns, so Chinese counts two), errors refused,
 *    empty and comment-only files, dropped trailing commas;
 *  - the command: stdout, --check, --write (atomic, keeps the file mode, lists what changed),
 *    directories, syntax errors, usage.
 * Run from the repository root, or set PERK_SRCDIR (the binary also finds the root from its path).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "capture.h"
#include "test_root.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "bytecode.h"
#include "cli/cli.h"
#include "compiler/compiler.h"
#include "compiler/fmt.h"
#include "compiler/parse.h"
#include "program.h"

#define FMT_DIR "tests/fmt"

/* --- helpers ------------------------------------------------------------------------------------ */

static void write_all(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Formats text; returns the status and (on FMT_OK) the result in *out. */
static fmt_status try_format(const char *name, const char *text, size_t len, char **out, size_t *out_len,
                             int *errors)
{
    source_set src;
    diag_engine diags;
    source_init(&src);
    diag_init(&diags, &src);
    char err[256];
    fmt_status st = fmt_text(&src, &diags, name, text, len, out, out_len, err, sizeof err);
    if (st == FMT_INTERNAL_ERROR) print_error("%s: internal error: %s\n", name, err);
    if (errors) *errors = diags.errors;
    diag_free(&diags);
    source_free(&src);
    return st;
}

static char *format_ok(const char *name, const char *text, size_t len, size_t *out_len)
{
    char *out = NULL;
    fmt_status st = try_format(name, text, len, &out, out_len, NULL);
    if (st != FMT_OK) print_error("%s does not format (status %d)\n", name, (int)st);
    assert_int_equal(st, FMT_OK);
    assert_non_null(out);
    assert_int_equal(strlen(out), *out_len);
    return out;
}

static char *format_str(const char *text)
{
    size_t n;
    return format_ok("t.perk", text, strlen(text), &n);
}

/* The AST of one file (includes not read) as an S-expression; NULL when it has errors. */
static char *ast_of(const char *text, size_t len)
{
    source_set src;
    diag_engine diags;
    source_init(&src);
    diag_init(&diags, &src);
    ast_arena *arena = ast_arena_new();
    parse_layout lay;
    memset(&lay, 0, sizeof lay);
    ast_node *root = parse_text_layout(&src, &diags, arena, "t.perk", text, len, &lay);
    char *dump = NULL;
    if (diags.errors == 0) {
        size_t n = 0;
        FILE *mem = open_memstream(&dump, &n);
        assert_non_null(mem);
        ast_dump(root, mem);
        fclose(mem);
    }
    parse_layout_free(&lay);
    ast_arena_free(arena);
    diag_free(&diags);
    source_free(&src);
    return dump;
}

/* Removes the ASCII whitespace of string `id`, in place. */
static void strip_string(prog_data *p, uint32_t id)
{
    if (id == PROG_NONE || id >= p->n_strings) return;
    char *s = p->str_bytes + p->str_off[id];
    uint32_t k = 0;
    for (uint32_t i = 0; i < p->str_len[id]; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') s[k++] = s[i];
    s[k] = '\0';
    p->str_len[id] = k;
}

/* The program with its layout-dependent parts normalised (see the top of the file), serialised
 * again; malloc'ed. */
static uint8_t *normalised(const uint8_t *bytes, size_t len, size_t *out_len)
{
    prog_data p;
    perk_error err;
    assert_int_equal(bytecode_read(bytes, len, &p, &err), PERK_OK);
    static const prog_loc none = { 0, 0, 0 };
    for (uint32_t i = 0; i < p.n_conds; i++) {
        strip_string(&p, p.conds[i].text);
        strip_string(&p, p.conds[i].hint_set);
        p.conds[i].loc = none;
    }
    for (uint32_t i = 0; i < p.n_actions; i++) p.actions[i].loc = none;
    for (uint32_t i = 0; i < p.n_rules; i++) p.rules[i].loc = none;
    for (uint32_t i = 0; i < p.n_earns; i++) p.earns[i].loc = none;
    for (uint32_t i = 0; i < p.n_mults; i++) p.mults[i].loc = none;
    uint8_t *out = NULL;
    char msg[256];
    assert_true(bytecode_write(&p, &out, out_len, msg, sizeof msg));
    uint8_t *copy = malloc(*out_len);
    assert_non_null(copy);
    memcpy(copy, out, *out_len);
    perk_mem_free(out);
    prog_data_free(&p);
    return copy;
}

/* Compiles text as `name` with the working directory at `dir` (includes are read from there). */
static bool compile_in(const char *dir, const char *name, const char *text, size_t len, uint8_t **bytes,
                       size_t *blen)
{
    char here[PATH_MAX];
    assert_non_null(getcwd(here, sizeof here));
    if (dir) assert_int_equal(chdir(dir), 0);
    compiler c;
    compiler_init(&c);
    *bytes = NULL;
    bool ok = compiler_compile_text(&c, name, text, len, bytes, blen);
    compiler_free(&c);
    assert_int_equal(chdir(here), 0);
    if (!ok) {
        free(*bytes);
        *bytes = NULL;
    }
    return ok;
}

/* Whether two compilable texts give the same program once normalised. */
static bool same_program(const char *dir, const char *a, size_t an, const char *b, size_t bn)
{
    uint8_t *ba, *bb;
    size_t la, lb;
    assert_true(compile_in(dir, "same.perk", a, an, &ba, &la));
    assert_true(compile_in(dir, "same.perk", b, bn, &bb, &lb));
    size_t na, nb;
    uint8_t *xa = normalised(ba, la, &na), *xb = normalised(bb, lb, &nb);
    bool same = na == nb && memcmp(xa, xb, na) == 0;
    free(ba);
    free(bb);
    free(xa);
    free(xb);
    return same;
}

/* The formatted text means what the original does: same AST and, when the original compiles,
 * the same program. Returns whether the program comparison ran. */
static bool assert_same_meaning(const char *what, const char *dir, const char *orig, size_t olen,
                                const char *formatted, size_t flen)
{
    char *a = ast_of(orig, olen), *b = ast_of(formatted, flen);
    assert_non_null(a);
    if (b == NULL || strcmp(a, b) != 0) print_error("%s: the formatted text parses differently\n", what);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
    uint8_t *bytes;
    size_t blen;
    if (!compile_in(dir, "same.perk", orig, olen, &bytes, &blen)) return false;
    free(bytes);
    bool same = same_program(dir, orig, olen, formatted, flen);
    if (!same)
        print_error("%s: the formatted text compiles to another program\n--- the original:\n%s\n", what,
                    orig);
    assert_true(same);
    return true;
}

/* fmt(x) is accepted, keeps the meaning, and fmt(fmt(x)) == fmt(x). Returns fmt(x). */
static char *check_file_text(const char *what, const char *dir, const char *text, size_t len,
                             bool must_compile, size_t *out_len)
{
    char *once = format_ok(what, text, len, out_len);
    size_t n2;
    char *twice = format_ok(what, once, *out_len, &n2);
    if (n2 != *out_len || memcmp(once, twice, n2) != 0)
        print_error("%s: formatting is not idempotent:\n--- once\n%s--- twice\n%s", what, once, twice);
    assert_int_equal(n2, *out_len);
    assert_memory_equal(once, twice, n2);
    free(twice);
    bool compiled = assert_same_meaning(what, dir, text, len, once, *out_len);
    if (must_compile && !compiled) print_error("%s does not compile\n", what);
    assert_true(compiled || !must_compile);
    return once;
}

/* --- golden pairs ----------------------------------------------------------------------------- */

static void run_golden(void **state)
{
    const char *in_path = *state;
    char out_path[1024];
    size_t plen = strlen(in_path);
    snprintf(out_path, sizeof out_path, "%.*s.out.perk", (int)(plen - strlen(".in.perk")), in_path);
    size_t in_len, got_len;
    char *in = test_read_all(in_path, &in_len);
    assert_non_null(in);
    char *got = check_file_text(in_path, FMT_DIR, in, in_len, true, &got_len);
    const char *update = getenv("PERK_FMT_UPDATE");
    if (update && strcmp(update, "1") == 0) write_all(out_path, got, got_len);
    size_t want_len;
    char *want = test_read_all(out_path, &want_len);
    if (want == NULL) print_error("%s is missing; the output was:\n%s", out_path, got);
    assert_non_null(want);
    if (want_len != got_len || memcmp(want, got, got_len) != 0)
        print_error("%s: got\n%s\n(rerun with PERK_FMT_UPDATE=1 to accept it)\n", out_path, got);
    assert_int_equal(want_len, got_len);
    assert_memory_equal(want, got, got_len);
    /* the expected output is itself formatted */
    size_t again_len;
    char *again = format_ok(out_path, want, want_len, &again_len);
    assert_int_equal(again_len, want_len);
    assert_memory_equal(again, want, want_len);
    free(again);
    free(want);
    free(got);
    free(in);
}

/* --- the repository's rules and the docs ----------------------------------------------------------- */

static void test_rules_files(void **state)
{
    (void)state;
    static const char *const dirs[] = { "rules", "rules/lib" };
    int files = 0, compiled = 0;
    for (size_t d = 0; d < 2; d++) {
        DIR *dir = opendir(dirs[d]);
        assert_non_null(dir);
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n <= 5 || strcmp(e->d_name + n - 5, ".perk") != 0) continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dirs[d], e->d_name);
            size_t len, out_len;
            char *text = test_read_all(path, &len);
            assert_non_null(text);
            /* the .perk files of rules/ are complete rulesets; rules/lib/ holds included catalogues */
            char *out = check_file_text(path, "rules", text, len, d == 0, &out_len);
            compiled += d == 0;
            files++;
            free(out);
            free(text);
        }
        closedir(dir);
    }
    assert_true(files >= 6);
    assert_true(compiled >= 5);
}

typedef struct doc_block {
    char *text;
    size_t len;
    char where[600];
} doc_block;

/* Every ```perk block of the docs (docs/NAME.md). */
static doc_block *doc_blocks(int *count)
{
    doc_block *blocks = NULL;
    int n = 0, cap = 0;
    DIR *dir = opendir("docs");
    assert_non_null(dir);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (nl <= 3 || strcmp(e->d_name + nl - 3, ".md") != 0) continue;
        char path[512];
        snprintf(path, sizeof path, "docs/%s", e->d_name);
        size_t len;
        char *md = test_read_all(path, &len);
        assert_non_null(md);
        int line = 0;
        doc_block *cur = NULL;
        for (char *p = md; *p;) {
            char *eol = strchr(p, '\n');
            size_t ll = eol ? (size_t)(eol - p) : strlen(p);
            line++;
            if (cur == NULL && ll >= 7 && strncmp(p, "```perk", 7) == 0 && strspn(p + 7, " \t") == ll - 7) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 32;
                    blocks = realloc(blocks, sizeof *blocks * (size_t)cap);
                    assert_non_null(blocks);
                }
                cur = &blocks[n++];
                cur->text = calloc(1, len + 1);
                assert_non_null(cur->text);
                cur->len = 0;
                snprintf(cur->where, sizeof cur->where, "%s:%d", path, line + 1);
            } else if (cur && ll >= 3 && strncmp(p, "```", 3) == 0) {
                cur = NULL;
            } else if (cur) {
                memcpy(cur->text + cur->len, p, ll);
                cur->len += ll;
                cur->text[cur->len++] = '\n';
            }
            p = eol ? eol + 1 : p + ll;
        }
        free(md);
    }
    closedir(dir);
    *count = n;
    return blocks;
}

static void test_docs_examples(void **state)
{
    (void)state;
    int n;
    doc_block *blocks = doc_blocks(&n);
    assert_true(n >= 20); /* docs/language.md alone has 22 */
    for (int i = 0; i < n; i++) {
        size_t out_len;
        char *out = check_file_text(blocks[i].where, NULL, blocks[i].text, blocks[i].len, true, &out_len);
        free(out);
        free(blocks[i].text);
    }
    free(blocks);
}

/* --- the program comparison sees real differences ------------------------------------------------ */

static void test_program_comparison(void **state)
{
    (void)state;
    const char *base =
        "ruleset \"t\" { currency CNY }\n"
        "promotion p \"a b\" { when order.subtotal >= ¥100 and customer.orders > 1 then ¥10 off order }\n";
    /* layout only: raw bytes differ (locations, condition text), normalised ones do not */
    const char *spaced = "ruleset \"t\" {\n  currency CNY\n}\n\n\n"
                         "promotion p \"a b\" {\n  when order.subtotal>=¥100\n    and customer.orders>1\n  "
                         "then ¥10 off order\n}\n";
    uint8_t *b1, *b2;
    size_t l1, l2;
    assert_true(compile_in(NULL, "same.perk", base, strlen(base), &b1, &l1));
    assert_true(compile_in(NULL, "same.perk", spaced, strlen(spaced), &b2, &l2));
    assert_false(l1 == l2 && memcmp(b1, b2, l1) == 0);
    free(b1);
    free(b2);
    assert_true(same_program(NULL, base, strlen(base), spaced, strlen(spaced)));
    /* a changed amount, label, operand order or string is seen */
    static const char *const changed[] = {
        "ruleset \"t\" { currency CNY }\n"
        "promotion p \"a b\" { when order.subtotal >= ¥101 and customer.orders > 1 then ¥10 off order }\n",
        "ruleset \"t\" { currency CNY }\n"
        "promotion p \"ab\" { when order.subtotal >= ¥100 and customer.orders > 1 then ¥10 off order }\n",
        "ruleset \"t\" { currency CNY }\n"
        "promotion p \"a b\" { when customer.orders > 1 and order.subtotal >= ¥100 then ¥10 off order }\n",
        "ruleset \"t\" { currency CNY }\n"
        "promotion p \"a b\" { when order.subtotal >= ¥100 and customer.orders > 1 then ¥10 off order "
        "priority 1 }\n",
    };
    for (size_t i = 0; i < sizeof changed / sizeof changed[0]; i++)
        assert_false(same_program(NULL, base, strlen(base), changed[i], strlen(changed[i])));
}

/* Condition texts (shown by explanations) leave out comments, so that moving a comment does not
 * change the program; a '#' inside a string stays. */
static void test_condition_text_skips_comments(void **state)
{
    (void)state;
    const char *text = "ruleset \"t\" { currency CNY }\n"
                       "promotion p {\n"
                       "  when order.subtotal >= ¥100  # a note \"quoted\"\n"
                       "    and \"#tag \\\" x\" in customer.tags  # another\n"
                       "  then ¥1 off order\n"
                       "}\n";
    uint8_t *bytes;
    size_t len;
    assert_true(compile_in(NULL, "c.perk", text, strlen(text), &bytes, &len));
    prog_data p;
    perk_error err;
    assert_int_equal(bytecode_read(bytes, len, &p, &err), PERK_OK);
    bool found = false;
    for (uint32_t i = 0; i < p.n_conds; i++) {
        const char *s = p.str_bytes + p.str_off[p.conds[i].text];
        if (strcmp(s, "order.subtotal >= ¥100 and \"#tag \\\" x\" in customer.tags") == 0)
            found = true;
        else
            print_message("condition text: %s\n", s);
    }
    assert_true(found);
    prog_data_free(&p);
    free(bytes);
}

/* --- canonical form under re-spacing ------------------------------------------------------------ */

static uint32_t rng_state;

static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 16) & 0x7fff;
}

typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* Rewrites the whitespace between the tokens of text. Tame: other spaces and tabs, a space where
 * there was none, blank lines of other heights, but every line break kept. Wild: also line breaks
 * and comments anywhere between tokens. */
static char *respace(const char *text, size_t len, bool wild, size_t *out_len)
{
    source_set src;
    diag_engine diags;
    source_init(&src);
    diag_init(&diags, &src);
    ast_arena *arena = ast_arena_new();
    parse_layout lay;
    memset(&lay, 0, sizeof lay);
    parse_text_layout(&src, &diags, arena, "t.perk", text, len, &lay);
    assert_int_equal(diags.errors, 0);
    sbuf b = { 0 };
    sb_put(&b, "", 0);
    size_t pos = 0;
    for (int i = 0; i <= lay.n_tokens; i++) {
        size_t next = i < lay.n_tokens ? (size_t)lay.tokens[i].span.first_offset : len;
        /* the separator text[pos, next): whitespace and comments */
        if (pos == next && i > 0 && i < lay.n_tokens) {
            uint32_t r = rng() % 12;
            if (r < 4)
                sb_str(&b, " ");
            else if (wild && r == 4)
                sb_str(&b, "\n");
            else if (wild && r == 5)
                sb_str(&b, " # glued\n");
        }
        size_t k = pos;
        while (k < next) {
            char ch = text[k];
            if (ch == '#') { /* a comment: kept as written, to the end of its line */
                size_t e = k;
                while (e < next && text[e] != '\n') e++;
                sb_put(&b, text + k, e - k);
                k = e;
            } else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
                size_t e = k;
                int newlines = 0;
                while (e < next && (text[e] == ' ' || text[e] == '\t' || text[e] == '\r' || text[e] == '\n'))
                    newlines += text[e++] == '\n';
                if (newlines == 0 && wild && i > 0 && i < lay.n_tokens && rng() % 4 == 0) {
                    sb_str(&b, rng() % 2 ? " # inserted\n" : "\n");
                } else if (newlines == 0) {
                    static const char *const runs[] = { " ", "  ", "\t", " \t " };
                    sb_str(&b, runs[rng() % 4]);
                } else {
                    if (rng() % 2) sb_str(&b, rng() % 2 ? "  " : "\t");
                    int want = newlines == 1 ? 1 : 2 + (int)(rng() % 3);
                    for (int j = 0; j < want; j++) sb_str(&b, rng() % 3 == 0 ? "\t\n" : "\n");
                    if (rng() % 2) sb_str(&b, "    ");
                }
                k = e;
            } else { /* a byte order mark */
                sb_put(&b, text + k, 1);
                k++;
            }
        }
        if (i < lay.n_tokens) {
            const ast_span *sp = &lay.tokens[i].span;
            sb_put(&b, text + sp->first_offset, (size_t)(sp->last_offset - sp->first_offset));
            pos = (size_t)sp->last_offset;
        }
    }
    parse_layout_free(&lay);
    ast_arena_free(arena);
    diag_free(&diags);
    source_free(&src);
    *out_len = b.n;
    return b.s;
}

typedef struct respace_count {
    int tame, wild, wild_parsed;
} respace_count;

/* Twelve tame and twelve wild variants of one file. */
static void respace_file(const char *path, const char *dir, respace_count *count)
{
    size_t len, want_len;
    char *text = test_read_all(path, &len);
    assert_non_null(text);
    char *want = format_ok(path, text, len, &want_len);
    for (int v = 0; v < 12; v++) {
        size_t vlen, got_len;
        char *variant = respace(text, len, false, &vlen);
        char *got = format_ok(path, variant, vlen, &got_len);
        if (got_len != want_len || memcmp(got, want, got_len) != 0)
            print_error("%s re-spaced formats differently; the variant:\n%s\n--- gives\n%s", path, variant,
                        got);
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, got_len);
        count->tame++;
        free(got);
        free(variant);

        variant = respace(text, len, true, &vlen);
        count->wild++;
        char *ast = ast_of(variant, vlen);
        if (ast) { /* `max # c\n(` is no longer a call: such variants do not parse, skip them */
            count->wild_parsed++;
            got = check_file_text(path, dir, variant, vlen, false, &got_len);
            free(got);
            free(ast);
        }
        free(variant);
    }
    free(want);
    free(text);
}

/* Each golden input and each rules/ file, re-spaced: the tame variants format to the very same
 * text; the wild ones (line breaks and comments anywhere) keep their meaning and format
 * idempotently. */
static void test_respacing(void **state)
{
    (void)state;
    respace_count count = { 0, 0, 0 };
    rng_state = 20300301u;
    static const char *const dirs[] = { FMT_DIR, "rules" };
    for (int d = 0; d < 2; d++) {
        DIR *dir = opendir(dirs[d]);
        assert_non_null(dir);
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            size_t nl = strlen(e->d_name);
            if (nl <= 5 || strcmp(e->d_name + nl - 5, ".perk") != 0) continue;
            if (d == 0 && strstr(e->d_name, ".in.perk") == NULL) continue;
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dirs[d], e->d_name);
            respace_file(path, dirs[d], &count);
        }
        closedir(dir);
    }
    assert_true(count.tame >= 12 * 16);
    assert_true(count.wild_parsed * 10 >= count.wild * 9);
}

/* --- details ------------------------------------------------------------------------------------- */

static void test_errors_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "ruleset \"t\" { currency CNY }\npromotion p { when order.subtotal >= then ¥1 off order }\n",
        "ruleset \"t\" { currency CNY }\nlet a = [1， 2]\n", /* full-width comma */
        "ruleset \"t\" { currency CNY }\nlet a = \"unterminated\n",
        "ruleset \"t\" { currency CNY\n",
        "let a = 1 == 2\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = (char *)"untouched";
        size_t n = 7;
        int errors = 0;
        assert_int_equal(try_format("bad.perk", bad[i], strlen(bad[i]), &out, &n, &errors), FMT_SYNTAX_ERROR);
        assert_null(out);
        assert_int_equal(n, 0);
        assert_true(errors >= 1);
    }
    /* a binary file */
    char *out;
    size_t n;
    int errors = 0;
    assert_int_equal(try_format("bin.perk", "let a\0 = 1\n", 11, &out, &n, &errors), FMT_SYNTAX_ERROR);
    assert_true(errors >= 1);
    /* problems of meaning are not the formatter's business */
    char *ok = format_str("promotion p { then ¥1 off unknown_set }\n");
    assert_string_equal(ok, "promotion p {\n  then ¥1 off unknown_set\n}\n");
    free(ok);
}

static void test_empty_and_comments_only(void **state)
{
    (void)state;
    char *out = format_str("");
    assert_string_equal(out, "");
    free(out);
    out = format_str(" \n\t\n\n");
    assert_string_equal(out, "");
    free(out);
    out = format_str("\n\n#   one  \r\n\n\n\n#two\n# 三\n\n");
    assert_string_equal(out, "#   one\n\n#two\n# 三\n");
    free(out);
}

/* A list is one line up to FMT_WIDTH display columns, one entry per line beyond. */
static void test_width_boundary(void **state)
{
    (void)state;
    char text[512], want[512];
    /* `let n = ["` + k letters + `"]` is k + 12 columns */
    for (int k = FMT_WIDTH - 13; k <= FMT_WIDTH - 11; k++) {
        snprintf(text, sizeof text, "let n = [ \"%.*s\" ]\n", k,
                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                 "AAAAAAAA");
        if (k + 12 <= FMT_WIDTH)
            snprintf(want, sizeof want, "let n = [\"%.*s\"]\n", k, text + 11);
        else
            snprintf(want, sizeof want, "let n = [\n  \"%.*s\"\n]\n", k, text + 11);
        char *out = format_str(text);
        assert_string_equal(out, want);
        free(out);
    }
    /* the same with Chinese text, two columns a character: 44 characters fit, 45 do not */
    const char *han = "茶";
    for (int k = 44; k <= 45; k++) {
        size_t p = 0;
        p += (size_t)snprintf(text + p, sizeof text - p, "let n = [\"");
        for (int j = 0; j < k; j++) p += (size_t)snprintf(text + p, sizeof text - p, "%s", han);
        snprintf(text + p, sizeof text - p, "\"]\n");
        char *out = format_str(text);
        if (k == 44)
            assert_string_equal(out, text);
        else
            assert_non_null(strstr(out, "[\n  \""));
        free(out);
    }
}

static void test_literals_and_commas(void **state)
{
    (void)state;
    char *out = format_str("let a=[¥12.50,300.00 CNY,￥5,1_000,12.5%,×2,\"\\u{4F1A}\\\"\",2030-03-01,]\n"
                           "let t = [\"x\", # the x\n]\n");
    assert_string_equal(out,
                        "let a = [¥12.50, 300.00 CNY, ￥5, 1_000, 12.5%, ×2, \"\\u{4F1A}\\\"\", 2030-03-01]\n"
                        "let t = [\n  \"x\"  # the x\n]\n");
    free(out);
    /* a negation keeps its operand close; a subtraction does not */
    out = format_str("let a = ¥5 - - ¥3 - (-¥1)\n");
    assert_string_equal(out, "let a = ¥5 - -¥3 - (-¥1)\n");
    free(out);
}

/* --- the command ---------------------------------------------------------------------------------- */

/* cmd_fmt with stdout and stderr captured (capture.h). Arguments end with NULL. */
#define run_fmt(...) capture_run(cmd_fmt, "fmt", __VA_ARGS__)

static void test_command(void **state)
{
    (void)state;
    char dir[] = "/tmp/perk-fmt-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char messy[600], tidy[600], broken[600], sub[600], deep[600], other[600], hidden[600];
    snprintf(messy, sizeof messy, "%s/messy.perk", dir);
    snprintf(tidy, sizeof tidy, "%s/tidy.perk", dir);
    snprintf(broken, sizeof broken, "%s/broken.perk", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    snprintf(deep, sizeof deep, "%s/sub/deep.perk", dir);
    snprintf(other, sizeof other, "%s/sub/notes.txt", dir);
    snprintf(hidden, sizeof hidden, "%s/.hidden.perk", dir);
    const char *messy_text = "let  a=1\n";
    const char *tidy_text = "let a = 1\n";
    const char *broken_text = "let a = \n";
    write_all(messy, messy_text, strlen(messy_text));
    write_all(tidy, tidy_text, strlen(tidy_text));
    write_all(broken, broken_text, strlen(broken_text));
    assert_int_equal(mkdir(sub, 0755), 0);
    write_all(deep, messy_text, strlen(messy_text));
    write_all(other, messy_text, strlen(messy_text));
    write_all(hidden, messy_text, strlen(messy_text));
    assert_int_equal(chmod(messy, 0640), 0);

    /* stdout */
    captured *c = run_fmt(messy, NULL);
    assert_int_equal(c->rc, 0);
    assert_string_equal(c->out, tidy_text);

    /* --check lists what is not formatted */
    c = run_fmt("--check", messy, tidy, NULL);
    assert_int_equal(c->rc, 1);
    char want[2048];
    snprintf(want, sizeof want, "%s\n", messy);
    assert_string_equal(c->out, want);
    c = run_fmt("--check", tidy, NULL);
    assert_int_equal(c->rc, 0);
    assert_string_equal(c->out, "");

    /* a directory: *.perk below it, sorted, hidden files skipped; the broken file is reported */
    c = run_fmt("--check", dir, NULL);
    assert_int_equal(c->rc, 1);
    snprintf(want, sizeof want, "%s\n%s\n", messy, deep);
    assert_string_equal(c->out, want);
    assert_non_null(strstr(c->err, "broken.perk:2:1: error:"));
    assert_non_null(strstr(c->err, "is not formatted: it has errors"));

    /* --write rewrites in place, keeps the mode, lists the changed files */
    c = run_fmt("--write", messy, tidy, NULL);
    assert_int_equal(c->rc, 0);
    snprintf(want, sizeof want, "%s\n", messy);
    assert_string_equal(c->out, want);
    size_t n;
    char *now = test_read_all(messy, &n);
    assert_string_equal(now, tidy_text);
    free(now);
    struct stat st;
    assert_int_equal(stat(messy, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    c = run_fmt("--check", messy, NULL);
    assert_int_equal(c->rc, 0);

    /* a file with errors is left alone */
    c = run_fmt("--write", broken, NULL);
    assert_int_equal(c->rc, 1);
    assert_string_equal(c->out, "");
    now = test_read_all(broken, &n);
    assert_string_equal(now, broken_text);
    free(now);

    /* no temporary file is left behind */
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) assert_null(strstr(e->d_name, "perk-fmt"));
    closedir(d);

    /* usage */
    c = run_fmt(NULL);
    assert_int_equal(c->rc, 2);
    c = run_fmt("--bogus", tidy, NULL);
    assert_int_equal(c->rc, 2);
    c = run_fmt("--write", "-", NULL);
    assert_int_equal(c->rc, 2);
    c = run_fmt("/nonexistent/x.perk", NULL);
    assert_int_equal(c->rc, 1);

    unlink(messy);
    unlink(tidy);
    unlink(broken);
    unlink(deep);
    unlink(other);
    unlink(hidden);
    rmdir(sub);
    rmdir(dir);
}

/* --- main --------------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    (void)argc;
    if (!test_find_root(argv[0], FMT_DIR)) {
        fprintf(stderr, "test_fmt: cannot find %s; run from the repository root or set PERK_SRCDIR\n",
                FMT_DIR);
        return 1;
    }
    const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_rules_files),
        cmocka_unit_test(test_docs_examples),
        cmocka_unit_test(test_program_comparison),
        cmocka_unit_test(test_condition_text_skips_comments),
        cmocka_unit_test(test_respacing),
        cmocka_unit_test(test_errors_refused),
        cmocka_unit_test(test_empty_and_comments_only),
        cmocka_unit_test(test_width_boundary),
        cmocka_unit_test(test_literals_and_commas),
        cmocka_unit_test(test_command),
    };
    int failed = cmocka_run_group_tests_name("fmt", fixed, NULL, NULL);

    DIR *dir = opendir(FMT_DIR);
    if (dir == NULL) {
        perror(FMT_DIR);
        return 1;
    }
    char **paths = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 8 || strcmp(e->d_name + len - 8, ".in.perk") != 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **fresh = realloc(paths, cap * sizeof *fresh);
            if (fresh == NULL) return 1;
            paths = fresh;
        }
        size_t need = sizeof FMT_DIR + 1 + len;
        paths[n] = malloc(need);
        if (paths[n] == NULL) return 1;
        snprintf(paths[n], need, "%s/%s", FMT_DIR, e->d_name);
        n++;
    }
    closedir(dir);
    qsort(paths, n, sizeof *paths, test_compare_names);
    struct CMUnitTest *tests = calloc(n ? n : 1, sizeof *tests);
    if (tests == NULL) return 1;
    for (size_t i = 0; i < n; i++) {
        tests[i].name = paths[i] + sizeof FMT_DIR;
        tests[i].test_func = run_golden;
        tests[i].initial_state = paths[i];
    }
    if (n < 8) {
        fprintf(stderr, "test_fmt: expected at least 8 golden pairs in %s, found %zu\n", FMT_DIR, n);
        failed++;
    }
    failed += _cmocka_run_group_tests("fmt golden", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++) free(paths[i]);
    free(paths);
    free(tests);
    return failed;
}
