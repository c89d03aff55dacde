/* cmd_store.h - the `perk` CLI commands that work on the store (src/cli/main.c dispatches to them).
 *
 * Each command takes the arguments that follow `perk`, so argv[0] is the command name
 * ("history", "coupons", ...), and returns the process exit status: 0 ok, 1 error (printed to
 * stderr as "perk: error: ..."), 2 usage error (with a usage line). Every command accepts
 * --db PATH (default: $PERK_DB, else ./perk.db) and --now TIME (the forms of cli_time: epoch
 * seconds, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or RFC 3339 with an offset; default: the current
 * time), and -h/--help. Text output shows times in the active rule set's zone (cli_zone);
 * --json (history, show, rollback, points, expire) keeps epoch seconds.
 * Commands that only read open the database read-only and never create it.
 */
#ifndef PERK_CMD_STORE_H
#define PERK_CMD_STORE_H

/* perk history [--activations] [--json]
 * Versions newest first (active one marked '*'); with --activations, the activation log too. */
int cmd_history(int argc, char **argv);

/* perk show VERSION [--bytecode FILE] [--json]
 * A version's metadata and sources (times in its own rule set's zone); --bytecode writes its
 * bytecode to FILE. */
int cmd_show(int argc, char **argv);

/* perk rollback VERSION -m MESSAGE [--author NAME] [--json]
 * Makes VERSION active again from now (author defaults to $USER). */
int cmd_rollback(int argc, char **argv);

/* perk coupons generate CAMPAIGN --count N [--prefix P] [--expires DATE] [--max-uses N]
 *                                [--per-customer N]      (codes on stdout, one per line)
 * perk coupons add CODE --campaign C [--expires DATE] [--max-uses N] [--per-customer N]
 *                       [--customer ID]
 * perk coupons check CODE [--customer ID]                (exit 0 only when valid)
 * perk coupons list|export [--campaign C] [--json]
 * perk coupons issue CODE --campaign C --customer ID [--from DATE] [--expires DATE] [--max-uses N]
 *                         [--per-customer N] [--by NAME] [--json]   (idempotent by code)
 * perk coupons revoke CODE --reason TEXT [--by NAME] [--json]
 * perk coupons wallet CUSTOMER [--json]                  (the codes issued to the customer)
 * --expires DATE: the code is valid through that whole day (UTC); an epoch time is exact. */
int cmd_coupons(int argc, char **argv);

/* perk points CUSTOMER [--json]
 * Balance, pending, expiring within 30 days, debt, recorded tier, and the ledger. */
int cmd_points(int argc, char **argv);

/* perk events [--after ID] [--limit N] [--follow] [--consumer NAME [--ack]]
 * Events as JSON lines {"data":{...},"id":N,"time":T,"type":"..."}. With --consumer and no
 * --after, starts after that consumer's position; --ack records the position after each batch
 * has been written out. --follow keeps polling every 200 ms until SIGINT or SIGTERM. */
int cmd_events(int argc, char **argv);

/* perk expire [--json]
 * Writes off points whose expiry has passed (safe to run repeatedly, e.g. from cron). */
int cmd_expire(int argc, char **argv);

/* perk db check
 * Checks the store's integrity (perk_store_check): prints each problem, exit 1 when any. */
int cmd_db(int argc, char **argv);

#endif /* PERK_CMD_STORE_H */
