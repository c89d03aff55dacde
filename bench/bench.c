/* bench.c - the benchmark harness: Perk's VM against the same promotions in Lua.
 *
 * Built twice (Lua 5.4 and LuaJIT export the same symbols, so they cannot share a binary):
 *   build-bench/bench_lua54    Perk + Lua 5.4
 *   build-bench/bench_luajit   Perk + LuaJIT (-DBENCH_LUAJIT)
 * Both link libperk and the compiler, and each times Perk in the same process as its Lua runtime
 * (Perk's records from the LuaJIT binary are tagged "@luajit"); bench/run.sh runs both and
 * merges their records.
 *
 * For each ruleset size N (bench/gen.c wrote rules_N.perk and rules_N.lua) the harness compiles
 * the Perk source (timed), loads it under a counting allocator (bytes per rule), creates its
 * contexts, and loads the Lua ruleset into three fresh Lua states: bench/lua_engine.lua (the scan
 * engine), bench/lua_engine_indexed.lua, and the indexed engine again for the checkout path. For
 * each cart size M it builds every cart once per engine, then BEFORE timing checks that Perk and
 * every Lua engine agree on every cart (total discount, shipping, points, gifts and each line's
 * final amount) and aborts with a report if they do not. Then it times one evaluation per
 * sample, cycling over the carts, the engines interleaved in blocks (time_interleaved):
 *   perk       perk_cart_reset/set_customer/set_order/add_line/add_coupon + perk_evaluate
 *   perk_eval  perk_evaluate only (the cart is loaded into its own context untimed)
 *   perk_eval_applied  the same from a context explaining only what applied (PERK_EXPLAIN_APPLIED)
 *   lua54 / luajit  the scan engine: one engine.evaluate(prog, cart) through lua_pcall, cart prebuilt
 *   lua54_idx / luajit_idx  the indexed engine, the same way
 *   lua54_idx_checkout / luajit_idx_checkout  the cart written from C into a reused Lua table,
 *              then engine.cart + engine.evaluate in one lua_pcall (lua_side_checkout)
 * and after them, on their own (Lua 5.4 binary, --time json):
 *   perk_json  cart_json_parse + cart_json_feed + perk_evaluate + result_json_render (and
 *              perk_json_applied: the same, rendering the applied promotions only, from the
 *              context explaining only those)
 * Output: tab-separated records on stdout (bench/run.sh formats them), progress on stderr.
 *
 * Usage: bench_lua54 --data DIR [--rules 10,100] [--lines 1,20] [--seconds 0.3]
 *                    [--time perk,lua] [--engine-dir bench]
 *        bench_lua54 --perk-loop K [--explain all|applied] --data DIR --rules 100 --lines 20
 *                    (evaluates Perk K times and nothing else: for callgrind and perf)
 *        bench_lua54 --perk-loop K --loop-engine checkout|lua_idx|lua_idx_checkout|lua ...
 *                    (K runs of that engine: callgrind counts it through bench_once_*)
 *        bench_lua54 --threads 2 --data DIR --rules 100 --lines 20 [--seconds 1]
 *                    (throughput with 1 and 2 threads, a context each: threads_test)
 *        bench_lua54 --lua-test bench/test_lua_engine.lua [bench/lua_engine_indexed.lua]
 *                    (runs the engine's hand-checked tests in the embedded runtime)
 */
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "cartfile.h"
#include "perk_carts.h"
#include "compiler/compiler.h"
#include "perk.h"

#if defined(__has_include)
#if __has_include("json/cart_json.h") && __has_include("json/result_json.h")
#define BENCH_HAVE_JSON 1
#include "json/cart_json.h"
#include "json/result_json.h"
#endif
#endif

#ifdef BENCH_LUAJIT
#include <luajit.h>
#define LUA_ENGINE_NAME "luajit"
#define PERK_TAG "@luajit" /* Perk's records from this process: its ratios to LuaJIT's */
#else
#define LUA_ENGINE_NAME "lua54"
#define PERK_TAG ""
#endif


#define MAX_SIZES 16
#define MAX_SAMPLES 4000000u
#define WARMUP_SECONDS 0.05
#define WARMUP_CPU_SECONDS 0.2 /* per engine, before interleaved timing (time_interleaved) */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread: unlike the wall clock, it does not count the time other
 * processes hold the core. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) die("%s: %s (run bench/run.sh, which generates the workloads)", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) die("%s: cannot seek", path);
    long n = ftell(f);
    if (n < 0) die("%s: cannot tell its size", path);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) die("%s: cannot read", path);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* ------------------------------------------------------------------ Lua side */

typedef struct lua_side {
    lua_State *L;
    const char *name; /* the record's engine name: lua54, lua54_idx, luajit, luajit_idx */
    bool indexed;     /* bench/lua_engine_indexed.lua (else the scan engine, lua_engine.lua) */
    bool checkout_path; /* this state runs the checkout path only (lua_side_checkout) */
    int engine;       /* registry ref: the engine module */
    int evaluate;     /* registry ref: engine.evaluate */
    int checkout;     /* registry ref: function(prog, cart) engine.cart(cart) return engine.evaluate(prog, cart) end */
    int scratch;      /* registry ref: the cart table the checkout path refills in place */
    int prog;         /* registry ref: the loaded ruleset */
    int carts;        /* registry ref: array of prebuilt carts */
} lua_side;

#ifdef BENCH_LUAJIT
#define LUA_LEN(L, i) lua_objlen((L), (i))
#else
#define LUA_LEN(L, i) lua_rawlen((L), (i))
#endif

static void lua_check(lua_State *L, int status, const char *what)
{
    if (status != 0) die("%s (%s): %s", what, LUA_ENGINE_NAME, lua_tostring(L, -1));
}

/* A fresh Lua state with the standard libraries; under LuaJIT, its trace limits raised so that
 * the 10,000-rule sets do not make it flush and recompile (defaults: 1,000 traces, 512 kB of
 * machine code; maxmcode is in kB). */
static lua_State *lua_state_new(void)
{
    lua_State *L = luaL_newstate();
    if (L == NULL) die("cannot create a Lua state");
    luaL_openlibs(L);
#ifdef BENCH_LUAJIT
    lua_check(L, luaL_dostring(L, "jit.opt.start('maxtrace=20000', 'maxmcode=65536')"), "jit.opt.start");
    /* BENCH_JITV=FILE: LuaJIT's trace log (jit.v: compiled traces, aborts and their reasons) */
    if (getenv("BENCH_JITV") != NULL)
        lua_check(L,
                  luaL_dostring(L, "package.path = package.path .. ';/usr/share/luajit-2.1.0-beta3/?.lua' "
                                   "require('jit.v').start(os.getenv('BENCH_JITV'))"),
                  "jit.v");
#endif
    return L;
}

/* Opens one Lua engine (bench/lua_engine.lua, or lua_engine_indexed.lua when indexed) in its
 * own state. */
static void lua_side_open(lua_side *s, const char *engine_dir, bool indexed, bool checkout)
{
    char path[4096];
    s->L = lua_state_new();
    s->indexed = indexed;
    s->checkout_path = checkout;
#ifdef BENCH_LUAJIT
    s->name = checkout ? "luajit_idx_checkout" : indexed ? "luajit_idx" : "luajit";
#else
    s->name = checkout ? "lua54_idx_checkout" : indexed ? "lua54_idx" : "lua54";
#endif
    snprintf(path, sizeof path, "%s/lua_boot.lua", engine_dir);
    lua_check(s->L, luaL_loadfile(s->L, path), "loading lua_boot.lua");
    lua_check(s->L, lua_pcall(s->L, 0, 1, 0), "running lua_boot.lua");
    snprintf(path, sizeof path, "%s/%s", engine_dir, indexed ? "lua_engine_indexed.lua" : "lua_engine.lua");
    lua_pushstring(s->L, path);
    lua_check(s->L, lua_pcall(s->L, 1, 1, 0), "loading the Lua engine");
    lua_getfield(s->L, -1, "evaluate");
    s->evaluate = luaL_ref(s->L, LUA_REGISTRYINDEX);
    lua_check(s->L,
              luaL_loadstring(s->L, "local e = ... local cart, evaluate = e.cart, e.evaluate\n"
                                    "return function(p, c) cart(c) return evaluate(p, c) end"),
              "loading the checkout function");
    lua_pushvalue(s->L, -2);
    lua_check(s->L, lua_pcall(s->L, 1, 1, 0), "making the checkout function");
    s->checkout = luaL_ref(s->L, LUA_REGISTRYINDEX);
    s->engine = luaL_ref(s->L, LUA_REGISTRYINDEX);
    lua_createtable(s->L, 0, 16);
    lua_newtable(s->L);
    lua_setfield(s->L, -2, "lines");
    lua_newtable(s->L);
    lua_setfield(s->L, -2, "couponlist");
    s->scratch = luaL_ref(s->L, LUA_REGISTRYINDEX);
    s->prog = s->carts = LUA_NOREF;
}

static int64_t lua_mem_bytes(lua_State *L)
{
#ifdef BENCH_LUAJIT
    /* compiled traces keep the constants they were recorded with (the previous cell's program)
     * alive; flushed, the collection below frees them now rather than during the next load */
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_FLUSH);
#endif
    lua_gc(L, LUA_GCCOLLECT, 0);
    lua_gc(L, LUA_GCCOLLECT, 0);
    return (int64_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + lua_gc(L, LUA_GCCOUNTB, 0);
}

/* Loads rules_N.lua and engine.load()s it. Returns the seconds taken; *bytes the memory held. */
static double lua_side_load_rules(lua_side *s, const char *path, int64_t *bytes)
{
    lua_State *L = s->L;
    /* the previous cell's program and carts (rebuilt for every cell) are released first, so
     * that nothing freed during the load is subtracted from what the ruleset holds */
    luaL_unref(L, LUA_REGISTRYINDEX, s->prog);
    luaL_unref(L, LUA_REGISTRYINDEX, s->carts);
    s->prog = s->carts = LUA_NOREF;
    int64_t before = lua_mem_bytes(L);
    uint64_t t0 = now_ns();
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->engine);
    lua_getfield(L, -1, "load");
    lua_check(L, luaL_loadfile(L, path), "loading the Lua ruleset");
    lua_check(L, lua_pcall(L, 0, 1, 0), "running the Lua ruleset");
    lua_check(L, lua_pcall(L, 1, 1, 0), "engine.load");
    s->prog = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    double secs = (double)(now_ns() - t0) / 1e9;
    *bytes = lua_mem_bytes(L) - before;
    return secs;
}

static void set_str(lua_State *L, const char *key, const char *v)
{
    if (v == NULL) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, key);
}

static void set_int(lua_State *L, const char *key, int64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, key);
}

/* Builds every cart as a Lua table (then engine.cart indexes it), once, before timing. */
static void lua_side_build_carts(lua_side *s, const bench_cartfile *cf)
{
    lua_State *L = s->L;
    luaL_unref(L, LUA_REGISTRYINDEX, s->carts);
    lua_createtable(L, (int)cf->n_carts, 0);
    for (uint32_t k = 0; k < cf->n_carts; k++) {
        const bench_cart *c = &cf->carts[k];
        lua_rawgeti(L, LUA_REGISTRYINDEX, s->engine);
        lua_getfield(L, -1, "cart");
        lua_remove(L, -2);
        lua_createtable(L, 0, 12);
        lua_createtable(L, (int)c->n_lines, 0);
        for (uint32_t i = 0; i < c->n_lines; i++) {
            const bench_line *l = &c->lines[i];
            lua_createtable(L, 0, 10);
            set_str(L, "sku", l->sku);
            set_str(L, "category", l->category);
            set_str(L, "brand", l->brand);
            lua_createtable(L, (int)l->n_tags, 0);
            for (uint32_t t = 0; t < l->n_tags; t++) {
                lua_pushstring(L, l->tags[t]);
                lua_rawseti(L, -2, (int)t + 1);
            }
            lua_setfield(L, -2, "taglist");
            set_int(L, "price", l->price);
            set_int(L, "qty", l->quantity);
            set_int(L, "margin", l->margin_ppm);
            lua_rawseti(L, -2, (int)i + 1);
        }
        lua_setfield(L, -2, "lines");
        set_int(L, "tier", c->tier);
        lua_pushboolean(L, c->first_order != 0);
        lua_setfield(L, -2, "first_order");
        set_int(L, "bmonth", c->birthday_month);
        set_int(L, "bday", c->birthday_day);
        set_int(L, "time", c->time);
        set_str(L, "channel", c->channel);
        set_int(L, "shipping", c->shipping);
        lua_createtable(L, (int)c->n_coupons, 0);
        for (uint32_t t = 0; t < c->n_coupons; t++) {
            lua_pushstring(L, c->coupons[t]);
            lua_rawseti(L, -2, (int)t + 1);
        }
        lua_setfield(L, -2, "couponlist");
        lua_check(L, lua_pcall(L, 1, 1, 0), "engine.cart");
        lua_rawseti(L, -2, (int)k + 1);
    }
    s->carts = luaL_ref(L, LUA_REGISTRYINDEX);
}

typedef struct outcome {
    int64_t discount, shipping, points, gifts;
} outcome;

/* The checkout path: what a Lua checkout pays per cart when the cart arrives as C data, timed
 * beside Perk's perk_cart_* loading. The cart's fields are written into one Lua cart table
 * refilled in place (its line and tag tables created only when a cart is bigger than any
 * before; strings pushed with lua_pushstring, which interns them, as Perk interns its strings),
 * then one lua_pcall runs engine.cart (the per-cart indexing) and engine.evaluate. Indexed
 * engine only: the scan engine's engine.cart allocates its sets per line. */
static outcome lua_side_checkout(lua_side *s, const bench_cart *c)
{
    lua_State *L = s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->checkout);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->prog);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->scratch);
    lua_getfield(L, -1, "lines");
    for (uint32_t i = 0; i < c->n_lines; i++) {
        const bench_line *l = &c->lines[i];
        lua_rawgeti(L, -1, (int)i + 1);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_createtable(L, 0, 12);
            lua_createtable(L, 4, 0);
            lua_setfield(L, -2, "taglist");
            lua_pushvalue(L, -1);
            lua_rawseti(L, -3, (int)i + 1);
        }
        set_str(L, "sku", l->sku);
        set_str(L, "category", l->category);
        set_str(L, "brand", l->brand);
        set_int(L, "price", l->price);
        set_int(L, "qty", l->quantity);
        set_int(L, "margin", l->margin_ppm);
        lua_getfield(L, -1, "taglist");
        for (uint32_t t = 0; t < l->n_tags; t++) {
            lua_pushstring(L, l->tags[t]);
            lua_rawseti(L, -2, (int)t + 1);
        }
        lua_pop(L, 1);
        set_int(L, "nt", l->n_tags);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    set_int(L, "n", c->n_lines);
    set_int(L, "tier", c->tier);
    lua_pushboolean(L, c->first_order != 0);
    lua_setfield(L, -2, "first_order");
    set_int(L, "bmonth", c->birthday_month);
    set_int(L, "bday", c->birthday_day);
    set_int(L, "time", c->time);
    set_str(L, "channel", c->channel);
    set_int(L, "shipping", c->shipping);
    lua_getfield(L, -1, "couponlist");
    for (uint32_t t = 0; t < c->n_coupons; t++) {
        lua_pushstring(L, c->coupons[t]);
        lua_rawseti(L, -2, (int)t + 1);
    }
    lua_pop(L, 1);
    set_int(L, "nc", c->n_coupons);
    lua_check(L, lua_pcall(L, 2, 4, 0), "engine.cart + engine.evaluate");
    outcome o;
    o.discount = (int64_t)lua_tointeger(L, -4);
    o.shipping = (int64_t)lua_tointeger(L, -3);
    o.points = (int64_t)lua_tointeger(L, -2);
    o.gifts = (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 4);
    return o;
}

/* engine.evaluate(prog, carts[k] [, trace]); leaves nothing on the stack. */
static outcome lua_side_eval(lua_side *s, uint32_t k, bool with_trace)
{
    lua_State *L = s->L;
    outcome o;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->evaluate);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->prog);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->carts);
    lua_rawgeti(L, -1, (int)k + 1);
    lua_remove(L, -2);
    if (with_trace) {
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setglobal(L, "bench_trace");
    }
    lua_check(L, lua_pcall(L, with_trace ? 3 : 2, 4, 0), "engine.evaluate");
    o.discount = (int64_t)lua_tointeger(L, -4);
    o.shipping = (int64_t)lua_tointeger(L, -3);
    o.points = (int64_t)lua_tointeger(L, -2);
    o.gifts = (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 4);
    return o;
}

