/*
 * The format rules of the vendor-neutral vCPU record (keel/vcpu_state.h):
 * what a loader checks before either backend converts a record into its
 * VMCB or VMCS, so that a record no CPU could have produced is refused the
 * same way on AMD-V and on VT-x.
 */
#include <keel/vcpu_state.h>

static bool seg_ok(const struct keel_state_seg *o)
{
	return o->sel <= 0xFFFFu && !(o->attr & ~VCPU_STATE_SEG_AR_BITS) && !o->reserved;
}

/* Check st's format; see vcpu_state.h. */
bool vcpu_state_ok(const struct keel_state_vcpu *st)
{
	const struct keel_state_seg *segs[] = { &st->es, &st->cs, &st->ss, &st->ds,
						&st->fs, &st->gs, &st->ldtr, &st->tr };
	uint32_t type = st->event & VCPU_STATE_EVENT_TYPE_MASK;

	for (uint32_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
		if (!seg_ok(segs[i]))
			return false;
	if (st->int_shadow > 1 || st->reserved || (st->event & ~VCPU_STATE_EVENT_BITS) ||
	    st->gdtr_limit > 0xFFFFu || st->idtr_limit > 0xFFFFu)
		return false;
	if (!(st->event & KEEL_STATE_EVENT_VALID))
		return st->event == 0 && st->event_error == 0;
	return type == VCPU_STATE_EVENT_INTR || type == VCPU_STATE_EVENT_NMI ||
	       type == VCPU_STATE_EVENT_EXC || type == VCPU_STATE_EVENT_SWINT;
}

/* Registers into the record; see vcpu_state.h. */
void vcpu_state_regs_get(const struct guest_regs *r, struct keel_state_vcpu *st)
{
	st->gpr[0] = r->rax, st->gpr[1] = r->rcx, st->gpr[2] = r->rdx, st->gpr[3] = r->rbx;
	st->gpr[4] = r->rsp, st->gpr[5] = r->rbp, st->gpr[6] = r->rsi, st->gpr[7] = r->rdi;
	st->gpr[8] = r->r8, st->gpr[9] = r->r9, st->gpr[10] = r->r10, st->gpr[11] = r->r11;
	st->gpr[12] = r->r12, st->gpr[13] = r->r13, st->gpr[14] = r->r14, st->gpr[15] = r->r15;
	st->rip = r->rip;
	st->rflags = r->rflags;
}

/* The record's registers into r; see vcpu_state.h. */
void vcpu_state_regs_set(struct guest_regs *r, const struct keel_state_vcpu *st)
{
	r->rax = st->gpr[0], r->rcx = st->gpr[1], r->rdx = st->gpr[2], r->rbx = st->gpr[3];
	r->rsp = st->gpr[4], r->rbp = st->gpr[5], r->rsi = st->gpr[6], r->rdi = st->gpr[7];
	r->r8 = st->gpr[8], r->r9 = st->gpr[9], r->r10 = st->gpr[10], r->r11 = st->gpr[11];
	r->r12 = st->gpr[12], r->r13 = st->gpr[13], r->r14 = st->gpr[14], r->r15 = st->gpr[15];
	r->rip = st->rip;
	r->rflags = st->rflags;
}
