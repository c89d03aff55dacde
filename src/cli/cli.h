/* cli.h - the subcommands of `perk`, listed once, and the tables of their options.
 *
 * CLI_COMMAND_LIST(X) names each command once, by the identifier of its function cmd_<id>; its
 * name, synopsis, summary and options are data in cli_<id> (src/cli/cli_options.c). The same
 * table drives the option parser (cli_parse_next) and the help (cli_print_help: `perk help
 * COMMAND`, `perk COMMAND --help` and `-h`), so the two cannot disagree. Each function takes the
 * arguments after `perk` (argv[0] is the command name) and returns the exit status: 0 ok,
 * 1 errors found, 2 usage.
 */
#ifndef PERK_CLI_H
#define PERK_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cmd_store.h"
#include "perk.h"
#include "tz.h"

/* In the order `perk help` lists them. */
/* clang-format off: a table, aligned by hand */
#define CLI_COMMAND_LIST(X)                                                                       \
    X(check) X(compile) X(fmt) X(disasm) X(eval) X(test) X(diff) X(gen_orders)                    \
    X(publish) X(commit) X(history) X(show) X(rollback) X(coupons) X(db) X(points) X(customers)    \
    X(events) X(expire) X(serve) X(keys) X(users) X(report) X(version)                 \
    X(refund) X(cancel) X(budgets) X(help)
/* clang-format on */

/* What cli_parse_next returns for an option: above 255, so never a short option's character.
 * One id per long name; commands that share a name share the id. */
typedef enum cli_option_id {
    CLI_OPT_HELP = 256,
    CLI_OPT_MAN,
    CLI_OPT_COMPLETION,
    CLI_OPT_REFUND_ID,
    CLI_OPT_LINES,
    CLI_OPT_AMOUNT,
    CLI_OPT_RELEASE_BUDGET,
    CLI_OPT_NO_COLOR,
    CLI_OPT_DB,
    CLI_OPT_NOW,
    CLI_OPT_JSON,
    CLI_OPT_WERROR,
    CLI_OPT_FIX,
    CLI_OPT_COLOR,
    CLI_OPT_OUTPUT,
    CLI_OPT_CART,
    CLI_OPT_EXPLAIN,
    CLI_OPT_REPEAT,
    CLI_OPT_MAX_HINTS,
    CLI_OPT_APPLIED_ONLY,
    CLI_OPT_BEST_COUPONS,
    CLI_OPT_UPDATE,
    CLI_OPT_VERBOSE,
    CLI_OPT_ORDERS,
    CLI_OPT_TOP,
    CLI_OPT_THREADS,
    CLI_OPT_RULESET,
    CLI_OPT_COUNT,
    CLI_OPT_SEED,
    CLI_OPT_CHECK,
    CLI_OPT_WRITE,
    CLI_OPT_MESSAGE,
    CLI_OPT_AUTHOR,
    CLI_OPT_AT,
    CLI_OPT_PROGRAM,
    CLI_OPT_ACTIVATIONS,
    CLI_OPT_BYTECODE,
    CLI_OPT_PREFIX,
    CLI_OPT_EXPIRES,
    CLI_OPT_MAX_USES,
    CLI_OPT_PER_CUSTOMER,
    CLI_OPT_CAMPAIGN,
    CLI_OPT_CUSTOMER,
    CLI_OPT_AFTER,
    CLI_OPT_LIMIT,
    CLI_OPT_FOLLOW,
    CLI_OPT_CONSUMER,
    CLI_OPT_ACK,
    CLI_OPT_DRY_RUN,
    CLI_OPT_DELAYED,
    CLI_OPT_INCLUDE_PATH,
    CLI_OPT_LISTEN,
    CLI_OPT_MAX_BODY,
    CLI_OPT_MAX_LINES,
    CLI_OPT_REQUEST_TIMEOUT,
    CLI_OPT_POLL_MS,
    CLI_OPT_DRAIN_SECONDS,
    CLI_OPT_WEBHOOK,
    CLI_OPT_WEBHOOK_SECRET_FILE,
    CLI_OPT_WEBHOOK_CLAIM_SECONDS,
    CLI_OPT_SCOPE,
    CLI_OPT_NAME,
    CLI_OPT_MEMBER_SINCE,
    CLI_OPT_ROLE,
    CLI_OPT_PASSWORD_FILE,
    CLI_OPT_FROM,
    CLI_OPT_TO,
    CLI_OPT_CSV,
    CLI_OPT_REASON,
    CLI_OPT_BY,
} cli_option_id;

/* One option of a command. Data only: the parser, the help and (later) man pages read it. */
typedef struct cli_option {
    const char *name; /* long form without "--" */
    char short_name;  /* 'o' for -o, or 0 */
    const char *arg;  /* the argument's placeholder ("FILE"), or NULL for a flag */
    const char *help; /* one line */
    cli_option_id id;
} cli_option;

enum { CLI_MAX_OPTIONS = 16 }; /* per command, not counting -h/--help (which every command takes) */

typedef struct cli_command {
    const char *name;          /* as typed: "gen-orders" */
    const char *usage;         /* the synopsis after "usage: " (lines after the first start "       perk") */
    const char *summary;       /* one line for `perk help` */
    const cli_option *options; /* ends with {0}; -h/--help is implied */
} cli_command;

#define CLI_DECLARE(id)                  \
    int cmd_##id(int argc, char **argv); \
    extern const cli_command cli_##id;
CLI_COMMAND_LIST(CLI_DECLARE)
#undef CLI_DECLARE

/* Every command, in CLI_COMMAND_LIST order. */
extern const cli_command *const cli_commands[];
extern const size_t cli_command_count;

/* Prints "usage: ...", the summary and every option with its description (-h/--help last). */
void cli_print_help(FILE *out, const cli_command *cmd);

/* Generated documentation (src/cli/cli_doc.c), from the same tables: perk(1) (name NULL) or
 * perk-NAME(1) as roff, and the completion script of a shell ("bash"). -1 for an unknown name. */
int cli_print_man(FILE *out, const char *name);
int cli_print_completion(FILE *out, const char *shell);

/* A getopt_long pass over a command's arguments, built from its table. */
typedef struct cli_parser {
    const cli_command *cmd;
    struct option longs[CLI_MAX_OPTIONS + 2];
    char shorts[3 * CLI_MAX_OPTIONS + 2];
} cli_parser;

/* Starts a pass (resetting getopt). quiet: getopt prints nothing about a bad option (the caller
 * words it). */
void cli_parse_begin(cli_parser *p, const cli_command *cmd, bool quiet);
/* The next option's cli_option_id (CLI_OPT_HELP for -h/--help), '?' for an unknown option or a
 * missing argument, or -1 after the last option (the operands then start at optind; getopt_long
 * has moved them after the options). The argument is in optarg. */
int cli_parse_next(cli_parser *p, int argc, char **argv);

/* "Did you mean": the candidate closest to word within max(1, strlen(word) / 3) edits (or of
 * which word is a prefix of 3 bytes or more), or NULL. cli_suggest_option prints
 * "perk: --jsno: did you mean --json?" for an unknown long option of cmd (cli_parse_next calls
 * it), nothing when no option is close. */
const char *cli_closest(const char *word, const char *const *candidates, size_t n);
void cli_suggest_option(const cli_command *cmd, const char *arg);

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
/* A time as every option takes it (--now, --at, --expires): epoch seconds, YYYY-MM-DD (midnight
 * UTC, or the next midnight when end_of_day), YYYY-MM-DDTHH:MM:SSZ, or RFC 3339 with an offset
 * (2026-03-01T20:00+08:00); from 1970 to CLI_EPOCH_MAX. False when it is none of these. */
bool cli_time(const char *text, bool end_of_day, int64_t *out);
/* cli_time for an option (src/cli/cli_time.c): false with the one error message every time
 * option gives ("perk: error: --now TEXT: expected a time from 1970 to 9999 as ..."). */
bool cli_time_option(const char *option, const char *text, bool end_of_day, int64_t *out);

/* The time zone of a store command's text output: the rule set's (`timezone` in its header),
 * or UTC. JSON output keeps epoch seconds (UTC) and never uses one. */
typedef struct cli_zone {
    const char *name;      /* "Asia/Shanghai", or "UTC" */
    tz_zone zone;          /* the offset tables, in program */
    perk_program *program; /* holds name and zone (one reference); NULL for UTC */
    bool utc_fallback;     /* UTC because the store has no active version (cli_zone_note) */
    int64_t unloadable;    /* ... or because this active version does not load; else 0 */
} cli_zone;
/* The zone of the version active at now; UTC (utc_fallback) when there is none. */
struct perk_store;
void cli_zone_of_store(cli_zone *z, struct perk_store *store, int64_t now);
/* The zone of a program (retained), or UTC for NULL. */
void cli_zone_of_program(cli_zone *z, perk_program *program);
/* Says on stderr that times are in UTC when the store had no active version. */
void cli_zone_note(const cli_zone *z);
void cli_zone_free(cli_zone *z);
/* "2026-12-07 20:15 Asia/Shanghai" for epoch seconds t, or "-" for 0. */
enum { CLI_ZONE_TIME_MAX = 96 };
const char *cli_zone_time(const cli_zone *z, int64_t t, char buf[CLI_ZONE_TIME_MAX]);
/* cli_time, except that a date alone (YYYY-MM-DD) is midnight in zone z, not in UTC (the next
 * midnight when end_of_day): `--expires 2026-12-31` in a Shanghai shop ends at 2027-01-01 00:00
 * Shanghai time. Every other form names its own instant. */
bool cli_time_in_zone(const char *text, bool end_of_day, const cli_zone *z, int64_t *out);
/* Whether text is a date alone (YYYY-MM-DD), the form cli_time_in_zone reads in a zone. */
bool cli_time_is_date(const char *text);

/* Rule files as the commands that compile take them (src/cli/cli_util.c): "-" is standard
 * input, named "<stdin>" in diagnostics, whose includes resolve against the current directory;
 * it must then be the only file (stdin is read once). Otherwise compiler_compile_files. */
struct compiler;
bool cli_compile_files(struct compiler *c, const char *const *paths, int n, uint8_t **bytes, size_t *len);
/* compiler_load_program, with "-" read from standard input: bytecode when it starts with the
 * .pbc magic, else rule text compiled as "<stdin>". */
perk_program *cli_load_program(const char *path, bool color);
/* Prints a JSON document on stdout (keys sorted, indented by 2, as every --json of the store
 * commands) and frees it; false with a message when doc is NULL (out of memory). */
struct json_t;
bool cli_print_json(struct json_t *doc);

/* How messages name a file argument: "<stdin>" for "-", else path itself. */
const char *cli_file_name(const char *path);
/* More than one of the paths is "-": prints "perk: error: standard input can be read only once"
 * and returns true. NULL paths are skipped. */
bool cli_stdin_twice(const char *const *paths, int n);

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
/* The store of the commands that take --db: $PERK_DB, else ./perk.db. */
const char *cli_default_db(void);
/* A --db that names a SQLite file that does not exist (errno set): reading commands refuse it
 * rather than create an empty store. A PostgreSQL address is never "missing" here. */
bool cli_db_missing(const char *db);
/* Opens (creating if needed) the store at path for publish and commit; NULL with "perk: error:
 * PATH: ..." printed. */
struct perk_store;
struct perk_store *cli_open_store(const char *path);
/* True when stdout/stderr should be colored: --color given, or a terminal and NO_COLOR unset
 * and no --no-color (which cli_parse_next takes for every command that lists it, and which wins
 * over --color). */
bool cli_color(int fd, bool forced);
/* Reads a whole file (NUL-terminated; "-" is standard input) of at most the source limit
 * (SOURCE_MAX_BYTES, 8 MiB: rule files, .test files, carts and orders read by the CLI); returns
 * NULL and prints "perk: error: ..." on failure, "[file-too-large]" past the limit. */
char *cli_read_file(const char *path, size_t *len);
/* The same with a given limit; nothing past limit + 1 bytes is read. With too_large non-NULL, a
 * file past the limit sets it and prints nothing (the caller reports it). */
char *cli_read_limited(const char *path, size_t limit, size_t *len, bool *too_large);

#endif
