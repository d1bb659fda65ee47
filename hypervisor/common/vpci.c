/*
 * The virtio-PCI slots of a guest's virtual PC (see keel/vpci.h): the one
 * list of disks and NICs that the port, MMIO and MSI-X paths walk, so that
 * each device kind only says what happens after the guest notifies it.
 */
#include <keel/vpci.h>
#include <keel/domain.h>
#include <keel/vpc.h>
#include <keel/virtio_pci.h>
#include <keel/irq_route.h>
#include <keel/errno.h>
#include <keel/string.h>

/* Add vp at PCI device pci_dev; see vpci.h. */
int vpci_add(struct domain *d, uint8_t pci_dev, struct virtio_pci *vp,
	     vpci_notified_fn notified, uint32_t index)
{
	struct pci_func fn;
	int rc;

	if (d->pc->nr_vslots >= VPCI_MAX_SLOTS)
		return -ENOSPC;
	memset(&fn, 0, sizeof(fn));
	fn.dev = pci_dev;
	fn.cfg_read = virtio_pci_cfg_read;
	fn.cfg_write = virtio_pci_cfg_write;
	fn.ctx = vp;
	rc = pci_host_add(&d->pc->pci, &fn);
	if (rc)
		return rc;
	d->pc->vslots[d->pc->nr_vslots].vp = vp;
	d->pc->vslots[d->pc->nr_vslots].notified = notified;
	d->pc->vslots[d->pc->nr_vslots].index = index;
	d->pc->nr_vslots++;
	return 0;
}

/* A port access to the slots' I/O BARs; see vpci.h. */
bool vpci_io(struct domain *d, uint16_t port, uint8_t size, bool in, uint32_t *val,
	     uint32_t *kick)
{
	uint32_t i;

	for (i = 0; i < d->pc->nr_vslots; i++) {
		struct vpci_slot *s = &d->pc->vslots[i];

		if (!virtio_pci_io_hit(s->vp, port))
			continue;
		if (in) {
			*val = virtio_pci_io_read(s->vp, port, size);
		} else {
			virtio_pci_io_write(s->vp, port, size, *val);
			s->notified(d, s->index, kick);
		}
		return true;
	}
	return false;
}

/* An MMIO access to the slots' memory BARs; see vpci.h. */
bool vpci_mmio(struct domain *d, uint64_t gpa, uint8_t size, bool write, uint64_t *val,
	       uint32_t *kick)
{
	uint32_t i;

	for (i = 0; i < d->pc->nr_vslots; i++) {
		struct virtio_pci *vp = d->pc->vslots[i].vp;

		if (!virtio_pci_mmio_hit(vp, gpa))
			continue;
		if (write) {
			virtio_pci_mmio_write(vp, gpa, size, (uint32_t)*val);
			vpci_drain(d, kick);
		} else {
			*val = virtio_pci_mmio_read(vp, gpa, size);
		}
		return true;
	}
	return false;
}

/* Deliver the slots' pending MSI-X messages; see vpci.h. */
void vpci_drain(struct domain *d, uint32_t *kick)
{
	struct msi_msg m;
	uint32_t i;

	for (i = 0; i < d->pc->nr_vslots; i++)
		while (virtio_pci_take_msg(d->pc->vslots[i].vp, &m))
			irq_route_msi(d, m.address, m.data, kick);
}
