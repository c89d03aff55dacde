build-dev/obj/src/compiler/fmt.o: src/compiler/fmt.c src/compiler/fmt.h \
 src/compiler/diag.h src/compiler/ast.h runtime/actions.h \
 src/compiler/source.h src/compiler/diag_all.def \
 src/compiler/diag_codes.def src/compiler/diag_check.def \
 src/compiler/diag_codegen.def src/compiler/diag_analyze.def \
 src/compiler/parse.h build-dev/gen/parser.h src/compiler/ast.h \
 src/compiler/parse_internal.h
src/compiler/fmt.h:
src/compiler/diag.h:
src/compiler/ast.h:
runtime/actions.h:
src/compiler/source.h:
src/compiler/diag_all.def:
src/compiler/diag_codes.def:
src/compiler/diag_check.def:
src/compiler/diag_codegen.def:
src/compiler/diag_analyze.def:
src/compiler/parse.h:
build-dev/gen/parser.h:
src/compiler/ast.h:
src/compiler/parse_internal.h:
