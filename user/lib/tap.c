// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tap.c - tap mode: AF_XDP sockets whose UMEM is the PBuf (see tap.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "log.h"
#include "tap.h"

#define TAP_MAX_QUEUES	64	/* ffpf_xsks max_entries */
#define TAP_RX_BATCH	64
#define META_LEN	((__u64)sizeof(struct ffpf_meta))

struct tap_sock {
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	__u32 queue;
	int fd;
	bool in_map;
};

struct ffpf_tap {
	struct ffpf_iface *ifc;
	void *area;
	size_t area_len;
	int memfd;		/* the UMEM's memory, for sharing it read-only */
	struct xsk_umem *umem;
	struct ffpf_pbuf pb;
	bool pb_ok;
	__u32 frame_size;
	__u32 nframes;
	__u32 ring_size;
	int nsocks;
	struct tap_sock socks[TAP_MAX_QUEUES];

	__u64 rx_packets, rx_bytes, meta_bad, deliver_err, fill_frames;
	_Atomic __u64 on_free;
	_Atomic __s64 ts_off;	/* added to meta.ts_ns before delivery */
	_Atomic __u64 mask;	/* flows whose bits meta.matched may show */
};

/* Number of RX queues of @ifname in the caller's network namespace. */
static int rx_queue_count(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = {};
	int fd, n = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
		ifr.ifr_data = (void *)&ch;
		if (!ioctl(fd, SIOCETHTOOL, &ifr))
			n = ch.rx_count > ch.combined_count ? ch.rx_count : ch.combined_count;
		close(fd);
	}
	if (n <= 0) {
		/* No ETHTOOL_GCHANNELS: count /sys/class/net/IF/queues/rx-* */
		char path[128];
		struct dirent *de;
		DIR *d;

		snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
		d = opendir(path);
		if (d) {
			while ((de = readdir(d)))
				if (!strncmp(de->d_name, "rx-", 3))
					n++;
			closedir(d);
		}
	}
	if (n <= 0)
		n = 1;
	if (n > TAP_MAX_QUEUES)
		n = TAP_MAX_QUEUES;
	return n;
}

static void tap_on_free(__u64 addr, void *ctx)
{
	struct ffpf_tap *tap = ctx;

	(void)addr;
	/* The frame is back in the pool; the next poll moves it to a fill ring. */
	atomic_fetch_add_explicit(&tap->on_free, 1, memory_order_relaxed);
}

/* Move free PBuf frames into @s's fill ring (up to its free space). */
static void refill_one(struct ffpf_tap *tap, struct tap_sock *s)
{
	__u32 want, idx, got = 0;
	__u64 addrs[256];

	want = xsk_prod_nb_free(&s->fq, tap->ring_size);
	if (want > 256)
		want = 256;
	while (got < want && !ffpf_pbuf_alloc(&tap->pb, &addrs[got]))
		got++;
	if (!got)
		return;
	if (xsk_ring_prod__reserve(&s->fq, got, &idx) != got) {
		/* Cannot happen (one producer, space checked); give them back. */
		for (__u32 i = 0; i < got; i++)
			ffpf_pbuf_release(&tap->pb, addrs[i]);
		return;
	}
	for (__u32 i = 0; i < got; i++)
		*xsk_ring_prod__fill_addr(&s->fq, idx + i) = addrs[i];
	xsk_ring_prod__submit(&s->fq, got);
	tap->fill_frames += got;
}

static void refill(struct ffpf_tap *tap)
{
	/* Several rounds so no socket starves while the pool has frames. */
	for (int round = 0; round < 16; round++) {
		__u32 before = ffpf_pbuf_nfree(&tap->pb);

		if (!before)
			return;
		for (int i = 0; i < tap->nsocks; i++)
			refill_one(tap, &tap->socks[i]);
		if (ffpf_pbuf_nfree(&tap->pb) == before)
			return;
	}
}

static void tap_destroy(struct ffpf_tap *tap)
{
	__u32 zero = 0;

	if (tap->ifc && tap->ifc->ctl)
		__atomic_store_n(&tap->ifc->ctl->tap, zero, __ATOMIC_SEQ_CST);
	for (int i = 0; i < tap->nsocks; i++) {
		struct tap_sock *s = &tap->socks[i];

		if (s->in_map && bpf_map_delete_elem(tap->ifc->xsks_fd, &s->queue))
			pr_warn("tap: %s: removing queue %u from the XSKMAP: %s\n",
				tap->ifc->ifname, s->queue, strerror(errno));
		s->in_map = false;
	}
	for (int i = 0; i < tap->nsocks; i++)
		if (tap->socks[i].xsk)
			xsk_socket__delete(tap->socks[i].xsk);
	if (tap->umem && xsk_umem__delete(tap->umem))
		pr_warn("tap: UMEM still in use at close\n");
	if (tap->pb_ok)
		ffpf_pbuf_destroy(&tap->pb);
	if (tap->area)
		munmap(tap->area, tap->area_len);
	if (tap->memfd >= 0)
		close(tap->memfd);
	free(tap);
}

int ffpf_tap_open(struct ffpf_iface *ifc, const struct ffpf_tap_opts *opts,
		  struct ffpf_tap **out)
{
	struct xsk_umem_config ucfg = {};
	struct xsk_socket_config scfg = {};
	struct ffpf_tap *tap;
	int nq, first, err;
	__u32 one = 1;

	if (!ifc || !out || (opts && opts->sz < sizeof(size_t)))
		return -EINVAL;
	*out = NULL;
	if (ifc->xsks_fd < 0 || !ifc->ctl)
		return ffpf_err(EOPNOTSUPP, "tap: %s: datapath adopted from pins has no XSKMAP "
				"in this process\n", ifc->ifname);
	if (__atomic_load_n(&ifc->ctl->tap, __ATOMIC_ACQUIRE))
		return ffpf_err(EBUSY, "tap: %s: tap mode already on\n", ifc->ifname);

	tap = calloc(1, sizeof(*tap));
	if (!tap)
		return -ENOMEM;
	tap->ifc = ifc;
	tap->memfd = -1;
	atomic_init(&tap->mask, ~0ULL);
	tap->nframes = opts && opts->nframes ? opts->nframes : 4096;
	tap->frame_size = opts && opts->frame_size ? opts->frame_size : XSK_UMEM__DEFAULT_FRAME_SIZE;
	tap->ring_size = opts && opts->ring_size ? opts->ring_size : 2048;
	if (tap->frame_size < 2048 || (tap->frame_size & (tap->frame_size - 1)) ||
	    (tap->ring_size & (tap->ring_size - 1))) {
		free(tap);
		return ffpf_err(EINVAL, "tap: frame size and ring size must be powers of two, "
				"frame size >= 2048\n");
	}

	tap->area_len = (size_t)tap->nframes * tap->frame_size;
	/* A memfd, so a daemon can hand the PBuf to its clients read-only. */
	tap->area = ffpf_shm_map("ffpf-pbuf", tap->area_len, &tap->memfd);
	if (!tap->area) {
		err = -errno;
		goto fail;
	}

	{
		struct ffpf_pbuf_opts po = { .sz = sizeof(po), .on_free = tap_on_free, .ctx = tap };

		err = ffpf_pbuf_init(&tap->pb, tap->area, tap->frame_size, tap->nframes, &po);
		if (err)
			goto fail;
		tap->pb_ok = true;
	}

	nq = rx_queue_count(ifc->dev);
	first = 0;
	if (opts && opts->queue >= 0) {
		if (opts->queue >= TAP_MAX_QUEUES) {
			err = -EINVAL;
			goto fail;
		}
		first = opts->queue;
		nq = 1;
	}

	ucfg.fill_size = tap->ring_size;
	ucfg.comp_size = tap->ring_size;
	ucfg.frame_size = tap->frame_size;
	ucfg.frame_headroom = 0;	/* metadata lands in the kernel's 256-byte XDP headroom */
	ucfg.flags = 0;
	err = xsk_umem__create(&tap->umem, tap->area, tap->area_len,
			       &tap->socks[0].fq, &tap->socks[0].cq, &ucfg);
	if (err) {
		tap->umem = NULL;
		pr_warn("tap: %s: creating the UMEM: %s\n", ifc->ifname, strerror(-err));
		goto fail;
	}

	scfg.rx_size = tap->ring_size;
	scfg.tx_size = 0;
	scfg.libxdp_flags = XSK_LIBBPF_FLAGS__INHIBIT_PROG_LOAD;
	scfg.xdp_flags = 0;
	scfg.bind_flags = opts && opts->zerocopy ? XDP_ZEROCOPY : XDP_COPY;

	for (int q = first; q < first + nq; q++) {
		struct tap_sock *s = &tap->socks[tap->nsocks];

		s->queue = q;
		err = xsk_socket__create_shared(&s->xsk, ifc->dev, q, tap->umem,
						&s->rx, NULL, &s->fq, &s->cq, &scfg);
		if (err) {
			s->xsk = NULL;
			if (tap->nsocks > 0) {
				/* Queue count said more than the device takes: keep what works. */
				pr_info("tap: %s: queue %d: %s; using %d queue(s)\n",
					ifc->ifname, q, strerror(-err), tap->nsocks);
				break;
			}
			pr_warn("tap: %s: AF_XDP socket on queue %d: %s\n",
				ifc->ifname, q, strerror(-err));
			goto fail;
		}
		s->fd = xsk_socket__fd(s->xsk);
		tap->nsocks++;
	}

	/* The UMEM is registered: from now on only our mapping may write it. */
	err = ffpf_shm_seal_readonly(tap->memfd);
	if (err) {
		pr_warn("tap: %s: sealing the UMEM: %s\n", ifc->ifname, strerror(-err));
		goto fail;
	}

	/* Frames into the fill rings before any packet can be redirected. */
	refill(tap);

	for (int i = 0; i < tap->nsocks; i++) {
		struct tap_sock *s = &tap->socks[i];

		if (bpf_map_update_elem(ifc->xsks_fd, &s->queue, &s->fd, BPF_ANY)) {
			err = -errno;
			pr_warn("tap: %s: queue %u into the XSKMAP: %s\n",
				ifc->ifname, s->queue, strerror(errno));
			goto fail;
		}
		s->in_map = true;
	}

	__atomic_store_n(&ifc->ctl->tap, one, __ATOMIC_SEQ_CST);
	pr_debug("tap: %s: %d socket(s), %u frames of %u bytes\n",
		 ifc->ifname, tap->nsocks, tap->nframes, tap->frame_size);
	*out = tap;
	return 0;

fail:
	tap_destroy(tap);
	return err < 0 ? err : -EIO;
}

static int rx_one(struct ffpf_tap *tap, struct tap_sock *s,
		  struct ffpf_ibuf **ibufs, int n, __u32 max)
{
	__u32 idx = 0, got;

	got = max ? xsk_ring_cons__peek(&s->rx, max < TAP_RX_BATCH ? max : TAP_RX_BATCH, &idx) : 0;
	for (__u32 i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&s->rx, idx + i);
		__u64 addr = d->addr;
		struct ffpf_meta meta;
		int rc;

		tap->rx_packets++;
		tap->rx_bytes += d->len;
		if ((addr % tap->frame_size) < META_LEN) {
			if (!tap->meta_bad++)
				pr_warn("tap: %s: descriptor at frame offset %llu leaves no "
					"room for metadata: packet dropped (counted)\n",
					tap->ifc->ifname,
					(unsigned long long)(addr % tap->frame_size));
			ffpf_pbuf_release(&tap->pb, addr);
			continue;
		}
		memcpy(&meta, (unsigned char *)tap->area + addr - META_LEN, sizeof(meta));
		meta.matched &= atomic_load_explicit(&tap->mask, memory_order_relaxed);
		meta.ts_ns += atomic_load_explicit(&tap->ts_off, memory_order_relaxed);
		rc = ffpf_pbuf_deliver(&tap->pb, addr, d->len, &meta, ibufs, n);
		if (rc < 0) {
			if (!tap->deliver_err++)
				pr_warn("tap: %s: bad RX descriptor (addr %llu len %u): packet "
					"dropped (counted)\n", tap->ifc->ifname,
					(unsigned long long)addr, d->len);
			ffpf_pbuf_release(&tap->pb, addr);
		}
	}
	if (got)
		xsk_ring_cons__release(&s->rx, got);
	return got;
}

int ffpf_tap_poll(struct ffpf_tap *tap, struct ffpf_ibuf **ibufs, int n, __u32 max)
{
	int total = 0;

	if (!tap || n < 0 || (n && !ibufs))
		return -EINVAL;
	refill(tap);
	for (int i = 0; i < tap->nsocks && (__u32)total < max; i++) {
		int got;

		do {	/* batches until the ring is empty or @max is reached */
			got = rx_one(tap, &tap->socks[i], ibufs, n, max - total);
			total += got;
		} while (got == TAP_RX_BATCH && (__u32)total < max);
	}
	refill(tap);
	return total;
}

static __u32 rx_queued(const struct xsk_ring_cons *r)
{
	return __atomic_load_n(r->producer, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(r->consumer, __ATOMIC_RELAXED);
}

bool ffpf_tap_crowded(const struct ffpf_tap *tap)
{
	for (int i = 0; i < tap->nsocks; i++)
		if (rx_queued(&tap->socks[i].rx) > tap->socks[i].rx.size / 4 * 3)
			return true;
	return false;
}

__u32 ffpf_tap_queued(const struct ffpf_tap *tap)
{
	__u32 n = 0;

	for (int i = 0; i < tap->nsocks; i++)
		n += rx_queued(&tap->socks[i].rx);
	return n;
}

int ffpf_tap_wait(struct ffpf_tap *tap, int timeout_ms)
{
	struct pollfd pfd[TAP_MAX_QUEUES];
	int r;

	if (!tap)
		return -EINVAL;
	for (int i = 0; i < tap->nsocks; i++) {
		pfd[i].fd = tap->socks[i].fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	r = poll(pfd, tap->nsocks, timeout_ms);
	return r < 0 ? -errno : r;
}

void ffpf_tap_set_ts_offset(struct ffpf_tap *tap, __s64 off)
{
	if (tap)
		atomic_store_explicit(&tap->ts_off, off, memory_order_relaxed);
}

__u64 ffpf_tap_kernel_frames(const struct ffpf_tap *tap)
{
	return tap ? tap->fill_frames - tap->rx_packets : 0;
}

int ffpf_tap_memfd(const struct ffpf_tap *tap)
{
	return tap->memfd;
}

void ffpf_tap_set_mask(struct ffpf_tap *tap, __u64 mask)
{
	atomic_store_explicit(&tap->mask, mask, memory_order_relaxed);
}

struct ffpf_pbuf *ffpf_tap_pbuf(struct ffpf_tap *tap)
{
	return tap ? &tap->pb : NULL;
}

int ffpf_tap_stats(struct ffpf_tap *tap, struct ffpf_tap_stats *st)
{
	if (!tap || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->nsockets = tap->nsocks;
	st->rx_packets = tap->rx_packets;
	st->rx_bytes = tap->rx_bytes;
	st->meta_bad = tap->meta_bad;
	st->deliver_err = tap->deliver_err;
	st->fill_frames = tap->fill_frames;
	st->kernel_frames = tap->fill_frames - tap->rx_packets;
	st->on_free = atomic_load_explicit(&tap->on_free, memory_order_relaxed);
	for (int i = 0; i < tap->nsocks; i++) {
		struct xdp_statistics xs = {};
		socklen_t len = sizeof(xs);

		if (getsockopt(tap->socks[i].fd, SOL_XDP, XDP_STATISTICS, &xs, &len))
			return -errno;
		st->rx_dropped += xs.rx_dropped;
		st->rx_invalid_descs += xs.rx_invalid_descs;
		st->tx_invalid_descs += xs.tx_invalid_descs;
		st->rx_ring_full += xs.rx_ring_full;
		st->rx_fill_ring_empty_descs += xs.rx_fill_ring_empty_descs;
		st->tx_ring_empty_descs += xs.tx_ring_empty_descs;
	}
	return 0;
}

void ffpf_tap_close(struct ffpf_tap *tap)
{
	if (tap)
		tap_destroy(tap);
}
