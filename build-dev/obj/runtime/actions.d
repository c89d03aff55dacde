build-dev/obj/runtime/actions.o: runtime/actions.c runtime/actions.h
runtime/actions.h:
