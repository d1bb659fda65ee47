/*
 * The exit profile: per domain, how many VM exits of each kind (and, for
 * ports, MSRs, MMIO pages and hypercalls, of each target) a domain's vCPUs
 * took, and how long the hypervisor spent handling them. Every vCPU of a
 * domain adds to one small open-addressed table without a lock (atomic
 * adds; a slot's key is claimed by compare-and-swap), so counting costs a
 * few instructions per exit. keel exits and keel top read it through
 * KEEL_HC_DOMAIN_EXITS (common/exit_profile.c).
 */
#ifndef KEEL_EXIT_PROFILE_H
#define KEEL_EXIT_PROFILE_H

#include <stdint.h>
#include <public/keel_abi.h>

#define EXIT_PROFILE_SLOTS 128
/* Slots [0, EXIT_PROFILE_FIXED) belong to the keys (kind, 0) of kinds
 * below it, so that HLT, interrupts and the like always have theirs; keys
 * with a detail share the rest. */
#define EXIT_PROFILE_FIXED 16

struct exit_profile_slot {
	uint64_t key;    /* (kind << 32 | detail) + 1; 0 = free */
	uint64_t count;
	uint64_t cycles; /* TSC cycles spent handling these exits */
};

struct exit_profile {
	struct exit_profile_slot slot[EXIT_PROFILE_SLOTS];
};

/* Count one exit of kind (KEEL_EXIT_*) and detail in p that took cycles
 * TSC cycles to handle. When every shared slot holds another key, the
 * exit is counted under KEEL_EXIT_OTHER_FULL instead, so totals stay
 * right. */
void exit_profile_add(struct exit_profile *p, uint32_t kind, uint32_t detail,
		      uint64_t cycles);

/* Copy up to max entries of p into out, in slot order, with handling
 * times converted to ns at tsc_khz (> 0); returns how many were copied.
 * *total_count gets the sum of all counts, entries left out included. */
uint32_t exit_profile_read(const struct exit_profile *p, struct keel_exitstat *out,
			   uint32_t max, uint64_t tsc_khz, uint64_t *total_count);

#endif
