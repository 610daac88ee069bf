# make install / make uninstall: kiln, libkiln (.so and .a), kiln.h, kiln.pc, kiln(1) and libkiln(3)
# under PREFIX (default /usr/local), below DESTDIR when it is set (a staging directory: packages).
# With PREFIX=/usr the libraries go to Debian's multiarch directory, /usr/lib/x86_64-linux-gnu.
# uninstall removes exactly the files install put (and include/kiln), not the shared directories.
# check-install (tests/integration/install.sh) installs into a temporary DESTDIR and builds the
# examples against it with pkg-config alone.

PREFIX ?= /usr/local
ifeq ($(PREFIX),/usr)
MULTIARCH := $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || $(CC) -print-multiarch)
endif
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR ?= $(PREFIX)/share/man

# What a program linked with the static library needs besides it: libc's threads (no other
# library: json-c is the API server's, which is kiln's, not libkiln's).
PC_LIBS_PRIVATE := -pthread

# The files install writes, relative to DESTDIR (uninstall's list too).
INSTALLED = $(BINDIR)/kiln $(LIBDIR)/$(notdir $(LIBKILN_SO)) $(LIBDIR)/$(KILN_SONAME) \
	$(LIBDIR)/libkiln.so $(LIBDIR)/libkiln.a $(INCLUDEDIR)/kiln/kiln.h $(PKGCONFIGDIR)/kiln.pc \
	$(MANDIR)/man1/kiln.1 $(MANDIR)/man3/libkiln.3

# The dynamic loader's cache, after a real install into the system (not into a staging DESTDIR).
LDCONFIG = [ -n "$(DESTDIR)" ] || [ "$$(id -u)" != 0 ] || ldconfig

install: $(BUILD)/kiln lib
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/kiln \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	$(Q)install -m 0755 $(BUILD)/kiln $(DESTDIR)$(BINDIR)/kiln
	$(Q)install -m 0755 $(LIBKILN_SO) $(DESTDIR)$(LIBDIR)/
	$(Q)ln -sf $(notdir $(LIBKILN_SO)) $(DESTDIR)$(LIBDIR)/$(KILN_SONAME)
	$(Q)ln -sf $(KILN_SONAME) $(DESTDIR)$(LIBDIR)/libkiln.so
	$(Q)install -m 0644 $(BUILD)/rel/libkiln.a $(DESTDIR)$(LIBDIR)/
	$(Q)install -m 0644 include/kiln/kiln.h $(DESTDIR)$(INCLUDEDIR)/kiln/
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
		-e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|' \
		-e 's|@VERSION@|$(KILN_VERSION)|' -e 's|@LIBS_PRIVATE@|$(PC_LIBS_PRIVATE)|' \
		kiln.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/kiln.pc
	$(Q)chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/kiln.pc
	$(Q)install -m 0644 docs/kiln.1 $(DESTDIR)$(MANDIR)/man1/
	$(Q)install -m 0644 docs/libkiln.3 $(DESTDIR)$(MANDIR)/man3/
	$(Q)$(LDCONFIG)
	@echo "install: kiln $(KILN_VERSION) into $(DESTDIR)$(PREFIX) (libraries in $(DESTDIR)$(LIBDIR))"

uninstall:
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)if [ -d $(DESTDIR)$(INCLUDEDIR)/kiln ]; then rmdir $(DESTDIR)$(INCLUDEDIR)/kiln; fi
	$(Q)$(LDCONFIG)

# Installs into a temporary DESTDIR (both layouts: PREFIX /usr/local and /usr), builds the examples
# there with pkg-config alone and runs them on tiny guests, dynamically and statically linked.
# `man -l` is man-db's; the static link takes libc.a from libc6-dev.
TEST_PKGS += man-db
check-install: deps-test $(BUILD)/kiln lib tiny
	$(Q)tests/integration/install.sh "$(MAKE)" $(BUILD)

check: check-install

.PHONY: install uninstall check-install

# make deb: the Debian packages kiln, libkiln0 and libkiln-dev (debian/), built by
# `dpkg-buildpackage -us -uc -b` in a copy of the sources (its clean step empties the copy's build/,
# not this one's); what it writes beside the copy (.deb, .changes, .buildinfo) and its log go to
# $(BUILD)/deb/. check-deb runs lintian on them (errors fail, warnings and
# information show), then unpacks them and builds and runs the examples against their files.
DEB_PKGS := dpkg-dev debhelper lintian
DEB_DIR := $(BUILD)/deb
DEB_SRC := $(DEB_DIR)/src/kiln-$(KILN_VERSION)

deb: deps-build
	$(Q)scripts/install-deps.sh $(DEB_PKGS)
	$(Q)v=$$(dpkg-parsechangelog -S Version); [ "$$v" = "$(KILN_VERSION)" ] || \
		{ echo "deb: debian/changelog is at $$v, kiln.h at $(KILN_VERSION)" >&2; exit 1; }
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	$(Q)tar -cf - --exclude=./$(BUILD) --exclude=./.git . | tar -C $(DEB_SRC) -xf -
	$(Q)cd $(DEB_SRC) && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -n 30 ../build.log >&2; exit 1; }
	$(Q)find $(DEB_DIR)/src -maxdepth 1 -type f -exec mv {} $(DEB_DIR)/ \; && rm -rf $(DEB_DIR)/src
	@ls $(DEB_DIR)/*.deb

check-deb: deb tiny
	$(Q)lintian --fail-on error --display-info $(DEB_DIR)/*.changes
	$(Q)tests/integration/install.sh "$(MAKE)" $(BUILD) $(DEB_DIR)

.PHONY: deb check-deb
