/*
 * Unit tests for hypervisor/arch/x86/vmx/vmx_caps.c: control fields
 * adjusted to the VMX capability MSRs, and the CR0/CR4 fixed bits, with
 * the values Bochs' corei7_skylake_x and typical Intel CPUs report.
 */
#include "../../hypervisor/arch/x86/vmx/vmx_caps.c"

#include <stdio.h>

#include "harness.h"

static void test_ctl(void)
{
	/* IA32_VMX_TRUE_PROCBASED_CTLS of a Skylake: must-be-1 0x04006172,
	 * may-be-1 0xfff9fffe. */
	uint64_t cap = 0xfff9fffe04006172ull;
	uint32_t out = 0;

	CHECK_EQ_U64(vmx_ctl_adjust(cap, (1u << 7) | (1u << 28) | (1u << 31), &out), 0);
	CHECK_EQ_U64(out, 0x04006172u | (1u << 7) | (1u << 28) | (1u << 31));
	/* Bit 0 and bits 17-18 cannot be set: reported, and left clear. */
	CHECK_EQ_U64(vmx_ctl_adjust(cap, 1u | (1u << 17), &out), 1u | (1u << 17));
	CHECK_EQ_U64(out & (1u | (1u << 17)), 0);
	CHECK_EQ_U64(vmx_ctl_forced(cap, 0x4000000u), 0x00006172u);
	CHECK_EQ_U64(vmx_ctl_forced(cap, 0x04006172u), 0);
	/* The old (not TRUE) MSR forces CR3-load/store exiting (bits 15, 16). */
	CHECK(vmx_ctl_forced(0xfff9fffe0401e172ull, 0) & (1u << 15));
}

static void test_cr(void)
{
	uint64_t cr0_fixed0 = 0x80000021ull, cr0_fixed1 = 0xffffffffull;
	uint64_t cr4_fixed0 = 0x2000ull, cr4_fixed1 = 0x3727ffull;
	uint64_t relaxed = 1ull | (1ull << 31);

	/* Linux's 32-bit entry: PE only; NE is forced, PG stays clear. */
	CHECK_EQ_U64(vmx_cr_fixed(0x11, cr0_fixed0, cr0_fixed1, relaxed), 0x31);
	/* Real mode (an AP after SIPI): PE and PG stay clear. */
	CHECK_EQ_U64(vmx_cr_fixed(0x10, cr0_fixed0, cr0_fixed1, relaxed), 0x30);
	/* Without unrestricted guest, PE and PG are forced. */
	CHECK_EQ_U64(vmx_cr_fixed(0x10, cr0_fixed0, cr0_fixed1, 0), 0x80000031ull);
	/* CR4: VMXE forced on, unsupported bits (LA57, 12) forced off. */
	CHECK_EQ_U64(vmx_cr_fixed(0x20 | (1ull << 12), cr4_fixed0, cr4_fixed1, 0), 0x2020);
	/* Bits above 31 of CR0 are never allowed. */
	CHECK_EQ_U64(vmx_cr_fixed(1ull << 40, cr0_fixed0, cr0_fixed1, relaxed), 0x20);
}

int main(void)
{
	test_ctl();
	test_cr();
	return harness_done("vmx_caps");
}
