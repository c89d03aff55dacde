/* test_parser.c - the grammar (grammar/parser.y) and the front-end driver (src/compiler/parse.c): every
 * construct of the language parses to the expected S-expression (ast_dump), syntax errors name
 * what was expected, error recovery reports independent errors of one file, includes resolve,
 * hostile inputs (empty, binary, invalid UTF-8, 10,000-deep nesting, 50 MB) end in a clear
 * diagnostic, and diagnostics render as documented in diag.h. Also checks that the golden files
 * tests/diagnostics/parse-*.perk still render to their .expected text. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "compiler/ast.h"
#include "compiler/diag.h"
#include "compiler/parse.h"
#include "compiler/source.h"

#define HEADER "ruleset \"t\" { currency CNY }\n"

typedef struct parsed {
    source_set sources;
    diag_engine diags;
    ast_arena *arena;
    ast_node *root;
    char *dump;
    size_t dump_len;
} parsed;

static char *dump_of(const ast_node *n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    ast_dump(n, f);
    fclose(f);
    return buf;
}

static parsed *parse_len(const char *text, size_t len, size_t max_bytes)
{
    parsed *p = calloc(1, sizeof *p);
    assert_non_null(p);
    source_init(&p->sources);
    p->sources.max_bytes = max_bytes;
    diag_init(&p->diags, &p->sources);
    p->arena = ast_arena_new();
    p->root = parse_text(&p->sources, &p->diags, p->arena, "t.perk", text, len);
    assert_non_null(p->root);
    assert_int_equal(p->root->kind, AST_FILE);
    diag_sort(&p->diags);
    return p;
}

static parsed *parse(const char *text) { return parse_len(text, strlen(text), 0); }

static void parsed_free(parsed *p)
{
    free(p->dump);
    ast_arena_free(p->arena);
    diag_free(&p->diags);
    source_free(&p->sources);
    free(p);
}

static char *diag_text(const diag_engine *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    diag_print_text(d, f, false);
    fclose(f);
    return buf;
}

static void print_diags(const parsed *p)
{
    char *t = diag_text(&p->diags);
    fprintf(stderr, "%s", t);
    free(t);
}

/* Parses HEADER + `decl` and compares the dump of the last declaration. */
static void assert_decl(const char *decl, const char *want)
{
    size_t n = strlen(HEADER) + strlen(decl) + 1;
    char *text = malloc(n);
    assert_non_null(text);
    snprintf(text, n, "%s%s", HEADER, decl);
    parsed *p = parse(text);
    if (p->diags.count) print_diags(p);
    assert_int_equal(p->diags.count, 0);
    assert_true(p->root->list.count >= 2);
    char *got = dump_of(p->root->list.items[p->root->list.count - 1]);
    if (strcmp(got, want) != 0) fprintf(stderr, "input: %s\n got:  %s\n want: %s\n", decl, got, want);
    assert_string_equal(got, want);
    free(got);
    free(text);
    parsed_free(p);
}

/* Parses HEADER + `let x = EXPR` and compares the dump of the expression. */
static void assert_expr(const char *expr, const char *want)
{
    char decl[512];
    snprintf(decl, sizeof decl, "let x = %s", expr);
    char full[600];
    snprintf(full, sizeof full, "(let x %s)", want);
    assert_decl(decl, full);
}

/* ------------------------------------------------------------------------------------------ */
/* Constructs                                                                                 */

static void test_header_and_settings(void **state)
{
    (void)state;
    parsed *p = parse("ruleset \"\xE6\x98\xA5\xE8\x8C\xB6\xE8\x8A\x82 Spring\" {\n"
                      "  currency CNY timezone \"Asia/Shanghai\" rounding half_even\n"
                      "  max discount 60% coupons one per order\n}\n"
                      "ruleset \"b\" { coupons stackable rounding down }");
    assert_int_equal(p->diags.count, 0);
    char *got = dump_of(p->root);
    assert_string_equal(got, "(file (ruleset \"\xE6\x98\xA5\xE8\x8C\xB6\xE8\x8A\x82 Spring\" (currency CNY) "
                             "(timezone Asia/Shanghai) (rounding half_even) (max-discount (percent 60)) "
                             "(coupons one_per_order)) (ruleset \"b\" (coupons stackable) (rounding down)))");
    free(got);
    /* the header spans from `ruleset` to its closing brace */
    ast_node *h = p->root->list.items[0];
    assert_int_equal(h->kind, AST_RULESET);
    assert_int_equal(h->span.first_line, 1);
    assert_int_equal(h->span.last_line, 4);
    assert_int_equal(h->list.items[0]->op, SET_CURRENCY);
    assert_string_equal(h->list.items[0]->name, "CNY");
    parsed_free(p);
}

static void test_empty_file(void **state)
{
    (void)state;
    parsed *p = parse("");
    assert_int_equal(p->root->list.count, 0);
    assert_int_equal(p->diags.count, 0);
    parsed_free(p);
    p = parse("  # only a comment\n\n");
    assert_int_equal(p->root->list.count, 0);
    assert_int_equal(p->diags.count, 0);
    parsed_free(p);
}

static void test_lets_and_expressions(void **state)
{
    (void)state;
    assert_expr("items where price >= \xC2\xA5"
                "100 and not (quantity > 2) or sku in [\"A\", \"B\"]",
                "(where items (or (and (>= price (money \xC2\xA5 100)) (not (> quantity (int 2)))) "
                "(in sku (list \"A\" \"B\"))))");
    assert_expr("customer.tier >= gold", "(>= (field customer.tier) gold)");
    assert_expr("today - customer.member_since >= 365 days",
                "(>= (- (field today) (field customer.member_since)) (duration 31536000s))");
    assert_expr("weekday in [saturday, sunday]", "(in (field weekday) (list saturday sunday))");
    assert_expr("weekday is wednesday", "(= (field weekday) wednesday)");
    assert_expr("weekday is not monday", "(!= (field weekday) monday)");
    assert_expr("time in 10:00 .. 14:00", "(in (field time) (.. (time 10:00) (time 14:00)))");
    assert_expr("today in 2026-03-01 .. 2026-03-31",
                "(in (field today) (.. (date 2026-03-01) (date 2026-03-31)))");
    assert_expr("\"vip\" not in customer.tags", "(not-in \"vip\" (field customer.tags))");
    assert_expr("category in \"tea\"", "(in category \"tea\")");
    assert_expr("tea union coffee except items where brand = \"X\"",
                "(where (except (union tea coffee) items) (= brand \"X\"))");
    assert_expr("-\xC2\xA5"
                "5 + 2 * \xC2\xA5"
                "3 / 4 - 1.5",
                "(- (+ (neg (money \xC2\xA5 5)) (/ (* (int 2) (money \xC2\xA5 3)) (int 4))) (decimal 1.5))");
    assert_expr("attr(\"origin\") = \"Yunnan\"", "(= (call attr \"origin\") \"Yunnan\")");
    assert_expr("order.subtotal > 300.00 CNY", "(> (field order.subtotal) (money CNY 300.00))");
    assert_expr("max(items, price) < $5 and min(tea, margin) > 12.5%",
                "(and (< (call max items price) (money $ 5)) (> (call min tea margin) (percent 12.5)))");
    assert_expr(
        "any(tea) and all(tea, quantity > 1) and count(tea) >= 3",
        "(and (and (call any tea) (call all tea (> quantity (int 1)))) (>= (call count tea) (int 3)))");
    assert_expr("sum(tea, amount) > \xE2\x82\xAC"
                "3.20",
                "(> (call sum tea amount) (money \xE2\x82\xAC 3.20))");
    assert_expr("true != false", "(!= true false)");
    assert_expr("[]", "(list)");
    assert_expr("[1, 2,]", "(list (int 1) (int 2))");
    assert_expr("f()", "(call f)");
    assert_expr("x2", "(x 2)");
    assert_expr("order", "items");
    assert_expr("a = b or c != d and e < f", "(or (= a b) (and (!= c d) (< e f)))");
    assert_expr("not a = b", "(not (= a b))");
    assert_expr("1 - 2 - 3", "(- (- (int 1) (int 2)) (int 3))");
    assert_expr("(1 - 2) * 3", "(* (- (int 1) (int 2)) (int 3))");
    assert_expr("- - 1", "(neg (neg (int 1)))");
    assert_expr("customer.birthday_month and customer.first_order",
                "(and (field customer.birthday_month) (field customer.first_order))");
}

static void test_promotion_clauses(void **state)
{
    (void)state;
    assert_decl(
        "promotion p1 \"x\" {\n"
        "  priority 1 when a valid 2026-03-01 to 2026-03-31 every monday, friday hours 09:30 to 24:00\n"
        "  requires coupon \"SPRING10\" requires coupon from \"SPRING\" exclusive \"g\" stop cap \xC2\xA5"
        "50\n"
        "  limit 100 uses limit \xC2\xA5"
        "1000 total limit 1 per customer measure original prices\n"
        "  then 15% off tea\n}",
        "(promotion p1 \"x\" (priority (int 1)) (when a) (valid (date 2026-03-01) (date 2026-03-31)) "
        "(every (list monday friday)) (hours (time 09:30) (time 24:00)) (coupon \"SPRING10\") "
        "(coupon-from \"SPRING\") (exclusive \"g\") (stop) (cap (money \xC2\xA5 50)) (limit-uses (int 100)) "
        "(limit-money (money \xC2\xA5 1000)) (limit-customer (int 1)) (original) "
        "(then (percent-off (percent 15) tea)))");
    assert_decl("promotion p { every wednesday }", "(promotion p (every wednesday))");
    assert_decl("promotion p { priority 5 hours 10:00 to 14:00 }",
                "(promotion p (priority (int 5)) (hours (time 10:00) (time 14:00)))");
    assert_decl("promotion p {}", "(promotion p)");
}

static void test_actions(void **state)
{
    (void)state;
    static const struct {
        const char *action, *dump;
    } cases[] = {
        { "\xC2\xA5"
          "10 off order",
          "(amount-off (money \xC2\xA5 10) items)" },
        { "15% off items where \"clearance\" in tags",
          "(percent-off (percent 15) (where items (in \"clearance\" tags)))" },
        { "big off tea", "(amount-off big tea)" },
        { "\xC2\xA5"
          "5 off each tea",
          "(amount-off-each (money \xC2\xA5 5) tea)" },
        { "\xC2\xA5"
          "5 off shipping",
          "(shipping-off (money \xC2\xA5 5))" },
        { "50% off shipping", "(shipping-off (percent 50))" },
        { "free shipping", "(free-shipping)" },
        { "price tea at \xC2\xA5"
          "8",
          "(fixed-price (money \xC2\xA5 8) tea)" },
        { "price items where price > \xC2\xA5"
          "9 at \xC2\xA5"
          "8",
          "(fixed-price (money \xC2\xA5 8) (where items (> price (money \xC2\xA5 9))))" },
        { "price tea by quantity { 3: \xC2\xA5"
          "8, 5: \xC2\xA5"
          "7, }",
          "(qty-price tea (step (int 3) (money \xC2\xA5 8)) (step (int 5) (money \xC2\xA5 7)))" },
        { "tiers on order { \xC2\xA5"
          "100: \xC2\xA5"
          "10 off, \xC2\xA5"
          "200: 15% off }",
          "(tiers items (step (money \xC2\xA5 100) (money \xC2\xA5 10)) (step (money \xC2\xA5 200) (percent "
          "15)))" },
        { "every \xC2\xA5"
          "100 on order: \xC2\xA5"
          "10 off up to \xC2\xA5"
          "50",
          "(every (money \xC2\xA5 100) items (money \xC2\xA5 10) (money \xC2\xA5 50))" },
        { "every \xC2\xA5"
          "100 on order: \xC2\xA5"
          "10 off",
          "(every (money \xC2\xA5 100) items (money \xC2\xA5 10))" },
        { "buy 1 of tea get 1 at 50% off", "(buy-get (int 1) tea (int 1) _ (percent 50))" },
        { "buy 2 of tea get 1 free", "(buy-get (int 2) tea (int 1) _ _)" },
        { "buy 2 of tea get 1 of cups free", "(buy-get (int 2) tea (int 1) cups _)" },
        { "any 3 of snacks for \xC2\xA5"
          "99",
          "(n-for (int 3) snacks (money \xC2\xA5 99))" },
        { "gift \"SKU\"", "(gift \"SKU\" _)" },
        { "gift \"SKU\" \"\xE9\xBE\x99\xE4\xBA\x95\"", "(gift \"SKU\" \"\xE9\xBE\x99\xE4\xBA\x95\" _)" },
        { "gift 2 of \"SKU\" \"name\"", "(gift \"SKU\" \"name\" (int 2))" },
        { "effect \"vip_card\" \"payload\"", "(effect \"vip_card\" \"payload\")" },
        { "effect \"vip_card\"", "(effect \"vip_card\")" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char decl[512], want[512];
        snprintf(decl, sizeof decl, "promotion p { then %s }", cases[i].action);
        snprintf(want, sizeof want, "(promotion p (then %s))", cases[i].dump);
        assert_decl(decl, want);
    }
    /* node shapes the checker relies on */
    parsed *p = parse(HEADER "promotion p { then buy 2 of tea get 1 free then every \xC2\xA5"
                             "1 on order: \xC2\xA5"
                             "1 off }");
    ast_node *promo = p->root->list.items[1];
    ast_node *bg = promo->list.items[0]->a;
    assert_int_equal(bg->kind, AST_ACTION);
    assert_int_equal(bg->op, ACT_BUY_GET);
    assert_int_equal(bg->list.count, 2);
    assert_null(bg->list.items[0]);
    assert_null(bg->list.items[1]);
    ast_node *ev = promo->list.items[1]->a;
    assert_int_equal(ev->op, ACT_EVERY);
    assert_int_equal(ev->list.count, 0);
    parsed_free(p);
}

static void test_other_declarations(void **state)
{
    (void)state;
    /* parse_source leaves includes unresolved */
    source_set src;
    source_init(&src);
    diag_engine d;
    diag_init(&d, &src);
    ast_arena *arena = ast_arena_new();
    const char *text = "include \"catalogue.perk\"";
    ast_node *f = parse_source(&src, &d, arena, source_add_text(&src, "t.perk", text, strlen(text)));
    char *got = dump_of(f);
    assert_string_equal(got, "(file (include \"catalogue.perk\"))");
    assert_int_equal(d.count, 0);
    free(got);
    assert_null(parse_source(&src, &d, arena, 7));
    ast_arena_free(arena);
    diag_free(&d);
    source_free(&src);
    assert_decl("tier gold \"\xE9\x87\x91\xE5\x8D\xA1\" { spend \xC2\xA5"
                "5000 within 365 days benefit \"b\" }",
                "(tier gold \"\xE9\x87\x91\xE5\x8D\xA1\" (spend (money \xC2\xA5 5000) (duration 31536000s)) "
                "(benefit \"b\"))");
    assert_decl("earn e1 \"x\" { when customer.first_order cap 500 then 2 points per \xC2\xA5"
                "1 on items }",
                "(earn e1 \"x\" (when (field customer.first_order)) (earn-cap (int 500)) "
                "(then (earn-points (int 2) (money \xC2\xA5 1) items)))");
    assert_decl("earn base { then 1 point per \xC2\xA5"
                "1 on order }",
                "(earn base (then (earn-points (int 1) (money \xC2\xA5 1) items)))");
    assert_decl(
        "multiplier m { when customer.is_birthday then x2 on base, margin_bonus }",
        "(multiplier m (when (field customer.is_birthday)) (then (multiply (x 2) base margin_bonus)))");
    assert_decl("multiplier m { then \xC3\x97"
                "1.5 on all }",
                "(multiplier m (then (multiply (x 1.5))))");
    assert_decl(
        "redeem { rate 100 points = \xC2\xA5"
        "1 pays for shipping, goods max 50% min balance 500 "
        "when order.subtotal > \xC2\xA5"
        "10 }",
        "(redeem (rate (int 100) (money \xC2\xA5 1)) (pays-for shipping goods) (max-share (percent 50)) "
        "(min-balance (int 500)) (when (> (field order.subtotal) (money \xC2\xA5 10))))");
    assert_decl("points { pending 7 days expire after 365 days }",
                "(points (pending (duration 604800s)) (expire (duration 31536000s)))");
}

static void test_spec_example(void **state)
{
    (void)state;
    /* the example file of docs/language.md, without its include */
    const char *text =
        "# Spring tea festival.\n"
        "ruleset \"\xE6\x98\xA5\xE8\x8C\xB6\xE8\x8A\x82 Spring tea\" {\n"
        "  currency CNY\n  timezone \"Asia/Shanghai\"\n  rounding half_up\n  max discount 60%\n"
        "  coupons one per order\n}\n"
        "let tea        = items where category in \"tea\"\n"
        "let high_margin = items where margin >= 40%\n"
        "let gold_plus  = customer.tier >= gold\n"
        "let gift_bar   = \xC2\xA5"
        "300\n"
        "tier silver \"s\" { spend \xC2\xA5"
        "1000 within 365 days  benefit \"b\" }\n"
        "tier gold   \"g\" { spend \xC2\xA5"
        "5000 within 365 days  benefit \"b\" }\n"
        "promotion clearance \"c\" {\n  priority 10\n  valid 2026-03-01 to 2026-03-31\n  exclusive "
        "\"seasonal\"\n"
        "  then 30% off items where \"clearance\" in tags\n}\n"
        "promotion member_day \"m\" {\n  priority 20\n  every wednesday\n  when gold_plus\n  then 10% off "
        "order\n}\n"
        "promotion tea_gift \"t\" {\n  priority 30\n  when sum(tea) >= gift_bar\n  then gift \"TEA-SAMPLE\" "
        "\"x\"\n}\n"
        "earn base \"b\" {\n  then 1 point per \xC2\xA5"
        "1 on items\n}\n"
        "earn margin_bonus \"m\" {\n  then 2 points per \xC2\xA5"
        "1 on high_margin\n  cap 500\n}\n"
        "multiplier birthday \"b\" {\n  when customer.is_birthday\n  then x2 on base, margin_bonus\n}\n"
        "redeem {\n  rate 100 points = \xC2\xA5"
        "1\n  pays for shipping\n  max 100%\n  min balance 500\n}\n"
        "points {\n  pending 7 days\n  expire after 365 days\n}\n";
    parsed *p = parse(text);
    if (p->diags.count) print_diags(p);
    assert_int_equal(p->diags.count, 0);
    assert_int_equal(p->root->list.count, 15);
    ast_kind kinds[] = { AST_RULESET, AST_LET,  AST_LET,        AST_LET,       AST_LET,
                         AST_TIER,    AST_TIER, AST_PROMOTION,  AST_PROMOTION, AST_PROMOTION,
                         AST_EARN,    AST_EARN, AST_MULTIPLIER, AST_REDEEM,    AST_POINTS };
    for (int i = 0; i < 15; i++) assert_int_equal(p->root->list.items[i]->kind, kinds[i]);
    parsed_free(p);
}

static void test_spans_of_nodes(void **state)
{
    (void)state;
    parsed *p =
        parse(HEADER "promotion p \"\xE4\xBC\x9A\xE5\x91\x98\xE6\x97\xA5\" { when sum(tea) >= \xC2\xA5"
                     "300 }");
    ast_node *promo = p->root->list.items[1];
    assert_int_equal(promo->span.first_line, 2);
    assert_int_equal(promo->span.first_column, 1);
    assert_int_equal(promo->span.last_column, 43);
    ast_node *when = promo->list.items[0];
    /* `promotion p "会员日" { ` is 20 code points: `when` starts at column 21 */
    assert_int_equal(when->span.first_column, 21);
    ast_node *cmp = when->a;
    assert_int_equal(cmp->kind, AST_BINARY);
    assert_int_equal(cmp->span.first_column, 26);
    assert_int_equal(cmp->span.last_column, 41);
    assert_int_equal(cmp->b->span.first_column, 38);
    assert_string_equal(p->sources.files[0].text + cmp->b->span.first_offset, "\xC2\xA5"
                                                                              "300 }");
    parsed_free(p);
}

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                     */

static void test_syntax_error_messages(void **state)
{
    (void)state;
    parsed *p = parse(HEADER "promotion p { when sum(tea) >= then 10% off order }");
    assert_int_equal(p->diags.count, 1);
    assert_int_equal(p->diags.entries[0].code, DIAG_SYNTAX_ERROR);
    assert_string_equal(p->diags.entries[0].message, "expected a value after '>=', found 'then'");
    assert_int_equal(p->diags.entries[0].span.first_line, 2);
    assert_int_equal(p->diags.entries[0].span.first_column, 32);
    parsed_free(p);

    p = parse(HEADER "promotion p { then 10% order }");
    assert_int_equal(p->diags.count, 1);
    assert_non_null(strstr(p->diags.entries[0].message, "'off'"));
    assert_non_null(strstr(p->diags.entries[0].hint, "AMOUNT off TARGET"));
    parsed_free(p);

    p = parse(HEADER "let order = 5");
    assert_int_equal(p->diags.count, 1);
    assert_int_equal(p->diags.entries[0].code, DIAG_RESERVED_WORD);
    parsed_free(p);

    p = parse(HEADER "promotoin p { }");
    assert_int_equal(p->diags.count, 1);
    assert_string_equal(p->diags.entries[0].hint, "did you mean 'promotion'?");
    parsed_free(p);

    p = parse(HEADER "promotion p { wen x }");
    assert_int_equal(p->diags.count, 1);
    assert_string_equal(p->diags.entries[0].message, "expected a clause or '}', found 'wen'");
    assert_string_equal(p->diags.entries[0].hint, "did you mean 'when'?");
    parsed_free(p);

    p = parse(HEADER "promotion p { every \xC2\xA5"
                     "100 on order: \xC2\xA5"
                     "10 off }");
    assert_int_equal(p->diags.count, 1);
    assert_string_equal(p->diags.entries[0].message, "expected a weekday after 'every', found '\xC2\xA5"
                                                     "100'");
    assert_non_null(strstr(p->diags.entries[0].hint, "after `then`"));
    parsed_free(p);

    p = parse("ruleset spring { currency CNY }");
    assert_int_equal(p->diags.count, 1);
    assert_string_equal(p->diags.entries[0].message, "expected a string after 'ruleset', found 'spring'");
    assert_string_equal(p->diags.entries[0].hint, "text is written in double quotes: \"spring\"");
    parsed_free(p);

    p = parse(HEADER "promotion p { then gift }");
    assert_int_equal(p->diags.count, 1);
    assert_string_equal(p->diags.entries[0].message, "expected a value after 'gift', found '}'");
    parsed_free(p);
}

static void test_error_recovery_reports_every_error(void **state)
{
    (void)state;
    const char *text = HEADER "promotion a {\n"
                              "  when sum(tea) >=\n" /* 3: value missing */
                              "  then 10% off order\n"
                              "  priority 1 2\n" /* 5: stray number */
                              "}\n"
                              "let order = 5\n"                       /* 7: reserved word */
                              "promotion \"x\" { then gift \"A\" }\n" /* 8: missing name */
                              "promotoin b { }\n"                     /* 9: misspelt keyword */
                              "earn e { then 1 point on items }\n"    /* 10: missing `per ...` */
                              "promotion c {\n"
                              "  then \xC2\xA5"
                              "5 off each tea\n"
                              "\n" /* 13: missing '}' */
                              "promotion d { then free shipping }\n";
    parsed *p = parse(text);
    int lines[] = { 4, 5, 7, 8, 9, 10, 14 };
    if (p->diags.count != 7) print_diags(p);
    assert_int_equal(p->diags.count, 7);
    for (int i = 0; i < 7; i++) assert_int_equal(p->diags.entries[i].span.first_line, lines[i]);
    assert_int_equal(p->diags.entries[6].code, DIAG_UNCLOSED_BLOCK);
    assert_int_equal(p->diags.entries[6].n_notes, 1);
    assert_int_equal(p->diags.entries[6].notes[0].span.first_line, 11);
    /* what could be parsed is kept: header, a, e, c, d */
    char *got = dump_of(p->root);
    assert_string_equal(
        got,
        "(file (ruleset \"t\" (currency CNY)) (promotion a (then (percent-off (percent 10) items))) (earn e) "
        "(promotion c (then (amount-off-each (money \xC2\xA5 5) tea))) "
        "(promotion d (then (free-shipping))))");
    free(got);
    parsed_free(p);
}

static void test_keyword_as_promotion_name(void **state)
{
    (void)state;
    assert_decl("promotion gift \"g\" { stop }", "(promotion gift \"g\" (stop))");
    assert_decl("promotion free { stop }", "(promotion free (stop))");
    assert_decl("promotion monday { stop }", "(promotion monday (stop))");
    /* but not where the name could be used in an expression */
    parsed *p = parse(HEADER "tier free { }");
    assert_int_equal(p->diags.count, 1);
    assert_int_equal(p->diags.entries[0].code, DIAG_RESERVED_WORD);
    parsed_free(p);
}

static void test_syntax_error_marks(void **state)
{
    (void)state;
    /* blocks that lost something to a syntax error say so, for the checker */
    parsed *p = parse(HEADER "promotion a { then 10% order }\npromotion b { then free shipping }\n"
                             "promotion c { then price tea by quantity { 3: , 5: \xC2\xA5"
                             "7 } when x }");
    assert_true(p->root->syntax_error);
    assert_int_equal(p->root->list.count, 4);
    assert_true(p->root->list.items[1]->syntax_error);
    assert_false(p->root->list.items[2]->syntax_error);
    assert_true(p->root->list.items[3]->syntax_error);
    assert_false(p->root->list.items[0]->syntax_error);
    parsed_free(p);
    p = parse(HEADER "let x = \"a\\q\"");
    assert_int_equal(p->diags.count, 1);
    assert_false(p->root->syntax_error); /* a lexical error loses nothing */
    parsed_free(p);
}

static void test_brace_recovery(void **state)
{
    (void)state;
    /* a '}' with no open block is reported and ignored */
    parsed *p = parse(HEADER "promotion a { stop } }\npromotion b { stop }");
    assert_int_equal(p->diags.count, 1);
    assert_int_equal(p->diags.entries[0].code, DIAG_UNMATCHED_CLOSE);
    assert_int_equal(p->root->list.count, 3);
    parsed_free(p);

    /* end of file inside a block and inside a table */
    p = parse(HEADER "promotion a { then tiers on order { \xC2\xA5"
                     "1: \xC2\xA5"
                     "1 off");
    assert_int_equal(p->diags.count, 1);
    assert_int_equal(p->diags.entries[0].code, DIAG_UNCLOSED_BLOCK);
    assert_string_equal(p->diags.entries[0].message, "missing '}' at the end of the file");
    assert_int_equal(p->root->list.count, 2);
    parsed_free(p);

    /* `points` inside a block is a unit, not the points block */
    p = parse(HEADER "earn e { then 1 points per \xC2\xA5"
                     "1 on items }\npoints { pending 1 day }");
    assert_int_equal(p->diags.count, 0);
    parsed_free(p);

    /* an error in a table row resumes at the next row */
    p = parse(HEADER "promotion a { then price tea by quantity { 3: , 5: \xC2\xA5"
                     "7 } }\npromotion b { stop }");
    assert_int_equal(p->diags.count, 1);
    assert_int_equal(p->root->list.count, 3);
    parsed_free(p);
}

static void test_lexical_errors_keep_parsing(void **state)
{
    (void)state;
    parsed *p = parse(HEADER "promotion a { valid 2026-02-30 to 2026-03-31 then gift \"A\\q\" }\n"
                             "promotion b \xEF\xBD\x9B stop \xEF\xBD\x9D");
    assert_int_equal(p->diags.count, 4);
    assert_int_equal(p->diags.entries[0].code, DIAG_INVALID_DATE);
    assert_int_equal(p->diags.entries[1].code, DIAG_BAD_ESCAPE);
    assert_int_equal(p->diags.entries[2].code, DIAG_FULL_WIDTH_PUNCTUATION);
    assert_int_equal(p->root->list.count, 3); /* both promotions still parse */
    parsed_free(p);
}

/* ------------------------------------------------------------------------------------------ */
/* Hostile inputs                                                                             */

static void test_binary_file(void **state)
{
    (void)state;
    static const char bytes[] = "\x7f"
                                "ELF\x02\x01\x01\x00\x00\x00\xff\xfe garbage";
    parsed *p = parse_len(bytes, sizeof bytes - 1, 0);
    assert_int_equal(p->diags.count, 1);
    assert_int_equal(p->diags.entries[0].code, DIAG_BINARY_FILE);
    assert_int_equal(p->diags.entries[0].span.first_column, 8);
    assert_int_equal(p->root->list.count, 0);
    parsed_free(p);

    static const char utf16[] = "\xff\xfer\x00u\x00";
    p = parse_len(utf16, sizeof utf16 - 1, 0);
    assert_int_equal(p->diags.count, 1);
    assert_non_null(strstr(p->diags.entries[0].hint, "UTF-16"));
    parsed_free(p);
}

static void test_random_garbage(void **state)
{
    (void)state;
    /* 64 KB of pseudo-random bytes without NUL: a bounded number of diagnostics, no crash */
    size_t n = 64 * 1024;
    char *buf = malloc(n);
    assert_non_null(buf);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (char)((x >> 16) & 0xFF);
        if (buf[i] == 0) buf[i] = 1;
    }
    parsed *p = parse_len(buf, n, 0);
    assert_true(p->diags.count >= 1);
    assert_true(p->diags.count <= 26 + 1);
    assert_int_equal(p->diags.entries[p->diags.count - 1].code, DIAG_TOO_MANY_ERRORS);
    char *t = diag_text(&p->diags); /* rendering garbage lines must be safe too */
    assert_non_null(t);
    free(t);
    parsed_free(p);
    free(buf);
}

static void test_invalid_utf8_file(void **state)
{
    (void)state;
    /* GBK-encoded "会员日" in a string and outside */
    parsed *p =
        parse(HEADER "promotion p \"\xBB\xE1\xD4\xB1\xC8\xD5\" { stop }\n\xBB\xE1 promotion q { stop }");
    assert_int_equal(p->diags.count, 2);
    assert_int_equal(p->diags.entries[0].code, DIAG_INVALID_UTF8);
    assert_int_equal(p->diags.entries[1].code, DIAG_INVALID_UTF8);
    assert_non_null(strstr(p->diags.entries[0].hint, "GBK"));
    assert_int_equal(p->root->list.count, 3);
    parsed_free(p);
}

static void test_unterminated_string(void **state)
{
    (void)state;
    parsed *p = parse(HEADER "promotion p \"oops {\n  stop\n}\n");
    assert_true(p->diags.count >= 1);
    assert_int_equal(p->diags.entries[0].code, DIAG_UNTERMINATED_STRING);
    assert_int_equal(p->diags.entries[0].span.first_line, 2);
    assert_int_equal(p->diags.entries[0].span.first_column, 13);
    parsed_free(p);
}

static char *repeat(const char *head, const char *unit, int times, const char *mid, const char *tail)
{
    size_t n = strlen(head) + strlen(unit) * (size_t)times + strlen(mid) + strlen(tail) * (size_t)times + 1;
    char *s = malloc(n);
    assert_non_null(s);
    char *q = s;
    q += sprintf(q, "%s", head);
    for (int i = 0; i < times; i++) q += sprintf(q, "%s", unit);
    q += sprintf(q, "%s", mid);
    for (int i = 0; i < times; i++) q += sprintf(q, "%s", tail);
    return s;
}

