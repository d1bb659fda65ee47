/*
 * Unit tests for hypervisor/common/exit_profile.c: counts and handling
 * times come back per kind and detail, converted to ns; a table with no
 * room left counts the rest under KEEL_EXIT_OTHER_FULL so that the total
 * stays exact, and kinds without a detail (HLT) keep their own slot even
 * then; four threads adding at once (as a domain's vCPUs on
 * different CPUs do) lose no exit and make no duplicate keys.
 */
#include "../../hypervisor/common/exit_profile.c"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define TSC_KHZ 2000000ull /* 2 GHz: 2 cycles per ns */

static struct exit_profile prof;
static struct keel_exitstat out[EXIT_PROFILE_SLOTS];

static const struct keel_exitstat *find(uint32_t n, uint32_t kind, uint32_t detail)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (out[i].kind == kind && out[i].detail == detail)
			return &out[i];
	return NULL;
}

static void test_counts_and_times(void)
{
	const struct keel_exitstat *e;
	uint64_t total = 0;
	uint32_t n;

	memset(&prof, 0, sizeof(prof));
	exit_profile_add(&prof, KEEL_EXIT_MSR_WRITE, 0x6e0, 2000);
	exit_profile_add(&prof, KEEL_EXIT_MSR_WRITE, 0x6e0, 4000);
	exit_profile_add(&prof, KEEL_EXIT_MSR_READ, 0x6e0, 10);
	exit_profile_add(&prof, KEEL_EXIT_HLT, 0, 200);
	n = exit_profile_read(&prof, out, EXIT_PROFILE_SLOTS, TSC_KHZ, &total);
	CHECK_EQ_U64(n, 3);
	CHECK_EQ_U64(total, 4);
	e = find(n, KEEL_EXIT_MSR_WRITE, 0x6e0);
	CHECK(e && e->count == 2 && e->time_ns == 3000);
	e = find(n, KEEL_EXIT_MSR_READ, 0x6e0);
	CHECK(e && e->count == 1 && e->time_ns == 5);
	e = find(n, KEEL_EXIT_HLT, 0);
	CHECK(e && e->count == 1 && e->time_ns == 100);
}

/* A year of cycles at 3 GHz converts without overflowing. */
static void test_large_times(void)
{
	uint64_t cycles = 3000000000ull * 3600 * 24 * 365, total;

	memset(&prof, 0, sizeof(prof));
	exit_profile_add(&prof, KEEL_EXIT_INTR, 0, cycles);
	CHECK_EQ_U64(exit_profile_read(&prof, out, 1, 3000000, &total), 1);
	CHECK_EQ_U64(out[0].time_ns, 1000000000ull * 3600 * 24 * 365);
}

/* More keys than slots: nothing is lost, the rest is OTHER_FULL; a short
 * output buffer still reports the whole total. */
static void test_full_table(void)
{
	const struct keel_exitstat *e;
	uint64_t total;
	uint32_t i, n;

	memset(&prof, 0, sizeof(prof));
	for (i = 1; i <= 200; i++)
		exit_profile_add(&prof, KEEL_EXIT_IO_OUT, i, 1);
	exit_profile_add(&prof, KEEL_EXIT_IO_OUT, 5, 1); /* an old key still counts */
	exit_profile_add(&prof, KEEL_EXIT_HLT, 0, 1);    /* a fixed one too */
	exit_profile_add(&prof, KEEL_EXIT_IO_OUT, 0, 1); /* port 0 has no detail */
	n = exit_profile_read(&prof, out, EXIT_PROFILE_SLOTS, TSC_KHZ, &total);
	CHECK_EQ_U64(n, EXIT_PROFILE_SLOTS - EXIT_PROFILE_FIXED + 3);
	CHECK_EQ_U64(total, 203);
	e = find(n, KEEL_EXIT_OTHER_FULL, 0);
	CHECK(e && e->count == 200 - (EXIT_PROFILE_SLOTS - EXIT_PROFILE_FIXED));
	e = find(n, KEEL_EXIT_IO_OUT, 5);
	CHECK(e && e->count == 2);
	e = find(n, KEEL_EXIT_HLT, 0);
	CHECK(e && e->count == 1);
	e = find(n, KEEL_EXIT_IO_OUT, 0);
	CHECK(e && e->count == 1);
	CHECK_EQ_U64(exit_profile_read(&prof, out, 3, TSC_KHZ, &total), 3);
	CHECK_EQ_U64(total, 203);
}

#define THREADS 4
#define PER_THREAD 20000

static void *adder(void *arg)
{
	uint32_t i, t = (uint32_t)(uintptr_t)arg;

	for (i = 0; i < PER_THREAD; i++)
		exit_profile_add(&prof, KEEL_EXIT_IO_IN, (i + t) % 40, 3);
	return NULL;
}

static void test_concurrent_adds(void)
{
	pthread_t th[THREADS];
	uint64_t total, sum = 0;
	uint32_t i, j, n;

	memset(&prof, 0, sizeof(prof));
	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, adder, (void *)(uintptr_t)i);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	n = exit_profile_read(&prof, out, EXIT_PROFILE_SLOTS, TSC_KHZ, &total);
	CHECK_EQ_U64(total, THREADS * PER_THREAD);
	CHECK_EQ_U64(n, 40);
	for (i = 0; i < n; i++) {
		sum += out[i].count;
		CHECK_EQ_U64(out[i].time_ns, out[i].count * 3 / 2);
		for (j = i + 1; j < n; j++)
			CHECK(out[i].detail != out[j].detail);
	}
	CHECK_EQ_U64(sum, THREADS * PER_THREAD);
}

int main(void)
{
	test_counts_and_times();
	test_large_times();
	test_full_table();
	test_concurrent_adds();
	return harness_done("test_exit_profile");
}
