/*
 * Device model of a PCI host bridge reached through configuration
 * mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2): the
 * CONFIG_ADDRESS register at port 0xCF8 and the CONFIG_DATA window at
 * 0xCFC-0xCFF. Bus 0 device 0 function 0 is the host bridge itself
 * (vendor 0x1B36, device 0x0008, class 0x060000); further functions on
 * bus 0 are added to a small registry with callbacks for their
 * configuration space. Absent functions read all-ones and ignore writes,
 * which is how software sees an empty slot (a master abort). The model is
 * pure: all state lives in struct pci_host.
 */
#ifndef KEEL_PCI_HOST_H
#define KEEL_PCI_HOST_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_HOST_ADDR_PORT 0xCF8u      /* CONFIG_ADDRESS, dword only */
#define PCI_HOST_DATA_PORT 0xCFCu      /* CONFIG_DATA, 0xCFC..0xCFF */
#define PCI_HOST_LAST_PORT 0xCFFu
#define PCI_HOST_MAX_FUNCS 32          /* registered functions, bridge aside */
#define PCI_HOST_CFG_BYTES 256u        /* conventional configuration space */

/* CONFIG_ADDRESS fields (PCI 3.0, 3.2.2.3.2, its layout figure). */
#define PCI_HOST_ADDR_ENABLE 0x80000000u
#define PCI_HOST_ADDR_EXT_REG 0x0F000000u /* AMD: register bits 11:8 */
#define PCI_HOST_ADDR_BUS 0x00FF0000u
#define PCI_HOST_ADDR_DEV 0x0000F800u
#define PCI_HOST_ADDR_FN 0x00000700u
#define PCI_HOST_ADDR_REG 0x000000FCu
#define PCI_HOST_ADDR_WRITABLE                                               \
	(PCI_HOST_ADDR_ENABLE | PCI_HOST_ADDR_EXT_REG | PCI_HOST_ADDR_BUS |  \
	 PCI_HOST_ADDR_DEV | PCI_HOST_ADDR_FN | PCI_HOST_ADDR_REG)

#define PCI_HOST_MAX_DEV 31u
#define PCI_HOST_MAX_FN 7u

/* The host bridge's identity (Red Hat's QEMU PCIe host bridge IDs). */
#define PCI_HOST_BRIDGE_VENDOR 0x1B36u
#define PCI_HOST_BRIDGE_DEVICE 0x0008u
#define PCI_HOST_BRIDGE_CLASS 0x060000u /* bridge / host bridge / prog-if 0 */

/*
 * One function on bus 0. cfg_read returns the size-byte (1, 2 or 4)
 * little-endian value at reg_offset (0..255, a multiple of size);
 * cfg_write stores one. Functions are conventional PCI: accesses to the
 * extended space (offset 256 and up) never reach them and read
 * all-ones. ctx is passed back unchanged. A function
 * answering to dev/fn with fn != 0 is only found by Linux if function 0
 * of the same device exists and sets the multi-function bit (bit 7 of
 * the header type at 0x0E).
 */
struct pci_func {
	uint8_t dev; /* 0..31 */
	uint8_t fn;  /* 0..7 */
	uint32_t (*cfg_read)(void *ctx, uint32_t reg_offset, uint32_t size);
	void (*cfg_write)(void *ctx, uint32_t reg_offset, uint32_t size,
			  uint32_t value);
	void *ctx;
};

/* The host bridge and its registry. Treat the fields as private. */
struct pci_host {
	uint32_t addr;                         /* CONFIG_ADDRESS */
	uint8_t bridge_cfg[PCI_HOST_CFG_BYTES]; /* 00:00.0's config space */
	uint32_t nr_funcs;
	struct pci_func funcs[PCI_HOST_MAX_FUNCS];
};

/*
 * Reset h: CONFIG_ADDRESS 0, the host bridge's configuration space at its
 * power-on values, no registered functions.
 */
void pci_host_init(struct pci_host *h);

/*
 * Register function f (copied) on bus 0. Returns 0, -EINVAL if dev or fn
 * is out of range or a callback is missing, -EEXIST if dev/fn is taken
 * (00:00.0 is the host bridge), -ENOSPC if PCI_HOST_MAX_FUNCS are
 * registered already.
 */
int pci_host_add(struct pci_host *h, const struct pci_func *f);

/* True for the ports this model decodes: 0xCF8..0xCFF. */
bool pci_host_handles(uint16_t port);

/*
 * Guest IN of size bytes (1, 2 or 4) from port. A dword read of 0xCF8
 * returns CONFIG_ADDRESS; a read from CONFIG_DATA returns the addressed
 * configuration bytes (port - 0xCFC is added to the register offset).
 * Returns all-ones of the access size when nothing answers: other
 * accesses to 0xCF8-0xCFB, CONFIG_ADDRESS bit 31 clear, a bus other than
 * 0, an absent function, an access not naturally aligned or a register
 * beyond the function's configuration space.
 */
uint32_t pci_host_read(struct pci_host *h, uint16_t port, uint8_t size);

/*
 * Guest OUT of the low size bytes (1, 2 or 4) of value to port. Only a
 * dword write to 0xCF8 sets CONFIG_ADDRESS (PCI 3.0, 3.2.2.3.2); a write
 * to CONFIG_DATA goes to the addressed function; everything else,
 * including byte writes to 0xCF9 (the reset control register on Intel
 * chipsets), is ignored.
 */
void pci_host_write(struct pci_host *h, uint16_t port, uint8_t size,
		    uint32_t value);

#endif /* KEEL_PCI_HOST_H */
