/*
 * FPU, SSE and AVX state of guest vCPUs. VMRUN does not switch it (AMD APM
 * vol. 2, 15.5.1 lists what it saves), and the hypervisor itself never uses
 * it (it is built with -mgeneral-regs-only), so the registers belong to the
 * vCPU last run on a CPU; when a CPU switches to another vCPU, the old one's
 * state is saved with XSAVE (or FXSAVE) and the new one's restored, XCR0
 * included (Intel SDM vol. 1, 13 "Managing State Using the XSAVE Feature
 * Set").
 */
#include <keel/arch.h>
#include <keel/vcpu.h>
#include <asm/x86.h>

#define CPUID_1_ECX_XSAVE (1u << 26)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE (1ull << 18)
#define XCR0_X87 1ull
#define FXSAVE_BYTES 512u

static bool have_xsave;
static uint32_t area_bytes = FXSAVE_BYTES;

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static void xsetbv0(uint64_t v)
{
	__asm__ volatile("xsetbv" : : "a"((uint32_t)v), "d"((uint32_t)(v >> 32)), "c"(0));
}

/* Let the calling CPU save and restore FPU state: CR0.EM/TS clear, CR4's
 * OSFXSR and (when the CPU has it) OSXSAVE set. Call on every guest CPU. */
void arch_fpu_init_cpu(void)
{
	struct cpuid_regs r;
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();

	cpuid_count(1, 0, &r);
	have_xsave = (r.ecx & CPUID_1_ECX_XSAVE) != 0;
	cr0 = (cr0 & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE;
	cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT | (have_xsave ? CR4_OSXSAVE : 0);
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	if (have_xsave) {
		cpuid_count(0xD, 0, &r);
		area_bytes = r.ecx > FXSAVE_BYTES ? r.ecx : FXSAVE_BYTES;
	}
}

/* Bytes a vCPU's save area needs (64-byte aligned allocation). */
uint32_t arch_fpu_area_bytes(void)
{
	return area_bytes;
}

/* Save the CPU's FPU state into f. */
void arch_fpu_save(struct vcpu_fpu *f)
{
	if (have_xsave) {
		f->xcr0 = xgetbv0();
		__asm__ volatile("xsave64 (%0)"
				 : : "r"(f->area), "a"((uint32_t)f->xcr0),
				   "d"((uint32_t)(f->xcr0 >> 32)) : "memory");
	} else {
		__asm__ volatile("fxsave64 (%0)" : : "r"(f->area) : "memory");
	}
}

/* Load f into the CPU. A zeroed area is the initial state. */
void arch_fpu_restore(const struct vcpu_fpu *f)
{
	uint64_t xcr0 = f->xcr0 ? f->xcr0 : XCR0_X87;

	if (have_xsave) {
		xsetbv0(xcr0);
		__asm__ volatile("xrstor64 (%0)"
				 : : "r"(f->area), "a"((uint32_t)xcr0),
				   "d"((uint32_t)(xcr0 >> 32)) : "memory");
	} else {
		__asm__ volatile("fxrstor64 (%0)" : : "r"(f->area) : "memory");
	}
}
