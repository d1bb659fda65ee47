/*
 * Unit tests for hypervisor/common/compat.c: the compatibility report's
 * lines for an AMD machine under QEMU TCG with guests, an Intel machine
 * with VT-x and VT-d on UEFI, a machine whose firmware turned AMD-V off,
 * and one where every CPU went to dom0.
 */
#include "../../hypervisor/common/compat.c"
#include "../../hypervisor/common/vsnprintf.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

static char lines[COMPAT_MAX_LINES][COMPAT_LINE_BYTES];

static int has(uint32_t n, const char *text)
{
	for (uint32_t i = 0; i < n; i++)
		if (strstr(lines[i], text))
			return 1;
	return 0;
}

static void test_amd_tcg(void)
{
	struct compat_facts f = {
		.vendor = "AuthenticAMD", .brand = "QEMU TCG CPU version 2.5+", .backend = "svm",
		.features = KEEL_FEAT_NPT, .mem_total_mib = 2041, .mem_dom0_mib = 1022,
		.mem_pool_mib = 1018, .cpus = 4, .cpus_dom0 = 1, .cpus_pool = 2,
		.outer = "TCGTCGTCGTCG",
	};
	uint32_t n = compat_report(&f, lines);

	CHECK(n >= 7 && n <= COMPAT_MAX_LINES);
	CHECK_EQ_STR(lines[0], "CPU: AuthenticAMD, QEMU TCG CPU version 2.5+");
	CHECK_EQ_STR(lines[1], "virtualization: AMD-V, enabled; NPT yes, NRIPS no, "
		     "decode assists no");
	CHECK(has(n, "IOMMU: none in ACPI"));
	CHECK(has(n, "firmware: BIOS"));
	CHECK(has(n, "memory: 2041 MiB (dom0 1022, guests 1018); CPUs: 4 (dom0 1, guests 2)"));
	CHECK(has(n, "runs under QEMU TCG"));
	CHECK_EQ_STR(lines[n - 1], "Guests: yes");
}

static void test_intel_uefi(void)
{
	struct compat_facts f = {
		.vendor = "GenuineIntel", .backend = "vmx",
		.features = KEEL_FEAT_NPT | KEEL_FEAT_UNRESTRICTED_GUEST | KEEL_FEAT_VPID,
		.iommu = ACPI_IOMMU_DMAR, .uefi = true, .mem_total_mib = 16000, .cpus = 8,
		.cpus_dom0 = 2, .cpus_pool = 6,
	};
	uint32_t n = compat_report(&f, lines);

	CHECK_EQ_STR(lines[0], "CPU: GenuineIntel");
	CHECK(has(n, "Intel VT-x, enabled; EPT yes, unrestricted guest yes, VPID yes"));
	CHECK(has(n, "IOMMU: Intel VT-d (DMAR) in ACPI, not used by Keel"));
	CHECK(has(n, "firmware: UEFI"));
	CHECK(has(n, "this machine is not virtual"));
	CHECK_EQ_STR(lines[n - 1], "Guests: yes");
	f.iommu = ACPI_IOMMU_IVRS;
	memcpy(f.outer, "KVMKVMKVM\0\0\0", 13);
	n = compat_report(&f, lines);
	CHECK(has(n, "AMD-Vi (IVRS)"));
	CHECK(has(n, "runs under KVM"));
	memcpy(f.outer, "SomethingNew", 13);
	n = compat_report(&f, lines);
	CHECK(has(n, "runs under SomethingNew"));
}

static void test_no_guests(void)
{
	struct compat_facts f = {
		.vendor = "AuthenticAMD",
		.why_not = "AMD-V is disabled by the firmware; enable SVM Mode in the BIOS setup",
		.mem_total_mib = 1023, .cpus = 2,
	};
	uint32_t n = compat_report(&f, lines);

	CHECK(has(n, "virtualization: not usable (AMD-V is disabled by the firmware"));
	CHECK(has(n, "memory: 1023 MiB; CPUs: 2 (all for dom0)"));
	CHECK_EQ_STR(lines[n - 1], "Guests: no, because AMD-V is disabled by the firmware; "
		     "enable SVM Mode in the BIOS setup");
	f.why_not = NULL;
	f.backend = "svm";
	f.cpus = 1;
	f.cpus_dom0 = 1;
	n = compat_report(&f, lines);
	CHECK(strstr(lines[n - 1], "Guests: no, because every CPU went to dom0") != NULL);
	for (uint32_t i = 0; i < n; i++)
		CHECK(strlen(lines[i]) < COMPAT_LINE_BYTES - 1 && !strchr(lines[i], '\n'));
}

int main(void)
{
	test_amd_tcg();
	test_intel_uefi();
	test_no_guests();
	return harness_done("compat");
}
