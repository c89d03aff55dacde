build-dev/obj/src/compiler/diag.o: src/compiler/diag.c src/compiler/diag.h \
 src/compiler/ast.h runtime/actions.h src/compiler/source.h \
 src/compiler/diag_all.def src/compiler/diag_codes.def \
 src/compiler/diag_check.def src/compiler/diag_codegen.def \
 src/compiler/diag_analyze.def
src/compiler/diag.h:
src/compiler/ast.h:
runtime/actions.h:
src/compiler/source.h:
src/compiler/diag_all.def:
src/compiler/diag_codes.def:
src/compiler/diag_check.def:
src/compiler/diag_codegen.def:
src/compiler/diag_analyze.def:
