/*
 * Unit tests for hypervisor/common/state_rec.c, the record stream of
 * save/restore, clone and migration: records written and read back with
 * their padding, a full buffer, every truncation of a stream, absurd
 * lengths, misaligned positions, and payloads shorter and longer than the
 * reader's struct.
 */
#include "../../hypervisor/common/state_rec.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_round_trip(void)
{
	uint8_t buf[256];
	struct state_writer w;
	struct state_rec_view r;
	uint64_t pos = 0;
	uint32_t a = 0x11223344;
	const char *text = "hello";

	memset(buf, 0xEE, sizeof(buf));
	state_writer_init(&w, buf, sizeof(buf));
	CHECK_EQ_U64(state_rec_put(&w, KEEL_STATE_IOAPIC, 0, &a, sizeof(a)), 0);
	CHECK_EQ_U64(state_rec_put(&w, KEEL_STATE_UART, 2, text, 5), 0);
	CHECK_EQ_U64(state_rec_put(&w, 99, 7, NULL, 0), 0);
	CHECK_EQ_U64(w.len, 16 + 8 + 16 + 8 + 16);
	CHECK_EQ_U64(buf[16 + 4], 0); /* padding is zero, not the old bytes */
	CHECK_EQ_U64(buf[16 + 8 + 16 + 5], 0);

	CHECK_EQ_U64(state_rec_next(buf, w.len, &pos, &r), 1);
	CHECK_EQ_U64(r.type, KEEL_STATE_IOAPIC);
	CHECK_EQ_U64(r.length, 4);
	CHECK(memcmp(r.payload, &a, 4) == 0);
	CHECK_EQ_U64(state_rec_next(buf, w.len, &pos, &r), 1);
	CHECK_EQ_U64(r.type, KEEL_STATE_UART);
	CHECK_EQ_U64(r.instance, 2);
	CHECK(memcmp(r.payload, "hello", 5) == 0);
	CHECK_EQ_U64(state_rec_next(buf, w.len, &pos, &r), 1);
	CHECK_EQ_U64(r.type, 99);
	CHECK_EQ_U64(r.length, 0);
	CHECK_EQ_U64(state_rec_next(buf, w.len, &pos, &r), 0);
	CHECK_EQ_U64(pos, w.len);
}

static void test_full(void)
{
	uint8_t buf[48];
	struct state_writer w;
	uint8_t payload[32] = { 1 };

	state_writer_init(&w, buf, sizeof(buf));
	CHECK_EQ_U64(state_rec_put(&w, 1, 0, payload, 8), 0);        /* 24 bytes */
	CHECK_EQ_U64(state_rec_put(&w, 1, 1, payload, 1), 0);        /* 48: exactly full */
	CHECK_EQ_U64(state_rec_put(&w, 1, 2, payload, 0), (uint64_t)(int64_t)-ENOSPC);
	CHECK_EQ_U64(w.len, 48);
	/* the error sticks: a later small record is not written either */
	state_writer_init(&w, buf, sizeof(buf));
	CHECK_EQ_U64(state_rec_put(&w, 1, 0, payload, 32), 0);       /* 48 */
	CHECK_EQ_U64(state_rec_put(&w, 1, 0, payload, 1), (uint64_t)(int64_t)-ENOSPC);
	CHECK_EQ_U64(w.err, (uint64_t)(int64_t)-ENOSPC);
	/* a length that would overflow the padding arithmetic */
	state_writer_init(&w, buf, sizeof(buf));
	CHECK_EQ_U64(state_rec_put(&w, 1, 0, payload, UINT64_MAX - 3),
		     (uint64_t)(int64_t)-ENOSPC);
	CHECK_EQ_U64(w.len, 0);
}

/* Every prefix of a valid stream reads as whole records and then either
 * ends exactly or is refused; nothing is read beyond the prefix (the copy
 * is heap-allocated at exactly that size, so ASan would see it). */
static void test_truncations(void)
{
	uint8_t buf[128];
	struct state_writer w;
	uint8_t p[13] = { 9 };
	uint64_t cut;

	state_writer_init(&w, buf, sizeof(buf));
	state_rec_put(&w, 1, 0, p, 13);
	state_rec_put(&w, 2, 0, p, 3);
	for (cut = 0; cut <= w.len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		struct state_rec_view r;
		uint64_t pos = 0;
		int rc, n = 0;

		memcpy(copy, buf, cut);
		while ((rc = state_rec_next(copy, cut, &pos, &r)) == 1)
			n++;
		if (cut == 0)
			CHECK(rc == 0 && n == 0);
		else if (cut == 16 + 16)
			CHECK(rc == 0 && n == 1);
		else if (cut == w.len)
			CHECK(rc == 0 && n == 2);
		else
			CHECK_MSG(rc == -EINVAL, "cut %llu: rc %d", (unsigned long long)cut, rc);
		free(copy);
	}
}

static void test_bad_headers(void)
{
	uint8_t buf[64] = { 0 };
	struct keel_state_rec h = { .type = 1, .instance = 0, .length = UINT64_MAX };
	struct state_rec_view r;
	uint64_t pos = 0;

	memcpy(buf, &h, sizeof(h));
	CHECK_EQ_U64(state_rec_next(buf, sizeof(buf), &pos, &r), (uint64_t)(int64_t)-EINVAL);
	h.length = UINT64_MAX - 20; /* padded length wraps past the buffer */
	memcpy(buf, &h, sizeof(h));
	CHECK_EQ_U64(state_rec_next(buf, sizeof(buf), &pos, &r), (uint64_t)(int64_t)-EINVAL);
	h.length = 49; /* 16 + 56 > 64 */
	memcpy(buf, &h, sizeof(h));
	CHECK_EQ_U64(state_rec_next(buf, sizeof(buf), &pos, &r), (uint64_t)(int64_t)-EINVAL);
	h.length = 48; /* exactly fits */
	memcpy(buf, &h, sizeof(h));
	CHECK_EQ_U64(state_rec_next(buf, sizeof(buf), &pos, &r), 1);
	CHECK_EQ_U64(pos, 64);
	pos = 3; /* misaligned */
	CHECK_EQ_U64(state_rec_next(buf, sizeof(buf), &pos, &r), (uint64_t)(int64_t)-EINVAL);
	pos = 72; /* beyond the end */
	CHECK_EQ_U64(state_rec_next(buf, sizeof(buf), &pos, &r), (uint64_t)(int64_t)-EINVAL);
}

static void test_payload_sizes(void)
{
	uint8_t buf[64];
	struct state_writer w;
	struct state_rec_view r;
	uint64_t pos = 0;
	uint32_t small[2] = { 7, 8 };
	uint32_t big[4] = { 1, 1, 1, 1 };

	state_writer_init(&w, buf, sizeof(buf));
	state_rec_put(&w, 1, 0, small, sizeof(small));
	CHECK_EQ_U64(state_rec_next(buf, w.len, &pos, &r), 1);
	/* an older, shorter record: the rest reads as zero */
	CHECK_EQ_U64(state_rec_payload(&r, big, sizeof(big)), 0);
	CHECK(big[0] == 7 && big[1] == 8 && big[2] == 0 && big[3] == 0);
	/* a newer, longer record than the reader knows: refused */
	CHECK_EQ_U64(state_rec_payload(&r, small, 4), (uint64_t)(int64_t)-EINVAL);
}

/* A record of two parts (a struct and the area after it, as the FPU's)
 * reads back as one payload; one that does not fit writes nothing. */
static void test_parts(void)
{
	uint8_t buf[64];
	struct state_writer w;
	struct state_rec_view r;
	uint64_t pos = 0;
	uint32_t head = 0xA1A2A3A4;
	uint8_t tail[5] = { 1, 2, 3, 4, 5 };

	memset(buf, 0xEE, sizeof(buf));
	state_writer_init(&w, buf, sizeof(buf));
	CHECK_EQ_U64(state_rec_put_parts(&w, KEEL_STATE_FPU, 1, &head, 4, tail, 5), 0);
	CHECK_EQ_U64(w.len, 16 + 16);
	CHECK_EQ_U64(buf[16 + 9], 0);
	CHECK_EQ_U64(state_rec_next(buf, w.len, &pos, &r), 1);
	CHECK_EQ_U64(r.length, 9);
	CHECK(memcmp(r.payload, &head, 4) == 0 && memcmp(r.payload + 4, tail, 5) == 0);
	CHECK_EQ_U64(state_rec_put_parts(&w, KEEL_STATE_FPU, 2, &head, 4, buf, 40), -ENOSPC);
	CHECK_EQ_U64(w.len, 32);
	state_writer_init(&w, buf, sizeof(buf));
	CHECK_EQ_U64(state_rec_put_parts(&w, 1, 0, &head, 4, tail, UINT64_MAX - 2), -ENOSPC);
}

int main(void)
{
	test_parts();
	test_round_trip();
	test_full();
	test_truncations();
	test_bad_headers();
	test_payload_sizes();
	return harness_done("test_state_rec");
}
