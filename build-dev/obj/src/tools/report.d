build-dev/obj/src/tools/report.o: src/tools/report.c src/tools/report.h \
 src/store/store.h runtime/civil.h runtime/money.h runtime/include/perk.h \
 runtime/program.h runtime/actions.h runtime/opcodes.h
src/tools/report.h:
src/store/store.h:
runtime/civil.h:
runtime/money.h:
runtime/include/perk.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
