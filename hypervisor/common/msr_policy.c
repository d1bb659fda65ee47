/*
 * Which model-specific configuration MSRs dom0 may only set bits in, and
 * what its writes to them become (see keel/msr_policy.h for why), and
 * which values the PAT MSR takes. The MSR
 * numbers are AMD's (the PPRs and BKDGs of families 10h-19h; the same
 * numbers are in Linux's msr-index.h). Intel has no such shared,
 * OS-written chicken-bit MSRs that Keel lets dom0 reach.
 */
#include <keel/msr_policy.h>
#include <keel/compiler.h>

struct shared_cfg_msr {
	uint32_t msr;
	const char *name;
};

static const struct shared_cfg_msr shared_cfg_msrs[] = {
	{ 0xC0011020u, "LS_CFG" },   /* load-store: SSBD on families 15h-17h */
	{ 0xC0011021u, "IC_CFG" },   /* instruction cache (family 15h errata) */
	{ 0xC0011022u, "DC_CFG" },   /* data cache (errata) */
	{ 0xC0011023u, "TW_CFG" },   /* table walker (errata) */
	{ 0xC0011028u, "FP_CFG" },   /* floating point (errata) */
	{ 0xC0011029u, "DE_CFG" },   /* decode: LFENCE serialising, Zenbleed */
	{ 0xC001102Au, "BU_CFG2" },  /* bus unit (errata) */
	{ 0xC001102Cu, "EX_CFG" },   /* execution unit (family 15h errata) */
	{ 0xC001102Eu, "BP_CFG" },   /* branch prediction (Zen 4 errata) */
	{ 0xC00110E3u, "SPECTRAL_CHICKEN" }, /* Zen 2 branch type confusion */
};

/* See keel/msr_policy.h. */
const char *msr_policy_shared_cfg(uint32_t msr)
{
	uint32_t i;

	for (i = 0; i < ARRAY_SIZE(shared_cfg_msrs); i++)
		if (shared_cfg_msrs[i].msr == msr)
			return shared_cfg_msrs[i].name;
	return 0;
}

/* See keel/msr_policy.h. */
uint64_t msr_policy_shared_cfg_write(uint64_t cur, uint64_t val)
{
	return cur | val;
}

/* See keel/msr_policy.h. */
bool msr_policy_pat_valid(uint64_t pat)
{
	uint32_t i;
	uint8_t type;

	for (i = 0; i < 8; i++) {
		type = (uint8_t)(pat >> (i * 8));
		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_MPX (3ull << 3)        /* BNDREGS, BNDCSR */
#define XCR0_AVX512 (7ull << 5)     /* opmask, ZMM_Hi256, Hi16_ZMM */

/* Whether XSETBV may load xcr0; see msr_policy.h. */
bool msr_policy_xcr0_valid(uint64_t xcr0, uint64_t supported)
{
	if (!(xcr0 & XCR0_X87) || (xcr0 & ~supported))
		return false;
	if ((xcr0 & XCR0_AVX) && !(xcr0 & XCR0_SSE))
		return false;
	if ((xcr0 & XCR0_MPX) && (xcr0 & XCR0_MPX) != XCR0_MPX)
		return false;
	if ((xcr0 & XCR0_AVX512) &&
	    ((xcr0 & XCR0_AVX512) != XCR0_AVX512 || !(xcr0 & XCR0_AVX)))
		return false;
	return true;
}
