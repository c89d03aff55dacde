/* check.c - the checker's driver: collects declarations into one namespace, checks the ruleset
 * header and its settings, resolves names and facts, then hands every declaration's body to
 * check_rules.c (expressions are typed and folded by check_expr.c). See check.h for the contract
 * and check_internal.h for the conventions it establishes on the AST.
 */
#include "check_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "civil.h"
#include "suggest.h"

/* ------------------------------------------------------------------------------------------ */
/* Facts and item fields (runtime/facts.h)                                                     */

typedef struct fact_entry {
    const char *name;
    ast_type type;
} fact_entry;

static const fact_entry check_facts[PERK_FACT_COUNT] = {
#define CHECK_FACT_ENTRY(id, name, type) [PERK_FACT_##id] = { name, TY_##type },
    PERK_FACT_LIST(CHECK_FACT_ENTRY)
#undef CHECK_FACT_ENTRY
};

static const fact_entry check_fields[PERK_FIELD_COUNT] = {
#define CHECK_FIELD_ENTRY(id, name, type) [PERK_FIELD_##id] = { name, TY_##type },
    PERK_ITEM_FIELD_LIST(CHECK_FIELD_ENTRY)
#undef CHECK_FIELD_ENTRY
};

static const char *const weekday_names[7] = {
#define CHECK_WEEKDAY(name, short_name) #name,
    CIVIL_WEEKDAY_LIST(CHECK_WEEKDAY)
#undef CHECK_WEEKDAY
};
_Static_assert((int)PROG_ROUND_HALF_UP == (int)MONEY_ROUND_HALF_UP &&
                   (int)PROG_ROUND_HALF_EVEN == (int)MONEY_ROUND_HALF_EVEN &&
                   (int)PROG_ROUND_DOWN == (int)MONEY_ROUND_DOWN &&
                   (int)MONEY_ROUNDING_COUNT == PROG_ROUND_DOWN + 1,
               "the bytecode's rounding numbers are money.h's MONEY_ROUNDING_LIST order");

int check_item_field_id(const char *name)
{
    for (int i = 0; i < PERK_FIELD_COUNT; i++)
        if (strcmp(check_fields[i].name, name) == 0) return i;
    return -1;
}

ast_type check_item_field_type(int id)
{
    if (id < 0 || id >= PERK_FIELD_COUNT) return TY_STRING; /* attr("key") */
    return check_fields[id].type;
}

