build-dev/obj/src/json/result_json.o: src/json/result_json.c \
 src/json/result_json.h src/json/cart_json.h runtime/include/perk.h \
 runtime/civil.h runtime/money.h runtime/opcodes.h
src/json/result_json.h:
src/json/cart_json.h:
runtime/include/perk.h:
runtime/civil.h:
runtime/money.h:
runtime/opcodes.h:
