# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tools/bench.mk - the traffic generator's BPF program and `make bench`
# (issue 8), included by the top Makefile.

# ffpf-gen (tools/ffpf-gen.c, the $(OUT)/ffpf-% rule) with its sender
# program's skeleton.
GEN_OUT := $(OUT)/gen

$(GEN_OUT):
	$(Q)mkdir -p $@

$(GEN_OUT)/gen.bpf.o: tools/gen/gen.bpf.c tools/gen/gen.h vmlinux/vmlinux.h | $(GEN_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Itools/gen -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(GEN_OUT)/gen.skel.h: $(GEN_OUT)/gen.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name gen_bpf > $@

$(OUT)/ffpf-gen: $(GEN_OUT)/gen.skel.h tools/gen/gen.h
$(OUT)/ffpf-gen: CFLAGS += -Itools/gen -I$(GEN_OUT)

# Until the full driver lands: the in-kernel benches, one interleaved run each.
bench: $(OUT)/ffpf-nsbench $(OUT)/ffpf-ftbench $(OUT)/ffpf-plbench
	$(Q)$(OUT)/ffpf-nsbench 5 1000000
	$(Q)$(OUT)/ffpf-ftbench 5 1000000
	$(Q)$(OUT)/ffpf-plbench 5 200000
