build-dev/obj/src/compiler/ast.o: src/compiler/ast.c src/compiler/ast.h \
 runtime/actions.h runtime/civil.h
src/compiler/ast.h:
runtime/actions.h:
runtime/civil.h:
