build-dev/obj/src/cli/cmd_diff.o: src/cli/cmd_diff.c src/cli/cli.h \
 src/cli/cmd_store.h runtime/include/perk.h runtime/tz.h \
 src/compiler/compiler.h src/compiler/ast.h runtime/actions.h \
 src/compiler/diag.h src/compiler/source.h src/compiler/diag_all.def \
 src/compiler/diag_codes.def src/compiler/diag_check.def \
 src/compiler/diag_codegen.def src/compiler/diag_analyze.def \
 src/compiler/fmt.h src/compiler/parse.h src/tools/tools.h \
 src/tools/diff.h src/tools/gen_orders.h src/tools/report.h \
 src/store/store.h src/tools/ruletest.h
src/cli/cli.h:
src/cli/cmd_store.h:
runtime/include/perk.h:
runtime/tz.h:
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
src/tools/tools.h:
src/tools/diff.h:
src/tools/gen_orders.h:
src/tools/report.h:
src/store/store.h:
src/tools/ruletest.h:
