build-dev/obj/src/checkout/store_facts.o: src/checkout/store_facts.c \
 src/checkout/store_facts.h src/json/json.h src/json/cart_json.h \
 runtime/include/perk.h src/json/explain.h src/json/result_json.h \
 src/store/store.h runtime/civil.h
src/checkout/store_facts.h:
src/json/json.h:
src/json/cart_json.h:
runtime/include/perk.h:
src/json/explain.h:
src/json/result_json.h:
src/store/store.h:
runtime/civil.h:
