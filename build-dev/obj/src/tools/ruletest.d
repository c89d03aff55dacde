build-dev/obj/src/tools/ruletest.o: src/tools/ruletest.c \
 src/tools/ruletest.h src/compiler/compiler.h src/compiler/ast.h \
 runtime/actions.h src/compiler/diag.h src/compiler/source.h \
 src/compiler/diag_all.def src/compiler/diag_codes.def \
 src/compiler/diag_check.def src/compiler/diag_codegen.def \
 src/compiler/diag_analyze.def src/compiler/fmt.h src/compiler/parse.h \
 runtime/include/perk.h src/json/json.h src/json/cart_json.h \
 src/json/explain.h src/json/result_json.h runtime/money.h \
 runtime/opcodes.h runtime/program.h runtime/actions.h runtime/opcodes.h
src/tools/ruletest.h:
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
src/json/json.h:
src/json/cart_json.h:
src/json/explain.h:
src/json/result_json.h:
runtime/money.h:
runtime/opcodes.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
