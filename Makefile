# wadesk — build, test, fuzz, bench, install.
#
# GNU make.  Every library is found with pkg-config.  Objects live out of
# tree: build/ for a plain build, build/san/ when SANITIZE is set, so the
# two never mix.  Sources are found by wildcard: src/ is the domain core,
# stores, codecs and the three mains (src/main_*.c); net/ and ui/ are the
# only code that touches libwebsockets/libcurl and curses respectively.
#
#   make                 the three programs
#   make check           unit + end-to-end tests (runs `make deps` first)
#   make check SANITIZE=address,undefined
#   make demo            a private hub + sandbox + console
#   make fuzz FUZZ_SECONDS=60
#   make bench
#   make install PREFIX=/usr/local DESTDIR=

PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   := $(PREFIX)/bin
SBINDIR  := $(PREFIX)/sbin
MANDIR   := $(PREFIX)/share/man
CC       ?= cc
FUZZ_CC  ?= clang
FUZZ_SECONDS ?= 60
VERSION  := 0.1.0

# Debian packages the project needs, for `make deps`.
DEB_PKGS := build-essential pkg-config clang libclang-rt-14-dev tmux sqlite3 \
	libncurses-dev libwebsockets-dev libcurl4-openssl-dev libjson-c-dev \
	libsqlite3-dev libcmocka-dev libqrencode-dev libinih-dev \
	libutf8proc-dev libmagic-dev libchafa-dev libglib2.0-dev libgdk-pixbuf-2.0-dev \
	libssl-dev libgoogle-perftools-dev \
	file procps psmisc curl python3

PKGS      := ncursesw libwebsockets libcurl json-c sqlite3 libqrencode inih \
	libutf8proc libmagic gdk-pixbuf-2.0 chafa
TEST_PKGS := cmocka

ifdef SANITIZE
B := build/san
else
B := build
endif

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wwrite-strings -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# net/xfer.c loads libcurl at the first transfer (dlopen: see there), by the
# soname of the libcurl that pkg-config names, read from that library.
CURL_SONAME := $(shell objdump -p "$$(pkg-config --variable=libdir libcurl)/libcurl.so" \
	2>/dev/null | awk '$$1 == "SONAME" {print $$2}')
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS   = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DWADESK_VERSION='"$(VERSION)"' \
	$(WARN) $(CFLAGS) -I. -iquote src $(PKG_CFLAGS) -MMD -MP
LDLIBS   := $(PKG_LIBS) -lm -lpthread
# Link only the shared libraries a program really uses (faster start).
LDFLAGS  += -Wl,--as-needed
ifdef SANITIZE
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=$(SANITIZE)
endif

# The hub allocates and frees a great deal per webhook (json-c's trees,
# SQLite's pages and cursors, event frames and their queues): it links
# tcmalloc (gperftools' minimal build), which replaces malloc for the
# whole process.  hub_bench ingest, interleaved single pairs: 44.4 % of the
# bare server against 41.6 % with glibc's malloc (5 each; jemalloc 43.0,
# mimalloc 45.3 but Debian ships no pkg-config file for it).  bare_http,
# the benchmark's baseline, links it too (its throughput does not move).
# Not under the sanitizers, which bring their own allocator.
ALLOC_PKG := libtcmalloc_minimal
ifndef SANITIZE
ALLOC_LIBS = -Wl,--no-as-needed $(shell pkg-config --libs $(ALLOC_PKG) 2>/dev/null) -Wl,--as-needed
endif

MAINS     := $(wildcard src/main_*.c)
CORE_SRC  := $(filter-out $(MAINS),$(wildcard src/*.c))
NET_SRC   := $(wildcard net/*.c)
UI_SRC    := $(wildcard ui/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard tests/bench/*.c)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)

CORE_OBJ := $(CORE_SRC:%.c=$(B)/%.o)
NET_OBJ  := $(NET_SRC:%.c=$(B)/%.o)
UI_OBJ   := $(UI_SRC:%.c=$(B)/%.o)
LIBS_A   := $(B)/libui.a $(B)/libnet.a $(B)/libcore.a
LINK_A   := -Wl,--start-group $(LIBS_A) -Wl,--end-group

# src/main_wadeskd.c -> wadeskd, src/main_wadesk.c -> wadesk,
# src/main_wadesk_sim.c -> wadesk-sim.
PROGS := $(patsubst src/main_%.c,$(B)/bin/%,$(MAINS))
PROGS := $(subst wadesk_sim,wadesk-sim,$(PROGS))
UNITS   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
BENCHES := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)
# Helper programs of the benchmark scripts (built by the bench rules above).
BENCH_TOOLS := $(patsubst tests/bench/%.c,$(B)/bench/%,$(wildcard tests/bench/tools/*.c))
FUZZERS := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)

.SECONDARY:
.PHONY: all deps check unit e2e demo fuzz bench install uninstall clean
all: $(PROGS)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(B)/net/xfer.o: ALL_CFLAGS += -DXFER_CURL_SONAME='"$(CURL_SONAME)"'

$(B)/libcore.a: $(CORE_OBJ)
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^
$(B)/libnet.a: $(NET_OBJ)
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^
$(B)/libui.a: $(UI_OBJ)
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^

$(B)/bin/wadesk-sim: $(B)/src/main_wadesk_sim.o $(LIBS_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LINK_A) $(LDLIBS)
$(B)/bin/%: $(B)/src/main_%.o $(LIBS_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LINK_A) $(LDLIBS)
$(B)/bin/wadeskd $(B)/bench/tools/bare_http: LDLIBS += $(ALLOC_LIBS)

$(B)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -c -o $@ $<
$(B)/tests/%: $(B)/tests/%.o $(LIBS_A)
	$(CC) $(LDFLAGS) -o $@ $< $(LINK_A) $(LDLIBS) $(TEST_LIBS)

$(B)/bench/%.o: tests/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(B)/bench/%: $(B)/bench/%.o $(LIBS_A)
	$(CC) $(LDFLAGS) -o $@ $< $(LINK_A) $(LDLIBS)

# Fuzz harnesses: the core compiled again with clang and libFuzzer.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -DWADESK_VERSION='"$(VERSION)"' -g -O1 \
	-I. -iquote src $(PKG_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined -MMD -MP
FUZZ_CORE := $(CORE_SRC:%.c=build/fuzz/%.o)
build/fuzz/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<
build/fuzz/libcore.a: $(FUZZ_CORE)
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^
build/fuzz/%: tests/fuzz/%.c build/fuzz/libcore.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
		build/fuzz/libcore.a $(LDLIBS)

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done | tr '\n' ' '); \
	if [ -z "$$missing" ]; then echo "deps: every package is installed"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "deps: installing $$missing"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	else \
		echo "deps: missing Debian packages; run:"; \
		echo "  sudo apt-get update && sudo apt-get install -y $$missing"; exit 1; \
	fi

unit: $(UNITS)
	@tests/run-unit.sh $(UNITS)

e2e: $(PROGS)
	@WADESK_BIN=$(CURDIR)/$(B)/bin tests/e2e/run.sh

check: deps
	@$(MAKE) --no-print-directory all $(UNITS)
	@WADESK_BIN=$(CURDIR)/$(B)/bin tests/run-all.sh $(UNITS)

demo: deps
	@$(MAKE) --no-print-directory all
	@if [ -x $(B)/bin/wadesk ]; then exec $(B)/bin/wadesk demo; \
	else echo "demo: the console (wadesk) is not built yet; see README.md"; exit 1; fi

fuzz: $(FUZZERS)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

bench: $(BENCHES) $(BENCH_TOOLS) $(PROGS)
	@for b in $(BENCHES); do echo "== $$b"; WADESK_BIN=$(CURDIR)/$(B)/bin $$b || exit 1; done
	@for s in tests/bench/*.sh; do [ -f "$$s" ] || continue; echo "== $$s"; \
		WADESK_BIN=$(CURDIR)/$(B)/bin sh $$s || exit 1; done

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	for p in $(PROGS); do install -m 0755 $$p $(DESTDIR)$(BINDIR)/; done
	for m in man/*.1; do [ -f "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man1/; done; true
	for m in man/*.5; do [ -f "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/; done; true
	for m in man/*.8; do [ -f "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/; done; true

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,wadesk wadeskd wadesk-sim)
	rm -f $(DESTDIR)$(MANDIR)/man1/wadesk.1 $(DESTDIR)$(MANDIR)/man1/wadesk-sim.1 \
		$(DESTDIR)$(MANDIR)/man5/wadesk.conf.5 $(DESTDIR)$(MANDIR)/man8/wadeskd.8

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
