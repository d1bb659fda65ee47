/*
 * The CPU features a guest was given when it first booted
 * (common/cpuid_seen.c): taken once from the guest CPUID policy of the
 * machine it booted on, carried in its saved state (KEEL_STATE_CPUID),
 * laid over every CPUID answer it gets afterwards, and compared with a
 * new machine's before it may run there.
 */
#ifndef KEEL_CPUID_SEEN_H
#define KEEL_CPUID_SEEN_H

#include <stdint.h>
#include <keel/cpuid_policy.h>
#include <public/keel_abi.h>

/* What the guest would be told for leaf/subleaf on this machine. */
typedef void (*cpuid_seen_source)(uint32_t leaf, uint32_t subleaf, struct cpuid_out *o);

void cpuid_seen_take(uint32_t words[KEEL_CPUID_WORDS], cpuid_seen_source src);
void cpuid_seen_apply(const uint32_t words[KEEL_CPUID_WORDS], uint32_t leaf,
		      uint32_t subleaf, struct cpuid_out *o);
int32_t cpuid_seen_missing(const uint32_t have[KEEL_CPUID_WORDS],
			   const uint32_t want[KEEL_CPUID_WORDS]);

#endif /* KEEL_CPUID_SEEN_H */
