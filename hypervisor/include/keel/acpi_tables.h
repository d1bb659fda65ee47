/*
 * Builder for the minimal ACPI tables of a guest's virtual PC (ACPI 6.x,
 * chapter 5 "ACPI Software Programming Model"): an RSDP (revision 2) that
 * points to an XSDT and an RSDT, a full (not hardware-reduced) FADT with
 * the PM1a event and control blocks of acpi_pm.c and the reset register,
 * a FACS, a MADT listing the CPUs, the IOAPIC and the ISA interrupt
 * overrides, and a DSDT holding \_S5_ (so Linux can power off) and the
 * PCI root bridge \_SB_.PCI0 (with ACPI on, Linux scans PCI only through
 * a root bridge the DSDT declares). With CPU hotplug (max_cpus > 1,
 * keel/acpi_cpuhp.h; as QEMU's legacy PIIX4 CPU hotplug) the DSDT also
 * holds the hotplug registers (\_SB_.CPPR, the present bitmap, and
 * \_SB_.CPEJ, the eject register), a processor device \_SB_.CPxx
 * (ACPI0007, with _STA, _MAT and _EJ0) per CPU from 1 on, and the GPE
 * handler \_GPE._E02 that notifies the CPUs that came or must go; the
 * FADT then has a GPE0 block. Linux finds the RSDP by scanning
 * 0xE0000-0xFFFFF on 16-byte boundaries, so the tables go into the BIOS
 * area with the RSDP first. Pure: the tables are written into a caller
 * buffer that the guest will see at a given guest-physical address.
 */
#ifndef KEEL_ACPI_TABLES_H
#define KEEL_ACPI_TABLES_H

#include <stdint.h>

#define ACPI_TABLES_MAX_CPUS 8u        /* APIC IDs 0..7 */
#define ACPI_TABLES_MAX_BYTES 4096u    /* always enough for a valid cfg */
#define ACPI_TABLES_ALIGN_BYTES 16u    /* alignment of base_pa (the RSDP) */
#define ACPI_TABLES_RESET_VALUE 0x06u  /* written to reset_port to reset */
#define ACPI_TABLES_OEM_ID "KEEL  "    /* 6 bytes */

struct acpi_tables_cfg {
	uint32_t nr_cpus;    /* 1..ACPI_TABLES_MAX_CPUS; APIC ids 0.. */
	uint32_t ioapic_id;  /* e.g. 15 */
	uint32_t ioapic_pa;  /* e.g. 0xFEC00000; its pins are GSIs 0.. */
	uint32_t lapic_pa;   /* e.g. 0xFEE00000 */
	uint16_t pm_io_base; /* PM1a event block (4 bytes), PM1a control
			      * (2 bytes) at +4; see acpi_pm.h */
	uint8_t sci_irq;     /* ISA IRQ (and GSI) of the SCI, e.g. 9 */
	uint16_t reset_port; /* e.g. 0xCF9, reset value 0x06 */
	/* CPU hotplug (keel/acpi_cpuhp.h): with max_cpus > 1 the MADT lists
	 * max_cpus CPUs, those from nr_cpus on disabled but online capable,
	 * the FADT has a GPE0 block at gpe0_io_base, and the DSDT a device
	 * per CPU from 1 on (present per the bitmap at cpuhp_io_base) and
	 * \_GPE._E02 to notify the changes. 0 (or 1) = no hotplug, as
	 * before: max_cpus is then nr_cpus and the two bases are unused. */
	uint32_t max_cpus;      /* 0, or nr_cpus..ACPI_TABLES_MAX_CPUS */
	uint16_t gpe0_io_base;  /* ACPI_GPE0_BLK_LEN bytes */
	uint16_t cpuhp_io_base; /* ACPI_CPUHP_IO_BYTES bytes */
};

/*
 * Build RSDP + XSDT + RSDT + FACS + FADT + MADT + DSDT into buf; the guest
 * will see buf at guest-physical base_pa (e.g. 0xE0000), with the RSDP at
 * its start. Returns the bytes used (at most ACPI_TABLES_MAX_BYTES),
 * -ENOSPC if buf_bytes is too small (buf is then left untouched), or
 * -EINVAL if buf or cfg is NULL, base_pa is not 16-byte aligned, the
 * tables would not lie below 4 GiB, nr_cpus is 0 or above
 * ACPI_TABLES_MAX_CPUS, ioapic_id is above 0xFE, sci_irq is not an ISA IRQ
 * other than 0 and 2, the PM block does not fit in the I/O space, or an
 * address or port is 0. With max_cpus >= 2 (CPU hotplug) it is also
 * -EINVAL if max_cpus is below nr_cpus or above ACPI_TABLES_MAX_CPUS, or
 * gpe0_io_base or cpuhp_io_base is 0 or its block (ACPI_GPE0_BLK_LEN,
 * ACPI_CPUHP_IO_BYTES bytes) does not fit in the I/O space; with max_cpus
 * 0 or 1 the two bases are ignored and the tables are those of a cfg
 * without hotplug, byte for byte.
 */
int acpi_tables_build(uint8_t *buf, uint32_t buf_bytes, uint64_t base_pa,
		      const struct acpi_tables_cfg *cfg);

#endif /* KEEL_ACPI_TABLES_H */
