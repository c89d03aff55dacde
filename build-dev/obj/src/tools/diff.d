build-dev/obj/src/tools/diff.o: src/tools/diff.c src/tools/diff.h \
 runtime/include/perk.h src/json/json.h src/json/cart_json.h \
 src/json/explain.h src/json/result_json.h runtime/money.h
src/tools/diff.h:
runtime/include/perk.h:
src/json/json.h:
src/json/cart_json.h:
src/json/explain.h:
src/json/result_json.h:
runtime/money.h:
