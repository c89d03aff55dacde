/* check_best.c - the checker's rules for best-deal groups (`exclusive "g" best`, docs/semantics.md
 * "Best-deal groups"): a group is either a best-deal group or a first-wins one, so every member
 * says `best` or none does (best-group-mixed); every member runs in the same stage, where the
 * group is decided at once (best-group-stages); and a group of one compares nothing (a warning,
 * best-group-alone: its other members were likely spelled another way). Linear after one sort. */
#include "check_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stage.h"

typedef struct best_entry {
    const char *group;
    int index; /* declaration order */
    const ast_node *promo, *clause;
} best_entry;

static int compare_entries(const void *pa, const void *pb)
{
    const best_entry *a = pa, *b = pb;
    int g = strcmp(a->group, b->group);
    if (g != 0) return g;
    return (a->index > b->index) - (a->index < b->index);
}

static const char *name_of(const ast_node *p) { return p->name ? p->name : ""; }

void check_best_groups(check_ctx *c)
{
    int n = c->info->n_promotions;
    if (n < 1) return;
    best_entry *e = calloc((size_t)n, sizeof *e);
    if (e == NULL) {
        fprintf(stderr, "perk: out of memory\n");
        abort();
    }
    int count = 0;
    for (int i = 0; i < n; i++) {
        const ast_node *p = c->info->promotions[i];
        for (int k = 0; k < p->list.count; k++) {
            const ast_node *cl = p->list.items[k];
            if (cl == NULL || cl->kind != AST_CLAUSE || cl->op != CL_EXCLUSIVE) continue;
            if (cl->name == NULL || cl->name[0] == '\0') break;
            e[count++] = (best_entry){ cl->name, i, p, cl };
            break;
        }
    }
    qsort(e, (size_t)count, sizeof *e, compare_entries);
    for (int start = 0; start < count;) {
        int end = start + 1;
        while (end < count && strcmp(e[end].group, e[start].group) == 0) end++;
        const best_entry *best = NULL; /* the first member saying `best` */
        for (int k = start; k < end && best == NULL; k++)
            if (e[k].clause->ival) best = &e[k];
        if (best != NULL && end - start == 1)
            diag_report(c->diags, DIAG_BEST_GROUP_ALONE, best->clause->span,
                        "put the promotions it should be compared with in the group, or drop `best`",
                        "best-deal group \"%s\" has only `%s`: there is nothing to compare it with", best->group,
                        name_of(best->promo));
        for (int k = start; best != NULL && k < end; k++) {
            const best_entry *x = &e[k];
            if (!x->clause->ival) {
                diag_report(c->diags, DIAG_BEST_GROUP_MIXED, x->clause->span,
                            "write `best` in every promotion of the group, or in none",
                            "exclusive group \"%s\" is a best-deal group in `%s` but first-wins in `%s`",
                            x->group, name_of(best->promo), name_of(x->promo));
                diag_note(c->diags, best->clause->span, "`%s` makes it a best-deal group here",
                          name_of(best->promo));
                continue;
            }
            prog_stage s = stage_of(x->promo), s0 = stage_of(best->promo);
            if (s != s0) {
                char hint[300];
                snprintf(hint, sizeof hint,
                         "the group is decided at once, in one stage: give its members the same `stage` "
                         "clause (`stage %s`), or put `%s` in another group",
                         prog_stage_name(s0), name_of(x->promo));
                diag_report(c->diags, DIAG_BEST_GROUP_STAGES, x->clause->span, hint,
                            "promotions `%s` (stage %s) and `%s` (stage %s) of best-deal group \"%s\" run in "
                            "different stages",
                            name_of(best->promo), prog_stage_name(s0), name_of(x->promo), prog_stage_name(s),
                            x->group);
                diag_note(c->diags, best->clause->span, "`%s` is here", name_of(best->promo));
            }
        }
        start = end;
    }
    free(e);
}
