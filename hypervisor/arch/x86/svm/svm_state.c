/*
 * The vCPU record from and into a VMCB (AMD APM vol. 2, Appendix B "Layout
 * of VMCB"). Segment attributes are the SDM's access rights in the record
 * and the APM's packed 12 bits in the VMCB (B.1: attribute bits 7:0 are
 * descriptor bits 47:40, bits 11:8 are descriptor bits 55:52); a segment
 * that is not present is marked unusable in the record, as VT-x reports
 * it. A pending event is the VMCB's EXITINTINFO (an event the exit
 * interrupted) or else its EVENTINJ, both in the APM's EVENTINJ layout
 * (15.20), which the record shares. The set side checks what the record's
 * format allows; what only the CPU can judge (a consistent segment set,
 * canonical addresses) is left to VMRUN, whose refusal ends that guest.
 * The format rules are common code's (vcpu_state_ok).
 */
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/vcpu_state.h>

#include "svm_state.h"

#define SEG_AR_LOW 0xFFu          /* type, S, DPL, P */
#define SEG_AR_HIGH 0xF000u       /* AVL, L, D/B, G */
#define SEG_AR_P (1u << 7)
#define SEG_AR_DPL_SHIFT 5

static void seg_get(const struct vmcb_seg *s, struct keel_state_seg *o)
{
	o->sel = s->sel;
	o->attr = (s->attr & SEG_AR_LOW) | ((uint32_t)(s->attr & 0xF00u) << 4);
	if (!(o->attr & SEG_AR_P))
		o->attr |= KEEL_STATE_SEG_UNUSABLE;
	o->limit = s->limit;
	o->reserved = 0;
	o->base = s->base;
}

static void seg_set(struct vmcb_seg *s, const struct keel_state_seg *o)
{
	uint32_t ar = o->attr;

	if (ar & KEEL_STATE_SEG_UNUSABLE)
		ar &= ~SEG_AR_P;
	s->sel = (uint16_t)o->sel;
	s->attr = (uint16_t)((ar & SEG_AR_LOW) | ((ar & SEG_AR_HIGH) >> 4));
	s->limit = o->limit;
	s->base = o->base;
}

/* A descriptor-table register: only base and limit count (APM B.1). */
static void dtr_get(const struct vmcb_seg *s, uint64_t *base, uint32_t *limit)
{
	*base = s->base;
	*limit = s->limit;
}

static void dtr_set(struct vmcb_seg *s, uint64_t base, uint32_t limit)
{
	memset(s, 0, sizeof(*s));
	s->base = base;
	s->limit = limit;
}

/*
 * Fill the vCPU record st from the VMCB vm and the registers r the backend
 * keeps beside it (all GPRs, RIP, RSP and RFLAGS as of the last exit).
 */
void svm_state_get(const struct vmcb *vm, const struct guest_regs *r,
		   struct keel_state_vcpu *st)
{
	uint64_t ev = (vm->exitintinfo & EVENT_VALID) ? vm->exitintinfo : vm->eventinj;

	memset(st, 0, sizeof(*st));
	vcpu_state_regs_get(r, st);
	st->cr0 = vm->cr0, st->cr2 = vm->cr2, st->cr3 = vm->cr3, st->cr4 = vm->cr4;
	st->efer = vm->efer & ~EFER_SVME; /* the guest never sees SVME */
	st->dr6 = vm->dr6, st->dr7 = vm->dr7;
	seg_get(&vm->es, &st->es), seg_get(&vm->cs, &st->cs), seg_get(&vm->ss, &st->ss);
	seg_get(&vm->ds, &st->ds), seg_get(&vm->fs, &st->fs), seg_get(&vm->gs, &st->gs);
	seg_get(&vm->ldtr, &st->ldtr), seg_get(&vm->tr, &st->tr);
	dtr_get(&vm->gdtr, &st->gdtr_base, &st->gdtr_limit);
	dtr_get(&vm->idtr, &st->idtr_base, &st->idtr_limit);
	st->star = vm->star, st->lstar = vm->lstar, st->cstar = vm->cstar;
	st->sfmask = vm->sfmask, st->kernel_gs_base = vm->kernel_gs_base;
	st->sysenter_cs = vm->sysenter_cs, st->sysenter_esp = vm->sysenter_esp;
	st->sysenter_eip = vm->sysenter_eip;
	st->pat = vm->g_pat;
	st->int_shadow = vm->int_state & 1u;
	if (ev & EVENT_VALID) {
		st->event = (uint32_t)(ev & VCPU_STATE_EVENT_BITS);
		st->event_error = (uint32_t)(ev >> 32);
	}
}

/*
 * Load the vCPU record st into the VMCB vm and the registers r. The
 * record's pending event is injected at the next VMRUN; CPL follows SS's
 * DPL (APM 15.5.1); EFER gets SVME, which VMRUN requires of every guest
 * (APM 15.5.1) and the record never holds. Returns 0, or -EINVAL (vm and r
 * unchanged) when st breaks its format (vcpu_state_ok).
 */
int svm_state_set(struct vmcb *vm, struct guest_regs *r, const struct keel_state_vcpu *st)
{
	if (!vcpu_state_ok(st))
		return -EINVAL;
	vcpu_state_regs_set(r, st);
	vm->rax = st->gpr[0], vm->rsp = st->gpr[4], vm->rip = st->rip, vm->rflags = st->rflags;
	vm->cr0 = st->cr0, vm->cr2 = st->cr2, vm->cr3 = st->cr3, vm->cr4 = st->cr4;
	vm->efer = st->efer | EFER_SVME;
	vm->dr6 = st->dr6, vm->dr7 = st->dr7;
	seg_set(&vm->es, &st->es), seg_set(&vm->cs, &st->cs), seg_set(&vm->ss, &st->ss);
	seg_set(&vm->ds, &st->ds), seg_set(&vm->fs, &st->fs), seg_set(&vm->gs, &st->gs);
	seg_set(&vm->ldtr, &st->ldtr), seg_set(&vm->tr, &st->tr);
	dtr_set(&vm->gdtr, st->gdtr_base, st->gdtr_limit);
	dtr_set(&vm->idtr, st->idtr_base, st->idtr_limit);
	vm->cpl = (uint8_t)((vm->ss.attr >> SEG_AR_DPL_SHIFT) & 3u);
	vm->star = st->star, vm->lstar = st->lstar, vm->cstar = st->cstar;
	vm->sfmask = st->sfmask, vm->kernel_gs_base = st->kernel_gs_base;
	vm->sysenter_cs = st->sysenter_cs, vm->sysenter_esp = st->sysenter_esp;
	vm->sysenter_eip = st->sysenter_eip;
	vm->g_pat = st->pat;
	vm->int_state = st->int_shadow;
	vm->exitintinfo = 0;
	vm->eventinj = (st->event & KEEL_STATE_EVENT_VALID) ?
		((uint64_t)st->event_error << 32) | st->event : 0;
	return 0;
}
