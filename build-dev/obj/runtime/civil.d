build-dev/obj/runtime/civil.o: runtime/civil.c runtime/civil.h
runtime/civil.h:
