/*
 * Guest block devices. Disk images live in hypervisor memory: dom0 uploads
 * an image once (KEEL_HC_IMAGE_*), every guest that names it shares that
 * one read-only copy, and it is freed when the last guest using it goes.
 * RAM disks are private, zeroed and writable. Each disk is a legacy
 * virtio-blk PCI device (devices/virtio_blk.c) served here, in the
 * hypervisor, on the vCPU that kicked it: no dom0 back end is involved.
 * All calls on a domain's devices run under the domain's lock.
 */
#include <keel/blkdev.h>
#include <keel/watchdog.h>
#include <keel/domain.h>
#include <keel/vpc.h>
#include <keel/disk.h>
#include <keel/virtio_blk.h>
#include <keel/irq_route.h>
#include <keel/vpci.h>
#include <keel/mm.h>
#include <keel/log.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/printf.h>
#include <public/keel_abi.h>

static struct disk_registry images;

static uint64_t chunk_alloc(void *ctx)
{
	(void)ctx;
	return mm_alloc_guest(DISK_CHUNK_BYTES / PAGE_SIZE_4K, DISK_CHUNK_BYTES / PAGE_SIZE_4K);
}

static void chunk_free(void *ctx, uint64_t pa)
{
	(void)ctx;
	mm_free_guest(pa, DISK_CHUNK_BYTES / PAGE_SIZE_4K);
}

static void *chunk_p2v(void *ctx, uint64_t pa)
{
	(void)ctx;
	return phys_to_virt(pa);
}

static const struct disk_mem_ops image_mem = {
	.alloc_chunk = chunk_alloc, .free_chunk = chunk_free, .p2v = chunk_p2v,
};

/* Set up the image registry (once, at boot). */
void blkdev_init(void)
{
	disk_registry_init(&images, &image_mem);
	watchdog_track_lock(&images.lock, "disk images");
}

static struct disk_image *image_by_id(uint32_t id)
{
	if (id == 0 || id > DISK_REGISTRY_SLOTS || !images.slots[id - 1].used)
		return 0;
	return &images.slots[id - 1];
}

static uint32_t image_id(const struct disk_image *img)
{
	return (uint32_t)(img - images.slots) + 1;
}

/*
 * Find the complete image name of bytes bytes (flags |= KEEL_IMAGE_EXISTS)
 * or create an empty one to upload; an unfinished image of that name is
 * dropped first. *id identifies it. 0 or -errno.
 */
int blkdev_image_open(const char *name, uint64_t bytes, uint32_t *id, uint32_t *flags)
{
	struct disk_image *img;
	int rc;

	*flags = 0;
	if (disk_registry_lookup(&images, name, &img) == 0) {
		bool reuse = img->complete && img->bytes == bytes;

		*id = image_id(img);
		disk_image_put(img);
		if (reuse) {
			*flags = KEEL_IMAGE_EXISTS;
			return 0;
		}
		disk_registry_remove(&images, name);
	}
	rc = disk_registry_create(&images, name, bytes, &img);
	if (rc == 0)
		*id = image_id(img);
	return rc;
}

/* Store len bytes at off of the image being uploaded. 0 or -errno. */
int blkdev_image_write(uint32_t id, uint64_t off, const void *src, uint32_t len)
{
	struct disk_image *img = image_by_id(id);

	return img ? disk_image_upload(img, off, src, len) : -ENOENT;
}

/* The upload of image id is complete. 0 or -errno. */
int blkdev_image_done(uint32_t id)
{
	struct disk_image *img = image_by_id(id);

	if (!img)
		return -ENOENT;
	log_info("disk image %s ready (%llu MiB)\n", img->name,
		 (unsigned long long)(img->bytes >> 20));
	return disk_image_complete(img);
}

static int take_image(uint32_t kind, uint32_t id, uint64_t ram_bytes,
		      struct disk_image **out)
{
	struct disk_image *img;

	if (kind == KEEL_DISK_RAM) {
		if (ram_bytes == 0 || ram_bytes % DISK_CHUNK_BYTES)
			return -EINVAL;
		return disk_registry_create_ram(&images, ram_bytes, out);
	}
	if (kind != KEEL_DISK_IMAGE)
		return -EINVAL;
	img = image_by_id(id);
	if (!img)
		return -ENOENT;
	return disk_registry_open(&images, img->name, out);
}

static void deliver_msgs(struct domain *d, const struct msi_msg *m, uint32_t n,
			 uint32_t *kick)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		irq_route_msi(d, m[i].address, m[i].data, kick);
}

/* Serve the requests waiting on disk b (bounded work), then deliver its
 * interrupts. */
static void blk_service(struct domain *d, struct virtio_blk *b, uint32_t *kick)
{
	struct guest_mem_ops mem = { .map = domain_map_ram, .ctx = d };
	struct msi_msg msgs[VIRTIO_BLK_MAX_MSGS];
	uint32_t n, round;
	int rc;

	for (round = 0; round < 4; round++) {
		n = 0;
		rc = virtio_blk_process(b, &mem, msgs, &n);
		deliver_msgs(d, msgs, n, kick);
		if (rc != 1)
			break;
	}
}

/* The guest wrote disk index's I/O BAR (vpci_notified_fn): serve its
 * queue. d->lock held. */
static void blk_notified(struct domain *d, uint32_t index, uint32_t *kick)
{
	blk_service(d, d->pc->disks[index], kick);
}

/*
 * Give domain d (not started yet) a disk: a shared image or a RAM disk.
 * *slot is its index (0 = /dev/vda). 0, -EBUSY (started), -ENOSPC (too
 * many disks), -ENOENT/-EBUSY (no such or unfinished image), -ENOMEM.
 */
int blkdev_attach(struct domain *d, uint32_t kind, uint32_t image_id_in,
		  uint64_t ram_bytes, uint32_t *slot)
{
	uint64_t pages = ALIGN_UP(sizeof(struct virtio_blk), PAGE_SIZE_4K) / PAGE_SIZE_4K;
	uint32_t n = d->pc->nr_disks;
	struct disk_image *img = 0;
	struct virtio_blk *b;
	uint64_t pa;
	int rc;

	if (d->state != DOM_BUILDING)
		return -EBUSY;
	if (n >= KEEL_DOMAIN_MAX_DISKS)
		return -ENOSPC;
	rc = take_image(kind, image_id_in, ram_bytes, &img);
	if (rc)
		return rc;
	pa = mm_alloc_pages(pages, 1);
	if (!pa) {
		disk_image_put(img);
		return -ENOMEM;
	}
	b = phys_to_virt(pa);
	rc = virtio_blk_init(b, img, 0, (uint16_t)(BLKDEV_IO_BASE + BLKDEV_IO_STRIDE * n),
			     BLKDEV_MEM_BASE + BLKDEV_MEM_STRIDE * n);
	if (rc) {
		disk_image_put(img);
		mm_free_pages(pa, pages);
		return rc;
	}
	rc = vpci_add(d, (uint8_t)(BLKDEV_PCI_DEV_FIRST + n), &b->vp, blk_notified, n);
	if (rc) {
		virtio_blk_destroy(b);
		mm_free_pages(pa, pages);
		return rc;
	}
	d->hv_bytes += pages * PAGE_SIZE_4K;
	d->pc->disks[n] = b;
	d->pc->nr_disks = n + 1;
	*slot = n;
	return 0;
}

static bool image_in_use_only_by_registry(const char *name)
{
	struct disk_image *img;
	bool only;

	if (disk_registry_lookup(&images, name, &img))
		return false;
	only = img->refs == 2; /* the registry's and this lookup's */
	disk_image_put(img);
	return only;
}

/* Remove d's disks (its vCPUs are stopped). Images no guest uses any more
 * are freed. */
void blkdev_detach_all(struct domain *d)
{
	uint64_t pages = ALIGN_UP(sizeof(struct virtio_blk), PAGE_SIZE_4K) / PAGE_SIZE_4K;
	uint32_t i;

	for (i = 0; i < d->pc->nr_disks; i++) {
		struct virtio_blk *b = d->pc->disks[i];
		struct disk_image *img = b->img;
		bool shared = img && img->listed;
		char name[DISK_NAME_BYTES];

		if (shared)
			strlcpy(name, img->name, sizeof(name));
		virtio_blk_destroy(b);
		mm_free_pages(virt_to_phys(b), pages);
		/* Only the registry's own reference left: nobody uses it. */
		if (shared && image_in_use_only_by_registry(name))
			disk_registry_remove(&images, name);
		d->pc->disks[i] = 0;
	}
	d->pc->nr_disks = 0;
}

/* Add the counters of d's disks to s. */
void blkdev_stats(struct domain *d, struct keel_domstats *s)
{
	uint32_t i;

	s->nr_disks = d->pc->nr_disks;
	for (i = 0; i < d->pc->nr_disks; i++) {
		const struct virtio_blk_stats *b = &d->pc->disks[i]->stats;

		s->blk_reads += b->reads;
		s->blk_writes += b->writes;
		s->blk_read_bytes += b->read_bytes;
		s->blk_write_bytes += b->write_bytes;
		s->blk_errors += b->errors;
	}
}
