build-dev/obj/src/cli/cli_options.o: src/cli/cli_options.c src/cli/cli.h \
 src/cli/cmd_store.h runtime/include/perk.h runtime/tz.h
src/cli/cli.h:
src/cli/cmd_store.h:
runtime/include/perk.h:
runtime/tz.h:
