/* cli_options.c - every command's name, synopsis, summary and options, as data: the option
 * parser (cli_parse_next), the help (`perk help COMMAND`, `--help`, `-h`) and docs/cli.md's
 * check (tests/cli/help.sh) all read these tables, so that they cannot drift apart. */
#include "cli.h"

/* --db and --now as the store's reading commands take them (cmd_store.c). */
#define STORE_DB_OPTION                                                                 \
    {                                                                                   \
        "db", 0, "PATH", "the database (default: $PERK_DB, else ./perk.db)", CLI_OPT_DB \
    }
#define STORE_NOW_OPTION                                                                          \
    {                                                                                             \
        "now", 0, "TIME", "act as at TIME: epoch seconds, YYYY-MM-DD or RFC 3339 (default: now)", \
            CLI_OPT_NOW                                                                           \
    }
#define COLOR_OPTION                                                                         \
    {                                                                                        \
        "color", 0, NULL, "color the diagnostics even when not on a terminal", CLI_OPT_COLOR \
    }

/* --no-color is handled by cli_parse_next itself (no command sees it): cli_color() is then false. */
#define NO_COLOR_OPTION                                                                          \
    {                                                                                            \
        "no-color", 0, NULL, "never color, even on a terminal (as NO_COLOR=1)", CLI_OPT_NO_COLOR \
    }

const cli_command cli_check = {
    "check", "perk check [--json | --fix] [--werror] [--color] [--include-path DIR] FILE...",
    "check rule files and report every problem",
    (const cli_option[]){
        { "json", 0, NULL, "print the diagnostics as a JSON array", CLI_OPT_JSON },
        { "fix", 0, NULL, "apply the compiler's fixes to the files, list them, then report what is left",
          CLI_OPT_FIX },
        { "werror", 0, NULL, "make warnings fail (exit status 1)", CLI_OPT_WERROR },
        COLOR_OPTION,
        NO_COLOR_OPTION,
        { "include-path", 0, "DIR", "also let `include` read files under DIR (up to 16)",
          CLI_OPT_INCLUDE_PATH },
        { 0 },
    }
};

const cli_command cli_compile = {
    "compile", "perk compile FILE... -o NAME.pbc [--color] [--include-path DIR]",
    "compile rule files to bytecode",
    (const cli_option[]){
        { "output", 'o', "NAME.pbc", "where to write the verified bytecode (atomically)", CLI_OPT_OUTPUT },
        COLOR_OPTION,
        NO_COLOR_OPTION,
        { "include-path", 0, "DIR", "also let `include` read files under DIR (up to 16)",
          CLI_OPT_INCLUDE_PATH },
        { 0 },
    }
};

const cli_command cli_fmt = {
    "fmt", "perk fmt [--check] [--write] [--color] FILE|DIR...",
    "print rule files in the canonical layout, or rewrite / list those that are not",
    (const cli_option[]){
        { "check", 0, NULL, "list the files that are not formatted; exit 1 if there are any", CLI_OPT_CHECK },
        { "write", 0, NULL, "rewrite the files that change (atomically) and list them", CLI_OPT_WRITE },
        COLOR_OPTION,
        NO_COLOR_OPTION,
        { 0 },
    }
};

const cli_command cli_disasm = { "disasm", "perk disasm PROGRAM(.pbc|.perk)",
                                 "print a compiled program readably", (const cli_option[]){ { 0 } } };

const cli_command cli_eval = {
    "eval",
    "perk eval PROGRAM(.pbc|.perk) --cart CART.json [--explain] [--repeat N] [--max-hints N]\n"
    "                 [--applied-only] [--best-coupons] [--color] [--db PATH]",
    "evaluate a cart and print the result as JSON, or as a table with --explain",
    (const cli_option[]){
        { "cart", 0, "CART.json", "the cart to evaluate (docs/cart.md)", CLI_OPT_CART },
        { "explain", 0, NULL, "print a table: each promotion applied or not and why", CLI_OPT_EXPLAIN },
        { "repeat", 0, "N", "evaluate N times (for profiling) and print once", CLI_OPT_REPEAT },
        { "max-hints", 0, "N", "keep up to N near-miss hints (default 16)", CLI_OPT_MAX_HINTS },
        { "applied-only", 0, NULL, "list only the applied promotions and the points earned",
          CLI_OPT_APPLIED_ONLY },
        { "best-coupons", 0, NULL,
          "treat the cart's coupons as a wallet: find the set that saves the most and "
          "print it with its result",
          CLI_OPT_BEST_COUPONS },
        { "color", 0, NULL, "color the output and the diagnostics even when not on a terminal",
          CLI_OPT_COLOR },
        { "db", 0, "PATH", "price the cart's customer with the store's facts (tier, points, orders)",
          CLI_OPT_DB },
        NO_COLOR_OPTION,
        { 0 },
    }
};

const cli_command cli_test = {
    "test", "perk test [--update] [-v] [--json] PATH...", "run the rule tests (*.test beside the rule files)",
    (const cli_option[]){
        { "update", 0, NULL, "rewrite the expectations that fail with the actual results", CLI_OPT_UPDATE },
        { "verbose", 'v', NULL, "also list the cases that pass", CLI_OPT_VERBOSE },
        { "json", 0, NULL, "print the counts and the messages as one JSON document", CLI_OPT_JSON },
        { 0 },
    }
};

const cli_command cli_diff = {
    "diff", "perk diff OLD NEW --orders ORDERS.jsonl [--top N] [--json] [--threads N] [--color]",
    "replay recorded orders under two rule versions and report what changes",
    (const cli_option[]){
        { "orders", 0, "ORDERS.jsonl", "the orders to replay, one cart per line (- = stdin)",
          CLI_OPT_ORDERS },
        { "top", 0, "N", "list the N orders whose payable changed most (default 10)", CLI_OPT_TOP },
        { "json", 0, NULL, "print the report as one JSON document", CLI_OPT_JSON },
        { "threads", 0, "N", "replay the file in N parts, 1 to 16 (default: by size)", CLI_OPT_THREADS },
        COLOR_OPTION,
        NO_COLOR_OPTION,
        { 0 },
    }
};

const cli_command cli_gen_orders = {
    "gen-orders", "perk gen-orders --ruleset PROGRAM(.perk|.pbc) --count N [--seed S] [-o FILE]",
    "generate realistic test orders (JSON lines) for a ruleset",
    (const cli_option[]){
        { "ruleset", 0, "PROGRAM", "the ruleset whose categories, tiers and coupons the orders use",
          CLI_OPT_RULESET },
        { "count", 0, "N", "how many orders to write", CLI_OPT_COUNT },
        { "seed", 0, "S", "the random seed (default 1): same seed, same orders", CLI_OPT_SEED },
        { "output", 'o', "FILE", "write to FILE instead of stdout", CLI_OPT_OUTPUT },
        { 0 },
    }
};

const cli_command cli_publish = {
    "publish",
    "perk publish FILE... -m MESSAGE [--at TIME] [--author NAME] [--include-path DIR] [--json]\n"
    "                    [--db FILE]",
    "compile, verify and store a rule-set version (active now or at --at)",
    (const cli_option[]){
        { "message", 'm', "MESSAGE", "what changed (kept in the history)", CLI_OPT_MESSAGE },
        { "at", 0, "TIME",
          "activate at TIME (epoch seconds, YYYY-MM-DD or RFC 3339, as every time option) instead of now",
          CLI_OPT_AT },
        { "author", 0, "NAME", "who published it (default: $USER)", CLI_OPT_AUTHOR },
        { "json", 0, NULL, "print the new version as JSON", CLI_OPT_JSON },
        { "db", 0, "FILE", "the database (default: $PERK_DB, else ./perk.db)", CLI_OPT_DB },
        { "include-path", 0, "DIR", "also let `include` read files under DIR (up to 16)",
          CLI_OPT_INCLUDE_PATH },
        { 0 },
    }
};

const cli_command cli_commit = {
    "commit", "perk commit ORDER.json [--dry-run [--program PROGRAM]] [--delayed] [--db FILE]",
    "evaluate an order against the store's budgets and coupons and commit it",
    (const cli_option[]){
        { "dry-run", 0, NULL, "evaluate against the store and print the result; commit nothing",
          CLI_OPT_DRY_RUN },
        { "program", 0, "PROGRAM", "with --dry-run: price with this program instead of the active version",
          CLI_OPT_PROGRAM },
        { "delayed", 0, NULL, "a checkout replaying an order up to 7 days old (recorded and audited)",
          CLI_OPT_DELAYED },
        { "db", 0, "FILE", "the database (default: $PERK_DB, else ./perk.db)", CLI_OPT_DB },
        { 0 },
    }
};

const cli_command cli_refund = {
    "refund",
    "perk refund ORDER --id REFUND_ID [--lines LINE=AMOUNT,...] [--amount AMOUNT] [--release-budget]\n"
    "                   [--json] [--db FILE]",
    "record a refund of a committed order: points reversed, budget released when it is whole",
    (const cli_option[]){
        { "id", 0, "REFUND_ID", "the refund's id: a retry with the same id replays it", CLI_OPT_REFUND_ID },
        { "lines", 0, "LINE=AMOUNT,...", "refund these amounts of these lines (default: the whole rest)",
          CLI_OPT_LINES },
        { "amount", 0, "AMOUNT", "the total refunded, e.g. 12.50 (default: the sum of --lines)",
          CLI_OPT_AMOUNT },
        { "release-budget", 0, NULL, "give budget and coupon uses back once the order is fully refunded",
          CLI_OPT_RELEASE_BUDGET },
        { "json", 0, NULL, "print the outcome as JSON (as the service's refund route)", CLI_OPT_JSON },
        { "db", 0, "FILE", "the database (default: $PERK_DB, else ./perk.db)", CLI_OPT_DB },
        { 0 },
    }
};

const cli_command cli_cancel = {
    "cancel", "perk cancel ORDER [--id REFUND_ID] [--json] [--db FILE]",
    "cancel a committed order: refund what is left, release its budget and coupon uses",
    (const cli_option[]){
        { "id", 0, "REFUND_ID", "the refund's id (default: cancel:ORDER, so cancelling twice replays)",
          CLI_OPT_REFUND_ID },
        { "json", 0, NULL, "print the outcome as JSON (as the service's cancel route)", CLI_OPT_JSON },
        { "db", 0, "FILE", "the database (default: $PERK_DB, else ./perk.db)", CLI_OPT_DB },
        { 0 },
    }
};

const cli_command cli_budgets = {
    "budgets", "perk budgets [--customer ID] [--json] [--db PATH] [--now TIME]",
    "budgets of the active version's promotions: used and left",
    (const cli_option[]){
        { "customer", 0, "ID", "also show how often customer ID has used each", CLI_OPT_CUSTOMER },
        { "json", 0, NULL, "print the report as JSON (as the service's GET /v1/budgets)", CLI_OPT_JSON },
        STORE_DB_OPTION,
        STORE_NOW_OPTION,
        { 0 },
    }
};

const cli_command cli_history = {
    "history", "perk history [--activations] [--json] [--db PATH] [--now TIME]",
    "list published rule-set versions",
    (const cli_option[]){
        { "activations", 0, NULL, "also print the activation log", CLI_OPT_ACTIVATIONS },
        { "json", 0, NULL, "print the versions (and activations) as JSON, times in epoch seconds",
          CLI_OPT_JSON },
        STORE_DB_OPTION,
        STORE_NOW_OPTION,
        { 0 },
    }
};

const cli_command cli_show = {
    "show", "perk show VERSION [--bytecode FILE] [--json] [--db PATH] [--now TIME]",
    "show a published version",
    (const cli_option[]){
        { "bytecode", 0, "FILE", "save the version's exact bytecode to FILE", CLI_OPT_BYTECODE },
        { "json", 0, NULL, "print the version and its sources as JSON", CLI_OPT_JSON },
        STORE_DB_OPTION,
        STORE_NOW_OPTION,
        { 0 },
    }
};

const cli_command cli_rollback = {
    "rollback", "perk rollback VERSION -m MESSAGE [--author NAME] [--json] [--db PATH] [--now TIME]",
    "make an earlier version active again",
    (const cli_option[]){
        { "message", 'm', "MESSAGE", "why (kept in the activation log)", CLI_OPT_MESSAGE },
        { "author", 0, "NAME", "who rolled back (default: $USER)", CLI_OPT_AUTHOR },
        { "json", 0, NULL, "print the outcome as JSON", CLI_OPT_JSON },
        STORE_DB_OPTION,
        STORE_NOW_OPTION,
        { 0 },
    }
};

const cli_command cli_coupons = {
    "coupons",
    "perk coupons generate CAMPAIGN --count N [--prefix P] [--expires DATE] [--max-uses N] "
    "[--per-customer N] [--db PATH]\n"
    "       perk coupons add CODE --campaign C [--expires DATE] [--max-uses N] "
    "[--per-customer N] [--customer ID] [--db PATH]\n"
    "       perk coupons check CODE [--customer ID] [--db PATH]\n"
    "       perk coupons list [--campaign C] [--json] [--db PATH]\n"
    "       perk coupons export [--campaign C] [--db PATH]\n"
    "       perk coupons issue CODE --campaign C --customer ID [--from DATE] [--expires DATE] "
    "[--max-uses N] [--per-customer N] [--by NAME] [--json] [--db PATH]\n"
    "       perk coupons revoke CODE --reason TEXT [--by NAME] [--json] [--db PATH]\n"
    "       perk coupons change CAMPAIGN [--expires DATE|never] [--max-uses N] [--per-customer N] "
    "--reason TEXT [--by NAME] [--json] [--db PATH]\n"
    "       perk coupons change-code CODE [--expires DATE|never] [--max-uses N] [--per-customer N] "
    "--reason TEXT [--by NAME] [--json] [--db PATH]\n"
    "       perk coupons wallet CUSTOMER [--json] [--db PATH]",
    "issue, check, list, export, revoke and change coupon codes; a customer's wallet",
    (const cli_option[]){
        { "count", 0, "N", "generate: how many codes (1 to 1000000)", CLI_OPT_COUNT },
        { "prefix", 0, "P", "generate: start every code with P", CLI_OPT_PREFIX },
        { "campaign", 0, "C", "add, issue: the campaign of the code; list, export: only its codes",
          CLI_OPT_CAMPAIGN },
        { "json", 0, NULL, "list, issue, revoke, change, wallet: print JSON", CLI_OPT_JSON },
        { "from", 0, "DATE", "issue: valid from DATE (YYYY-MM-DD: midnight in the rule set's zone) or any time form (default: at once)",
          CLI_OPT_FROM },
        { "expires", 0, "DATE", "valid through DATE (YYYY-MM-DD: that day in the rule set's zone) or until any time form; change: `never` for no end",
          CLI_OPT_EXPIRES },
        { "max-uses", 0, "N", "uses of each code in all (0 = unlimited)", CLI_OPT_MAX_USES },
        { "per-customer", 0, "N", "uses of each code per customer (0 = unlimited)", CLI_OPT_PER_CUSTOMER },
        { "customer", 0, "ID", "add, issue: the only customer who may use it; check: as this customer",
          CLI_OPT_CUSTOMER },
        { "reason", 0, "TEXT", "revoke, change: why (kept in the audit log)", CLI_OPT_REASON },
        { "by", 0, "NAME", "issue, revoke, change: who (kept in the audit log; default: cli:$USER)", CLI_OPT_BY },
        STORE_DB_OPTION,
        STORE_NOW_OPTION,
        { 0 },
    }
};

