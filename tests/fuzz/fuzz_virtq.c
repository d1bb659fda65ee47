/*
 * libFuzzer target for the virtqueue code (hypervisor/common/virtq.c).
 * Each input is a small header (queue size, ring placement, start
 * indices, event_idx, number of pops) followed by bytes that become the
 * guest's memory: rings, descriptor tables, indirect tables and buffers.
 * Guest RAM is three regions in separately allocated host buffers of
 * exactly their size, [0, 64 KiB), [2 MiB - 32 KiB, 2 MiB) and
 * [2 MiB, 2 MiB + 32 KiB), the last two split at the chunk boundary the
 * way the hypervisor's map() splits them, so AddressSanitizer catches any
 * access outside what map() handed out. The target pops, copies and
 * pushes and aborts if virtq_pop breaks its contract (a return other than
 * 1, 0, -EINVAL; segments outside RAM, empty, crossing a chunk or out of
 * order; byte counts not adding up; copies returning more than asked).
 */
#include "../../hypervisor/common/virtq.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1ull << 20)

struct region {
	uint64_t gpa;
	uint32_t len;
	uint8_t *host;
};

static struct region regions[] = {
	{ 0, 0x10000, NULL },
	{ 2 * MIB - 0x8000, 0x8000, NULL },
	{ 2 * MIB, 0x8000, NULL },
};

#define NREGIONS (sizeof(regions) / sizeof(regions[0]))

static void *fz_map(void *ctx, uint64_t gpa, uint32_t len)
{
	(void)ctx;
	for (size_t i = 0; i < NREGIONS; i++) {
		const struct region *r = &regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->len &&
		    len <= r->len - (gpa - r->gpa))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

static const struct guest_mem_ops fz_mem = { fz_map, NULL };

static void fz_check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "virtq contract broken: %s\n", what);
		abort();
	}
}

static void fz_check_chain(const struct virtq *q, const struct virtq_chain *c)
{
	uint64_t rd = 0, wr = 0;
	bool seen_write = false;

	fz_check(c->head < q->size, "head");
	fz_check(c->nsegs <= VIRTQ_MAX_SEGS, "nsegs");
	for (uint32_t i = 0; i < c->nsegs; i++) {
		const struct virtq_seg *s = &c->segs[i];

		fz_check(s->len > 0, "empty segment");
		fz_check(fz_map(NULL, s->gpa, s->len) != NULL, "segment in RAM");
		fz_check((s->gpa & ~(uint64_t)(VIRTQ_CHUNK_BYTES - 1)) ==
				 ((s->gpa + s->len - 1) &
				  ~(uint64_t)(VIRTQ_CHUNK_BYTES - 1)),
			 "segment crosses chunk");
		fz_check(s->write || !seen_write, "read after write");
		seen_write |= s->write;
		*(s->write ? &wr : &rd) += s->len;
	}
	fz_check(rd == c->read_bytes && wr == c->write_bytes, "byte counts");
	fz_check(rd + wr <= VIRTQ_MAX_CHAIN_BYTES, "chain bytes");
}

static void fz_copy(const struct virtq_chain *c, uint32_t off)
{
	static uint8_t buf[4096];
	int32_t n;

	n = virtq_chain_read(c, &fz_mem, off, buf, sizeof(buf));
	fz_check(n >= 0 && (uint32_t)n <= sizeof(buf), "chain_read");
	fz_check(off < c->read_bytes || n == 0, "read past end");
	n = virtq_chain_write(c, &fz_mem, off, buf, sizeof(buf));
	fz_check(n >= 0 && (uint32_t)n <= sizeof(buf), "chain_write");
}

/* Header: size shift, placement, last_avail, used_idx, flags, pops. */
#define HDR 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* ring placements: in RAM, across the chunk boundary, partly or
	 * wholly outside RAM */
	static const uint32_t pfns[] = { 1, 0x1F8, 0x1FF, 0x1FE,
					 0xF, 0x207, 0x400, 0x10 };
	static struct virtq_chain c;
	struct virtq q;
	size_t split, n0, n1;
	int pops;

	if (size < HDR)
		return 0;
	for (size_t i = 0; i < NREGIONS; i++) {
		if (!regions[i].host) {
			regions[i].host = malloc(regions[i].len);
			if (!regions[i].host)
				abort();
		}
		memset(regions[i].host, 0, regions[i].len);
	}
	/* body: first part at 0x1000, the rest from 2 MiB - 0x800 */
	split = (size - HDR) / 2;
	n0 = split < 0xF000 ? split : 0xF000;
	n1 = size - HDR - split < 0x1000 ? size - HDR - split : 0x1000;
	memcpy(regions[0].host + 0x1000, data + HDR, n0);
	memcpy(regions[1].host + 0x7800, data + HDR + split,
	       n1 < 0x800 ? n1 : 0x800);
	if (n1 > 0x800)
		memcpy(regions[2].host, data + HDR + split + 0x800, n1 - 0x800);

	memset(&q, 0, sizeof(q));
	virtq_setup_legacy(&q, (uint16_t)(1u << (data[0] % 11)),
			   pfns[data[1] & 7]);
	q.last_avail = (uint16_t)(data[2] | data[3] << 8);
	q.used_idx = (uint16_t)(data[4] | data[5] << 8);
	q.event_idx = data[6] & 1;
	pops = 1 + data[7] % 8;

	for (int i = 0; i < pops; i++) {
		int rc = virtq_pop(&q, &fz_mem, &c);

		fz_check(rc == 1 || rc == 0 || rc == -EINVAL, "pop rc");
		if (rc == 0)
			break;
		if (rc < 0) {
			fz_check(c.head == VIRTQ_NO_HEAD || c.head < q.size,
				 "error head");
			if (c.head != VIRTQ_NO_HEAD)
				virtq_push(&q, &fz_mem, c.head, 0);
			continue;
		}
		fz_check_chain(&q, &c);
		fz_copy(&c, (uint32_t)i * 7);
		virtq_push(&q, &fz_mem, c.head, c.write_bytes);
		virtq_should_notify(&q, &fz_mem);
	}
	return 0;
}
