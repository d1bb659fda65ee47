/*
 * virtio block device served inside the hypervisor (virtio 1.x, 5.2
 * "Block Device", legacy interface) on the legacy virtio-pci transport
 * (keel/virtio_pci.h). One request queue; the backing store is a disk
 * image (keel/disk.h): a shared read-only image or a private RAM disk.
 * The transport's notify callback only records the kick; the caller then
 * runs virtio_blk_process, which handles a bounded number of requests and
 * hands back the MSI messages to deliver. Pure code: the caller
 * serialises all calls on one device.
 */
#ifndef KEEL_VIRTIO_BLK_H
#define KEEL_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include <keel/disk.h>
#include <keel/virtio_pci.h>
#include <keel/virtq.h>

/* Feature bits (5.2.3; legacy names in 5.2.3.1). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_GEOMETRY 4
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u
#define VIRTIO_BLK_T_GET_ID 8u
#define VIRTIO_BLK_S_OK 0u
#define VIRTIO_BLK_S_IOERR 1u
#define VIRTIO_BLK_S_UNSUPP 2u

#define VIRTIO_BLK_ID_BYTES 20u     /* GET_ID answer */
#define VIRTIO_BLK_HDR_BYTES 16u    /* type, reserved, sector */
#define VIRTIO_BLK_SECTOR_BYTES 512u

/*
 * What the device advertises. seg_max data segments plus header and
 * status stay within half of VIRTQ_MAX_SEGS (each may split once at a
 * guest 2 MiB boundary), and seg_max * size_max within
 * VIRTQ_MAX_CHAIN_BYTES, so a driver that honours them never has a chain
 * rejected by the ring code.
 */
#define VIRTIO_BLK_SEG_MAX (VIRTQ_MAX_SEGS / 2u - 2u)
#define VIRTIO_BLK_SIZE_MAX (128u << 10)
#define VIRTIO_BLK_QUEUE_SIZE 128u
#define VIRTIO_BLK_CONFIG_BYTES 40u /* what BAR0 shows after MSI-X regs */
#define VIRTIO_BLK_MAX_MSGS 2u      /* queue + configuration change */

/* Offsets in the device configuration (5.2.4). */
#define VIRTIO_BLK_CFG_CAPACITY 0u
#define VIRTIO_BLK_CFG_SIZE_MAX 8u
#define VIRTIO_BLK_CFG_SEG_MAX 12u
#define VIRTIO_BLK_CFG_CYLINDERS 16u
#define VIRTIO_BLK_CFG_HEADS 18u
#define VIRTIO_BLK_CFG_SECTORS 19u
#define VIRTIO_BLK_CFG_BLK_SIZE 20u

/* Per-disk counters. */
struct virtio_blk_stats {
	uint64_t reads, writes, flushes, get_ids; /* requests completed OK */
	uint64_t read_bytes, write_bytes;
	uint64_t errors;      /* requests answered IOERR */
	uint64_t unsupported; /* requests answered UNSUPP */
	uint64_t broken;      /* times the device gave up on its queue */
};

struct virtio_blk {
	struct virtio_pci vp;        /* transport; the caller routes I/O here */
	struct disk_image *img;      /* one reference held */
	bool read_only;
	bool pending;                /* kicked; requests may be waiting */
	bool broken;                 /* needs reset (2.1.2); queue ignored */
	char id[VIRTIO_BLK_ID_BYTES]; /* GET_ID answer, NUL padded */
	uint8_t config[VIRTIO_BLK_CONFIG_BYTES];
	struct virtio_blk_stats stats;
	struct virtq_chain chain;    /* scratch, kept off the stack */
};

int virtio_blk_init(struct virtio_blk *b, struct disk_image *img,
		    const char *id, uint16_t io_bar, uint32_t mem_bar);
void virtio_blk_destroy(struct virtio_blk *b);
int virtio_blk_process(struct virtio_blk *b, const struct guest_mem_ops *mem,
		       struct msi_msg out[VIRTIO_BLK_MAX_MSGS],
		       uint32_t *n_out);

/* Copy b's state (transport, pending work) into its save record. */
void virtio_blk_save(const struct virtio_blk *b, struct keel_state_virtio_blk *st);

/*
 * Replace b's state with the record st, which may come from a file: the
 * transport as virtio_pci_load checks it and 0/1 flags. Returns 0, or
 * -EINVAL with b unchanged.
 */
int virtio_blk_load(struct virtio_blk *b, const struct keel_state_virtio_blk *st);

#endif /* KEEL_VIRTIO_BLK_H */
