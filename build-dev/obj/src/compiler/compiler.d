build-dev/obj/src/compiler/compiler.o: src/compiler/compiler.c \
 src/compiler/compiler.h src/compiler/ast.h runtime/actions.h \
 src/compiler/diag.h src/compiler/source.h src/compiler/diag_all.def \
 src/compiler/diag_codes.def src/compiler/diag_check.def \
 src/compiler/diag_codegen.def src/compiler/diag_analyze.def \
 src/compiler/fmt.h src/compiler/parse.h runtime/include/perk.h \
 runtime/alloc.h src/compiler/analyze.h src/compiler/check.h \
 runtime/bytecode.h runtime/program.h runtime/actions.h runtime/opcodes.h \
 src/compiler/codegen.h runtime/program.h runtime/verify.h
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
runtime/alloc.h:
src/compiler/analyze.h:
src/compiler/check.h:
runtime/bytecode.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
src/compiler/codegen.h:
runtime/program.h:
runtime/verify.h:
