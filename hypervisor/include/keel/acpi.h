/*
 * Just enough ACPI to find the machine's CPUs and IOAPICs: the RSDP, the
 * RSDT/XSDT and the MADT (ACPI 6.x, 5.2.12 "Multiple APIC Description
 * Table"). Tables are read through a physical-to-virtual callback so that
 * the parser is testable on the host.
 */
#ifndef KEEL_ACPI_H
#define KEEL_ACPI_H

#include <stdint.h>
#include <stdbool.h>

#define ACPI_MAX_CPUS 64
#define ACPI_MAX_IOAPICS 8

struct acpi_ioapic {
	uint32_t id;
	uint64_t pa;
	uint32_t gsi_base;
};

struct acpi_info {
	uint64_t rsdp_pa;
	uint64_t lapic_pa;
	uint32_t nr_cpus;
	uint32_t cpu_apic_ids[ACPI_MAX_CPUS]; /* enabled CPUs, MADT order */
	uint32_t nr_ioapics;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	uint32_t cpus_ignored; /* enabled CPUs beyond ACPI_MAX_CPUS */
	uint32_t iommu;        /* ACPI_IOMMU_*: the IOMMU tables present */
};

#define ACPI_IOMMU_DMAR (1u << 0) /* Intel VT-d */
#define ACPI_IOMMU_IVRS (1u << 1) /* AMD-Vi */

typedef const void *(*acpi_p2v_fn)(uint64_t pa, uint64_t len, void *ctx);

/*
 * Find the RSDP in the BIOS areas (the first KiB of the EBDA, then
 * 0xE0000-0xFFFFF). Return its physical address, or 0 if there is none.
 */
uint64_t acpi_find_rsdp(acpi_p2v_fn p2v, void *ctx);

/*
 * Read the MADT reached from the RSDP at rsdp_pa into out, and note in
 * out->iommu whether a DMAR or IVRS table is there. Return 0, -ENOENT if
 * there is no MADT, -EINVAL on a bad checksum or length.
 */
int acpi_parse(uint64_t rsdp_pa, acpi_p2v_fn p2v, void *ctx,
	       struct acpi_info *out);

#endif
