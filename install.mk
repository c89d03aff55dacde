# install.mk - `make install` / `make uninstall` (included by the Makefile), GNU directory
# variables, DESTDIR for staged installs:
#   make install PREFIX=/usr DESTDIR=/tmp/stage libdir=/usr/lib/x86_64-linux-gnu
# Installs the perk command, libperk.a, libperk.so.X.Y.Z with its SONAME and development links,
# perk.h and perk_json.h (carts as JSON) in includedir, perk.pc, man pages and the bash completion
# (both generated from the CLI's option tables by `perk help --man` / `--completion`), and the
# systemd units of contrib/.
# `make test-install` (scripts/test-install.sh) proves it: stage, build examples/checkout.c with
# pkg-config only, run it, uninstall.

PREFIX         ?= /usr/local
prefix         ?= $(PREFIX)
exec_prefix    ?= $(prefix)
bindir         ?= $(exec_prefix)/bin
libdir         ?= $(exec_prefix)/lib
includedir     ?= $(prefix)/include
datarootdir    ?= $(prefix)/share
datadir        ?= $(datarootdir)
mandir         ?= $(datarootdir)/man
bashcompdir    ?= $(datadir)/bash-completion/completions
systemdunitdir ?= $(prefix)/lib/systemd/system
pkgconfigdir   ?= $(libdir)/pkgconfig
INSTALL        ?= install

PERK_UNITS := perk-serve.service perk-expire.service perk-expire.timer

.PHONY: install uninstall install-docs test-install

# Generated from the option tables by the perk just built.
$(B)/doc/stamp: $(B)/perk
	@rm -rf $(B)/doc && mkdir -p $(B)/doc/man1
	$(B)/perk help --man > $(B)/doc/man1/perk.1
	for c in $$($(B)/perk help | awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $$1 }'); do \
	  $(B)/perk help --man $$c > $(B)/doc/man1/perk-$$c.1 || exit 1; done
	$(B)/perk help --completion bash > $(B)/doc/perk.bash-completion
	@touch $@

install: $(B)/perk $(B)/libperk.a $(B)/libperk.so $(B)/doc/stamp
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) $(DESTDIR)$(pkgconfigdir) \
	  $(DESTDIR)$(mandir)/man1 $(DESTDIR)$(bashcompdir) $(DESTDIR)$(systemdunitdir)
	$(INSTALL) -m 755 $(B)/perk $(DESTDIR)$(bindir)/perk
	$(INSTALL) -m 644 $(B)/libperk.a $(DESTDIR)$(libdir)/libperk.a
	$(INSTALL) -m 755 $(B)/$(PERK_SOREAL) $(DESTDIR)$(libdir)/$(PERK_SOREAL)
	ln -sf $(PERK_SOREAL) $(DESTDIR)$(libdir)/$(PERK_SONAME)
	ln -sf $(PERK_SOREAL) $(DESTDIR)$(libdir)/libperk.so
	$(INSTALL) -m 644 runtime/include/perk.h $(DESTDIR)$(includedir)/perk.h
	$(INSTALL) -m 644 runtime/include/perk_json.h $(DESTDIR)$(includedir)/perk_json.h
	@# perk.pc: libperk needs libc alone, so there is no Requires or Libs.private
	printf '%s\n' 'prefix=$(prefix)' 'includedir=$(includedir)' 'libdir=$(libdir)' '' \
	  'Name: perk' 'Description: Perk promotion and loyalty rule engine (libperk: load and evaluate rule sets)' \
	  'Version: $(PERK_VERSION_FULL)' 'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lperk' \
	  > $(DESTDIR)$(pkgconfigdir)/perk.pc
	chmod 644 $(DESTDIR)$(pkgconfigdir)/perk.pc
	$(INSTALL) -m 644 $(B)/doc/man1/*.1 $(DESTDIR)$(mandir)/man1/
	$(INSTALL) -m 644 $(B)/doc/perk.bash-completion $(DESTDIR)$(bashcompdir)/perk
	@# the units name the perk of this install
	for u in $(PERK_UNITS); do \
	  sed 's|/usr/local/bin/perk|$(bindir)/perk|g' contrib/$$u > $(DESTDIR)$(systemdunitdir)/$$u && \
	  chmod 644 $(DESTDIR)$(systemdunitdir)/$$u || exit 1; done

uninstall:
	rm -f $(DESTDIR)$(bindir)/perk $(DESTDIR)$(libdir)/libperk.a $(DESTDIR)$(libdir)/$(PERK_SOREAL) \
	  $(DESTDIR)$(libdir)/$(PERK_SONAME) $(DESTDIR)$(libdir)/libperk.so $(DESTDIR)$(includedir)/perk.h \
	  $(DESTDIR)$(includedir)/perk_json.h \
	  $(DESTDIR)$(pkgconfigdir)/perk.pc $(DESTDIR)$(mandir)/man1/perk.1 $(DESTDIR)$(mandir)/man1/perk-*.1 \
	  $(DESTDIR)$(bashcompdir)/perk $(addprefix $(DESTDIR)$(systemdunitdir)/,$(PERK_UNITS))

test-install: $(B)/perk $(B)/libperk.a $(B)/libperk.so
	@scripts/test-install.sh $(B)

# The Debian packages (debian/): built out of tree with dpkg-buildpackage, checked by lintian,
# installed with dpkg -i (as root) and used by the example (scripts/test-deb.sh).
.PHONY: deb test-deb
deb test-deb:
	@scripts/deps.sh --deb
	@scripts/test-deb.sh $(if $(filter deb,$@),--build-only)
