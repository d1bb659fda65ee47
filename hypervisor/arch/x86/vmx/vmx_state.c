/*
 * The vCPU record from and into a VMCS (Intel SDM vol. 3C, 25.4 "Guest-
 * State Area"), the VT-x side of what svm_state.c does for a VMCB.
 * Segment access rights are the record's own format. CR0 and CR4 are the
 * guest's view: the bits the backend owns come from the read shadows
 * (25.6.6), the others from the VMCS, and loading sets both. CR2 and DR6
 * are not in the VMCS (the backend switches them), nor are STAR, LSTAR,
 * CSTAR, SFMASK and KERNEL_GS_BASE (the VM-entry MSR-load area). vCPU
 * resets load a record too (vmx_state_reset), so a start state and a
 * restored state reach the VMCS by the same code. Pure code: the VMCS is
 * reached through struct vmcs_io.
 */
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/vcpu_state.h>
#include <asm/x86.h>

#include "vmcs.h"
#include "vmx_caps.h"
#include "vmx_state.h"

#define CR4_VMXE (1ull << 13)
#define DEFAULT_PAT 0x0007040600070406ull
#define DR7_RESET 0x400ull
#define EVENT_SOFT_TYPES ((1u << 4) | (1u << 5) | (1u << 6)) /* 24.8.3: types 4-6 */

/* The switched MSRs, in the order of the MSR areas; see vmx_priv.h. */
const uint32_t vmx_guest_msr_order[VMX_GUEST_MSRS] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_KERNEL_GS_BASE,
};

/* The CR0 loaded for guest-visible val; see vmx_state.h. */
uint64_t vmx_guest_cr0(uint64_t val)
{
	return vmx_cr_fixed(val, vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1, CR0_PE | CR0_PG);
}

/* The CR4 loaded for guest-visible val: VMXE forced on; see vmx_state.h. */
uint64_t vmx_guest_cr4(uint64_t val)
{
	return vmx_cr_fixed(val, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0);
}

static void vmcs_seg_read(const struct vmcs_io *io, uint32_t sel_field, struct keel_state_seg *o)
{
	uint32_t i = (sel_field - GUEST_ES_SELECTOR) / 2;

	o->sel = (uint32_t)io->read(sel_field) & 0xFFFFu;
	o->attr = (uint32_t)io->read(GUEST_ES_AR + 2 * i) & VCPU_STATE_SEG_AR_BITS;
	o->limit = (uint32_t)io->read(GUEST_ES_LIMIT + 2 * i);
	o->reserved = 0;
	o->base = io->read(GUEST_ES_BASE + 2 * i);
}

static void vmcs_seg_write(const struct vmcs_io *io, uint32_t sel_field, const struct keel_state_seg *o)
{
	uint32_t i = (sel_field - GUEST_ES_SELECTOR) / 2;

	io->write(sel_field, o->sel);
	io->write(GUEST_ES_BASE + 2 * i, o->base);
	io->write(GUEST_ES_LIMIT + 2 * i, o->limit);
	io->write(GUEST_ES_AR + 2 * i, o->attr);
}

static void record_seg(struct keel_state_seg *o, uint32_t sel, uint64_t base, uint32_t limit,
		    uint32_t ar)
{
	o->sel = sel, o->base = base, o->limit = limit, o->attr = ar, o->reserved = 0;
}

/* The start state's record; see vmx_state.h. */
void vmx_state_reset(const struct vcpu_entry_state *e, struct keel_state_vcpu *st)
{
	struct keel_state_seg data;

	memset(st, 0, sizeof(*st));
	if (e->real_mode) {
		record_seg(&st->cs, (uint32_t)e->sipi_vector << 8, (uint64_t)e->sipi_vector << 12,
			0xFFFF, VMX_AR_CODE16);
		record_seg(&data, 0, 0, 0xFFFF, VMX_AR_DATA16);
		st->gdtr_limit = 0xFFFF;
		st->idtr_limit = 0x3FF;
		st->cr0 = CR0_ET;
	} else {
		record_seg(&st->cs, 0x10, 0, 0xFFFFFFFF, VMX_AR_CODE32);
		record_seg(&data, 0x18, 0, 0xFFFFFFFF, VMX_AR_DATA32);
		st->cr0 = CR0_PE | CR0_ET;
		st->rip = e->rip;
		st->gpr[6] = e->rsi;
	}
	st->ds = st->es = st->ss = st->fs = st->gs = data;
	record_seg(&st->tr, 0, 0, 0xFFFF, VMX_AR_TSS_BUSY);
	record_seg(&st->ldtr, 0, 0, 0xFFFF, VMX_AR_UNUSABLE);
	st->rflags = RFLAGS_RESERVED1;
	st->dr6 = DR6_RESET;
	st->dr7 = DR7_RESET;
	st->pat = DEFAULT_PAT;
}

/* The event to keep; see vmx_state.h. */
void vmx_state_event(const struct vmx_vcpu *s, struct keel_state_vcpu *st)
{
	uint32_t info = s->idt_info, err = s->idt_err;

	st->event = st->event_error = 0;
	if (!(info & INTR_INFO_VALID))
		info = s->inject_info, err = s->inject_err;
	if (!(info & INTR_INFO_VALID) || (EVENT_SOFT_TYPES & (1u << ((info >> 8) & 7u))))
		return;
	st->event = info & VCPU_STATE_EVENT_BITS;
	st->event_error = (info & INTR_INFO_ERR_VALID) ? err : 0;
}