const cli_command cli_points = {
    "points", "perk points CUSTOMER [--json] [--db PATH] [--now TIME]", "a customer's points balance and ledger",
    (const cli_option[]){
        { "json", 0, NULL, "print the balance and the whole ledger as JSON (as GET /v1/customers/ID/points)",
          CLI_OPT_JSON },
        STORE_DB_OPTION,
        STORE_NOW_OPTION,
        { 0 },
    }
};

const cli_command cli_customers = {
    "customers",
    "perk customers set CUSTOMER --member-since DATE|none [--db PATH]\n"
    "       perk customers import FILE.json [--db PATH]\n"
    "       perk customers show CUSTOMER [--db PATH]",
    "record the CRM's membership of customers; show the facts the store prices them with",
    (const cli_option[]){
        { "member-since", 0, "DATE", "set: member since DATE (YYYY-MM-DD), or none: not a member",
          CLI_OPT_MEMBER_SINCE },
        { "db", 0, "PATH", "the database (default: $PERK_DB, else ./perk.db)", CLI_OPT_DB },
        { 0 },
    }
};

const cli_command cli_events = {
    "events",
    "perk events [--after ID] [--limit N] [--follow] [--consumer NAME [--ack]] [--db PATH]\n"
    "       perk events ack ID --consumer NAME [--db PATH]",
    "print the integration outbox as JSON lines; acknowledge what a consumer has stored",
    (const cli_option[]){
        { "after", 0, "ID", "start after event ID (default: the consumer's position, else 0)",
          CLI_OPT_AFTER },
        { "limit", 0, "N", "print at most N events", CLI_OPT_LIMIT },
        { "follow", 0, NULL, "keep printing new events until interrupted", CLI_OPT_FOLLOW },
        { "consumer", 0, "NAME", "resume after the position NAME acknowledged; ack: the consumer",
          CLI_OPT_CONSUMER },
        { "ack", 0, NULL, "record the consumer's position once the events are printed (not with --follow)",
          CLI_OPT_ACK },
        STORE_DB_OPTION,
        STORE_NOW_OPTION,
        { 0 },
    }
};

const cli_command cli_db = {
    "db",
    "perk db check [--db PATH]\n       perk db backup FILE [--db PATH]\n"
    "       perk db copy --from STORE --to STORE",
    "check the store's integrity (ledger against orders, budgets, coupons, refunds), "
    "back it up online, or copy it into another (SQLite to PostgreSQL)",
    (const cli_option[]){
        STORE_DB_OPTION,
        { "from", 0, "STORE", "copy: the store to copy (a SQLite file or a postgres:// address)", CLI_OPT_FROM },
        { "to", 0, "STORE", "copy: the empty store to copy it into (created if missing)", CLI_OPT_TO },
        { 0 },
    }
};

const cli_command cli_expire = {
    "expire", "perk expire [--json] [--db PATH] [--now TIME]", "expire points whose time has come",
    (const cli_option[]){
        { "json", 0, NULL, "print what was expired as JSON", CLI_OPT_JSON },
        STORE_DB_OPTION,
        STORE_NOW_OPTION,
        { 0 },
    }
};

const cli_command cli_serve = {
    "serve",
    "perk serve --db FILE [--listen HOST:PORT] [--threads N] [--max-body BYTES] [--max-lines N]\n"
    "                  [--request-timeout SECONDS] [--poll-ms MS] [--drain-seconds SECONDS]\n"
    "                  [--webhook URL [--webhook-secret-file FILE] [--webhook-claim-seconds N]]",
    "run the checkout service over HTTP (docs/service.md)",
    (const cli_option[]){
        { "db", 0, "FILE", "the store with the published rule sets (default: $PERK_DB)", CLI_OPT_DB },
        { "listen", 0, "HOST:PORT", "where to listen (default 127.0.0.1:8080)", CLI_OPT_LISTEN },
        { "threads", 0, "N", "worker threads, 1 to 256 (default: one per CPU)", CLI_OPT_THREADS },
        { "max-body", 0, "BYTES", "largest request body, 1 to 2^30 (default 1 MiB)", CLI_OPT_MAX_BODY },
        { "max-lines", 0, "N", "most lines in one cart, 1 to 10000", CLI_OPT_MAX_LINES },
        { "request-timeout", 0, "SECONDS", "time for one request, 1 to 3600", CLI_OPT_REQUEST_TIMEOUT },
        { "poll-ms", 0, "MS", "how often to look for a newly active version, 1 to 60000", CLI_OPT_POLL_MS },
        { "drain-seconds", 0, "SECONDS", "on SIGTERM, time to finish requests in flight, 0 to 3600",
          CLI_OPT_DRAIN_SECONDS },
        { "webhook", 0, "URL", "deliver the outbox to URL, signed with HMAC-SHA256", CLI_OPT_WEBHOOK },
        { "webhook-secret-file", 0, "FILE", "the webhook signing secret", CLI_OPT_WEBHOOK_SECRET_FILE },
        { "webhook-claim-seconds", 0, "N",
          "of several nodes one delivers; another takes over N s after it stops, 1 to 3600 (default 30)",
          CLI_OPT_WEBHOOK_CLAIM_SECONDS },
        { 0 },
    }
};

