build-dev/obj/src/compiler/suggest.o: src/compiler/suggest.c \
 src/compiler/suggest.h
src/compiler/suggest.h:
