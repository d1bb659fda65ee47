/*
 * The checks of asm/fpu_check.h: whether a save area and an XCR0 value
 * from a saved guest would load without a fault in the hypervisor.
 * Pure code, built into the unit tests as well.
 */
#include "include/asm/fpu_check.h"

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_MPX (3ull << 3)        /* BNDREGS, BNDCSR */
#define XCR0_AVX512 (7ull << 5)     /* opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_AMX (3ull << 17)       /* XTILECFG, XTILEDATA */
#define FXSAVE_MXCSR_OFF 24u

static bool all_or_none(uint64_t v, uint64_t bits)
{
	return (v & bits) == 0 || (v & bits) == bits;
}

/* See asm/fpu_check.h. */
bool fpu_xcr0_ok(uint64_t xcr0, uint64_t host_xcr0)
{
	if (!(xcr0 & XCR0_X87) || (xcr0 & ~host_xcr0))
		return false;
	if ((xcr0 & XCR0_AVX) && !(xcr0 & XCR0_SSE))
		return false;
	if (!all_or_none(xcr0, XCR0_AVX512) || !all_or_none(xcr0, XCR0_MPX) ||
	    !all_or_none(xcr0, XCR0_AMX))
		return false;
	return !(xcr0 & XCR0_AVX512) || (xcr0 & XCR0_AVX);
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* See asm/fpu_check.h. */
bool fpu_area_ok(const uint8_t *area, uint32_t bytes, bool xsave, uint64_t rfbm,
		 uint32_t mxcsr_mask)
{
	uint32_t mxcsr, i;

	if (bytes < FPU_FXSAVE_BYTES + (xsave ? FPU_XSAVE_HEADER_BYTES : 0))
		return false;
	mxcsr = (uint32_t)get_u64(area + FXSAVE_MXCSR_OFF);
	if (mxcsr & ~mxcsr_mask)
		return false;
	if (!xsave)
		return true;
	if (get_u64(area + FPU_FXSAVE_BYTES) & ~rfbm)   /* XSTATE_BV */
		return false;
	for (i = 8; i < FPU_XSAVE_HEADER_BYTES; i++)    /* XCOMP_BV, reserved */
		if (area[FPU_FXSAVE_BYTES + i])
			return false;
	return true;
}
