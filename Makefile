# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# ffpf-bpf: FFPF flows on eBPF/XDP.
#   make            build library, command, tests (output in build/)
#   make demo       install deps, build, run the demo in its own namespaces
#   make test       unit, BPF and integration tests (root)
#   make bench      benchmarks against tcpdump, xdpdump, bare XDP/AF_XDP (root)
#   make install    PREFIX=/usr/local DESTDIR=
#   make fuzz-smoke build the libFuzzer targets, run them briefly (FUZZ_SECONDS)
#   V=1             show commands

VERSION   := 0.1.0
SOVERSION := 0
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
BINDIR    ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
PCDIR     ?= $(LIBDIR)/pkgconfig

OUT       := build
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PKGCONFIG ?= pkg-config

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Probe the tools once, with a message that says what to do.
need_tool = $(if $(shell command -v $(1) 2>/dev/null),,$(error $(1) not found: run 'make deps' (or: apt-get install $(2))))
# (demo and test install the dependencies first, then re-enter make.)
ifeq ($(filter deps clean help demo test bench,$(MAKECMDGOALS)),)
$(call need_tool,$(CLANG),clang)
$(call need_tool,$(BPFTOOL),bpftool)
$(call need_tool,$(PKGCONFIG),pkg-config)
ifeq ($(shell $(PKGCONFIG) --exists libbpf && echo y),)
$(error libbpf not found by pkg-config: run 'make deps' (or: apt-get install libbpf-dev))
endif
endif

ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
LIBS      := $(shell $(PKGCONFIG) --libs libxdp libbpf 2>/dev/null) -lpcap -lelf -lz
CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
	     -D_GNU_SOURCE -Iinclude -Iuser/lib -I$(OUT)/skel
LIB_CFLAGS := $(CFLAGS) -fPIC -fvisibility=hidden
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	     -Ivmlinux -Iinclude -Ibpf -Ibpf/lib

# BPF objects: the root program and one object per filter class.
BPF_CLASSES := match count sample flowtrack
BPF_CLASSES += prefixset
BPF_CLASSES += payload
BPF_CLASSES += bpf
BPF_SRCS  := bpf/root.bpf.c $(addprefix bpf/filters/,$(addsuffix .bpf.c,$(BPF_CLASSES)))
BPF_HDRS  := $(wildcard bpf/lib/*.h) include/ffpf/abi.h include/ffpf/stage.h include/ffpf/mbuf.h include/ffpf/flowtrack.h vmlinux/vmlinux.h
# Every object is built twice from the same source: for XDP (ingress) and,
# with -DFFPF_HOOK_TC, for TC (egress) as NAME_tc.
BPF_NAMES := $(patsubst %.bpf.c,%,$(notdir $(BPF_SRCS)))
BPF_OBJS  := $(foreach n,$(BPF_NAMES),$(OUT)/bpf/$(n).bpf.o $(OUT)/bpf/$(n)_tc.bpf.o)
SKELS     := $(foreach n,$(BPF_NAMES),$(OUT)/skel/$(n).skel.h $(OUT)/skel/$(n)_tc.skel.h)

LIB_SRCS  := $(wildcard user/lib/*.c)
LIB_OBJS  := $(patsubst user/lib/%.c,$(OUT)/lib/%.o,$(LIB_SRCS))
LIB_HDRS  := $(wildcard user/lib/*.h include/ffpf/*.h)
CMD_SRCS  := $(wildcard user/cmd/*.c)
CMD_OBJS  := $(patsubst user/cmd/%.c,$(OUT)/cmd/%.o,$(CMD_SRCS))

STATIC    := $(OUT)/libffpfbpf.a
SHARED    := $(OUT)/libffpfbpf.so.$(VERSION)
CMD       := $(OUT)/ffpf-bpf
PC        := $(OUT)/libffpfbpf.pc

UNIT_SRCS := $(wildcard tests/unit/*.c)
BPFT_SRCS := $(wildcard tests/bpf/*.c)

.PHONY: all lib cmd tests test test-unit test-bpf test-integration demo deps \
	install uninstall clean vmlinux help bench fuzz fuzz-smoke
.DELETE_ON_ERROR:
.SECONDARY:

# Every tools/ffpf-*.c is a small program against the static library.
TOOLS     := $(patsubst tools/%.c,$(OUT)/%,$(wildcard tools/ffpf-*.c))

all: lib cmd tests $(TOOLS) $(OUT)/ffpf-ftbench

help:
	@sed -n '2,8p' Makefile | sed 's/^# //'

lib: $(STATIC) $(SHARED) $(PC)
cmd: $(CMD)

# --- BPF ---------------------------------------------------------------
$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUT)/bpf/%.bpf.o: bpf/filters/%.bpf.c $(BPF_HDRS) | $(OUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUT)/bpf/%_tc.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DFFPF_HOOK_TC -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUT)/bpf/%_tc.bpf.o: bpf/filters/%.bpf.c $(BPF_HDRS) | $(OUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DFFPF_HOOK_TC -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUT)/skel/%.skel.h: $(OUT)/bpf/%.bpf.o | $(OUT)/skel
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name ffpf_$* > $@

# --- library -----------------------------------------------------------
$(OUT)/lib/%.o: user/lib/%.c $(LIB_HDRS) $(SKELS) | $(OUT)/lib
	$(call msg,CC,$@)
	$(Q)$(CC) $(LIB_CFLAGS) -DFFPF_VERSION='"$(VERSION)"' -c $< -o $@

$(STATIC): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(SHARED): $(LIB_OBJS) user/lib/libffpfbpf.map
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libffpfbpf.so.$(SOVERSION) \
		-Wl,--version-script=user/lib/libffpfbpf.map $(LIB_OBJS) -o $@ $(LIBS)
	$(Q)ln -sf libffpfbpf.so.$(VERSION) $(OUT)/libffpfbpf.so.$(SOVERSION)
	$(Q)ln -sf libffpfbpf.so.$(SOVERSION) $(OUT)/libffpfbpf.so

# Regenerated every time: it bakes in PREFIX, which install may override.
gen_pc = sed -e 's|@PREFIX@|$(PREFIX)|;s|@LIBDIR@|$(LIBDIR)|;s|@INCDIR@|$(INCDIR)|;s|@VERSION@|$(VERSION)|' $(1) > $(2)
$(PC): user/lib/libffpfbpf.pc.in FORCE | $(OUT)
	$(call msg,GEN,$@)
	$(Q)$(call gen_pc,$<,$@)
.PHONY: FORCE
FORCE:

# --- command -----------------------------------------------------------
$(OUT)/cmd/%.o: user/cmd/%.c $(LIB_HDRS) $(wildcard user/cmd/*.h) | $(OUT)/cmd
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# Linked against the static library: the command runs from build/ as is.
$(CMD): $(CMD_OBJS) $(STATIC)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CMD_OBJS) $(STATIC) -o $@ $(LIBS)

# --- tests -------------------------------------------------------------
OBJ_TESTS := $(patsubst tests/bpf/progs/%.bpf.c,$(OUT)/examples/%.bpf.o,$(wildcard tests/bpf/progs/*.bpf.c))
tests: $(OUT)/tests/unit $(OUT)/tests/bpf $(OUT)/examples/user_stage.bpf.o $(OBJ_TESTS)

# User stages (obj class): built the way docs/api.md tells users to.
$(OUT)/examples/%.bpf.o: docs/examples/%.bpf.c include/ffpf/stage.h include/ffpf/abi.h \
		include/ffpf/mbuf.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -target bpf -Wall -Werror -Iinclude -Ivmlinux -c $< -o $@

# test_obj's deliberately broken user stages
$(OUT)/examples/%.bpf.o: tests/bpf/progs/%.bpf.c include/ffpf/stage.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -target bpf -Wall -Iinclude -Ivmlinux -c $< -o $@

$(OUT)/tests/unit: $(UNIT_SRCS) $(STATIC) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(UNIT_SRCS) $(STATIC) -o $@ -lcriterion $(LIBS)

$(OUT)/tests/bpf: $(BPFT_SRCS) $(STATIC) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf $(BPFT_SRCS) $(STATIC) -o $@ -lcriterion $(LIBS)

$(OUT)/ffpf-%: tools/ffpf-%.c tools/privnet.h tools/pktutil.h $(STATIC)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(STATIC) -o $@ $(LIBS)

include tools/replay/replay.mk

# Flow-table benchmark (issue 4): its own bench-only BPF objects, built here.
FTB_OUT   := $(OUT)/ftbench
FTB_SRCS  := $(filter-out %.bpf.c,$(wildcard tools/ftbench/*.c))
FTB_HDRS  := $(wildcard tools/ftbench/*.h) $(BPF_HDRS)
FTB_SKELS := $(patsubst %,$(FTB_OUT)/%.skel.h,vary lru timer irqtime)

$(FTB_OUT):
	$(Q)mkdir -p $@

$(FTB_OUT)/%.bpf.o: tools/ftbench/%.bpf.c $(FTB_HDRS) | $(FTB_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Itools/ftbench -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(FTB_OUT)/%.skel.h: $(FTB_OUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(OUT)/ffpf-ftbench: $(FTB_SRCS) $(FTB_HDRS) $(FTB_SKELS) tools/privnet.h $(STATIC)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itools -Itools/ftbench -I$(FTB_OUT) $(FTB_SRCS) $(STATIC) -o $@ $(LIBS)

# ffpf-gen's sender program and `make bench` (issue 8).
include tools/bench.mk

# --- fuzzing (issue 5, docs/fuzzing.md) ---------------------------------
# Every tests/fuzz/fuzz_NAME.c is a libFuzzer target, linked against the
# whole library compiled again with coverage and the sanitizers into
# build/fuzz/ (the skeletons are the normal build's).
FUZZ_OUT     := $(OUT)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Wno-unused-parameter \
		-Werror=implicit-function-declaration -D_GNU_SOURCE -Iinclude -Iuser/lib -I$(OUT)/skel
FUZZ_LIB     := $(FUZZ_OUT)/libffpfbpf.a
FUZZ_OBJS    := $(patsubst user/lib/%.c,$(FUZZ_OUT)/lib/%.o,$(LIB_SRCS))
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZ_OUT)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 30
# libFuzzer's runtime is not in the clang package itself.
FUZZ_RT      = $(shell $(CLANG) -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer-$(shell uname -m).a

fuzz: $(FUZZ_TARGETS)

fuzz-smoke: fuzz
	$(Q)bash tests/fuzz/run.sh $(FUZZ_SECONDS)

$(FUZZ_OUT) $(FUZZ_OUT)/lib:
	$(Q)mkdir -p $@

$(FUZZ_OUT)/lib/%.o: user/lib/%.c $(LIB_HDRS) $(SKELS) | $(FUZZ_OUT)/lib
	$(call msg,CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) \
		-DFFPF_VERSION='"$(VERSION)"' -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(LIB_HDRS) $(FUZZ_LIB) | $(FUZZ_OUT)
	$(if $(wildcard $(FUZZ_RT)),,$(error libFuzzer runtime $(FUZZ_RT) not found: \
		run 'make deps' (or: apt-get install libclang-rt-14-dev)))
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) $< $(FUZZ_LIB) -o $@ $(LIBS)

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash tests/run.sh

test-unit: tests
	$(Q)$(OUT)/tests/unit

test-bpf: tests
	$(Q)$(OUT)/tests/bpf

test-integration: all
	$(Q)bash tests/run.sh integration

# --- user-facing -------------------------------------------------------
deps:
	$(Q)bash tools/deps.sh
	$(Q)bash tools/bpffs.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash tools/demo.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

install: lib cmd
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR)/ffpf $(DESTDIR)$(PCDIR) \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSTEMDDIR)
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libffpfbpf.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libffpfbpf.so.$(SOVERSION)
	ln -sf libffpfbpf.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libffpfbpf.so
	install -m 644 include/ffpf/*.h $(DESTDIR)$(INCDIR)/ffpf/
	$(call gen_pc,user/lib/libffpfbpf.pc.in,$(DESTDIR)$(PCDIR)/libffpfbpf.pc)
	install -m 755 $(CMD) $(DESTDIR)$(BINDIR)/
	install -m 644 docs/ffpf-bpf.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 docs/ffpf-bpf-daemon.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 docs/ffpf-bpf-policy.5 $(DESTDIR)$(MANDIR)/man5/
	sed 's|/usr/local/sbin|$(BINDIR)|' tools/ffpf-bpf.service > $(DESTDIR)$(SYSTEMDDIR)/ffpf-bpf.service
	chmod 644 $(DESTDIR)$(SYSTEMDDIR)/ffpf-bpf.service

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libffpfbpf.* $(DESTDIR)$(PCDIR)/libffpfbpf.pc \
		$(DESTDIR)$(BINDIR)/ffpf-bpf $(DESTDIR)$(MANDIR)/man8/ffpf-bpf.8 \
		$(DESTDIR)$(MANDIR)/man5/ffpf-bpf-policy.5 \
		$(DESTDIR)$(MANDIR)/man8/ffpf-bpf-daemon.8 $(DESTDIR)$(SYSTEMDDIR)/ffpf-bpf.service
	rm -rf $(DESTDIR)$(INCDIR)/ffpf

$(OUT) $(OUT)/bpf $(OUT)/skel $(OUT)/lib $(OUT)/cmd $(OUT)/tests:
	$(Q)mkdir -p $@

clean:
	rm -rf $(OUT)

# Python and C++ bindings: make python, make install-python (python/python.mk)
include python/python.mk
