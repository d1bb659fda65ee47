/*
 * Legacy virtio-balloon device model (virtio 1.x, 5.5 "Traditional Memory
 * Balloon Device") behind the virtio-pci transport. The host sets the
 * balloon size it wants (num_pages, in 4 KiB pages) and raises a
 * configuration interrupt; the driver gives pages to the balloon through
 * the inflate queue and takes them back through the deflate queue, each
 * buffer an array of little-endian 32-bit page frame numbers, and reports
 * its balloon size in actual. No feature is offered (no MUST_TELL_HOST,
 * statistics, free page hints or reporting), so the device has exactly
 * those two queues. What a page given or taken back means for guest RAM
 * is the caller's (common/balloon.c), through a callback per page. Pure
 * code: the caller serialises all calls on one struct virtio_balloon.
 */
#ifndef KEEL_VIRTIO_BALLOON_H
#define KEEL_VIRTIO_BALLOON_H

#include <stdbool.h>
#include <stdint.h>
#include <keel/virtio_pci.h>
#include <keel/virtq.h>
#include <public/keel_abi.h>

#define VIRTIO_PCI_DEVICE_BALLOON 0x1005u /* legacy ID: 0x1000 + type - 1 */
#define VIRTIO_PCI_SUBSYS_BALLOON 5u
#define VIRTIO_PCI_CLASS_BALLOON 0xFF0000u /* "other", as QEMU */

#define VIRTIO_BALLOON_Q_INFLATE 0u
#define VIRTIO_BALLOON_Q_DEFLATE 1u
#define VIRTIO_BALLOON_QUEUES 2u
#define VIRTIO_BALLOON_QUEUE_SIZE 128u
#define VIRTIO_BALLOON_PAGE_BYTES 4096u  /* a PFN's unit (5.5.6) */
#define VIRTIO_BALLOON_CFG_NUM_PAGES 0u  /* le32, host writes */
#define VIRTIO_BALLOON_CFG_ACTUAL 4u     /* le32, driver writes */
#define VIRTIO_BALLOON_CONFIG_BYTES 8u
#define VIRTIO_BALLOON_MAX_MSGS 3u       /* two queues + configuration */
#define VIRTIO_BALLOON_PFNS_PER_CALL 256u /* PFNs read per chain at most */

/* What the caller does with one page: give (inflate) or take back
 * (deflate) page frame pfn. Returns 0, or -errno for a PFN that is not
 * the guest's RAM (counted in stats.bad_pfns and otherwise ignored). */
typedef int (*virtio_balloon_page_fn)(void *ctx, uint32_t pfn, bool inflate);

struct virtio_balloon_stats {
	uint64_t inflated, deflated; /* pages the caller accepted */
	uint64_t bad_pfns;           /* pages the caller refused */
	uint64_t broken;             /* times the device gave up on a queue */
};

struct virtio_balloon {
	struct virtio_pci vp;   /* transport; the caller routes I/O here */
	uint32_t num_pages;     /* target balloon size (config, host side) */
	uint32_t actual;        /* balloon size the driver reports */
	uint32_t pending;       /* bit per queue: kicked, buffers may wait */
	bool broken;            /* needs reset (2.1.2); queues ignored */
	struct virtio_balloon_stats stats;
	struct virtq_chain chain; /* scratch, kept off the stack */
};

/* Reset b to power-on state with its BAR0 at I/O port io_bar and BAR1 at
 * mem_bar, balloon target 0. */
void virtio_balloon_init(struct virtio_balloon *b, uint16_t io_bar, uint32_t mem_bar);

/*
 * Ask for a balloon of num_pages pages: update the configuration and
 * raise the configuration-change interrupt (virtio 1.x, 4.1.4.5). Fills
 * out[] with at most one message and sets *n_out.
 */
void virtio_balloon_set_target(struct virtio_balloon *b, uint32_t num_pages,
			       struct msi_msg out[VIRTIO_BALLOON_MAX_MSGS], uint32_t *n_out);

/*
 * Serve the buffers waiting on the kicked queues: call page(ctx, pfn,
 * inflate) for each PFN, in order, and return each buffer. A malformed
 * ring or a buffer that is not a whole number of PFNs breaks the device
 * (NEEDS_RESET and a configuration interrupt). Fills out[] and *n_out
 * with the interrupts to deliver. Returns 0, or -EIO if the device is
 * broken.
 */
int virtio_balloon_process(struct virtio_balloon *b, const struct guest_mem_ops *mem,
			   virtio_balloon_page_fn page, void *ctx,
			   struct msi_msg out[VIRTIO_BALLOON_MAX_MSGS], uint32_t *n_out);

/* Whether the guest's driver is running (DRIVER_OK, not failed). */
bool virtio_balloon_driver_ok(const struct virtio_balloon *b);

/* Save b into st (max_bytes is the caller's to fill). */
void virtio_balloon_save(const struct virtio_balloon *b, struct keel_state_balloon *st);

/* Load st, which may come from a file, into b: 0, or -EINVAL with b
 * unchanged if any field is one the device could not have had. */
int virtio_balloon_load(struct virtio_balloon *b, const struct keel_state_balloon *st);

#endif /* KEEL_VIRTIO_BALLOON_H */