/* The final amount of line i (0-based) after the last evaluation. */
static int64_t lua_side_final(lua_side *s, uint32_t i)
{
    lua_State *L = s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->prog);
    lua_getfield(L, -1, "cur");
    lua_rawgeti(L, -1, (int)i + 1);
    int64_t v = (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 3);
    return v;
}

static void lua_side_close(lua_side *s)
{
    if (s->L) lua_close(s->L);
    s->L = NULL;
}

/* ------------------------------------------------------------------ the check */

static void print_cart(const bench_cart *c)
{
    fprintf(stderr,
            "  cart: customer %s tier %s first_order %d birthday %02d-%02d time %lld channel %s shipping "
            "%lld coupons",
            c->customer_id, c->tier ? bench_tier_names[c->tier] : "none", c->first_order, c->birthday_month,
            c->birthday_day, (long long)c->time, c->channel, (long long)c->shipping);
    for (uint32_t k = 0; k < c->n_coupons; k++) fprintf(stderr, " %s", c->coupons[k]);
    fputc('\n', stderr);
}

static void report_mismatch(lua_side *s, const perk_program *prog, perk_context *ctx,
                            const bench_perk_cart *pc, const char *N, int M, uint32_t k, outcome lo)
{
    const perk_result *r;
    if (bench_perk_cart_load(ctx, pc) != PERK_OK) die("cart %u rejected: %s", k, perk_context_error(ctx));
    r = perk_evaluate(ctx);
    fprintf(stderr, "\nbench: MISMATCH between Perk and %s: rules %s, lines %d, cart %u\n", s->name, N, M,
            k);
    print_cart(pc->src);
    fprintf(stderr, "  %-10s %12s %12s\n", "", "perk", s->name);
    fprintf(stderr, "  %-10s %12lld %12lld\n", "discount", (long long)r->discount, (long long)lo.discount);
    fprintf(stderr, "  %-10s %12lld %12lld\n", "shipping", (long long)r->shipping_after,
            (long long)lo.shipping);
    fprintf(stderr, "  %-10s %12lld %12lld\n", "points", (long long)r->points_earned, (long long)lo.points);
    fprintf(stderr, "  %-10s %12lld %12lld\n", "gifts", (long long)r->n_gifts, (long long)lo.gifts);
    lua_side_eval(s, k, true);
    int shown = 0;
    for (uint32_t i = 0; i < pc->n_lines && shown < 10; i++) {
        int64_t lf = lua_side_final(s, i);
        if (lf != r->lines[i].final) {
            fprintf(stderr, "  line %u (%s, %s, %lld x %lld = %lld): perk final %lld, %s final %lld\n", i,
                    pc->lines[i].sku, pc->lines[i].category, (long long)pc->lines[i].unit_price,
                    (long long)pc->lines[i].quantity, (long long)r->lines[i].original,
                    (long long)r->lines[i].final, s->name, (long long)lf);
            shown++;
        }
    }
    /* the applied promotions of both engines side by side, from a little before the first
     * difference */
    lua_State *L = s->L;
    lua_getglobal(L, "bench_trace");
    int n_lua = (int)LUA_LEN(L, -1), n_perk = 0;
    uint32_t applied[64];
    int first_diff = -1;
    for (uint32_t p = 0; p < r->n_promotions; p++) {
        const perk_promotion_result *pr = &r->promotions[p];
        if (pr->reason != PERK_REASON_APPLIED) continue;
        int at = n_perk++;
        const char *lid = NULL;
        int64_t lgoods = -1, lship = -1;
        if (at < n_lua) {
            lua_rawgeti(L, -1, at + 1);
            lua_rawgeti(L, -1, 1);
            lid = lua_tostring(L, -1);
            lua_rawgeti(L, -2, 2);
            lgoods = (int64_t)lua_tointeger(L, -1);
            lua_rawgeti(L, -3, 3);
            lship = (int64_t)lua_tointeger(L, -1);
            lua_pop(L, 4);
        }
        const char *pid = perk_program_promotion_id(prog, pr->promotion);
        if (first_diff < 0 && (lid == NULL || strcmp(lid, pid) != 0 || lgoods != pr->discount ||
                               lship != pr->shipping_discount)) {
            first_diff = at;
            fprintf(stderr, "  applied promotions differ at #%d:\n", at);
            for (int b = 0; b < (int)(sizeof applied / sizeof applied[0]) && b < at && b < 5; b++) {
                uint32_t q = applied[(at - 1 - b) % 64];
                fprintf(stderr, "    before: %s\n", perk_program_promotion_id(prog, q));
            }
        }
        applied[at % 64] = pr->promotion;
        if (first_diff >= 0 && at < first_diff + 6)
            fprintf(stderr, "    #%d perk %s goods %lld shipping %lld | %s %s goods %lld shipping %lld\n", at,
                    pid, (long long)pr->discount, (long long)pr->shipping_discount, s->name,
                    lid ? lid : "-", (long long)lgoods, (long long)lship);
    }
    if (first_diff < 0 && n_lua != n_perk)
        fprintf(stderr, "  perk applied %d promotions, %s %d (the extra ones are at the end)\n", n_perk,
                s->name, n_lua);
    lua_pop(L, 1);
    exit(2);
}

/* Evaluates every cart on both sides; any difference ends the run (equal work is compared). */
static void check_carts(lua_side *sides, int n_sides, const perk_program *prog, perk_context *ctx,
                        perk_context *lean, bench_perk_cart *carts, uint32_t n, const char *N, int M,
                        const void *json_names)
{
#ifdef BENCH_HAVE_JSON
    const result_names *names = json_names;
    size_t json_in = 0, json_out = 0, json_applied = 0;
#else
    (void)json_names;
#endif
    uint64_t reasons[PERK_REASON_COUNT] = { 0 }, visited = 0, visited_lean = 0;
    for (uint32_t k = 0; k < n; k++) {
        const bench_perk_cart *pc = &carts[k];
        if (bench_perk_cart_load(ctx, pc) != PERK_OK)
            die("rules %s, lines %d: cart %u rejected: %s", N, M, k, perk_context_error(ctx));
        const perk_result *r = perk_evaluate(ctx);
        if (r->status != PERK_OK)
            die("rules %s, lines %d: cart %u: perk_evaluate failed: %s", N, M, k, perk_context_error(ctx));
        for (uint32_t p = 0; p < r->n_promotions; p++)
            if ((unsigned)r->promotions[p].reason < PERK_REASON_COUNT) reasons[r->promotions[p].reason]++;
        visited += r->promotions_visited;
        /* every Lua engine, and the indexed ones through their checkout path too */
        outcome lo = { 0, 0, 0, 0 };
        for (int e = 0; e < n_sides; e++) {
            lua_side *s = &sides[e];
            for (int path = s->checkout_path; path < 1 + s->checkout_path; path++) {
                lo = path == 0 ? lua_side_eval(s, k, false) : lua_side_checkout(s, pc->src);
                bool same = lo.discount == r->discount && lo.shipping == r->shipping_after &&
                            lo.points == r->points_earned && lo.gifts == (int64_t)r->n_gifts;
                for (uint32_t i = 0; same && i < pc->n_lines; i++)
                    same = lua_side_final(s, i) == r->lines[i].final;
                if (!same) {
                    if (path == 1) fprintf(stderr, "bench: (through the checkout path: cart refilled in place)\n");
                    report_mismatch(s, prog, ctx, pc, N, M, k, lo);
                }
            }
        }
        bool same;
        /* explaining only what applied: the same amounts and instruction count */
        if (bench_perk_cart_load(lean, pc) != PERK_OK) die("rules %s, lines %d: cart %u rejected (lean)", N, M, k);
        const perk_result *rl = perk_evaluate(lean);
        same = rl->status == PERK_OK && rl->discount == lo.discount && rl->shipping_after == lo.shipping &&
               rl->points_earned == lo.points && rl->n_gifts == (uint32_t)lo.gifts &&
               rl->instructions == r->instructions;
        for (uint32_t i = 0; same && i < pc->n_lines; i++) same = rl->lines[i].final == r->lines[i].final;
        if (!same)
            die("rules %s, lines %d, cart %u: the context explaining only what applied disagrees", N, M, k);
        visited_lean += rl->promotions_visited;
#ifdef BENCH_HAVE_JSON
        /* the JSON path must give the same answer as the struct path */
        char err[512];
        cart_doc *doc = cart_json_parse(pc->json, pc->json_len, perk_program_exponent(prog),
                                        perk_program_currency(prog), NULL, err, sizeof err);
        if (doc == NULL) die("cart %u as JSON: %s\n%s", k, err, pc->json);
        if (cart_json_feed(doc, ctx, prog, err, sizeof err) != PERK_OK) die("cart %u as JSON: %s", k, err);
        const perk_result *rj = perk_evaluate(ctx);
        if (rj->status != PERK_OK || rj->discount != lo.discount || rj->shipping_after != lo.shipping ||
            rj->points_earned != lo.points)
            die("rules %s, lines %d, cart %u: the JSON cart evaluates differently (discount %lld, expected "
                "%lld)",
                N, M, k, (long long)rj->discount, (long long)lo.discount);
        char *out = result_json_render(names, rj, doc, 0);
        char *applied = result_json_render(names, rj, doc, RESULT_JSON_APPLIED_ONLY);
        if (out == NULL || applied == NULL) die("result_json_render failed");
        json_applied += strlen(applied);
        free(applied);
        json_in += pc->json_len;
        json_out += strlen(out);
        free(out);
        cart_json_free(doc);
#endif
    }
    /* what the promotions did, per cart on average: the shape of the workload */
    printf("mix\t%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\n", N, M,
           (double)reasons[PERK_REASON_APPLIED] / n, (double)reasons[PERK_REASON_CONDITION] / n,
           (double)reasons[PERK_REASON_COUPON_MISSING] / n, (double)reasons[PERK_REASON_EXCLUSIVE] / n,
           (double)reasons[PERK_REASON_STOPPED] / n, (double)reasons[PERK_REASON_NOTHING] / n,
           (double)visited / n, (double)visited_lean / n);
#ifdef BENCH_HAVE_JSON
    printf("jsonsize\t%s\t%d\t%zu\t%zu\t%zu\n", N, M, json_in / n, json_out / n, json_applied / n);
#endif
}

/* ------------------------------------------------------------------ timing */

typedef struct timing_env {
    perk_context *ctx;
    perk_context *lean; /* PERK_EXPLAIN_APPLIED */
    const perk_program *prog;
    bench_perk_cart *carts;
    lua_side *lua;
    perk_context *evaluated; /* perk_eval: ctx; perk_eval_applied: lean */
    uint32_t loaded;         /* the cart currently in `evaluated`, or UINT32_MAX */
#ifdef BENCH_HAVE_JSON
    result_names *names;
#endif
} timing_env;

typedef void (*bench_fn)(timing_env *env, uint32_t cart);

static void run_perk(timing_env *env, uint32_t k)
{
    bench_perk_cart_load(env->ctx, &env->carts[k]);
    perk_evaluate(env->ctx);
}

static void prepare_perk_eval(timing_env *env, uint32_t k)
{
    if (env->loaded != k) bench_perk_cart_load(env->evaluated, &env->carts[k]);
    env->loaded = k;
}

static void run_perk_eval(timing_env *env, uint32_t k)
{
    (void)k;
    perk_evaluate(env->evaluated);
}

static void run_lua(timing_env *env, uint32_t k) { lua_side_eval(env->lua, k, false); }

static void run_lua_checkout(timing_env *env, uint32_t k) { lua_side_checkout(env->lua, env->carts[k].src); }

#ifdef BENCH_HAVE_JSON
/* A cart as a JSON document in, its result as JSON out (render flags: all promotions, or the
 * applied ones only). */
static void perk_json_round_trip(timing_env *env, uint32_t k, int flags)
{
    const bench_perk_cart *pc = &env->carts[k];
    /* listing the applied promotions only, the context need not explain the others */
    perk_context *ctx = flags & RESULT_JSON_APPLIED_ONLY ? env->lean : env->ctx;
    char err[256];
    cart_doc *doc = cart_json_parse(pc->json, pc->json_len, perk_program_exponent(env->prog),
                                    perk_program_currency(env->prog), NULL, err, sizeof err);
    if (doc == NULL) die("cart %u as JSON: %s", k, err);
    if (cart_json_feed(doc, ctx, env->prog, err, sizeof err) != PERK_OK) die("cart %u as JSON: %s", k, err);
    const perk_result *r = perk_evaluate(ctx);
    char *json = result_json_render(env->names, r, doc, flags);
    if (json == NULL) die("result_json_render failed");
    free(json);
    cart_json_free(doc);
}

static void run_perk_json(timing_env *env, uint32_t k) { perk_json_round_trip(env, k, 0); }

static void run_perk_json_applied(timing_env *env, uint32_t k)
{
    perk_json_round_trip(env, k, RESULT_JSON_APPLIED_ONLY);
}
#endif

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Times fn over the carts in turn, one evaluation per sample, for about `seconds` (and at least
 * once per cart), after a warm-up; prints "time N M engine median p99 mean samples". */
static void time_engine(const char *engine, const char *N, int M, timing_env *env, uint32_t n_carts,
                        bench_fn prepare, bench_fn fn, double seconds)
{
    static uint64_t *samples;
    if (samples == NULL) samples = malloc(MAX_SAMPLES * sizeof *samples);
    if (samples == NULL) die("out of memory");
    uint64_t start = now_ns();
    for (uint32_t i = 0; i < n_carts || (double)(now_ns() - start) / 1e9 < WARMUP_SECONDS; i++) {
        if (prepare) prepare(env, i % n_carts);
        fn(env, i % n_carts);
    }
    uint64_t budget = (uint64_t)(seconds * 1e9), spent = 0, sum = 0;
    uint32_t n = 0;
    start = now_ns();
    while (n < MAX_SAMPLES && (n < n_carts || spent < budget)) {
        uint32_t k = n % n_carts;
        if (prepare) prepare(env, k);
        uint64_t t0 = now_ns();
        fn(env, k);
        uint64_t t1 = now_ns();
        samples[n++] = t1 - t0;
        sum += t1 - t0;
        spent = t1 - start;
    }
    qsort(samples, n, sizeof *samples, cmp_u64);
    uint64_t median = samples[n / 2], p99 = samples[(size_t)n * 99 / 100];
    printf("time\t%s\t%d\t%s\t%llu\t%llu\t%.1f\t%u\n", N, M, engine, (unsigned long long)median,
           (unsigned long long)p99, (double)sum / n, n);
    fflush(stdout);
    fprintf(stderr, "bench: rules %9s lines %3d %-9s median %10.2f us  p99 %10.2f us  (%u samples)\n", N, M,
            engine, (double)median / 1e3, (double)p99 / 1e3, n);
}

/* One engine of an interleaved timing (time_interleaved). */
typedef struct timed {
    const char *name;
    timing_env env; /* its own copy: perk_eval's "cart currently loaded" is per engine */
    bench_fn prepare, fn;
    uint64_t *samples;
    uint32_t n, next; /* samples taken; the next cart */
    uint64_t sum, cpu; /* wall ns over the samples; thread CPU ns over the blocks */
} timed;

#define INTERLEAVE_ROUNDS 10

/* Times the engines in turn, in INTERLEAVE_ROUNDS rounds of blocks (Perk, Lua, Perk, Lua, ...,
 * each block about seconds / INTERLEAVE_ROUNDS), so that whatever else the machine does falls on
 * all of them alike; one evaluation per sample, cycling over the carts, after a warm-up of each.
 * Prints the same "time" records as time_engine. */
static void time_interleaved(const char *N, int M, timed *eng, int n_eng, uint32_t n_carts, double seconds)
{
    uint32_t cap = MAX_SAMPLES / (uint32_t)n_eng;
    for (int e = 0; e < n_eng; e++) {
        timed *t = &eng[e];
        t->samples = malloc(cap * sizeof *t->samples);
        if (t->samples == NULL) die("out of memory");
        t->n = t->next = 0;
        t->sum = t->cpu = 0;
        /* the warm-up ends on CPU time, not wall time: on a loaded machine 0.05 s of wall time can
         * be a few hundred evaluations, too few for LuaJIT to have compiled its traces */
        uint64_t cpu0 = thread_cpu_ns();
        for (uint32_t i = 0; i < n_carts || (double)(thread_cpu_ns() - cpu0) / 1e9 < WARMUP_CPU_SECONDS; i++) {
            if (t->prepare) t->prepare(&t->env, i % n_carts);
            t->fn(&t->env, i % n_carts);
        }
    }
    uint64_t block = (uint64_t)(seconds * 1e9 / INTERLEAVE_ROUNDS);
    for (int round = 0; round < INTERLEAVE_ROUNDS; round++) {
        for (int e = 0; e < n_eng; e++) {
            timed *t = &eng[e];
            uint64_t start = now_ns(), spent = 0, cpu0 = thread_cpu_ns();
            /* the last round also completes at least one pass over the carts */
            while (t->n < cap && (spent < block || (round == INTERLEAVE_ROUNDS - 1 && t->n < n_carts))) {
                uint32_t k = t->next;
                t->next = (k + 1) % n_carts;
                if (t->prepare) t->prepare(&t->env, k);
                uint64_t t0 = now_ns();
                t->fn(&t->env, k);
                uint64_t t1 = now_ns();
                t->samples[t->n++] = t1 - t0;
                t->sum += t1 - t0;
                spent = t1 - start;
            }
            t->cpu += thread_cpu_ns() - cpu0;
        }
    }
    for (int e = 0; e < n_eng; e++) {
        timed *t = &eng[e];
        qsort(t->samples, t->n, sizeof *t->samples, cmp_u64);
        uint64_t median = t->samples[t->n / 2], p99 = t->samples[(size_t)t->n * 99 / 100];
        /* the 9th field: CPU time per evaluation over the blocks (clock reads and sample
         * bookkeeping included), which the machine's load does not inflate */
        printf("time\t%s\t%d\t%s\t%llu\t%llu\t%.1f\t%u\t%.1f\n", N, M, t->name, (unsigned long long)median,
               (unsigned long long)p99, (double)t->sum / t->n, t->n, (double)t->cpu / t->n);
        fprintf(stderr, "bench: rules %9s lines %3d %-18s median %10.2f us  p99 %10.2f us  cpu %10.2f us (%u samples)\n",
                N, M, t->name, (double)median / 1e3, (double)p99 / 1e3, (double)t->cpu / t->n / 1e3, t->n);
        free(t->samples);
        t->samples = NULL;
    }
    fflush(stdout);
}

/* The cost of reading the clock twice, reported so that tiny medians can be judged. */
static void timer_overhead(void)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 100000; i++) {
        uint64_t t0 = now_ns(), t1 = now_ns();
        if (t1 - t0 < best) best = t1 - t0;
    }
    printf("timer\t%llu\n", (unsigned long long)best);
}

/* The cost of one call into Lua as the harness makes it (push the function and two tables,
 * lua_pcall, pop four results) with a function that does nothing: part of every Lua sample. */
static void lua_call_overhead(lua_side *s)
{
    lua_State *L = s->L;
    lua_check(L, luaL_loadstring(L, "return function(p, c) return 0, 0, 0, 0 end"), "loading a no-op");
    lua_check(L, lua_pcall(L, 0, 1, 0), "loading a no-op");
    int fn = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    int t = luaL_ref(L, LUA_REGISTRYINDEX);
    uint64_t best = UINT64_MAX;
    for (int round = 0; round < 20; round++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < 10000; i++) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, fn);
            lua_rawgeti(L, LUA_REGISTRYINDEX, t);
            lua_rawgeti(L, LUA_REGISTRYINDEX, t);
            lua_check(L, lua_pcall(L, 2, 4, 0), "calling a no-op");
            lua_pop(L, 4);
        }
        uint64_t per = (now_ns() - t0) / 10000;
        if (per < best) best = per;
    }
    luaL_unref(L, LUA_REGISTRYINDEX, fn);
    luaL_unref(L, LUA_REGISTRYINDEX, t);
    printf("luacall\t%s\t%llu\n", LUA_ENGINE_NAME, (unsigned long long)best);
}

/* ------------------------------------------------------------------ main */

static int parse_list(const char *s, int *out)
{
    int n = 0;
    while (*s && n < MAX_SIZES) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1) die("bad number list: %s", s);
        out[n++] = (int)v;
        if (*end == ',')
            end++;
        else if (*end != '\0')
            die("bad number list: %s", s);
        s = end;
    }
    return n;
}

/* "10,1000,1000+9000" into names (pointers into a copy of s, kept for the run). */
static int parse_names(const char *s, const char **out)
{
    char *copy = strdup(s);
    if (copy == NULL) die("out of memory");
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (n == MAX_SIZES) die("too many rulesets: %s", s);
        if (strspn(tok, "0123456789+") != strlen(tok) || tok[0] == '+') die("bad ruleset list: %s", s);
        out[n++] = tok;
    }
    return n;
}

typedef struct options {
    const char *data, *engine_dir;
    const char *rules[MAX_SIZES]; /* ruleset names: "1000", "1000+9000" (gen.c) */
    int n_rules, lines[MAX_SIZES], n_lines;
    double seconds;
    bool time_perk, time_lua, time_json;
    long perk_loop;
    const char *loop_engine; /* --loop-engine E: with --perk-loop, E instead of perk_evaluate */
    int threads;           /* --threads T: the scaling test, 1 to T threads (threads_test) */
    bool loop_applied;     /* --perk-loop with --explain applied: PERK_EXPLAIN_APPLIED */
    const char *dump_json; /* --dump-json DIR: write the carts of --lines as JSON files, and stop */
} options;

static perk_program *compile_ruleset(const options *o, const char *N, double *compile_s, size_t *pbc_len)
{
    char path[4096];
    size_t len;
    snprintf(path, sizeof path, "%s/rules_%s.perk", o->data, N);
    char *text = read_text(path, &len);
    uint8_t *bytes = NULL;
    size_t n_bytes = 0;
    int reps = 0;
    uint64_t t0 = now_ns(), elapsed = 0;
    /* small rulesets compile in well under a millisecond: repeat for a stable figure */
    do {
        free(bytes);
        bytes = NULL;
        compiler c;
        compiler_init(&c);
        bool ok = compiler_compile_text(&c, path, text, len, &bytes, &n_bytes);
        if (!ok) {
            diag_print_text(&c.diags, stderr, false);
            die("%s does not compile", path);
        }
        compiler_free(&c);
        reps++;
        elapsed = now_ns() - t0;
    } while (o->perk_loop == 0 && elapsed < 200000000u && reps < 50);
    *compile_s = (double)elapsed / 1e9 / reps;
    *pbc_len = n_bytes;
    free(text);

    int64_t before = bench_live_bytes;
    perk_error err;
    perk_program *prog = perk_program_load(bytes, n_bytes, &err);
    if (prog == NULL) die("%s: perk_program_load: %s", path, err.message);
    int64_t held = bench_live_bytes - before;
    free(bytes);
    if (o->perk_loop == 0) {
        printf("compile\t%s\t%.6f\t%zu\t%zu\n", N, *compile_s, n_bytes,
               perk_program_promotion_count(prog) + perk_program_earn_count(prog));
        printf("memory\t%s\t%lld\n", N, (long long)held);
    }
    return prog;
}

static void usage(void)
{
    die("usage: bench_%s --data DIR [--rules 10,100,...] [--lines 1,20,...] [--seconds S] [--time perk,lua]\n"
        "       [--engine-dir DIR] | --perk-loop K [--explain all|applied] --data DIR --rules N --lines M\n"
        "       | --dump-json OUT --data DIR --lines M",
        LUA_ENGINE_NAME);
}

/* --dump-json: the carts of M lines as the JSON documents a service receives (bench_perk_cart_json),
 * one file each, OUT/cart_<k>.json, for load tests over HTTP (bench/serve.sh). */
static void dump_json(const options *o)
{
#ifdef BENCH_HAVE_JSON
    char path[4096], msg[512];
    snprintf(path, sizeof path, "%s/carts_%d.bin", o->data, o->lines[0]);
    bench_cartfile *cf = bench_carts_read(path, msg, sizeof msg);
    if (cf == NULL) die("%s", msg);
    bench_perk_cart *carts = calloc(cf->n_carts, sizeof *carts);
    if (carts == NULL) die("out of memory");
    bench_perk_carts_build(cf, carts);
    for (uint32_t k = 0; k < cf->n_carts; k++) {
        bench_perk_cart_json(&carts[k]);
        snprintf(path, sizeof path, "%s/cart_%u.json", o->dump_json, k);
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(carts[k].json, 1, carts[k].json_len, f) != carts[k].json_len ||
            fclose(f) != 0)
            die("cannot write %s: %s", path, strerror(errno));
    }
    fprintf(stderr, "bench: %u carts of %d lines written to %s\n", cf->n_carts, o->lines[0], o->dump_json);
    bench_perk_carts_free(carts, cf->n_carts);
    free(carts);
    bench_carts_free(cf);
#else
    die("--dump-json %s: built without src/json", o->dump_json);
#endif
}

/* Callgrind mode: one (N, M) cell, Perk only, K evaluations cycling over the carts. The carts
 * are loaded outside perk_evaluate so `--toggle-collect=perk_evaluate` counts evaluation only. */
static void perk_loop(const options *o)
{
    double cs;
    size_t pbc;
    const char *N = o->rules[0];
    int M = o->lines[0];
    perk_program *prog = compile_ruleset(o, N, &cs, &pbc);
    perk_error err;
    perk_limits limits = perk_limits_default();
    if (o->loop_applied) limits.explain = PERK_EXPLAIN_APPLIED;
    perk_context *ctx = perk_context_new(prog, &limits, &err);
    if (ctx == NULL) die("perk_context_new: %s", err.message);
    char path[4096], msg[512];
    snprintf(path, sizeof path, "%s/carts_%d.bin", o->data, M);
    bench_cartfile *cf = bench_carts_read(path, msg, sizeof msg);
    if (cf == NULL) die("%s", msg);
    bench_perk_cart *carts = calloc(cf->n_carts, sizeof *carts);
    if (carts == NULL) die("out of memory");
    bench_perk_carts_build(cf, carts);
    uint64_t insns = 0;
    for (long i = 0; i < o->perk_loop; i++) {
        uint32_t k = (uint32_t)(i % cf->n_carts);
        if (bench_perk_cart_load(ctx, &carts[k]) != PERK_OK)
            die("cart %u rejected: %s", k, perk_context_error(ctx));
        const perk_result *r = perk_evaluate(ctx);
        if (r->status != PERK_OK) die("perk_evaluate: %s", perk_context_error(ctx));
        insns += r->instructions;
    }
    printf("perk_loop\t%s\t%d\t%ld\t%.1f\n", N, M, o->perk_loop, (double)insns / (double)o->perk_loop);
    bench_perk_carts_free(carts, cf->n_carts);
    free(carts);
    bench_carts_free(cf);
    perk_context_free(ctx);
    perk_program_free(prog);
}

/* --loop-engine E (with --perk-loop K): K runs of one engine other than perk_evaluate, each
 * through a function of its own that callgrind can count alone (--toggle-collect=bench_once_*):
 *   checkout      perk_cart_* + perk_evaluate (bench_once_perk_checkout)
 *   lua_idx       the indexed Lua engine's engine.evaluate on a prebuilt cart (bench_once_lua)
 *   lua_idx_checkout  its checkout path: the cart written into Lua + engine.cart + evaluate
 *   lua           the scan engine's engine.evaluate (bench_once_lua)
 * As many runs go first, uncounted (LuaJIT compiles its traces then). */
__attribute__((noinline)) void bench_once_perk_checkout(perk_context *ctx, const bench_perk_cart *c);
__attribute__((noinline)) void bench_once_perk_checkout(perk_context *ctx, const bench_perk_cart *c)
{
    bench_perk_cart_load(ctx, c);
    perk_evaluate(ctx);
}

__attribute__((noinline)) void bench_once_lua(lua_side *s, uint32_t k, const bench_cart *c, bool checkout);
__attribute__((noinline)) void bench_once_lua(lua_side *s, uint32_t k, const bench_cart *c, bool checkout)
{
    if (checkout)
        lua_side_checkout(s, c);
    else
        lua_side_eval(s, k, false);
}

static void engine_loop(const options *o)
{
    const char *E = o->loop_engine, *N = o->rules[0];
    int M = o->lines[0];
    bool perk = strcmp(E, "checkout") == 0, indexed = strncmp(E, "lua_idx", 7) == 0,
         checkout = strcmp(E, "lua_idx_checkout") == 0;
    if (!perk && !indexed && strcmp(E, "lua") != 0) die("--loop-engine: checkout, lua_idx, lua_idx_checkout or lua");
    char path[4096], msg[512];
    snprintf(path, sizeof path, "%s/carts_%d.bin", o->data, M);
    bench_cartfile *cf = bench_carts_read(path, msg, sizeof msg);
    if (cf == NULL) die("%s", msg);
    bench_perk_cart *carts = calloc(cf->n_carts, sizeof *carts);
    if (carts == NULL) die("out of memory");
    bench_perk_carts_build(cf, carts);
    if (perk) {
        double cs;
        size_t pbc;
        perk_program *prog = compile_ruleset(o, N, &cs, &pbc);
        perk_error err;
        perk_context *ctx = perk_context_new(prog, NULL, &err);
        if (ctx == NULL) die("perk_context_new: %s", err.message);
        for (uint32_t k = 0; k < cf->n_carts; k++) bench_perk_cart_load(ctx, &carts[k]), perk_evaluate(ctx);
        for (long i = 0; i < o->perk_loop; i++) bench_once_perk_checkout(ctx, &carts[i % cf->n_carts]);
        perk_context_free(ctx);
        perk_program_free(prog);
    } else {
        lua_side s = { 0 };
        lua_side_open(&s, o->engine_dir, indexed, checkout);
        snprintf(path, sizeof path, "%s/rules_%s.lua", o->data, N);
        int64_t bytes;
        lua_side_load_rules(&s, path, &bytes);
        lua_side_build_carts(&s, cf);
        /* as many runs first (LuaJIT records and compiles its traces then) */
        for (long i = 0; i < o->perk_loop || i < (long)cf->n_carts; i++) {
            uint32_t k = (uint32_t)(i % cf->n_carts);
            if (checkout)
                lua_side_checkout(&s, &cf->carts[k]);
            else
                lua_side_eval(&s, k, false);
        }
        for (long i = 0; i < o->perk_loop; i++) {
            uint32_t k = (uint32_t)(i % cf->n_carts);
            bench_once_lua(&s, k, &cf->carts[k], checkout);
        }
        lua_side_close(&s);
    }
    printf("engine_loop\t%s\t%s\t%d\t%ld\n", E, N, M, o->perk_loop);
    bench_perk_carts_free(carts, cf->n_carts);
    free(carts);
    bench_carts_free(cf);
}

/* ------------------------------------------------------------------ scaling with threads */

/* --threads T1,T2,...: evaluation throughput (perk_cart_* + perk_evaluate per cart, as the
 * "perk" column) with T threads, each with its own context on the one shared program and
 * cycling over the same read-only carts from a different starting cart. Each context is created
 * and fed every cart once before the threads start, so nothing allocates while they run. Beside
 * it, the same threads run a control: an arithmetic loop on registers (no memory, nothing shared),
 * which shows how much of two cores the machine gives two threads right now (it is shared: other
 * processes take their turns). Perk scales as well as it can when its ratio is the control's.
 * Three rounds alternate 1 and 2 threads so that load changes fall on both. Run twice: with the
 * contexts created and fed one after the other by the main thread ("main": their blocks come from
 * one malloc arena, a later context's small blocks filling the holes an earlier one's growth left,
 * so two contexts can share cache lines at block boundaries), and by the thread that uses each
 * ("thread": each thread's blocks from its own arena, as a service creating a context per worker
 * thread gets). If false sharing between contexts cost anything, "main" would scale worse. */
typedef struct thread_job {
    alignas(64) perk_context *ctx; /* one cache line per job: the jobs share nothing */
    const bench_perk_cart *carts;
    uint32_t n_carts, first;
    bool control;
    uint64_t budget_ns;
    pthread_barrier_t *start;
    perk_program *prog; /* placement "thread": the thread creates and feeds its context */
    uint64_t evals, elapsed_ns, cpu_ns, sink;
} thread_job;



static void *thread_main(void *arg)
{
    thread_job *j = arg;
    if (j->ctx == NULL) {
        perk_error err;
        j->ctx = perk_context_new(j->prog, NULL, &err);
        if (j->ctx == NULL) die("perk_context_new: %s", err.message);
        for (uint32_t k = 0; k < j->n_carts; k++) {
            if (bench_perk_cart_load(j->ctx, &j->carts[k]) != PERK_OK) die("cart %u rejected", k);
            perk_evaluate(j->ctx);
        }
    }
    pthread_barrier_wait(j->start);
    uint64_t t0 = now_ns(), t1 = t0, c0 = thread_cpu_ns(), n = 0, x = j->first + 1;
    uint32_t k = j->first % j->n_carts;
    do {
        for (int i = 0; i < 16; i++) {
            if (j->control) {
                /* about as long as one small evaluation: xorshift steps in registers */
                for (int s = 0; s < 2000; s++) x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            } else {
                bench_perk_cart_load(j->ctx, &j->carts[k]);
                perk_evaluate(j->ctx);
                k = k + 1 == j->n_carts ? 0 : k + 1;
            }
            n++;
        }
        t1 = now_ns();
    } while (t1 - t0 < j->budget_ns);
    j->evals = n;
    j->elapsed_ns = t1 - t0;
    j->cpu_ns = thread_cpu_ns() - c0;
    j->sink = x;
    return NULL;
}

/* Runs T threads (control or Perk) for `seconds`; returns the total evaluations per second of
 * wall time, and in *per_cpu the sum of each thread's evaluations per second of its own CPU time
 * (what the threads would do if each had a core to itself: this one falls when threads slow
 * each other down, by sharing cache lines or memory bandwidth, not when the machine is busy). */
static double threads_run(thread_job *jobs, int T, bool control, double seconds, double *per_cpu)
{
    pthread_t tid[16];
    pthread_barrier_t start;
    if (pthread_barrier_init(&start, NULL, (unsigned)T) != 0) die("pthread_barrier_init failed");
    for (int t = 0; t < T; t++) {
        jobs[t].control = control;
        jobs[t].budget_ns = (uint64_t)(seconds * 1e9);
        jobs[t].start = &start;
        if (pthread_create(&tid[t], NULL, thread_main, &jobs[t]) != 0) die("pthread_create failed");
    }
    double rate = 0;
    *per_cpu = 0;
    for (int t = 0; t < T; t++) {
        pthread_join(tid[t], NULL);
        rate += (double)jobs[t].evals * 1e9 / (double)jobs[t].elapsed_ns;
        *per_cpu += (double)jobs[t].evals * 1e9 / (double)(jobs[t].cpu_ns ? jobs[t].cpu_ns : 1);
    }
    pthread_barrier_destroy(&start);
    return rate;
}

static void threads_test(const char *data, const char *N, int M, int max_threads, double seconds, int rounds,
                         bool in_thread)
{
    options o = { .data = data, .perk_loop = 1 };
    double cs;
    size_t pbc;
    perk_program *prog = compile_ruleset(&o, N, &cs, &pbc);
    char path[4096], msg[512];
    snprintf(path, sizeof path, "%s/carts_%d.bin", data, M);
    bench_cartfile *cf = bench_carts_read(path, msg, sizeof msg);
    if (cf == NULL) die("%s", msg);
    bench_perk_cart *carts = calloc(cf->n_carts, sizeof *carts);
    if (carts == NULL) die("out of memory");
    bench_perk_carts_build(cf, carts);
    thread_job *jobs = aligned_alloc(64, sizeof(thread_job) * 16);
    if (jobs == NULL || max_threads < 1 || max_threads > 16) die("--threads: 1 to 16 threads");
    memset(jobs, 0, sizeof(thread_job) * 16);
    for (int t = 0; t < max_threads; t++) {
        perk_error err;
        jobs[t].prog = prog;
        jobs[t].carts = carts;
        jobs[t].n_carts = cf->n_carts;
        jobs[t].first = (uint32_t)t * cf->n_carts / (uint32_t)max_threads;
        if (in_thread) continue; /* created by the first thread that runs the job */
        jobs[t].ctx = perk_context_new(prog, NULL, &err);
        if (jobs[t].ctx == NULL) die("perk_context_new: %s", err.message);
        for (uint32_t k = 0; k < cf->n_carts; k++) {
            if (bench_perk_cart_load(jobs[t].ctx, &carts[k]) != PERK_OK) die("cart %u rejected", k);
            perk_evaluate(jobs[t].ctx);
        }
    }
    for (int r = 0; r < rounds; r++)
        for (int T = 1; T <= max_threads; T++) {
            double perk_cpu, control_cpu;
            double perk = threads_run(jobs, T, false, seconds, &perk_cpu);
            double control = threads_run(jobs, T, true, seconds / 2, &control_cpu);
            double load = 0;
            FILE *f = fopen("/proc/loadavg", "r");
            if (f != NULL) {
                if (fscanf(f, "%lf", &load) != 1) load = 0;
                fclose(f);
            }
            printf("threads\t%s\t%d\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.2f\t%s\n", N, M, r, T, perk, control, perk_cpu,
                   control_cpu, load, in_thread ? "thread" : "main");
            fprintf(stderr,
                    "bench: rules %s lines %d round %d: %d thread(s): %.0f evaluations/s, %.0f per CPU-second "
                    "(control %.0f/s, %.0f); load %.2f\n",
                    N, M, r, T, perk, perk_cpu, control, control_cpu, load);
            fflush(stdout);
        }
    for (int t = 0; t < max_threads; t++) perk_context_free(jobs[t].ctx);
    free(jobs);
    bench_perk_carts_free(carts, cf->n_carts);
    free(carts);
    bench_carts_free(cf);
    perk_program_free(prog);
}

int main(int argc, char **argv)
{
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "--lua-test") == 0) {
        /* runs a Lua test file (bench/test_lua_engine.lua) in this binary's embedded runtime,
         * on the engine file named by the third argument (global bench_engine; default: the
         * test's own choice) */
        lua_State *L = lua_state_new();
        if (argc == 4) {
            lua_pushstring(L, argv[3]);
            lua_setglobal(L, "bench_engine");
        }
        lua_check(L, luaL_loadfile(L, argv[2]), "loading the test");
        lua_check(L, lua_pcall(L, 0, 0, 0), "running the test");
        lua_close(L);
        return 0;
    }
    options o = { .engine_dir = "bench", .seconds = 0.3, .time_perk = true, .time_lua = true, .time_json = true };
    o.rules[0] = "10", o.rules[1] = "100", o.rules[2] = "1000", o.rules[3] = "10000", o.n_rules = 4;
    o.lines[0] = 1, o.lines[1] = 20, o.lines[2] = 200, o.n_lines = 3;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) usage();
        if (strcmp(a, "--data") == 0)
            o.data = v;
        else if (strcmp(a, "--engine-dir") == 0)
            o.engine_dir = v;
        else if (strcmp(a, "--rules") == 0)
            o.n_rules = parse_names(v, o.rules);
        else if (strcmp(a, "--lines") == 0)
            o.n_lines = parse_list(v, o.lines);
        else if (strcmp(a, "--seconds") == 0)
            o.seconds = atof(v);
        else if (strcmp(a, "--dump-json") == 0)
            o.dump_json = v;
        else if (strcmp(a, "--loop-engine") == 0)
            o.loop_engine = v;
        else if (strcmp(a, "--threads") == 0)
            o.threads = atoi(v);
        else if (strcmp(a, "--perk-loop") == 0)
            o.perk_loop = atol(v);
        else if (strcmp(a, "--explain") == 0 && (strcmp(v, "applied") == 0 || strcmp(v, "all") == 0))
            o.loop_applied = strcmp(v, "applied") == 0;
        else if (strcmp(a, "--time") == 0) {
            o.time_perk = strstr(v, "perk") != NULL;
            o.time_lua = strstr(v, "lua") != NULL;
            o.time_json = strstr(v, "json") != NULL;
        } else
            usage();
    }
    if (o.data == NULL || o.seconds <= 0) usage();
    if (o.threads > 0) {
        /* before the counting allocator, whose counter is not atomic */
        threads_test(o.data, o.rules[0], o.lines[0], o.threads, o.seconds, 3, false);
        threads_test(o.data, o.rules[0], o.lines[0], o.threads, o.seconds, 3, true);
        return 0;
    }

    perk_set_allocator(&bench_counting_allocator);

    if (o.dump_json) {
        dump_json(&o);
        return 0;
    }
    if (o.perk_loop > 0 && o.loop_engine != NULL) {
        engine_loop(&o);
        return 0;
    }
    if (o.perk_loop > 0) {
        perk_loop(&o);
        return 0;
    }

    timer_overhead();
    /* the scan engine, the indexed one, and the indexed one for the checkout path: one state each
     * (under LuaJIT, one state running both paths of the indexed engine was many times slower on
     * both than either path alone) */
    lua_side lua[3] = { { 0 }, { 0 }, { 0 } };
    lua_side probe = { 0 }; /* the call overhead, measured in a state of its own */
    lua_side_open(&probe, o.engine_dir, true, false);
    lua_call_overhead(&probe);
    lua_side_close(&probe);
    for (int e = 0; e < 3; e++) lua_side_open(&lua[e], o.engine_dir, e >= 1, e == 2);
    for (int ri = 0; ri < o.n_rules; ri++) {
        const char *N = o.rules[ri];
        double compile_s;
        size_t pbc_len;
        perk_program *prog = compile_ruleset(&o, N, &compile_s, &pbc_len);
        int64_t before = bench_live_bytes;
        perk_error err;
        perk_context *ctx = perk_context_new(prog, NULL, &err);
        if (ctx == NULL) die("perk_context_new: %s", err.message);
        int64_t ctx_bytes = bench_live_bytes - before;
        /* what a default context holds once it has evaluated every cart of 20 and of 200 lines
         * (it grows with the carts it is fed) */
        int64_t ctx_after_20 = 0, ctx_after_200 = 0;
        perk_limits lean_limits = perk_limits_default();
        lean_limits.explain = PERK_EXPLAIN_APPLIED;
        perk_context *lean = perk_context_new(prog, &lean_limits, &err);
        if (lean == NULL) die("perk_context_new (explain applied): %s", err.message);
        perk_context *evalctx = perk_context_new(prog, NULL, &err); /* perk_eval's, see the timing */
        if (evalctx == NULL) die("perk_context_new: %s", err.message);

        char path[4096], msg[512];
        snprintf(path, sizeof path, "%s/rules_%s.lua", o.data, N);
        for (int e = 0; e < 3; e++) {
            /* a fresh Lua state per ruleset, as an embedding that loads one ruleset has: under
             * LuaJIT, code blacklisted while the previous ruleset ran (trace aborts) stays
             * blacklisted after a flush and would slow every later cell */
            if (ri > 0) {
                lua_side_close(&lua[e]);
                lua_side_open(&lua[e], o.engine_dir, e >= 1, e == 2);
            }
            int64_t lua_bytes;
            double lua_load = lua_side_load_rules(&lua[e], path, &lua_bytes);
            printf("luaload\t%s\t%s\t%.6f\t%lld\n", N, lua[e].name, lua_load, (long long)lua_bytes);
            fprintf(stderr,
                    "bench: rules %9s: compiled in %.2f ms (%zu bytes of bytecode), %s loaded in %.2f ms\n", N,
                    compile_s * 1e3, pbc_len, lua[e].name, lua_load * 1e3);
        }

#ifdef BENCH_HAVE_JSON
        result_names *names = result_names_from_program(prog);
        if (names == NULL) die("out of memory");
#endif
        for (int li = 0; li < o.n_lines; li++) {
            int M = o.lines[li];
            snprintf(path, sizeof path, "%s/carts_%d.bin", o.data, M);
            bench_cartfile *cf = bench_carts_read(path, msg, sizeof msg);
            if (cf == NULL) die("%s", msg);
            bench_perk_cart *carts = calloc(cf->n_carts, sizeof *carts);
            if (carts == NULL) die("out of memory");
            bench_perk_carts_build(cf, carts);
#ifdef BENCH_HAVE_JSON
            for (uint32_t k = 0; k < cf->n_carts; k++) bench_perk_cart_json(&carts[k]);
#endif
            for (int e = 0; e < 3; e++) lua_side_build_carts(&lua[e], cf);
#ifdef BENCH_HAVE_JSON
            check_carts(lua, 3, prog, ctx, lean, carts, cf->n_carts, N, M, names);
#else
            check_carts(lua, 3, prog, ctx, lean, carts, cf->n_carts, N, M, NULL);
#endif
            printf("check\t%s\t%d\t%s\t%u\n", N, M, LUA_ENGINE_NAME, cf->n_carts);
            if (M == 20 || M == 200) {
                before = bench_live_bytes;
                perk_context *measured = perk_context_new(prog, NULL, &err);
                if (measured == NULL) die("perk_context_new: %s", err.message);
                for (uint32_t k = 0; k < cf->n_carts; k++) {
                    bench_perk_cart_load(measured, &carts[k]);
                    perk_evaluate(measured);
                }
                *(M == 20 ? &ctx_after_20 : &ctx_after_200) = bench_live_bytes - before;
                perk_context_free(measured);
            }

            timing_env env = { ctx,
                               lean,
                               prog,
                               carts,
                               &lua[0],
                               ctx,
                               UINT32_MAX
#ifdef BENCH_HAVE_JSON
                               ,
                               names
#endif
            };
            /* Perk and the Lua engines of this runtime, interleaved (perk_eval on its own
             * context, since the perk blocks reload ctx) */
            timed eng[6];
            int n_eng = 0;
            if (o.time_perk) {
                eng[n_eng++] = (timed){ .name = "perk" PERK_TAG, .env = env, .fn = run_perk };
                eng[n_eng] = (timed){ .name = "perk_eval" PERK_TAG, .env = env, .prepare = prepare_perk_eval,
                                      .fn = run_perk_eval };
                eng[n_eng++].env.evaluated = evalctx;
                eng[n_eng] = (timed){ .name = "perk_eval_applied" PERK_TAG, .env = env,
                                      .prepare = prepare_perk_eval, .fn = run_perk_eval };
                eng[n_eng++].env.evaluated = lean;
            }
            if (o.time_lua) {
                eng[n_eng++] = (timed){ .name = lua[0].name, .env = env, .fn = run_lua };
                eng[n_eng] = (timed){ .name = lua[1].name, .env = env, .fn = run_lua };
                eng[n_eng++].env.lua = &lua[1];
                eng[n_eng] = (timed){ .name = lua[2].name, .env = env, .fn = run_lua_checkout };
                eng[n_eng++].env.lua = &lua[2];
            }
            if (n_eng > 0) time_interleaved(N, M, eng, n_eng, cf->n_carts, o.seconds);
#ifdef BENCH_HAVE_JSON
            if (o.time_json) {
                time_engine("perk_json", N, M, &env, cf->n_carts, NULL, run_perk_json, o.seconds);
                time_engine("perk_json_applied", N, M, &env, cf->n_carts, NULL, run_perk_json_applied,
                            o.seconds);
            }
#endif
            bench_perk_carts_free(carts, cf->n_carts);
            free(carts);
            bench_carts_free(cf);
        }
#ifdef BENCH_HAVE_JSON
        result_names_free(names);
#endif
        if (o.time_perk)
            printf("context\t%s\t%lld\t%lld\t%lld\n", N, (long long)ctx_bytes, (long long)ctx_after_20,
                   (long long)ctx_after_200);
        perk_context_free(ctx);
        perk_context_free(lean);
        perk_context_free(evalctx);
        perk_program_free(prog);
    }
#ifndef BENCH_HAVE_JSON
    if (o.time_perk) printf("nojson\n");
#endif
    for (int e = 0; e < 3; e++) lua_side_close(&lua[e]);
    return 0;
}
