build-dev/obj/src/tools/gen_orders.o: src/tools/gen_orders.c \
 src/tools/gen_orders.h src/compiler/compiler.h src/compiler/ast.h \
 runtime/actions.h src/compiler/diag.h src/compiler/source.h \
 src/compiler/diag_all.def src/compiler/diag_codes.def \
 src/compiler/diag_check.def src/compiler/diag_codegen.def \
 src/compiler/diag_analyze.def src/compiler/fmt.h src/compiler/parse.h \
 runtime/include/perk.h runtime/civil.h runtime/money.h
src/tools/gen_orders.h:
src/compiler/compiler.h:
src/compiler/ast.h:
runtime/actions.h:
src/compiler/diag.h:
src/compiler/source.h:
src/compiler/diag_all.def:
src/compiler/diag_codes.def:
src/compiler/diag_check.def:
src/compiler/diag_codegen.def:
src/compiler/diag_analyze.def:
src/compiler/fmt.h:
src/compiler/parse.h:
runtime/include/perk.h:
runtime/civil.h:
runtime/money.h:
