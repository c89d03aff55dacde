build-dev/obj/src/store/coupons.o: src/store/coupons.c \
 src/store/store_internal.h src/store/store.h
src/store/store_internal.h:
src/store/store.h:
