build-dev/tests/test_explain: tests/unit/test_explain.c \
 src/json/explain.h src/json/cart_json.h runtime/include/perk.h \
 src/json/result_json.h tests/unit/result_fixture.h src/json/cart_json.h \
 runtime/opcodes.h src/json/result_json.h
src/json/explain.h:
src/json/cart_json.h:
runtime/include/perk.h:
src/json/result_json.h:
tests/unit/result_fixture.h:
src/json/cart_json.h:
runtime/opcodes.h:
src/json/result_json.h:
