build-dev/obj/src/checkout/checkout.o: src/checkout/checkout.c \
 src/checkout/checkout.h src/json/json.h src/json/cart_json.h \
 runtime/include/perk.h src/json/explain.h src/json/result_json.h \
 src/checkout/reload.h src/checkout/store_facts.h src/store/store.h \
 runtime/program.h runtime/actions.h runtime/opcodes.h
src/checkout/checkout.h:
src/json/json.h:
src/json/cart_json.h:
runtime/include/perk.h:
src/json/explain.h:
src/json/result_json.h:
src/checkout/reload.h:
src/checkout/store_facts.h:
src/store/store.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
