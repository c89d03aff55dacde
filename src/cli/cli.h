/* cli.h - the subcommands of `perk`, listed once.
 *
 * CLI_COMMAND(name, function, usage, summary). Each function takes the arguments after `perk`
 * (argv[0] is the command name) and returns the exit status: 0 ok, 1 errors found, 2 usage.
 */
#ifndef PERK_CLI_H
#define PERK_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd_store.h"

#define CLI_COMMAND_LIST(X)                                                                            \
    X("check", cmd_check, "perk check [--json] [--werror] [--color] FILE...",                          \
      "check rule files and report every problem")                                                     \
    X("compile", cmd_compile, "perk compile FILE... -o NAME.pbc", "compile rule files to bytecode")    \
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
    X("publish", cmd_publish, "perk publish FILE... -m MESSAGE [--at TIME] [--author NAME] [--db FILE]", \
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
    X("expire", cmd_expire, "perk expire [--db FILE]", "expire points whose time has come")                 \
    X("serve", cmd_serve, "perk serve --db FILE [--listen HOST:PORT] [--threads N]", "run the checkout HTTP service") \
    X("keys", cmd_keys, "perk keys create --scope checkout|operator|read [--name NAME] [--db FILE]", "create API keys for perk serve")

#define CLI_DECLARE(name, fn, usage, summary) int fn(int argc, char **argv);
CLI_COMMAND_LIST(CLI_DECLARE)
#undef CLI_DECLARE

/* Shared helpers for commands (src/cli/cli_util.c). */
/* True when stdout/stderr should be colored: --color given, or a terminal and NO_COLOR unset. */
bool cli_color(int fd, bool forced);
/* Reads a whole file (NUL-terminated); returns NULL and prints "perk: error: ..." on failure. */
char *cli_read_file(const char *path, size_t *len);

#endif
