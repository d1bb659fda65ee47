/*
 * Unit tests for hypervisor/arch/x86/svm/svm_state.c, the vCPU record to
 * and from a VMCB: a 64-bit Linux vCPU's state round-trips through the
 * record into a fresh VMCB field for field; segment attributes convert
 * between the APM's packed form and the SDM's access rights, a segment
 * not present reads as unusable; a pending event interrupted by the exit
 * is injected after the load; records the format forbids are refused with
 * the VMCB and registers unchanged.
 */
#include "../../hypervisor/common/vcpu_state.c"
#include "../../hypervisor/arch/x86/svm/svm_state.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

static void linux_vmcb(struct vmcb *vm, struct guest_regs *r)
{
	memset(vm, 0, sizeof(*vm));
	memset(r, 0, sizeof(*r));
	vm->cs = (struct vmcb_seg){ 0x10, 0xA9B, 0xFFFFFFFF, 0 };  /* 64-bit code */
	vm->ss = (struct vmcb_seg){ 0x18, 0xC93, 0xFFFFFFFF, 0 };  /* data, D/B, G */
	vm->ds = (struct vmcb_seg){ 0, 0, 0, 0 };                  /* null */
	vm->gs = (struct vmcb_seg){ 0, 0, 0xFFFFF, 0xFFFF888000000000ull };
	vm->tr = (struct vmcb_seg){ 0x40, 0x08B, 0x4087, 0xFFFFFE0000003000ull };
	vm->gdtr = (struct vmcb_seg){ 0, 0, 0x7F, 0xFFFFFE0000001000ull };
	vm->idtr = (struct vmcb_seg){ 0, 0, 0xFFF, 0xFFFFFE0000000000ull };
	vm->cr0 = 0x80050033, vm->cr3 = 0x1234000, vm->cr4 = 0x3506F0, vm->cr2 = 0x7F00;
	vm->efer = 0xD01 | EFER_SVME;
	vm->dr6 = 0xFFFF0FF0, vm->dr7 = 0x400;
	vm->star = 0x0023001000000000ull, vm->lstar = 0xFFFFFFFF81A00080ull;
	vm->sfmask = 0x47700, vm->kernel_gs_base = 0x7F0000000000ull;
	vm->g_pat = 0x0407050600070106ull;
	vm->int_state = 1;
	vm->exitintinfo = 0x20 | (3ull << 8) | EVENT_ERR_VALID | EVENT_VALID | (0x18ull << 32);
	r->rax = 1, r->rbx = 2, r->rcx = 3, r->rdx = 4, r->rsi = 5, r->rdi = 6, r->rbp = 7;
	r->r8 = 8, r->r15 = 15, r->rip = 0xFFFFFFFF81000123ull, r->rsp = 0xFFFFC90000003F00ull;
	r->rflags = 0x246;
}

static void test_round_trip(void)
{
	static struct vmcb vm, back;
	struct guest_regs r, r2;
	struct keel_state_vcpu st;

	linux_vmcb(&vm, &r);
	svm_state_get(&vm, &r, &st);
	CHECK_EQ_U64(st.cs.attr, 0xA09B);                 /* L, G, P, code */
	CHECK_EQ_U64(st.ss.attr, 0xC093);
	CHECK_EQ_U64(st.ds.attr, KEEL_STATE_SEG_UNUSABLE); /* null: not present */
	CHECK_EQ_U64(st.gpr[0], 1);
	CHECK_EQ_U64(st.gpr[4], r.rsp);
	CHECK_EQ_U64(st.gpr[15], 15);
	CHECK_EQ_U64(st.efer, 0xD01);                     /* SVME is not the guest's */
	CHECK_EQ_U64(st.gdtr_limit, 0x7F);
	CHECK_EQ_U64(st.int_shadow, 1);
	CHECK_EQ_U64(st.event, 0x20 | (3u << 8) | KEEL_STATE_EVENT_ERR | KEEL_STATE_EVENT_VALID);
	CHECK_EQ_U64(st.event_error, 0x18);

	memset(&back, 0, sizeof(back));   /* a VMCB never reset: no SVME yet */
	memset(&r2, 0xA5, sizeof(r2));
	CHECK_EQ_INT(svm_state_set(&back, &r2, &st), 0);
	CHECK(memcmp(&r2, &r, sizeof(r)) == 0);
	CHECK(memcmp(&back.es, &vm.es, 0x4A0 - 0x400) == 0); /* every segment */
	CHECK_EQ_U64(back.efer, vm.efer);
	CHECK_EQ_U64(back.cr0, vm.cr0);
	CHECK_EQ_U64(back.cr4, vm.cr4);
	CHECK_EQ_U64(back.lstar, vm.lstar);
	CHECK_EQ_U64(back.g_pat, vm.g_pat);
	CHECK_EQ_U64(back.rip, r.rip);
	CHECK_EQ_U64(back.rsp, r.rsp);
	CHECK_EQ_U64(back.rax, r.rax);
	CHECK_EQ_U64(back.cpl, 0);
	CHECK_EQ_U64(back.int_state, 1);
	/* the interrupted event is injected at the next VMRUN */
	CHECK_EQ_U64(back.eventinj, vm.exitintinfo);
	CHECK_EQ_U64(back.exitintinfo, 0);
	/* and a second save reads the same record */
	{
		struct keel_state_vcpu again;

		svm_state_get(&back, &r2, &again);
		CHECK(memcmp(&again, &st, sizeof(st)) == 0);
	}
	/* CPL follows SS's DPL */
	st.ss.attr |= 3u << 5;
	CHECK_EQ_INT(svm_state_set(&back, &r2, &st), 0);
	CHECK_EQ_U64(back.cpl, 3);
}

static void test_refused(void)
{
	static struct vmcb vm, back, before;
	struct guest_regs r, r2, r_before;
	struct keel_state_vcpu st, bad;

	linux_vmcb(&vm, &r);
	svm_state_get(&vm, &r, &st);
	linux_vmcb(&back, &r2);
	before = back;
	r_before = r2;
	for (int i = 0; i < 8; i++) {
		bad = st;
		switch (i) {
		case 0: bad.cs.sel = 0x10000; break;
		case 1: bad.ds.attr |= 1u << 8; break;        /* not an attribute bit */
		case 2: bad.tr.reserved = 1; break;
		case 3: bad.event = KEEL_STATE_EVENT_VALID | (1u << 8) | 0x20; break; /* type 1 */
		case 4: bad.event = 0; bad.event_error = 5; break;
		case 5: bad.int_shadow = 2; break;
		case 6: bad.idtr_limit = 0x10000; break;
		case 7: bad.reserved = 1; break;
		}
		CHECK_MSG(svm_state_set(&back, &r2, &bad) == -EINVAL, "case %d accepted", i);
		CHECK(memcmp(&back, &before, sizeof(back)) == 0);
		CHECK(memcmp(&r2, &r_before, sizeof(r2)) == 0);
	}
}

int main(void)
{
	test_round_trip();
	test_refused();
	return harness_done("test_svm_state");
}
