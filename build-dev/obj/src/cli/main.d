build-dev/obj/src/cli/main.o: src/cli/main.c runtime/bytecode.h \
 runtime/include/perk.h runtime/program.h runtime/actions.h \
 runtime/opcodes.h src/cli/cli.h src/cli/cmd_store.h runtime/tz.h \
 src/store/store.h
runtime/bytecode.h:
runtime/include/perk.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
src/cli/cli.h:
src/cli/cmd_store.h:
runtime/tz.h:
src/store/store.h:
