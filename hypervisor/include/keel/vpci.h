/*
 * The virtio-PCI functions of a guest's virtual PC (common/vpci.c): one
 * list of slots for the disks and the NICs, through which the guest's
 * accesses to their I/O and memory BARs are dispatched and their MSI-X
 * messages drained. blkdev.c, netdev.c and balloon.c add their devices here; the
 * virtual PC (guest.c) asks it first for every port and MMIO access it
 * does not route to a fixed device. All calls hold d->lock.
 */
#ifndef KEEL_VPCI_H
#define KEEL_VPCI_H

#include <stdint.h>
#include <stdbool.h>

#define VPCI_MAX_SLOTS 9u /* KEEL_DOMAIN_MAX_DISKS + KEEL_DOMAIN_MAX_NICS + the balloon */

struct domain;
struct virtio_pci;

/* After the guest wrote a device's I/O BAR (a queue notify, a status
 * change): the device's own work, for its index'th device of its kind. */
typedef void (*vpci_notified_fn)(struct domain *d, uint32_t index, uint32_t *kick);

struct vpci_slot {
	struct virtio_pci *vp;
	vpci_notified_fn notified;
	uint32_t index;
};

/* Put the virtio transport vp at PCI device number pci_dev of d's host
 * bridge and into the slot list; notified(d, index, kick) runs after each
 * write to its I/O BAR. 0, -ENOSPC (no slot) or pci_host_add's error. */
int vpci_add(struct domain *d, uint8_t pci_dev, struct virtio_pci *vp,
	     vpci_notified_fn notified, uint32_t index);

/* A port access of size bytes (in: a read into *val; else a write of
 * *val): true if it hit a slot's I/O BAR and was served. */
bool vpci_io(struct domain *d, uint16_t port, uint8_t size, bool in, uint32_t *val,
	     uint32_t *kick);

/* An MMIO access (the MSI-X tables): true if it hit a slot's memory BAR
 * and was served; a write drains the messages it may have released. */
bool vpci_mmio(struct domain *d, uint64_t gpa, uint8_t size, bool write, uint64_t *val,
	       uint32_t *kick);

/* Deliver every MSI-X message the slots hold (after an unmask in the
 * MSI-X table or in PCI config space). */
void vpci_drain(struct domain *d, uint32_t *kick);

#endif
