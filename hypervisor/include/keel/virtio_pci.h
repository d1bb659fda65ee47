/*
 * Legacy virtio-pci transport (virtio 1.x, 4.1.4.8 "Legacy Interfaces: A
 * Note on PCI Device Layout") with MSI-X (PCI Local Bus 3.0, 6.8.2). One
 * PCI function per device: vendor 0x1AF4, device 0x1000 + type - 1,
 * revision 0, subsystem ID = virtio device type. All virtio registers
 * and the device-specific configuration sit in I/O BAR0, so each guest
 * access is a port I/O exit without instruction decoding; memory BAR1
 * holds only the MSI-X table (offset 0) and PBA (offset 0x800). There is
 * no INTx (interrupt pin 0): without MSI-X the device raises nothing.
 * The device model (virtio-blk, virtio-net) plugs in through
 * virtio_pci_dev_ops and works on the virtqueues in vp->vq with virtq.h.
 * Pure code: the caller serialises all calls on one struct virtio_pci.
 */
#ifndef KEEL_VIRTIO_PCI_H
#define KEEL_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include <public/keel_abi.h>

#include <keel/virtq.h>

#define VIRTIO_PCI_VENDOR_ID 0x1AF4u
#define VIRTIO_PCI_DEVICE_NET 0x1000u
#define VIRTIO_PCI_DEVICE_BLK 0x1001u
#define VIRTIO_PCI_SUBSYS_NET 1u
#define VIRTIO_PCI_SUBSYS_BLK 2u
#define VIRTIO_PCI_CLASS_NET 0x020000u /* network / Ethernet */
#define VIRTIO_PCI_CLASS_BLK 0x010000u /* mass storage / SCSI, as QEMU */

#define VIRTIO_PCI_MAX_QUEUES 4u
#define VIRTIO_PCI_MSIX_VECTORS (VIRTIO_PCI_MAX_QUEUES + 1u)
#define VIRTIO_PCI_QUEUE_SIZE_MAX 256u /* default vp->queue_size_max */
#define VIRTIO_PCI_NO_VECTOR 0xFFFFu
#define VIRTIO_PCI_CONFIG_IRQ 0xFFFFu  /* q argument of virtio_pci_raise */

/* BAR geometry. */
#define VIRTIO_PCI_IO_BAR_BYTES 64u
#define VIRTIO_PCI_MEM_BAR_BYTES 4096u
#define VIRTIO_PCI_MSIX_TABLE_OFF 0x000u
#define VIRTIO_PCI_MSIX_PBA_OFF 0x800u
#define VIRTIO_PCI_MSIX_CAP_OFF 0x40u /* config-space offset of the cap */

/* Legacy registers in BAR0 (virtio 1.x, 4.1.4.8). */
#define VIRTIO_PCI_REG_HOST_FEATURES 0u  /* 32, read-only */
#define VIRTIO_PCI_REG_GUEST_FEATURES 4u /* 32 */
#define VIRTIO_PCI_REG_QUEUE_PFN 8u      /* 32 */
#define VIRTIO_PCI_REG_QUEUE_SIZE 12u    /* 16, read-only */
#define VIRTIO_PCI_REG_QUEUE_SEL 14u     /* 16 */
#define VIRTIO_PCI_REG_QUEUE_NOTIFY 16u  /* 16 */
#define VIRTIO_PCI_REG_STATUS 18u        /* 8 */
#define VIRTIO_PCI_REG_ISR 19u           /* 8, read clears */
#define VIRTIO_PCI_REG_CONFIG_VECTOR 20u /* 16, only with MSI-X enabled */
#define VIRTIO_PCI_REG_QUEUE_VECTOR 22u  /* 16, only with MSI-X enabled */
#define VIRTIO_PCI_CONFIG_OFF_MSIX 24u   /* device config, MSI-X enabled */
#define VIRTIO_PCI_CONFIG_OFF_NOMSIX 20u /* device config, MSI-X disabled */

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01u
#define VIRTIO_STATUS_DRIVER 0x02u
#define VIRTIO_STATUS_DRIVER_OK 0x04u
#define VIRTIO_STATUS_FEATURES_OK 0x08u
#define VIRTIO_STATUS_NEEDS_RESET 0x40u
#define VIRTIO_STATUS_FAILED 0x80u

/* ISR bits (4.1.4.5). */
#define VIRTIO_PCI_ISR_QUEUE 0x01u
#define VIRTIO_PCI_ISR_CONFIG 0x02u

/* Transport feature bits a legacy device may offer (6). */
#define VIRTIO_F_NOTIFY_ON_EMPTY 24
#define VIRTIO_F_ANY_LAYOUT 27

/* PCI command register bits this function implements (PCI 3.0, 6.2.2). */
#define VIRTIO_PCI_CMD_IO 0x0001u
#define VIRTIO_PCI_CMD_MEMORY 0x0002u
#define VIRTIO_PCI_CMD_MASTER 0x0004u
#define VIRTIO_PCI_CMD_INTX_DISABLE 0x0400u

/* MSI-X message control bits (PCI 3.0, 6.8.2.3). */
#define VIRTIO_PCI_MSIX_ENABLE 0x8000u
#define VIRTIO_PCI_MSIX_FMASK 0x4000u

/* Implemented by the device model. Offsets are relative to the start of
 * the device-specific configuration; size is 1, 2 or 4. */
struct virtio_pci_dev_ops {
	uint32_t (*cfg_read)(void *dev, uint32_t offset, uint32_t size);
	void (*cfg_write)(void *dev, uint32_t offset, uint32_t size,
			  uint32_t value);
	void (*notify)(void *dev, uint16_t queue); /* guest kicked queue */
	void (*reset)(void *dev);                  /* status written 0 */
};

/* An MSI message for the caller to deliver: vector = data & 0xFF,
 * destination APIC ID = (address >> 12) & 0xFF, logical destination mode
 * if address bit 2 is set. */
struct msi_msg {
	uint64_t address;
	uint32_t data;
};

/* One MSI-X table entry (PCI 3.0, 6.8.2.6-6.8.2.9). */
struct virtio_msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl; /* ctrl bit 0: masked */
};

/* One legacy virtio-pci function. Device models may read any field and
 * use vq[]; everything else is changed only through the functions
 * below. queue_size_max may be lowered (power of two) right after
 * virtio_pci_init. */
struct virtio_pci {
	/* PCI identity and configuration space */
	uint16_t device_id, subsys_id;
	uint32_t class_code;
	uint16_t command;
	uint8_t int_line;
	uint32_t bar0; /* I/O BAR as the guest left it, bit 0 set */
	uint32_t bar1; /* memory BAR, 32-bit, non-prefetchable */
	/* legacy virtio registers */
	uint32_t host_features, guest_features;
	uint8_t status, isr;
	uint16_t queue_sel;
	uint16_t config_vector;
	struct virtq vq[VIRTIO_PCI_MAX_QUEUES];
	uint16_t nr_queues;
	uint16_t queue_size_max;
	/* MSI-X */
	uint16_t msix_ctrl; /* ENABLE and FMASK bits of message control */
	uint16_t msix_count; /* table entries: nr_queues + 1 */
	struct virtio_msix_entry msix[VIRTIO_PCI_MSIX_VECTORS];
	uint32_t msix_pba;   /* pending bit per vector (the PBA) */
	uint32_t msix_ready; /* vectors unmasked while pending: deliver via
			      * virtio_pci_take_msg */
	/* device model */
	const struct virtio_pci_dev_ops *ops;
	void *dev;
};

/*
 * Reset vp to power-on state: identity (device_id, subsys_id, class_code
 * as 0xBBSSPP), host_features offered, nr_queues (clamped to 1..
 * VIRTIO_PCI_MAX_QUEUES), BAR0 at I/O port io_bar and BAR1 at mem_bar
 * (rounded down to the BAR sizes) with I/O and memory decoding on as
 * firmware would leave them, MSI-X disabled with every entry masked, all
 * vectors VIRTIO_PCI_NO_VECTOR. ops and dev are the device model.
 */
void virtio_pci_init(struct virtio_pci *vp, uint16_t device_id,
		     uint16_t subsys_id, uint32_t class_code,
		     uint32_t host_features, uint16_t nr_queues,
		     uint16_t io_bar, uint32_t mem_bar,
		     const struct virtio_pci_dev_ops *ops, void *dev);

/*
 * pci_func callbacks (ctx = struct virtio_pci *): size-byte access to
 * configuration register reg (type 0 header, BAR sizing, capability list
 * holding one MSI-X capability at VIRTIO_PCI_MSIX_CAP_OFF).
 */
uint32_t virtio_pci_cfg_read(void *ctx, uint32_t reg, uint32_t size);
void virtio_pci_cfg_write(void *ctx, uint32_t reg, uint32_t size,
			  uint32_t value);

/* Whether port lies in BAR0 with I/O decoding on. */
bool virtio_pci_io_hit(const struct virtio_pci *vp, uint16_t port);

/* Guest IN of size (1, 2, 4) bytes at port (a hit). Any alignment;
 * bytes past the BAR read 0xFF. Reading the ISR clears it. */
uint32_t virtio_pci_io_read(struct virtio_pci *vp, uint16_t port,
			    uint8_t size);

/* Guest OUT of size bytes at port (a hit). A notify calls ops->notify for
 * a valid queue; status 0 resets queues, features, vectors and ISR and
 * calls ops->reset. Partial-register writes merge into the register. */
void virtio_pci_io_write(struct virtio_pci *vp, uint16_t port, uint8_t size,
			 uint32_t value);

/* Whether gpa lies in BAR1 with memory decoding on. */
bool virtio_pci_mmio_hit(const struct virtio_pci *vp, uint64_t gpa);

/* Guest read of size (1, 2, 4) bytes at gpa (a hit) in the MSI-X table or
 * PBA; other offsets read 0. */
uint32_t virtio_pci_mmio_read(struct virtio_pci *vp, uint64_t gpa,
			      uint8_t size);

/* Guest write to the MSI-X table (the PBA is read-only). Afterwards call
 * virtio_pci_take_msg until it returns false: unmasking may release
 * pending messages. */
void virtio_pci_mmio_write(struct virtio_pci *vp, uint64_t gpa, uint8_t size,
			   uint32_t value);

/*
 * Raise queue q's interrupt, or the configuration-change interrupt with
 * q = VIRTIO_PCI_CONFIG_IRQ. Sets the ISR bit; then, if MSI-X is enabled,
 * bus mastering is on and the vector is valid: when it is masked sets
 * its PBA bit and returns false (the message comes out of
 * virtio_pci_take_msg once unmasked), otherwise fills *msg and returns
 * true for the caller to deliver. Returns false without MSI-X.
 */
bool virtio_pci_raise(struct virtio_pci *vp, uint16_t q, struct msi_msg *msg);

/* Whether the driver may have its rings used: DRIVER_OK without FAILED,
 * and bus mastering on (a function without it must not touch memory, PCI
 * Local Bus 3.0, 6.2.2). Both device models gate their ring work on it. */
bool virtio_pci_rings_usable(const struct virtio_pci *vp);

/*
 * Next message released by an unmask (vector or function mask cleared,
 * MSI-X enabled, by virtio_pci_mmio_write or virtio_pci_cfg_write).
 * Fills *msg and returns true, or returns false if none is waiting.
 * Callers drain it after every MMIO write and configuration write.
 */
bool virtio_pci_take_msg(struct virtio_pci *vp, struct msi_msg *msg);

/* Copy vp's transport state into its save record (docs/save-restore.md);
 * the device model behind it saves its own. */
void virtio_pci_save(const struct virtio_pci *vp, struct keel_state_virtio_pci *st);

/*
 * Replace vp's transport state with the record st, which may come from a
 * file. vp must be the same device, built from the same config (identity,
 * features, queue count and size are compared), and every field must be
 * one a guest could have produced: bits the registers do not keep, a
 * vector beyond the MSI-X table, a queue index beyond 16 bits, state for a
 * queue the device does not have. Ring addresses are not checked here:
 * the rings are validated against guest RAM on every use. Returns 0, or
 * -EINVAL with vp unchanged.
 */
int virtio_pci_load(struct virtio_pci *vp, const struct keel_state_virtio_pci *st);

#endif /* KEEL_VIRTIO_PCI_H */
