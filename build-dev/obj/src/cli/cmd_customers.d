build-dev/obj/src/cli/cmd_customers.o: src/cli/cmd_customers.c \
 runtime/civil.h src/cli/cli.h src/cli/cmd_store.h runtime/include/perk.h \
 runtime/tz.h src/store/store.h
runtime/civil.h:
src/cli/cli.h:
src/cli/cmd_store.h:
runtime/include/perk.h:
runtime/tz.h:
src/store/store.h:
