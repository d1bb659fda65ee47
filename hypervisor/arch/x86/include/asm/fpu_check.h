/*
 * Checks on an FPU/SSE/AVX save area that came from outside the
 * hypervisor (a saved guest's file, through dom0), made before the
 * hypervisor loads it with XRSTOR or FXRSTOR and the guest's XCR0 with
 * XSETBV: each of those raises #GP in the hypervisor itself on a value
 * the CPU rejects, so every such value must be refused first. Pure code.
 */
#ifndef ASM_FPU_CHECK_H
#define ASM_FPU_CHECK_H

#include <stdint.h>
#include <stdbool.h>

#define FPU_FXSAVE_BYTES 512u
#define FPU_XSAVE_HEADER_BYTES 64u

/* Whether XSETBV would take xcr0 on a CPU whose supported components are
 * host_xcr0 (Intel SDM vol. 2C, XSETBV: x87 always on, AVX needs SSE,
 * the three AVX-512 bits together and with AVX, MPX's two together,
 * AMX's two together; nothing the CPU lacks). */
bool fpu_xcr0_ok(uint64_t xcr0, uint64_t host_xcr0);

/*
 * Whether area (bytes long) can be loaded: with xsave, by XRSTOR in the
 * standard form with every component of rfbm requested (SDM vol. 1,
 * 13.8: XSTATE_BV within rfbm, XCOMP_BV and the header's reserved bytes
 * zero, MXCSR's reserved bits clear); without, by FXRSTOR (MXCSR alone).
 * mxcsr_mask holds the MXCSR bits the CPU implements.
 */
bool fpu_area_ok(const uint8_t *area, uint32_t bytes, bool xsave, uint64_t rfbm,
		 uint32_t mxcsr_mask);

#endif
