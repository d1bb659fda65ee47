/*
 * A guest's TSC against the host's: the guest's is the host's plus its
 * vCPUs' tsc_offset (mod 2^64), which the backends give to the CPU (AMD
 * APM vol. 2 15.30.4, Intel SDM 25.3). These pure functions convert the
 * values the hypervisor emulates (IA32_TSC_DEADLINE, whose vLAPIC counts
 * in the host's TSC) and choose the offset of a loaded guest from its TSC
 * record (struct keel_state_tsc), so that its TSC never runs backwards.
 */
#ifndef KEEL_TSC_OFFSET_H
#define KEEL_TSC_OFFSET_H

#include <keel/compiler.h>
#include <public/keel_abi.h>

/* How far a loading host's TSC rate may be from the guest's, in parts per
 * thousand: without TSC scaling the guest's clock would run that much
 * fast or slow. */
#define TSC_RATE_SLACK_PER_MILLE 1u

/* Host TSC value @host as the guest sees it; 0 (disarmed) stays 0. */
uint64_t tsc_host_to_guest(uint64_t off, uint64_t host);

/*
 * Guest TSC value @guest (a deadline the guest wrote) as the host's; 0
 * stays 0, and a deadline at or before the guest's now (@host_now + @off)
 * becomes @host_now, so that the offset cannot wrap it into the far
 * future.
 */
uint64_t tsc_guest_to_host(uint64_t off, uint64_t guest, uint64_t host_now);

/*
 * The offset of a guest loaded from TSC record @t by the hypervisor booted
 * as @boot_id, whose TSC reads @host_now and runs at @khz, into *@off:
 * in the same boot the saved offset (the guest's TSC counted the time it
 * was saved); in another boot or on another machine, the one that makes
 * the guest's TSC go on from t->tsc now. Returns 0, -EINVAL for a TSC
 * from this boot's future, -EXDEV for a record without a rate (before ABI
 * 1.17) from another boot, -ERANGE when the rates differ by more than
 * TSC_RATE_SLACK_PER_MILLE.
 */
int tsc_offset_load(const struct keel_state_tsc *t, uint64_t boot_id, uint64_t host_now,
		    uint64_t khz, uint64_t *off);

#endif
