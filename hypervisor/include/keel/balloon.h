/*
 * A guest's memory balloon (common/balloon.c): the virtio-balloon device
 * every guest has, and what its pages mean for the guest's RAM. The guest
 * gives 4 KiB pages back; a 2 MiB chunk whose every page is in the balloon
 * is unmapped from the nested page table and returned to the pool once no
 * vCPU can still hold a translation of it. A page the guest takes back,
 * or touches, in a returned chunk brings the chunk back (zeroed), from the
 * spares set aside when `keel mem-set` grew the guest or else from the
 * pool. See KEEL_HC_DOMAIN_BALLOON in public/keel_abi.h.
 */
#ifndef KEEL_BALLOON_H
#define KEEL_BALLOON_H

#include <stdint.h>
#include <keel/virtio_balloon.h>
#include <public/keel_abi.h>

#define BALLOON_IO_BASE 0xC400u      /* I/O BAR0, after the NICs' */
#define BALLOON_MEM_BASE 0xFE030000u /* memory BAR1 (MSI-X) */
#define BALLOON_PCI_DEV 10u          /* after the NICs (6-9) */

struct domain;
struct vcpu;

struct balloon {
	struct virtio_balloon dev;
	uint64_t *in_balloon;   /* bit per 4 KiB page of RAM: the guest gave it */
	uint64_t *spare;        /* zeroed chunks set aside for growth (host PA) */
	uint32_t nr_spare;
	uint32_t released;      /* chunks returned to the pool */
	uint64_t max_bytes;     /* keel mem-max */
	uint64_t self_pages;    /* this block, bitmap and spare list */
};

/* Give d (being created, its RAM allocated) its balloon device. 0 or
 * -ENOMEM / vpci_add's error. */
int balloon_attach(struct domain *d);

/* Clone dst of paused src, whose RAM it shares (cow_share): the pages
 * src's balloon holds are held in dst's too, and the chunks src returned
 * to the pool are dst's returned chunks. */
void balloon_clone(struct domain *dst, const struct domain *src);

/* Free d's balloon and its spare chunks (d's vCPUs are stopped). */
void balloon_detach(struct domain *d);

/* KEEL_HC_DOMAIN_BALLOON on guest domid (b: in and out). Called on a CPU
 * that runs no vCPU of domid (dom0's). 0 or -errno as the ABI says. */
int balloon_ctl(uint32_t domid, struct keel_domain_balloon *b);

/*
 * v met a nested page fault at gpa inside its RAM. If gpa's chunk is in
 * the pool, bring it back (a spare, or a fresh one) and map it; if it is
 * mapped already, flush v's stale translation. 0 to retry the access, or
 * -ENOMEM if no memory is left for it (the caller ends the guest).
 */
int balloon_fault(struct vcpu *v, uint64_t gpa);

/* Whether gpa lies in a chunk of d's RAM that was returned to the pool
 * (it reads as zeros; a restore gives it back). */
bool balloon_released(const struct domain *d, uint64_t gpa);

/* d's balloon device state (save), and loading it (restore: 0 or -EINVAL). */
void balloon_save(const struct domain *d, struct keel_state_balloon *st);
int balloon_load(struct domain *d, const struct keel_state_balloon *st);

#endif /* KEEL_BALLOON_H */
