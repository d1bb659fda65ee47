/*
 * The scheduler's choice, kept apart from the CPU loop so that it is
 * tested on the host: round-robin over a CPU's vCPU slots, starting after
 * the one picked last, taking the first that can run.
 */
#include <keel/sched.h>

/* Pick round-robin; see sched.h. */
int sched_pick_rr(uint32_t n, uint32_t *rr, bool (*ready)(uint32_t slot, void *ctx),
		  void *ctx)
{
	uint32_t k;

	if (n && *rr >= n)
		*rr %= n;
	for (k = 0; k < n; k++) {
		uint32_t slot = (*rr + k) % n;

		if (ready(slot, ctx)) {
			*rr = slot + 1;
			return (int)slot;
		}
	}
	return -1;
}
