build-dev/obj/src/compiler/codegen.o: src/compiler/codegen.c \
 src/compiler/codegen.h src/compiler/check.h src/compiler/ast.h \
 runtime/actions.h src/compiler/diag.h src/compiler/source.h \
 src/compiler/diag_all.def src/compiler/diag_codes.def \
 src/compiler/diag_check.def src/compiler/diag_codegen.def \
 src/compiler/diag_analyze.def runtime/program.h runtime/actions.h \
 runtime/opcodes.h runtime/alloc.h runtime/facts.h runtime/guard.h \
 runtime/program.h runtime/include/perk.h src/compiler/stage.h \
 src/compiler/tzload.h runtime/verify.h
src/compiler/codegen.h:
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
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
runtime/alloc.h:
runtime/facts.h:
runtime/guard.h:
runtime/program.h:
runtime/include/perk.h:
src/compiler/stage.h:
src/compiler/tzload.h:
runtime/verify.h:
