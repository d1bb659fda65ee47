/*
 * Unit tests for hypervisor/common/sched_pick.c: round-robin fairness over
 * runnable slots, skipping blocked ones, no pick when nothing can run, the
 * cursor surviving a shrinking slot list (a vCPU detached), and a long
 * random run in which every always-runnable slot gets an equal share.
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

int main(void)
{
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
