/*
 * A guest's CPU features travel with it (cpuid_seen.h). Linux, glibc and
 * programs read CPUID once and use what it offered from then on, so a
 * guest that moves to another machine must keep being offered exactly
 * what it booted with, and may move only to a CPU that has all of it;
 * this is the migration-safe baseline, made per guest from the machine it
 * booted on. Eight feature words are kept (KEEL_CPUID_WORD_*, Intel SDM
 * vol. 2A "CPUID"; AMD APM vol. 3, appendix E); other leaves (cache and
 * topology, the XSAVE sizes) describe the machine and follow it. Pure
 * code, unit-tested on the host.
 */
#include <keel/cpuid_seen.h>

#define BIT(n) (1u << (n))

/* Where each word lives, and the bits that follow the guest's own state
 * or the hypervisor rather than the CPU (never compared, never masked). */
static const struct {
	uint32_t leaf, subleaf;
	uint8_t reg; /* 0 eax, 1 ebx, 2 ecx, 3 edx */
	uint32_t dynamic;
} word_at[KEEL_CPUID_WORDS] = {
	[KEEL_CPUID_WORD_1_ECX] = { 0x1, 0, 2, BIT(27) | BIT(31) }, /* OSXSAVE, hypervisor */
	[KEEL_CPUID_WORD_1_EDX] = { 0x1, 0, 3, 0 },
	[KEEL_CPUID_WORD_7_EBX] = { 0x7, 0, 1, 0 },
	[KEEL_CPUID_WORD_7_ECX] = { 0x7, 0, 2, BIT(4) },             /* OSPKE */
	[KEEL_CPUID_WORD_7_EDX] = { 0x7, 0, 3, 0 },
	[KEEL_CPUID_WORD_E1_ECX] = { 0x80000001u, 0, 2, 0 },
	[KEEL_CPUID_WORD_E1_EDX] = { 0x80000001u, 0, 3, 0 },
	[KEEL_CPUID_WORD_D1_EAX] = { 0xD, 1, 0, 0 },
};

static uint32_t *reg_of(struct cpuid_out *o, uint8_t reg)
{
	return reg == 0 ? &o->eax : reg == 1 ? &o->ebx : reg == 2 ? &o->ecx : &o->edx;
}

/*
 * Fill words with what src says a guest is given here, without the
 * dynamic bits. Called once when a guest is built (not a clone, which
 * keeps its original's).
 */
void cpuid_seen_take(uint32_t words[KEEL_CPUID_WORDS], cpuid_seen_source src)
{
	struct cpuid_out o;
	uint32_t i;

	for (i = 0; i < KEEL_CPUID_WORDS; i++) {
		src(word_at[i].leaf, word_at[i].subleaf, &o);
		words[i] = *reg_of(&o, word_at[i].reg) & ~word_at[i].dynamic;
	}
}

/*
 * Take from the CPUID answer o (for leaf/subleaf, after the guest
 * policy) every feature bit that words does not have, so the guest is
 * never offered a feature it did not boot with.
 */
void cpuid_seen_apply(const uint32_t words[KEEL_CPUID_WORDS], uint32_t leaf,
		      uint32_t subleaf, struct cpuid_out *o)
{
	uint32_t i;

	for (i = 0; i < KEEL_CPUID_WORDS; i++) {
		if (word_at[i].leaf == leaf && word_at[i].subleaf == subleaf)
			*reg_of(o, word_at[i].reg) &= words[i] | word_at[i].dynamic;
	}
}

/*
 * The first feature in want that have lacks, as word * 32 + bit, or -1
 * if have has them all (the guest may run here).
 */
int32_t cpuid_seen_missing(const uint32_t have[KEEL_CPUID_WORDS],
			   const uint32_t want[KEEL_CPUID_WORDS])
{
	uint32_t i, b, lack;

	for (i = 0; i < KEEL_CPUID_WORDS; i++) {
		lack = want[i] & ~have[i] & ~word_at[i].dynamic;
		for (b = 0; lack && b < 32; b++) {
			if (lack & BIT(b))
				return (int32_t)(i * 32 + b);
		}
	}
	return -1;
}
