# git-sand Makefile: no configure step.
#
#   make                  build git-sand
#   make test             build, then run the unit and shell tests with prove
#   make SANITIZE=1 test  the same under AddressSanitizer + UBSan
#   make test-docker      the container tests against a dockerd of their own (root)
#   make image            build the default sandbox image (podman)
#   make image AGENTS="claude codex gemini opencode"
#                         build the agents image on it
#   make install prefix=/usr/local DESTDIR=
#   make uninstall        remove what install put there
#   make doc              build Documentation/git-sand.1 (needs asciidoctor)
#   make V=1              show the commands
#   make LINK_DYNAMIC=1   link libgit2, libssh2, SQLite and zlib as shared objects
#
# Local settings may go in config.mak.

prefix ?= $(HOME)/.local
bindir ?= $(prefix)/bin
mandir ?= $(prefix)/share/man
datadir ?= $(prefix)/share
bashcompdir ?= $(datadir)/bash-completion/completions
zshcompdir ?= $(datadir)/zsh/site-functions
fishcompdir ?= $(datadir)/fish/vendor_completions.d
# The image build files, for "git sand image build" (compiled in).
imagesdir ?= $(datadir)/git-sand/images

CC ?= cc
PKG_CONFIG ?= pkg-config
INSTALL ?= install
PROVE ?= prove
ASCIIDOCTOR ?= asciidoctor

CFLAGS ?= -O2 -g
WARNINGS = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter -Wno-missing-field-initializers
PKGS = libgit2 sqlite3 libcjson libssh2 zlib

-include config.mak

ifdef SANITIZE
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

ifneq ($(V),1)
QUIET_CC = @echo '   ' CC $@;
QUIET_LINK = @echo '   ' LINK $@;
QUIET_GEN = @echo '   ' GEN $@;
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))

# On Linux, libgit2, libssh2, SQLite and zlib are linked in statically
# when all their archives are installed (Debian's -dev packages ship
# them). A "git sand" command lives for milliseconds: as shared objects,
# they and the thirteen libraries they load (OpenSSL, mbedTLS, Kerberos
# for libgit2's GSSAPI...) cost each command about 7 ms of mapping and
# relocation, a third of a "git sand exec" (bench/README-exec.md).
# src/lg2-unused.c stands in for what libgit2 would use for HTTPS,
# which git-sand never speaks through it. LINK_DYNAMIC=1 links them as
# shared objects, as a distribution's package would.
comma := ,
STATIC_PKGS = libgit2 libssh2 sqlite3 zlib
# What git_libgit2_init sets up and git-sand never uses (TLS, libssh2):
# skipped for the libgit2 src/lg2-unused.c was checked against.
LG2_WRAPS = $(if $(filter 1.5.%,$(shell $(PKG_CONFIG) --modversion libgit2 2>/dev/null)),\
	-Wl$(comma)--wrap=git_mbedtls_stream_global_init -Wl$(comma)--wrap=git_mbedtls_stream_new \
	-Wl$(comma)--wrap=git_mbedtls_stream_wrap -Wl$(comma)--wrap=git_mbedtls__set_cert_location \
	-Wl$(comma)--wrap=git_transport_ssh_global_init)
ifndef LINK_DYNAMIC
ifeq ($(shell uname -s),Linux)
STATIC_LIBS := $(filter-out -lm -ldl -lrt -lpthread -pthread,\
	$(shell $(PKG_CONFIG) --static --libs-only-l $(STATIC_PKGS) 2>/dev/null))
STATIC_MISSING := $(strip $(foreach l,$(sort $(STATIC_LIBS)),\
	$(if $(findstring /,$(shell $(CC) -print-file-name=lib$(l:-l%=%).a)),,$(l))))
ifneq ($(STATIC_LIBS),)
ifeq ($(STATIC_MISSING),)
PKG_LIBS := -Wl,-Bstatic $(STATIC_LIBS) -Wl,-Bdynamic \
	$(shell $(PKG_CONFIG) --libs $(filter-out $(STATIC_PKGS),$(PKGS))) -lm -ldl -pthread \
	-Wl,--wrap=mbedtls_x509_crt_parse_file $(LG2_WRAPS)
LINK_CFLAGS = -DGIT_SAND_STATIC_LIBGIT2
endif
endif
endif
endif
# Only what builds needs the libraries: clean and uninstall work without.
ifeq ($(PKG_LIBS),)
ifneq ($(filter-out clean uninstall,$(or $(MAKECMDGOALS),all)),)
$(error pkg-config found none of $(PKGS): install libgit2-dev libsqlite3-dev libcjson-dev libssh2-1-dev)
endif
endif

GIT_SAND_VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1)

ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(PKG_CFLAGS) $(LINK_CFLAGS) -Isrc -MMD -MP
# Relative relocations packed (DT_RELR: binutils 2.38 and glibc 2.36 on):
# the dynamic loader reads a few KB of them at each start, not the 470 KB
# of the static libraries' pointers. Only where a program so linked, with
# these flags, links without a word and runs here (an older glibc's
# loader refuses it).
RELR_LDFLAGS := $(shell t=$$(mktemp) && \
	echo 'int main(void) { return 0; }' | \
	$(CC) $(CFLAGS) $(LDFLAGS) -x c - -o "$$t" -Wl,-z,pack-relative-relocs >"$$t.err" 2>&1 && \
	! test -s "$$t.err" && "$$t" && echo -Wl,-z,pack-relative-relocs; rm -f "$$t" "$$t.err")
ALL_LDFLAGS = $(RELR_LDFLAGS) $(LDFLAGS)

LIB_OBJS = \
	src/agent.o \
	src/agent-run.o \
	src/argv.o \
	src/cmd-common.o \
	src/devcontainer.o \
	src/docker-api.o \
	src/fetch.o \
	src/lifecycle.o \
	src/clone.o \
	src/copy.o \
	src/compat.o \
	src/gitutil.o \
	src/help.o \
	src/home.o \
	src/hooks.o \
	src/image.o \
	src/lg2-unused.o \
	src/hook-scripts.o \
	src/mirror.o \
	src/msg.o \
	src/names.o \
	src/net.o \
	src/net-proxy.o \
	src/odb-safe.o \
	src/overlay.o \
	src/parse-options.o \
	src/path.o \
	src/ports.o \
	src/run.o \
	src/sanitize.o \
	src/runtime.o \
	src/rt-apple.o \
	src/rt-cli.o \
	src/oci-exec.o \
	src/rt-oci.o \
	src/sandbox.o \
	src/sandbox-lock.o \
	src/sandbox-remote.o \
	src/sandbox-ssh.o \
	src/served.o \
	src/session.o \
	src/transcript.o \
	src/settings.o \
	src/ssh.o \
	src/ssh-channel.o \
	src/ssh-mux.o \
	src/ssh-forward.o \
	src/ssh-config.o \
	src/ssh-known-hosts.o \
	src/ssh-transport.o \
	src/tar.o \
	src/ssh-host.o \
	src/store.o \
	src/strbuf.o \
	src/string-list.o \
	src/work.o \
	src/workspace.o

CMD_OBJS = \
	src/cmd-fetch.o \
	src/cmd-gc.o \
	src/cmd-hook.o \
	src/cmd-image.o \
	src/cmd-info.o \
	src/cmd-git.o \
	src/cmd-ls.o \
	src/cmd-net.o \
	src/cmd-new.o \
	src/cmd-forward.o \
	src/cmd-port.o \
	src/cmd-rm.o \
	src/cmd-run.o \
	src/cmd-serve.o \
	src/cmd-shell.o \
	src/cmd-ssh.o \
	src/cmd-start.o \
	src/cmd-version.o

UNIT_TESTS = $(patsubst %.c,%,$(wildcard tests/unit/t-*.c))

# Fuzz targets: "make fuzz" runs each with libFuzzer for FUZZ_TIME seconds;
# "make test" replays their corpora (seeds, and every input that once
# crashed one) through tests/fuzz/replay-<target>, built without libFuzzer.
FUZZ_TARGETS = names opts-json runtime-json packed-refs loose ssh-config config-params sanitize
FUZZ_TIME ?= 30
FUZZ_CC ?= clang
FUZZ_REPLAY = $(FUZZ_TARGETS:%=tests/fuzz/replay-%)

OBJS = git-sand.o $(CMD_OBJS) $(LIB_OBJS)
DEPS = $(OBJS:.o=.d) $(UNIT_TESTS:=.d) tests/unit/unit.d src/version.d \
	$(FUZZ_TARGETS:%=tests/fuzz/fuzz-%.d) tests/fuzz/replay.d

all: git-sand

git-sand: $(OBJS) src/version.o
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

%.o: %.c .build-flags
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

src/image.o: src/image.c .build-flags
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -DGIT_SAND_IMAGES_DIR='"$(imagesdir)"' -c -o $@ $<

# Rebuild everything when the flags change (e.g. SANITIZE=1 and back).
.build-flags: FORCE
	@f='$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(imagesdir)'; \
	if test "$$(cat $@ 2>/dev/null)" != "$$f"; then echo "$$f" >$@; fi

# The version is recomputed on every build but only rewritten when it changes.
src/version.c: FORCE
	@v='const char git_sand_version[] = "$(GIT_SAND_VERSION)";'; \
	if test "$$(cat $@ 2>/dev/null)" != "$$v"; then echo "$$v" >$@; fi

src/hook-scripts.c: src/gen-hooks.sh $(wildcard hooks/*)
	$(QUIET_GEN)src/gen-hooks.sh hooks/post-checkout >$@+ && mv $@+ $@

tests/unit/%: tests/unit/%.o tests/unit/unit.o $(LIB_OBJS)
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

test: all $(UNIT_TESTS) $(FUZZ_REPLAY) test-lint
	cd tests && $(PROVE) $(PROVE_OPTS) $(UNIT_TESTS:tests/%=./%) ./t[0-9]*.sh

# The lifecycle, git-wiring, hostile-sandbox and agent tests against
# docker, with a dockerd of their own (as root; see tests/run-docker.sh).
DOCKER_TESTS = t1000-lifecycle.sh t1013-docker-api.sh t2000-git-wiring.sh t2001-hostile.sh t5000-agents.sh
test-docker: all
	cd tests && ./run-docker.sh $(DOCKER_TESTS)

# The core tests as a user who is not root, with rootless podman (as
# root, which makes that user; see tests/run-rootless.sh).
ROOTLESS_TESTS = t1000-lifecycle.sh t2000-git-wiring.sh t1002-gc.sh t1010-fast-exec.sh
test-rootless: all
	tests/run-rootless.sh $(ROOTLESS_TESTS)

# The C unit tests under valgrind: no invalid access, no leak.
test-valgrind: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do \
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
			--error-exitcode=9 $$t >/dev/null 2>$$t.valgrind || \
		{ cat $$t.valgrind; echo "valgrind: $$t failed"; exit 1; }; \
		echo "valgrind: $$t clean"; \
	done

test-lint:
	@tests/lint.sh

IMAGE_FILES = build.sh Containerfile agents

RUNTIME ?= podman
# Empty: localhost/git-sand-default:latest, or with AGENTS
# localhost/git-sand-agents:latest.
IMAGE ?=
# Agents to add, e.g. AGENTS="claude codex gemini opencode" (the npm
# versions are pinned in images/default/agents).
AGENTS ?=

# The default sandbox image, or with AGENTS the agents image on it (see
# images/default/build.sh).
image:
	images/default/build.sh $(AGENTS:%=--agent %) $(RUNTIME) $(IMAGE)

doc: Documentation/git-sand.1

tests/fuzz/replay-%: tests/fuzz/fuzz-%.o tests/fuzz/replay.o $(LIB_OBJS)
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

tests/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(LIB_OBJS:.o=.c) src/hook-scripts.c
	$(QUIET_LINK)$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE \
		$(PKG_CFLAGS) $(LINK_CFLAGS) -Isrc -o $@ $< $(LIB_OBJS:.o=.c) $(PKG_LIBS)

fuzz: $(FUZZ_TARGETS:%=tests/fuzz/fuzz-%)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p tests/fuzz/work/$$t && \
		echo "fuzzing $$t for $(FUZZ_TIME)s" && \
		tests/fuzz/fuzz-$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=0 \
			-artifact_prefix=tests/fuzz/work/$$t- tests/fuzz/work/$$t \
			tests/fuzz/corpus/$$t 2>tests/fuzz/work/$$t.log || \
		{ tail -40 tests/fuzz/work/$$t.log; \
		  echo "fuzz target $$t failed: add the input from tests/fuzz/work/$$t-* to tests/fuzz/corpus/$$t/"; \
		  exit 1; }; \
	done
Documentation/git-sand.1: Documentation/git-sand.adoc
	$(QUIET_GEN)if command -v $(ASCIIDOCTOR) >/dev/null 2>&1; then \
		$(ASCIIDOCTOR) -b manpage -a mansource=git-sand \
			-a manversion=$(GIT_SAND_VERSION) -o $@ $<; \
	else \
		echo >&2 "warning: $(ASCIIDOCTOR) not found; skipping the manual page"; \
	fi

install: all
	$(INSTALL) -d -m 755 '$(DESTDIR)$(bindir)'
	$(INSTALL) -m 755 git-sand '$(DESTDIR)$(bindir)/git-sand'
	$(INSTALL) -d -m 755 '$(DESTDIR)$(bashcompdir)' '$(DESTDIR)$(zshcompdir)' '$(DESTDIR)$(fishcompdir)'
	$(INSTALL) -m 644 completions/git-sand.bash '$(DESTDIR)$(bashcompdir)/git-sand'
	$(INSTALL) -m 644 completions/_git-sand '$(DESTDIR)$(zshcompdir)/_git-sand'
	$(INSTALL) -m 644 completions/git-sand.fish '$(DESTDIR)$(fishcompdir)/git-sand.fish'
	$(INSTALL) -d -m 755 '$(DESTDIR)$(imagesdir)/default'
	$(INSTALL) -m 755 images/default/build.sh '$(DESTDIR)$(imagesdir)/default/build.sh'
	$(INSTALL) -m 644 images/default/Containerfile images/default/agents \
		'$(DESTDIR)$(imagesdir)/default/'
	@if test -f Documentation/git-sand.1 || $(MAKE) doc && test -f Documentation/git-sand.1; then \
		$(INSTALL) -d -m 755 '$(DESTDIR)$(mandir)/man1' && \
		$(INSTALL) -m 644 Documentation/git-sand.1 '$(DESTDIR)$(mandir)/man1/git-sand.1'; \
	fi

uninstall:
	$(RM) '$(DESTDIR)$(bindir)/git-sand' '$(DESTDIR)$(bashcompdir)/git-sand' \
		'$(DESTDIR)$(zshcompdir)/_git-sand' '$(DESTDIR)$(fishcompdir)/git-sand.fish' \
		'$(DESTDIR)$(mandir)/man1/git-sand.1' \
		$(IMAGE_FILES:%='$(DESTDIR)$(imagesdir)/default/%')
	-rmdir '$(DESTDIR)$(imagesdir)/default' '$(DESTDIR)$(imagesdir)' \
		'$(DESTDIR)$(datadir)/git-sand' 2>/dev/null

clean:
	$(RM) git-sand $(OBJS) src/version.o src/version.c src/hook-scripts.c $(DEPS) \
		$(UNIT_TESTS) $(UNIT_TESTS:=.o) tests/unit/unit.o Documentation/git-sand.1 \
		$(FUZZ_REPLAY) $(FUZZ_TARGETS:%=tests/fuzz/fuzz-%) $(FUZZ_TARGETS:%=tests/fuzz/fuzz-%.o) \
		tests/fuzz/replay.o $(UNIT_TESTS:=.valgrind)
	$(RM) -r tests/trash* .build-flags tests/fuzz/work

.PHONY: all test test-docker test-rootless test-lint test-valgrind doc image fuzz install uninstall clean FORCE
.SECONDARY:

-include $(DEPS)
