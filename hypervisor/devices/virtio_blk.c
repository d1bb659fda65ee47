/*
 * virtio block device (virtio 1.x, 5.2 "Block Device") with its backing
 * store inside the hypervisor, on the legacy virtio-pci transport. It
 * offers SEG_MAX, SIZE_MAX, BLK_SIZE (512), FLUSH, RO for read-only
 * images, indirect descriptors and event indices, and serves T_IN, T_OUT,
 * T_FLUSH and T_GET_ID (5.2.6) from one queue. A request whose sizes do
 * not fit its type, whose sectors leave the disk or that writes a
 * read-only disk is answered IOERR, an unknown type UNSUPP; a chain the
 * ring code rejects, or one without a header or status byte, marks the
 * device broken until reset (2.1.2). Work per call is bounded in chains
 * and bytes, and all guest memory goes through virtq.c's checked maps.
 */
#include <keel/virtio_blk.h>
#include <keel/le.h>
#include <keel/errno.h>
#include <keel/string.h>

#define BLK_QUEUE 0u
#define BUDGET_CHAINS VIRTIO_BLK_QUEUE_SIZE
#define BUDGET_BYTES (16u << 20)
#define GEOM_HEADS 16u
#define GEOM_SECTORS 63u

/* A request header (5.2.6), decoded from little-endian. */
struct blk_hdr {
	uint32_t type;
	uint64_t sector;
};


/* Fill the device configuration (5.2.4, legacy little-endian layout). */
static void blk_fill_config(struct virtio_blk *b)
{
	uint64_t sectors = disk_image_sectors(b->img);
	uint64_t cyl = sectors / (GEOM_HEADS * GEOM_SECTORS);

	memset(b->config, 0, sizeof(b->config));
	le_put(b->config + VIRTIO_BLK_CFG_CAPACITY, sectors, 8);
	le_put(b->config + VIRTIO_BLK_CFG_SIZE_MAX, VIRTIO_BLK_SIZE_MAX, 4);
	le_put(b->config + VIRTIO_BLK_CFG_SEG_MAX, VIRTIO_BLK_SEG_MAX, 4);
	if (cyl > 0xFFFF)
		cyl = 0xFFFF;
	le_put(b->config + VIRTIO_BLK_CFG_CYLINDERS, cyl, 2);
	b->config[VIRTIO_BLK_CFG_HEADS] = GEOM_HEADS;
	b->config[VIRTIO_BLK_CFG_SECTORS] = GEOM_SECTORS;
	le_put(b->config + VIRTIO_BLK_CFG_BLK_SIZE, VIRTIO_BLK_SECTOR_BYTES, 4);
}

/* Transport callback: size bytes of the configuration at offset; 0 past
 * its end. */
static uint32_t blk_cfg_read(void *dev, uint32_t offset, uint32_t size)
{
	struct virtio_blk *b = dev;

	if (offset >= VIRTIO_BLK_CONFIG_BYTES ||
	    size > VIRTIO_BLK_CONFIG_BYTES - offset)
		return 0;
	return (uint32_t)le_get(b->config + offset, size);
}

/* Nothing in the configuration is writable (no CONFIG_WCE). */
static void blk_cfg_write(void *dev, uint32_t offset, uint32_t size,
			  uint32_t value)
{
	(void)dev;
	(void)offset;
	(void)size;
	(void)value;
}

/* Transport callback for a queue notify: only record the kick, the
 * caller runs virtio_blk_process next. */
static void blk_notify(void *dev, uint16_t queue)
{
	struct virtio_blk *b = dev;

	if (queue == BLK_QUEUE)
		b->pending = true;
}

/* Transport callback for status 0 (2.1.1): the transport has already
 * forgotten the queue; forget the kick and the broken state. */
static void blk_reset(void *dev)
{
	struct virtio_blk *b = dev;

	b->pending = false;
	b->broken = false;
}

static const struct virtio_pci_dev_ops blk_ops = {
	.cfg_read = blk_cfg_read,
	.cfg_write = blk_cfg_write,
	.notify = blk_notify,
	.reset = blk_reset,
};

/* Offered features (5.2.3, 6): no BARRIER/SCSI/WCE/DISCARD. */
static uint32_t blk_features(bool read_only)
{
	uint32_t f = (1u << VIRTIO_BLK_F_SIZE_MAX) |
		     (1u << VIRTIO_BLK_F_SEG_MAX) |
		     (1u << VIRTIO_BLK_F_BLK_SIZE) |
		     (1u << VIRTIO_BLK_F_FLUSH) |
		     (1u << VIRTIO_RING_F_INDIRECT_DESC) |
		     (1u << VIRTIO_RING_F_EVENT_IDX);

	if (read_only)
		f |= 1u << VIRTIO_BLK_F_RO;
	return f;
}

/* GET_ID answer: id if given, else "keel-<image name>" or "keel-ram",
 * truncated to 20 bytes and NUL padded (5.2.6). */
static void blk_set_id(struct virtio_blk *b, const char *id)
{
	static const char prefix[] = "keel-";
	const char *name = b->img->name[0] ? b->img->name : "ram";
	uint32_t n = 0, i;

	memset(b->id, 0, sizeof(b->id));
	if (!id) {
		memcpy(b->id, prefix, sizeof(prefix) - 1);
		n = sizeof(prefix) - 1;
		id = name;
	}
	for (i = 0; id[i] && n < VIRTIO_BLK_ID_BYTES; i++)
		b->id[n++] = id[i];
}

/*
 * Set b up as a virtio-blk PCI function (BAR0 at I/O port io_bar, MSI-X
 * BAR at mem_bar) serving img, read-only if the image is. b takes over
 * the caller's reference to img (dropped by virtio_blk_destroy). id is
 * the GET_ID serial (at most 20 bytes used) or NULL for "keel-<name>".
 * Returns 0, or -EBUSY if img is not completely uploaded (b unchanged,
 * the reference still the caller's).
 */
int virtio_blk_init(struct virtio_blk *b, struct disk_image *img,
		    const char *id, uint16_t io_bar, uint32_t mem_bar)
{
	if (!img->complete)
		return -EBUSY;
	memset(b, 0, sizeof(*b));
	b->img = img;
	b->read_only = img->read_only;
	blk_set_id(b, id);
	blk_fill_config(b);
	virtio_pci_init(&b->vp, VIRTIO_PCI_DEVICE_BLK, VIRTIO_PCI_SUBSYS_BLK,
			VIRTIO_PCI_CLASS_BLK, blk_features(b->read_only), 1,
			io_bar, mem_bar, &blk_ops, b);
	b->vp.queue_size_max = VIRTIO_BLK_QUEUE_SIZE;
	return 0;
}

/* Drop the device's image reference (freeing the image if it was the
 * last) and clear b. */
void virtio_blk_destroy(struct virtio_blk *b)
{
	if (b->img)
		disk_image_put(b->img);
	memset(b, 0, sizeof(*b));
}

/* Decode the 16-byte header at the start of the readable part. */
static bool blk_read_hdr(struct virtio_blk *b, const struct guest_mem_ops *mem,
			 struct blk_hdr *h)
{
	uint8_t raw[VIRTIO_BLK_HDR_BYTES];

	if (virtq_chain_read(&b->chain, mem, 0, raw, sizeof(raw)) !=
	    (int32_t)sizeof(raw))
		return false;
	h->type = (uint32_t)le_get(raw, 4);
	h->sector = le_get(raw + 8, 8);
	return true;
}

/* Whether [sector, sector + bytes / 512) lies on the disk. */
static bool blk_range_ok(const struct virtio_blk *b, uint64_t sector,
			 uint32_t bytes)
{
	uint64_t cap = disk_image_sectors(b->img);
	uint64_t n = bytes / VIRTIO_BLK_SECTOR_BYTES;

	return sector <= cap && n <= cap - sector;
}

/* Data of a request lies in whole sectors on the disk. */
static bool blk_data_ok(const struct virtio_blk *b, uint64_t sector,
			uint32_t bytes)
{
	return bytes % VIRTIO_BLK_SECTOR_BYTES == 0 &&
	       blk_range_ok(b, sector, bytes);
}

/* T_IN: copy len bytes at sector from the disk into the chain's
 * writable part. Returns the status. */
static uint8_t blk_do_read(struct virtio_blk *b,
			   const struct guest_mem_ops *mem, uint64_t sector,
			   uint32_t len)
{
	uint64_t off = sector * VIRTIO_BLK_SECTOR_BYTES;
	uint32_t done = 0;
	uint8_t *p = NULL;

	while (done < len) {
		uint32_t n = (uint32_t)disk_image_span(b->img, off + done,
						       len - done, &p);

		if (!n || virtq_chain_write(&b->chain, mem, done, p, n) !=
				  (int32_t)n)
			return VIRTIO_BLK_S_IOERR;
		done += n;
	}
	b->stats.reads++;
	b->stats.read_bytes += len;
	return VIRTIO_BLK_S_OK;
}

/* T_OUT: copy len bytes following the header into the disk at sector.
 * Returns the status. */
static uint8_t blk_do_write(struct virtio_blk *b,
			    const struct guest_mem_ops *mem, uint64_t sector,
			    uint32_t len)
{
	uint64_t off = sector * VIRTIO_BLK_SECTOR_BYTES;
	uint32_t done = 0;
	uint8_t *p = NULL;

	if (b->read_only || b->img->read_only)
		return VIRTIO_BLK_S_IOERR;
	while (done < len) {
		uint32_t n = (uint32_t)disk_image_span(b->img, off + done,
						       len - done, &p);

		if (!n || virtq_chain_read(&b->chain, mem,
					   VIRTIO_BLK_HDR_BYTES + done, p,
					   n) != (int32_t)n)
			return VIRTIO_BLK_S_IOERR;
		done += n;
	}
	b->stats.writes++;
	b->stats.write_bytes += len;
	return VIRTIO_BLK_S_OK;
}

/* T_GET_ID: up to 20 bytes of serial before the status byte. Sets
 * *written to the id bytes stored. */
static uint8_t blk_do_get_id(struct virtio_blk *b,
			     const struct guest_mem_ops *mem, uint32_t room,
			     uint32_t *written)
{
	uint32_t n = room < VIRTIO_BLK_ID_BYTES ? room : VIRTIO_BLK_ID_BYTES;

	if (b->chain.read_bytes != VIRTIO_BLK_HDR_BYTES || n == 0)
		return VIRTIO_BLK_S_IOERR;
	if (virtq_chain_write(&b->chain, mem, 0, b->id, n) != (int32_t)n)
		return VIRTIO_BLK_S_IOERR;
	*written = n;
	b->stats.get_ids++;
	return VIRTIO_BLK_S_OK;
}

/*
 * Execute the request in b->chain whose header is h. The status byte is
 * the chain's last writable byte, so data is everything between header
 * and status. Returns the status and sets *written to data bytes stored
 * in guest memory.
 */
static uint8_t blk_execute(struct virtio_blk *b,
			   const struct guest_mem_ops *mem,
			   const struct blk_hdr *h, uint32_t *written)
{
	const struct virtq_chain *c = &b->chain;
	uint32_t in_data = c->write_bytes - 1;
	uint32_t out_data = c->read_bytes - VIRTIO_BLK_HDR_BYTES;

	*written = 0;
	switch (h->type) {
	case VIRTIO_BLK_T_IN:
		if (out_data || !blk_data_ok(b, h->sector, in_data))
			return VIRTIO_BLK_S_IOERR;
		*written = in_data;
		return blk_do_read(b, mem, h->sector, in_data);
	case VIRTIO_BLK_T_OUT:
		if (in_data || !blk_data_ok(b, h->sector, out_data))
			return VIRTIO_BLK_S_IOERR;
		return blk_do_write(b, mem, h->sector, out_data);
	case VIRTIO_BLK_T_FLUSH:
		/* Writes land in memory at once: nothing to flush. */
		if (in_data || out_data)
			return VIRTIO_BLK_S_IOERR;
		b->stats.flushes++;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		return blk_do_get_id(b, mem, in_data, written);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* Stop serving the queue until the driver resets the device (2.1.2) and
 * tell it through the configuration-change interrupt. */
static void blk_break(struct virtio_blk *b, struct msi_msg *out,
		      uint32_t *n_out)
{
	b->broken = true;
	b->pending = false;
	b->stats.broken++;
	if (virtio_pci_raise(&b->vp, VIRTIO_PCI_CONFIG_IRQ, &out[*n_out]))
		(*n_out)++;
}

/*
 * Serve the chain just popped into b->chain. Returns 0, or -EIO if it
 * has no room for a header or status byte (the device breaks).
 */
static int blk_serve(struct virtio_blk *b, const struct guest_mem_ops *mem)
{
	struct virtq_chain *c = &b->chain;
	struct virtq *q = &b->vp.vq[BLK_QUEUE];
	uint32_t written = 0;
	struct blk_hdr h;
	uint8_t status;

	if (c->write_bytes == 0 || c->read_bytes < VIRTIO_BLK_HDR_BYTES ||
	    !blk_read_hdr(b, mem, &h)) {
		virtq_push(q, mem, c->head, 0);
		return -EIO;
	}
	status = blk_execute(b, mem, &h, &written);
	if (status == VIRTIO_BLK_S_IOERR)
		b->stats.errors++;
	else if (status == VIRTIO_BLK_S_UNSUPP)
		b->stats.unsupported++;
	if (status != VIRTIO_BLK_S_OK)
		written = 0;
	if (virtq_chain_write(c, mem, c->write_bytes - 1, &status, 1) != 1 ||
	    virtq_push(q, mem, c->head, written + 1))
		return -EIO;
	return 0;
}

/*
 * Serve the requests waiting after a kick (or left over from the last
 * call): at most the queue size chains and about 16 MiB of data per
 * call. Call it after every guest write to the device's I/O BAR (the
 * queue-notify register sets the kick) and, while it returns 1, again
 * later (e.g. on the vCPU's next exit). Requests are served only while
 * virtio_pci_rings_usable (DRIVER_OK, bus mastering on). out receives up
 * to VIRTIO_BLK_MAX_MSGS MSI messages for the caller to deliver, *n_out
 * their number.
 * Returns 0 when idle, 1 if the budget ran out with work left, or -EIO
 * if the device is (now) broken and needs a reset.
 */
int virtio_blk_process(struct virtio_blk *b, const struct guest_mem_ops *mem,
		       struct msi_msg out[VIRTIO_BLK_MAX_MSGS],
		       uint32_t *n_out)
{
	struct virtq *q = &b->vp.vq[BLK_QUEUE];
	uint32_t chains = 0, bytes = 0, served = 0;
	int rc = 0, got;

	*n_out = 0;
	if (b->broken)
		return -EIO;
	if (!b->pending || !virtio_pci_rings_usable(&b->vp))
		return 0;
	q->event_idx = (b->vp.guest_features >> VIRTIO_RING_F_EVENT_IDX) & 1;
	for (;;) {
		if (chains >= BUDGET_CHAINS || bytes >= BUDGET_BYTES) {
			rc = 1;
			break;
		}
		got = virtq_pop(q, mem, &b->chain);
		if (got == 0)
			break;
		if (got > 0) {
			chains++;
			bytes += b->chain.read_bytes + b->chain.write_bytes;
			got = blk_serve(b, mem);
			served++;
		} else if (b->chain.head != VIRTQ_NO_HEAD) {
			virtq_push(q, mem, b->chain.head, 0);
			served++;
		}
		if (got < 0) {
			rc = -EIO;
			break;
		}
	}
	b->pending = rc == 1;
	if (served && virtq_should_notify(q, mem) &&
	    virtio_pci_raise(&b->vp, BLK_QUEUE, &out[*n_out]))
		(*n_out)++;
	if (rc < 0)
		blk_break(b, out, n_out);
	return rc;
}

/* Save b's state; see virtio_blk.h. */
void virtio_blk_save(const struct virtio_blk *b, struct keel_state_virtio_blk *st)
{
	memset(st, 0, sizeof(*st));
	virtio_pci_save(&b->vp, &st->vp);
	st->pending = b->pending;
	st->broken = b->broken;
}

/* Load b's state; see virtio_blk.h. */
int virtio_blk_load(struct virtio_blk *b, const struct keel_state_virtio_blk *st)
{
	if (st->pending > 1 || st->broken > 1 || virtio_pci_load(&b->vp, &st->vp))
		return -EINVAL;
	b->pending = st->pending;
	b->broken = st->broken;
	return 0;
}
