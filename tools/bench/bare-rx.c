// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bare-rx - make bench's ceilings, written the shortest way without
 * ffpf-bpf: attach one of bare.bpf.c's programs to IF's XDP hook and count.
 *
 *   bare-rx -i IF drop|pass|xsk
 *
 * drop: count, XDP_DROP. pass: count, XDP_PASS. xsk: count, redirect to
 * one AF_XDP socket in copy mode on queue 0 (4096 frames of 4 KiB, rings
 * of 2048, as ffpf-bpf's tap mode) that this program drains in batches of
 * 64, touching each packet's first byte, and refills; when the ring is
 * empty it sleeps in poll(), as ffpf-bpf and tcpdump do (BARE_SPIN=N:
 * try N empty peeks first).
 *
 * Prints "ready" on stderr once attached; on SIGINT or SIGTERM one JSON
 * object on stdout: {"mode", "xdp" (packets the program saw),
 * "received" (xsk: packets read from the socket), "xsk_dropped",
 * "rx_ring_full", "fill_ring_empty"}. The bpf_link dies with the process.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>
#include "bare.skel.h"

#define NFRAMES		4096
#define FRAME_SIZE	4096
#define RING		2048
#define BATCH		64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static unsigned long long read_count(int fd)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long sum = 0;
	__u64 *v;
	__u32 k = 0;

	if (ncpu <= 0)
		return 0;
	v = calloc(ncpu, sizeof(*v));
	if (v && !bpf_map_lookup_elem(fd, &k, v))
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

int main(int argc, char **argv)
{
	struct xdp_statistics xst = {};
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq, rx;
	struct xsk_umem *umem = NULL;
	struct xsk_socket *xsk = NULL;
	unsigned long long received = 0, touched = 0;
	struct bpf_program *prog;
	struct bpf_link *link;
	struct bare_bpf *skel;
	const char *ifname = NULL, *mode = NULL;
	void *area = NULL;
	int ifindex, c;

	while ((c = getopt(argc, argv, "i:h")) != -1) {
		if (c == 'i') {
			ifname = optarg;
		} else {
			fprintf(stderr, "usage: bare-rx -i IF drop|pass|xsk\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind == argc - 1)
		mode = argv[optind];
	if (!ifname || !mode || (strcmp(mode, "drop") && strcmp(mode, "pass") &&
				 strcmp(mode, "xsk"))) {
		fprintf(stderr, "usage: bare-rx -i IF drop|pass|xsk\n");
		return 2;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "bare-rx: %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	skel = bare_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "bare-rx: loading bare.bpf.o: %s\n", strerror(errno));
		return 1;
	}
	prog = !strcmp(mode, "drop") ? skel->progs.bare_drop :
	       !strcmp(mode, "pass") ? skel->progs.bare_pass : skel->progs.bare_xsk;

	if (!strcmp(mode, "xsk")) {
		struct xsk_umem_config ucfg = { .fill_size = RING, .comp_size = RING,
						.frame_size = FRAME_SIZE };
		struct xsk_socket_config scfg = {
			.rx_size = RING,
			.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
			.bind_flags = XDP_COPY,
		};
		__u32 idx, q = 0;
		int fd, err;

		area = mmap(NULL, (size_t)NFRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (area == MAP_FAILED) {
			perror("bare-rx: mmap");
			return 1;
		}
		err = xsk_umem__create(&umem, area, (size_t)NFRAMES * FRAME_SIZE, &fq, &cq, &ucfg);
		if (!err)
			err = xsk_socket__create(&xsk, ifname, 0, umem, &rx, NULL, &scfg);
		if (err) {
			fprintf(stderr, "bare-rx: AF_XDP socket on %s: %s\n", ifname, strerror(-err));
			return 1;
		}
		if (xsk_ring_prod__reserve(&fq, RING, &idx) != RING) {
			fprintf(stderr, "bare-rx: filling the fill ring failed\n");
			return 1;
		}
		for (__u32 i = 0; i < RING; i++)
			*xsk_ring_prod__fill_addr(&fq, idx + i) = (__u64)i * FRAME_SIZE;
		xsk_ring_prod__submit(&fq, RING);
		fd = xsk_socket__fd(xsk);
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.bare_xsks), &q, &fd, BPF_ANY)) {
			fprintf(stderr, "bare-rx: XSKMAP: %s\n", strerror(errno));
			return 1;
		}
	}

	link = bpf_program__attach_xdp(prog, ifindex);
	if (!link) {
		fprintf(stderr, "bare-rx: attaching to %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	fprintf(stderr, "ready\n");

	if (!xsk) {
		while (!stop)
			pause();
	} else {
		struct pollfd pfd = { .fd = xsk_socket__fd(xsk), .events = POLLIN };
		unsigned idle = 0, spin = getenv("BARE_SPIN") ? atoi(getenv("BARE_SPIN")) : 0;

		while (!stop) {
			__u32 idx = 0, fidx = 0, got;

			got = xsk_ring_cons__peek(&rx, BATCH, &idx);
			if (!got) {
				/* BARE_SPIN: spin before sleeping */
				if (++idle > spin) {
					poll(&pfd, 1, 100);
					idle = 0;
				}
				continue;
			}
			idle = 0;
			while (xsk_ring_prod__reserve(&fq, got, &fidx) != got)
				;
			for (__u32 i = 0; i < got; i++) {
				const struct xdp_desc *d = xsk_ring_cons__rx_desc(&rx, idx + i);
				const unsigned char *p = xsk_umem__get_data(area, d->addr);

				touched += p[0];
				*xsk_ring_prod__fill_addr(&fq, fidx + i) =
					xsk_umem__extract_addr(d->addr);
			}
			xsk_ring_prod__submit(&fq, got);
			xsk_ring_cons__release(&rx, got);
			received += got;
		}
		socklen_t len = sizeof(xst);

		getsockopt(xsk_socket__fd(xsk), SOL_XDP, XDP_STATISTICS, &xst, &len);
	}

	printf("{\"mode\":\"%s\",\"xdp\":%llu,\"received\":%llu,\"xsk_dropped\":%llu,"
	       "\"rx_ring_full\":%llu,\"fill_ring_empty\":%llu,\"touched\":%llu}\n", mode,
	       read_count(bpf_map__fd(skel->maps.bare_count)), received,
	       (unsigned long long)xst.rx_dropped, (unsigned long long)xst.rx_ring_full,
	       (unsigned long long)xst.rx_fill_ring_empty_descs, touched & 1);
	bpf_link__destroy(link);
	if (xsk)
		xsk_socket__delete(xsk);
	if (umem)
		xsk_umem__delete(umem);
	bare_bpf__destroy(skel);
	return 0;
}
