/*
 * Unit tests for hypervisor/common/cpuid_seen.c, the CPU features a guest
 * keeps wherever it moves: taken from a machine's guest policy without
 * the bits that follow the guest's CR4 or the hypervisor, laid over the
 * CPUID answers of a machine with more, and compared with a machine with
 * fewer (the first missing feature named as word * 32 + bit).
 */
#include "../../hypervisor/common/cpuid_seen.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

/* A machine's guest CPUID: every register of every leaf reads "full",
 * except what the test takes away. */
static uint32_t full = 0xffffffffu;
static uint32_t leaf7_ebx = 0xffffffffu;

static void machine(uint32_t leaf, uint32_t subleaf, struct cpuid_out *o)
{
	o->eax = o->ebx = o->ecx = o->edx = full;
	if (leaf == 7 && subleaf == 0)
		o->ebx = leaf7_ebx;
}

int main(void)
{
	uint32_t big[KEEL_CPUID_WORDS], small[KEEL_CPUID_WORDS];
	struct cpuid_out o;

	cpuid_seen_take(big, machine);
	CHECK_EQ_U64(big[KEEL_CPUID_WORD_1_ECX], 0x77ffffffu); /* no OSXSAVE, hypervisor */
	CHECK_EQ_U64(big[KEEL_CPUID_WORD_7_ECX], 0xffffffefu); /* no OSPKE */
	CHECK_EQ_U64(big[KEEL_CPUID_WORD_7_EBX], 0xffffffffu);
	leaf7_ebx = ~(1u << 16); /* no AVX512F */
	cpuid_seen_take(small, machine);
	CHECK_EQ_U64(small[KEEL_CPUID_WORD_7_EBX], 0xfffeffffu);
	/* big's guest may not run on small: leaf 7 EBX bit 16 is named */
	CHECK_EQ_INT(cpuid_seen_missing(small, big), KEEL_CPUID_WORD_7_EBX * 32 + 16);
	/* small's guest may run on big, and on small */
	CHECK_EQ_INT(cpuid_seen_missing(big, small), -1);
	CHECK_EQ_INT(cpuid_seen_missing(small, small), -1);
	/* on big, small's guest is not offered AVX512F, but its dynamic bits
	 * pass: OSXSAVE and the hypervisor bit in leaf 1, OSPKE in leaf 7 */
	machine(7, 0, &o);
	o.ebx = 0xffffffffu;
	cpuid_seen_apply(small, 7, 0, &o);
	CHECK_EQ_U64(o.ebx, 0xfffeffffu);
	CHECK_EQ_U64(o.ecx, 0xffffffffu);
	small[KEEL_CPUID_WORD_1_ECX] = 0;
	machine(1, 0, &o);
	cpuid_seen_apply(small, 1, 0, &o);
	CHECK_EQ_U64(o.ecx, 0x88000000u);
	/* other leaves and subleaves are untouched */
	machine(7, 1, &o);
	cpuid_seen_apply(small, 7, 1, &o);
	CHECK_EQ_U64(o.ebx, 0xffffffffu);
	machine(0xd, 0, &o);
	cpuid_seen_apply(small, 0xd, 0, &o);
	CHECK_EQ_U64(o.eax, 0xffffffffu);
	/* a dynamic bit wanted but absent is no reason to refuse */
	memcpy(big, small, sizeof(big));
	small[KEEL_CPUID_WORD_7_ECX] &= ~(1u << 4);
	big[KEEL_CPUID_WORD_7_ECX] |= 1u << 4;
	CHECK_EQ_INT(cpuid_seen_missing(small, big), -1);
	/* the last word too: XSAVEC (leaf 0xD.1 EAX bit 1) */
	big[KEEL_CPUID_WORD_D1_EAX] = 2;
	small[KEEL_CPUID_WORD_D1_EAX] = 0;
	CHECK_EQ_INT(cpuid_seen_missing(small, big), KEEL_CPUID_WORD_D1_EAX * 32 + 1);
	return harness_done("cpuid_seen");
}
