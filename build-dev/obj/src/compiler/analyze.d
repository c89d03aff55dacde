build-dev/obj/src/compiler/analyze.o: src/compiler/analyze.c \
 src/compiler/analyze.h src/compiler/check.h src/compiler/ast.h \
 runtime/actions.h src/compiler/diag.h src/compiler/source.h \
 src/compiler/diag_all.def src/compiler/diag_codes.def \
 src/compiler/diag_check.def src/compiler/diag_codegen.def \
 src/compiler/diag_analyze.def runtime/civil.h runtime/facts.h \
 src/compiler/stage.h runtime/program.h runtime/actions.h \
 runtime/opcodes.h
src/compiler/analyze.h:
src/compiler/check.h:
src/compiler/ast.h:
runtime/actions.h:
src/compiler/diag.h:
src/compiler/source.h:
src/compiler/diag_all.def:
src/compiler/diag_codes.def:
src/compiler/diag_check.def:
src/compiler/diag_codegen.def:
src/compiler/diag_analyze.def:
runtime/civil.h:
runtime/facts.h:
src/compiler/stage.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
