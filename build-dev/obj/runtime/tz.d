build-dev/obj/runtime/tz.o: runtime/tz.c runtime/tz.h runtime/civil.h
runtime/tz.h:
runtime/civil.h:
