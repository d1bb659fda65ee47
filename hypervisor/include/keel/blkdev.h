/*
 * Guest block devices (common/blkdev.c): the image registry that dom0
 * uploads into, virtio-blk devices on a guest's PCI bus, and the dispatch
 * of their port, MMIO and PCI configuration accesses.
 */
#ifndef KEEL_BLKDEV_H
#define KEEL_BLKDEV_H

#include <stdint.h>
#include <stdbool.h>

struct domain;

#define BLKDEV_IO_BASE 0xC000u        /* I/O BAR0 of disk n: base + 0x40 * n */
#define BLKDEV_IO_STRIDE 0x40u
#define BLKDEV_MEM_BASE 0xFE010000u   /* memory BAR1 (MSI-X): base + 4 KiB * n */
#define BLKDEV_MEM_STRIDE 0x1000u
#define BLKDEV_PCI_DEV_FIRST 2        /* disk n is PCI device 2 + n */

void blkdev_init(void);
int blkdev_image_open(const char *name, uint64_t bytes, uint32_t *id, uint32_t *flags);
int blkdev_image_write(uint32_t id, uint64_t off, const void *src, uint32_t len);
int blkdev_image_done(uint32_t id);
int blkdev_attach(struct domain *d, uint32_t kind, uint32_t image_id,
		  uint64_t ram_bytes, uint32_t *slot);
void blkdev_detach_all(struct domain *d);

struct keel_domstats;
void blkdev_stats(struct domain *d, struct keel_domstats *s);

#endif
