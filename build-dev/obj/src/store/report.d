build-dev/obj/src/store/report.o: src/store/report.c \
 src/store/store_internal.h src/store/store.h
src/store/store_internal.h:
src/store/store.h:
