/*
 * FPU, SSE and AVX state of guest vCPUs. VMRUN does not switch it (AMD APM
 * vol. 2, 15.5.1 lists what it saves), and the hypervisor itself never uses
 * it (it is built with -mgeneral-regs-only), so the registers belong to the
 * vCPU last run on a CPU; when a CPU switches to another vCPU, the old one's
 * state is saved with XSAVE (or FXSAVE) and the new one's restored (Intel
 * SDM vol. 1, 13 "Managing State Using the XSAVE Feature Set").
 *
 * A guest sets XCR0 and CR4.OSFXSR without an exit, and legacy SSE works
 * whatever XCR0 says, so the switch never uses the guest's XCR0: it saves
 * and restores every component the CPU supports (XCR0 = all of them), and
 * only then loads the incoming vCPU's own XCR0. A new vCPU's area holds the
 * initial state (XSTATE_BV 0, FCW 0x37F, MXCSR 0x1F80), so it starts with
 * nothing of the vCPU that ran before it.
 */
#include <keel/arch.h>
#include <keel/vcpu.h>
#include <keel/errno.h>
#include <keel/log.h>
#include <keel/string.h>
#include <asm/x86.h>
#include <asm/fpu_check.h>

#define CPUID_1_ECX_XSAVE (1u << 26)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE (1ull << 18)
#define XCR0_X87 1ull
#define FXSAVE_BYTES 512u
#define FXSAVE_FCW_OFF 0
#define FXSAVE_MXCSR_OFF 24
#define FXSAVE_MXCSR_MASK_OFF 28
#define MXCSR_MASK_DEFAULT 0xFFBFu /* when FXSAVE stores 0 (SDM vol. 1, 11.6.6) */
#define FCW_INIT 0x037Fu   /* Intel SDM vol. 1, 8.1.5: FINIT's control word */
#define MXCSR_INIT 0x1F80u /* Intel SDM vol. 1, 10.2.3.1: all masked, RN */
#define XSAVE_HDR_OFF 512u   /* the XSAVE header follows the legacy area (SDM vol. 1, 13.4.2) */
#define XSAVE_HDR_BYTES 64u
#define XSAVE_FIRST_EXT 2u   /* components 0 (x87) and 1 (SSE) are in the legacy area */

static bool have_xsave;
static uint32_t area_bytes = FXSAVE_BYTES;
static uint64_t host_xcr0 = XCR0_X87; /* every user component the CPU has */
static uint32_t mxcsr_mask = MXCSR_MASK_DEFAULT;

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

/* The MXCSR bits this CPU implements, from an FXSAVE image. */
static void fpu_read_mxcsr_mask(void)
{
	static uint8_t img[FXSAVE_BYTES] __attribute__((aligned(16)));
	uint32_t m;

	__asm__ volatile("fxsave64 (%0)" : : "r"(img) : "memory");
	memcpy(&m, img + FXSAVE_MXCSR_MASK_OFF, sizeof(m));
	mxcsr_mask = m ? m : MXCSR_MASK_DEFAULT;
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
		/* CPUID.(EAX=0DH,ECX=0): EDX:EAX the XCR0 bits the CPU supports,
		 * ECX the area size with all of them enabled (SDM vol. 1, 13.2). */
		cpuid_count(0xD, 0, &r);
		host_xcr0 = ((uint64_t)r.edx << 32) | r.eax;
		area_bytes = r.ecx > FXSAVE_BYTES ? r.ecx : FXSAVE_BYTES;
		xsetbv0(host_xcr0);
	}
	fpu_read_mxcsr_mask();
}

/* Bytes a vCPU's save area needs (64-byte aligned allocation). */
uint32_t arch_fpu_area_bytes(void)
{
	return area_bytes;
}

/* Put the initial state into the zeroed save area of a new vCPU: with
 * XSTATE_BV 0, XRSTOR initializes every component but MXCSR, which it
 * always loads from the legacy area (SDM vol. 1, 13.8.1); FXRSTOR loads
 * the control words as they are. */
void arch_fpu_init_area(struct vcpu_fpu *f)
{
	uint8_t *a = f->area;
	uint16_t fcw = FCW_INIT;
	uint32_t mxcsr = MXCSR_INIT;

	__builtin_memcpy(a + FXSAVE_FCW_OFF, &fcw, sizeof(fcw));
	__builtin_memcpy(a + FXSAVE_MXCSR_OFF, &mxcsr, sizeof(mxcsr));
	f->xcr0 = XCR0_X87; /* XCR0's value after reset (SDM vol. 3A, 9.1.1) */
}

/* The components a save area holds (what XSAVE saves here), 0 when the
 * CPU has only FXSAVE. */
uint64_t arch_fpu_rfbm(void)
{
	return have_xsave ? host_xcr0 : 0;
}

/*
 * Load an XSAVE area saved on a CPU with other components (rfbm, bytes
 * long; a guest that moved here): the legacy area and the header as they
 * are, each component both CPUs have from its standard-format offset
 * (CPUID.(EAX=0DH,ECX=i).EBX; SDM vol. 1, 13.4.3: the same layout on
 * every CPU for the components guests get), XSTATE_BV cut to this CPU's,
 * and the rest in its initial state. Refused (-EINVAL) if the guest had
 * enabled a component (xcr0) this CPU lacks, or the area is too short;
 * f->area may be written before a refusal, which leaves the domain unfit
 * to start anyway (KEEL_HC_DOMAIN_STATE SET).
 */
static int fpu_load_other(struct vcpu_fpu *f, uint64_t xcr0, uint64_t rfbm, const uint8_t *src,
			  uint32_t bytes)
{
	uint64_t both = rfbm & host_xcr0, bv;
	uint8_t *out = f->area;
	struct cpuid_regs r;
	uint32_t i;

	if ((xcr0 & ~both) || !fpu_xcr0_ok(xcr0, host_xcr0) ||
	    bytes < XSAVE_HDR_OFF + XSAVE_HDR_BYTES) {
		log_warn("saved FPU state refused: the guest's XCR0 %#llx, saved with "
			 "components %#llx, this CPU's %#llx\n", (unsigned long long)xcr0,
			 (unsigned long long)rfbm, (unsigned long long)host_xcr0);
		return -EINVAL;
	}
	for (i = XSAVE_FIRST_EXT; i < 63; i++) {
		cpuid_count(0xD, i, &r); /* EAX size, EBX offset */
		if (((both >> i) & 1) && ((uint64_t)r.ebx + r.eax > bytes ||
					  (uint64_t)r.ebx + r.eax > area_bytes))
			return -EINVAL;
	}
	memset(out, 0, area_bytes);
	memcpy(out, src, XSAVE_HDR_OFF + XSAVE_HDR_BYTES);
	memcpy(&bv, out + XSAVE_HDR_OFF, sizeof(bv));
	bv &= both;
	memcpy(out + XSAVE_HDR_OFF, &bv, sizeof(bv));
	for (i = XSAVE_FIRST_EXT; i < 63; i++) {
		if (!((both >> i) & 1))
			continue;
		cpuid_count(0xD, i, &r);
		memcpy(out + r.ebx, src + r.ebx, r.eax);
	}
	if (!fpu_area_ok(out, area_bytes, true, host_xcr0, mxcsr_mask)) {
		log_warn("saved FPU state refused: its area does not fit this CPU once "
			 "converted (components %#llx to %#llx)\n", (unsigned long long)rfbm,
			 (unsigned long long)host_xcr0);
		return -EINVAL;
	}
	f->xcr0 = xcr0;
	return 0;
}

/* Load a saved guest's FPU state into f, after checking everything that
 * would make XRSTOR, FXRSTOR or XSETBV fault (asm/fpu_check.h): rfbm and
 * bytes are this CPU's own (arch_fpu_rfbm, arch_fpu_area_bytes), or, for
 * XSAVE areas, another CPU's that fpu_load_other converts. 0, or -EINVAL
 * (f unchanged when rfbm is this CPU's). */
int arch_fpu_load(struct vcpu_fpu *f, uint64_t xcr0, uint64_t rfbm, const void *area,
		  uint32_t bytes)
{
	if (have_xsave && rfbm && (rfbm != host_xcr0 || bytes != area_bytes))
		return fpu_load_other(f, xcr0, rfbm, area, bytes);
	if (rfbm != arch_fpu_rfbm() || bytes != area_bytes)
		return -EINVAL;
	if (have_xsave ? !fpu_xcr0_ok(xcr0, host_xcr0) : xcr0 != XCR0_X87)
		return -EINVAL;
	if (!fpu_area_ok(area, bytes, have_xsave, rfbm, mxcsr_mask))
		return -EINVAL;
	memcpy(f->area, area, bytes);
	f->xcr0 = xcr0;
	return 0;
}

/* Save the CPU's FPU state into f: every supported component, whatever
 * XCR0 the guest left loaded, which is kept in f->xcr0. */
void arch_fpu_save(struct vcpu_fpu *f)
{
	if (have_xsave) {
		f->xcr0 = xgetbv0();
		if (f->xcr0 != host_xcr0)
			xsetbv0(host_xcr0);
		__asm__ volatile("xsave64 (%0)"
				 : : "r"(f->area), "a"((uint32_t)host_xcr0),
				   "d"((uint32_t)(host_xcr0 >> 32)) : "memory");
	} else {
		__asm__ volatile("fxsave64 (%0)" : : "r"(f->area) : "memory");
	}
}

/* Load f into the CPU, every supported component (those the area does not
 * hold take their initial state), then the vCPU's own XCR0. The CPU may
 * still hold a destroyed vCPU's XCR0 (nothing saved it), hence the check. */
void arch_fpu_restore(const struct vcpu_fpu *f)
{
	if (have_xsave) {
		if (xgetbv0() != host_xcr0)
			xsetbv0(host_xcr0);
		__asm__ volatile("xrstor64 (%0)"
				 : : "r"(f->area), "a"((uint32_t)host_xcr0),
				   "d"((uint32_t)(host_xcr0 >> 32)) : "memory");
		if (f->xcr0 != host_xcr0)
			xsetbv0(f->xcr0);
	} else {
		__asm__ volatile("fxrstor64 (%0)" : : "r"(f->area) : "memory");
	}
}

/*
 * The vector registers of the running vCPU, which the calling CPU holds,
 * for emulated 16- and 32-byte MMIO moves. One asm statement per register,
 * since the register number is in the instruction (SDM vol. 2A 2.3.5).
 * The YMM forms need AVX in XCR0, which the guest has whenever it ran the
 * VEX instruction being emulated.
 */
#define VEC_CASES(insn, reg_fmt, out_c, in_c)                                        \
	VEC_CASE(0, insn, reg_fmt, out_c, in_c) VEC_CASE(1, insn, reg_fmt, out_c, in_c)     \
	VEC_CASE(2, insn, reg_fmt, out_c, in_c) VEC_CASE(3, insn, reg_fmt, out_c, in_c)     \
	VEC_CASE(4, insn, reg_fmt, out_c, in_c) VEC_CASE(5, insn, reg_fmt, out_c, in_c)     \
	VEC_CASE(6, insn, reg_fmt, out_c, in_c) VEC_CASE(7, insn, reg_fmt, out_c, in_c)     \
	VEC_CASE(8, insn, reg_fmt, out_c, in_c) VEC_CASE(9, insn, reg_fmt, out_c, in_c)     \
	VEC_CASE(10, insn, reg_fmt, out_c, in_c) VEC_CASE(11, insn, reg_fmt, out_c, in_c)   \
	VEC_CASE(12, insn, reg_fmt, out_c, in_c) VEC_CASE(13, insn, reg_fmt, out_c, in_c)   \
	VEC_CASE(14, insn, reg_fmt, out_c, in_c) VEC_CASE(15, insn, reg_fmt, out_c, in_c)

/* Store register n to buf (out_c = 1) or load it from buf (in_c = 1). */
#define VEC_CASE(n, insn, reg_fmt, out_c, in_c)                                       \
	case n:                                                                       \
		if (out_c)                                                            \
			__asm__ volatile(insn " %%" reg_fmt #n ", %0" : "=m"(*(uint8_t (*)[32])buf)); \
		else                                                                  \
			__asm__ volatile(insn " %0, %%" reg_fmt #n : : "m"(*(const uint8_t (*)[32])buf)); \
		break;

/* Copy the low size bytes (16: XMM, 32: YMM) of vector register reg (0-15)
 * to out (for an emulated MMIO store). */
void arch_vec_read(uint8_t reg, uint8_t *out, uint32_t size)
{
	uint8_t *buf = out;

	if (size == 32) {
		switch (reg & 15) { VEC_CASES("vmovdqu", "ymm", 1, 0) }
	} else {
		switch (reg & 15) { VEC_CASES("movdqu", "xmm", 1, 0) }
	}
}

/* Load size bytes from in into vector register reg (an emulated MMIO
 * load): 32 fill YMM; 16 fill XMM and, for a VEX-encoded load (vex),
 * clear the bits above as the VEX form does (SDM vol. 2A 2.3.10), or
 * keep them for the legacy SSE form. */
void arch_vec_write(uint8_t reg, const uint8_t *in, uint32_t size, bool vex)
{
	const uint8_t *buf = in;

	if (size == 32) {
		switch (reg & 15) { VEC_CASES("vmovdqu", "ymm", 0, 1) }
	} else if (vex) {
		switch (reg & 15) { VEC_CASES("vmovdqu", "xmm", 0, 1) }
	} else {
		switch (reg & 15) { VEC_CASES("movdqu", "xmm", 0, 1) }
	}
}
