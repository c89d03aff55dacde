/* result_names.c - builds a result_names table from a loaded perk_program.
 *
 * Kept apart from result_json.c: this is the only part of the renderers that calls libperk, so
 * the renderers and their tests link without a program loader.
 */
#include <stdlib.h>

#include "result_json.h"

/* One allocation holds the struct and its three arrays. */
typedef struct names_block {
    result_names names;
    const char **ids, **labels, **notes, **earns;
    bool *per_sku, *consumes;
} names_block;

static const char *program_condition_text(const void *user, uint32_t condition)
{
    return perk_condition_text((const perk_program *)user, condition);
}

static result_value_kind program_condition_kind(const void *user, uint32_t condition)
{
    switch (perk_condition_value_kind((const perk_program *)user, condition)) { /* no default (-Wswitch) */
    case PERK_VALUE_MONEY: return RESULT_VALUE_MONEY;
    case PERK_VALUE_PERCENT: return RESULT_VALUE_PERCENT;
    case PERK_VALUE_DATE: return RESULT_VALUE_DATE;
    case PERK_VALUE_TIME: return RESULT_VALUE_TIME;
    case PERK_VALUE_DURATION: return RESULT_VALUE_DURATION;
    case PERK_VALUE_DATETIME: return RESULT_VALUE_DATETIME;
    case PERK_VALUE_MONTH_DAY: return RESULT_VALUE_MONTH_DAY;
    case PERK_VALUE_PLAIN:
    case PERK_VALUE_KIND_COUNT: break;
    }
    return RESULT_VALUE_PLAIN;
}

static void program_condition_location(const void *user, uint32_t condition, const char **file,
                                       uint32_t *line, uint32_t *col)
{
    perk_condition_location((const perk_program *)user, condition, file, line, col);
}

result_names *result_names_from_program(const perk_program *prog)
{
    if (!prog) return NULL;
    size_t np = perk_program_promotion_count(prog), ne = perk_program_earn_count(prog);
    names_block *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->ids = calloc(np ? np : 1, sizeof *b->ids);
    b->labels = calloc(np ? np : 1, sizeof *b->labels);
    b->notes = calloc(np ? np : 1, sizeof *b->notes);
    b->earns = calloc(ne ? ne : 1, sizeof *b->earns);
    b->per_sku = calloc(np ? np : 1, sizeof *b->per_sku);
    b->consumes = calloc(np ? np : 1, sizeof *b->consumes);
    if (!b->ids || !b->labels || !b->notes || !b->earns || !b->per_sku || !b->consumes) {
        result_names_free(&b->names);
        return NULL;
    }
    for (size_t i = 0; i < np; i++) {
        b->ids[i] = perk_program_promotion_id(prog, i);
        b->labels[i] = perk_program_promotion_label(prog, i);
        b->notes[i] = perk_program_promotion_note(prog, i);
        b->per_sku[i] = perk_program_promotion_per_sku(prog, i);
        b->consumes[i] = perk_program_promotion_consumes(prog, i);
    }
    for (size_t i = 0; i < ne; i++) b->earns[i] = perk_program_earn_id(prog, i);
    b->names = (result_names){
        .n_promotions = np,
        .promotion_ids = b->ids,
        .promotion_labels = b->labels,
        .promotion_notes = b->notes,
        .promotion_per_sku = b->per_sku,
        .promotion_consumes = b->consumes,
        .n_earns = ne,
        .earn_ids = b->earns,
        .condition_text = program_condition_text,
        .condition_location = program_condition_location,
        .condition_kind = program_condition_kind,
        .user = prog,
    };
    return &b->names;
}

void result_names_free(result_names *names)
{
    if (!names) return;
    names_block *b = (names_block *)names; /* names is the first member of its block */
    free(b->ids);
    free(b->labels);
    free(b->notes);
    free(b->per_sku);
    free(b->consumes);
    free(b->earns);
    free(b);
}
