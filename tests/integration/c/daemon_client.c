// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * daemon_client.c - an unprivileged application of test_daemon.sh: one
 * copy-mode flow through `ffpf-bpf daemon` (FFPF_DAEMON), the packets read
 * from the shared PBuf, then attempts on what the daemon must not allow.
 *
 *   daemon_client IF SPEC [--group G] [--count N] [--timeout MS] [--mbuf]
 *                 [--expect-gone] [--linger MS]
 *
 * Prints "ready" once the flow is active, then key=value lines:
 *   packets=N bytes=B caplen_max=M other_bits=0x.. (bits of other flows in
 *   ffpf_packet.matched), pbuf_mprotect_write=EACCES|ok, pbuf_write_via_mem=...,
 *   mbuf=EPERM|mapped, mbuf_mprotect_write=..., filter0_seen=N,
 *   gone=ECONNRESET (with --expect-gone: after the packets, wait for the
 *   daemon to go away).
 * Exit status 0 when every call that should work worked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <ffpf/ffpf.h>

static const char *ename(int e)
{
	switch (e) {
	case 0: return "ok";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EIO: return "EIO";
	case EFAULT: return "EFAULT";
	case ECONNRESET: return "ECONNRESET";
	case ENOENT: return "ENOENT";
	default: return strerror(e);
	}
}

struct st {
	unsigned long long packets, bytes, other;
	unsigned caplen_max;
	int slot;
	const void *first;
	long want;
};

static int on_pkt(struct ffpf_flow *f, const struct ffpf_packet *p, void *ctx)
{
	struct st *s = ctx;

	s->packets++;
	s->bytes += p->wire_len;
	if (p->caplen > s->caplen_max)
		s->caplen_max = p->caplen;
	s->other |= p->matched & ~(1ULL << s->slot);
	if (!s->first)
		s->first = p->data;
	return s->want > 0 && (long)s->packets >= s->want;
}

/* Try to make the page under @addr writable: the daemon's seal must refuse it. */
static int try_mprotect(const void *addr)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *page = (void *)((uintptr_t)addr & ~(uintptr_t)(pg - 1));

	return mprotect(page, pg, PROT_READ | PROT_WRITE) ? errno : 0;
}

/* Writing through /proc/self/mem forces past page protections, not past the seal. */
static int try_mem_write(const void *addr)
{
	int fd = open("/proc/self/mem", O_RDWR), e = 0;
	char c = 0x5a;

	if (fd < 0)
		return errno;
	if (pwrite(fd, &c, 1, (off_t)(uintptr_t)addr) != 1)
		e = errno;
	close(fd);
	return e;
}

int main(int argc, char **argv)
{
	FFPF_OPTS(ffpf_flow_opts, o, .rx = FFPF_RX_COPY, .name = "dc");
	struct st s = { .want = 10 };
	long timeout = 10000, linger = 0;
	bool mbuf = false, gone = false;
	struct ffpf_flow *f;
	int err, rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s IF SPEC [--group G] [--count N] [--timeout MS] "
			"[--mbuf] [--expect-gone]\n", argv[0]);
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--group") && i + 1 < argc)
			o.group = argv[++i];
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			s.want = atol(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atol(argv[++i]);
		else if (!strcmp(argv[i], "--linger") && i + 1 < argc)
			linger = atol(argv[++i]);
		else if (!strcmp(argv[i], "--mbuf"))
			mbuf = true;
		else if (!strcmp(argv[i], "--expect-gone"))
			gone = true;
		else
			return 2;
	}
	f = ffpf_flow_create(argv[1], &o);
	if (!f) {
		printf("create=%s\n", ename(errno));
		return 1;
	}
	err = ffpf_flow_populate(f, argv[2]);
	if (!err)
		err = ffpf_flow_instantiate(f);
	if (!err)
		err = ffpf_flow_activate(f);
	if (err) {
		printf("instantiate=%s\n", ename(-err));
		ffpf_flow_close(f);
		return 1;
	}
	s.slot = ffpf_flow_slot(f);
	printf("ready pid=%d\n", (int)getpid());
	fflush(stdout);

	err = ffpf_flows_run(&f, 1, on_pkt, &s, timeout);
	printf("packets=%llu bytes=%llu caplen_max=%u other_bits=0x%llx run=%d\n", s.packets,
	       s.bytes, s.caplen_max, s.other, err);
	if (s.first) {
		printf("pbuf_mprotect_write=%s\n", ename(try_mprotect(s.first)));
		printf("pbuf_write_via_mem=%s\n", ename(try_mem_write(s.first)));
	}
	if (mbuf) {
		struct ffpf_mbuf_hdr h;
		size_t sz = 0;
		void *m = ffpf_flow_filter_mbuf(f, 0, &sz);

		printf("mbuf=%s size=%zu\n", m ? "mapped" : ename(errno), sz);
		if (!ffpf_flow_filter_stats(f, 0, &h))
			printf("filter0_seen=%llu\n", (unsigned long long)h.seen);
		else
			rc = 1;
	}
	if (gone) {
		printf("waiting\n");
		fflush(stdout);
		err = ffpf_flows_run(&f, 1, on_pkt, &(struct st){ .want = 0 }, 30000);
		printf("gone=%s\n", err < 0 ? ename(-err) : "timeout");
	}
	fflush(stdout);
	if (linger > 0)
		usleep(linger * 1000);	/* keep the flow for the daemon's status */
	ffpf_flow_close(f);
	return rc;
}
