build-dev/obj/src/json/result_names.o: src/json/result_names.c \
 src/json/result_json.h src/json/cart_json.h runtime/include/perk.h
src/json/result_json.h:
src/json/cart_json.h:
runtime/include/perk.h:
