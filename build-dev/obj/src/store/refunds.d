build-dev/obj/src/store/refunds.o: src/store/refunds.c \
 src/store/store_internal.h src/store/store.h
src/store/store_internal.h:
src/store/store.h:
