/* json.h - what src/json/ offers: carts read from JSON, results written as JSON, explanations.
 *
 * The one header other subsystems include. It depends on libperk (perk.h) only:
 *   cart_json.h    cart documents -> perk_cart_input / a context (docs/cart.md)
 *   result_json.h  perk_result -> JSON (docs/result.md), and the names of result enums
 *   explain.h      perk_result -> the explanation table people read
 */
#ifndef PERK_JSON_H
#define PERK_JSON_H

#include <cart_json.h>
#include "explain.h"
#include "result_json.h"

#endif
