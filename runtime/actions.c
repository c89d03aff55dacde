/* actions.c - the static action-kind table, expanded from PROG_ACTION_LIST (actions.h) so that
 * nothing about an action kind is written down twice. */
#include "actions.h"

const prog_action_info prog_action_table[PROG_ACT_COUNT] = {
#define PROG_ACTION_INFO(kind, name, stage, goods, sets, steps, empty, margin, layout, p0, p1, p2, str1, \
                         show, doc)                                                                      \
    [PROG_ACT_##kind] = { name,                                                                          \
                          PROG_ASTAGE_##stage,                                                           \
                          goods,                                                                         \
                          sets,                                                                          \
                          PROG_STEPS_##steps,                                                            \
                          PROG_EMPTY_##empty,                                                            \
                          PROG_MARGIN_##margin,                                                          \
                          PROG_LAYOUT_##layout,                                                          \
                          { PROG_OPND_##p0, PROG_OPND_##p1, PROG_OPND_##p2 },                            \
                          str1,                                                                          \
                          show,                                                                          \
                          doc },
    PROG_ACTION_LIST(PROG_ACTION_INFO)
#undef PROG_ACTION_INFO
};
