build-dev/obj/src/compiler/check_stage.o: src/compiler/check_stage.c \
 src/compiler/check_internal.h src/compiler/ast.h runtime/actions.h \
 src/compiler/check.h src/compiler/diag.h src/compiler/source.h \
 src/compiler/diag_all.def src/compiler/diag_codes.def \
 src/compiler/diag_check.def src/compiler/diag_codegen.def \
 src/compiler/diag_analyze.def runtime/facts.h runtime/program.h \
 runtime/actions.h runtime/opcodes.h runtime/money.h \
 src/compiler/tzload.h src/compiler/stage.h
src/compiler/check_internal.h:
src/compiler/ast.h:
runtime/actions.h:
src/compiler/check.h:
src/compiler/diag.h:
src/compiler/source.h:
src/compiler/diag_all.def:
src/compiler/diag_codes.def:
src/compiler/diag_check.def:
src/compiler/diag_codegen.def:
src/compiler/diag_analyze.def:
runtime/facts.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
runtime/money.h:
src/compiler/tzload.h:
src/compiler/stage.h:
