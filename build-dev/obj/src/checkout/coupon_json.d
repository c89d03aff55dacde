build-dev/obj/src/checkout/coupon_json.o: src/checkout/coupon_json.c \
 src/checkout/checkout.h src/json/json.h src/json/cart_json.h \
 runtime/include/perk.h src/json/explain.h src/json/result_json.h \
 src/checkout/reload.h src/checkout/store_facts.h src/store/store.h
src/checkout/checkout.h:
src/json/json.h:
src/json/cart_json.h:
runtime/include/perk.h:
src/json/explain.h:
src/json/result_json.h:
src/checkout/reload.h:
src/checkout/store_facts.h:
src/store/store.h:
