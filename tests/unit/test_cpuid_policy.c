/*
 * Unit tests for hypervisor/common/cpuid_policy.c: Keel's signature and
 * version leaves, the empty rest of the hypervisor range, the hypervisor
 * bit, and SVM/VMX hidden from dom0 while other leaves pass unchanged.
 */
#include "../../hypervisor/common/cpuid_policy.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

static struct cpuid_out ones(void)
{
	struct cpuid_out o = { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff };
	return o;
}

static void test_signature(void)
{
	struct cpuid_out o = ones();
	char sig[13] = { 0 };

	cpuid_policy_dom0(0x40000000, 0, 0, 0x000100, &o);
	CHECK_EQ_U64(o.eax, 0x40000001);
	memcpy(sig, &o.ebx, 4);
	memcpy(sig + 4, &o.ecx, 4);
	memcpy(sig + 8, &o.edx, 4);
	CHECK_EQ_STR(sig, "KeelKeelKeel");
	o = ones();
	cpuid_policy_dom0(0x40000001, 0, 0, 0x000100, &o);
	CHECK_EQ_U64(o.eax, 0x000100);
	CHECK_EQ_U64(o.ebx, KEEL_ABI_VERSION);
	CHECK_EQ_U64(o.ecx, 0);
	/* Linux probes Xen/KVM at 0x40000100 steps: all zero, no signature. */
	for (uint32_t leaf = 0x40000100; leaf < 0x40010000; leaf += 0x100) {
		o = ones();
		cpuid_policy_dom0(leaf, 0, 0, 1, &o);
		CHECK(o.eax == 0 && o.ebx == 0 && o.ecx == 0 && o.edx == 0);
	}
}

static void test_feature_bits(void)
{
	struct cpuid_out o = ones();

	cpuid_policy_dom0(1, 0, 0, 1, &o);
	CHECK_EQ_U64(o.ecx & (1u << 31), 1u << 31);
	CHECK_EQ_U64(o.ecx & (1u << 5), 0);          /* VMX hidden */
	CHECK_EQ_U64(o.ecx & (1u << 27), 0);         /* OSXSAVE: dom0's CR4 has none */
	o = ones();
	cpuid_policy_dom0(1, 0, 1ull << 18, 1, &o);
	CHECK_EQ_U64(o.ecx & (1u << 27), 1u << 27);  /* OSXSAVE follows dom0's CR4 */
	o = (struct cpuid_out){ 0, 0, 0, 0 };
	cpuid_policy_dom0(1, 0, 1ull << 18, 1, &o);
	CHECK_EQ_U64(o.ecx & (1u << 27), 1u << 27);  /* not the hypervisor's */
	o = ones();
	cpuid_policy_dom0(7, 0, 0, 1, &o);
	CHECK_EQ_U64(o.ecx & (1u << 4), 0);          /* OSPKE: no CR4.PKE */
	o = (struct cpuid_out){ 0, 0, 0, 0 };
	cpuid_policy_dom0(7, 0, 1ull << 22, 1, &o);
	CHECK_EQ_U64(o.ecx, 1u << 4);
	o = ones();
	cpuid_policy_dom0(1, 0, 0, 1, &o);
	CHECK_EQ_U64(o.edx, 0xffffffff);
	o = (struct cpuid_out){ 0, 0, 0, 0 };
	cpuid_policy_dom0(1, 0, 0, 1, &o);
	CHECK_EQ_U64(o.ecx, 1u << 31);               /* set even if absent */
	o = ones();
	cpuid_policy_dom0(0x80000001, 0, 0, 1, &o);
	CHECK_EQ_U64(o.ecx, 0xffffffff & ~4u);       /* SVM hidden */
	CHECK_EQ_U64(o.edx, 0xffffffff);
	o = ones();
	cpuid_policy_dom0(0x8000000A, 0, 0, 1, &o);     /* SVM leaf empty */
	CHECK(o.eax == 0 && o.ebx == 0 && o.ecx == 0 && o.edx == 0);
	o = ones();
	cpuid_policy_dom0(7, 0, 0, 1, &o);              /* others untouched */
	CHECK(o.eax == 0xffffffff && o.ebx == 0xffffffff && o.edx == 0xffffffff);
}

/* Guests see the speculation controls the CPU has (the hypervisor makes
 * them work) but none whose MSR it does not emulate. */
static void test_guest_speculation_bits(void)
{
	struct cpuid_out o = ones();

	cpuid_policy_guest(7, 0, 0, 0, 1, &o);
	CHECK_EQ_U64(o.edx & ((1u << 26) | (1u << 27) | (1u << 31)),
		     (1u << 26) | (1u << 27) | (1u << 31)); /* IBRS/IBPB, STIBP, SSBD */
	CHECK_EQ_U64(o.edx & ((1u << 28) | (1u << 29) | (1u << 30)), 0);
	o = (struct cpuid_out){ 0, 0, 0, 0 };
	cpuid_policy_guest(7, 0, 0, 0, 1, &o);
	CHECK_EQ_U64(o.edx, 0);                       /* absent stays absent */
	o = ones();
	cpuid_policy_guest(0x80000008, 0, 0, 0, 1, &o);
	CHECK_EQ_U64(o.ebx, 0xffffffff & ~(1u << 25)); /* no VIRT_SSBD */
	CHECK_EQ_U64(o.ecx, 0);
}

/* Leaves 0x15/0x16 that contradict the measured TSC are hidden (Bochs:
 * 3.5 GHz claimed, 200 MHz counted); honest ones pass untouched. */
static void test_tsc_leaves(void)
{
	/* Skylake-style: 24 MHz crystal x 292/2 = 3504 MHz */
	struct cpuid_out l15 = { 2, 292, 24000000, 0 }, l16 = { 3500, 3900, 100, 0 };
	struct cpuid_out o;

	o = l15;
	cpuid_policy_tsc(0x15, 3504000, &o);
	CHECK_EQ_U64(o.ebx, 292);                     /* agrees: kept */
	o = l15;
	cpuid_policy_tsc(0x15, 3400000, &o);
	CHECK_EQ_U64(o.ecx, 24000000);                /* within 5 %: kept */
	o = l15;
	cpuid_policy_tsc(0x15, 200008, &o);
	CHECK_EQ_U64(o.eax | o.ebx | o.ecx | o.edx, 0); /* contradicts: hidden */
	o = l16;
	cpuid_policy_tsc(0x16, 200008, &o);
	CHECK_EQ_U64(o.eax | o.ebx | o.ecx | o.edx, 0);
	o = l16;
	cpuid_policy_tsc(0x16, 3504000, &o);
	CHECK_EQ_U64(o.eax, 3500);
	o = l15;
	cpuid_policy_tsc(0x15, 0, &o);                /* not measured: trust */
	CHECK_EQ_U64(o.ebx, 292);
	o = (struct cpuid_out){ 2, 292, 0, 0 };       /* crystal from leaf 0x16 */
	cpuid_policy_tsc(0x15, 200008, &o);
	CHECK_EQ_U64(o.ebx, 292);
	o = l15;
	cpuid_policy_tsc(0x1, 200008, &o);            /* other leaves untouched */
	CHECK_EQ_U64(o.ecx, 24000000);
}

int main(void)
{
	test_signature();
	test_feature_bits();
	test_guest_speculation_bits();
	test_tsc_leaves();
	return harness_done("cpuid_policy");
}
