build-dev/obj/runtime/opcodes.o: runtime/opcodes.c runtime/opcodes.h
runtime/opcodes.h:
