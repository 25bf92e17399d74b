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

# The ceilings without the framework (tools/bench/bare-rx.c, bare.bpf.c).
BENCH_OUT := $(OUT)/bench

$(BENCH_OUT):
	$(Q)mkdir -p $@

$(BENCH_OUT)/bare.bpf.o: tools/bench/bare.bpf.c vmlinux/vmlinux.h | $(BENCH_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(BENCH_OUT)/bare.skel.h: $(BENCH_OUT)/bare.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name bare_bpf > $@

$(BENCH_OUT)/bare-rx: tools/bench/bare-rx.c $(BENCH_OUT)/bare.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BENCH_OUT) $< -o $@ $(LIBS)

# ffpf-nsbench's bare rows: the chain of count stages without the framework.
$(BENCH_OUT)/chain.bpf.o: tools/bench/chain.bpf.c vmlinux/vmlinux.h | $(BENCH_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(BENCH_OUT)/chain.skel.h: $(BENCH_OUT)/chain.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name chain_bpf > $@

$(OUT)/ffpf-nsbench: $(BENCH_OUT)/chain.skel.h
$(OUT)/ffpf-nsbench: CFLAGS += -I$(BENCH_OUT)

# make bench: the packages it needs (tools/deps.sh bench: xdp-tools for
# xdpdump, gnuplot-nox for the plot), the build, then tools/bench/run.sh,
# which prints the table and leaves $(BENCH_OUT)/results.{md,json} and
# apps.png. Not part of `make test`: CI never runs it.
BENCH_BINS := $(CMD) $(OUT)/ffpf-gen $(BENCH_OUT)/bare-rx $(OUT)/ffpf-nsbench \
	      $(OUT)/ffpf-ftbench $(OUT)/ffpf-plbench
.PHONY: bench-build
bench-build: $(BENCH_BINS)

bench:
	$(Q)bash tools/deps.sh bench
	$(Q)bash tools/bpffs.sh
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)nice -n -20 bash tools/bench/run.sh
