/*
 * Unit tests for hypervisor/common/sched_pick.c: round-robin fairness over
 * runnable slots, skipping blocked ones, no pick when nothing can run, the
 * cursor surviving a shrinking slot list (a vCPU detached), and a long
 * random run in which every always-runnable slot gets an equal share; the
 * fair pick by virtual time (shares follow the weights, a sleeper's credit
 * is bounded, equal weights alternate), and a cap's budget per period.
 */
#include "../../hypervisor/common/sched_pick.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

static bool runnable[8];

static bool ready(uint32_t slot, void *ctx)
{
	(void)ctx;
	return runnable[slot];
}

static uint64_t vt[8];

static uint64_t *vtime(uint32_t slot, void *ctx)
{
	(void)ctx;
	return &vt[slot];
}

static const struct sched_pick_ops fair_ops = { ready, vtime };

/* Run 3000 slices of slot-dependent lengths; each pick is charged its
 * slice at its weight. Returns the busy time of each slot in *busy. */
static void fair_run(const uint32_t *weight, uint32_t n, uint64_t *busy, uint32_t slices)
{
	uint64_t floor = 0;
	uint32_t rr = 0, i;

	for (i = 0; i < slices; i++) {
		int s = sched_pick_fair(n, &rr, &fair_ops, NULL, &floor, 10);
		uint64_t len = 10 - (i % 3); /* slices ended early sometimes */

		CHECK(s >= 0 && runnable[s]);
		if (s < 0)
			return;
		busy[s] += len;
		vt[s] += sched_vtime_charge(len, weight[s]);
	}
}

static void test_fair(void)
{
	uint32_t w[8] = { 512, 256, 256, 256, 256, 256, 256, 256 }, rr = 0;
	uint64_t busy[8], floor;

	/* weights 512 and 256 on one CPU: 2 to 1 */
	memset(runnable, 0, sizeof(runnable));
	memset(vt, 0, sizeof(vt));
	memset(busy, 0, sizeof(busy));
	runnable[0] = runnable[1] = true;
	fair_run(w, 2, busy, 3000);
	CHECK(busy[0] * 100 >= busy[1] * 195 && busy[0] * 100 <= busy[1] * 205);
	/* equal weights alternate exactly */
	memset(vt, 0, sizeof(vt));
	memset(busy, 0, sizeof(busy));
	runnable[0] = false;
	runnable[2] = runnable[3] = true;
	fair_run(w, 4, busy, 3000);
	CHECK(busy[1] == busy[2] && busy[2] == busy[3]);
	/* a sleeper wakes with at most one slice of credit */
	memset(vt, 0, sizeof(vt));
	vt[1] = 5000;
	vt[2] = 0; /* slept a long time */
	floor = 5000;
	runnable[3] = false;
	CHECK_EQ_INT(sched_pick_fair(3, &rr, &fair_ops, NULL, &floor, 10), 2);
	CHECK_EQ_U64(vt[2], 4990);
	vt[2] += 10;
	CHECK_EQ_INT(sched_pick_fair(3, &rr, &fair_ops, NULL, &floor, 10), 1); /* tie: after 2 */
	/* nothing ready: no pick, nothing moves */
	memset(runnable, 0, sizeof(runnable));
	CHECK_EQ_INT(sched_pick_fair(3, &rr, &fair_ops, NULL, &floor, 10), -1);
	CHECK_EQ_U64(floor, 5000);
	CHECK_EQ_U64(sched_vtime_charge(100, 0), 100); /* weight 0 is taken as 256 */
	CHECK_EQ_U64(sched_vtime_charge(100, 65535), 0);
}

static void test_cap(void)
{
	struct sched_cap c = { 0, 0 };

	CHECK_EQ_U64(sched_cap_left(&c, 0, 5, 1000), UINT64_MAX); /* no cap */
	CHECK_EQ_U64(sched_cap_left(&c, 50, 5, 1000), 500);
	sched_cap_charge(&c, 50, 300, 1000, 300);
	CHECK_EQ_U64(sched_cap_left(&c, 50, 400, 1000), 200);
	sched_cap_charge(&c, 50, 900, 1000, 350); /* overran by 150 */
	CHECK_EQ_U64(sched_cap_left(&c, 50, 950, 1000), 0);
	/* the next period starts with the overrun taken off */
	CHECK_EQ_U64(sched_cap_left(&c, 50, 1000, 1000), 350);
	/* a period skipped entirely: the debt is gone */
	sched_cap_charge(&c, 50, 1900, 1000, 700);
	CHECK_EQ_U64(sched_cap_left(&c, 50, 3100, 1000), 500);
	/* 200 %: two CPUs' worth per period */
	CHECK_EQ_U64(sched_cap_left(&c, 200, 3200, 1000), 2000);
}

int main(void)
{
	test_fair();
	test_cap();
	uint32_t rr = 0, counts[8];
	int i;

	memset(runnable, 0, sizeof(runnable));
	CHECK_EQ_INT(sched_pick_rr(0, &rr, ready, NULL), -1);
	CHECK_EQ_INT(sched_pick_rr(4, &rr, ready, NULL), -1);
	runnable[0] = runnable[2] = runnable[3] = true;
	CHECK_EQ_INT(sched_pick_rr(4, &rr, ready, NULL), 0);
	CHECK_EQ_INT(sched_pick_rr(4, &rr, ready, NULL), 2);
	CHECK_EQ_INT(sched_pick_rr(4, &rr, ready, NULL), 3);
	CHECK_EQ_INT(sched_pick_rr(4, &rr, ready, NULL), 0); /* wraps, skips 1 */
	runnable[1] = true;
	CHECK_EQ_INT(sched_pick_rr(4, &rr, ready, NULL), 1); /* woke up: its turn */
	/* the list shrank below the cursor (a vCPU was detached) */
	rr = 7;
	CHECK_EQ_INT(sched_pick_rr(2, &rr, ready, NULL), 1);
	CHECK_EQ_INT(sched_pick_rr(2, &rr, ready, NULL), 0);
	/* a single runnable vCPU keeps being picked */
	memset(runnable, 0, sizeof(runnable));
	runnable[5] = true;
	for (i = 0; i < 5; i++)
		CHECK_EQ_INT(sched_pick_rr(8, &rr, ready, NULL), 5);
	/* fairness: 6 always-runnable slots of 8 get equal shares */
	memset(runnable, 1, sizeof(runnable));
	runnable[1] = runnable[6] = false;
	memset(counts, 0, sizeof(counts));
	for (i = 0; i < 6000; i++) {
		int s = sched_pick_rr(8, &rr, ready, NULL);

		CHECK(s >= 0 && s < 8 && runnable[s]);
		if (s >= 0)
			counts[s]++;
	}
	for (i = 0; i < 8; i++)
		CHECK_EQ_U64(counts[i], runnable[i] ? 1000 : 0);
	return harness_done("sched");
}
