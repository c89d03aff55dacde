build-dev/obj/src/store/ledger.o: src/store/ledger.c \
 src/store/store_internal.h src/store/store.h
src/store/store_internal.h:
src/store/store.h:
