/*
 * Debug address registers DR0-DR3 of guest vCPUs. The VMCB holds only DR6
 * and DR7 (AMD APM vol. 2, 15.5.1 and appendix B), and guests reach DR0-DR3
 * without an exit, so like the FPU they belong to the vCPU last run on a
 * CPU and are switched with it: saved from the vCPU going and loaded for
 * the one coming, a new vCPU's being 0 (their value after reset, APM vol.
 * 2, 13.1.1). The hypervisor never enables a breakpoint (its DR7 is 0x400
 * after each #VMEXIT), so guest addresses left in them are harmless there.
 */
#include <keel/arch.h>

/* Save the calling CPU's DR0-DR3 into dr[0..3]. */
void arch_dr_save(uint64_t dr[4])
{
	__asm__ volatile("mov %%dr0, %0" : "=r"(dr[0]));
	__asm__ volatile("mov %%dr1, %0" : "=r"(dr[1]));
	__asm__ volatile("mov %%dr2, %0" : "=r"(dr[2]));
	__asm__ volatile("mov %%dr3, %0" : "=r"(dr[3]));
}

/* Load dr[0..3] into the calling CPU's DR0-DR3. */
void arch_dr_restore(const uint64_t dr[4])
{
	__asm__ volatile("mov %0, %%dr0" : : "r"(dr[0]));
	__asm__ volatile("mov %0, %%dr1" : : "r"(dr[1]));
	__asm__ volatile("mov %0, %%dr2" : : "r"(dr[2]));
	__asm__ volatile("mov %0, %%dr3" : : "r"(dr[3]));
}
