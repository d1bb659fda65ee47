/*
 * The exit profile (keel/exit_profile.h): a per-domain table of exit
 * counts and handling times keyed by kind and detail. All vCPUs of a
 * domain add to it concurrently without a lock: a key claims a free slot
 * by compare-and-swap, counts are atomic adds, and readers see each
 * counter whole (aligned 64-bit loads), though a slot's count and cycles
 * may be one exit apart. Keys without a detail have fixed slots (one per
 * kind), the rest are hashed into the shared slots; an exit whose key
 * finds no room there is counted in the fixed slot of
 * KEEL_EXIT_OTHER_FULL, so that the sum of all counts is the number of
 * exits.
 */
#include <stdbool.h>
#include <keel/exit_profile.h>

#define HASHED_SLOTS (EXIT_PROFILE_SLOTS - EXIT_PROFILE_FIXED)

_Static_assert(KEEL_EXIT_OTHER_FULL < EXIT_PROFILE_FIXED, "every kind has a fixed slot");

static uint64_t key_of(uint32_t kind, uint32_t detail)
{
	return (((uint64_t)kind << 32) | detail) + 1;
}

/* A cheap mix of the key's bits (the MurmurHash3 finaliser's first
 * steps), so that neighbouring ports and MSRs spread out. */
static uint32_t hash_of(uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (uint32_t)(key % HASHED_SLOTS);
}

/* The shared slot for key: its own, a free one claimed now, or 0 when
 * all are taken. */
static struct exit_profile_slot *slot_of(struct exit_profile *p, uint64_t key)
{
	uint32_t i, n;

	for (n = 0, i = hash_of(key); n < HASHED_SLOTS; n++, i = (i + 1) % HASHED_SLOTS) {
		struct exit_profile_slot *s = &p->slot[EXIT_PROFILE_FIXED + i];
		uint64_t cur = __atomic_load_n(&s->key, __ATOMIC_RELAXED);

		if (cur == key)
			return s;
		if (cur == 0) {
			uint64_t expect = 0;

			if (__atomic_compare_exchange_n(&s->key, &expect, key, false,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED) ||
			    expect == key)
				return s;
		}
	}
	return 0;
}

/* cycles at tsc_khz in ns, without overflowing for a year of cycles. */
static uint64_t cycles_to_ns(uint64_t cycles, uint64_t tsc_khz)
{
	return cycles / tsc_khz * 1000000ull + cycles % tsc_khz * 1000000ull / tsc_khz;
}

/* Count one exit; see exit_profile.h. */
void exit_profile_add(struct exit_profile *p, uint32_t kind, uint32_t detail,
		      uint64_t cycles)
{
	struct exit_profile_slot *s;

	if (detail == 0 && kind < EXIT_PROFILE_FIXED)
		s = &p->slot[kind];
	else
		s = slot_of(p, key_of(kind, detail));
	if (!s) {
		kind = KEEL_EXIT_OTHER_FULL;
		s = &p->slot[kind];
	}
	if (!__atomic_load_n(&s->key, __ATOMIC_RELAXED))
		__atomic_store_n(&s->key, key_of(kind, 0), __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->count, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->cycles, cycles, __ATOMIC_RELAXED);
}

/* Copy the used slots out; see exit_profile.h. */
uint32_t exit_profile_read(const struct exit_profile *p, struct keel_exitstat *out,
			   uint32_t max, uint64_t tsc_khz, uint64_t *total_count)
{
	uint32_t i, n = 0;
	uint64_t total = 0;

	for (i = 0; i < EXIT_PROFILE_SLOTS; i++) {
		const struct exit_profile_slot *s = &p->slot[i];
		uint64_t key = __atomic_load_n(&s->key, __ATOMIC_RELAXED);
		uint64_t count = __atomic_load_n(&s->count, __ATOMIC_RELAXED);

		if (!key || !count)
			continue;
		total += count;
		if (n == max)
			continue;
		out[n].kind = (uint32_t)((key - 1) >> 32);
		out[n].detail = (uint32_t)(key - 1);
		out[n].count = count;
		out[n].time_ns = cycles_to_ns(__atomic_load_n(&s->cycles, __ATOMIC_RELAXED),
					      tsc_khz);
		n++;
	}
	if (total_count)
		*total_count = total;
	return n;
}
