build-dev/obj/src/compiler/tzload.o: src/compiler/tzload.c \
 src/compiler/tzload.h runtime/civil.h
src/compiler/tzload.h:
runtime/civil.h:
