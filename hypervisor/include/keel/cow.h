/*
 * Copy-on-write sharing of guest RAM between a domain and its clones
 * (common/cow.c): 2 MiB chunks mapped read-only in every domain that
 * shares them, counted by the pool, and copied for a domain on its first
 * write.
 */
#ifndef KEEL_COW_H
#define KEEL_COW_H

#include <stdint.h>
#include <stdbool.h>

struct domain;
struct vcpu;

/*
 * Map every chunk of src's RAM into dst (same size, not started, holding
 * no RAM yet) read-only, and make src's read-only too; both copy on their
 * first write. src must be paused. Chunks src's balloon returned stay in
 * the pool for both. Returns 0, -EINVAL (sizes differ), -ENOMEM (page
 * tables), -ENOSPC (a chunk has too many sharers) or -EBUSY; on failure
 * the chunks dst got are its own to free (mm_chunk_put), and src's stay
 * read-only until it writes them, which is harmless.
 */
int cow_share(struct domain *dst, struct domain *src);

/* Whether chunk c of d is mapped read-only because it is shared. */
bool cow_chunk_shared(const struct domain *d, uint32_t c);

/*
 * Give d a writable chunk c of its own before it or the hypervisor writes
 * it: a copy if another domain still maps it, else the same chunk made
 * writable. d->lock held. Returns 0 (also when c was not shared),
 * -ENOMEM (the pool has no chunk for the copy) or -EBUSY (a vCPU of d
 * did not leave guest mode to flush; the copy is in place regardless).
 */
int cow_break(struct domain *d, uint32_t c);

/*
 * A nested page fault of v at gpa, inside its domain's RAM: if the chunk
 * is shared, break the sharing (cow_break) and flush v's stale entry.
 * Returns 1 if the chunk is not shared (another cause), 0 to retry the
 * access, or -errno (the caller ends the domain; logged here).
 */
int cow_fault(struct vcpu *v, uint64_t gpa);

/* Chunk c leaves d (its balloon unmapped it to return it): it no longer
 * counts as shared there. d->lock held. */
void cow_forget(struct domain *d, uint32_t c);

/* Map chunk pa at index c of d again after a cow_forget (d still holds
 * its reference): read-only if another domain maps it too, else
 * writable. d->lock held. 0 or -ENOMEM. */
int cow_remap(struct domain *d, uint32_t c, uint64_t pa);

#endif
