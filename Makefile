# The two commands a new user needs: `make demo` and `make test`.
SWIFT ?= swift
VEM := .build/debug/vem

# The tests run in phases (scripts/test-phases says which and why): the pure, CPU-bound suites; then the
# timing-sensitive integration suites; then the heavy ones (QEMU guests, migrations, Slurm clusters) one test at
# a time, so that no timing-sensitive test shares the two cores with a guest booting.
.PHONY: all build test demo demo-real-guest deps clean install man

all: build

deps:
	scripts/install-deps

build: deps
	$(SWIFT) build --build-tests

test: build
	@scripts/test-phases all | while read -r width phase; do \
		echo "== swift test --skip-build $$phase ($$width at a time)"; \
		SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$$width $(SWIFT) test --skip-build $$phase < /dev/null || exit 1; \
	done

# The whole loop on one machine: a window of the LCG trace (../shared/traces, else a built-in workload), about
# a minute. Builds only the executable, not the tests.
demo: deps
	$(SWIFT) build --product vem
	$(VEM) demo

# Installs like a service (scripts/install says what goes where): `make install`, or for a package
# `make install DESTDIR=/tmp/pkg PREFIX=/usr`. Builds the release executables (vem, and vem-agent for guests)
# and the man pages first.
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc/vem
STATEDIR ?= /var/lib/vem
MANPAGES := .build/man
CONFIGURATION ?= release

# Man pages from swift-argument-parser's manual plugin (one per subcommand: vem.1, vem.manager.1, …); the
# plugin writes them under .build/plugins/GenerateManual/outputs/vem/.
man:
	$(SWIFT) package --disable-sandbox plugin generate-manual --multi-page --configuration $(CONFIGURATION)
	rm -rf $(MANPAGES) && mkdir -p $(MANPAGES)
	cp .build/plugins/GenerateManual/outputs/vem/*.1 $(MANPAGES)/

install: man
	$(SWIFT) build -c $(CONFIGURATION) --product vem-agent
	VEM_BIN="$$($(SWIFT) build -c $(CONFIGURATION) --show-bin-path)/vem" MANPAGES=$(MANPAGES) DESTDIR="$(DESTDIR)" \
		PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" STATEDIR="$(STATEDIR)" scripts/install

# A real guest joining and running a job (issue 19): the real-guest end-to-end test, which builds the guest
# image (scripts/build-guest-image), boots it under QEMU TCG from a real libvirtd, and prints each step's time.
demo-real-guest: build
	$(SWIFT) test --skip-build --filter 'EndToEndTests.RealGuestTests' < /dev/null

clean:
	rm -rf .build
