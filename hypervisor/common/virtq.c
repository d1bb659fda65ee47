/*
 * Device side of legacy virtio split virtqueues (virtio 1.x, 2.6 "Split
 * Virtqueues", 2.6.2 "Legacy Interfaces: A Note on Virtqueue Layout").
 * Guest memory is touched only through guest_mem_ops.map on small
 * windows that never cross a VIRTQ_CHUNK_BYTES boundary; ring fields are
 * read once into locals with single aligned loads and checked before
 * use; descriptor walks are bounded by the table size (no loops) and
 * chains by VIRTQ_MAX_SEGS and VIRTQ_MAX_CHAIN_BYTES. Buffers are split
 * at chunk boundaries into segments that each map in one piece.
 * Barriers: x86 keeps loads ordered with loads and stores with stores,
 * so a compiler barrier suffices where the spec asks for a read or write
 * barrier; the store-then-load orderings of notification suppression
 * (2.6.7.2, 2.6.10) need a full fence even on x86.
 */
#include <keel/virtq.h>
#include <keel/compiler.h>
#include <keel/errno.h>
#include <keel/string.h>

#include <stddef.h>

/* Offsets inside the rings (2.6.6, 2.6.8). */
#define AVAIL_FLAGS 0u
#define AVAIL_IDX 2u
#define AVAIL_RING 4u
#define USED_FLAGS 0u
#define USED_IDX 2u
#define USED_RING 4u
#define USED_ELEM_BYTES 8u

/* Descriptor fields (2.6.5). */
#define DESC_ADDR 0u
#define DESC_LEN 8u
#define DESC_FLAGS 12u
#define DESC_NEXT 14u

/* Full fence for the store-then-load orderings. */
#define vq_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

/* A descriptor copied out of guest memory. */
struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Where descriptors are being read from: the ring's table or an
 * indirect one. */
struct vq_table {
	uint64_t gpa;
	uint32_t entries;
	bool indirect;
};

static bool vq_is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Map an aligned field of len (2 or 4) bytes; NULL if outside RAM or the
 * host pointer is misaligned. */
static void *vq_map_field(const struct guest_mem_ops *mem, uint64_t gpa,
			  uint32_t len)
{
	void *p = mem->map(mem->ctx, gpa, len);

	if (!p || ((uintptr_t)p & (len - 1)))
		return NULL;
	return p;
}

static int vq_load16(const struct guest_mem_ops *mem, uint64_t gpa,
		     uint16_t *out)
{
	volatile uint16_t *p = vq_map_field(mem, gpa, 2);

	if (!p)
		return -EINVAL;
	*out = *p;
	return 0;
}

static int vq_store16(const struct guest_mem_ops *mem, uint64_t gpa,
		      uint16_t v)
{
	volatile uint16_t *p = vq_map_field(mem, gpa, 2);

	if (!p)
		return -EINVAL;
	*p = v;
	return 0;
}

static int vq_store32(const struct guest_mem_ops *mem, uint64_t gpa,
		      uint32_t v)
{
	volatile uint32_t *p = vq_map_field(mem, gpa, 4);

	if (!p)
		return -EINVAL;
	*p = v;
	return 0;
}

/* Bytes from gpa to the end of its chunk. */
static uint64_t vq_chunk_left(uint64_t gpa)
{
	return VIRTQ_CHUNK_BYTES - (gpa & (VIRTQ_CHUNK_BYTES - 1));
}

/* Copy len (small) bytes from guest memory at gpa, which may cross a
 * chunk boundary, reading each byte once. */
