/*
 * The exit profile as the toolstack shows it (`keel exits`, `keel top`'s
 * exit view): fetch a domain's table (KEEL_HC_DOMAIN_EXITS), take the
 * difference of two samples, sort it, and name each kind and target the
 * way a person reads them ("wrmsr 0x6e0 TSC_DEADLINE", "mmio 0xfee00
 * lapic", "in 0x3fd uart"). Only exitprof_get() makes a hypercall; the
 * rest is pure and unit-tested on the host.
 */
#ifndef KEEL_TOOLSTACK_EXITPROF_H
#define KEEL_TOOLSTACK_EXITPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"

#define EXITPROF_MAX 128u /* entries one sample holds */

/* One sample of one domain's exit profile. */
struct exitprof {
	uint32_t domid;
	uint32_t count;          /* entries in e[] */
	uint64_t total;          /* all exits, as the hypervisor counted them */
	uint64_t now_ns;         /* the hypervisor's clock at the sample */
	struct keel_exitstat e[EXITPROF_MAX];
};

/* Fetch domain @domid's exit profile into @p. Returns 0 or the
 * hypercall's error (-KEEL_ENOENT: no such domain). */
int exitprof_get(uint32_t domid, struct exitprof *p);

/* @cur minus @prev, entry by entry (keys missing from @prev count from 0),
 * into @out; entries that did not change are left out. @out may be @cur. */
void exitprof_diff(const struct exitprof *prev, const struct exitprof *cur,
		   struct exitprof *out);

/* Sort @p's entries by count, most first (then by handling time, kind,
 * detail, so that the order is stable). */
void exitprof_sort(struct exitprof *p);

/* Sum of the handling times of @p's entries, in ns. */
uint64_t exitprof_time_ns(const struct exitprof *p);

/* Short name of kind @kind ("hlt", "wrmsr", "mmio", ...). */
const char *exitprof_kind_name(uint32_t kind);

/*
 * What exit @e touched, into @buf (@len bytes): the port, MSR, page or
 * call number in hex with a name where Keel knows one ("0x6e0
 * TSC_DEADLINE"; for guests, @guest, the virtual PC's devices: "0x3fd
 * uart", "0xfee00 lapic"), or "-" for kinds without a target.
 */
void exitprof_target(const struct keel_exitstat *e, bool guest, char *buf, size_t len);

#endif /* KEEL_TOOLSTACK_EXITPROF_H */
