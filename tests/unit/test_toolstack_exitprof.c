/*
 * Host unit tests of toolstack/core/exitprof.c: a sample is fetched with
 * the hypercall's header filled and its answer copied (a fake hypervisor
 * below); the difference of two samples keeps only what changed (new
 * keys count from 0); sorting puts the most frequent first; names of
 * kinds and targets (MSRs, hypercalls, the guest's ports and MMIO pages,
 * nothing device-like for dom0).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../toolstack/core/exitprof.c"

#include "harness.h"

static struct keel_exitstat fake[3] = {
	{ KEEL_EXIT_HLT, 0, 10, 1000 },
	{ KEEL_EXIT_MSR_WRITE, 0x6e0, 50, 5000 },
	{ KEEL_EXIT_IO_OUT, 0x3f8, 7, 700 },
};
static uint32_t fake_n = 3, fake_domid_seen;

/* The fake hypervisor's KEEL_HC_DOMAIN_EXITS. */
int keel_hypercall(uint64_t op, void *buf, size_t size)
{
	struct keel_domain_exits *h = buf;

	if (op != KEEL_HC_DOMAIN_EXITS || size < sizeof(*h) + h->max * sizeof(fake[0]))
		return -KEEL_EINVAL;
	fake_domid_seen = h->domid;
	if (h->domid == 99)
		return -KEEL_ENOENT;
	memcpy(h + 1, fake, fake_n * sizeof(fake[0]));
	h->count = fake_n;
	h->total = 67;
	h->now_ns = 5000000000ull;
	return 0;
}

static void test_get(void)
{
	struct exitprof p;

	CHECK(exitprof_get(7, &p) == 0);
	CHECK_EQ_U64(fake_domid_seen, 7);
	CHECK_EQ_U64(p.count, 3);
	CHECK_EQ_U64(p.total, 67);
	CHECK_EQ_U64(p.e[1].detail, 0x6e0);
	CHECK_EQ_U64(exitprof_time_ns(&p), 6700);
	CHECK(exitprof_get(99, &p) == -KEEL_ENOENT);
}

static void test_diff_and_sort(void)
{
	struct exitprof a, b;

	CHECK(exitprof_get(1, &a) == 0);
	fake[0].count = 15, fake[0].time_ns = 1600; /* 5 more HLTs */
	fake[2].count = 7;                          /* unchanged */
	fake_n = 3;
	CHECK(exitprof_get(1, &b) == 0);
	b.e[3] = (struct keel_exitstat){ KEEL_EXIT_CPUID, 0, 20, 60 }; /* a new key */
	b.count = 4;
	b.total = 67 + 25;
	b.now_ns += 2000000000ull;
	exitprof_diff(&a, &b, &b);
	CHECK_EQ_U64(b.count, 2);
	CHECK_EQ_U64(b.total, 25);
	CHECK_EQ_U64(b.now_ns, 2000000000ull);
	exitprof_sort(&b);
	CHECK(b.e[0].kind == KEEL_EXIT_CPUID && b.e[0].count == 20 && b.e[0].time_ns == 60);
	CHECK(b.e[1].kind == KEEL_EXIT_HLT && b.e[1].count == 5 && b.e[1].time_ns == 600);
}

static void check_target(uint32_t kind, uint32_t detail, bool guest, const char *want)
{
	struct keel_exitstat e = { kind, detail, 1, 1 };
	char buf[64];

	exitprof_target(&e, guest, buf, sizeof(buf));
	CHECK_MSG(strcmp(buf, want) == 0, "kind %u detail %#x: got '%s', want '%s'", kind,
		  detail, buf, want);
}

static void test_names(void)
{
	CHECK(strcmp(exitprof_kind_name(KEEL_EXIT_MSR_WRITE), "wrmsr") == 0);
	CHECK(strcmp(exitprof_kind_name(KEEL_EXIT_NPF), "mmio") == 0);
	CHECK(strcmp(exitprof_kind_name(999), "unknown") == 0);
	check_target(KEEL_EXIT_MSR_WRITE, 0x6e0, true, "0x6e0 TSC_DEADLINE");
	check_target(KEEL_EXIT_MSR_READ, 0x80b, false, "0x80b x2APIC");
	check_target(KEEL_EXIT_MSR_READ, 0x1234, true, "0x1234");
	check_target(KEEL_EXIT_HYPERCALL, 6, false, "0x6 DOMAIN_LIST");
	check_target(KEEL_EXIT_HYPERCALL, 0, false, "0 VERSION");
	check_target(KEEL_EXIT_HYPERCALL, 500, false, "0x1f4");
	check_target(KEEL_EXIT_IO_IN, 0x3fd, true, "0x3fd uart");
	check_target(KEEL_EXIT_IO_IN, 0x3fd, false, "0x3fd");
	check_target(KEEL_EXIT_IO_OUT, 0xc040, true, "0xc040 pci-bar");
	check_target(KEEL_EXIT_NPF, 0xfee00, true, "0xfee00 lapic");
	check_target(KEEL_EXIT_NPF, 0xfee00, false, "0xfee00");
	check_target(KEEL_EXIT_NPF, 0xfebf0, true, "0xfebf0 pci-bar");
	check_target(KEEL_EXIT_HLT, 0, true, "-");
	check_target(KEEL_EXIT_OTHER, 0x1c, true, "code 0x1c");
	check_target(200, 0x7, true, "0x7");      /* a kind from a newer hypervisor */
	check_target(200, 0, true, "-");
}

int main(void)
{
	test_get();
	test_diff_and_sort();
	test_names();
	return harness_done("test_toolstack_exitprof");
}
