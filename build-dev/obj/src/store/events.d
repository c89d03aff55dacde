build-dev/obj/src/store/events.o: src/store/events.c \
 src/store/store_internal.h src/store/store.h
src/store/store_internal.h:
src/store/store.h:
