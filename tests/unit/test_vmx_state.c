/*
 * Unit tests for hypervisor/arch/x86/vmx/vmx_state.c, the vCPU record to
 * and from a VMCS, run on a VMCS kept in an array: a 64-bit Linux vCPU's
 * state round-trips through the record into a fresh VMCS (every guest-
 * state field the record covers, CR0's owned bits through the read
 * shadow, the switched MSRs, IA-32e mode in the entry controls); a
 * vCPU's start states load as vmx.c always loaded them; an interrupted
 * hardware event is kept and a software interrupt is left to re-execute;
 * records the format or VT-x's entry checks forbid are refused.
 */
#include "../../hypervisor/common/vcpu_state.c"
#include "../../hypervisor/arch/x86/vmx/vmx_caps.c"
#include "../../hypervisor/arch/x86/vmx/vmx_state.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

struct vmx_caps vmx_caps;
static uint64_t fake[0x8000];
static bool fake_seen[0x8000];

static uint64_t fake_read(uint64_t field)
{
	return fake[field & 0x7FFF];
}

static bool fake_write(uint64_t field, uint64_t val)
{
	fake[field & 0x7FFF] = val;
	fake_seen[field & 0x7FFF] = true;
	return true;
}

static const struct vmcs_io io = { fake_read, fake_write };

static void caps_skylake(void)
{
	vmx_caps.cr0_fixed0 = 0x80000021; /* PG, NE, PE (PE, PG relaxed) */
	vmx_caps.cr0_fixed1 = 0xFFFFFFFF;
	vmx_caps.cr4_fixed0 = 0x2000;     /* VMXE */
	vmx_caps.cr4_fixed1 = 0x3727FF;
}

static void fake_reset(uint32_t entry_ctl)
{
	memset(fake, 0, sizeof(fake));
	memset(fake_seen, 0, sizeof(fake_seen));
	fake[VM_ENTRY_CONTROLS] = entry_ctl;
}

/* A 64-bit Linux kernel's vCPU as a VMCS and the backend's state. */
static void linux_vcpu(struct vmx_vcpu *s, struct vmx_msr_entry *area, struct guest_regs *r)
{
	static const uint32_t sels[8] = { 0, 0x10, 0x18, 0, 0, 0, 0, 0x40 };
	static const uint32_t ars[8] = { VMX_AR_UNUSABLE, 0xA09B, 0xC093, VMX_AR_UNUSABLE,
					 VMX_AR_UNUSABLE, 0xC093, VMX_AR_UNUSABLE, 0x8B };

	fake_reset(0x11FF | ENTRY_IA32E_MODE_GUEST);
	for (uint32_t i = 0; i < 8; i++) {
		fake[GUEST_ES_SELECTOR + 2 * i] = sels[i];
		fake[GUEST_ES_AR + 2 * i] = ars[i];
		fake[GUEST_ES_LIMIT + 2 * i] = i == 7 ? 0x4087 : 0xFFFFFFFF;
	}
	fake[GUEST_GS_BASE] = 0xFFFF888000000000ull;
	fake[GUEST_TR_BASE] = 0xFFFFFE0000003000ull;
	fake[GUEST_GDTR_BASE] = 0xFFFFFE0000001000ull, fake[GUEST_GDTR_LIMIT] = 0x7F;
	fake[GUEST_IDTR_BASE] = 0xFFFFFE0000000000ull, fake[GUEST_IDTR_LIMIT] = 0xFFF;
	fake[CR0_READ_SHADOW] = 0x80050033;       /* the guest's own CR0 */
	fake[GUEST_CR0] = vmx_guest_cr0(0x80050033);
	fake[CR4_READ_SHADOW] = 0x3506F0;
	fake[GUEST_CR4] = vmx_guest_cr4(0x3506F0);
	fake[GUEST_CR3] = 0x1234000;
	fake[GUEST_IA32_EFER] = 0xD01;
	fake[GUEST_DR7] = 0x400;
	fake[GUEST_IA32_PAT] = 0x0007040600070406ull;
	fake[GUEST_SYSENTER_CS] = 0x10, fake[GUEST_SYSENTER_EIP] = 0xFFFFFFFF81A01234ull;
	fake[GUEST_INTERRUPTIBILITY] = INTERRUPTIBILITY_STI;
	memset(s, 0, sizeof(*s));
	memset(r, 0, sizeof(*r));
	for (uint32_t i = 0; i < VMX_GUEST_MSRS; i++)
		area[i].index = vmx_guest_msr_order[i], area[i].value = 0x1000 + i;
	s->msr_area = area;
	s->cr2 = 0x7F00;
	s->dr6 = 0xFFFF0FF1;
	s->idt_info = 0x0E | INTR_TYPE_HW_EXCEPTION | INTR_INFO_ERR_VALID | INTR_INFO_VALID;
	s->idt_err = 0x4;
	r->rax = 1, r->rsp = 0xFFFFC90000013F00ull, r->r15 = 15;
	r->rip = 0xFFFFFFFF81000000ull, r->rflags = 0x246;
}

static void test_round_trip(void)
{
	struct vmx_msr_entry area[VMX_GUEST_MSRS], area2[VMX_GUEST_MSRS];
	struct vmx_vcpu s, s2;
	struct guest_regs r;
	struct keel_state_vcpu st, st2;
	uint64_t saved[0x8000];

	caps_skylake();
	linux_vcpu(&s, area, &r);
	vmx_state_read(&io, &s, &r, &st);
	CHECK_EQ_U64(st.cr0, 0x80050033);           /* NE: the guest's, here set */
	CHECK_EQ_U64(st.cr4, 0x3506F0);             /* without VMXE */
	CHECK_EQ_U64(st.cs.attr, 0xA09B);
	CHECK_EQ_U64(st.ds.attr, KEEL_STATE_SEG_UNUSABLE);
	CHECK_EQ_U64(st.tr.limit, 0x4087);
	CHECK_EQ_U64(st.gs.base, 0xFFFF888000000000ull);
	CHECK_EQ_U64(st.lstar, 0x1001);
	CHECK_EQ_U64(st.kernel_gs_base, 0x1004);
	CHECK_EQ_U64(st.cr2, 0x7F00);
	CHECK_EQ_U64(st.dr6, 0xFFFF0FF1);
	CHECK_EQ_U64(st.int_shadow, 1);
	CHECK_EQ_U64(st.event, 0x0E | (3u << 8) | KEEL_STATE_EVENT_ERR | KEEL_STATE_EVENT_VALID);
	CHECK_EQ_U64(st.event_error, 4);
	CHECK_EQ_U64(st.gpr[4], r.rsp);
	CHECK_EQ_U64(st.gpr[15], 15);
	CHECK_EQ_INT(vmx_state_check(&st), 0);

	memcpy(saved, fake, sizeof(saved));
	fake_reset(0x11FF);
	memset(&s2, 0, sizeof(s2));
	memset(area2, 0, sizeof(area2));
	s2.msr_area = area2;
	vmx_state_write(&io, &s2, &st);
	for (uint32_t f = 0; f < 0x8000; f++) /* every guest-state field read back */
		if (fake_seen[f] && f != GUEST_PENDING_DBG_EXCEPTIONS && f != GUEST_ACTIVITY_STATE &&
		    f != GUEST_IA32_DEBUGCTL)
			CHECK_MSG(fake[f] == saved[f], "field %#x: %#llx, was %#llx", f,
				  (unsigned long long)fake[f], (unsigned long long)saved[f]);
	CHECK(fake[VM_ENTRY_CONTROLS] & ENTRY_IA32E_MODE_GUEST);
	CHECK_EQ_U64(area2[1].value, 0x1001);
	CHECK_EQ_U64(s2.cr2, 0x7F00);
	CHECK_EQ_U64(s2.inject_info, st.event);
	CHECK_EQ_U64(s2.inject_err, 4);
	CHECK_EQ_U64(s2.cs_ar, 0xA09B);
	CHECK_EQ_U64(s2.efer, 0xD01);
	s2.idt_info = 0;
	vmx_state_read(&io, &s2, &r, &st2);
	CHECK(memcmp(&st, &st2, sizeof(st)) == 0);
}

/* The start states load as vmx.c's reset always did (SDM 9.1.1, 10.4.4.1). */
static void test_reset(void)
{
	struct vcpu_entry_state e = { .real_mode = true, .sipi_vector = 0x9A };
	struct keel_state_vcpu st;
	struct vmx_vcpu s;

	caps_skylake();
	memset(&s, 0, sizeof(s));
	s.inject_info = INTR_INFO_VALID | 0x30;
	s.cr2 = 0x1234;
	fake_reset(0x11FF | ENTRY_IA32E_MODE_GUEST);
	vmx_state_reset(&e, &st);
	CHECK_EQ_INT(vmx_state_check(&st), 0);
	vmx_state_write(&io, &s, &st);
	CHECK_EQ_U64(fake[GUEST_CS_SELECTOR], 0x9A00);
	CHECK_EQ_U64(fake[GUEST_CS_BASE], 0x9A000);
	CHECK_EQ_U64(fake[GUEST_CS_AR], VMX_AR_CODE16);
	CHECK_EQ_U64(fake[GUEST_SS_AR], VMX_AR_DATA16);
	CHECK_EQ_U64(fake[GUEST_LDTR_AR], VMX_AR_UNUSABLE);
	CHECK_EQ_U64(fake[GUEST_TR_AR], VMX_AR_TSS_BUSY);
	CHECK_EQ_U64(fake[GUEST_IDTR_LIMIT], 0x3FF);
	CHECK_EQ_U64(fake[CR0_READ_SHADOW], CR0_ET);
	CHECK_EQ_U64(fake[GUEST_CR0], vmx_guest_cr0(CR0_ET));
	CHECK_EQ_U64(fake[GUEST_CR4], 0x2000);
	CHECK_EQ_U64(fake[GUEST_DR7], 0x400);
	CHECK_EQ_U64(fake[GUEST_IA32_PAT], 0x0007040600070406ull);
	CHECK(!(fake[VM_ENTRY_CONTROLS] & ENTRY_IA32E_MODE_GUEST));
	CHECK_EQ_U64(s.inject_info, 0);
	CHECK_EQ_U64(s.cr2, 0);
	CHECK_EQ_U64(s.dr6, DR6_RESET);

	e = (struct vcpu_entry_state){ .rip = 0x1000000, .rsi = 0x7000 };
	vmx_state_reset(&e, &st);
	CHECK_EQ_INT(vmx_state_check(&st), 0);
	vmx_state_write(&io, &s, &st);
	CHECK_EQ_U64(st.rip, 0x1000000);
	CHECK_EQ_U64(st.gpr[6], 0x7000);
	CHECK_EQ_U64(fake[GUEST_CS_SELECTOR], 0x10);
	CHECK_EQ_U64(fake[GUEST_CS_AR], VMX_AR_CODE32);
	CHECK_EQ_U64(fake[GUEST_DS_SELECTOR], 0x18);
	CHECK_EQ_U64(fake[GUEST_DS_LIMIT], 0xFFFFFFFF);
	CHECK_EQ_U64(fake[CR0_READ_SHADOW], CR0_PE | CR0_ET);
}

/* Events: software ones re-execute, so they are not kept. */
static void test_events(void)
{
	struct vmx_msr_entry area[VMX_GUEST_MSRS];
	struct vmx_vcpu s;
	struct guest_regs r;
	struct keel_state_vcpu st;

	caps_skylake();
	linux_vcpu(&s, area, &r);
	s.idt_info = 0x80 | INTR_TYPE_SW_INTR | INTR_INFO_VALID;
	vmx_state_read(&io, &s, &r, &st);
	CHECK_EQ_U64(st.event, 0);
	s.idt_info = 3 | INTR_TYPE_SW_EXCEPTION | INTR_INFO_VALID;  /* INT3 */
	vmx_state_read(&io, &s, &r, &st);
	CHECK_EQ_U64(st.event, 0);
	s.idt_info = 0;
	s.inject_info = 0x31 | INTR_TYPE_EXT_INTR | INTR_INFO_VALID;  /* queued */
	vmx_state_read(&io, &s, &r, &st);
	CHECK_EQ_U64(st.event, 0x31 | KEEL_STATE_EVENT_VALID);
	CHECK_EQ_U64(st.event_error, 0);
	s.inject_info = 2 | INTR_TYPE_NMI | INTR_INFO_VALID;
	vmx_state_read(&io, &s, &r, &st);
	CHECK_EQ_U64(st.event, 2 | (2u << 8) | KEEL_STATE_EVENT_VALID);
}

