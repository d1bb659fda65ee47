/*
 * Device side of a virtio split virtqueue in the legacy layout (virtio
 * 1.x, 2.6 "Split Virtqueues" and 2.6.2 "Legacy Interfaces: A Note on
 * Virtqueue Layout"): the descriptor table at the queue's PFN * 4096, the
 * available ring right after it and the used ring at the next
 * 4096-aligned address. All guest memory is reached through a
 * guest_mem_ops callback, one small naturally aligned window at a time,
 * and everything the guest wrote is copied once and validated before
 * use, so no ring or chain contents can make this code touch memory
 * outside guest RAM, run without bound or trust a value twice. Pure code:
 * the caller owns struct virtq and serialises calls on one queue.
 */
#ifndef KEEL_VIRTQ_H
#define KEEL_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

/* Descriptor flags (virtio 1.x, 2.6.5). */
#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u

/* Ring flags (2.6.7, 2.6.8): driver asks for no interrupt / device asks
 * for no kick. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u

/* Feature bits of the ring itself (6 "Reserved Feature Bits"). */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29

#define VIRTQ_LEGACY_ALIGN 4096u   /* legacy used-ring alignment, PFN unit */
#define VIRTQ_SIZE_MAX 32768u      /* largest queue size (2.6) */
#define VIRTQ_DESC_BYTES 16u       /* struct virtq_desc */
#define VIRTQ_NO_HEAD 0xFFFFu      /* virtq_chain.head when none was taken */
#define VIRTQ_NO_VECTOR 0xFFFFu    /* MSI-X vector "none" */

/*
 * Limits on one chain. A chain of n descriptors, each shorter than
 * 2 MiB, needs at most 2n segments (one split per chunk boundary), so a
 * device model should keep what it advertises (e.g. virtio-blk seg_max +
 * 2 descriptors) at or below VIRTQ_MAX_SEGS / 2.
 */
#define VIRTQ_MAX_SEGS 128u                /* segments after splitting */
#define VIRTQ_MAX_CHAIN_BYTES (8u << 20)   /* read + write bytes */
#define VIRTQ_MAX_INDIRECT 1024u           /* entries in one indirect table */

/*
 * Guests' RAM is mapped in chunks of VIRTQ_CHUNK_BYTES that are
 * contiguous on the host only within a chunk. Buffers are split at these
 * boundaries, so map() is never asked for a range crossing one.
 */
#define VIRTQ_CHUNK_BYTES (2u << 20)

/*
 * Access to guest-physical memory. map returns a host pointer for
 * [gpa, gpa + len) if that range lies wholly inside guest RAM and inside
 * one VIRTQ_CHUNK_BYTES-aligned chunk, and NULL otherwise (including a
 * gpa + len that wraps). The pointer is valid until the caller's next
 * return to the guest. ctx is passed back unchanged.
 */
struct guest_mem_ops {
	void *(*map)(void *ctx, uint64_t gpa, uint32_t len);
	void *ctx;
};

/* One queue's device-side state. Fields are private to virtq.c except
 * msix_vector and event_idx, which the transport (virtio_pci.c) sets
 * from the guest's vector write and feature write. */
struct virtq {
	uint16_t size;        /* queue size (power of two), 0 = not set up */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail;  /* next avail index to consume */
	uint16_t used_idx;    /* shadow of used->idx */
	uint16_t msix_vector; /* VIRTQ_NO_VECTOR = none */
	bool event_idx;       /* VIRTIO_RING_F_EVENT_IDX negotiated */
	uint16_t signalled_used; /* used_idx at the last notification */
	bool signalled_valid;    /* signalled_used is meaningful */
};

/* One guest buffer piece, wholly inside one chunk of guest RAM. */
struct virtq_seg {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

/* A gathered and validated descriptor chain: device-readable segments
 * first, then device-writable ones. */
struct virtq_chain {
	uint16_t head; /* id to hand back to virtq_push */
	uint16_t nsegs;
	struct virtq_seg segs[VIRTQ_MAX_SEGS];
	uint32_t read_bytes, write_bytes;
};

/*
 * Set q up for a legacy queue of size entries (a power of two, at most
 * VIRTQ_SIZE_MAX) whose descriptor table starts at pfn * 4096, as the
 * guest's write of the queue PFN register does (virtio 1.x, 4.1.4.8).
 * pfn 0, size 0 or a size that is not a power of two resets the ring
 * state (size 0 = not set up). msix_vector and event_idx are kept.
 */
void virtq_setup_legacy(struct virtq *q, uint16_t size, uint32_t pfn);

/*
 * Take the next available chain into *c. Returns 1 if one was taken, 0
 * if the ring is empty (or q is not set up) and -EINVAL if the guest's
 * ring or chain is malformed: the available index more than size ahead,
 * an unmappable ring, a head or next index >= the table size, a chain
 * longer than its table (a loop), a buffer not wholly in guest RAM, a
 * device-readable descriptor after a device-writable one, an indirect
 * descriptor inside an indirect table or with F_NEXT, an indirect table
 * whose length is 0, not a multiple of 16 or above VIRTQ_MAX_INDIRECT
 * entries, more than VIRTQ_MAX_SEGS segments or more than
 * VIRTQ_MAX_CHAIN_BYTES in total. Zero-length descriptors are accepted
 * and contribute no segment. On -EINVAL c->head is the consumed head if
 * one was read and lies below size (the caller may push it back with 0
 * bytes), else VIRTQ_NO_HEAD; the caller should stop using the queue
 * (mark the device broken) either way. With event_idx, an empty ring
 * also publishes avail_event so the guest kicks on its next buffer.
 */
int virtq_pop(struct virtq *q, const struct guest_mem_ops *mem,
	      struct virtq_chain *c);

/*
 * Return chain head to the guest with written bytes in its writable
 * buffers: fill the next used element, then publish used->idx after a
 * write barrier (2.6.8.2). Returns 0, or -EINVAL if q is not set up,
 * head >= size or the used ring is not in guest RAM.
 */
int virtq_push(struct virtq *q, const struct guest_mem_ops *mem,
	       uint16_t head, uint32_t written);

/*
 * Whether the guest wants an interrupt for what was pushed since the last
 * call: without event_idx unless the available ring's
 * VIRTQ_AVAIL_F_NO_INTERRUPT flag is set, with event_idx if used_event
 * was crossed (2.6.7.2, 2.6.10). Returns true when in doubt (ring not
 * mappable), false if q is not set up.
 */
bool virtq_should_notify(struct virtq *q, const struct guest_mem_ops *mem);

/*
 * Copy up to len bytes of the chain's device-readable data, starting
 * offset bytes into it, to dst. Returns the number of bytes copied
 * (less than len when the readable part ends first) or -EINVAL if len
 * exceeds INT32_MAX or a segment no longer maps.
 */
int32_t virtq_chain_read(const struct virtq_chain *c,
			 const struct guest_mem_ops *mem, uint32_t offset,
			 void *dst, uint32_t len);

/*
 * Copy up to len bytes from src into the chain's device-writable
 * buffers, starting offset bytes into them. Returns the number of bytes
 * copied or -EINVAL, as virtq_chain_read.
 */
int32_t virtq_chain_write(const struct virtq_chain *c,
			  const struct guest_mem_ops *mem, uint32_t offset,
			  const void *src, uint32_t len);

#endif /* KEEL_VIRTQ_H */