static int fact_id(const char *name)
{
    for (int i = 0; i < PERK_FACT_COUNT; i++)
        if (strcmp(check_facts[i].name, name) == 0) return i;
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Spans                                                                                       */

static const source_file *span_file(const check_ctx *c, ast_span span)
{
    const source_set *set = c->diags->sources;
    if (set == NULL || span.file < 0 || span.file >= set->count) return NULL;
    return &set->files[span.file];
}

static bool is_ident_byte(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

static int count_code_points(const char *s, size_t n)
{
    int cols = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) cols++;
    return cols;
}

ast_span check_word_span(const check_ctx *c, ast_span within, const char *word)
{
    const source_file *f = span_file(c, within);
    size_t wlen = strlen(word);
    if (f == NULL || wlen == 0 || within.first_offset < 0 || within.last_offset < within.first_offset ||
        (size_t)within.last_offset > f->len)
        return within;
    const char *text = f->text;
    size_t start = (size_t)within.first_offset, end = (size_t)within.last_offset;
    bool word_starts_ident = is_ident_byte(word[0]), word_ends_ident = is_ident_byte(word[wlen - 1]);
    for (size_t i = start; i + wlen <= end; i++) {
        if (text[i] == '\n') break; /* only the first line: the name follows its keyword */
        if (memcmp(text + i, word, wlen) != 0) continue;
        if (word_starts_ident && i > 0 && is_ident_byte(text[i - 1])) continue;
        if (word_ends_ident && i + wlen < f->len && is_ident_byte(text[i + wlen])) continue;
        ast_span s = within;
        s.first_column = within.first_column + count_code_points(text + start, i - start);
        s.last_line = within.first_line;
        s.last_column = s.first_column + count_code_points(word, wlen) - 1;
        s.first_offset = (int)i;
        s.last_offset = (int)(i + wlen);
        return s;
    }
    return within;
}

/* The span of a declaration's name (after its keyword), for messages about the declaration. */
static ast_span decl_name_span(const check_ctx *c, const ast_node *decl)
{
    if (decl->name == NULL) return decl->span;
    ast_span s = decl->span;
    /* skip the keyword itself, which may equal the name (`let let` cannot parse, but be safe) */
    const source_file *f = span_file(c, s);
    if (f != NULL && s.first_offset >= 0 && (size_t)s.first_offset < f->len) {
        size_t i = (size_t)s.first_offset;
        while (i < f->len && is_ident_byte(f->text[i])) i++;
        int skipped = (int)(i - (size_t)s.first_offset);
        if (skipped > 0 && i <= (size_t)s.last_offset) {
            s.first_offset += skipped;
            s.first_column += skipped;
        }
    }
    ast_span w = check_word_span(c, s, decl->name);
    return w.first_offset == s.first_offset && w.last_offset == s.last_offset ? decl->span : w;
}

ast_span check_decl_span(const check_ctx *c, const ast_node *decl) { return decl_name_span(c, decl); }

/* ------------------------------------------------------------------------------------------ */
/* The namespace                                                                               */

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static void symbols_grow(check_ctx *c)
{
    size_t cap = c->cap_symbols ? c->cap_symbols * 2 : 64;
    check_symbol *fresh = calloc(cap, sizeof *fresh);
    if (fresh == NULL) {
        fprintf(stderr, "perk: out of memory\n");
        abort();
    }
    for (size_t i = 0; i < c->cap_symbols; i++) {
        if (c->symbols[i].name == NULL) continue;
        size_t j = hash_name(c->symbols[i].name) & (cap - 1);
        while (fresh[j].name != NULL) j = (j + 1) & (cap - 1);
        fresh[j] = c->symbols[i];
    }
    free(c->symbols);
    c->symbols = fresh;
    c->cap_symbols = cap;
}

ast_node *check_lookup(check_ctx *c, const char *name)
{
    if (c->cap_symbols == 0 || name == NULL) return NULL;
    size_t j = hash_name(name) & (c->cap_symbols - 1);
    while (c->symbols[j].name != NULL) {
        if (strcmp(c->symbols[j].name, name) == 0) return c->symbols[j].decl;
        j = (j + 1) & (c->cap_symbols - 1);
    }
    return NULL;
}

static const char *decl_kind_text(const ast_node *decl)
{
    switch (decl->kind) {
    case AST_LET: return "let";
    case AST_TIER: return "tier";
    case AST_PROMOTION: return "promotion";
    case AST_EARN: return "earn rule";
    case AST_MULTIPLIER: return "multiplier";
    default: return "declaration";
    }
}

const char *check_decl_kind_text(const ast_node *decl) { return decl_kind_text(decl); }

/* Adds a declaration to the namespace; reports a duplicate. */
static void declare(check_ctx *c, ast_node *decl)
{
    if (decl->name == NULL || decl->name[0] == '\0') return;
    ast_node *old = check_lookup(c, decl->name);
    if (old != NULL) {
        diag_report(c->diags, DIAG_DUPLICATE_NAME, decl_name_span(c, decl),
                    "every let, tier, promotion, earn rule and multiplier needs its own name",
                    "`%s` is already defined as a %s", decl->name, decl_kind_text(old));
        diag_note(c->diags, decl_name_span(c, old), "the first definition of `%s` is here", decl->name);
        return;
    }
    if ((decl->kind == AST_LET || decl->kind == AST_TIER) && check_item_field_id(decl->name) >= 0) {
        char hint[160];
        snprintf(hint, sizeof hint, "choose another name, e.g. `%s_%s`",
                 decl->kind == AST_LET ? "my" : "tier", decl->name);
        diag_report(c->diags, DIAG_NAME_IS_ITEM_FIELD, decl_name_span(c, decl), hint,
                    "`%s` is the name of an item field and would be ambiguous inside `where`", decl->name);
    }
    if ((c->n_symbols + 1) * 2 > c->cap_symbols) symbols_grow(c);
    size_t j = hash_name(decl->name) & (c->cap_symbols - 1);
    while (c->symbols[j].name != NULL) j = (j + 1) & (c->cap_symbols - 1);
    c->symbols[j].name = decl->name;
    c->symbols[j].decl = decl;
    c->n_symbols++;
}

/* ------------------------------------------------------------------------------------------ */
/* Names in expressions                                                                        */

static void mark_item_field(ast_node *n, int id)
{
    n->type = TY_ITEM_FIELD;
    n->elem_type = check_item_field_type(id);
    n->fact = id;
    n->decl = NULL;
}

static void report_field_outside_where(check_ctx *c, ast_node *n, const char *field)
{
    char hint[200];
    ast_type t = check_item_field_type(check_item_field_id(field));
    if (t == TY_MONEY || t == TY_INT || t == TY_PERCENT)
        snprintf(hint, sizeof hint,
                 "use it to pick items, e.g. `items where %s > ...`, or aggregate it: `max(items, %s)`",
                 field, field);
    else if (t == TY_STRING_SET)
        snprintf(hint, sizeof hint, "use it to pick items, e.g. `items where \"organic\" in %s`", field);
    else if (t == TY_CATEGORY)
        snprintf(hint, sizeof hint, "use it to pick items, e.g. `items where %s in \"tea\"`", field);
    else if (t == TY_BOOL)
        snprintf(hint, sizeof hint, "use it to pick items, e.g. `items where not %s`", field);
    else
        snprintf(hint, sizeof hint, "use it to pick items, e.g. `items where %s = \"...\"`", field);
    diag_report(c->diags, DIAG_ITEM_FIELD_OUTSIDE_WHERE, n->span, hint,
                "item field `%s` is only meaningful inside `where`", field);
}

ast_type check_name(check_ctx *c, ast_node *n)
{
    const char *name = n->name ? n->name : "";
    int field = check_item_field_id(name);
    if (field >= 0 && c->item_depth > 0) {
        mark_item_field(n, field);
        return n->type;
    }
    ast_node *d = check_lookup(c, name);
    if (d != NULL) {
        n->decl = d;
        switch (d->kind) {
        case AST_LET:
            if (d == c->current_let) {
                diag_report(c->diags, DIAG_LET_BEFORE_DEFINITION, n->span,
                            "a let is defined from other values, never from itself", "`%s` refers to itself",
                            name);
                return TY_UNKNOWN;
            }
            if (d->index >= c->lets_checked) {
                char hint[200];
                snprintf(hint, sizeof hint, "move `let %s` above this line", name);
                diag_report(c->diags, DIAG_LET_BEFORE_DEFINITION, n->span, hint,
                            "`%s` is used before its definition", name);
                c->let_uses[d->index]++; /* no "unused" warning on top */
                diag_note(c->diags, decl_name_span(c, d), "`%s` is defined here", name);
                return TY_UNKNOWN;
            }
            c->let_uses[d->index]++;
            n->type = d->type;
            n->elem_type = d->elem_type;
            n->is_const = d->is_const;
            n->value = d->value;
            n->value2 = d->value2;
            n->fact = d->fact;
            return n->type;
        case AST_TIER:
            n->type = TY_TIER;
            n->is_const = true;
            n->value = d->index;
            return n->type;
        default: {
            char hint[200];
            snprintf(hint, sizeof hint,
                     "a %s cannot be used as a value; conditions use lets, tiers and facts",
                     decl_kind_text(d));
            diag_report(c->diags, DIAG_NOT_A_VALUE, n->span, hint, "`%s` is a %s, not a value", name,
                        decl_kind_text(d));
            return TY_UNKNOWN;
        }
        }
    }
    if (field >= 0) {
        report_field_outside_where(c, n, name);
        return TY_UNKNOWN;
    }
    for (int i = 0; i < 7; i++) {
        if (strcmp(name, weekday_names[i]) == 0) {
            n->type = TY_WEEKDAY;
            n->is_const = true;
            n->value = i;
            return n->type;
        }
    }
    if (strcmp(name, "true") == 0 || strcmp(name, "false") == 0) {
        n->type = TY_BOOL;
        n->is_const = true;
        n->value = name[0] == 't';
        return n->type;
    }
    int fact = fact_id(name);
    if (fact >= 0) {
        n->fact = fact;
        n->type = check_facts[fact].type;
        return n->type;
    }

    if (c->damaged) return TY_UNKNOWN; /* its declaration may be what the parser skipped */
    suggest s;
    suggest_init(&s, name);
    for (int i = 0; i < c->info->n_lets; i++) suggest_add(&s, c->info->lets[i]->name);
    for (int i = 0; i < c->info->n_tiers; i++) suggest_add(&s, c->info->tiers[i]->name);
    for (int i = 0; i < 7; i++) suggest_add(&s, weekday_names[i]);
    if (c->item_depth > 0)
        for (int i = 0; i < PERK_FIELD_COUNT; i++) suggest_add(&s, check_fields[i].name);
    for (int i = 0; i < PERK_FACT_COUNT; i++) /* "(day of month)": the schedules' own, not written */
        if (strchr(check_facts[i].name, '.') == NULL && check_facts[i].name[0] != '(')
            suggest_add(&s, check_facts[i].name);
    suggest_add(&s, "items");
    char hint[200];
    const char *best = suggest_best(&s);
    if (best != NULL) {
        snprintf(hint, sizeof hint, "did you mean `%s`?", best);
        ast_node *meant = check_lookup(c, best);
        if (meant != NULL && meant->kind == AST_LET)
            c->let_uses[meant->index]++; /* the typo was a use: no "unused" warning on top */
    } else if (c->item_depth > 0)
        snprintf(hint, sizeof hint,
                 "inside `where` the item fields are sku, category, brand, tags, "
                 "price, quantity, amount, original_amount and margin");
    else
        snprintf(hint, sizeof hint, "declare it first, e.g. `let %s = ...`", name);
    diag_report(c->diags, DIAG_UNKNOWN_NAME, n->span, hint, "unknown name `%s`", name);
    if (best != NULL) diag_fix_word(c->diags, n->span, name, best);
    return TY_UNKNOWN;
}

ast_type check_fact(check_ctx *c, ast_node *n)
{
    const char *name = n->name ? n->name : "";
    int id = fact_id(name);
    if (id >= 0) {
        n->fact = id;
        n->type = check_facts[id].type;
        return n->type;
    }
    int field = check_item_field_id(name);
    if (field >= 0) {
        if (c->item_depth > 0) {
            mark_item_field(n, field);
            return n->type;
        }
        report_field_outside_where(c, n, name);
        return TY_UNKNOWN;
    }
    suggest s;
    suggest_init(&s, name);
    for (int i = 0; i < PERK_FACT_COUNT; i++)
        if (check_facts[i].name[0] != '(') suggest_add(&s, check_facts[i].name);
    char hint[400];
    const char *best = suggest_best(&s);
    if (best != NULL) {
        snprintf(hint, sizeof hint, "did you mean `%s`?", best);
    } else {
        /* list the facts of the same object ("customer." / "order.") */
        const char *dot = strchr(name, '.');
        size_t prefix = dot ? (size_t)(dot - name) + 1 : 0;
        size_t used = (size_t)snprintf(hint, sizeof hint, "known facts:");
        bool any = false;
        for (int i = 0; i < PERK_FACT_COUNT && used < sizeof hint; i++) {
            const char *f = check_facts[i].name;
            if ((prefix > 0 && strncmp(f, name, prefix) != 0) || f[0] == '(') continue;
            used += (size_t)snprintf(hint + used, sizeof hint - used, "%s %s", any ? "," : "", f);
            any = true;
        }
        if (!any)
            snprintf(hint, sizeof hint, "facts start with `customer.` or `order.`, e.g. `order.subtotal`");
    }
    diag_report(c->diags, DIAG_UNKNOWN_FACT, n->span, hint, "unknown fact `%s`", name);
    if (best != NULL) diag_fix_word(c->diags, n->span, name, best);
    return TY_UNKNOWN;
}

/* ------------------------------------------------------------------------------------------ */
/* Settings                                                                                    */

static const char *setting_keyword(int op)
{
    switch (op) {
    case SET_CURRENCY: return "currency";
    case SET_TIMEZONE: return "timezone";
    case SET_ROUNDING: return "rounding";
    case SET_MAX_DISCOUNT: return "max discount";
    case SET_COUPONS: return "coupons";
    default: return "setting";
    }
}

/* Searches the few three-letter codes one edit away (substitution or adjacent swap) for a known
 * currency, so that no list of all codes is needed. */
static bool suggest_currency(const char *code, char *out, size_t size)
{
    static const struct {
        const char *alias, *code;
    } aliases[] = {
        { "RMB", "CNY" }, { "YEN", "JPY" }, { "EURO", "EUR" }, { "NTD", "TWD" }, { "UKP", "GBP" },
    };
    char up[8];
    size_t len = strlen(code);
    if (len == 0 || len >= sizeof up) return false;
    for (size_t i = 0; i <= len; i++)
        up[i] = (code[i] >= 'a' && code[i] <= 'z') ? (char)(code[i] - 'a' + 'A') : code[i];
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strcmp(up, aliases[i].alias) == 0) {
            snprintf(out, size, "%s", aliases[i].code);
            return true;
        }
    }
    if (money_currency_find(up) != NULL) {
        snprintf(out, size, "%s", up);
        return true;
    }
    if (len != 3) return false;
    char probe[4];
    for (size_t i = 0; i + 1 < 3; i++) {
        memcpy(probe, up, 4);
        probe[i] = up[i + 1];
        probe[i + 1] = up[i];
        if (money_currency_find(probe) != NULL) {
            snprintf(out, size, "%s", probe);
            return true;
        }
    }
    for (size_t i = 0; i < 3; i++) {
        for (char ch = 'A'; ch <= 'Z'; ch++) {
            memcpy(probe, up, 4);
            probe[i] = ch;
            if (money_currency_find(probe) != NULL && strcmp(probe, up) != 0) {
                snprintf(out, size, "%s", probe);
                return true;
            }
        }
    }
    return false;
}

/* A plausible IANA zone name: components of [A-Za-z0-9_+-] separated by single slashes, no
 * component starting with a dot (so no "..") and nothing absolute. */
static bool timezone_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 255 || name[0] == '/' || name[len - 1] == '/') return false;
    bool component_start = true;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (ch == '/') {
            if (component_start) return false; /* "//" */
            component_start = true;
            continue;
        }
        bool ok = is_ident_byte(ch) || ch == '+' || ch == '-';
        if (!ok) return false;
        component_start = false;
    }
    return true;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects "prefix/entry" for the entries of zoneinfo directory `sub` ("" = the root). */
static void list_zone_dir(const char *root, const char *sub, char ***names, size_t *n, size_t *cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", root, sub[0] ? "/" : "", sub);
    DIR *dir = opendir(path);
    if (dir == NULL) return;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char full[512];
        int len = snprintf(full, sizeof full, "%s%s%s", sub, sub[0] ? "/" : "", e->d_name);
        if (len < 0 || (size_t)len >= sizeof full) continue;
        if (*n == *cap) {
            size_t fresh_cap = *cap ? *cap * 2 : 64;
            char **fresh = realloc(*names, fresh_cap * sizeof *fresh);
            if (fresh == NULL) break;
            *names = fresh;
            *cap = fresh_cap;
        }
        char *copy = strdup(full);
        if (copy == NULL) break;
        (*names)[(*n)++] = copy;
    }
    closedir(dir);
}

/* Finds a zone name close to `name` among the zone files (same region directory first). */
static bool suggest_timezone(const char *name, char *out, size_t size)
{
    const char *root = getenv("PERK_ZONEINFO");
    if (root == NULL || root[0] == '\0') root = "/usr/share/zoneinfo";
    char **names = NULL;
    size_t n = 0, cap = 0;
    char region[256] = "";
    const char *slash = strrchr(name, '/');
    if (slash != NULL && (size_t)(slash - name) < sizeof region) {
        memcpy(region, name, (size_t)(slash - name));
        region[slash - name] = '\0';
    }
    size_t first_root = 0;
    if (region[0] != '\0') {
        list_zone_dir(root, region, &names, &n, &cap);
        if (n == 0) {
            /* the region itself is misspelt: find the closest top-level directory */
            list_zone_dir(root, "", &names, &n, &cap);
            qsort(names, n, sizeof *names, compare_strings);
            suggest s;
            suggest_init(&s, region);
            for (size_t i = 0; i < n; i++) suggest_add(&s, names[i]);
            char better[256] = "";
            if (suggest_best(&s) != NULL) snprintf(better, sizeof better, "%s", suggest_best(&s));
            for (size_t i = 0; i < n; i++) free(names[i]);
            n = 0;
            if (better[0] != '\0') list_zone_dir(root, better, &names, &n, &cap);
        }
        first_root = n;
    }
    list_zone_dir(root, "", &names, &n, &cap);
    qsort(names, first_root, sizeof *names, compare_strings);
    qsort(names + first_root, n - first_root, sizeof *names, compare_strings);
    suggest s;
    suggest_init(&s, name);
    if (region[0] != '\0' && slash != NULL) {
        /* compare whole names, but allow the usual distance for the city part as well */
        size_t city_len = strlen(slash + 1);
        size_t limit = city_len / 3 > 1 ? city_len / 3 : 1;
        if (limit > s.max_distance) s.max_distance = limit;
        s.max_distance += 2; /* a misspelt region can add a couple of edits */
    }
    for (size_t i = 0; i < n; i++) suggest_add(&s, names[i]);
    bool found = false;
    const char *best = suggest_best(&s);
    if (best != NULL) {
        struct stat st;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", root, best);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            snprintf(out, size, "%s", best);
            found = true;
        }
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return found;
}

