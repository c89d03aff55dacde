build-dev/obj/src/store/tiers.o: src/store/tiers.c src/store/store_internal.h \
 src/store/store.h
src/store/store_internal.h:
src/store/store.h:
