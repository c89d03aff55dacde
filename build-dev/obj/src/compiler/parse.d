build-dev/obj/src/compiler/parse.o: src/compiler/parse.c src/compiler/parse.h \
 src/compiler/ast.h runtime/actions.h src/compiler/diag.h \
 src/compiler/source.h src/compiler/diag_all.def \
 src/compiler/diag_codes.def src/compiler/diag_check.def \
 src/compiler/diag_codegen.def src/compiler/diag_analyze.def \
 src/compiler/parse_internal.h
src/compiler/parse.h:
src/compiler/ast.h:
runtime/actions.h:
src/compiler/diag.h:
src/compiler/source.h:
src/compiler/diag_all.def:
src/compiler/diag_codes.def:
src/compiler/diag_check.def:
src/compiler/diag_codegen.def:
src/compiler/diag_analyze.def:
src/compiler/parse_internal.h:
