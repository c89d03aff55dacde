build-dev/obj/src/json/explain.o: src/json/explain.c src/json/explain.h \
 src/json/cart_json.h runtime/include/perk.h src/json/result_json.h \
 runtime/money.h
src/json/explain.h:
src/json/cart_json.h:
runtime/include/perk.h:
src/json/result_json.h:
runtime/money.h:
