build-dev/obj/src/cli/cmd_refund.o: src/cli/cmd_refund.c \
 src/checkout/checkout.h src/json/json.h src/json/cart_json.h \
 runtime/include/perk.h src/json/explain.h src/json/result_json.h \
 src/checkout/reload.h src/checkout/store_facts.h src/store/store.h \
 src/cli/cli.h src/cli/cmd_store.h runtime/tz.h runtime/money.h
src/checkout/checkout.h:
src/json/json.h:
src/json/cart_json.h:
runtime/include/perk.h:
src/json/explain.h:
src/json/result_json.h:
src/checkout/reload.h:
src/checkout/store_facts.h:
src/store/store.h:
src/cli/cli.h:
src/cli/cmd_store.h:
runtime/tz.h:
runtime/money.h:
