/*
 * The pre-copy policy of a live save (precopy.h): copy the rounds' dirty
 * pages while their number falls, stop when few are left, when it stops
 * falling, or after a bound on the rounds.
 */
#include "precopy.h"

/* See precopy.h. */
bool precopy_should_stop(struct precopy *p, uint64_t dirty)
{
	uint32_t r = p->rounds;

	if (r <= PRECOPY_MAX_ROUNDS)
		p->dirty[r] = dirty;
	if (dirty <= PRECOPY_FEW_PAGES || r >= PRECOPY_MAX_ROUNDS)
		return true;
	if (r >= PRECOPY_STALL_ROUNDS && dirty >= p->dirty[r - 1])
		return true;
	p->rounds = r + 1;
	return false;
}
