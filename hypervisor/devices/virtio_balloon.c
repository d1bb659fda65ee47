/*
 * Legacy virtio-balloon device model (virtio 1.x, 5.5): the configuration
 * (num_pages, actual), the inflate and deflate queues whose buffers are
 * arrays of 32-bit page frame numbers, and save/load of its state. See
 * keel/virtio_balloon.h. Pure code.
 */
#include <keel/virtio_balloon.h>
#include <keel/compiler.h>
#include <keel/errno.h>
#include <keel/le.h>
#include <keel/string.h>

#define BUDGET_CHAINS 64u /* per queue per call; a kick brings the rest */
#define PFN_BYTES 4u

/* Transport callback: the configuration (5.5.4), little-endian, byte by
 * byte so that a read crossing its end is what its one-byte reads give
 * (the bytes inside, 0 past it). */
static uint32_t balloon_cfg_read(void *dev, uint32_t offset, uint32_t size)
{
	struct virtio_balloon *b = dev;
	uint8_t cfg[VIRTIO_BALLOON_CONFIG_BYTES];
	uint32_t v = 0, i;

	if (offset >= VIRTIO_BALLOON_CONFIG_BYTES)
		return 0;
	le_put(cfg + VIRTIO_BALLOON_CFG_NUM_PAGES, b->num_pages, 4);
	le_put(cfg + VIRTIO_BALLOON_CFG_ACTUAL, b->actual, 4);
	for (i = 0; i < size && i < 4 && offset + i < VIRTIO_BALLOON_CONFIG_BYTES; i++)
		v |= (uint32_t)cfg[offset + i] << (8 * i);
	return v;
}

/* Transport callback: only actual is the driver's to write (5.5.6);
 * a partial write merges into it. */
static void balloon_cfg_write(void *dev, uint32_t offset, uint32_t size, uint32_t value)
{
	struct virtio_balloon *b = dev;
	uint8_t cfg[4];
	uint32_t i;

	for (i = 0; i < size; i++) {
		uint32_t at = offset + i;

		if (at < VIRTIO_BALLOON_CFG_ACTUAL || at >= VIRTIO_BALLOON_CONFIG_BYTES)
			continue;
		le_put(cfg, b->actual, 4);
		cfg[at - VIRTIO_BALLOON_CFG_ACTUAL] = (uint8_t)(value >> (8 * i));
		b->actual = (uint32_t)le_get(cfg, 4);
	}
}

/* Transport callback for a queue notify: record the kick only. */
static void balloon_notify(void *dev, uint16_t queue)
{
	struct virtio_balloon *b = dev;

	if (queue < VIRTIO_BALLOON_QUEUES)
		b->pending |= 1u << queue;
}

/* Transport callback for status 0: forget kicks, the broken state and
 * the driver's report (its balloon is empty after a reset). */
static void balloon_reset(void *dev)
{
	struct virtio_balloon *b = dev;

	b->pending = 0;
	b->broken = false;
	b->actual = 0;
}

static const struct virtio_pci_dev_ops balloon_ops = {
	.cfg_read = balloon_cfg_read,
	.cfg_write = balloon_cfg_write,
	.notify = balloon_notify,
	.reset = balloon_reset,
};

/* Power-on state; see virtio_balloon.h. */
void virtio_balloon_init(struct virtio_balloon *b, uint16_t io_bar, uint32_t mem_bar)
{
	memset(b, 0, sizeof(*b));
	virtio_pci_init(&b->vp, VIRTIO_PCI_DEVICE_BALLOON, VIRTIO_PCI_SUBSYS_BALLOON,
			VIRTIO_PCI_CLASS_BALLOON, 0, VIRTIO_BALLOON_QUEUES, io_bar, mem_bar,
			&balloon_ops, b);
	b->vp.queue_size_max = VIRTIO_BALLOON_QUEUE_SIZE;
}

/* New target and a configuration interrupt; see virtio_balloon.h. */
void virtio_balloon_set_target(struct virtio_balloon *b, uint32_t num_pages,
			       struct msi_msg out[VIRTIO_BALLOON_MAX_MSGS], uint32_t *n_out)
{
	*n_out = 0;
	b->num_pages = num_pages;
	if (virtio_pci_raise(&b->vp, VIRTIO_PCI_CONFIG_IRQ, &out[0]))
		*n_out = 1;
}

/* Whether the driver is up; see virtio_balloon.h. */
bool virtio_balloon_driver_ok(const struct virtio_balloon *b)
{
	return virtio_pci_rings_usable(&b->vp);
}

static void balloon_break(struct virtio_balloon *b, struct msi_msg *out, uint32_t *n_out)
{
	b->broken = true;
	b->pending = 0;
	b->stats.broken++;
	if (virtio_pci_raise(&b->vp, VIRTIO_PCI_CONFIG_IRQ, &out[*n_out]))
		(*n_out)++;
}

/* Hand each PFN of the chain in b->chain to page(). -EIO for a readable
 * part that is not whole PFNs or cannot be read. */
static int balloon_serve(struct virtio_balloon *b, const struct guest_mem_ops *mem,
			 bool inflate, virtio_balloon_page_fn page, void *ctx)
{
	uint8_t raw[VIRTIO_BALLOON_PFNS_PER_CALL * PFN_BYTES];
	uint32_t off = 0, total = b->chain.read_bytes, i;

	if (total % PFN_BYTES)
		return -EIO;
	while (off < total) {
		uint32_t n = MIN(total - off, (uint32_t)sizeof(raw));

		if (virtq_chain_read(&b->chain, mem, off, raw, n) != (int32_t)n)
			return -EIO;
		for (i = 0; i < n; i += PFN_BYTES) {
			if (page(ctx, (uint32_t)le_get(raw + i, 4), inflate))
				b->stats.bad_pfns++;
			else if (inflate)
				b->stats.inflated++;
			else
				b->stats.deflated++;
		}
		off += n;
	}
	return 0;
}

/* Serve queue qi; 0, or -EIO if it is malformed. *served counts chains. */
static int balloon_queue(struct virtio_balloon *b, const struct guest_mem_ops *mem, uint32_t qi,
			 virtio_balloon_page_fn page, void *ctx, uint32_t *served)
{
	struct virtq *q = &b->vp.vq[qi];
	uint32_t chains;
	int got;

	for (chains = 0; chains < BUDGET_CHAINS; chains++) {
		got = virtq_pop(q, mem, &b->chain);
		if (got == 0) {
			b->pending &= ~(1u << qi);
			return 0;
		}
		if (got > 0)
			got = balloon_serve(b, mem, qi == VIRTIO_BALLOON_Q_INFLATE, page, ctx);
		if (b->chain.head != VIRTQ_NO_HEAD)
			virtq_push(q, mem, b->chain.head, 0);
		(*served)++;
		if (got < 0)
			return -EIO;
	}
	return 0; /* budget spent: still pending, the caller comes back */
}

/* Serve both queues; see virtio_balloon.h. */
int virtio_balloon_process(struct virtio_balloon *b, const struct guest_mem_ops *mem,
			   virtio_balloon_page_fn page, void *ctx,
			   struct msi_msg out[VIRTIO_BALLOON_MAX_MSGS], uint32_t *n_out)
{
	uint32_t qi;

	*n_out = 0;
	if (b->broken)
		return -EIO;
	if (!b->pending || !virtio_pci_rings_usable(&b->vp))
		return 0;
	for (qi = 0; qi < VIRTIO_BALLOON_QUEUES; qi++) {
		uint32_t served = 0;
		int rc;

		if (!(b->pending & (1u << qi)))
			continue;
		rc = balloon_queue(b, mem, qi, page, ctx, &served);
		if (served && virtq_should_notify(&b->vp.vq[qi], mem) &&
		    virtio_pci_raise(&b->vp, (uint16_t)qi, &out[*n_out]))
			(*n_out)++;
		if (rc < 0) {
			balloon_break(b, out, n_out);
			return -EIO;
		}
	}
	return 0;
}

/* Save b; see virtio_balloon.h. */
void virtio_balloon_save(const struct virtio_balloon *b, struct keel_state_balloon *st)
{
	memset(st, 0, sizeof(*st));
	virtio_pci_save(&b->vp, &st->vp);
	st->num_pages = b->num_pages;
	st->actual = b->actual;
	st->pending = b->pending;
	st->broken = b->broken;
}

/* Load b; see virtio_balloon.h. */
int virtio_balloon_load(struct virtio_balloon *b, const struct keel_state_balloon *st)
{
	if (st->pending >> VIRTIO_BALLOON_QUEUES || st->broken > 1 ||
	    virtio_pci_load(&b->vp, &st->vp))
		return -EINVAL;
	b->num_pages = st->num_pages;
	b->actual = st->actual;
	b->pending = st->pending;
	b->broken = st->broken;
	return 0;
}
