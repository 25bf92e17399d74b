# tools/replay/replay.mk - ffpf-replay (docs/replay.md), included by the
# top Makefile. The capture reader and flow splitter live in the library
# (user/lib/replay_*.c) so the unit tests and the fuzzer link them too.
RP_OUT     := $(OUT)/replay
RP_SRCS    := $(wildcard tools/replay/*.c)
RP_OBJS    := $(patsubst tools/replay/%.c,$(RP_OUT)/%.o,$(RP_SRCS))
RP_HDRS    := $(wildcard tools/replay/*.h) include/ffpf/replay.h user/lib/replay_cap.h
RP_BIN     := $(OUT)/ffpf-replay
RP_PLUGINS := $(patsubst tools/replay/plugins/%.c,$(RP_OUT)/ffpf_replay_%.so,$(wildcard tools/replay/plugins/*.c))
RP_PLUGIN_DIR ?= $(LIBDIR)/ffpf-replay
# An ordinary user's tool (section 1), unlike ffpf-bpf (sbin, section 8).
RP_BINDIR  ?= $(PREFIX)/bin

all: $(RP_BIN) $(RP_PLUGINS)

$(RP_OUT):
	$(Q)mkdir -p $@

$(RP_OUT)/%.o: tools/replay/%.c $(RP_HDRS) | $(RP_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itools/replay -DRP_PLUGIN_DIR='"$(RP_PLUGIN_DIR)"' -c $< -o $@

$(RP_BIN): $(RP_OBJS) $(STATIC)
	$(call msg,LD,$@)
	$(Q)$(CC) $(RP_OBJS) $(STATIC) -o $@ $(LIBS) -ldl

# Example plug-in: only ffpf/replay.h, no symbol from the executable.
$(RP_OUT)/ffpf_replay_%.so: tools/replay/plugins/%.c include/ffpf/replay.h | $(RP_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -fPIC -shared -Wl,--no-undefined $< -o $@

.PHONY: install-replay
install: install-replay
install-replay: $(RP_BIN) $(RP_PLUGINS)
	install -d $(DESTDIR)$(RP_BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(RP_PLUGIN_DIR) \
		$(DESTDIR)$(INCDIR)/ffpf
	install -m 755 $(RP_BIN) $(DESTDIR)$(RP_BINDIR)/
	install -m 755 $(RP_PLUGINS) $(DESTDIR)$(RP_PLUGIN_DIR)/
	install -m 644 include/ffpf/replay.h $(DESTDIR)$(INCDIR)/ffpf/
	install -m 644 docs/ffpf-replay.1 $(DESTDIR)$(MANDIR)/man1/

uninstall: uninstall-replay
.PHONY: uninstall-replay
uninstall-replay:
	rm -f $(DESTDIR)$(RP_BINDIR)/ffpf-replay $(DESTDIR)$(MANDIR)/man1/ffpf-replay.1
	rm -rf $(DESTDIR)$(RP_PLUGIN_DIR)
