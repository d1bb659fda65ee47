/*
 * Copy-on-write sharing of guest RAM between a domain and its clones
 * (common/cow.c): 2 MiB chunks mapped read-only in every domain that
 * shares them, counted by the pool; a domain's first write to a page of
 * one copies that 4 KiB page, and past COW_PROMOTE_PAGES copies (or when
 * it is the last sharer) the chunk becomes its own.
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

/* Whether chunk c of d is mapped read-only because it is shared (also
 * when d has copied some of its pages). */
bool cow_chunk_shared(const struct domain *d, uint32_t c);

/* How many 4 KiB pages of chunk c d has copied: 0 unless the chunk is
 * shared and its 2 MiB entry split. A balloon leaves such a chunk be. */
uint32_t cow_chunk_copied(const struct domain *d, uint32_t c);

/*
 * Give d a writable 2 MiB chunk c of its own before it or the hypervisor
 * writes across it: a copy if another domain still maps it, else the same
 * chunk made writable, with the pages d copied folded in and freed.
 * d->lock held. Returns 0 (also when c was not shared), -ENOMEM (the pool
 * has no chunk for the copy: nothing changed) or -EBUSY (a vCPU of d did
 * not leave guest mode to flush; what was copied is kept out of the pool).
 */
int cow_break(struct domain *d, uint32_t c);

/*
 * Give d a writable page of its own at gpa (any address in the page)
 * before it or the hypervisor writes it: a 4 KiB copy if the chunk is
 * shared, or the whole chunk (cow_break) when d is its last sharer or has
 * copied COW_PROMOTE_PAGES of it already. d->lock held. Returns 0 (also
 * when the page is not shared), -ENOMEM (no page for the copy), -EFAULT
 * (not mapped) or -EBUSY (as cow_break).
 */
int cow_break_page(struct domain *d, uint64_t gpa);

/*
 * A nested page fault of v at gpa, inside its domain's RAM: if the chunk
 * is shared, copy the page (cow_break_page) and flush v's stale entry.
 * Returns 1 if the chunk is not shared (another cause), 0 to retry the
 * access, or -errno (the caller ends the domain; logged here).
 */
int cow_fault(struct vcpu *v, uint64_t gpa);

/* Free the pages d copied out of chunk c, as d goes (no vCPU of it runs;
 * its nested page table still maps them). The chunk itself is the
 * caller's to put. d->lock held or d dying. */
void cow_drop_copies(struct domain *d, uint32_t c);

/* Chunk c leaves d (its balloon unmapped it to return it): it no longer
 * counts as shared there. d->lock held. */
void cow_forget(struct domain *d, uint32_t c);

/* Map chunk pa at index c of d again after a cow_forget (d still holds
 * its reference): read-only if another domain maps it too, else
 * writable. d->lock held. 0 or -ENOMEM. */
int cow_remap(struct domain *d, uint32_t c, uint64_t pa);

#endif
