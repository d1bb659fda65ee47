/*
 * Builder for the minimal ACPI tables of a guest's virtual PC (ACPI 6.x,
 * chapter 5 "ACPI Software Programming Model"): an RSDP (revision 2) that
 * points to an XSDT and an RSDT, a full (not hardware-reduced) FADT with
 * the PM1a event and control blocks of acpi_pm.c and the reset register,
 * a FACS, a MADT listing the CPUs, the IOAPIC and the ISA interrupt
 * overrides, and a DSDT holding \_S5_ (so Linux can power off) and the
 * PCI root bridge \_SB_.PCI0 (with ACPI on, Linux scans PCI only through
 * a root bridge the DSDT declares). Linux finds the RSDP by scanning
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
 * address or port is 0.
 */
int acpi_tables_build(uint8_t *buf, uint32_t buf_bytes, uint64_t base_pa,
		      const struct acpi_tables_cfg *cfg);

#endif /* KEEL_ACPI_TABLES_H */
