build-dev/tests/test_result_json: tests/unit/test_result_json.c \
 tests/unit/result_fixture.h src/json/cart_json.h runtime/include/perk.h \
 runtime/opcodes.h src/json/result_json.h src/json/cart_json.h
tests/unit/result_fixture.h:
src/json/cart_json.h:
runtime/include/perk.h:
runtime/opcodes.h:
src/json/result_json.h:
src/json/cart_json.h:
