build-dev/obj/src/cli/cli_util.o: src/cli/cli_util.c src/cli/cli.h \
 src/cli/cmd_store.h runtime/include/perk.h runtime/tz.h runtime/civil.h \
 runtime/bytecode.h runtime/program.h runtime/actions.h runtime/opcodes.h \
 src/compiler/compiler.h src/compiler/ast.h runtime/actions.h \
 src/compiler/diag.h src/compiler/source.h src/compiler/diag_all.def \
 src/compiler/diag_codes.def src/compiler/diag_check.def \
 src/compiler/diag_codegen.def src/compiler/diag_analyze.def \
 src/compiler/fmt.h src/compiler/parse.h src/store/store.h
src/cli/cli.h:
src/cli/cmd_store.h:
runtime/include/perk.h:
runtime/tz.h:
runtime/civil.h:
runtime/bytecode.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
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
src/store/store.h:
