build-dev/obj/src/json/cart_json_feed.o: src/json/cart_json_feed.c \
 src/json/cart_json.h runtime/include/perk.h
src/json/cart_json.h:
runtime/include/perk.h:
