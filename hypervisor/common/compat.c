/*
 * Formats the compatibility report (keel/compat.h) from facts the caller
 * gathered: the CPU, the virtualization extension and what it offers
 * (second-level paging, unrestricted guest, NRIPS, decode assists), an
 * IOMMU in ACPI, the firmware, memory and CPUs with their split, whether
 * the machine is itself virtual, and a one-line verdict. Pure.
 */
#include <keel/acpi.h>
#include <keel/compat.h>
#include <keel/printf.h>
#include <keel/string.h>
#include <public/keel_abi.h>

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static void line_cpu(const struct compat_facts *f, char *l)
{
	ksnprintf(l, COMPAT_LINE_BYTES, "CPU: %s%s%s", f->vendor, f->brand[0] ? ", " : "",
		  f->brand);
}

static void line_virt(const struct compat_facts *f, char *l)
{
	bool intel = !strcmp(f->backend ? f->backend : "", "vmx");

	if (!f->backend)
		ksnprintf(l, COMPAT_LINE_BYTES, "virtualization: not usable (%s)", f->why_not);
	else if (intel)
		ksnprintf(l, COMPAT_LINE_BYTES, "virtualization: Intel VT-x, enabled; EPT %s, "
			  "unrestricted guest %s, VPID %s", yes_no(f->features & KEEL_FEAT_NPT),
			  yes_no(f->features & KEEL_FEAT_UNRESTRICTED_GUEST),
			  yes_no(f->features & KEEL_FEAT_VPID));
	else
		ksnprintf(l, COMPAT_LINE_BYTES, "virtualization: AMD-V, enabled; NPT %s, NRIPS %s, "
			  "decode assists %s", yes_no(f->features & KEEL_FEAT_NPT),
			  yes_no(f->features & KEEL_FEAT_NRIPS),
			  yes_no(f->features & KEEL_FEAT_DECODE_ASSISTS));
}

static void line_iommu(const struct compat_facts *f, char *l)
{
	const char *which = (f->iommu & ACPI_IOMMU_DMAR) ? "Intel VT-d (DMAR)" :
			    (f->iommu & ACPI_IOMMU_IVRS) ? "AMD-Vi (IVRS)" : NULL;

	if (which)
		ksnprintf(l, COMPAT_LINE_BYTES, "IOMMU: %s in ACPI, not used by Keel", which);
	else
		ksnprintf(l, COMPAT_LINE_BYTES, "IOMMU: none in ACPI");
}

static void line_split(const struct compat_facts *f, char *l)
{
	if (f->backend)
		ksnprintf(l, COMPAT_LINE_BYTES, "memory: %llu MiB (dom0 %llu, guests %llu); "
			  "CPUs: %u (dom0 %u, guests %u)", (unsigned long long)f->mem_total_mib,
			  (unsigned long long)f->mem_dom0_mib, (unsigned long long)f->mem_pool_mib,
			  f->cpus, f->cpus_dom0, f->cpus_pool);
	else
		ksnprintf(l, COMPAT_LINE_BYTES, "memory: %llu MiB; CPUs: %u (all for dom0)",
			  (unsigned long long)f->mem_total_mib, f->cpus);
}

static void line_outer(const struct compat_facts *f, char *l)
{
	static const struct { const char *sig, *name; } known[] = {
		{ "TCGTCGTCGTCG", "QEMU TCG" }, { "KVMKVMKVM", "KVM" },
		{ "VMwareVMware", "VMware" }, { "Microsoft Hv", "Hyper-V" },
		{ "VBoxVBoxVBox", "VirtualBox" }, { "XenVMMXenVMM", "Xen" },
		{ "KeelKeelKeel", "Keel" }, { "bhyve bhyve ", "bhyve" },
	};
	const char *name = f->outer;
	uint32_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(f->outer, known[i].sig))
			name = known[i].name;
	if (f->outer[0])
		ksnprintf(l, COMPAT_LINE_BYTES, "this machine is virtual: it runs under %s", name);
	else
		ksnprintf(l, COMPAT_LINE_BYTES, "this machine is not virtual (no hypervisor "
			  "signature in CPUID)");
}

/* Format the report; see compat.h. */
uint32_t compat_report(const struct compat_facts *f, char lines[][COMPAT_LINE_BYTES])
{
	uint32_t n = 0;

	line_cpu(f, lines[n++]);
	line_virt(f, lines[n++]);
	line_iommu(f, lines[n++]);
	ksnprintf(lines[n++], COMPAT_LINE_BYTES, "firmware: %s",
		  f->uefi ? "UEFI (Secure Boot off: an unsigned loader started Keel)" : "BIOS");
	line_split(f, lines[n++]);
	line_outer(f, lines[n++]);
	if (f->backend && f->cpus_pool)
		ksnprintf(lines[n++], COMPAT_LINE_BYTES, "Guests: yes");
	else if (f->backend)
		ksnprintf(lines[n++], COMPAT_LINE_BYTES, "Guests: no, because every CPU went to "
			  "dom0; boot with more CPUs or a smaller dom0_cpus=");
	else
		ksnprintf(lines[n++], COMPAT_LINE_BYTES, "Guests: no, because %s", f->why_not);
	return n;
}
