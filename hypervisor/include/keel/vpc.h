/*
 * The virtual PC a guest domain sees: its local APICs, IOAPIC, COM1, CMOS
 * clock, PIT channel 2, ACPI power-management block, pvpanic, the PCI host bridge, and
 * the virtio disks and NICs behind their virtio-pci slots, with the fixed
 * addresses, ports and IRQs where they sit. A guest's struct domain points
 * at one (d->pc); dom0 owns the real PC and has none. Only the code that
 * builds the virtual PC (domain.c) and the glue that reaches its devices
 * (guest.c, irq_route.c, vpci.c, blkdev.c, netdev.c) include this header,
 * so struct domain itself depends on no device model.
 */
#ifndef KEEL_VPC_H
#define KEEL_VPC_H

#include <stdint.h>
#include <keel/domain.h>
#include <keel/vlapic.h>
#include <keel/vioapic.h>
#include <keel/ns16550.h>
#include <keel/pci_host.h>
#include <keel/pvpanic.h>
#include <keel/acpi_pm.h>
#include <keel/acpi_cpuhp.h>
#include <keel/mc146818.h>
#include <keel/i8254.h>
#include <keel/vpci.h>
#include <public/keel_abi.h>

#define GUEST_IOAPIC_ID 15
#define GUEST_IOAPIC_PA 0xFEC00000ull
#define GUEST_LAPIC_PA 0xFEE00000ull
#define GUEST_UART_IRQ 4
#define GUEST_PVPANIC_PA 0xFE000000ull /* BAR0 as "firmware" leaves it */
#define GUEST_PVPANIC_DEV 1
#define GUEST_ACPI_PA 0xE0000ull       /* RSDP and tables, in the BIOS area */
#define GUEST_ACPI_BYTES 8192u
#define GUEST_PM_IO_BASE 0x600         /* PM1a event (4 bytes) + control (2) */
#define GUEST_PM_IO_BYTES 6
#define GUEST_GPE0_IO_BASE 0x610       /* GPE0_STS, GPE0_EN (acpi_cpuhp.h) */
#define GUEST_CPUHP_IO_BASE 0x614      /* CPU present bitmap, eject */
#define GUEST_SCI_IRQ 9
#define GUEST_RESET_PORT 0xCF9

struct virtio_blk;
struct virtio_net;
struct balloon;

/* The devices of one guest; reached under the domain's lock. */
struct vpc {
	struct vlapic lapics[DOMAIN_MAX_VCPUS];
	struct vioapic ioapic;
	struct ns16550 uart;
	struct pci_host pci;
	struct pvpanic pvpanic;
	struct acpi_pm pm;
	struct acpi_cpuhp cpuhp;         /* GPE0 and CPU hotplug (vcpu-set) */
	struct mc146818 rtc;             /* CMOS clock at ports 0x70-0x71 */
	struct i8254 pit;                /* PIT channel 2 and port B (0x42, 0x43, 0x61) */
	struct virtio_blk *disks[KEEL_DOMAIN_MAX_DISKS];
	uint32_t nr_disks;
	struct virtio_net *nics[KEEL_DOMAIN_MAX_NICS];
	uint32_t nic_ports[KEEL_DOMAIN_MAX_NICS];
	uint32_t nr_nics;
	struct balloon *balloon;         /* virtio-balloon (common/balloon.c) */
	struct vpci_slot vslots[VPCI_MAX_SLOTS]; /* the disks' and NICs' transports */
	uint32_t nr_vslots;
	volatile uint32_t net_pending; /* NICs with frames waiting (bit n) */
	volatile uint64_t net_woke;    /* ports to wake once d->lock is free */
};

#endif
