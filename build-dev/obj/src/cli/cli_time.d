build-dev/obj/src/cli/cli_time.o: src/cli/cli_time.c src/cli/cli.h \
 src/cli/cmd_store.h runtime/include/perk.h runtime/tz.h runtime/civil.h \
 runtime/program.h runtime/actions.h runtime/opcodes.h src/store/store.h
src/cli/cli.h:
src/cli/cmd_store.h:
runtime/include/perk.h:
runtime/tz.h:
runtime/civil.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
src/store/store.h:
