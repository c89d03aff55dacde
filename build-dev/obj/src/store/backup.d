build-dev/obj/src/store/backup.o: src/store/backup.c \
 src/store/store_internal.h src/store/store.h
src/store/store_internal.h:
src/store/store.h:
