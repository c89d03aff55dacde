# bench/bench.mk - the benchmark targets, included by the Makefile (`-include bench/bench.mk`).
#
#   make bench               Perk's VM against the same promotions in Lua 5.4 and LuaJIT (the
#                            indexed Lua engine and the earlier scan engine): generate the
#                            workloads, check that all engines agree on every cart, time each
#                            runtime interleaved with Perk in one process, then Perk with 1 and 2
#                            threads; prints the tables and writes build-bench/results.md
#   make bench-instructions  callgrind at 100 and 10,000 rules x 20 lines: machine instructions
#                            per run of Perk (evaluation; cart loading + evaluation) and of the
#                            Lua engines in both runtimes
#   make bench-store         the contested commit workload through perk serve: SQLite (one node)
#                            and PostgreSQL (1, 2, 4 nodes) in one run (bench/store.sh)
#   make bench-scaling       compile time and context creation on 50,000 and 100,000 attr(...)
#                            comparisons: fails if doubling the input more than 2.6x the time
#                            (bench/scaling.sh; the O(n log n) promise of docs/security.md)
#
# Everything is built into build-bench/ with -O2 and no sanitizers. Lua 5.4 and LuaJIT export
# the same symbols, so there is one harness binary per Lua runtime; both link Perk and time it in
# the same process as their Lua (bench/README.md, "Why two programs").

BENCH_B       := build-bench
BENCH_CFLAGS   = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g $(WARN) \
                 -Iruntime/include -Iruntime -Isrc -I$(BENCH_B)/gen -Ibench $(PKG_CFLAGS)
BENCH_PERK     = $(BENCH_B)/libperkc.a $(BENCH_B)/libperk.a $(PKG_LIBS) -lpthread -lm
LUA54_FLAGS   := $(shell pkg-config --cflags --libs lua5.4 2>/dev/null)
LUAJIT_FLAGS  := $(shell pkg-config --cflags --libs luajit 2>/dev/null)
BENCH_BINS    := $(BENCH_B)/perk_gen $(BENCH_B)/bench_lua54 $(BENCH_B)/bench_luajit
BENCH_J       := $(if $(findstring -j,$(MAKEFLAGS)),,-j2)

.PHONY: bench-build

bench-build:
	@scripts/deps.sh --bench
	@$(MAKE) --no-print-directory $(BENCH_J) B=$(BENCH_B) OPT=-O2 SAN= all
	@$(MAKE) --no-print-directory $(BENCH_J) $(BENCH_BINS)

bench: bench-build
	@bench/run.sh $(BENCH_B)

bench-instructions: bench-build
	@bench/run.sh $(BENCH_B) --instructions

$(BENCH_B)/perk_gen: bench/gen.c bench/cartfile.c bench/cartfile.h
	@mkdir -p $(BENCH_B)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/gen.c bench/cartfile.c

$(BENCH_B)/bench_lua54: bench/bench.c bench/cartfile.c bench/cartfile.h bench/perk_carts.c bench/perk_carts.h $(BENCH_B)/libperkc.a $(BENCH_B)/libperk.a
	$(CC) $(BENCH_CFLAGS) -o $@ bench/bench.c bench/cartfile.c bench/perk_carts.c $(BENCH_PERK) $(LUA54_FLAGS)

$(BENCH_B)/bench_luajit: bench/bench.c bench/cartfile.c bench/cartfile.h bench/perk_carts.c bench/perk_carts.h $(BENCH_B)/libperkc.a $(BENCH_B)/libperk.a
	$(CC) $(BENCH_CFLAGS) -DBENCH_LUAJIT -o $@ bench/bench.c bench/cartfile.c bench/perk_carts.c $(BENCH_PERK) $(LUAJIT_FLAGS)

.PHONY: bench-scaling
bench-scaling: $(B)/perk
	bench/scaling.sh $(B)/perk

# make bench-serve: perk serve under wrk at 100 rules x 20 lines, beside the in-process figure
# for the same carts (bench/serve.sh; BENCH_SECONDS per run, default 10)
.PHONY: bench-serve
bench-serve: bench-build
	@bench/serve.sh $(BENCH_B) $(or $(BENCH_SECONDS),10)

# make bench-phases: what a checkout pays around evaluation, phase by phase (bench/phases.c): load +
# verify, perk_context_new, cart JSON in, evaluate, render, and a context's memory; 100, 1,000 and
# 10,000 rules x 20 lines (PHASE_RULES, PHASE_LINES, BENCH_SECONDS override)
.PHONY: bench-phases
$(BENCH_B)/bench_phases: bench/phases.c bench/cartfile.c bench/cartfile.h bench/perk_carts.c bench/perk_carts.h $(BENCH_B)/libperkc.a $(BENCH_B)/libperk.a
	$(CC) $(BENCH_CFLAGS) -o $@ bench/phases.c bench/cartfile.c bench/perk_carts.c $(BENCH_PERK)

PHASE_RULES ?= 100,1000,10000
PHASE_LINES ?= 20
bench-phases:
	@$(MAKE) --no-print-directory $(BENCH_J) B=$(BENCH_B) OPT=-O2 SAN= $(BENCH_B)/libperk.a $(BENCH_B)/libperkc.a
	@$(MAKE) --no-print-directory $(BENCH_J) $(BENCH_B)/perk_gen $(BENCH_B)/bench_phases
	@$(BENCH_B)/perk_gen --out $(BENCH_B)/data --seed 42 --rules $(PHASE_RULES) --lines $(PHASE_LINES)
	@$(BENCH_B)/bench_phases --data $(BENCH_B)/data --rules $(PHASE_RULES) --lines $(PHASE_LINES) --seconds $(or $(BENCH_SECONDS),0.3)

# make bench-store: the contested commit workload through perk serve on SQLite (one node) and on
# PostgreSQL (1, 2 and 4 nodes) in one run (bench/store.sh; BENCH_STORE_ORDERS per configuration,
# default 4000; BENCH_STORE_CLIENTS, 16; BENCH_STORE_THREADS per node, 4); the table goes to
# build-bench/store.md
.PHONY: bench-store
$(BENCH_B)/store_client: bench/store_client.c
	@mkdir -p $(BENCH_B)
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g $(WARN) -o $@ bench/store_client.c -lpthread

bench-store:
	@$(MAKE) --no-print-directory $(BENCH_J) B=$(BENCH_B) OPT=-O2 SAN= $(BENCH_B)/perk
	@$(MAKE) --no-print-directory $(BENCH_B)/store_client
	@bench/store.sh $(BENCH_B)
