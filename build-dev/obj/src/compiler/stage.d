build-dev/obj/src/compiler/stage.o: src/compiler/stage.c src/compiler/stage.h \
 src/compiler/ast.h runtime/actions.h runtime/program.h runtime/actions.h \
 runtime/opcodes.h
src/compiler/stage.h:
src/compiler/ast.h:
runtime/actions.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
