build-dev/obj/runtime/alloc.o: runtime/alloc.c runtime/alloc.h \
 runtime/include/perk.h
runtime/alloc.h:
runtime/include/perk.h:
