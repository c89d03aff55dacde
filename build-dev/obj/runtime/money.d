build-dev/obj/runtime/money.o: runtime/money.c runtime/money.h \
 runtime/currencies.def
runtime/money.h:
runtime/currencies.def:
