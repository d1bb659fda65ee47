/*
 * Choosing the virtualization backend once at boot. The CPU vendor picks
 * the candidate (AMD-V on AMD and Hygon); its probe says whether it can
 * run. Intel VT-x has no backend yet, which is reported as such.
 */
#include <keel/virt.h>
#include <keel/arch.h>
#include <keel/errno.h>
#include <keel/printf.h>
#include <keel/string.h>

const struct virt_ops *virt;

/* Choose the backend for this machine; see virt.h. */
int virt_probe(char *why, uint32_t why_len)
{
	const char *vendor = arch_cpu_vendor();

	if (strcmp(vendor, "AuthenticAMD") == 0 || strcmp(vendor, "HygonGenuine") == 0)
		return svm_probe(&virt, why, why_len);
	if (strcmp(vendor, "GenuineIntel") == 0) {
		ksnprintf(why, why_len,
			  "Intel VT-x is not supported yet (the VMX backend is still to come)");
		return -ENOSYS;
	}
	ksnprintf(why, why_len, "unknown CPU vendor \"%s\"", vendor);
	return -ENOSYS;
}
