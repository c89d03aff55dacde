build-dev/obj/src/checkout/reload.o: src/checkout/reload.c \
 src/checkout/reload.h runtime/include/perk.h src/store/store.h
src/checkout/reload.h:
runtime/include/perk.h:
src/store/store.h:
