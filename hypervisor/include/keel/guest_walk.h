/*
 * Software walk of a guest's own page tables, to turn a guest linear
 * address (typically CS.base + RIP of an instruction that faulted on
 * MMIO) into a guest-physical address and to fetch instruction bytes from
 * there. All four x86 paging setups are handled: paging off, 32-bit
 * (4 KiB and PSE 4 MiB pages, PSE-36), PAE (4 KiB and 2 MiB) and long mode
 * with 4 levels (4 KiB, 2 MiB, 1 GiB; 5 levels if CR4.LA57 is set).
 * Guest memory is read through a caller callback, so the code is pure.
 * Only presence is checked: the walk serves code the guest has just
 * executed, so permissions and reserved bits were already enforced.
 */
#ifndef KEEL_GUEST_WALK_H
#define KEEL_GUEST_WALK_H

#include <stdint.h>

/* The guest's paging controls, as saved in its VMCB / VMCS. */
struct guest_paging {
	uint64_t cr0, cr3, cr4, efer;
};

/* Reads len bytes of guest-physical memory at gpa into buf.
 * Returns 0, or -EFAULT if any of it cannot be read. */
typedef int (*gpa_read_fn)(void *ctx, uint64_t gpa, void *buf, uint32_t len);

/*
 * Translates the guest linear address gva through the guest's page
 * tables described by p, reading table entries with rd(ctx, ...).
 * Outside long mode gva is taken modulo 2^32. With CR0.PG=0 the result
 * is gva itself. Returns 0 and stores the guest-physical address in
 * *gpa, or -EFAULT if gva is not canonical (long mode), an entry on the
 * way is not present, or rd fails.
 */
int guest_walk(const struct guest_paging *p, uint64_t gva, gpa_read_fn rd,
	       void *ctx, uint64_t *gpa);

/*
 * Fetches up to want bytes of guest code starting at the linear address
 * linear_rip into buf, translating each 4 KiB page separately (so an
 * instruction may straddle two pages). Returns -EFAULT if not even the
 * first byte can be read. Otherwise returns 0 with *got = bytes stored,
 * which is less than want if a later page is unmapped or unreadable.
 */
int guest_fetch(const struct guest_paging *p, uint64_t linear_rip, uint8_t *buf,
		uint32_t want, gpa_read_fn rd, void *ctx, uint32_t *got);

#endif /* KEEL_GUEST_WALK_H */
