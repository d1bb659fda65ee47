/*
 * The VMX capability rules (see vmx_caps.h): adjusting control fields to
 * what the CPU allows, the fixed bits of CR0 and CR4 (Intel SDM vol. 3D,
 * A.3-A.8), and the checks a VM entry makes on the guest state (vol. 3C,
 * 26.3.1), to name the field when an entry fails.
 */
#include "vmx_caps.h"

/* A control field's value with want; see vmx_caps.h. */
uint32_t vmx_ctl_adjust(uint64_t cap, uint32_t want, uint32_t *out)
{
	uint32_t must1 = (uint32_t)cap, may1 = (uint32_t)(cap >> 32);

	*out = (want | must1) & may1;
	return want & ~may1;
}

/* Bits the CPU forces to 1 beyond want; see vmx_caps.h. */
uint32_t vmx_ctl_forced(uint64_t cap, uint32_t want)
{
	return (uint32_t)cap & ~want;
}

/* CR0/CR4 with the VMX fixed bits applied; see vmx_caps.h. */
uint64_t vmx_cr_fixed(uint64_t val, uint64_t fixed0, uint64_t fixed1, uint64_t relaxed)
{
	uint64_t fixed = ((val | fixed0) & fixed1) & ~relaxed;

	return fixed | (val & relaxed);
}

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PCIDE (1ull << 17)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_ALLOWED ((1ull << 0) | EFER_LME | EFER_LMA | (1ull << 11))
#define RFLAGS_FIXED1 (1ull << 1)
#define RFLAGS_RESERVED (~0x3F7FD7ull) /* bits 63:22, 15, 5, 3 */
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_VM (1ull << 17)
#define ENTRY_IA32E (1u << 9)
#define AR_TYPE(ar) ((ar) & 0xFu)
#define AR_S (1u << 4)
#define AR_DPL(ar) (((ar) >> 5) & 3u)
#define AR_P (1u << 7)
#define AR_L (1u << 13)
#define AR_G (1u << 15)
#define AR_UNUSABLE (1u << 16)
#define INTR_VALID (1u << 31)
#define INTR_TYPE(i) (((i) >> 8) & 7u)
#define BLOCK_STI 1u
#define BLOCK_MOV_SS 2u

/* A usable segment's limit agrees with its G bit (26.3.1.2). */
static int limit_ok(uint32_t ar, uint32_t limit)
{
	if ((ar & AR_UNUSABLE) || !(ar & AR_P))
		return 1;
	if ((limit & 0xFFFu) != 0xFFFu && (ar & AR_G))
		return 0;
	if ((limit & 0xFFF00000u) && !(ar & AR_G))
		return 0;
	return 1;
}

static const char *cr_problem(const struct vmx_guest_state *g, int ia32e)
{
	uint64_t relaxed = g->unrestricted ? (CR0_PE | CR0_PG) : 0;

	if ((g->cr0 & g->cr0_fixed0 & ~relaxed) != (g->cr0_fixed0 & ~relaxed) ||
	    (g->cr0 & ~g->cr0_fixed1))
		return "GUEST_CR0: a bit VMX fixes (IA32_VMX_CR0_FIXED0/1) is wrong";
	if ((g->cr0 & CR0_PG) && !(g->cr0 & CR0_PE))
		return "GUEST_CR0: PG without PE";
	if ((g->cr4 & g->cr4_fixed0) != g->cr4_fixed0 || (g->cr4 & ~g->cr4_fixed1))
		return "GUEST_CR4: a bit VMX fixes (IA32_VMX_CR4_FIXED0/1) is wrong";
	if (ia32e && (!(g->cr0 & CR0_PG) || !(g->cr4 & CR4_PAE)))
		return "VM_ENTRY_CONTROLS: IA-32e mode guest without CR0.PG and CR4.PAE";
	if (!ia32e && (g->cr4 & CR4_PCIDE))
		return "GUEST_CR4: PCIDE outside IA-32e mode";
	if ((g->efer & ~EFER_ALLOWED) || !!(g->efer & EFER_LMA) != ia32e)
		return "GUEST_IA32_EFER: reserved bits, or LMA unlike the IA-32e mode guest control";
	if ((g->cr0 & CR0_PG) && !!(g->efer & EFER_LME) != !!(g->efer & EFER_LMA))
		return "GUEST_IA32_EFER: LME unlike LMA with paging on";
	return 0;
}

static const char *seg_problem(const struct vmx_guest_state *g)
{
	uint32_t cs_type = AR_TYPE(g->cs_ar);

	if (g->cs_ar & AR_UNUSABLE || !(g->cs_ar & AR_P) || !(g->cs_ar & AR_S) ||
	    !((cs_type & 9u) == 9u || (cs_type == 3u && g->unrestricted)))
		return "GUEST_CS_AR: not a present, accessed code segment";
	if (!(g->cr0 & CR0_PE) && g->unrestricted && AR_DPL(g->ss_ar) != 0)
		return "GUEST_SS_AR: DPL not 0 in real mode";
	if ((cs_type == 9u || cs_type == 11u) && AR_DPL(g->cs_ar) != AR_DPL(g->ss_ar))
		return "GUEST_CS_AR: DPL unlike SS.DPL";
	if ((g->tr_ar & AR_UNUSABLE) || !(g->tr_ar & AR_P) || (g->tr_ar & AR_S) ||
	    !(AR_TYPE(g->tr_ar) == 11u || (AR_TYPE(g->tr_ar) == 3u && !(g->entry_ctls & ENTRY_IA32E))))
		return "GUEST_TR_AR: not a present, busy TSS";
	if (!limit_ok(g->cs_ar, g->cs_limit) || !limit_ok(g->ss_ar, g->ss_limit) ||
	    !limit_ok(g->tr_ar, g->tr_limit))
		return "GUEST_CS/SS/TR_LIMIT: limit unlike the G bit";
	return 0;
}

static const char *state_problem(const struct vmx_guest_state *g, int ia32e)
{
	uint32_t type = INTR_TYPE(g->entry_intr_info);

	if (!(g->rflags & RFLAGS_FIXED1) || (g->rflags & RFLAGS_RESERVED))
		return "GUEST_RFLAGS: bit 1 clear or a reserved bit set";
	if ((ia32e || !(g->cr0 & CR0_PE)) && (g->rflags & RFLAGS_VM))
		return "GUEST_RFLAGS: VM set in IA-32e mode or real mode";
	if (!(ia32e && (g->cs_ar & AR_L)) && (g->rip >> 32))
		return "GUEST_RIP: bits 63:32 set outside 64-bit mode";
	if ((g->interruptibility & (BLOCK_STI | BLOCK_MOV_SS)) == (BLOCK_STI | BLOCK_MOV_SS) ||
	    (!(g->rflags & RFLAGS_IF) && (g->interruptibility & BLOCK_STI)))
		return "GUEST_INTERRUPTIBILITY: STI blocking with MOV SS blocking or with IF=0";
	if (g->activity > 3)
		return "GUEST_ACTIVITY_STATE: not 0-3";
	if (g->link != ~0ull)
		return "VMCS_LINK_POINTER: not all ones";
	if ((g->entry_intr_info & INTR_VALID) && type == 0 &&
	    (!(g->rflags & RFLAGS_IF) || (g->interruptibility & (BLOCK_STI | BLOCK_MOV_SS))))
		return "VM_ENTRY_INTR_INFO: an external interrupt injected while interrupts are blocked";
	return 0;
}

/* The first guest-state check g fails; see vmx_caps.h. */
const char *vmx_guest_state_problem(const struct vmx_guest_state *g)
{
	int ia32e = (g->entry_ctls & ENTRY_IA32E) != 0;
	const char *why = cr_problem(g, ia32e);

	if (!why)
		why = seg_problem(g);
	if (!why)
		why = state_problem(g, ia32e);
	return why;
}
