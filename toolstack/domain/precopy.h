/*
 * When a live save (and, later, a live migration) stops copying a running
 * guest's RAM in rounds and pauses it for the last copy: the pre-copy
 * policy of Xen's and QEMU's live migration, as pure functions, unit-tested
 * on the host.
 */
#ifndef KEEL_TOOLSTACK_PRECOPY_H
#define KEEL_TOOLSTACK_PRECOPY_H

#include <stdbool.h>
#include <stdint.h>

#define PRECOPY_MAX_ROUNDS 30u          /* rounds after the first full copy */
#define PRECOPY_FEW_PAGES 256u          /* 1 MiB: a pause this short is fine */
#define PRECOPY_STALL_ROUNDS 5u         /* rounds before a stall ends it */

/* The copy so far: one entry per round, the pages found dirty at its start. */
struct precopy {
	uint32_t rounds;                    /* rounds done after the full copy */
	uint64_t dirty[PRECOPY_MAX_ROUNDS + 1];
	uint64_t sent_pages;                /* pages copied in all rounds */
};

/*
 * Whether to pause the guest now and copy what is left, given that
 * @dirty pages were written since the last round: when they are few
 * (PRECOPY_FEW_PAGES or fewer), after PRECOPY_MAX_ROUNDS rounds, or when
 * after PRECOPY_STALL_ROUNDS rounds a round found no fewer than the one
 * before (the guest writes as fast as the copy goes). Records @dirty in
 * @p either way.
 */
bool precopy_should_stop(struct precopy *p, uint64_t dirty);

#endif
