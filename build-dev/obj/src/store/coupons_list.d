build-dev/obj/src/store/coupons_list.o: src/store/coupons_list.c \
 src/store/store_internal.h src/store/store.h
src/store/store_internal.h:
src/store/store.h:
