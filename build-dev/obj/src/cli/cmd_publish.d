build-dev/obj/src/cli/cmd_publish.o: src/cli/cmd_publish.c \
 src/json/json.h src/json/cart_json.h runtime/include/perk.h \
 src/json/explain.h src/json/result_json.h src/checkout/checkout.h \
 src/checkout/reload.h src/checkout/store_facts.h src/store/store.h \
 runtime/civil.h src/cli/cli.h src/cli/cmd_store.h runtime/tz.h \
 src/compiler/compiler.h src/compiler/ast.h runtime/actions.h \
 src/compiler/diag.h src/compiler/source.h src/compiler/diag_all.def \
 src/compiler/diag_codes.def src/compiler/diag_check.def \
 src/compiler/diag_codegen.def src/compiler/diag_analyze.def \
 src/compiler/fmt.h src/compiler/parse.h
src/json/json.h:
src/json/cart_json.h:
runtime/include/perk.h:
src/json/explain.h:
src/json/result_json.h:
src/checkout/checkout.h:
src/checkout/reload.h:
src/checkout/store_facts.h:
src/store/store.h:
runtime/civil.h:
src/cli/cli.h:
src/cli/cmd_store.h:
runtime/tz.h:
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
