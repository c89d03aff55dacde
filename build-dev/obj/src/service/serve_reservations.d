build-dev/obj/src/service/serve_reservations.o: \
 src/service/serve_reservations.c src/service/serve_internal.h \
 src/checkout/checkout.h src/json/json.h src/json/cart_json.h \
 runtime/include/perk.h src/json/explain.h src/json/result_json.h \
 src/checkout/reload.h src/checkout/store_facts.h src/store/store.h \
 src/service/service.h runtime/money.h
src/service/serve_internal.h:
src/checkout/checkout.h:
src/json/json.h:
src/json/cart_json.h:
runtime/include/perk.h:
src/json/explain.h:
src/json/result_json.h:
src/checkout/reload.h:
src/checkout/store_facts.h:
src/store/store.h:
src/service/service.h:
runtime/money.h:
