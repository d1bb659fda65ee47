/*
 * libFuzzer target for the vCPU record a restore or a migration takes
 * from outside (struct keel_state_vcpu, docs/save-restore.md), through
 * both backends' converters: hypervisor/arch/x86/svm/svm_state.c into a
 * VMCB, and hypervisor/arch/x86/vmx/vmx_state.c into a VMCS kept in an
 * array (Skylake's fixed CR0/CR4 bits). Each input is XORed onto a 64-bit
 * Linux vCPU's record (the empty input is that record). The contract: a record either backend accepts saves back to a
 * record that backend accepts again and that loads to the same control
 * block and saves back unchanged (loading normalizes at most once, as
 * for a segment marked both present and unusable); on VT-x the control
 * registers, EFER, RIP, RFLAGS, the segments and the event come back
 * exactly as accepted; a refused record leaves the VMCB and registers as
 * they were. Run with tests/fuzz/run.sh.
 */
#include "../../hypervisor/common/vcpu_state.c"
#include "../../hypervisor/arch/x86/svm/svm_state.c"
#include "../../hypervisor/arch/x86/vmx/vmx_caps.c"
#include "../../hypervisor/arch/x86/vmx/vmx_state.c"
#include "fuzz.h"

#include <string.h>

struct vmx_caps vmx_caps;
static uint64_t fake[0x8000];

static uint64_t fake_read(uint64_t field)
{
	return fake[field & 0x7FFF];
}

static bool fake_write(uint64_t field, uint64_t val)
{
	fake[field & 0x7FFF] = val;
	return true;
}

static const struct vmcs_io io = { fake_read, fake_write };

static void fuzz_svm(const struct keel_state_vcpu *st)
{
	struct vmcb vm, vm2, before;
	struct guest_regs r, r2, r_before;
	struct keel_state_vcpu once, twice;

	memset(&vm, 0x5A, sizeof(vm));
	memset(&r, 0x5A, sizeof(r));
	before = vm;
	r_before = r;
	if (svm_state_set(&vm, &r, st)) {
		FUZZ_ASSERT(memcmp(&vm, &before, sizeof(vm)) == 0);
		FUZZ_ASSERT(memcmp(&r, &r_before, sizeof(r)) == 0);
		return;
	}
	svm_state_get(&vm, &r, &once);
	memset(&vm2, 0, sizeof(vm2));
	memset(&r2, 0, sizeof(r2));
	FUZZ_ASSERT(svm_state_set(&vm2, &r2, &once) == 0);
	svm_state_get(&vm2, &r2, &twice);
	FUZZ_ASSERT(memcmp(&once, &twice, sizeof(once)) == 0);
}

static void fuzz_vmx(const struct keel_state_vcpu *st)
{
	struct vmx_msr_entry area[VMX_GUEST_MSRS];
	struct keel_state_vcpu once, twice;
	struct vmx_vcpu s;
	struct guest_regs r;

	if (vmx_state_check(st))
		return;
	memset(fake, 0, sizeof(fake));
	fake[VM_ENTRY_CONTROLS] = 0x11FF;
	memset(&s, 0, sizeof(s));
	for (uint32_t i = 0; i < VMX_GUEST_MSRS; i++)
		area[i].index = vmx_guest_msr_order[i], area[i].value = 0;
	s.msr_area = area;
	vmx_state_write(&io, &s, st);
	memset(&r, 0, sizeof(r));
	vcpu_state_regs_set(&r, st);
	vmx_state_read(&io, &s, &r, &once);
	FUZZ_ASSERT(once.cr0 == st->cr0 && once.cr4 == st->cr4 && once.efer == st->efer);
	FUZZ_ASSERT(once.rip == st->rip && once.rflags == st->rflags);
	FUZZ_ASSERT(memcmp(&once.es, &st->es, 8 * sizeof(st->es)) == 0);
	FUZZ_ASSERT(once.event == st->event && once.int_shadow == st->int_shadow);
	FUZZ_ASSERT(vmx_state_check(&once) == 0);
	memset(fake, 0, sizeof(fake));
	fake[VM_ENTRY_CONTROLS] = 0x11FF;
	vmx_state_write(&io, &s, &once);
	vmx_state_read(&io, &s, &r, &twice);
	FUZZ_ASSERT(memcmp(&once, &twice, sizeof(once)) == 0);
}

/* A 64-bit Linux kernel's vCPU, which both backends accept: inputs are
 * XORed onto it, so that most stay near a state a CPU could be in. */
static void linux_record(struct keel_state_vcpu *st)
{
	memset(st, 0, sizeof(*st));
	st->cs = (struct keel_state_seg){ 0x10, 0xA09B, 0xFFFFFFFF, 0, 0 };
	st->ss = (struct keel_state_seg){ 0x18, 0xC093, 0xFFFFFFFF, 0, 0 };
	st->es = st->ds = st->fs = (struct keel_state_seg){ 0, KEEL_STATE_SEG_UNUSABLE, 0, 0, 0 };
	st->gs = (struct keel_state_seg){ 0, 0xC093, 0xFFFFFFFF, 0, 0xFFFF888000000000ull };
	st->ldtr = (struct keel_state_seg){ 0, KEEL_STATE_SEG_UNUSABLE, 0, 0, 0 };
	st->tr = (struct keel_state_seg){ 0x40, 0x8B, 0x4087, 0, 0xFFFFFE0000003000ull };
	st->gdtr_limit = 0x7F, st->idtr_limit = 0xFFF;
	st->cr0 = 0x80050033, st->cr3 = 0x1234000, st->cr4 = 0x3506F0, st->efer = 0xD01;
	st->rip = 0xFFFFFFFF81000000ull, st->rflags = 0x246;
	st->dr6 = 0xFFFF0FF0, st->dr7 = 0x400, st->pat = 0x0007040600070406ull;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keel_state_vcpu st;
	uint8_t *b = (uint8_t *)&st;

	vmx_caps.cr0_fixed0 = 0x80000021;
	vmx_caps.cr0_fixed1 = 0xFFFFFFFF;
	vmx_caps.cr4_fixed0 = 0x2000;
	vmx_caps.cr4_fixed1 = 0x3727FF;
	linux_record(&st);
	for (size_t i = 0; i < size && i < sizeof(st); i++)
		b[i] ^= data[i];
	fuzz_svm(&st);
	fuzz_vmx(&st);
	return 0;
}