static void test_refused(void)
{
	struct vmx_msr_entry area[VMX_GUEST_MSRS];
	struct vmx_vcpu s;
	struct guest_regs r;
	struct keel_state_vcpu st, bad;

	caps_skylake();
	linux_vcpu(&s, area, &r);
	vmx_state_read(&io, &s, &r, &st);
	for (int i = 0; i < 9; i++) {
		bad = st;
		switch (i) {
		case 0: bad.cs.sel = 0x10000; break;                       /* format */
		case 1: bad.event = KEEL_STATE_EVENT_VALID | (4u << 8) | 0x80; break; /* INT n */
		case 2: bad.cr0 &= ~CR0_PE; break;                          /* PG without PE */
		case 3: bad.efer &= ~EFER_LMA; break;                       /* 64-bit CS, no LMA */
		case 4: bad.tr.attr = 0x89; break;                          /* TR not busy */
		case 5: bad.cs.attr = 0xC093; break;                        /* data as CS */
		case 6: bad.rflags |= 1ull << 40; break;                    /* reserved RFLAGS */
		case 7: bad.cr4 |= 1ull << 13; break;                       /* VMXE */
		case 8: bad.cr0 |= 1ull << 40; break;                       /* VMX clears it */
		}
		CHECK_MSG(vmx_state_check(&bad) == -EINVAL, "case %d accepted", i);
	}
	bad = st;                      /* a shadow with IF=0 is MOV SS blocking */
	bad.rflags &= ~RFLAGS_IF;
	CHECK_EQ_INT(vmx_state_check(&bad), 0);
	vmx_state_write(&io, &s, &bad);
	CHECK_EQ_U64(fake[GUEST_INTERRUPTIBILITY], INTERRUPTIBILITY_MOV_SS);
}

/* A restore loads what the backend keeps at once and the VMCS at the
 * first entry; an interrupt injected in between must reach that entry
 * (it left the vLAPIC's IRR: lost, the guest would never see it). */
static void test_injected_before_first_entry(void)
{
	struct vmx_msr_entry area[VMX_GUEST_MSRS], area2[VMX_GUEST_MSRS];
	struct vmx_vcpu s, s2;
	struct guest_regs r;
	struct keel_state_vcpu st, again;
	uint32_t irq = 0xEC | INTR_TYPE_EXT_INTR | INTR_INFO_VALID;

	caps_skylake();
	linux_vcpu(&s, area, &r);
	s.idt_info = 0;
	vmx_state_read(&io, &s, &r, &st);
	memset(&s2, 0, sizeof(s2));
	memset(area2, 0, sizeof(area2));
	s2.msr_area = area2;
	vmx_state_load_soft(&s2, &st);
	CHECK_EQ_U64(s2.interruptibility, INTERRUPTIBILITY_STI);
	CHECK_EQ_U64(area2[4].value, 0x1004);
	s2.inject_info = irq;                /* vmx_vcpu_inject_irq */
	vmx_state_event(&s2, &again);        /* and a save then keeps it */
	CHECK_EQ_U64(again.event, 0xEC | KEEL_STATE_EVENT_VALID);
	fake_reset(0x11FF);
	vmx_state_load_vmcs(&io, &st);
	CHECK_EQ_U64(s2.inject_info, irq);
	CHECK_EQ_U64(fake[GUEST_INTERRUPTIBILITY], INTERRUPTIBILITY_STI);
	CHECK_EQ_U64(fake[GUEST_CR3], 0x1234000);
	CHECK(fake[VM_ENTRY_CONTROLS] & ENTRY_IA32E_MODE_GUEST);
}

int main(void)
{
	test_injected_before_first_entry();
	test_round_trip();
	test_reset();
	test_events();
	test_refused();
	return harness_done("test_vmx_state");
}
