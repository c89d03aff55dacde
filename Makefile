# Perk build. The layout follows the pipeline:
#   grammar/  lexer.l, parser.y        -> $(B)/gen/ (flex/bison output)
#   src/      compiler, CLI, store     -> $(B)/libperkc.a, $(B)/perk
#   runtime/  libperk (loader, VM)     -> $(B)/libperk.a, $(B)/libperk.so
#   tests/    unit tests (cmocka), golden files, fuzz targets
# Every .c file in those folders is picked up by wildcard: adding a file needs no edit here.
#
#   make run      build, then compile rules/ and evaluate the sample cart
#   make test     build and run every test (plain build, then ASan+UBSan build)
#   make asan     build everything with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/
#   make clang-check  build everything with clang -Werror into build-clang/

CC      ?= cc
B       ?= build
SAN     ?=
OPT     ?= -O2
WARN    = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS_BASE = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) -g -fPIC $(WARN) $(SAN) \
              -Iruntime/include -Iruntime -Isrc -I$(B)/gen
PKGS    = jansson sqlite3 libmicrohttpd libcurl libargon2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libpq (the PostgreSQL store, src/store/db_pg.c): pkg-config's libpq.pc, else pg_config's folder
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I$$(pg_config --includedir 2>/dev/null))
PQ_LIBS   := $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)
PKG_CFLAGS += $(PQ_CFLAGS)
PKG_LIBS   += $(PQ_LIBS)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
ALL_CFLAGS = $(CFLAGS_BASE) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread -lm

RT_SRC   := $(sort $(wildcard runtime/*.c))
SRC_ALL  := $(sort $(wildcard src/*/*.c))
MAIN_SRC := src/cli/main.c
CC_SRC   := $(filter-out $(MAIN_SRC),$(SRC_ALL))
GEN_C    := $(B)/gen/parser.c $(B)/gen/lexer.c
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
EX_SRC   := $(sort $(wildcard examples/*.c))

RT_OBJ   := $(RT_SRC:%.c=$(B)/obj/%.o)
CC_OBJ   := $(CC_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/parser.o $(B)/obj/gen/lexer.o
MAIN_OBJ := $(MAIN_SRC:%.c=$(B)/obj/%.o)
TESTS    := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
EXAMPLES := $(EX_SRC:examples/%.c=$(B)/examples/%)

.PHONY: all deps run test test-only asan clang-check clean bench bench-instructions fuzz test-valgrind test-pg-driver \
	test-pg-nodes soak-pg
.DEFAULT_GOAL := all

all: $(B)/libperk.a $(B)/libperk.so $(B)/libperkc.a $(B)/perk $(TESTS) $(EXAMPLES)

deps:
	@scripts/deps.sh

# --- generated front end -------------------------------------------------
$(B)/gen/parser.c $(B)/gen/parser.h &: grammar/parser.y
	@mkdir -p $(B)/gen
	bison -Wall -Werror --defines=$(B)/gen/parser.h -o $(B)/gen/parser.c $<

$(B)/gen/lexer.c $(B)/gen/lexer.h &: grammar/lexer.l $(B)/gen/parser.h
	@mkdir -p $(B)/gen
	flex --header-file=$(B)/gen/lexer.h -o $(B)/gen/lexer.c $<

# Generated code is not held to -Wextra's unused-parameter rules of our own code.
$(B)/obj/gen/%.o: $(B)/gen/%.c $(B)/gen/parser.h $(B)/gen/lexer.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-unused-function -Wno-unused-parameter -Wno-missing-prototypes -Wno-shadow -MMD -MP -c $< -o $@

# --- the operators' console (console/, docs/console.md) ---------------------
# esbuild bundles console/src into $(B)/console; its files become a C file linked into perk.
CONSOLE_SRC := $(wildcard console/src/*.js) console/index.html console/style.css console/package-lock.json
CC_OBJ += $(B)/obj/gen/console_assets.o

$(B)/console/app.js: $(CONSOLE_SRC) scripts/build-console.sh
	@scripts/build-console.sh $(B)/console

$(B)/gen/console_assets.c: $(B)/console/app.js scripts/embed-console.py
	@mkdir -p $(B)/gen
	python3 scripts/embed-console.py $(B)/console > $@.tmp && mv $@.tmp $@

# --- our own objects -------------------------------------------------------
# The generated headers are order-only: they must exist before the first build, and after that
# the -MMD dependency files rebuild exactly the sources that include them, so editing
# grammar/parser.y rebuilds the front end and not the whole of src/.
$(B)/obj/src/%.o: src/%.c | $(B)/gen/parser.h $(B)/gen/lexer.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# libperk exports its public API only: hidden by default, perk.h's PERK_API_BEGIN/END make
# the perk_* declarations visible, and runtime/libperk.map keeps everything else local.
$(B)/obj/runtime/%.o: runtime/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -MMD -MP -c $< -o $@

$(B)/libperk.a: $(RT_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The shared library: real file libperk.so.X.Y.Z (the version of perk.h), SONAME libperk.so.X,
# both names as symbolic links. It links libc alone (--no-undefined proves it, but for the
# sanitizers' runtime).
PERK_VERSION_FULL := $(shell sed -n 's/^\#define PERK_VERSION_STRING "\(.*\)"/\1/p' runtime/include/perk.h)
PERK_SONAME := libperk.so.$(firstword $(subst ., ,$(PERK_VERSION_FULL)))
PERK_SOREAL := libperk.so.$(PERK_VERSION_FULL)

$(B)/$(PERK_SOREAL): $(RT_OBJ) runtime/libperk.map
	$(CC) -shared $(SAN) $(LDFLAGS) -Wl,-soname,$(PERK_SONAME) -Wl,--version-script=runtime/libperk.map \
	  $(if $(SAN),,-Wl,--no-undefined) -o $@ $(RT_OBJ)

$(B)/libperk.so: $(B)/$(PERK_SOREAL)
	ln -sf $(PERK_SOREAL) $(B)/$(PERK_SONAME)
	ln -sf $(PERK_SOREAL) $@

$(B)/libperkc.a: $(CC_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/perk: $(MAIN_OBJ) $(B)/libperkc.a $(B)/libperk.a
	$(CC) $(SAN) $(LDFLAGS) -o $@ $(MAIN_OBJ) $(B)/libperkc.a $(B)/libperk.a $(LDLIBS_ALL)

$(B)/tests/%: tests/unit/%.c $(B)/libperkc.a $(B)/libperk.a
	@mkdir -p $(dir $@) $(B)/obj/tests
	$(CC) $(ALL_CFLAGS) -Itests/unit -MMD -MP -MF $(B)/obj/tests/$*.d -o $@ $< $(B)/libperkc.a $(B)/libperk.a $(CMOCKA_LIBS) $(LDLIBS_ALL)

# Examples embed libperk through perk.h only: no compiler, no store on the include path.
$(B)/examples/%: examples/%.c $(B)/libperk.a
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) -g $(WARN) $(SAN) -Iruntime/include -o $@ $< $(B)/libperk.a $(LDLIBS_ALL)

# --- the two set-up commands -------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-main.sh $(B)

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory clang-check
	@tests/run.sh $(B) build-asan

# The PostgreSQL driver's tests (src/store/db_pg.c) against a throwaway cluster that
# tests/pg/with-cluster.sh starts and always stops (tests/run.sh runs it the same way in `make test`).
test-pg-driver: $(B)/tests/test_pg_driver
	@tests/pg/with-cluster.sh $(B)/tests/test_pg_driver

# Several perk serve nodes on one PostgreSQL (a throwaway cluster): versions swapped everywhere,
# one webhook relay at a time with takeover, perk db copy, and the CI-size contest (4 nodes, 8 clients, 1,000 orders per round, with kills).
test-pg-nodes: $(B)/perk
	@tests/pg/with-cluster.sh tests/pg/nodes.sh $(B)/perk
	@tests/pg/with-cluster.sh tests/pg/webhooks.sh $(B)/perk
	@tests/pg/with-cluster.sh tests/pg/copy.sh $(B)/perk
	@tests/pg/with-cluster.sh tests/pg/contest.sh pg $(B)/perk

# The full-size multi-node run, by hand (minutes): 4 nodes, 16 clients, 20,000 orders per round,
# one node SIGKILLed every 3 s in the second; prints orders/s, retries, p50/p99 commit latency.
soak-pg: $(B)/perk
	@CONTEST_CLIENTS=16 CONTEST_ORDERS=20000 CONTEST_KILL_EVERY=3 tests/pg/with-cluster.sh tests/pg/contest.sh pg $(B)/perk

# Runs the suites of an already built tree (used by the fuzz/valgrind jobs too).
test-only:
	@tests/run.sh $(B)

asan:
	@$(MAKE) --no-print-directory all B=build-asan OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

# The code must stay -Werror clean under clang too: build everything with it (tests run on gcc).
clang-check:
	@$(MAKE) --no-print-directory all B=build-clang CC=clang

# Every suite under valgrind memcheck (heavy suites at their PERK_TEST_QUICK size; see tests/run.sh).
test-valgrind:
	@scripts/deps.sh --valgrind
	@$(MAKE) --no-print-directory all
	@VALGRIND=1 tests/run.sh $(B)

clean:
	rm -rf build build-asan build-clang build-fuzz build-bench

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
-include bench/bench.mk
-include fuzz.mk
include install.mk