static void check_setting(check_ctx *c, ast_node *s)
{
    const char *value = s->name ? s->name : "";
    switch (s->op) {
    case SET_CURRENCY: {
        const money_currency *cur = money_currency_find(value);
        ast_span at = check_word_span(c, s->span, value);
        if (cur == NULL) {
            char better[16], hint[200];
            bool sure = suggest_currency(value, better, sizeof better);
            if (sure)
                snprintf(hint, sizeof hint, "did you mean `%s`?", better);
            else
                snprintf(hint, sizeof hint, "use an ISO 4217 code such as CNY, JPY, USD or EUR");
            diag_report(c->diags, DIAG_UNKNOWN_CURRENCY, at, hint, "unknown currency `%s`", value);
            if (sure) diag_fix_word(c->diags, at, value, better);
            return;
        }
        c->currency = cur;
        c->currency_ok = true;
        c->exponent = cur->exponent;
        c->info->currency = cur->code;
        c->info->exponent = cur->exponent;
        return;
    }
    case SET_TIMEZONE: {
        c->timezone_written = true;
        char quoted[300];
        snprintf(quoted, sizeof quoted, "\"%s\"", value);
        ast_span at = check_word_span(c, s->span, quoted);
        if (!timezone_name_ok(value)) {
            diag_report(c->diags, DIAG_INVALID_TIMEZONE_NAME, at,
                        "use an IANA time zone name such as \"Asia/Shanghai\" or \"UTC\"",
                        "\"%s\" is not a time zone name", value);
            return;
        }
        if (!tzload_exists(value)) {
            char better[256], hint[320];
            bool sure = suggest_timezone(value, better, sizeof better);
            if (sure)
                snprintf(hint, sizeof hint, "did you mean \"%s\"?", better);
            else
                snprintf(hint, sizeof hint,
                         "use an IANA time zone name such as \"Asia/Shanghai\"; "
                         "the zone files are read from /usr/share/zoneinfo "
                         "(or $PERK_ZONEINFO)");
            diag_report(c->diags, DIAG_UNKNOWN_TIMEZONE, at, hint, "unknown time zone \"%s\"", value);
            if (sure) {
                char fixed[300];
                snprintf(fixed, sizeof fixed, "\"%s\"", better);
                diag_fix_word(c->diags, at, quoted, fixed);
            }
            return;
        }
        c->info->timezone = value;
        return;
    }
    case SET_ROUNDING: {
        /* the bytecode stores the money_rounding number (PROG_ROUND_* = MONEY_ROUND_*) */
        for (int mode = 0; mode < MONEY_ROUNDING_COUNT; mode++) {
            if (strcmp(value, money_rounding_name(mode)) == 0) {
                c->rounding = mode;
                c->info->rounding = mode;
                return;
            }
        }
        suggest sg;
        suggest_init(&sg, value);
        for (int mode = 0; mode < MONEY_ROUNDING_COUNT; mode++) suggest_add(&sg, money_rounding_name(mode));
        char hint[200];
        if (suggest_best(&sg) != NULL)
            snprintf(hint, sizeof hint, "did you mean `%s`?", suggest_best(&sg));
        else
            snprintf(hint, sizeof hint, "rounding is one of half_up, half_even or down");
        diag_report(c->diags, DIAG_UNKNOWN_SETTING_VALUE, check_word_span(c, s->span, value), hint,
                    "unknown rounding mode `%s`", value);
        if (suggest_best(&sg) != NULL)
            diag_fix_word(c->diags, check_word_span(c, s->span, value), value, suggest_best(&sg));
        return;
    }
    case SET_MAX_DISCOUNT:
        if (!check_constant(c, s->a, TY_PERCENT, "the max discount")) return;
        if (s->a->value <= 0 || s->a->value > CHECK_PPM_ONE) {
            char pct[32];
            diag_report(c->diags, DIAG_MAX_DISCOUNT_RANGE, s->a->span,
                        "the margin guard is a share of the price: more than 0% and at most 100%",
                        "max discount %s is out of range", check_percent_text(s->a->value, pct, sizeof pct));
            return;
        }
        c->info->max_discount_ppm = s->a->value;
        return;
    case SET_COUPONS:
        if (strcmp(value, "one_per_order") == 0)
            c->info->coupon_policy = PROG_COUPONS_ONE_PER_ORDER;
        else if (strcmp(value, "stackable") == 0)
            c->info->coupon_policy = PROG_COUPONS_STACKABLE;
        else
            diag_report(c->diags, DIAG_UNKNOWN_SETTING_VALUE, s->span,
                        "write `coupons one per order` or `coupons stackable`", "unknown coupon policy `%s`",
                        value);
        return;
    default: return;
    }
}

static void check_header(check_ctx *c, ast_node *ruleset)
{
    ast_node *seen[SET_COUPONS + 1] = { 0 };
    c->info->ruleset_name = ruleset->name ? ruleset->name : "";
    /* the currency first: other settings may hold amounts */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < ruleset->list.count; i++) {
            ast_node *s = ruleset->list.items[i];
            if (s == NULL || s->kind != AST_SETTING || s->op < 0 || s->op > SET_COUPONS) continue;
            if ((s->op == SET_CURRENCY) != (pass == 0)) continue;
            if (seen[s->op] != NULL) {
                char hint[120];
                snprintf(hint, sizeof hint, "remove one of the two `%s` lines", setting_keyword(s->op));
                diag_report(c->diags, DIAG_DUPLICATE_SETTING, s->span, hint, "`%s` is set twice",
                            setting_keyword(s->op));
                diag_note(c->diags, seen[s->op]->span, "it is first set here");
                continue;
            }
            seen[s->op] = s;
            check_setting(c, s);
        }
    }
    if (seen[SET_CURRENCY] == NULL && !ruleset->syntax_error)
        diag_report(c->diags, DIAG_MISSING_CURRENCY, check_word_span(c, ruleset->span, "ruleset"),
                    "add a currency inside the ruleset block, e.g. `currency CNY`",
                    "the ruleset does not say its currency");
}

/* ------------------------------------------------------------------------------------------ */
/* Driver                                                                                      */

static void push(check_ctx *c, ast_list *list, ast_node *decl)
{
    decl->index = list->count;
    ast_list_push(c->arena, list, decl);
}

static ast_span file_start_span(const check_ctx *c, int file)
{
    ast_span s = { file, 1, 1, 1, 1, 0, 0 };
    const source_set *set = c->diags->sources;
    if (set != NULL && file >= 0 && file < set->count && set->files[file].len > 0) {
        int len = 1;
        const char *t = set->files[file].text;
        while ((size_t)len < set->files[file].len && ((unsigned char)t[len] & 0xC0) == 0x80) len++;
        s.last_offset = t[0] == '\n' ? 0 : len;
    }
    return s;
}

bool check_program(ast_node *file, diag_engine *diags, ast_arena *arena, check_info *info)
{
    memset(info, 0, sizeof *info);
    info->ruleset_name = "";
    info->currency = "";
    info->exponent = 2;
    info->rounding = PROG_ROUND_HALF_UP;
    info->timezone = "UTC";
    info->max_discount_ppm = -1;
    info->coupon_policy = PROG_COUPONS_STACKABLE;
    if (file == NULL) return false;
    int errors_before = diags->errors;

    check_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    check_ctx *c = &ctx;
    c->diags = diags;
    c->arena = arena;
    c->info = info;
    c->main_file = file->span.file;
    c->damaged = file->syntax_error;
    c->exponent = 2;
    c->rounding = PROG_ROUND_HALF_UP;

    /* pass 1: the header and the namespace */
    ast_list promotions = { 0 }, earns = { 0 }, multipliers = { 0 }, tiers = { 0 }, lets = { 0 };
    ast_node *header = NULL;
    for (int i = 0; i < file->list.count; i++) {
        ast_node *d = file->list.items[i];
        if (d == NULL) continue;
        switch (d->kind) {
        case AST_RULESET:
            if (d->span.file != c->main_file) {
                diag_report(diags, DIAG_RULESET_IN_INCLUDE, check_word_span(c, d->span, "ruleset"),
                            "only the main file has a `ruleset` header; remove it from the included file",
                            "an included file cannot have a `ruleset` header");
            } else if (header != NULL) {
                diag_report(diags, DIAG_DUPLICATE_RULESET, check_word_span(c, d->span, "ruleset"),
                            "merge the settings into one header", "a file has only one `ruleset` header");
                diag_note(diags, check_word_span(c, header->span, "ruleset"), "the first header is here");
            } else {
                header = d;
            }
            break;
        case AST_LET:
            declare(c, d);
            push(c, &lets, d);
            break;
        case AST_TIER:
            declare(c, d);
            push(c, &tiers, d);
            break;
        case AST_PROMOTION:
            declare(c, d);
            push(c, &promotions, d);
            break;
        case AST_EARN:
            declare(c, d);
            push(c, &earns, d);
            break;
        case AST_MULTIPLIER:
            declare(c, d);
            push(c, &multipliers, d);
            break;
        case AST_REDEEM:
        case AST_POINTS: {
            ast_node **slot = d->kind == AST_REDEEM ? &info->redeem : &info->points;
            const char *word = d->kind == AST_REDEEM ? "redeem" : "points";
            if (*slot != NULL) {
                char hint[120];
                snprintf(hint, sizeof hint, "merge the two `%s` blocks into one", word);
                diag_report(diags, DIAG_DUPLICATE_BLOCK, check_word_span(c, d->span, word), hint,
                            "a ruleset has only one `%s` block", word);
                diag_note(diags, check_word_span(c, (*slot)->span, word), "the first one is here");
            } else {
                *slot = d;
            }
            break;
        }
        default: break; /* includes are already spliced in */
        }
    }
    info->promotions = promotions.items;
    info->n_promotions = promotions.count;
    info->earns = earns.items;
    info->n_earns = earns.count;
    info->multipliers = multipliers.items;
    info->n_multipliers = multipliers.count;
    info->tiers = tiers.items;
    info->n_tiers = tiers.count;
    info->lets = lets.items;
    info->n_lets = lets.count;

    /* pass 2: settings, then bodies in dependency order (tier names are constants known from
     * pass 1, so lets may use them; tiers may use lets) */
    c->let_uses = calloc((size_t)info->n_lets + 1, sizeof *c->let_uses);
    if (c->let_uses == NULL) {
        fprintf(stderr, "perk: out of memory\n");
        abort();
    }
    if (header != NULL)
        check_header(c, header);
    else if (!c->damaged)
        diag_report(diags, DIAG_MISSING_RULESET, file_start_span(c, c->main_file),
                    "start the file with a header, e.g. `ruleset \"Spring sale\" { currency CNY }`",
                    "this file has no `ruleset` header");

    for (int i = 0; i < info->n_lets; i++) {
        ast_node *let = info->lets[i];
        c->current_let = let;
        ast_node *e = let->a;
        if (e != NULL) {
            check_expr(c, e);
            let->type = e->type;
            let->elem_type = e->elem_type;
            let->is_const = e->is_const;
            let->value = e->value;
            let->value2 = e->value2;
            let->fact = e->fact;
        }
        c->lets_checked = i + 1;
    }
    c->current_let = NULL;

    ast_node *previous_tier = NULL;
    for (int i = 0; i < info->n_tiers; i++) {
        check_tier(c, info->tiers[i], previous_tier);
        if (info->tiers[i]->is_const) previous_tier = info->tiers[i];
    }

    for (int i = 0; i < info->n_promotions; i++) check_promotion(c, info->promotions[i]);
    for (int i = 0; i < info->n_earns; i++) check_earn(c, info->earns[i]);
    for (int i = 0; i < info->n_multipliers; i++) check_multiplier(c, info->multipliers[i]);
    if (info->redeem != NULL) check_redeem(c, info->redeem);
    if (info->points != NULL) check_points(c, info->points);
    check_priority_ties(c);
    check_stages(c);
    check_best_groups(c);

    /* lets of included files may serve other rulesets; only the main file's are reported */
    for (int i = 0; i < info->n_lets; i++) {
        ast_node *let = info->lets[i];
        if (!c->damaged && c->let_uses[i] == 0 && let->span.file == c->main_file && let->name != NULL &&
            check_lookup(c, let->name) == let && check_item_field_id(let->name) < 0) {
            diag_report(diags, DIAG_UNUSED_LET, decl_name_span(c, let), "remove it, or use it in a rule",
                        "`%s` is defined but never used", let->name);
        }
    }

    free(c->let_uses);
    free(c->symbols);
    return diags->errors == errors_before;
}
