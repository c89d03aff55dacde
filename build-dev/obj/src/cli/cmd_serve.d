build-dev/obj/src/cli/cmd_serve.o: src/cli/cmd_serve.c src/cli/cli.h \
 src/cli/cmd_store.h runtime/include/perk.h runtime/tz.h \
 src/service/service.h src/store/store.h
src/cli/cli.h:
src/cli/cmd_store.h:
runtime/include/perk.h:
runtime/tz.h:
src/service/service.h:
src/store/store.h:
