/* fmt.c - `perk fmt`: reprints a rule file in the canonical layout described in fmt.h.
 *
 * Token-based. The file is parsed with its layout recorded (parse_text_layout: every token and
 * every comment with its span); a file with errors is refused. The tokens are then printed again
 * with canonical whitespace, each copied as written, so formatting cannot change what a file
 * means. The AST is consulted only for what the tokens alone cannot say: where declarations and
 * clauses start, and which '-' is a negation. Comments are attached to tokens: an end-of-line
 * comment to the token before it on its line, a full-line comment to the token after it.
 *
 * Output is built as a list of lines (indent, code, end-of-line comment), so that comments can be
 * aligned in a last pass. As a safety net the result is parsed again and must give the same tokens
 * and comments; otherwise it is discarded (FMT_INTERNAL_ERROR).
 */
#include "fmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "parse.h"
#include "parser.h"

enum {
    ROLE_DECL = 1 << 0,        /* first token of a declaration */
    ROLE_BLOCK_DECL = 1 << 1,  /* ... of a declaration with a { } body */
    ROLE_CLAUSE = 1 << 2,      /* first token of a clause or setting inside a block */
    ROLE_NEG = 1 << 3,         /* a '-' that negates (no space after it) */
    ROLE_DROP = 1 << 4,        /* a trailing comma before ']' or a table's '}': not printed */
    ROLE_BLOCK_OPEN = 1 << 5,  /* the '{' of a declaration's body */
    ROLE_BLOCK_CLOSE = 1 << 6, /* ... and its '}' */
    ROLE_TABLE = 1 << 7        /* a '{' or '}' of a steps table */
};

typedef struct ftok {
    int kind;     /* T_* of parser.h; 0 for the end-of-file entry */
    int off, end; /* bytes [off, end) of the source */
    int line, last_line;
    int match;         /* brackets: index of the other one; else -1 */
    int trail;         /* the end-of-line comment printed after it, or -1 */
    int lead, n_lead;  /* the full-line comments printed before it: lead_ids[lead..lead+n_lead) */
    bool blank_before; /* the source has a blank line right before it (after its comments) */
    unsigned roles;
} ftok;

typedef struct fcom {
    int off, end; /* the comment without trailing whitespace */
    int line;
    bool blank_before; /* the source has a blank line right before it */
    int owner;         /* token it is attached to (n_tok = the end of the file) */
    bool trailing;     /* printed after its owner rather than on a line before it */
} fcom;

typedef struct oline {
    int indent;
    size_t start, end; /* its code: bytes of fmt.buf */
    int width;         /* display width of the code */
    int comment;       /* comment index, or -1; a line without code is a comment line */
    bool blank;
} oline;

typedef struct fmt {
    const char *text;
    ftok *t; /* n_tok tokens, then the end-of-file entry t[n_tok] */
    int n_tok;
    fcom *c;
    int n_com;
    int *lead_ids;
    bool bad; /* the tree and the tokens disagree: give up */
    char why[160];

    char *buf;
    size_t buf_len, buf_cap;
    oline *lines; /* lines[n_lines - 1] is the line being built */
    int n_lines, cap_lines;
} fmt;

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q) {
        fputs("perk: out of memory\n", stderr);
        abort();
    }
    return q;
}

static void give_up(fmt *f, const char *why)
{
    if (!f->bad) snprintf(f->why, sizeof f->why, "%s", why);
    f->bad = true;
}

/* --- token text ----------------------------------------------------------------------------- */

/* Tokens whose spelling may hold whitespace that means nothing: `7  days`, `not\nin`, `is not`,
 * `300 CNY`, `¥ 5`, `the most  expensive`, `is  known`, `2027-11-10  20:00`. Runs of it print as one
 * space. */
static bool squeezable(int kind)
{
    return kind == T_DURATION || kind == T_DATE || kind == T_NOT_IN || kind == T_IS_NOT || kind == T_MONEY ||
           kind == T_MOST_EXPENSIVE || kind == T_IS_KNOWN || kind == T_IS_UNKNOWN;
}

static bool is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

/* Writes the token's text as printed into out (at least its source length) and returns the
 * length. */
static size_t token_text(const char *s, size_t n, int kind, char *out)
{
    if (!squeezable(kind)) {
        memcpy(out, s, n);
        return n;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_space(s[i])) {
            if (k > 0 && out[k - 1] != ' ') out[k++] = ' ';
            continue;
        }
        out[k++] = s[i];
    }
    return k;
}

static int display_width(const char *s, size_t n)
{
    int w = 0;
    size_t i = 0;
    while (i < n) {
        unsigned cp;
        int l = source_utf8_decode(s + i, n - i, &cp);
        if (l <= 0) {
            w++;
            i++;
            continue;
        }
        w += source_char_width(cp);
        i += (size_t)l;
    }
    return w;
}

static int token_width(const fmt *f, int i)
{
    const ftok *t = &f->t[i];
    size_t n = (size_t)(t->end - t->off);
    if (!squeezable(t->kind)) return display_width(f->text + t->off, n);
    char small[256];
    char *tmp = n <= sizeof small ? small : xrealloc(NULL, n);
    size_t k = token_text(f->text + t->off, n, t->kind, tmp);
    int w = display_width(tmp, k);
    if (tmp != small) free(tmp);
    return w;
}

/* --- reading the layout ------------------------------------------------------------------------ */

static void load_tokens(fmt *f, const parse_layout *lay)
{
    f->n_tok = lay->n_tokens;
    f->t = xrealloc(NULL, sizeof *f->t * (size_t)(f->n_tok + 1));
    for (int i = 0; i <= f->n_tok; i++) {
        ftok *t = &f->t[i];
        memset(t, 0, sizeof *t);
        t->match = -1;
        t->trail = -1;
        if (i == f->n_tok) continue;
        const ast_span *sp = &lay->tokens[i].span;
        t->kind = lay->tokens[i].kind;
        t->off = sp->first_offset;
        t->end = sp->last_offset;
        t->line = sp->first_line;
        t->last_line = sp->last_line;
    }
    f->n_com = lay->n_comments;
    f->c = xrealloc(NULL, sizeof *f->c * (size_t)(f->n_com ? f->n_com : 1));
    for (int i = 0; i < f->n_com; i++) {
        const ast_span *sp = &lay->comments[i];
        fcom *c = &f->c[i];
        memset(c, 0, sizeof *c);
        c->off = sp->first_offset;
        c->end = sp->last_offset;
        while (c->end > c->off &&
               (is_space(f->text[c->end - 1]) || f->text[c->end - 1] == '\f' || f->text[c->end - 1] == '\v'))
            c->end--;
        c->line = sp->first_line;
    }
}

/* Blank lines, and which token each comment belongs to. */
static void attach_comments(fmt *f)
{
    int ti = 0, ci = 0, prev_line = 0, prev_tok = -1;
    bool prev_is_token = false;
    while (ti < f->n_tok || ci < f->n_com) {
        if (ci < f->n_com && (ti >= f->n_tok || f->c[ci].off < f->t[ti].off)) {
            fcom *c = &f->c[ci];
            c->blank_before = prev_line > 0 && c->line - prev_line >= 2;
            if (prev_is_token && f->t[prev_tok].last_line == c->line) {
                c->trailing = true;
                c->owner = prev_tok;
                f->t[prev_tok].trail = ci;
            } else {
                c->owner = ti;
            }
            prev_line = c->line;
            prev_is_token = false;
            ci++;
        } else {
            ftok *t = &f->t[ti];
            t->blank_before = prev_line > 0 && t->line - prev_line >= 2;
            prev_line = t->last_line;
            prev_is_token = true;
            prev_tok = ti;
            ti++;
        }
    }
}

static int find_token(const fmt *f, int off)
{
    int lo = 0, hi = f->n_tok - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (f->t[mid].off == off) return mid;
        if (f->t[mid].off < off)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static void mark(fmt *f, const ast_node *n, unsigned role)
{
    int i = find_token(f, n->span.first_offset);
    if (i < 0) {
        give_up(f, "a declaration or clause does not start at a token");
        return;
    }
    f->t[i].roles |= role;
}

static void mark_negations(fmt *f, const ast_node *n)
{
    if (!n) return;
    if (n->kind == AST_UNARY && n->op == OP_NEG) mark(f, n, ROLE_NEG);
    mark_negations(f, n->a);
    mark_negations(f, n->b);
    mark_negations(f, n->c);
    for (int i = 0; i < n->list.count; i++) mark_negations(f, n->list.items[i]);
}

static void mark_roles(fmt *f, const ast_node *file)
{
    for (int i = 0; i < file->list.count; i++) {
        const ast_node *d = file->list.items[i];
        bool block = d->kind != AST_LET && d->kind != AST_INCLUDE;
        mark(f, d, ROLE_DECL | (block ? ROLE_BLOCK_DECL : 0u));
        if (block)
            for (int k = 0; k < d->list.count; k++) mark(f, d->list.items[k], ROLE_CLAUSE);
        mark_negations(f, d);
    }
}

/* Matches brackets; a '{' outside any block opens a declaration's body, one inside is a table. */
static void match_brackets(fmt *f)
{
    int *stack = xrealloc(NULL, sizeof *stack * (size_t)(f->n_tok ? f->n_tok : 1));
    int depth = 0, braces = 0;
    for (int i = 0; i < f->n_tok && !f->bad; i++) {
        int k = f->t[i].kind;
        if (k == T_LPAREN || k == T_LBRACKET || k == T_LBRACE) {
            if (k == T_LBRACE) f->t[i].roles |= braces++ == 0 ? ROLE_BLOCK_OPEN : ROLE_TABLE;
            stack[depth++] = i;
        } else if (k == T_RPAREN || k == T_RBRACKET || k == T_RBRACE) {
            int want = k == T_RPAREN ? T_LPAREN : k == T_RBRACKET ? T_LBRACKET : T_LBRACE;
            if (depth == 0 || f->t[stack[depth - 1]].kind != want) {
                give_up(f, "unbalanced brackets");
                break;
            }
            int open = stack[--depth];
            f->t[open].match = i;
            f->t[i].match = open;
            if (k == T_RBRACE) f->t[i].roles |= --braces == 0 ? ROLE_BLOCK_CLOSE : ROLE_TABLE;
        }
    }
    if (depth != 0) give_up(f, "unbalanced brackets");
    free(stack);
    for (int i = 0; i + 1 < f->n_tok; i++) {
        const ftok *next = &f->t[i + 1];
        if (f->t[i].kind == T_COMMA &&
            (next->kind == T_RBRACKET || (next->roles & ROLE_TABLE && next->kind == T_RBRACE)))
            f->t[i].roles |= ROLE_DROP;
    }
}

/* Moves comments off tokens that cannot carry them well: a comma's full-line comments go to the
 * token after it, an end-of-line comment just before a comma or a block's '{' follows that token
 * (`6: ¥1.80,  # note`), and a dropped comma hands its comment to a neighbour. The order of the
 * comments never changes. Then builds each token's list of full-line comments. */
static void settle_comments(fmt *f)
{
    for (int ci = 0; ci < f->n_com; ci++) {
        fcom *c = &f->c[ci];
        if (!c->trailing && c->owner < f->n_tok && f->t[c->owner].kind == T_COMMA) c->owner++;
    }
    for (int ci = 0; ci < f->n_com; ci++)
        if (!f->c[ci].trailing) f->t[f->c[ci].owner].n_lead++;
    for (int ci = 0; ci < f->n_com; ci++) {
        fcom *c = &f->c[ci];
        if (!c->trailing) continue;
        int o = c->owner;
        if (f->t[o].roles & ROLE_DROP) {
            f->t[o].trail = -1;
            if (f->t[o - 1].trail < 0) {
                c->owner = o - 1;
                f->t[o - 1].trail = ci;
            } else {
                c->trailing = false;
                c->owner = o + 1;
                f->t[o + 1].n_lead++;
            }
            continue;
        }
        if (o + 1 >= f->n_tok) continue;
        ftok *next = &f->t[o + 1];
        bool comma = next->kind == T_COMMA && !(next->roles & ROLE_DROP);
        if ((comma || next->roles & ROLE_BLOCK_OPEN) && next->trail < 0 && next->n_lead == 0) {
            f->t[o].trail = -1;
            next->trail = ci;
            c->owner = o + 1;
        }
    }
    /* full-line comments by owner, in source order */
    int sum = 0;
    for (int i = 0; i <= f->n_tok; i++) {
        f->t[i].lead = sum;
        sum += f->t[i].n_lead;
        f->t[i].n_lead = 0;
    }
    f->lead_ids = xrealloc(NULL, sizeof *f->lead_ids * (size_t)(sum ? sum : 1));
    for (int ci = 0; ci < f->n_com; ci++) {
        if (f->c[ci].trailing) continue;
        ftok *t = &f->t[f->c[ci].owner];
        f->lead_ids[t->lead + t->n_lead++] = ci;
    }
}

/* --- the output lines ----------------------------------------------------------------------------- */

static oline *cur(fmt *f) { return &f->lines[f->n_lines - 1]; }

static bool cur_fresh(fmt *f)
{
    const oline *l = cur(f);
    return l->end == l->start && l->comment < 0;
}

static void push_line(fmt *f, int indent)
{
    if (f->n_lines == f->cap_lines) {
        f->cap_lines = f->cap_lines ? f->cap_lines * 2 : 64;
        f->lines = xrealloc(f->lines, sizeof *f->lines * (size_t)f->cap_lines);
    }
    oline *l = &f->lines[f->n_lines++];
    memset(l, 0, sizeof *l);
    l->indent = indent;
    l->start = l->end = f->buf_len;
    l->comment = -1;
}

/* Starts a new line at `indent` (or re-indents the current one if nothing is on it yet). */
static void newline(fmt *f, int indent)
{
    if (cur_fresh(f))
        cur(f)->indent = indent;
    else
        push_line(f, indent);
}

/* Makes sure one empty line separates what comes next from what was printed, if anything was. */
static void blank_line(fmt *f)
{
    if (!cur_fresh(f)) push_line(f, cur(f)->indent);
    if (f->n_lines < 2 || f->lines[f->n_lines - 2].blank) return;
    int indent = cur(f)->indent;
    cur(f)->blank = true;
    push_line(f, indent);
}

static void put(fmt *f, const char *s, size_t n, int width)
{
    if (f->buf_len + n + 1 > f->buf_cap) {
        while (f->buf_len + n + 1 > f->buf_cap) f->buf_cap = f->buf_cap ? f->buf_cap * 2 : 4096;
        f->buf = xrealloc(f->buf, f->buf_cap);
    }
    memcpy(f->buf + f->buf_len, s, n);
    f->buf_len += n;
    cur(f)->end = f->buf_len;
    cur(f)->width += width;
}

static void put_space(fmt *f)
{
    if (cur(f)->end > cur(f)->start) put(f, " ", 1, 1);
}

static int column(fmt *f) { return cur(f)->indent + cur(f)->width; }

static void put_token(fmt *f, int i)
{
    const ftok *t = &f->t[i];
    /* code after an end-of-line comment would be printed before it */
    if (cur(f)->comment >= 0) give_up(f, "a token would follow an end-of-line comment");
    size_t n = (size_t)(t->end - t->off);
    char small[256];
    char *tmp = n <= sizeof small ? small : xrealloc(NULL, n);
    size_t k = token_text(f->text + t->off, n, t->kind, tmp);
    put(f, tmp, k, display_width(tmp, k));
    if (tmp != small) free(tmp);
    if (t->trail >= 0) cur(f)->comment = t->trail;
}

static void put_comment_line(fmt *f, int ci, int indent)
{
    newline(f, indent);
    cur(f)->comment = ci;
    newline(f, indent);
}

/* The full-line comments of token i, each on its own line at `indent`; with `blanks`, a blank
 * line the source has between two of them is kept. Leaves a fresh line at `indent`. */
static void put_leads(fmt *f, int i, int indent, bool blanks)
{
    const ftok *t = &f->t[i];
    for (int k = 0; k < t->n_lead; k++) {
        const fcom *c = &f->c[f->lead_ids[t->lead + k]];
        if (blanks && k > 0 && c->blank_before) blank_line(f);
        put_comment_line(f, f->lead_ids[t->lead + k], indent);
    }
    newline(f, indent);
}

/* --- layout --------------------------------------------------------------------------------------- */

/* One space between tokens p and i on a line, or none. */
static bool space_between(const fmt *f, int p, int i)
{
    int a = f->t[p].kind, b = f->t[i].kind;
    if (b == T_COMMA || b == T_RPAREN || b == T_RBRACKET || b == T_COLON || b == T_DOT) return false;
    if (a == T_LPAREN || a == T_LBRACKET || a == T_DOT) return false;
    if (f->t[p].roles & ROLE_NEG) return b == T_MINUS;                /* - -5, not --5 */
    if (b == T_LPAREN && (a == T_IDENT || a == T_FUNC)) return false; /* a call: sum(tea) */
    return true;
}

static bool is_group(const ftok *t)
{
    return t->kind == T_LBRACKET || (t->kind == T_LBRACE && (t->roles & ROLE_TABLE));
}

/* What token i is separated from the token printed before it (p) by: its full-line comments on
 * lines of their own, a line break when the line already ends in a comment or (with `keep_breaks`)
 * when the author broke the line there, else a space or nothing. Continuation lines are indented
 * to `cont`. No break is kept right after `keyword` (the clause's first word). */
static void separate(fmt *f, int p, int i, int cont, bool keep_breaks, int keyword)
{
    const ftok *t = &f->t[i];
    if (t->n_lead > 0) {
        newline(f, cont);
        put_leads(f, i, cont, false);
        return;
    }
    bool space = space_between(f, p, i);
    bool author_break =
        keep_breaks && p != keyword && t->line > f->t[p].last_line && space && !(t->roles & ROLE_TABLE);
    if (cur(f)->comment >= 0 || author_break) {
        newline(f, cont);
        return;
    }
    if (space) put_space(f);
}

static bool comments_inside(const fmt *f, int open, int close)
{
    for (int j = open; j <= close; j++) {
        if (j > open && f->t[j].n_lead > 0) return true;
        if (j < close && f->t[j].trail >= 0) return true;
    }
    return false;
}

static int flat_width(const fmt *f, int open, int close)
{
    int w = 0, p = -1;
    for (int j = open; j <= close; j++) {
        if (f->t[j].roles & ROLE_DROP) continue;
        if (p >= 0 && space_between(f, p, j)) w++;
        w += token_width(f, j);
        p = j;
    }
    return w;
}

static int emit_group(fmt *f, int open, int cont);

/* Prints tokens [from, to) as one clause, `let`, list entry or table row; the first is printed
 * where the line stands. */
static void emit_run(fmt *f, int from, int to, int cont, bool keep_breaks, int keyword)
{
    int p = -1;
    for (int i = from; i < to;) {
        if (f->t[i].roles & ROLE_DROP) {
            i++;
            continue;
        }
        if (p >= 0) separate(f, p, i, cont, keep_breaks, keyword);
        if (is_group(&f->t[i])) {
            p = emit_group(f, i, cont);
            i = p + 1;
            continue;
        }
        put_token(f, i);
        p = i;
        i++;
    }
}

/* A list or a steps table: on one line when it fits and holds no comment, else one entry per
 * line. Returns the index of its closing bracket. */
static int emit_group(fmt *f, int open, int cont)
{
    int close = f->t[open].match;
    int line_indent = cur(f)->indent;
    bool broken = comments_inside(f, open, close) || column(f) + flat_width(f, open, close) > FMT_WIDTH;
    put_token(f, open);
    if (!broken) {
        if (open + 1 < close && space_between(f, open, open + 1)) put_space(f);
        emit_run(f, open + 1, close, cont, false, -1);
        int p = close - 1;
        if (f->t[p].roles & ROLE_DROP) p--;
        if (space_between(f, p, close)) put_space(f);
        put_token(f, close);
        return close;
    }
    int inner = line_indent + 2;
    int s = open + 1;
    while (s < close) {
        int e = s;
        while (e < close && f->t[e].kind != T_COMMA) {
            int k = f->t[e].kind;
            e = (k == T_LPAREN || k == T_LBRACKET || k == T_LBRACE) ? f->t[e].match + 1 : e + 1;
        }
        if (e > s) {
            newline(f, inner);
            put_leads(f, s, inner, false);
            emit_run(f, s, e, inner + 2, false, -1);
            if (e < close && !(f->t[e].roles & ROLE_DROP)) {
                if (cur(f)->comment >= 0) newline(f, inner + 2);
                put_token(f, e);
            }
        }
        s = e + 1;
    }
    newline(f, inner);
    put_leads(f, close, inner, false);
    newline(f, line_indent);
    put_token(f, close);
    return close;
}

/* The full-line comments before a clause or a block's '}', at the block's indentation. A blank
 * line before a comment is kept, but not right after the '{'. */
static void emit_block_leads(fmt *f, int i, bool first_in_block)
{
    const ftok *t = &f->t[i];
    for (int k = 0; k < t->n_lead; k++) {
        int ci = f->lead_ids[t->lead + k];
        newline(f, 2);
        if (f->c[ci].blank_before && !(first_in_block && k == 0)) blank_line(f);
        put_comment_line(f, ci, 2);
    }
}

static void emit_decl(fmt *f, int d, int end)
{
    if (!(f->t[d].roles & ROLE_BLOCK_DECL)) {
        emit_run(f, d, end, 2, true, d);
        return;
    }
    int open = d;
    while (open < end && !(f->t[open].roles & ROLE_BLOCK_OPEN)) open++;
    if (open >= end || f->t[open].match != end - 1) {
        give_up(f, "a block does not end where its declaration does");
        return;
    }
    int close = end - 1;
    emit_run(f, d, open, 2, false, d);
    if (open > d) separate(f, open - 1, open, 2, false, -1);
    put_token(f, open);
    bool first = true;
    for (int k = open + 1; k < close;) {
        if (!(f->t[k].roles & ROLE_CLAUSE)) {
            give_up(f, "a block holds something that is not a clause");
            return;
        }
        int ce = k + 1;
        while (ce < close && !(f->t[ce].roles & ROLE_CLAUSE)) ce++;
        emit_block_leads(f, k, first);
        newline(f, 2);
        emit_run(f, k, ce, 4, true, k);
        first = false;
        k = ce;
    }
    emit_block_leads(f, close, first);
    newline(f, 0);
    put_token(f, close);
}

static bool blank_before_item(const fmt *f, int i)
{
    const ftok *t = &f->t[i];
    return t->n_lead > 0 ? f->c[f->lead_ids[t->lead]].blank_before : t->blank_before;
}

static void emit_file(fmt *f)
{
    push_line(f, 0);
    int prev = -1;
    for (int i = 0; i < f->n_tok && !f->bad;) {
        if (!(f->t[i].roles & ROLE_DECL)) {
            give_up(f, "a token outside every declaration");
            return;
        }
        int end = i + 1;
        while (end < f->n_tok && !(f->t[end].roles & ROLE_DECL)) end++;
        if (prev >= 0) {
            newline(f, 0);
            if ((f->t[prev].roles & ROLE_BLOCK_DECL) || (f->t[i].roles & ROLE_BLOCK_DECL) ||
                blank_before_item(f, i))
                blank_line(f);
        }
        if (f->t[i].n_lead > 0) {
            put_leads(f, i, 0, true);
            if (f->t[i].blank_before) blank_line(f);
        }
        newline(f, 0);
        emit_decl(f, i, end);
        prev = i;
        i = end;
    }
    if (f->t[f->n_tok].n_lead > 0) {
        if (f->n_tok > 0) {
            newline(f, 0);
            if (blank_before_item(f, f->n_tok)) blank_line(f);
        }
        put_leads(f, f->n_tok, 0, true);
    }
}

/* --- rendering -------------------------------------------------------------------------------------- */

static void out_put(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        while (*len + n + 1 > *cap) *cap = *cap ? *cap * 2 : 4096;
        *out = xrealloc(*out, *cap);
    }
    if (n) memcpy(*out + *len, s, n); /* s may be NULL when n is 0 (a file without code) */
    *len += n;
    (*out)[*len] = '\0';
}

static void out_spaces(char **out, size_t *len, size_t *cap, int n)
{
    static const char spaces[] = "                                ";
    while (n > 0) {
        int k = n < 32 ? n : 32;
        out_put(out, len, cap, spaces, (size_t)k);
        n -= k;
    }
}

/* Joins the lines; end-of-line comments of consecutive lines with the same indentation line up
 * two spaces after the longest code among them. */
static char *render(fmt *f, bool bom, size_t *out_len)
{
    char *out = NULL;
    size_t len = 0, cap = 0;
    out_put(&out, &len, &cap, "", 0);
    int n = f->n_lines;
    while (n > 0 && f->lines[n - 1].end == f->lines[n - 1].start && f->lines[n - 1].comment < 0) n--;
    if (bom && n > 0) out_put(&out, &len, &cap, "\xEF\xBB\xBF", 3);
    int run_end = -1, align = 0;
    for (int i = 0; i < n; i++) {
        const oline *l = &f->lines[i];
        bool code = l->end > l->start;
        if (code && l->comment >= 0 && i >= run_end) {
            align = 0;
            run_end = i;
            while (run_end < n && f->lines[run_end].end > f->lines[run_end].start &&
                   f->lines[run_end].comment >= 0 && f->lines[run_end].indent == l->indent) {
                int w = f->lines[run_end].indent + f->lines[run_end].width;
                if (w > align) align = w;
                run_end++;
            }
            align += 2;
        }
        if (!l->blank) {
            out_spaces(&out, &len, &cap, l->indent);
            out_put(&out, &len, &cap, f->buf + l->start, l->end - l->start);
            if (l->comment >= 0) {
                const fcom *c = &f->c[l->comment];
                if (code) out_spaces(&out, &len, &cap, align - l->indent - l->width);
                out_put(&out, &len, &cap, f->text + c->off, (size_t)(c->end - c->off));
            }
        }
        out_put(&out, &len, &cap, "\n", 1);
    }
    *out_len = len;
    return out;
}

/* --- the safety net ------------------------------------------------------------------------------- */

/* Token texts compare as printed (squeezed whitespace). */
static bool same_text(const char *a, size_t an, const char *b, size_t bn, int kind)
{
    if (!squeezable(kind)) return an == bn && memcmp(a, b, an) == 0;
    char *x = xrealloc(NULL, an), *y = xrealloc(NULL, bn);
    size_t xn = token_text(a, an, kind, x), yn = token_text(b, bn, kind, y);
    bool same = xn == yn && memcmp(x, y, xn) == 0;
    free(x);
    free(y);
    return same;
}

static bool verify(const fmt *f, const char *out, size_t out_len, char *err, size_t errlen)
{
    source_set src;
    diag_engine diags;
    source_init(&src);
    src.max_bytes = out_len + 1;
    diag_init(&diags, &src);
    ast_arena *arena = ast_arena_new();
    parse_layout lay;
    memset(&lay, 0, sizeof lay);
    ast_node *root = parse_text_layout(&src, &diags, arena, "<formatted>", out, out_len, &lay);
    bool ok = true;
    if (diags.errors > 0) {
        snprintf(err, errlen, "the formatted text does not parse");
        ok = false;
    }
    const char *text = ok ? src.files[root->span.file].text : NULL;
    int j = 0;
    for (int i = 0; ok && i < f->n_tok; i++) {
        const ftok *t = &f->t[i];
        if (t->roles & ROLE_DROP) continue;
        if (j >= lay.n_tokens) {
            snprintf(err, errlen, "the formatted text has fewer tokens (line %d)", t->line);
            ok = false;
            break;
        }
        const parse_lexeme *x = &lay.tokens[j++];
        if (x->kind != t->kind ||
            !same_text(f->text + t->off, (size_t)(t->end - t->off), text + x->span.first_offset,
                       (size_t)(x->span.last_offset - x->span.first_offset), t->kind)) {
            snprintf(err, errlen, "the token at line %d reads differently once formatted (line %d)", t->line,
                     x->span.first_line);
            ok = false;
        }
    }
    if (ok && j != lay.n_tokens) {
        snprintf(err, errlen, "the formatted text has more tokens");
        ok = false;
    }
    if (ok && lay.n_comments != f->n_com) {
        snprintf(err, errlen, "the formatted text has %d comments instead of %d", lay.n_comments, f->n_com);
        ok = false;
    }
    for (int i = 0; ok && i < f->n_com; i++) {
        const fcom *c = &f->c[i];
        const ast_span *y = &lay.comments[i];
        size_t n = (size_t)(c->end - c->off);
        size_t m = (size_t)(y->last_offset - y->first_offset);
        if (m != n || memcmp(f->text + c->off, text + y->first_offset, n) != 0) {
            snprintf(err, errlen, "the comment of line %d moved or changed", c->line);
            ok = false;
        }
    }
    parse_layout_free(&lay);
    ast_arena_free(arena);
    diag_free(&diags);
    source_free(&src);
    return ok;
}

/* --- entry point -------------------------------------------------------------------------------- */

fmt_status fmt_text(source_set *sources, diag_engine *diags, const char *name, const char *text, size_t len,
                    char **out, size_t *out_len, char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    if (errlen) err[0] = '\0';
    int errors_before = diags->errors;
    ast_arena *arena = ast_arena_new();
    parse_layout lay;
    memset(&lay, 0, sizeof lay);
    ast_node *root = parse_text_layout(sources, diags, arena, name, text, len, &lay);
    if (diags->errors > errors_before) {
        parse_layout_free(&lay);
        ast_arena_free(arena);
        return FMT_SYNTAX_ERROR;
    }
    fmt f;
    memset(&f, 0, sizeof f);
    f.text = sources->files[root->span.file].text;
    bool bom = len >= 3 && memcmp(f.text, "\xEF\xBB\xBF", 3) == 0;
    load_tokens(&f, &lay);
    parse_layout_free(&lay);
    attach_comments(&f);
    mark_roles(&f, root);
    match_brackets(&f);
    if (!f.bad) settle_comments(&f);
    if (!f.bad) emit_file(&f);
    fmt_status status = FMT_INTERNAL_ERROR;
    if (f.bad) {
        snprintf(err, errlen, "cannot lay the file out: %s", f.why);
    } else {
        size_t n = 0;
        char *text_out = render(&f, bom, &n);
        if (verify(&f, text_out, n, err, errlen)) {
            *out = text_out;
            *out_len = n;
            status = FMT_OK;
        } else {
            free(text_out);
        }
    }
    free(f.t);
    free(f.c);
    free(f.lead_ids);
    free(f.buf);
    free(f.lines);
    ast_arena_free(arena);
    return status;
}
