// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ftfeed.c - termination records from the daemon's sweeper to the client
 * (ftfeed.h): a single-producer, single-consumer ring in a memfd.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "ftfeed.h"
#include "pbuf.h"

void ffpf_ft_feed_init(struct ffpf_ft_feed *f)
{
	memset(f, 0, sizeof(*f));
	f->memfd = -1;
	f->efd = -1;
}

size_t ffpf_ft_feed_size(__u32 capacity)
{
	return sizeof(struct ffpf_ft_feed_ring) + (size_t)capacity * sizeof(struct ffpf_ft_record);
}

int ffpf_ft_feed_create(struct ffpf_ft_feed *f, __u32 want)
{
	__u32 cap = 64;
	int err;

	ffpf_ft_feed_init(f);
	while (cap < want && cap < FFPF_FT_FEED_MAX)
		cap <<= 1;
	f->capacity = cap;
	f->len = ffpf_ft_feed_size(cap);
	/* memfd pages are allocated when first written: an idle ring costs little */
	f->r = ffpf_shm_map("ffpf-ftfeed", f->len, &f->memfd);
	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!f->r || f->efd < 0) {
		err = -errno;
		if (!f->r)
			f->len = 0;
		ffpf_ft_feed_destroy(f);
		return err;
	}
	return 0;
}

int ffpf_ft_feed_attach(struct ffpf_ft_feed *f, int memfd, size_t len, __u32 capacity,
			int efd)
{
	struct stat st;
	void *p;

	ffpf_ft_feed_init(f);
	f->efd = efd;
	if (!capacity || capacity > FFPF_FT_FEED_MAX || (capacity & (capacity - 1)) ||
	    len < ffpf_ft_feed_size(capacity) || fstat(memfd, &st) || (size_t)st.st_size < len) {
		close(memfd);
		ffpf_ft_feed_destroy(f);
		return -EINVAL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	close(memfd);
	if (p == MAP_FAILED) {
		int err = -errno;

		ffpf_ft_feed_destroy(f);
		return err;
	}
	f->r = p;
	f->len = len;
	f->capacity = capacity;
	return 0;
}

bool ffpf_ft_feed_push(struct ffpf_ft_feed *f, const struct ffpf_ft_record *rec)
{
	__u32 cons = atomic_load_explicit(&f->r->cons, memory_order_acquire);
	__u64 one = 1;
	ssize_t n;

	/* cons from the client: anything but 0..capacity records behind is "full" */
	if (f->prod - cons >= f->capacity) {
		f->dropped++;
		return false;
	}
	f->r->rec[f->prod & (f->capacity - 1)] = *rec;
	atomic_store_explicit(&f->r->prod, ++f->prod, memory_order_release);
	/* Always: a wake-up only on empty -> non-empty races with a consumer
	 * about to sleep. EAGAIN (counter saturated) means one is pending. */
	n = write(f->efd, &one, sizeof(one));
	(void)n;
	return true;
}

bool ffpf_ft_feed_pop(struct ffpf_ft_feed *f, struct ffpf_ft_record *rec)
{
	__u32 cons = atomic_load_explicit(&f->r->cons, memory_order_relaxed);
	__u32 prod = atomic_load_explicit(&f->r->prod, memory_order_acquire);

	if (prod == cons)
		return false;
	*rec = f->r->rec[cons & (f->capacity - 1)];
	atomic_store_explicit(&f->r->cons, cons + 1, memory_order_release);
	return true;
}

void ffpf_ft_feed_destroy(struct ffpf_ft_feed *f)
{
	if (f->r)
		munmap(f->r, f->len);
	if (f->memfd >= 0)
		close(f->memfd);
	if (f->efd >= 0)
		close(f->efd);
	ffpf_ft_feed_init(f);
}
