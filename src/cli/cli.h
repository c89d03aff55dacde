/* cli.h - the subcommands of `perk`, listed once.
 *
 * CLI_COMMAND(name, function, usage, summary). Each function takes the arguments after `perk`
 * (argv[0] is the command name) and returns the exit status: 0 ok, 1 errors found, 2 usage.
 */
#ifndef PERK_CLI_H
#define PERK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cmd_store.h"

#define CLI_COMMAND_LIST(X)                                                                            \
    X("check", cmd_check, "perk check [--json] [--werror] [--color] [--include-path DIR] FILE...",                          \
      "check rule files and report every problem")                                                     \
    X("compile", cmd_compile, "perk compile FILE... -o NAME.pbc [--include-path DIR]", "compile rule files to bytecode")    \
    X("fmt", cmd_fmt, "perk fmt [--check] [--write] FILE|DIR...",                                    \
      "print rule files in the canonical layout, or rewrite / list those that are not")              \
    X("disasm", cmd_disasm, "perk disasm PROGRAM(.pbc|.perk)", "print a compiled program readably")    \
    X("eval", cmd_eval, "perk eval PROGRAM --cart CART.json [--explain] [--repeat N]",                 \
      "evaluate a cart and print the result as JSON, or as a table with --explain")                    \
    X("test", cmd_test, "perk test [--update] [-v] PATH...",                                          \
      "run the rule tests (*.test beside the rule files)")                                      \
    X("diff", cmd_diff, "perk diff OLD NEW --orders ORDERS.jsonl [--top N] [--json] [--threads N]",     \
      "replay recorded orders under two rule versions and report what changes")                      \
    X("gen-orders", cmd_gen_orders, "perk gen-orders --ruleset PROGRAM --count N [--seed S] [-o FILE]", \
      "generate realistic test orders (JSON lines) for a ruleset")                                  \
    X("publish", cmd_publish, "perk publish FILE... -m MESSAGE [--at TIME] [--author NAME] [--include-path DIR] [--db FILE]", \
      "compile, verify and store a rule-set version (active now or at --at)")                         \
    X("commit", cmd_commit, "perk commit ORDER.json [--program PROGRAM] [--db FILE]",                  \
      "evaluate an order against the store's budgets and coupons and commit it")                     \
    X("history", cmd_history, "perk history [--activations] [--db FILE]", "list published rule-set versions") \
    X("show", cmd_show, "perk show VERSION [--bytecode FILE] [--db FILE]", "show a published version")   \
    X("rollback", cmd_rollback, "perk rollback VERSION -m MESSAGE [--db FILE]",                      \
      "make an earlier version active again")                                                        \
    X("coupons", cmd_coupons, "perk coupons generate|add|check ... [--db FILE]",                     \
      "issue and check coupon codes")                                                                \
    X("points", cmd_points, "perk points CUSTOMER [--db FILE]", "a customer's points balance and ledger") \
    X("events", cmd_events, "perk events [--after ID] [--follow] [--consumer NAME --ack] [--db FILE]", \
      "print the integration outbox as JSON lines")                                                  \
    X("expire", cmd_expire, "perk expire [--db FILE]", "expire points whose time has come")

#define CLI_DECLARE(name, fn, usage, summary) int fn(int argc, char **argv);
CLI_COMMAND_LIST(CLI_DECLARE)
#undef CLI_DECLARE

/* Shared helpers for commands (src/cli/cli_util.c). */
/* Process setup before any command runs: SIGXFSZ is ignored, so a write past `ulimit -f` fails
 * with EFBIG (and SQLite reports it) instead of killing perk without a word. */
void cli_init_process(void);
/* The end of every command: flushes stdout and checks that everything written to it arrived
 * (`perk eval ... > /dev/full` must not exit 0). Returns status, or 1 with a message on stderr
 * when stdout failed and status was 0. */
int cli_finish(int status);
/* Flushes stdout now; false (with "perk: error: cannot write to standard output: ...") when it
 * fails. For commands that must know before they commit what they printed. */
bool cli_flush_stdout(void);

/* Numeric options, checked one way everywhere: the whole text is a decimal integer within
 * [min, max] (no overflow: 99999999999999999999 is refused, not clamped). Otherwise prints
 * "perk: error: OPTION TEXT: expected a number from MIN to MAX" and returns false. */
bool cli_number(const char *option, const char *text, int64_t min, int64_t max, int64_t *out);
/* The latest time an option may name: 9999-12-31T23:59:59Z in epoch seconds. */
#define CLI_EPOCH_MAX INT64_C(253402300799)

/* `--include-path DIR` of the commands that compile (check, compile, publish): up to 16 folders
 * that `include` may read from besides the top-level file's own. cli_include_path records one
 * (false with a message past 16); cli_include_paths_set gives them to a compiler's sources. */
struct source_set;
bool cli_include_path(const char *dir);
void cli_include_paths_set(struct source_set *sources);

/* Text from the store (messages, authors, ids, codes, customer ids, source file names) as it may
 * be shown on a terminal: control characters (C0, DEL, C1), bidirectional overrides, line
 * separators and bytes that are not UTF-8 become visible escapes (\n, \t, \r, \xNN, \uNNNN),
 * so `-m $'\e]0;pwned\a'` prints as \x1b]0;pwned\x07 instead of driving the terminal. Text
 * without any returns s itself; otherwise a copy that lives until a later call has made 16 more
 * (enough for any one line of output). NULL gives "". */
const char *cli_safe(const char *s);
/* Writes n bytes of multi-line text (rule sources) the same way, keeping newlines and tabs. */
void cli_write_safe(FILE *f, const char *s, size_t n);

/* An output file written atomically: a unique temporary file (mkstemp) in the target's folder,
 * written through f, then fsync and rename over the target, so a reader (or a second perk
 * writing the same name) never sees half a file. The target must be a regular file or absent:
 * a symbolic link, FIFO, device or directory is refused, never replaced. A new file gets the
 * mode 0666 minus the umask; a replaced one keeps its mode. */
typedef struct cli_output {
    char *path, *tmp;
    FILE *f;
} cli_output;
/* Opens out->f; false with "perk: error: ..." printed. */
bool cli_output_open(cli_output *out, const char *path);
/* Flushes, checks every write, fsyncs and renames; false with a message (the temporary file is
 * removed and the target left as it was). Frees out in both cases. */
bool cli_output_commit(cli_output *out);
/* Removes the temporary file; the target is left as it was. */
void cli_output_abort(cli_output *out);
/* The three above for one buffer. */
bool cli_write_file(const char *path, const void *data, size_t len);
/* True when stdout/stderr should be colored: --color given, or a terminal and NO_COLOR unset. */
bool cli_color(int fd, bool forced);
/* Reads a whole file (NUL-terminated; "-" is standard input) of at most the source limit
 * (SOURCE_MAX_BYTES, 8 MiB: rule files, .test files, carts and orders read by the CLI); returns
 * NULL and prints "perk: error: ..." on failure, "[file-too-large]" past the limit. */
char *cli_read_file(const char *path, size_t *len);
/* The same with a given limit; nothing past limit + 1 bytes is read. With too_large non-NULL, a
 * file past the limit sets it and prints nothing (the caller reports it). */
char *cli_read_limited(const char *path, size_t limit, size_t *len, bool *too_large);

#endif
