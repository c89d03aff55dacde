/* tools.h - what src/tools/ offers: the operators' tools built on the compiler and the JSON layer.
 *
 * The one header the CLI includes for them:
 *   diff.h        what-if replay of orders under two rule-set versions (`perk diff`)
 *   gen_orders.h  seeded realistic orders for a rule set (`perk gen-orders`)
 *   report.h      results of campaigns over a period (`perk report`, the console)
 *   ruletest.h    the rule tests: .test files of carts and expected results (`perk test`)
 */
#ifndef PERK_TOOLS_H
#define PERK_TOOLS_H

#include "diff.h"
#include "gen_orders.h"
#include "report.h"
#include "ruletest.h"

#endif