/* Fill st from the VMCS and s; see vmx_state.h. */
void vmx_state_read(const struct vmcs_io *io, const struct vmx_vcpu *s,
		    const struct guest_regs *r, struct keel_state_vcpu *st)
{
	uint64_t owned0 = io->read(CR0_READ_SHADOW) & CR0_MASK_OWNED;
	uint32_t i;

	memset(st, 0, sizeof(*st));
	vcpu_state_regs_get(r, st);
	st->cr0 = (io->read(GUEST_CR0) & ~CR0_MASK_OWNED) | owned0;
	st->cr2 = s->cr2;
	st->cr3 = io->read(GUEST_CR3);
	st->cr4 = (io->read(GUEST_CR4) & ~CR4_VMXE) | (io->read(CR4_READ_SHADOW) & CR4_VMXE);
	st->efer = io->read(GUEST_IA32_EFER);
	st->dr6 = s->dr6;
	st->dr7 = io->read(GUEST_DR7);
	vmcs_seg_read(io, GUEST_ES_SELECTOR, &st->es), vmcs_seg_read(io, GUEST_CS_SELECTOR, &st->cs);
	vmcs_seg_read(io, GUEST_SS_SELECTOR, &st->ss), vmcs_seg_read(io, GUEST_DS_SELECTOR, &st->ds);
	vmcs_seg_read(io, GUEST_FS_SELECTOR, &st->fs), vmcs_seg_read(io, GUEST_GS_SELECTOR, &st->gs);
	vmcs_seg_read(io, GUEST_LDTR_SELECTOR, &st->ldtr), vmcs_seg_read(io, GUEST_TR_SELECTOR, &st->tr);
	st->gdtr_base = io->read(GUEST_GDTR_BASE);
	st->gdtr_limit = (uint32_t)io->read(GUEST_GDTR_LIMIT) & 0xFFFFu;
	st->idtr_base = io->read(GUEST_IDTR_BASE);
	st->idtr_limit = (uint32_t)io->read(GUEST_IDTR_LIMIT) & 0xFFFFu;
	for (i = 0; s->msr_area && i < VMX_GUEST_MSRS; i++) {
		uint64_t val = s->msr_area[i].value;

		switch (vmx_guest_msr_order[i]) {
		case MSR_STAR: st->star = val; break;
		case MSR_LSTAR: st->lstar = val; break;
		case MSR_CSTAR: st->cstar = val; break;
		case MSR_SFMASK: st->sfmask = val; break;
		default: st->kernel_gs_base = val; break;
		}
	}
	st->sysenter_cs = io->read(GUEST_SYSENTER_CS);
	st->sysenter_esp = io->read(GUEST_SYSENTER_ESP);
	st->sysenter_eip = io->read(GUEST_SYSENTER_EIP);
	st->pat = io->read(GUEST_IA32_PAT);
	st->int_shadow = (io->read(GUEST_INTERRUPTIBILITY) &
			  (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) != 0;
	vmx_state_event(s, st);
}

/* The interruptibility state st's shadow means: STI blocking, which VT-x
 * allows only with IF set, else MOV SS blocking (26.3.1.5). */
static uint32_t interruptibility_of(const struct keel_state_vcpu *st)
{
	if (!st->int_shadow)
		return 0;
	return (st->rflags & RFLAGS_IF) ? INTERRUPTIBILITY_STI : INTERRUPTIBILITY_MOV_SS;
}

/* The entry checks of 26.3.1 that vmx_guest_state_problem knows, on the
 * VMCS st would give. */
static const char *entry_problem(const struct keel_state_vcpu *st)
{
	struct vmx_guest_state g = {
		.cr0 = vmx_guest_cr0(st->cr0), .cr4 = vmx_guest_cr4(st->cr4),
		.efer = st->efer, .rflags = st->rflags, .rip = st->rip, .link = ~0ull,
		.cr0_fixed0 = vmx_caps.cr0_fixed0, .cr0_fixed1 = vmx_caps.cr0_fixed1,
		.cr4_fixed0 = vmx_caps.cr4_fixed0, .cr4_fixed1 = vmx_caps.cr4_fixed1,
		.cs_ar = st->cs.attr, .ss_ar = st->ss.attr, .tr_ar = st->tr.attr,
		.cs_limit = st->cs.limit, .ss_limit = st->ss.limit, .tr_limit = st->tr.limit,
		.interruptibility = interruptibility_of(st),
		.entry_ctls = (st->efer & EFER_LMA) ? ENTRY_IA32E_MODE_GUEST : 0,
		.entry_intr_info = st->event, .unrestricted = 1,
	};

	return vmx_guest_state_problem(&g);
}

/* Whether st can be loaded on VT-x; see vmx_state.h. */
int vmx_state_check(const struct keel_state_vcpu *st)
{
	if (!vcpu_state_ok(st) || (st->event & KEEL_STATE_EVENT_VALID &&
	    (st->event & VCPU_STATE_EVENT_TYPE_MASK) == VCPU_STATE_EVENT_SWINT))
		return -EINVAL;
	/* a CR0 or CR4 no guest here could have: a bit VMX fixes otherwise
	 * than the record says, outside those the backend owns, or VMXE,
	 * which guests are not offered */
	if ((st->cr4 & CR4_VMXE) || (vmx_guest_cr4(st->cr4) & ~CR4_VMXE) != st->cr4 ||
	    (vmx_guest_cr0(st->cr0) & ~CR0_MASK_OWNED) != (st->cr0 & ~CR0_MASK_OWNED))
		return -EINVAL;
	return entry_problem(st) ? -EINVAL : 0;
}

/* Load the part of st that s keeps; see vmx_state.h. */
void vmx_state_load_soft(struct vmx_vcpu *s, const struct keel_state_vcpu *st)
{
	uint64_t cr4 = st->cr4 & ~CR4_VMXE;
	uint32_t i;

	for (i = 0; s->msr_area && i < VMX_GUEST_MSRS; i++) {
		switch (vmx_guest_msr_order[i]) {
		case MSR_STAR: s->msr_area[i].value = st->star; break;
		case MSR_LSTAR: s->msr_area[i].value = st->lstar; break;
		case MSR_CSTAR: s->msr_area[i].value = st->cstar; break;
		case MSR_SFMASK: s->msr_area[i].value = st->sfmask; break;
		default: s->msr_area[i].value = st->kernel_gs_base; break;
		}
	}
	s->cr2 = st->cr2;
	s->dr6 = st->dr6;
	s->cr8 = 0;
	s->idt_info = 0;
	s->nmi_pending = false;
	s->inject_info = (st->event & KEEL_STATE_EVENT_VALID) ? st->event : 0;
	s->inject_err = st->event_error;
	s->inject_len = 0;
	s->interruptibility = interruptibility_of(st);
	s->cr0 = vmx_guest_cr0(st->cr0);
	s->cr3 = st->cr3;
	s->cr4 = vmx_guest_cr4(cr4);
	s->efer = st->efer;
	s->cs_base = st->cs.base;
	s->cs_ar = st->cs.attr;
	s->ss_ar = st->ss.attr;
}

/* Load the VMCS part of st; see vmx_state.h. */
void vmx_state_load_vmcs(const struct vmcs_io *io, const struct keel_state_vcpu *st)
{
	uint32_t entry = (uint32_t)io->read(VM_ENTRY_CONTROLS) & ~ENTRY_IA32E_MODE_GUEST;
	uint64_t cr4 = st->cr4 & ~CR4_VMXE;

	vmcs_seg_write(io, GUEST_ES_SELECTOR, &st->es), vmcs_seg_write(io, GUEST_CS_SELECTOR, &st->cs);
	vmcs_seg_write(io, GUEST_SS_SELECTOR, &st->ss), vmcs_seg_write(io, GUEST_DS_SELECTOR, &st->ds);
	vmcs_seg_write(io, GUEST_FS_SELECTOR, &st->fs), vmcs_seg_write(io, GUEST_GS_SELECTOR, &st->gs);
	vmcs_seg_write(io, GUEST_LDTR_SELECTOR, &st->ldtr), vmcs_seg_write(io, GUEST_TR_SELECTOR, &st->tr);
	io->write(GUEST_GDTR_BASE, st->gdtr_base);
	io->write(GUEST_GDTR_LIMIT, st->gdtr_limit);
	io->write(GUEST_IDTR_BASE, st->idtr_base);
	io->write(GUEST_IDTR_LIMIT, st->idtr_limit);
	io->write(CR0_READ_SHADOW, st->cr0);
	io->write(GUEST_CR0, vmx_guest_cr0(st->cr0));
	io->write(CR4_READ_SHADOW, cr4);
	io->write(GUEST_CR4, vmx_guest_cr4(cr4));
	io->write(GUEST_CR3, st->cr3);
	io->write(GUEST_DR7, st->dr7);
	io->write(GUEST_IA32_DEBUGCTL, 0);
	io->write(GUEST_IA32_PAT, st->pat);
	io->write(GUEST_IA32_EFER, st->efer);
	io->write(VM_ENTRY_CONTROLS, entry | ((st->efer & EFER_LMA) ? ENTRY_IA32E_MODE_GUEST : 0));
	io->write(GUEST_SYSENTER_CS, st->sysenter_cs);
	io->write(GUEST_SYSENTER_ESP, st->sysenter_esp);
	io->write(GUEST_SYSENTER_EIP, st->sysenter_eip);
	io->write(GUEST_INTERRUPTIBILITY, interruptibility_of(st));
	io->write(GUEST_ACTIVITY_STATE, 0);
	io->write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
}

/* Both parts at once; see vmx_state.h. */
void vmx_state_write(const struct vmcs_io *io, struct vmx_vcpu *s,
		     const struct keel_state_vcpu *st)
{
	vmx_state_load_soft(s, st);
	vmx_state_load_vmcs(io, st);
}