const cli_command cli_keys = {
    "keys",
    "perk keys create --scope checkout|operator|read [--name NAME] [--db FILE]\n"
    "       perk keys revoke ID [--db FILE]",
    "create or revoke API keys of perk serve",
    (const cli_option[]){
        { "scope", 0, "SCOPE", "what the key may do: checkout, operator or read", CLI_OPT_SCOPE },
        { "name", 0, "NAME", "who or what the key is for", CLI_OPT_NAME },
        { "db", 0, "FILE", "the database (default: $PERK_DB, else ./perk.db)", CLI_OPT_DB },
        { 0 },
    }
};

const cli_command cli_users = {
    "users",
    "perk users add NAME --role viewer|editor|publisher [--password-file FILE] [--db FILE]\n"
    "       perk users list [--db FILE]\n"
    "       perk users remove NAME [--db FILE]",
    "manage the operators of the console (docs/console.md)",
    (const cli_option[]){
        { "role", 0, "ROLE", "viewer (read), editor (edit, check, simulate) or publisher", CLI_OPT_ROLE },
        { "password-file", 0, "FILE", "read the password from FILE's first line (else a prompt or stdin)",
          CLI_OPT_PASSWORD_FILE },
        { "db", 0, "FILE", "the database (default: $PERK_DB, else ./perk.db)", CLI_OPT_DB },
        { 0 },
    }
};

const cli_command cli_report = {
    "report",
    "perk report --from DATE --to DATE [--json | --csv] [--db FILE]",
    "results of the promotions and points over a period (the console's Results page)",
    (const cli_option[]){
        { "from", 0, "DATE", "first day of the period, YYYY-MM-DD (a day in the rule set's zone)", CLI_OPT_FROM },
        { "to", 0, "DATE", "last day of the period, YYYY-MM-DD (a day in the rule set's zone), included", CLI_OPT_TO },
        { "json", 0, NULL, "the whole report as JSON", CLI_OPT_JSON },
        { "csv", 0, NULL, "the promotions as CSV", CLI_OPT_CSV },
        { "db", 0, "FILE", "the database (default: $PERK_DB, else ./perk.db)", CLI_OPT_DB },
        { 0 },
    }
};

const cli_command cli_version = { "version", "perk version", "print the version",
                                  (const cli_option[]){ { 0 } } };

const cli_command cli_help = {
    "help", "perk help [COMMAND]\n       perk help --man [COMMAND]\n       perk help --completion bash",
    "show help",
    (const cli_option[]){
        { "man", 0, NULL, "print the man page of perk, or of COMMAND, as roff", CLI_OPT_MAN },
        { "completion", 0, "SHELL", "print the completion script of SHELL (bash)", CLI_OPT_COMPLETION },
        { 0 },
    }
};

#define CLI_ENTRY(id) &cli_##id,
const cli_command *const cli_commands[] = { CLI_COMMAND_LIST(CLI_ENTRY) };
#undef CLI_ENTRY
const size_t cli_command_count = sizeof cli_commands / sizeof cli_commands[0];
