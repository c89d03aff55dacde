build-dev/obj/gen/parser.o: build-dev/gen/parser.c src/compiler/parse.h \
 src/compiler/ast.h runtime/actions.h src/compiler/diag.h \
 src/compiler/source.h src/compiler/diag_all.def \
 src/compiler/diag_codes.def src/compiler/diag_check.def \
 src/compiler/diag_codegen.def src/compiler/diag_analyze.def \
 src/compiler/suggest.h runtime/program.h runtime/actions.h \
 runtime/opcodes.h build-dev/gen/parser.h src/compiler/ast.h \
 src/compiler/parse_internal.h src/compiler/parse.h build-dev/gen/lexer.h
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
src/compiler/suggest.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
build-dev/gen/parser.h:
src/compiler/ast.h:
src/compiler/parse_internal.h:
src/compiler/parse.h:
build-dev/gen/lexer.h:
