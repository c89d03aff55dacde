build-dev/obj/src/cli/cmd_report.o: src/cli/cmd_report.c src/cli/cli.h \
 src/cli/cmd_store.h runtime/include/perk.h runtime/tz.h \
 src/store/store.h src/tools/tools.h src/tools/diff.h \
 src/tools/gen_orders.h src/tools/report.h src/tools/ruletest.h
src/cli/cli.h:
src/cli/cmd_store.h:
runtime/include/perk.h:
runtime/tz.h:
src/store/store.h:
src/tools/tools.h:
src/tools/diff.h:
src/tools/gen_orders.h:
src/tools/report.h:
src/tools/ruletest.h:
