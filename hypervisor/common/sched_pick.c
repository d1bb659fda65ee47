/*
 * The scheduler's choices, kept apart from the CPU loop so that they are
 * tested on the host: the fair pick among a CPU's vCPUs by virtual time
 * (each vCPU's run time divided by its domain's weight, as in a
 * proportional-share or stride scheduler; ties go round-robin), and the
 * budget of a capped domain per accounting period (xl's credit scheduler
 * meanings: weight 1-65535, default 256; cap in percent of one CPU).
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

/* Virtual time for busy ticks at weight; see sched.h. */
uint64_t sched_vtime_charge(uint64_t busy, uint32_t weight)
{
	if (weight == 0)
		weight = SCHED_WEIGHT_DEFAULT;
	return busy * SCHED_WEIGHT_DEFAULT / weight;
}

/* Pick the ready slot with the least virtual time; see sched.h. */
int sched_pick_fair(uint32_t n, uint32_t *rr, const struct sched_pick_ops *ops,
		    void *ctx, uint64_t *floor, uint64_t lag)
{
	uint64_t best_vt = 0, *vt;
	int best = -1;
	uint32_t k, slot;

	if (n && *rr >= n)
		*rr %= n;
	for (k = 0; k < n; k++) {
		slot = (*rr + k) % n;
		if (!ops->ready(slot, ctx))
			continue;
		vt = ops->vtime(slot, ctx);
		if (*vt + lag < *floor)
			*vt = *floor - lag; /* a sleeper's credit: one slice at most */
		if (best < 0 || *vt < best_vt) {
			best = (int)slot;
			best_vt = *vt;
		}
	}
	if (best >= 0) {
		*rr = (uint32_t)best + 1;
		if (best_vt > *floor)
			*floor = best_vt;
	}
	return best;
}

/* Move c to the period holding now, carrying an overrun of the last. */
static void cap_roll(struct sched_cap *c, uint32_t pct, uint64_t now, uint64_t period)
{
	uint64_t epoch = now / period, budget = period * pct / 100u;

	if (epoch == c->epoch)
		return;
	if (epoch == c->epoch + 1 && c->used > budget)
		c->used -= budget;
	else
		c->used = 0;
	c->epoch = epoch;
}

/* Ticks a capped domain may still run in this period; see sched.h. */
uint64_t sched_cap_left(struct sched_cap *c, uint32_t pct, uint64_t now, uint64_t period)
{
	uint64_t budget = period * pct / 100u;

	if (pct == 0 || period == 0)
		return UINT64_MAX;
	cap_roll(c, pct, now, period);
	return c->used >= budget ? 0 : budget - c->used;
}

/* Charge busy ticks that ended at now; see sched.h. */
void sched_cap_charge(struct sched_cap *c, uint32_t pct, uint64_t now, uint64_t period,
		      uint64_t busy)
{
	if (pct == 0 || period == 0)
		return;
	cap_roll(c, pct, now, period);
	c->used += busy;
}
