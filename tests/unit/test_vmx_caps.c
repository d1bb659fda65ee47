/*
 * Unit tests for hypervisor/arch/x86/vmx/vmx_caps.c: control fields
 * adjusted to the VMX capability MSRs, and the CR0/CR4 fixed bits, with
 * the values Bochs' corei7_skylake_x and typical Intel CPUs report.
 */
#include "../../hypervisor/arch/x86/vmx/vmx_caps.c"

#include <stdio.h>
#include <string.h>

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

/* The state Keel enters dom0 with: Linux's 32-bit entry on an
 * unrestricted guest. */
static struct vmx_guest_state entry32(void)
{
	struct vmx_guest_state g = {
		.cr0 = 0x31, .cr4 = 0x2000, .efer = 0, .rflags = 2, .rip = 0x1000000,
		.link = ~0ull, .cr0_fixed0 = 0x80000021ull, .cr0_fixed1 = 0xffffffffull,
		.cr4_fixed0 = 0x2000, .cr4_fixed1 = 0x3727ff,
		.cs_ar = 0xC09B, .ss_ar = 0xC093, .tr_ar = 0x8B,
		.cs_limit = 0xFFFFFFFF, .ss_limit = 0xFFFFFFFF, .tr_limit = 0xFFFF,
		.unrestricted = 1,
	};
	return g;
}

static void test_guest_state(void)
{
	struct vmx_guest_state g = entry32();

	CHECK(vmx_guest_state_problem(&g) == NULL);
	g.cr0 = 0x30 | 0x10; /* real mode (an AP after SIPI) */
	g.cs_ar = 0x9B; g.ss_ar = 0x93; g.cs_limit = g.ss_limit = 0xFFFF;
	CHECK(vmx_guest_state_problem(&g) == NULL);
	g.ss_ar = 0xF3;      /* DPL 3 in real mode */
	CHECK(vmx_guest_state_problem(&g) && strstr(vmx_guest_state_problem(&g), "GUEST_SS_AR"));
	/* 64-bit: IA-32e mode guest, LME+LMA, PG, PAE, CS.L. */
	g = entry32();
	g.cr0 = 0x80000031ull; g.cr4 = 0x2020; g.efer = 0x500; g.entry_ctls = 1u << 9;
	g.cs_ar = 0xA09B; g.rip = 0xffffffff81000000ull;
	CHECK(vmx_guest_state_problem(&g) == NULL);
	g.efer = 0x100;      /* LMA missing */
	CHECK(vmx_guest_state_problem(&g) && strstr(vmx_guest_state_problem(&g), "GUEST_IA32_EFER"));
	g = entry32();
	g.cr0 = 0x80000010ull; /* PG without PE (and NE missing) */
	CHECK(vmx_guest_state_problem(&g) && strstr(vmx_guest_state_problem(&g), "GUEST_CR0"));
	g = entry32();
	g.cr4 = 0;           /* VMXE off */
	CHECK(vmx_guest_state_problem(&g) && strstr(vmx_guest_state_problem(&g), "GUEST_CR4"));
	g = entry32();
	g.rip = 1ull << 40;  /* not 64-bit code */
	CHECK(vmx_guest_state_problem(&g) && strstr(vmx_guest_state_problem(&g), "GUEST_RIP"));
	g = entry32();
	g.tr_ar = 0x10000;   /* TR unusable */
	CHECK(vmx_guest_state_problem(&g) && strstr(vmx_guest_state_problem(&g), "GUEST_TR_AR"));
	g = entry32();
	g.rflags = 0;        /* bit 1 clear */
	CHECK(vmx_guest_state_problem(&g) && strstr(vmx_guest_state_problem(&g), "GUEST_RFLAGS"));
	g = entry32();
	g.entry_intr_info = (1u << 31) | 0x30; /* an interrupt with IF=0 */
	CHECK(vmx_guest_state_problem(&g) && strstr(vmx_guest_state_problem(&g), "VM_ENTRY_INTR_INFO"));
	g = entry32();
	g.link = 0;
	CHECK(vmx_guest_state_problem(&g) && strstr(vmx_guest_state_problem(&g), "VMCS_LINK_POINTER"));
	g = entry32();
	g.cs_ar &= ~0x8000u; /* a 4 GiB limit needs G */
	CHECK(vmx_guest_state_problem(&g) && strstr(vmx_guest_state_problem(&g), "LIMIT"));
}

int main(void)
{
	test_ctl();
	test_cr();
	test_guest_state();
	return harness_done("vmx_caps");
}
