build-dev/obj/src/compiler/source.o: src/compiler/source.c \
 src/compiler/source.h
src/compiler/source.h:
