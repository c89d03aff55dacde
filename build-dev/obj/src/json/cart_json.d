build-dev/obj/src/json/cart_json.o: src/json/cart_json.c \
 src/json/cart_json.h runtime/include/perk.h runtime/civil.h \
 runtime/money.h
src/json/cart_json.h:
runtime/include/perk.h:
runtime/civil.h:
runtime/money.h:
