/* ast.c - the AST arena, node constructors, names of kinds and operators, and the S-expression
 * dump used by the parser tests (see ast.h for the node shapes). */
#include "ast.h"

#include <stdlib.h>
#include <string.h>

#include "civil.h"

/* The arena is a chain of chunks; a chunk is at least ARENA_CHUNK bytes, larger when a single
 * request needs it. Everything is freed at once by ast_arena_free. */
#define ARENA_CHUNK (64u * 1024u)

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    max_align_t data[]; /* flexible array keeps the payload maximally aligned */
} arena_chunk;

struct ast_arena {
    arena_chunk *head;
    size_t total;
};

static void *arena_oom(void)
{
    fputs("perk: out of memory\n", stderr);
    abort();
}

ast_arena *ast_arena_new(void)
{
    ast_arena *arena = calloc(1, sizeof *arena);
    if (!arena) arena_oom();
    return arena;
}

void ast_arena_free(ast_arena *arena)
{
    if (!arena) return;
    arena_chunk *c = arena->head;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(arena);
}

/* Returns `size` bytes aligned for any type, zeroed. */
static void *arena_alloc(ast_arena *arena, size_t size)
{
    const size_t align = sizeof(max_align_t);
    size = (size + align - 1) / align * align;
    arena_chunk *c = arena->head;
    if (!c || c->size - c->used < size) {
        size_t chunk = ARENA_CHUNK;
        /* Grow chunks with the arena so a huge parse needs few mallocs. */
        if (arena->total / 4 > chunk) chunk = arena->total / 4;
        if (chunk > 16u * 1024u * 1024u) chunk = 16u * 1024u * 1024u;
        if (size > chunk) chunk = size;
        c = malloc(sizeof *c + chunk);
        if (!c) arena_oom();
        c->next = arena->head;
        c->used = 0;
        c->size = chunk;
        arena->head = c;
        arena->total += chunk;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

ast_node *ast_new(ast_arena *arena, ast_kind kind, ast_span span)
{
    ast_node *n = arena_alloc(arena, sizeof *n);
    n->kind = kind;
    n->span = span;
    n->height = 1;
    n->index = -1;
    n->fact = -1;
    return n;
}

const char *ast_strndup(ast_arena *arena, const char *text, size_t len)
{
    char *p = arena_alloc(arena, len + 1);
    if (len) memcpy(p, text, len);
    p[len] = '\0';
    return p;
}

const char *ast_strdup(ast_arena *arena, const char *text) { return ast_strndup(arena, text, strlen(text)); }

void ast_list_push(ast_arena *arena, ast_list *list, ast_node *node)
{
    if (list->count == list->cap) {
        int cap = list->cap ? list->cap * 2 : 4;
        ast_node **items = arena_alloc(arena, (size_t)cap * sizeof *items);
        if (list->count) memcpy(items, list->items, (size_t)list->count * sizeof *items);
        list->items = items;
        list->cap = cap;
    }
    list->items[list->count++] = node;
}

ast_span ast_span_join(ast_span a, ast_span b)
{
    ast_span s = a;
    if (b.first_offset < a.first_offset) {
        s.first_line = b.first_line;
        s.first_column = b.first_column;
        s.first_offset = b.first_offset;
    }
    if (b.last_offset > a.last_offset) {
        s.last_line = b.last_line;
        s.last_column = b.last_column;
        s.last_offset = b.last_offset;
    }
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* Names                                                                                      */

/* The names come from the lists next to the enums (ast.h); only the action names are spelled
 * here. */
const char *ast_kind_name(ast_kind kind)
{
    static const char *const names[] = {
#define AST_KIND_NAME(kind, name) [kind] = name,
        AST_KIND_LIST(AST_KIND_NAME)
#undef AST_KIND_NAME
    };
    if ((unsigned)kind < sizeof names / sizeof names[0]) return names[kind];
    return "?";
}

const char *ast_type_name(ast_type type)
{
    static const char *const names[] = {
#define AST_TYPE_NAME(type, name) [type] = name,
        AST_TYPE_LIST(AST_TYPE_NAME)
#undef AST_TYPE_NAME
    };
    if ((unsigned)type < sizeof names / sizeof names[0]) return names[type];
    return "?";
}

const char *ast_op_text(ast_op op)
{
    static const char *const names[] = {
#define AST_OP_NAME(op, text) [op] = text,
        AST_OP_LIST(AST_OP_NAME)
#undef AST_OP_NAME
    };
    if ((unsigned)op < sizeof names / sizeof names[0]) return names[op];
    return "?";
}

const char *ast_clause_name(int clause)
{
    static const char *const names[] = {
#define AST_CLAUSE_NAME(clause, name, text) [clause] = name,
        AST_CLAUSE_LIST(AST_CLAUSE_NAME)
#undef AST_CLAUSE_NAME
    };
    if (clause >= 0 && (size_t)clause < sizeof names / sizeof names[0]) return names[clause];
    return "?";
}

const char *ast_clause_text(int clause)
{
    static const char *const texts[] = {
#define AST_CLAUSE_TEXT(clause, name, text) [clause] = text,
        AST_CLAUSE_LIST(AST_CLAUSE_TEXT)
#undef AST_CLAUSE_TEXT
    };
    if (clause >= 0 && (size_t)clause < sizeof texts / sizeof texts[0]) return texts[clause];
    return "clause";
}

const char *ast_action_name(int action)
{
    if (action >= 0 && action < PROG_ACT_COUNT) return prog_action_table[action].name;
    if (action == ACT_EARN_POINTS) return "earn-points";
    if (action == ACT_MULTIPLY) return "multiply";
    return "?";
}

const char *ast_setting_name(int setting)
{
    static const char *const names[] = {
#define AST_SETTING_NAME(setting, name) [setting] = name,
        AST_SETTING_LIST(AST_SETTING_NAME)
#undef AST_SETTING_NAME
    };
    if (setting >= 0 && (size_t)setting < sizeof names / sizeof names[0]) return names[setting];
    return "?";
}

/* ------------------------------------------------------------------------------------------ */
/* Dump                                                                                       */

static void dump_string(const char *s, FILE *out)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void dump_decimal(ast_decimal d, FILE *out)
{
    uint64_t m = d.mantissa < 0 ? (uint64_t)0 - (uint64_t)d.mantissa : (uint64_t)d.mantissa;
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)m);
    if (d.mantissa < 0) fputc('-', out);
    if (d.scale <= 0) {
        fputs(digits, out);
        return;
    }
    if (n <= d.scale) {
        fputs("0.", out);
        for (int i = n; i < d.scale; i++) fputc('0', out);
        fputs(digits, out);
        return;
    }
    fwrite(digits, 1, (size_t)(n - d.scale), out);
    fputc('.', out);
    fputs(digits + n - d.scale, out);
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void dump_date(int64_t days, FILE *out)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) y++;
    fprintf(out, "%04lld-%02lld-%02lld", (long long)y, (long long)m, (long long)d);
}

static const char *const weekday_names[] = {
#define AST_WEEKDAY(name, short_name) #name,
    CIVIL_WEEKDAY_LIST(AST_WEEKDAY)
#undef AST_WEEKDAY
};

static void dump_node(const ast_node *n, FILE *out);

static void dump_children(const ast_node *n, FILE *out)
{
    if (n->a) {
        fputc(' ', out);
        dump_node(n->a, out);
    }
    if (n->b) {
        fputc(' ', out);
        dump_node(n->b, out);
    }
    if (n->c) {
        fputc(' ', out);
        dump_node(n->c, out);
    }
    for (int i = 0; i < n->list.count; i++) {
        fputc(' ', out);
        dump_node(n->list.items[i], out);
    }
}

static void dump_named_block(const char *head, const ast_node *n, FILE *out)
{
    fprintf(out, "(%s", head);
    if (n->name) fprintf(out, " %s", n->name);
    if (n->label) {
        fputc(' ', out);
        dump_string(n->label, out);
    }
    dump_children(n, out);
    fputc(')', out);
}

static void dump_node(const ast_node *n, FILE *out)
{
    if (!n) {
        fputc('_', out);
        return;
    }
    switch (n->kind) {
    case AST_FILE:
    case AST_REDEEM:
    case AST_POINTS:
    case AST_LIST:
        fprintf(out, "(%s", ast_kind_name(n->kind));
        dump_children(n, out);
        fputc(')', out);
        return;
    case AST_RULESET:
        fputs("(ruleset ", out);
        dump_string(n->name ? n->name : "", out);
        dump_children(n, out);
        fputc(')', out);
        return;
    case AST_SETTING:
        fprintf(out, "(%s", ast_setting_name(n->op));
        if (n->name) fprintf(out, " %s", n->name);
        dump_children(n, out);
        fputc(')', out);
        return;
    case AST_INCLUDE:
        fputs("(include ", out);
        dump_string(n->name ? n->name : "", out);
        fputc(')', out);
        return;
    case AST_LET:
        fprintf(out, "(let %s", n->name ? n->name : "?");
        dump_children(n, out);
        fputc(')', out);
        return;
    case AST_TIER:
    case AST_PROMOTION:
    case AST_EARN:
    case AST_MULTIPLIER: dump_named_block(ast_kind_name(n->kind), n, out); return;
    case AST_CLAUSE:
        fprintf(out, "(%s", ast_clause_name(n->op));
        if (n->name) {
            fputc(' ', out);
            dump_string(n->name, out);
        }
        dump_children(n, out);
        fputc(')', out);
        return;
    case AST_ACTION:
        fprintf(out, "(%s", ast_action_name(n->op));
        if (n->name) {
            fputc(' ', out);
            dump_string(n->name, out);
        }
        if (n->label) {
            fputc(' ', out);
            dump_string(n->label, out);
        }
        /* Fixed operands print `_` when absent so positions stay readable. */
        if (n->op == ACT_BUY_GET || n->op == ACT_BUY_GET_SKU || n->op == ACT_GIFT || n->op == ACT_EVERY ||
            n->op == ACT_EVERY_STORE) {
            fputc(' ', out);
            dump_node(n->a, out);
            if (n->op != ACT_GIFT) {
                fputc(' ', out);
                dump_node(n->b, out);
                fputc(' ', out);
                dump_node(n->c, out);
            }
            for (int i = 0; i < n->list.count; i++) {
                fputc(' ', out);
                dump_node(n->list.items[i], out);
            }
        } else {
            dump_children(n, out);
        }
        fputc(')', out);
        return;
    case AST_TIER_STEP:
        fputs("(step", out);
        dump_children(n, out);
        fputc(')', out);
        return;
    case AST_INT:
    case AST_DECIMAL:
    case AST_PERCENT:
    case AST_MULTIPLIER_LIT:
        fprintf(out, "(%s ",
                n->kind == AST_INT       ? "int"
                : n->kind == AST_DECIMAL ? "decimal"
                : n->kind == AST_PERCENT ? "percent"
                                         : "x");
        dump_decimal(n->num, out);
        fputc(')', out);
        return;
    case AST_MONEY:
        fputs("(money ", out);
        if (n->name)
            fputs(n->name, out);
        else
            fputs(n->sym ? n->sym : "?", out);
        fputc(' ', out);
        dump_decimal(n->num, out);
        fputc(')', out);
        return;
    case AST_STRING: dump_string(n->name ? n->name : "", out); return;
    case AST_DATE:
        fputs("(date ", out);
        dump_date(n->ival, out);
        fputc(')', out);
        return;
    case AST_TIME:
        fprintf(out, "(time %02lld:%02lld)", (long long)(n->ival / 60), (long long)(n->ival % 60));
        return;
    case AST_DURATION: fprintf(out, "(duration %llds)", (long long)n->ival); return;
    case AST_WEEKDAY: fputs(n->ival >= 0 && n->ival < 7 ? weekday_names[n->ival] : "?weekday", out); return;
    case AST_BOOL: fputs(n->ival ? "true" : "false", out); return;
    case AST_NAME: fputs(n->name ? n->name : "?", out); return;
    case AST_FIELD: fprintf(out, "(field %s)", n->name ? n->name : "?"); return;
    case AST_ITEMS: fputs("items", out); return;
    case AST_UNARY:
        fprintf(out, "(%s", n->op == OP_NEG ? "neg" : ast_op_text((ast_op)n->op));
        dump_children(n, out);
        fputc(')', out);
        return;
    case AST_BINARY:
        fprintf(out, "(%s", n->op == OP_NOT_IN ? "not-in" : ast_op_text((ast_op)n->op));
        dump_children(n, out);
        fputc(')', out);
        return;
    case AST_RANGE:
        fputs("(..", out);
        dump_children(n, out);
        fputc(')', out);
        return;
    case AST_WHERE:
        fputs("(where", out);
        dump_children(n, out);
        fputc(')', out);
        return;
    case AST_CALL:
        fprintf(out, "(call %s", n->name ? n->name : "?");
        dump_children(n, out);
        fputc(')', out);
        return;
    }
    fputs("(?)", out);
}

void ast_dump(const ast_node *node, FILE *out) { dump_node(node, out); }
