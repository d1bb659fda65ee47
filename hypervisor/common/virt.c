/*
 * Choosing the virtualization backend once at boot. The CPU vendor picks
 * the candidate (AMD-V on AMD and Hygon, VT-x on Intel); its probe says
 * whether it can run, and if not, why.
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
	if (strcmp(vendor, "GenuineIntel") == 0)
		return vmx_probe(&virt, why, why_len);
	ksnprintf(why, why_len, "unknown CPU vendor \"%s\"", vendor);
	return -ENOSYS;
}
