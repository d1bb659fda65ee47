/*
 * Unit tests for hypervisor/common/log_ring.c, the reader behind
 * KEEL_HC_LOG_READ and `keel dmesg`: text comes back in order across the
 * ring's wrap; a position that was overwritten, cleared or is beyond what
 * was logged moves to the oldest byte kept; a small buffer takes what
 * fits, and reading on from the returned position gets the rest.
 */
#include "../../hypervisor/common/log_ring.c"

#include "harness.h"

#define RING 16u

static char ring[RING];

/* Log the bytes of s into the ring as common/log.c does. */
static void put(uint64_t *head, const char *s)
{
	for (; *s; s++, (*head)++)
		ring[*head % RING] = *s;
}

static void test_reads_in_order_before_wrap(void)
{
	uint64_t head = 0, pos = 0;
	char buf[32] = { 0 };
	uint32_t n;

	put(&head, "hello\n");
	n = log_ring_read(ring, RING, head, 0, &pos, buf, sizeof(buf));
	CHECK_EQ_U64(n, 6);
	CHECK_EQ_U64(pos, 0);
	CHECK(!memcmp(buf, "hello\n", 6));
	pos += n;
	CHECK_EQ_U64(log_ring_read(ring, RING, head, 0, &pos, buf, sizeof(buf)), 0);
	CHECK_EQ_U64(pos, head);
}

static void test_overwritten_start_moves_forward(void)
{
	uint64_t head = 0, pos = 0;
	char buf[32] = { 0 };
	uint32_t n;

	put(&head, "0123456789abcdefGHIJ"); /* 20 bytes in a 16-byte ring */
	n = log_ring_read(ring, RING, head, 0, &pos, buf, sizeof(buf));
	CHECK_EQ_U64(pos, 4);
	CHECK_EQ_U64(n, 16);
	CHECK(!memcmp(buf, "456789abcdefGHIJ", 16));
}

static void test_small_buffer_reads_on(void)
{
	uint64_t head = 0, pos = 0;
	char buf[32] = { 0 }, all[32] = { 0 };
	uint32_t n, got = 0;

	put(&head, "0123456789abcdefGHIJ");
	for (;;) {
		n = log_ring_read(ring, RING, head, 0, &pos, buf, 5);
		if (!n)
			break;
		CHECK(n <= 5);
		memcpy(all + got, buf, n);
		got += n;
		pos += n;
	}
	CHECK_EQ_U64(got, 16);
	CHECK(!memcmp(all, "456789abcdefGHIJ", 16));
}

static void test_floor_and_beyond_head(void)
{
	uint64_t head = 0, pos = 0;
	char buf[32] = { 0 };
	uint32_t n;

	put(&head, "old\nnew\n");
	n = log_ring_read(ring, RING, head, 4, &pos, buf, sizeof(buf));
	CHECK_EQ_U64(pos, 4);
	CHECK_EQ_U64(n, 4);
	CHECK(!memcmp(buf, "new\n", 4));
	pos = 1000;
	CHECK_EQ_U64(log_ring_read(ring, RING, head, 0, &pos, buf, sizeof(buf)), 0);
	CHECK_EQ_U64(pos, head);
	pos = 0;
	CHECK_EQ_U64(log_ring_read(ring, RING, head, head, &pos, buf, sizeof(buf)), 0);
}

int main(void)
{
	test_reads_in_order_before_wrap();
	test_overwritten_start_moves_forward();
	test_small_buffer_reads_on();
	test_floor_and_beyond_head();
	return harness_done("log_ring");
}
