build-dev/obj/src/store/sha256.o: src/store/sha256.c src/store/store.h
src/store/store.h:
