/*
 * The compatibility report: what this machine can do for Keel, in a few
 * lines the hypervisor prints at every boot (common/compat.c formats it,
 * main.c gathers the facts). It answers a visitor's question at a trade
 * show: will guests run here, and if not, what to change.
 */
#ifndef KEEL_COMPAT_H
#define KEEL_COMPAT_H

#include <stdbool.h>
#include <stdint.h>

#define COMPAT_LINE_BYTES 160
#define COMPAT_MAX_LINES 8

struct compat_facts {
	char vendor[13];          /* CPUID vendor string */
	char brand[49];           /* CPUID brand string, "" when absent */
	const char *backend;      /* "svm" or "vmx" when usable, else NULL */
	const char *why_not;      /* when backend is NULL: what is missing */
	uint32_t features;        /* KEEL_FEAT_* of the backend */
	uint32_t iommu;           /* ACPI_IOMMU_* tables present */
	bool uefi;                /* started by UEFI firmware (else BIOS) */
	uint64_t mem_total_mib, mem_dom0_mib, mem_pool_mib;
	uint32_t cpus, cpus_dom0, cpus_pool;
	char outer[13];           /* the CPUID 0x40000000 signature of the
				   * hypervisor Keel itself runs under, "" none */
};

/*
 * Write the report into lines (at most COMPAT_MAX_LINES, each a
 * NUL-terminated string shorter than COMPAT_LINE_BYTES, no newline).
 * The last line is the verdict, "Guests: yes" or "Guests: no, because
 * ...". Returns the number of lines. Pure.
 */
uint32_t compat_report(const struct compat_facts *f, char lines[][COMPAT_LINE_BYTES]);

#endif