static int vq_copy_in(const struct guest_mem_ops *mem, uint64_t gpa,
		      uint8_t *dst, uint32_t len)
{
	while (len) {
		uint32_t n = (uint32_t)MIN((uint64_t)len, vq_chunk_left(gpa));
		const volatile uint8_t *p;

		if (gpa + n < gpa)
			return -EINVAL;
		p = mem->map(mem->ctx, gpa, n);
		if (!p)
			return -EINVAL;
		for (uint32_t i = 0; i < n; i++)
			dst[i] = p[i];
		dst += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

static uint64_t vq_le(const uint8_t *b, uint32_t n)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* Read descriptor idx (< t->entries) of table t. */
static int vq_read_desc(const struct guest_mem_ops *mem,
			const struct vq_table *t, uint32_t idx,
			struct vq_desc *d)
{
	uint8_t raw[VIRTQ_DESC_BYTES];

	if (vq_copy_in(mem, t->gpa + (uint64_t)idx * VIRTQ_DESC_BYTES, raw,
		       sizeof(raw)))
		return -EINVAL;
	d->addr = vq_le(raw + DESC_ADDR, 8);
	d->len = (uint32_t)vq_le(raw + DESC_LEN, 4);
	d->flags = (uint16_t)vq_le(raw + DESC_FLAGS, 2);
	d->next = (uint16_t)vq_le(raw + DESC_NEXT, 2);
	return 0;
}

/* Reset q's ring state, keeping the transport's vector and features. */
static void vq_clear(struct virtq *q)
{
	q->size = 0;
	q->desc_gpa = q->avail_gpa = q->used_gpa = 0;
	q->last_avail = q->used_idx = 0;
	q->signalled_used = 0;
	q->signalled_valid = false;
}

/* Legacy layout (2.6.2): avail right after the table, used at the next
 * VIRTQ_LEGACY_ALIGN boundary after avail's flags, idx, ring and
 * used_event. */
void virtq_setup_legacy(struct virtq *q, uint16_t size, uint32_t pfn)
{
	uint64_t avail_end;

	vq_clear(q);
	if (!pfn || !vq_is_pow2(size) || size > VIRTQ_SIZE_MAX)
		return;
	q->size = size;
	q->desc_gpa = (uint64_t)pfn * VIRTQ_LEGACY_ALIGN;
	q->avail_gpa = q->desc_gpa + (uint64_t)size * VIRTQ_DESC_BYTES;
	avail_end = q->avail_gpa + AVAIL_RING + 2ull * size + 2;
	q->used_gpa = ALIGN_UP(avail_end, VIRTQ_LEGACY_ALIGN);
}

/* Append [gpa, gpa + len) to c, split at chunk boundaries, each piece
 * checked to lie in guest RAM. */
static int vq_add_buffer(struct virtq_chain *c,
			 const struct guest_mem_ops *mem, uint64_t gpa,
			 uint32_t len, bool write)
{
	if (gpa + len < gpa)
		return -EINVAL;
	while (len) {
		uint32_t n = (uint32_t)MIN((uint64_t)len, vq_chunk_left(gpa));
		struct virtq_seg *s;

		if (c->nsegs >= VIRTQ_MAX_SEGS || !mem->map(mem->ctx, gpa, n))
			return -EINVAL;
		s = &c->segs[c->nsegs++];
		s->gpa = gpa;
		s->len = n;
		s->write = write;
		gpa += n;
		len -= n;
	}
	return 0;
}

/* Account for and append one data descriptor. Readable ones must all
 * precede writable ones (2.6.4.2), zero-length ones included; *seen_write
 * records that a writable one was met. */
static int vq_add_desc(struct virtq_chain *c, const struct guest_mem_ops *mem,
		       const struct vq_desc *d, bool *seen_write)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	uint64_t total = (uint64_t)c->read_bytes + c->write_bytes + d->len;

	if (!write && *seen_write)
		return -EINVAL;
	if (total > VIRTQ_MAX_CHAIN_BYTES)
		return -EINVAL;
	*seen_write |= write;
	if (write)
		c->write_bytes += d->len;
	else
		c->read_bytes += d->len;
	return vq_add_buffer(c, mem, d->addr, d->len, write);
}

/* Switch the walk to the indirect table d describes (2.6.5.3). Only
 * allowed from the ring's own table and without F_NEXT. */
static int vq_enter_indirect(struct vq_table *t, const struct vq_desc *d)
{
	if (t->indirect || (d->flags & VIRTQ_DESC_F_NEXT))
		return -EINVAL;
	if (!d->len || d->len % VIRTQ_DESC_BYTES ||
	    d->len / VIRTQ_DESC_BYTES > VIRTQ_MAX_INDIRECT)
		return -EINVAL;
	t->gpa = d->addr;
	t->entries = d->len / VIRTQ_DESC_BYTES;
	t->indirect = true;
	return 0;
}

/* Walk the chain starting at head into c. Each table is walked at most
 * its number of entries steps, so a loop ends in -EINVAL. */
static int vq_gather(const struct virtq *q, const struct guest_mem_ops *mem,
		     uint16_t head, struct virtq_chain *c)
{
	struct vq_table t = { q->desc_gpa, q->size, false };
	uint32_t idx = head, steps = 0;
	bool seen_write = false;
	struct vq_desc d;

	for (;;) {
		if (idx >= t.entries || ++steps > t.entries)
			return -EINVAL;
		if (vq_read_desc(mem, &t, idx, &d))
			return -EINVAL;
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (vq_enter_indirect(&t, &d))
				return -EINVAL;
			idx = 0;
			steps = 0;
			continue;
		}
		if (vq_add_desc(c, mem, &d, &seen_write))
			return -EINVAL;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		idx = d.next;
	}
}

/* avail_event lives after the used ring (2.6.8). */
static uint64_t vq_avail_event_gpa(const struct virtq *q)
{
	return q->used_gpa + USED_RING + (uint64_t)USED_ELEM_BYTES * q->size;
}

/* used_event lives after the available ring (2.6.6). */
static uint64_t vq_used_event_gpa(const struct virtq *q)
{
	return q->avail_gpa + AVAIL_RING + 2ull * q->size;
}

/* Number of chains the guest has made available, or -EINVAL if its index
 * runs more than size ahead of ours. With event_idx an empty ring
 * publishes avail_event and looks again (2.6.10: the guest may have
 * added a buffer without kicking in between). */
static int vq_pending(struct virtq *q, const struct guest_mem_ops *mem)
{
	uint16_t avail_idx, n;

	if (vq_load16(mem, q->avail_gpa + AVAIL_IDX, &avail_idx))
		return -EINVAL;
	n = (uint16_t)(avail_idx - q->last_avail);
	if (!n && q->event_idx) {
		if (vq_store16(mem, vq_avail_event_gpa(q), q->last_avail))
			return -EINVAL;
		vq_mb(); /* store avail_event before re-reading avail->idx */
		if (vq_load16(mem, q->avail_gpa + AVAIL_IDX, &avail_idx))
			return -EINVAL;
		n = (uint16_t)(avail_idx - q->last_avail);
	}
	if (n > q->size)
		return -EINVAL;
	return n;
}

static void vq_chain_init(struct virtq_chain *c)
{
	c->head = VIRTQ_NO_HEAD;
	c->nsegs = 0;
	c->read_bytes = c->write_bytes = 0;
}

/* Take the next chain (see virtq.h for the contract). */
int virtq_pop(struct virtq *q, const struct guest_mem_ops *mem,
	      struct virtq_chain *c)
{
	uint16_t slot, head;
	int n;

	vq_chain_init(c);
	if (!q->size)
		return 0;
	n = vq_pending(q, mem);
	if (n <= 0)
		return n;
	/* Read barrier: the ring entry after avail->idx (2.6.13.3). */
	barrier();
	slot = q->last_avail & (uint16_t)(q->size - 1);
	if (vq_load16(mem, q->avail_gpa + AVAIL_RING + 2ull * slot, &head))
		return -EINVAL;
	q->last_avail++;
	if (head >= q->size)
		return -EINVAL;
	c->head = head;
	if (vq_gather(q, mem, head, c)) {
		c->nsegs = 0;
		c->read_bytes = c->write_bytes = 0;
		return -EINVAL;
	}
	return 1;
}

/* Fill the next used element and publish used->idx (2.6.8.2). */
int virtq_push(struct virtq *q, const struct guest_mem_ops *mem,
	       uint16_t head, uint32_t written)
{
	uint16_t slot;
	uint64_t elem;

	if (!q->size || head >= q->size)
		return -EINVAL;
	slot = q->used_idx & (uint16_t)(q->size - 1);
	elem = q->used_gpa + USED_RING + (uint64_t)USED_ELEM_BYTES * slot;
	if (vq_store32(mem, elem, head) || vq_store32(mem, elem + 4, written))
		return -EINVAL;
	/* Write barrier: the element must be visible before the index the
	 * guest polls (2.6.8.2); x86 does not reorder stores. */
	barrier();
	if (vq_store16(mem, q->used_gpa + USED_IDX, (uint16_t)(q->used_idx + 1)))
		return -EINVAL;
	q->used_idx++;
	return 0;
}

/* vring_need_event of 2.6.10: whether event_idx lies in (old, new]. */
static bool vq_need_event(uint16_t event_idx, uint16_t new_idx,
			  uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) <
	       (uint16_t)(new_idx - old_idx);
}

/* Interrupt suppression (2.6.7.2, 2.6.10). */
bool virtq_should_notify(struct virtq *q, const struct guest_mem_ops *mem)
{
	uint16_t v, old;
	bool valid;

	if (!q->size)
		return false;
	/* Full fence: used->idx stored before the guest's flags/used_event
	 * are loaded (the guest does the mirror image). */
	vq_mb();
	if (!q->event_idx) {
		if (vq_load16(mem, q->avail_gpa + AVAIL_FLAGS, &v))
			return true;
		return !(v & VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	old = q->signalled_used;
	valid = q->signalled_valid;
	q->signalled_used = q->used_idx;
	q->signalled_valid = true;
	if (!valid || vq_load16(mem, vq_used_event_gpa(q), &v))
		return true;
	return vq_need_event(v, q->used_idx, old);
}

/* Copy len bytes between the chain's segments of one direction and a
 * host buffer: from src into the writable segments if src is set, else
 * from the readable segments into dst. */
static int32_t vq_chain_copy(const struct virtq_chain *c,
			     const struct guest_mem_ops *mem, uint32_t offset,
			     uint8_t *dst, const uint8_t *src, uint32_t len)
{
	bool to_guest = src != NULL;
	uint32_t done = 0;

	if (len > INT32_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < c->nsegs && done < len; i++) {
		const struct virtq_seg *s = &c->segs[i];
		uint32_t n;
		uint8_t *p;

		if (s->write != to_guest)
			continue;
		if (offset >= s->len) {
			offset -= s->len;
			continue;
		}
		n = MIN(s->len - offset, len - done);
		p = mem->map(mem->ctx, s->gpa + offset, n);
		if (!p)
			return -EINVAL;
		if (to_guest)
			memcpy(p, src + done, n);
		else
			memcpy(dst + done, p, n);
		done += n;
		offset = 0;
	}
	return (int32_t)done;
}

/* Read from the device-readable part of c. */
int32_t virtq_chain_read(const struct virtq_chain *c,
			 const struct guest_mem_ops *mem, uint32_t offset,
			 void *dst, uint32_t len)
{
	return vq_chain_copy(c, mem, offset, dst, NULL, len);
}

/* Write into the device-writable part of c. */
int32_t virtq_chain_write(const struct virtq_chain *c,
			  const struct guest_mem_ops *mem, uint32_t offset,
			  const void *src, uint32_t len)
{
	return vq_chain_copy(c, mem, offset, NULL, src, len);
}
