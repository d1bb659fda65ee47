/*
 * Unit tests for hypervisor/common/tsc_offset.c: the guest's and the
 * host's TSC across an offset (IA32_TSC_DEADLINE's 0 and past deadlines,
 * an offset that wraps), and the offset a loaded guest gets from its TSC
 * record: kept in the same boot, its TSC going on from the saved value in
 * another, and each refusal (a future TSC, a record without a rate from
 * another boot, a TSC rate 0.1 % away).
 */
#include "../../hypervisor/common/tsc_offset.c"

#include <stdio.h>

#include "harness.h"

static void test_convert(void)
{
	uint64_t off = (uint64_t)-1000000; /* the guest's TSC is behind */

	CHECK_EQ_U64(tsc_host_to_guest(off, 0), 0);
	CHECK_EQ_U64(tsc_host_to_guest(off, 5000000), 4000000);
	CHECK_EQ_U64(tsc_guest_to_host(off, 0, 5000000), 0);
	/* the guest's now is 4,000,000: a deadline 1000 later */
	CHECK_EQ_U64(tsc_guest_to_host(off, 4001000, 5000000), 5001000);
	/* at or before its now: fires at once, never wraps to the far future */
	CHECK_EQ_U64(tsc_guest_to_host(off, 4000000, 5000000), 5000000);
	CHECK_EQ_U64(tsc_guest_to_host(off, 1, 5000000), 5000000);
	/* a guest ahead of the host */
	CHECK_EQ_U64(tsc_guest_to_host(1u << 30, (1u << 30) + 10, 0), 10);
	CHECK_EQ_U64(tsc_host_to_guest(1u << 30, 10), (1u << 30) + 10);
	/* round trip */
	CHECK_EQ_U64(tsc_host_to_guest(off, tsc_guest_to_host(off, 9000000, 5000000)), 9000000);
}

static void test_load(void)
{
	struct keel_state_tsc t = { .boot_id = 7, .tsc = 1000, .tsc_offset = 0, .tsc_khz = 2000000 };
	uint64_t off = 123;

	/* the same boot: offset kept, the saved time counted */
	CHECK_EQ_INT(tsc_offset_load(&t, 7, 5000, 2000000, &off), 0);
	CHECK_EQ_U64(off, 0);
	t.tsc_offset = 500;
	t.tsc = 1500;
	CHECK_EQ_INT(tsc_offset_load(&t, 7, 5000, 2000000, &off), 0);
	CHECK_EQ_U64(off, 500);
	/* a TSC from the future of this boot */
	t.tsc = 9000;
	CHECK_EQ_INT(tsc_offset_load(&t, 7, 5000, 2000000, &off), -EINVAL);
	/* another boot: goes on from the saved TSC, whatever this one reads */
	t.tsc = 1ull << 40;
	CHECK_EQ_INT(tsc_offset_load(&t, 8, 5000, 2000000, &off), 0);
	CHECK_EQ_U64(5000 + off, 1ull << 40);
	t.tsc = 100;
	CHECK_EQ_INT(tsc_offset_load(&t, 8, 1ull << 40, 2000000, &off), 0);
	CHECK_EQ_U64((1ull << 40) + off, 100); /* a negative offset, mod 2^64 */
	/* rates: 0.1 % apart is allowed, more is not */
	CHECK_EQ_INT(tsc_offset_load(&t, 8, 0, 2002000, &off), 0);
	CHECK_EQ_INT(tsc_offset_load(&t, 8, 0, 1998000, &off), 0);
	CHECK_EQ_INT(tsc_offset_load(&t, 8, 0, 2002001, &off), -ERANGE);
	CHECK_EQ_INT(tsc_offset_load(&t, 8, 0, 1997999, &off), -ERANGE);
	/* a record from before ABI 1.17 has no rate: its own boot only */
	t.tsc_khz = 0;
	t.tsc_offset = 0;
	CHECK_EQ_INT(tsc_offset_load(&t, 8, 5000, 2000000, &off), -EXDEV);
	CHECK_EQ_INT(tsc_offset_load(&t, 7, 5000, 2000000, &off), 0);
}

int main(void)
{
	test_convert();
	test_load();
	return harness_done("test_tsc_offset");
}
