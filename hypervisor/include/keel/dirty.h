/*
 * A guest's dirty page log (common/dirty.c), for a live save and live
 * migration: which 4 KiB pages of its RAM were written since dom0 last
 * looked, caught by write-protecting them in the nested page table.
 */
#ifndef KEEL_DIRTY_H
#define KEEL_DIRTY_H

#include <stdint.h>
#include <stdbool.h>

struct domain;
struct vcpu;

/*
 * Turn the log of running guest d on: every page is write-protected and
 * no mark is set. d->lock held. 0; -EBUSY if d is not running, shares
 * memory with a clone, has chunks out through its balloon, the log is
 * already on or a vCPU would not leave guest mode; -ENOMEM.
 */
int dirty_start(struct domain *d);

/* Turn the log of d off and map its RAM whole and writable again (a no-op
 * if it is off). d->lock held, or d's vCPUs stopped. */
void dirty_stop(struct domain *d);

/* Whether the log of d is on (clone and balloon changes refuse then). */
bool dirty_on(const struct domain *d);

/* Mark pages [gpa, gpa + len) of d as written, if its log is on: the
 * hypervisor wrote (or is about to write, under d->lock) there for it. */
void dirty_mark(struct domain *d, uint64_t gpa, uint64_t len);

/*
 * A nested page fault of v at gpa, inside its RAM. With the log on the
 * page is marked and mapped writable; with it off, a fault on a page that
 * is writable by now (a stale translation) is let go. Returns 0 when
 * handled (v's translations flushed), 1 when it is not the log's (a clone's
 * shared page, a chunk the balloon gave back), or -errno.
 */
int dirty_fault(struct vcpu *v, uint64_t gpa);

/*
 * Copy the marks of pages first..first+nr-1 of d into out (nr / 8 bytes,
 * bit k % 8 of byte k / 8 for page first + k) and clear them, after
 * write-protecting those pages again and flushing every vCPU's
 * translations. first and nr multiples of 64. d->lock held. *count gets
 * how many were set. 0; -ENODEV (log off), -EINVAL (range), -EBUSY (a vCPU
 * would not leave guest mode), -ENOMEM.
 */
int dirty_read(struct domain *d, uint64_t first, uint32_t nr, uint8_t *out, uint32_t *count);

/* Pages of RAM the log of d covers (its RAM, from guest-physical 0). */
uint64_t dirty_ram_pages(const struct domain *d);

#endif
