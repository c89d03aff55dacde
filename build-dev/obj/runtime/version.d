build-dev/obj/runtime/version.o: runtime/version.c runtime/include/perk.h
runtime/include/perk.h:
