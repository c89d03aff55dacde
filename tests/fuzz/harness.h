/* harness.h - what the fuzz targets (tests/fuzz/fuzz_*.c) share: the libFuzzer entry point, small
 * evaluation limits, a few fixed carts, the result invariants every evaluation must satisfy, and
 * rendering a result the way the CLI does.
 *
 * The same target sources build two ways (fuzz.mk): with clang and libFuzzer into build-fuzz/fuzz/,
 * and with the normal compiler and tests/fuzz/replay.c into $(B)/fuzz-replay/, which replays the
 * seed corpus and the crash regressions on every `make test`.
 *
 * A violated invariant calls fuzz_fail(), which prints what broke and aborts, so that libFuzzer
 * records the input as a crash (and the replay fails).
 */
#ifndef PERK_FUZZ_HARNESS_H
#define PERK_FUZZ_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json/cart_json.h"
#include "json/result_json.h"
#include "perk.h"

/* libFuzzer's entry point, defined once by each target. Returns 0 (inputs are never rejected). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2026-03-04 12:00 UTC, a Wednesday: the order time of every fixed cart, and of any fuzzed cart
 * that does not give one (so that no run depends on the clock). */
#define FUZZ_ORDER_TIME 1772625600LL

/* Limits small enough for fast iterations: 130 lines (three words of line bits), 8 tags,
 * 8 coupons, 200,000 instructions. */
perk_limits fuzz_limits(void);

/* Prints "fuzz: invariant violated: <message>" to stderr and aborts. */
_Noreturn void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Checks a result returned by perk_evaluate with these limits:
 *   - its status is one an evaluation may end with (OK, OVERFLOW, BUDGET, LIMIT); MALFORMED (an
 *     internal check of the VM failed), NOMEM, STATE or any input status is a bug here, because the
 *     harnesses only evaluate carts that were accepted;
 *   - it ran at most instruction_budget + 1 instructions (the one that found the budget spent);
 *   - for PERK_OK, every total adds up (see fuzz_check_totals). */
void fuzz_check_result(const perk_result *r, const perk_limits *limits);

/* The invariants of an OK result, recomputed from its parts: allocations positive, in range and
 * grouped by line; each line's final = original - its allocations >= 0; each promotion's discount
 * = the sum of its allocations (0 unless applied); discount = sum of allocations; subtotal = sum
 * of originals; shipping 0 <= after <= before, with the difference = the promotions' shipping
 * discounts; redeem_goods + redeem_shipping = redeem_value, each within what it pays for; payable
 * = subtotal - discount + shipping_after - redeem_value >= 0; points_earned = sum of the earn rules'
 * points, none negative. */
void fuzz_check_totals(const perk_result *r);

/* Renders r as JSON (every form, checked with fuzz_render_same) and as an explanation into /dev/null, as `perk eval`
 * does; prog supplies the names, doc (may be NULL) the line ids. */
void fuzz_render(const perk_program *prog, const perk_result *r, const cart_doc *doc);
/* Every form of the JSON rendering (all flag combinations) must be byte for byte what the jansson
 * renderer it replaced wrote (tests/unit/ref/result_json_ref.h). */
void fuzz_render_same(const result_names *names, const perk_result *r, const cart_doc *doc);

/* Evaluates a few fixed carts against prog (a guest with an empty cart, the tea shop cart of a gold
 * member with coupons and points, a mixed cart with usage and an exclusion, a cart of 70 lines,
 * and amounts at the limits), checking each result with fuzz_check_result and rendering it.
 * Every cart input must be accepted. */
void fuzz_eval_fixed_carts(perk_program *prog);

#endif