static int tree_height(const ast_node *n)
{
    if (!n) return 0;
    int h = 0;
    int x = tree_height(n->a);
    if (x > h) h = x;
    x = tree_height(n->b);
    if (x > h) h = x;
    x = tree_height(n->c);
    if (x > h) h = x;
    for (int i = 0; i < n->list.count; i++) {
        x = tree_height(n->list.items[i]);
        if (x > h) h = x;
    }
    return h + 1;
}

static void assert_too_deep(const char *text)
{
    parsed *p = parse(text);
    int found = 0;
    for (int i = 0; i < p->diags.count; i++)
        if (p->diags.entries[i].code == DIAG_NESTING_TOO_DEEP) found++;
    if (found != 1) print_diags(p);
    assert_int_equal(found, 1);
    assert_true(p->diags.count <= 2);
    /* whatever was built stays within the limit, so later passes may recurse */
    assert_true(tree_height(p->root) <= PARSE_MAX_DEPTH + 4);
    parsed_free(p);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    char *s = repeat(HEADER "let x = ", "(", 10000, "1", ")");
    assert_too_deep(s);
    free(s);
    s = repeat(HEADER "let x = ", "not ", 10000, "true", "");
    assert_too_deep(s);
    free(s);
    s = repeat(HEADER "let x = ", "[", 10000, "1", "]");
    assert_too_deep(s);
    free(s);
    s = repeat(HEADER "let x = ", "f(1, ", 10000, "1", ")");
    assert_too_deep(s);
    free(s);
    s = repeat(HEADER "let x = ", "- ", 300, "1", "");
    assert_too_deep(s);
    free(s);
    /* a long flat chain makes a deep left-leaning tree just the same */
    s = repeat(HEADER "let x = 1", " + 1", 100000, "", "");
    assert_too_deep(s);
    free(s);
    /* within the limit is fine */
    s = repeat(HEADER "let x = ", "(", 200, "1", ")");
    parsed *p = parse(s);
    assert_int_equal(p->diags.count, 0);
    parsed_free(p);
    free(s);
    s = repeat(HEADER "let x = 1", " + 1", 200, "", "");
    p = parse(s);
    assert_int_equal(p->diags.count, 0);
    parsed_free(p);
    free(s);
    /* long lists are flat, not deep */
    s = repeat(HEADER "let x = [0", ", 1", 100000, "]", "");
    p = parse(s);
    assert_int_equal(p->diags.count, 0);
    assert_int_equal(p->root->list.items[1]->a->list.count, 100001);
    parsed_free(p);
    free(s);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_large_inputs(void **state)
{
    (void)state;
    size_t n = 50u * 1024u * 1024u;
    char *buf = malloc(n + 1);
    assert_non_null(buf);
    /* over the default limit: refused at once, at 1:1 */
    memset(buf, ' ', n);
    buf[n] = '\0';
    parsed *p = parse_len(buf, n, 0);
    assert_int_equal(p->diags.count, 1);
    assert_int_equal(p->diags.entries[0].code, DIAG_FILE_TOO_LARGE);
    assert_int_equal(p->diags.entries[0].span.first_line, 1);
    assert_int_equal(p->diags.entries[0].span.first_column, 1);
    assert_string_equal(p->diags.entries[0].message,
                        "'t.perk' is too large (52428800 bytes; the limit is 8388608 bytes)");
    parsed_free(p);

    /* with the limit raised, 50 MB of rules and comments parse in linear time */
    const char *unit = "promotion p \"\xE4\xBC\x9A\xE5\x91\x98\" { when sum(items) >= \xC2\xA5"
                       "300 then 10% off order }\n";
    const char *comment = "# \xE6\xB3\xA8\xE9\x87\x8A a comment line that is long enough to take some room\n";
    size_t k = (size_t)sprintf(buf, "%s", HEADER);
    int promos = 0;
    while (k + 200 < n) {
        const char *u = (promos < 20000 && k % 3 == 0) ? unit : comment;
        if (u == unit) promos++;
        size_t l = strlen(u);
        memcpy(buf + k, u, l);
        k += l;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    p = parse_len(buf, k, n + 1);
    double secs = seconds_since(&t0);
    assert_int_equal(p->diags.count, 0);
    assert_int_equal(p->root->list.count, promos + 1);
    assert_true(promos > 1000);
    assert_true(secs < 60.0); /* about a second in a plain build */
    parsed_free(p);

    /* one 50 MB line of garbage: one diagnostic for the run */
    memset(buf, '@', n);
    p = parse_len(buf, n, n + 1);
    assert_int_equal(p->diags.count, 1);
    assert_int_equal(p->diags.entries[0].code, DIAG_UNEXPECTED_CHARACTER);
    char *t = diag_text(&p->diags); /* the snippet shows a window, not 50 MB */
    assert_true(strlen(t) < 2000);
    free(t);
    parsed_free(p);
    free(buf);
}

/* ------------------------------------------------------------------------------------------ */
/* Includes                                                                                   */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static parsed *parse_path(const char *path)
{
    parsed *p = calloc(1, sizeof *p);
    assert_non_null(p);
    source_init(&p->sources);
    diag_init(&p->diags, &p->sources);
    p->arena = ast_arena_new();
    p->root = parse_program(&p->sources, &p->diags, p->arena, path);
    diag_sort(&p->diags);
    return p;
}

static void test_includes(void **state)
{
    (void)state;
    char dir[] = "/tmp/perk-test-include-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[600];
    snprintf(sub, sizeof sub, "%s/lib", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(dir, "main.perk",
               HEADER "let a = 1\ninclude \"lib/cat.perk\"\nlet z = 26\ninclude \"lib/cat.perk\"\n");
    write_file(dir, "lib/cat.perk", "let b = 2\ninclude \"more.perk\"\n");
    write_file(dir, "lib/more.perk", "let c = 3\n");
    char path[600];
    snprintf(path, sizeof path, "%s/main.perk", dir);
    parsed *p = parse_path(path);
    if (p->diags.count) print_diags(p);
    assert_int_equal(p->diags.count, 0);
    char *got = dump_of(p->root);
    /* spliced in place, relative to the including file, and each file once */
    assert_string_equal(got, "(file (ruleset \"t\" (currency CNY)) (let a (int 1)) (let b (int 2)) (let c "
                             "(int 3)) (let z (int 26)))");
    free(got);
    assert_int_equal(p->sources.count, 3);
    assert_int_equal(p->root->list.items[2]->span.file, 1); /* spans keep their own file */
    parsed_free(p);

    /* a cycle, a missing file */
    write_file(dir, "a.perk", HEADER "include \"b.perk\"\ninclude \"missing.perk\"\n");
    write_file(dir, "b.perk", "let b = 1\ninclude \"a.perk\"\n");
    snprintf(path, sizeof path, "%s/a.perk", dir);
    p = parse_path(path);
    assert_int_equal(p->diags.count, 2);
    assert_int_equal(p->diags.entries[0].code, DIAG_INCLUDE_NOT_FOUND);
    assert_int_equal(p->diags.entries[0].span.first_line, 3);
    assert_int_equal(p->diags.entries[1].code, DIAG_INCLUDE_CYCLE);
    assert_int_equal(p->diags.entries[1].span.file, 1);
    parsed_free(p);

    /* 20 files each including the next: stops at depth 16 */
    for (int i = 0; i < 20; i++) {
        char name[32], text[64];
        snprintf(name, sizeof name, "d%d.perk", i);
        snprintf(text, sizeof text, "let v%d = %d\ninclude \"d%d.perk\"\n", i, i, i + 1);
        write_file(dir, name, text);
    }
    snprintf(path, sizeof path, "%s/d0.perk", dir);
    p = parse_path(path);
    assert_int_equal(p->diags.count, 1);
    assert_int_equal(p->diags.entries[0].code, DIAG_INCLUDE_TOO_DEEP);
    assert_int_equal(p->root->list.count, 16);
    parsed_free(p);

    /* the main file is missing */
    snprintf(path, sizeof path, "%s/nope.perk", dir);
    p = parse_path(path);
    assert_null(p->root);
    assert_int_equal(p->diags.count, 1);
    assert_int_equal(p->diags.entries[0].code, DIAG_FILE_NOT_FOUND);
    char *t = diag_text(&p->diags);
    assert_non_null(strstr(t, "error: cannot open"));
    free(t);
    parsed_free(p);

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Parses `main` with `files` as the only files `include` may read (source_set.memory_only, the
 * console's drafts). */
static parsed *parse_memory(const char *main, const source_memory_file *files, int n)
{
    parsed *p = calloc(1, sizeof *p);
    assert_non_null(p);
    source_init(&p->sources);
    p->sources.memory_only = true;
    p->sources.memory_files = files;
    p->sources.n_memory_files = n;
    diag_init(&p->diags, &p->sources);
    p->arena = ast_arena_new();
    p->root = parse_text(&p->sources, &p->diags, p->arena, "main.perk", main, strlen(main));
    diag_sort(&p->diags);
    return p;
}

#define MF(path, text) { path, text, sizeof text - 1 }

static void test_memory_includes(void **state)
{
    (void)state;
    /* relative to the including file, "." and ".." resolved, each file once; a file of the same
     * name on disk (the working directory holds rules/) is never read */
    static const source_memory_file files[] = {
        MF("lib/cat.perk", "let b = 2\ninclude \"./more.perk\"\ninclude \"../top.perk\"\n"),
        MF("lib/more.perk", "let c = 3\n"),
        MF("top.perk", "let d = 4\ninclude \"lib/more.perk\"\n"),
        MF("rules/tea_shop.perk", "let e = 5\n"),
    };
    parsed *p = parse_memory(HEADER "let a = 1\ninclude \"lib/cat.perk\"\ninclude \"lib//more.perk\"\n"
                                    "include \"rules/tea_shop.perk\"\n",
                             files, 4);
    if (p->diags.count) print_diags(p);
    assert_int_equal(p->diags.count, 0);
    char *got = dump_of(p->root);
    assert_string_equal(got, "(file (ruleset \"t\" (currency CNY)) (let a (int 1)) (let b (int 2)) (let c (int 3)) "
                             "(let d (int 4)) (let e (int 5)))");
    free(got);
    assert_int_equal(p->sources.count, 5);
    assert_string_equal(p->sources.files[2].path, "lib/more.perk");
    assert_string_equal(p->sources.files[3].path, "top.perk");
    parsed_free(p);

    /* leaving the draft's folder, an absolute path, a file the draft does not have */
    p = parse_memory(HEADER "include \"../x.perk\"\ninclude \"/etc/passwd\"\ninclude \"lib/none.perk\"\n"
                            "include \"lib/../../rules/tea_shop.perk\"\n",
                     files, 4);
    assert_int_equal(p->diags.count, 4);
    assert_int_equal(p->diags.entries[0].code, DIAG_INCLUDE_REFUSED);
    assert_int_equal(p->diags.entries[1].code, DIAG_INCLUDE_REFUSED);
    assert_int_equal(p->diags.entries[2].code, DIAG_INCLUDE_NOT_FOUND);
    assert_int_equal(p->diags.entries[2].span.first_line, 4);
    assert_int_equal(p->diags.entries[3].code, DIAG_INCLUDE_REFUSED);
    char *t = diag_text(&p->diags);
    assert_non_null(strstr(t, "cannot include '../x.perk': it is outside the draft's folder"));
    assert_non_null(strstr(t, "cannot include 'lib/none.perk': the draft has no file 'lib/none.perk'"));
    assert_null(strstr(t, "root:")); /* nothing of /etc/passwd */
    free(t);
    parsed_free(p);

    /* cycles through the files: back to a.perk, and back to the main file by its name */
    static const source_memory_file cyc[] = {
        MF("a.perk", "let a = 1\ninclude \"b.perk\"\n"),
        MF("b.perk", "let b = 2\ninclude \"a.perk\"\ninclude \"main.perk\"\n"),
    };
    p = parse_memory(HEADER "include \"a.perk\"\n", cyc, 2);
    assert_int_equal(p->diags.count, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(p->diags.entries[i].code, DIAG_INCLUDE_CYCLE);
        assert_int_equal(p->diags.entries[i].span.file, 2); /* in b.perk */
    }
    parsed_free(p);

    /* no memory files at all: every include is not found, nothing read from disk */
    p = parse_memory(HEADER "include \"rules/tea_shop.perk\"\n", NULL, 0);
    assert_int_equal(p->diags.count, 1);
    assert_int_equal(p->diags.entries[0].code, DIAG_INCLUDE_NOT_FOUND);
    parsed_free(p);
}

/* ------------------------------------------------------------------------------------------ */
/* Rendering                                                                                  */

static void test_render_text(void **state)
{
    (void)state;
    parsed *p = parse(
        HEADER
        "promotion p \"\xE4\xBC\x9A\xE5\x91\x98\xE6\x97\xA5\" {\n\twhen sum(tea) >= then gift \"A\"\n}\n");
    char *t = diag_text(&p->diags);
    /* the tab shows as 4 spaces; the caret sits under `then` */
    assert_string_equal(t, "t.perk:3:19: error: expected a value after '>=', found 'then' [syntax-error]\n"
                           "    3 |     when sum(tea) >= then gift \"A\"\n"
                           "      |                      ^~~~\n");
    free(t);
    parsed_free(p);

    /* wide characters take two columns in the caret line */
    p = parse(HEADER "promotion p \"\xE4\xBC\x9A\xE5\x91\x98\xE6\x97\xA5\" { when @ }\n");
    t = diag_text(&p->diags);
    assert_string_equal(t, "t.perk:2:26: error: unexpected character '@' [unexpected-character]\n"
                           "    2 | promotion p \"\xE4\xBC\x9A\xE5\x91\x98\xE6\x97\xA5\" { when @ }\n"
                           "      |                             ^\n"
                           "t.perk:2:28: error: expected a value after 'when', found '}' [syntax-error]\n"
                           "    2 | promotion p \"\xE4\xBC\x9A\xE5\x91\x98\xE6\x97\xA5\" { when @ }\n"
                           "      |                               ^\n");
    free(t);
    parsed_free(p);

    /* a hint and a note with its own snippet */
    p = parse(HEADER "promotion p {\n  stop\npromotion q { stop }\n");
    t = diag_text(&p->diags);
    assert_string_equal(t, "t.perk:4:1: error: missing '}' before 'promotion' [unclosed-block]\n"
                           "    4 | promotion q { stop }\n"
                           "      | ^~~~~~~~~\n"
                           "hint: add '}' to close the block opened on line 2\n"
                           "fix: insert '}\\n' at 4:1\n"
                           "t.perk:2:13: note: this '{' is not closed\n"
                           "    2 | promotion p {\n"
                           "      |             ^\n");
    free(t);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    diag_print_summary(&p->diags, f);
    fclose(f);
    assert_string_equal(buf, "1 error generated.\n");
    free(buf);
    parsed_free(p);
}

static void test_render_json(void **state)
{
    (void)state;
    parsed *p = parse(HEADER "let x = \"a\\qb\"\n");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    diag_print_json(&p->diags, f);
    fclose(f);
    assert_string_equal(
        buf, "[\n  {\"file\": \"t.perk\", \"line\": 2, \"column\": 11, \"end_line\": 2, \"end_column\": 12, "
             "\"severity\": \"error\", \"code\": \"bad-escape\", \"message\": \"unknown escape '\\\\q'\", "
             "\"hint\": \"the escapes are \\\\\\\" \\\\\\\\ \\\\n \\\\t and \\\\u{4F1A}; write \\\\\\\\ for "
             "a backslash\", "
             "\"notes\": [], \"fixes\": []}\n]\n");
    free(buf);
    parsed_free(p);

    /* no diagnostics: an empty array */
    p = parse(HEADER);
    buf = NULL;
    f = open_memstream(&buf, &len);
    diag_print_json(&p->diags, f);
    fclose(f);
    assert_string_equal(buf, "[]\n");
    free(buf);
    parsed_free(p);
}

static void test_diag_engine(void **state)
{
    (void)state;
    source_set s;
    source_init(&s);
    diag_engine d;
    diag_init(&d, &s);
    d.max_errors = 3;
    ast_span sp = { 0 };
    for (int i = 0; i < 5; i++) diag_report(&d, DIAG_SYNTAX_ERROR, sp, NULL, "e%d", i);
    diag_note(&d, sp, "dropped with its error");
    assert_int_equal(d.count, 3);
    assert_int_equal(d.errors, 5);
    assert_int_equal(d.dropped, 2);
    assert_int_equal(d.entries[2].n_notes, 0);
    assert_string_equal(diag_code_id(DIAG_INVALID_UTF8), "invalid-utf8");
    assert_int_equal(diag_code_severity(DIAG_SYNTAX_ERROR), DIAG_ERROR);
    char *t = diag_text(&d);
    assert_non_null(strstr(t, "note: 2 more diagnostics not shown (the limit is 3 errors)\n"));
    free(t);
    diag_free(&d);

    /* a span over two lines underlines the rest of the first; warnings count apart */
    const char *text = "promotion p {\n  when x\n}\n";
    int file = source_add_text(&s, "m.perk", text, strlen(text));
    diag_init(&d, &s);
    ast_span multi = { file, 1, 11, 2, 8, 10, 22 };
    diag_report(&d, DIAG_SYNTAX_ERROR, multi, NULL, "two lines");
    diag_report(&d, DIAG_UNUSED_LET, multi, NULL, "a warning");
    t = diag_text(&d);
    assert_string_equal(t, "m.perk:1:11: error: two lines [syntax-error]\n"
                           "    1 | promotion p {\n"
                           "      |           ^~~\n"
                           "m.perk:1:11: warning: a warning [unused-let]\n"
                           "    1 | promotion p {\n"
                           "      |           ^~~\n");
    free(t);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    diag_print_summary(&d, f);
    diag_print_text(&d, f, true); /* colour only when asked: escape codes appear */
    fclose(f);
    assert_non_null(strstr(buf, "1 error, 1 warning generated.\n"));
    assert_non_null(strstr(buf, "\033[1;31merror:"));
    assert_non_null(strstr(buf, "\033[1;35mwarning:"));
    free(buf);
    diag_free(&d);

    /* -Werror: warnings become errors */
    diag_init(&d, &s);
    d.werror = true;
    diag_report(&d, DIAG_UNUSED_LET, multi, NULL, "a warning");
    assert_int_equal(d.errors, 1);
    assert_int_equal(d.warnings, 0);
    assert_int_equal(d.entries[0].severity, DIAG_ERROR);
    diag_free(&d);
    source_free(&s);
}

/* ------------------------------------------------------------------------------------------ */
/* Golden files                                                                               */

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, m);
    fclose(f);
    fclose(m);
    return buf;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each tests/diagnostics/parse-*.perk renders (front end only) to its .expected text. Run from
 * the repository root (as tests/run.sh does); skipped elsewhere. */
static void test_golden_files(void **state)
{
    (void)state;
    DIR *dir = opendir("tests/diagnostics");
    if (!dir) {
        skip();
        return;
    }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && n < 256) {
        size_t l = strlen(e->d_name);
        if (strncmp(e->d_name, "parse-", 6) == 0 && l > 5 && strcmp(e->d_name + l - 5, ".perk") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(dir);
    qsort(names, (size_t)n, sizeof names[0], compare_names);
    int failures = 0;
    for (int i = 0; i < n; i++) {
        char path[512], exp_path[512];
        snprintf(path, sizeof path, "tests/diagnostics/%s", names[i]);
        snprintf(exp_path, sizeof exp_path, "tests/diagnostics/%.*s.expected", (int)strlen(names[i]) - 5,
                 names[i]);
        parsed *p = parse_path(path);
        char *got = diag_text(&p->diags);
        char *want = read_all(exp_path);
        if (!want || strcmp(got, want) != 0) {
            fprintf(stderr, "golden mismatch: %s\n--- got\n%s--- want\n%s", path, got,
                    want ? want : "(missing)\n");
            failures++;
        }
        if (p->diags.count == 0) {
            fprintf(stderr, "golden file without a diagnostic: %s\n", path);
            failures++;
        }
        free(got);
        free(want);
        parsed_free(p);
        free(names[i]);
    }
    assert_true(n >= 20);
    assert_int_equal(failures, 0);
}

static void mark_kinds(const ast_node *n, bool *clauses, bool *actions, bool *settings)
{
    if (!n) return;
    if (n->kind == AST_CLAUSE && n->op >= 0 && n->op < 64) clauses[n->op] = true;
    if (n->kind == AST_ACTION && n->op >= 0 && n->op < 64) actions[n->op] = true;
    if (n->kind == AST_SETTING && n->op >= 0 && n->op < 64) settings[n->op] = true;
    mark_kinds(n->a, clauses, actions, settings);
    mark_kinds(n->b, clauses, actions, settings);
    mark_kinds(n->c, clauses, actions, settings);
    for (int i = 0; i < n->list.count; i++) mark_kinds(n->list.items[i], clauses, actions, settings);
}

/* Every ```perk block of docs/language.md parses without a diagnostic, and together they show
 * every clause, action and setting of the language. */
static void test_docs_examples(void **state)
{
    (void)state;
    char *doc = read_all("docs/language.md");
    if (!doc) {
        skip();
        return;
    }
    bool clauses[64] = { false }, actions[64] = { false }, settings[64] = { false };
    int blocks = 0;
    const char *p = doc;
    while ((p = strstr(p, "```perk\n")) != NULL) {
        p += 8;
        const char *end = strstr(p, "```");
        assert_non_null(end);
        parsed *r = parse_len(p, (size_t)(end - p), 0);
        if (r->diags.count) {
            fprintf(stderr, "docs example %d:\n%.*s", blocks + 1, (int)(end - p), p);
            print_diags(r);
        }
        assert_int_equal(r->diags.count, 0);
        assert_true(r->root->list.count >= 1);
        assert_int_equal(r->root->list.items[0]->kind, AST_RULESET);
        mark_kinds(r->root, clauses, actions, settings);
        parsed_free(r);
        blocks++;
        p = end + 3;
    }
    assert_true(blocks >= 20);
    for (int k = CL_PRIORITY; k <= CL_TIER_BENEFIT; k++) {
        if (!clauses[k]) fprintf(stderr, "docs lack an example of clause %s\n", ast_clause_name(k));
        assert_true(clauses[k]);
    }
    for (int k = ACT_PERCENT_OFF; k <= ACT_MULTIPLY; k++) {
        if (!actions[k]) fprintf(stderr, "docs lack an example of action %s\n", ast_action_name(k));
        assert_true(actions[k]);
    }
    for (int k = SET_CURRENCY; k <= SET_COUPONS; k++) assert_true(settings[k]);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_and_settings),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_lets_and_expressions),
        cmocka_unit_test(test_promotion_clauses),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_other_declarations),
        cmocka_unit_test(test_spec_example),
        cmocka_unit_test(test_spans_of_nodes),
        cmocka_unit_test(test_syntax_error_messages),
        cmocka_unit_test(test_error_recovery_reports_every_error),
        cmocka_unit_test(test_keyword_as_promotion_name),
        cmocka_unit_test(test_syntax_error_marks),
        cmocka_unit_test(test_brace_recovery),
        cmocka_unit_test(test_lexical_errors_keep_parsing),
        cmocka_unit_test(test_binary_file),
        cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_invalid_utf8_file),
        cmocka_unit_test(test_unterminated_string),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_large_inputs),
        cmocka_unit_test(test_includes),
        cmocka_unit_test(test_memory_includes),
        cmocka_unit_test(test_render_text),
        cmocka_unit_test(test_render_json),
        cmocka_unit_test(test_diag_engine),
        cmocka_unit_test(test_golden_files),
        cmocka_unit_test(test_docs_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
