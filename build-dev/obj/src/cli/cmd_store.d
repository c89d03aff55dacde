build-dev/obj/src/cli/cmd_store.o: src/cli/cmd_store.c \
 src/cli/cmd_store.h src/cli/cli.h runtime/include/perk.h runtime/tz.h \
 src/checkout/checkout.h src/json/json.h src/json/cart_json.h \
 src/json/explain.h src/json/result_json.h src/checkout/reload.h \
 src/checkout/store_facts.h src/store/store.h runtime/civil.h
src/cli/cmd_store.h:
src/cli/cli.h:
runtime/include/perk.h:
runtime/tz.h:
src/checkout/checkout.h:
src/json/json.h:
src/json/cart_json.h:
src/json/explain.h:
src/json/result_json.h:
src/checkout/reload.h:
src/checkout/store_facts.h:
src/store/store.h:
runtime/civil.h:
