/*
 * A guest's TSC against the host's (keel/tsc_offset.h): the conversions
 * of the emulated IA32_TSC_DEADLINE and the choice of a loaded guest's
 * TSC offset. Pure functions, unit-tested on the host.
 */
#include <keel/errno.h>
#include <keel/tsc_offset.h>

/* Host TSC value as the guest's; see tsc_offset.h. */
uint64_t tsc_host_to_guest(uint64_t off, uint64_t host)
{
	return host ? host + off : 0;
}

/* Guest TSC deadline as the host's; see tsc_offset.h. */
uint64_t tsc_guest_to_host(uint64_t off, uint64_t guest, uint64_t host_now)
{
	if (guest == 0)
		return 0;
	if ((int64_t)(guest - (host_now + off)) <= 0)
		return host_now;
	return guest - off;
}

/* A loaded guest's offset from its TSC record; see tsc_offset.h. */
int tsc_offset_load(const struct keel_state_tsc *t, uint64_t boot_id, uint64_t host_now,
		    uint64_t khz, uint64_t *off)
{
	uint64_t diff;

	if (t->boot_id == boot_id) {
		if ((int64_t)(t->tsc - (host_now + t->tsc_offset)) > 0)
			return -EINVAL;
		*off = t->tsc_offset;
		return 0;
	}
	if (t->tsc_khz == 0)
		return -EXDEV;
	diff = t->tsc_khz > khz ? t->tsc_khz - khz : khz - t->tsc_khz;
	if (diff * 1000 > t->tsc_khz * TSC_RATE_SLACK_PER_MILLE)
		return -ERANGE;
	*off = t->tsc - host_now;
	return 0;
}
