# fuzz.mk - the libFuzzer targets (tests/fuzz/fuzz_*.c) and their replay; included by the Makefile.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="fuzz_cart ..."] [FUZZ_JOBS=2]
#       builds every target with clang -fsanitize=fuzzer,address,undefined into build-fuzz/ (the
#       library sources with -fsanitize=fuzzer-no-link,address,undefined) and runs each for
#       FUZZ_SECONDS seconds (scripts/fuzz-run.sh), starting from tests/fuzz/corpus/<target> and
#       tests/fuzz/regressions/<target>; prints the executions reached per target and fails when a
#       target finds a crash (the input is kept in build-fuzz/artifacts/<target>/). FUZZ_JOBS runs
#       that many targets at a time.
#   make fuzz-build    only builds them.
#
# Every build ($(B) = build, build-asan, ...) also links each target with tests/fuzz/replay.c into
# $(B)/fuzz-replay/<target>: tests/run.sh replays the corpus and the regressions with them.

FUZZ_SRC      := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES    := $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_COMMON   := tests/fuzz/harness.c
FUZZ_HEADERS  := tests/fuzz/harness.h tests/unit/ref/cart_json_ref.h tests/unit/ref/result_json_ref.h tests/unit/ref/cart_json_jansson.c
FUZZ_SECONDS  ?= 60
FUZZ_TARGETS  ?= $(FUZZ_NAMES)
FUZZ_JOBS     ?= 1
FUZZ_B        := build-fuzz
FUZZ_CC       ?= clang
FUZZ_SAN      := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: fuzz fuzz-build

# --- replay binaries: part of `all` in every build ------------------------------------------
all: $(FUZZ_NAMES:%=$(B)/fuzz-replay/%)

$(B)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay.c $(FUZZ_COMMON) $(FUZZ_HEADERS) $(B)/libperkc.a $(B)/libperk.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -o $@ $< tests/fuzz/replay.c $(FUZZ_COMMON) $(B)/libperkc.a $(B)/libperk.a $(LDLIBS_ALL)

# --- libFuzzer binaries: only in build-fuzz/ -------------------------------------------------
$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_COMMON) $(FUZZ_HEADERS) $(B)/libperkc.a $(B)/libperk.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -DPERK_LIBFUZZER -Itests/fuzz -o $@ $< $(FUZZ_COMMON) $(B)/libperkc.a $(B)/libperk.a $(LDLIBS_ALL)

fuzz-build:
	@scripts/deps.sh --fuzz
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=$(FUZZ_CC) OPT=-O1 SAN="$(FUZZ_SAN)" \
	  $(FUZZ_NAMES:%=$(FUZZ_B)/fuzz/%)

fuzz: fuzz-build
	@FUZZ_JOBS=$(FUZZ_JOBS) scripts/fuzz-run.sh $(FUZZ_B) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
