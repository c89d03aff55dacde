build-dev/obj/src/cli/cmd_users.o: src/cli/cmd_users.c src/cli/cli.h \
 src/cli/cmd_store.h runtime/include/perk.h runtime/tz.h \
 src/store/store.h
src/cli/cli.h:
src/cli/cmd_store.h:
runtime/include/perk.h:
runtime/tz.h:
src/store/store.h:
