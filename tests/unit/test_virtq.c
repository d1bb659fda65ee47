/*
 * Unit tests for hypervisor/common/virtq.c against a fake guest memory
 * of 2 MiB chunks backed by separate host buffers (guest-physical 0-6 MiB
 * contiguous in three chunks, a hole at 6-8 MiB, one more chunk at
 * 8-10 MiB); map() refuses ranges that cross a chunk or leave RAM, as the
 * hypervisor's does. Covers the legacy layout, simple and indirect
 * chains, copies across segments and chunk boundaries (buffers crossing
 * a chunk are split into segments; ones reaching a hole are rejected),
 * every malformed-ring case virtq.h lists, index wrap-around at 65536,
 * notification suppression with and without event_idx, and a randomised
 * run checking the invariants of whatever virtq_pop accepts.
 */
#include "../../hypervisor/common/virtq.c"

#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

#define CHUNK VIRTQ_CHUNK_BYTES
#define MIB (1ull << 20)
#define NCHUNKS 4

static const uint64_t chunk_gpa[NCHUNKS] = { 0, 2 * MIB, 4 * MIB, 8 * MIB };
static uint8_t *chunk_host[NCHUNKS];
static unsigned long map_calls;

static void *fake_map(void *ctx, uint64_t gpa, uint32_t len)
{
	(void)ctx;
	map_calls++;
	for (int i = 0; i < NCHUNKS; i++) {
		if (gpa >= chunk_gpa[i] && gpa - chunk_gpa[i] < CHUNK &&
		    len <= CHUNK - (gpa - chunk_gpa[i]))
			return chunk_host[i] + (gpa - chunk_gpa[i]);
	}
	return NULL;
}

static const struct guest_mem_ops mem = { fake_map, NULL };

/* Host pointer for a test write; aborts the test on a bad address. */
static uint8_t *gp(uint64_t gpa)
{
	uint8_t *p = fake_map(NULL, gpa, 1);

	if (!p) {
		printf("test bug: gpa 0x%llx\n", (unsigned long long)gpa);
		exit(2);
	}
	return p;
}

static void put(uint64_t gpa, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		*gp(gpa + i) = (uint8_t)(v >> (8 * i));
}

static uint64_t get(uint64_t gpa, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)*gp(gpa + i) << (8 * i);
	return v;
}

static void set_desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint64_t d = table + 16ull * i;

	put(d, addr, 8);
	put(d + 8, len, 4);
	put(d + 12, flags, 2);
	put(d + 14, next, 2);
}

static void mem_clear(void)
{
	for (int i = 0; i < NCHUNKS; i++)
		memset(chunk_host[i], 0, CHUNK);
}

/* Make head available and bump avail->idx. */
static void avail_add(const struct virtq *q, uint16_t head)
{
	uint16_t idx = (uint16_t)get(q->avail_gpa + 2, 2);

	put(q->avail_gpa + 4 + 2ull * (idx & (q->size - 1)), head, 2);
	put(q->avail_gpa + 2, (uint16_t)(idx + 1), 2);
}

static void reset_q(struct virtq *q, uint16_t size, uint32_t pfn)
{
	memset(q, 0, sizeof(*q));
	q->msix_vector = VIRTQ_NO_VECTOR;
	mem_clear();
	virtq_setup_legacy(q, size, pfn);
}

static struct virtq_chain ch, ch2;

static void test_layout(void)
{
	struct virtq q;

	memset(&q, 0, sizeof(q));
	q.msix_vector = 3;
	virtq_setup_legacy(&q, 256, 0x10);
	CHECK_EQ_U64(q.size, 256);
	CHECK_EQ_U64(q.desc_gpa, 0x10000);
	CHECK_EQ_U64(q.avail_gpa, 0x11000);
	CHECK_EQ_U64(q.used_gpa, 0x12000);
	CHECK_EQ_U64(q.msix_vector, 3);
	virtq_setup_legacy(&q, 8, 1);
	CHECK_EQ_U64(q.desc_gpa, 0x1000);
	CHECK_EQ_U64(q.avail_gpa, 0x1080);
	CHECK_EQ_U64(q.used_gpa, 0x2000);
	/* 4096 entries: avail ends exactly past a page boundary + 6 */
	virtq_setup_legacy(&q, 4096, 0x100);
	CHECK_EQ_U64(q.avail_gpa, 0x110000);
	CHECK_EQ_U64(q.used_gpa, 0x113000);
	virtq_setup_legacy(&q, 8, 0);
	CHECK_EQ_U64(q.size, 0);
	virtq_setup_legacy(&q, 12, 1);
	CHECK_EQ_U64(q.size, 0);
	CHECK_EQ_U64(q.msix_vector, 3);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 0);
	CHECK_EQ_INT(virtq_push(&q, &mem, 0, 0), -EINVAL);
	CHECK(!virtq_should_notify(&q, &mem));
}

static void test_simple(void)
{
	struct virtq q;
	uint8_t buf[64];

	reset_q(&q, 8, 1);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 0);
	for (int i = 0; i < 16; i++)
		put(0x3000 + i, 0xA0 + i, 1);
	for (int i = 0; i < 100; i++)
		put(0x4000 + i, i, 1);
	set_desc(q.desc_gpa, 5, 0x3000, 16, VIRTQ_DESC_F_NEXT, 2);
	set_desc(q.desc_gpa, 2, 0x4000, 100, VIRTQ_DESC_F_NEXT, 7);
	set_desc(q.desc_gpa, 7, 0x5000, 40, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&q, 5);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	CHECK_EQ_U64(ch.head, 5);
	CHECK_EQ_U64(ch.nsegs, 3);
	CHECK_EQ_U64(ch.read_bytes, 116);
	CHECK_EQ_U64(ch.write_bytes, 40);
	CHECK(!ch.segs[1].write && ch.segs[2].write);
	CHECK_EQ_U64(ch.segs[1].gpa, 0x4000);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch2), 0);
	CHECK_EQ_U64(ch2.head, VIRTQ_NO_HEAD);
	/* read across the first two segments */
	CHECK_EQ_INT(virtq_chain_read(&ch, &mem, 10, buf, 20), 20);
	CHECK_EQ_U64(buf[0], 0xAA);
	CHECK_EQ_U64(buf[5], 0xAF);
	CHECK_EQ_U64(buf[6], 0);
	CHECK_EQ_U64(buf[19], 13);
	/* short at the end of the readable part; offset past it */
	CHECK_EQ_INT(virtq_chain_read(&ch, &mem, 110, buf, 64), 6);
	CHECK_EQ_U64(buf[5], 99);
	CHECK_EQ_INT(virtq_chain_read(&ch, &mem, 116, buf, 64), 0);
	CHECK_EQ_INT(virtq_chain_read(&ch, &mem, 0, buf, 0x80000000u), -EINVAL);
	memset(buf, 0x5A, sizeof(buf));
	CHECK_EQ_INT(virtq_chain_write(&ch, &mem, 30, buf, 64), 10);
	CHECK_EQ_U64(get(0x5000 + 29, 1), 0);
	CHECK_EQ_U64(get(0x5000 + 30, 1), 0x5A);
	CHECK_EQ_U64(get(0x5000 + 39, 1), 0x5A);
	CHECK_EQ_U64(get(0x5000 + 40, 1), 0);
	CHECK_EQ_U64(get(0x3000, 1), 0xA0); /* readable part untouched */
	CHECK_EQ_INT(virtq_push(&q, &mem, ch.head, 40), 0);
	CHECK_EQ_U64(get(q.used_gpa + 2, 2), 1);
	CHECK_EQ_U64(get(q.used_gpa + 4, 4), 5);
	CHECK_EQ_U64(get(q.used_gpa + 8, 4), 40);
	CHECK_EQ_INT(virtq_push(&q, &mem, 8, 0), -EINVAL);
	CHECK_EQ_U64(get(q.used_gpa + 2, 2), 1);
}

static void test_chunks(void)
{
	struct virtq q;
	uint8_t buf[300];
	int ok = 1;

	reset_q(&q, 8, 1);
	/* 300 bytes straddling the 2 MiB boundary: two host buffers */
	for (int i = 0; i < 300; i++)
		put(2 * MIB - 100 + i, (uint8_t)(i * 7), 1);
	set_desc(q.desc_gpa, 0, 2 * MIB - 100, 300, 0, 0);
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	CHECK_EQ_U64(ch.nsegs, 2);
	CHECK_EQ_U64(ch.segs[0].len, 100);
	CHECK_EQ_U64(ch.segs[1].gpa, 2 * MIB);
	CHECK_EQ_U64(ch.segs[1].len, 200);
	CHECK_EQ_INT(virtq_chain_read(&ch, &mem, 0, buf, 300), 300);
	for (int i = 0; i < 300; i++)
		ok &= buf[i] == (uint8_t)(i * 7);
	CHECK(ok);
	/* crossing into the hole at 6 MiB */
	set_desc(q.desc_gpa, 1, 6 * MIB - 100, 300, 0, 0);
	avail_add(&q, 1);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	CHECK_EQ_U64(ch.head, 1);
	CHECK_EQ_U64(ch.nsegs, 0);
	/* wholly in the hole; beyond RAM; wrapping the address space */
	set_desc(q.desc_gpa, 2, 7 * MIB, 16, 0, 0);
	avail_add(&q, 2);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	set_desc(q.desc_gpa, 2, 10 * MIB, 1, 0, 0);
	avail_add(&q, 2);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	set_desc(q.desc_gpa, 2, 0xFFFFFFFFFFFFFF00ull, 0x200, 0, 0);
	avail_add(&q, 2);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	/* 4 MiB from 1 MiB: three chunks, three segments */
	set_desc(q.desc_gpa, 3, 1 * MIB, 4 * MIB, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&q, 3);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	CHECK_EQ_U64(ch.nsegs, 3);
	CHECK_EQ_U64(ch.write_bytes, 4 * MIB);
	memset(buf, 0xC3, sizeof(buf));
	CHECK_EQ_INT(virtq_chain_write(&ch, &mem, 3 * MIB - 150, buf, 300), 300);
	CHECK_EQ_U64(get(4 * MIB - 151, 1), 0);
	CHECK_EQ_U64(get(4 * MIB - 150, 1), 0xC3);
	CHECK_EQ_U64(get(4 * MIB + 149, 1), 0xC3);
	CHECK_EQ_U64(get(4 * MIB + 150, 1), 0);
}

static void test_indirect(void)
{
	struct virtq q;
	uint64_t it = 0x8000;

	reset_q(&q, 8, 1);
	set_desc(it, 0, 0x9000, 10, VIRTQ_DESC_F_NEXT, 2);
	set_desc(it, 2, 0x9100, 20, VIRTQ_DESC_F_NEXT, 1);
	set_desc(it, 1, 0x9200, 30, VIRTQ_DESC_F_WRITE, 0);
	/* F_WRITE on the indirect descriptor itself is ignored (2.6.5.3.2) */
	set_desc(q.desc_gpa, 4, it, 3 * 16,
		 VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	avail_add(&q, 4);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	CHECK_EQ_U64(ch.head, 4);
	CHECK_EQ_U64(ch.nsegs, 3);
	CHECK_EQ_U64(ch.read_bytes, 30);
	CHECK_EQ_U64(ch.write_bytes, 30);
	CHECK_EQ_U64(ch.segs[1].gpa, 0x9100);
	/* after a direct descriptor, as the last one */
	set_desc(q.desc_gpa, 3, 0x9300, 4, VIRTQ_DESC_F_NEXT, 4);
	avail_add(&q, 3);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	CHECK_EQ_U64(ch.nsegs, 4);
	/* a table straddling the 2 MiB boundary at an odd address */
	it = 2 * MIB - 24;
	set_desc(it, 0, 0x9000, 10, VIRTQ_DESC_F_NEXT, 1);
	set_desc(it, 1, 0x9100, 20, VIRTQ_DESC_F_WRITE, 0);
	set_desc(q.desc_gpa, 5, it, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(&q, 5);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	CHECK_EQ_U64(ch.segs[1].gpa, 0x9100);
	CHECK_EQ_U64(ch.write_bytes, 20);
	/* table in the hole */
	set_desc(q.desc_gpa, 5, 6 * MIB + 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(&q, 5);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	/* indirect inside indirect */
	it = 0x8000;
	set_desc(it, 0, 0x9000, 10, VIRTQ_DESC_F_NEXT, 1);
	set_desc(it, 1, 0xA000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(0xA000, 0, 0x9000, 10, 0, 0);
	set_desc(q.desc_gpa, 6, it, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(&q, 6);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	CHECK_EQ_U64(ch.head, 6);
	/* INDIRECT with NEXT; lengths 0, 17, too many entries */
	set_desc(it, 1, 0x9100, 10, 0, 0);
	set_desc(q.desc_gpa, 6, it, 32,
		 VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 0);
	avail_add(&q, 6);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	set_desc(q.desc_gpa, 6, it, 0, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(&q, 6);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	set_desc(q.desc_gpa, 6, it, 17, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(&q, 6);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	set_desc(q.desc_gpa, 6, it, 16 * (VIRTQ_MAX_INDIRECT + 1),
		 VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(&q, 6);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	set_desc(q.desc_gpa, 6, it, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(&q, 6);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	/* next beyond the indirect table; a loop inside it */
	set_desc(it, 1, 0x9100, 10, VIRTQ_DESC_F_NEXT, 2);
	avail_add(&q, 6);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	set_desc(it, 1, 0x9100, 10, VIRTQ_DESC_F_NEXT, 0);
	avail_add(&q, 6);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
}

static void test_malformed(void)
{
	struct virtq q;

	reset_q(&q, 8, 1);
	/* head >= size: consumed, no head reported */
	avail_add(&q, 8);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	CHECK_EQ_U64(ch.head, VIRTQ_NO_HEAD);
	CHECK_EQ_U64(q.last_avail, 1);
	/* next >= size */
	set_desc(q.desc_gpa, 0, 0x3000, 4, VIRTQ_DESC_F_NEXT, 9);
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	CHECK_EQ_U64(ch.head, 0);
	CHECK_EQ_U64(q.last_avail, 2);
	/* loop 0 -> 1 -> 0 */
	set_desc(q.desc_gpa, 0, 0x3000, 4, VIRTQ_DESC_F_NEXT, 1);
	set_desc(q.desc_gpa, 1, 0x3000, 4, VIRTQ_DESC_F_NEXT, 0);
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	/* self loop */
	set_desc(q.desc_gpa, 3, 0x3000, 4, VIRTQ_DESC_F_NEXT, 3);
	avail_add(&q, 3);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	/* a chain using all 8 entries is fine */
	for (uint16_t i = 0; i < 8; i++)
		set_desc(q.desc_gpa, i, 0x3000 + i, 1,
			 i < 7 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	CHECK_EQ_U64(ch.nsegs, 8);
	/* ...starting mid-table and wrapping back is a loop */
	set_desc(q.desc_gpa, 7, 0x3007, 1, VIRTQ_DESC_F_NEXT, 0);
	avail_add(&q, 4);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	/* readable after writable */
	set_desc(q.desc_gpa, 0, 0x3000, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(q.desc_gpa, 1, 0x3000, 4, 0, 0);
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	/* ...also when the writable one is empty */
	set_desc(q.desc_gpa, 0, 0x3000, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	/* zero-length descriptors are accepted and skipped, even at a bad
	 * address */
	set_desc(q.desc_gpa, 0, 7 * MIB, 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(q.desc_gpa, 1, 0x3000, 10, VIRTQ_DESC_F_NEXT, 2);
	set_desc(q.desc_gpa, 2, 0x3000, 0, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	CHECK_EQ_U64(ch.nsegs, 1);
	CHECK_EQ_U64(ch.read_bytes, 10);
	CHECK_EQ_U64(ch.write_bytes, 0);
	/* huge lengths */
	set_desc(q.desc_gpa, 0, 0x3000, 0xFFFFFFFFu, 0, 0);
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	set_desc(q.desc_gpa, 0, 0, 4 * MIB, VIRTQ_DESC_F_NEXT, 1);
	set_desc(q.desc_gpa, 1, 0, 4 * MIB, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1); /* exactly the limit */
	CHECK_EQ_U64(ch.nsegs, 4);
	set_desc(q.desc_gpa, 1, 0, 4 * MIB, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(q.desc_gpa, 2, 0, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	/* the ring is still usable afterwards (state consistent) */
	set_desc(q.desc_gpa, 0, 0x3000, 4, 0, 0);
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	/* avail->idx more than size ahead: nothing consumed */
	for (int i = 0; i < 8; i++)
		put(q.avail_gpa + 4 + 2 * i, 0, 2);
	put(q.avail_gpa + 2, (uint16_t)(q.last_avail + 9), 2);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	CHECK_EQ_U64(ch.head, VIRTQ_NO_HEAD);
	put(q.avail_gpa + 2, (uint16_t)(q.last_avail - 1), 2);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	put(q.avail_gpa + 2, (uint16_t)(q.last_avail + 8), 2);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	/* ring in the hole */
	reset_q(&q, 8, (uint32_t)(6 * MIB / 4096));
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	CHECK_EQ_INT(virtq_push(&q, &mem, 0, 0), -EINVAL);
	CHECK(virtq_should_notify(&q, &mem));
}

static void test_max_segs(void)
{
	struct virtq q;
	uint16_t n = VIRTQ_MAX_SEGS;

	reset_q(&q, 256, 0x100);
	for (uint16_t i = 0; i < n; i++)
		set_desc(q.desc_gpa, i, 0x3000 + i, 1,
			 i + 1 < n ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	CHECK_EQ_U64(ch.nsegs, VIRTQ_MAX_SEGS);
	set_desc(q.desc_gpa, (uint16_t)(n - 1), 0x3000, 1, VIRTQ_DESC_F_NEXT, n);
	set_desc(q.desc_gpa, n, 0x3000, 1, 0, 0);
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
	/* a split that pushes it over */
	set_desc(q.desc_gpa, (uint16_t)(n - 1), 2 * MIB - 1, 2, 0, 0);
	avail_add(&q, 0);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), -EINVAL);
}

static void test_wrap(void)
{
	struct virtq q;

	reset_q(&q, 8, 1);
	set_desc(q.desc_gpa, 0, 0x3000, 4, 0, 0);
	set_desc(q.desc_gpa, 1, 0x3000, 4, 0, 0);
	set_desc(q.desc_gpa, 2, 0x3000, 4, 0, 0);
	q.last_avail = 65534;
	q.used_idx = 65535;
	put(q.avail_gpa + 2, 65534, 2);
	put(q.used_gpa + 2, 65535, 2);
	avail_add(&q, 0);
	avail_add(&q, 1);
	avail_add(&q, 2);
	CHECK_EQ_U64(get(q.avail_gpa + 2, 2), 1);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	CHECK_EQ_U64(ch.head, 0);
	CHECK_EQ_INT(virtq_push(&q, &mem, ch.head, 4), 0);
	CHECK_EQ_U64(get(q.used_gpa + 2, 2), 0);
	CHECK_EQ_U64(get(q.used_gpa + 4 + 8 * 7, 4), 0);
	CHECK_EQ_U64(get(q.used_gpa + 4 + 8 * 7 + 4, 4), 4);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	CHECK_EQ_U64(ch.head, 1);
	CHECK_EQ_INT(virtq_push(&q, &mem, ch.head, 5), 0);
	CHECK_EQ_U64(get(q.used_gpa + 2, 2), 1);
	CHECK_EQ_U64(get(q.used_gpa + 4, 4), 1);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 1);
	CHECK_EQ_U64(ch.head, 2);
	CHECK_EQ_U64(q.last_avail, 1);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 0);
}

static void test_notify(void)
{
	struct virtq q;
	uint64_t used_event, avail_event;

	reset_q(&q, 8, 1);
	set_desc(q.desc_gpa, 0, 0x3000, 4, 0, 0);
	CHECK_EQ_INT(virtq_push(&q, &mem, 0, 0), 0);
	CHECK(virtq_should_notify(&q, &mem));
	put(q.avail_gpa, VIRTQ_AVAIL_F_NO_INTERRUPT, 2);
	CHECK(!virtq_should_notify(&q, &mem));
	put(q.avail_gpa, 0, 2);
	CHECK(virtq_should_notify(&q, &mem));
	/* event_idx: flags are ignored, used_event counts */
	reset_q(&q, 8, 1);
	q.event_idx = true;
	used_event = q.avail_gpa + 4 + 2 * 8;
	avail_event = q.used_gpa + 4 + 8 * 8;
	put(q.avail_gpa, VIRTQ_AVAIL_F_NO_INTERRUPT, 2);
	put(used_event, 2, 2);
	CHECK_EQ_INT(virtq_push(&q, &mem, 0, 0), 0); /* used idx 1 */
	CHECK(virtq_should_notify(&q, &mem));        /* first: always */
	CHECK_EQ_INT(virtq_push(&q, &mem, 0, 0), 0); /* 2: event not passed */
	CHECK(!virtq_should_notify(&q, &mem));
	CHECK_EQ_INT(virtq_push(&q, &mem, 0, 0), 0); /* 3: entry 2 used */
	CHECK(virtq_should_notify(&q, &mem));
	CHECK_EQ_INT(virtq_push(&q, &mem, 0, 0), 0); /* 4 */
	CHECK(!virtq_should_notify(&q, &mem));
	put(used_event, 0xFFFF, 2);                  /* wrap: wants 65536 */
	q.used_idx = 0xFFFE;
	q.signalled_used = 0xFFFE;
	CHECK_EQ_INT(virtq_push(&q, &mem, 0, 0), 0); /* 0xFFFF */
	CHECK(!virtq_should_notify(&q, &mem));
	CHECK_EQ_INT(virtq_push(&q, &mem, 0, 0), 0); /* 0 */
	CHECK(virtq_should_notify(&q, &mem));
	/* an empty pop publishes avail_event = last_avail */
	q.last_avail = 5;
	put(q.avail_gpa + 2, 5, 2);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 0);
	CHECK_EQ_U64(get(avail_event, 2), 5);
	q.event_idx = false;
	q.last_avail = 6;
	put(q.avail_gpa + 2, 6, 2);
	CHECK_EQ_INT(virtq_pop(&q, &mem, &ch), 0);
	CHECK_EQ_U64(get(avail_event, 2), 5);
}

/* Whatever pop accepts must satisfy the header's promises. */
static int chain_sane(const struct virtq *q)
{
	uint64_t rd = 0, wr = 0;
	bool seen_w = false;

	if (ch.head >= q->size || ch.nsegs > VIRTQ_MAX_SEGS)
		return 0;
	for (uint32_t i = 0; i < ch.nsegs; i++) {
		const struct virtq_seg *s = &ch.segs[i];

		if (!s->len || !fake_map(NULL, s->gpa, s->len))
			return 0;
		if (!s->write && seen_w)
			return 0;
		seen_w |= s->write;
		*(s->write ? &wr : &rd) += s->len;
	}
	return rd == ch.read_bytes && wr == ch.write_bytes &&
	       rd + wr <= VIRTQ_MAX_CHAIN_BYTES;
}

static void test_random(void)
{
	static const uint64_t bases[] = { 0x3000, 2 * MIB - 8, 6 * MIB - 4,
					  0xFFFFFFFFFFFFFFF0ull, 0x8000 };
	struct virtq q;
	unsigned long accepted = 0, rejected = 0, insane = 0;
	uint8_t buf[256];

	reset_q(&q, 16, 1);
	for (int iter = 0; iter < 30000; iter++) {
		for (uint16_t i = 0; i < 16; i++) {
			uint16_t fl = (uint16_t)harness_rand_below(8);
			uint32_t len = (uint32_t)harness_rand_below(64);

			if (harness_rand_below(16) == 0)
				len = (uint32_t)harness_rand();
			set_desc(q.desc_gpa, i,
				 bases[harness_rand_below(5)] +
					 harness_rand_below(32),
				 len, fl, (uint16_t)harness_rand_below(18));
			set_desc(0x8000, i, 0x3000 + harness_rand_below(64),
				 (uint32_t)harness_rand_below(64),
				 (uint16_t)harness_rand_below(8),
				 (uint16_t)harness_rand_below(18));
		}
		avail_add(&q, (uint16_t)harness_rand_below(17));
		int rc = virtq_pop(&q, &mem, &ch);

		if (rc == 1) {
			accepted++;
			insane += !chain_sane(&q);
			if (virtq_chain_read(&ch, &mem, 0, buf, sizeof(buf)) < 0 ||
			    virtq_chain_write(&ch, &mem, 3, buf, sizeof(buf)) < 0)
				insane++;
			virtq_push(&q, &mem, ch.head, 0);
		} else {
			rejected++;
			insane += rc != -EINVAL;
		}
	}
	CHECK_EQ_U64(insane, 0);
	CHECK(accepted > 1000);
	CHECK(rejected > 1000);
}

int main(void)
{
	for (int i = 0; i < NCHUNKS; i++) {
		chunk_host[i] = aligned_alloc(4096, CHUNK);
		if (!chunk_host[i])
			return 2;
	}
	test_layout();
	test_simple();
	test_chunks();
	test_indirect();
	test_malformed();
	test_max_segs();
	test_wrap();
	test_notify();
	test_random();
	for (int i = 0; i < NCHUNKS; i++)
		free(chunk_host[i]);
	return harness_done("virtq");
}
