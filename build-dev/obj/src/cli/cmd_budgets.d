build-dev/obj/src/cli/cmd_budgets.o: src/cli/cmd_budgets.c src/cli/cli.h \
 src/cli/cmd_store.h runtime/include/perk.h runtime/tz.h runtime/money.h \
 runtime/program.h runtime/actions.h runtime/opcodes.h src/store/store.h
src/cli/cli.h:
src/cli/cmd_store.h:
runtime/include/perk.h:
runtime/tz.h:
runtime/money.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
src/store/store.h:
