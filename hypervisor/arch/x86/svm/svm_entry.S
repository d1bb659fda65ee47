/*
 * World switch for AMD-V: enters the guest described by a VMCB with
 * VMLOAD/VMRUN/VMSAVE (AMD APM vol. 2, 15.5 "VMRUN Instruction" and 15.5.2
 * "VMSAVE and VMLOAD") and returns after the #VMEXIT. The guest's RAX, RSP,
 * RIP and RFLAGS live in the VMCB; the other general-purpose registers are
 * loaded from and saved to a struct guest_regs (offsets in keel/vcpu.h).
 * The caller runs with GIF=0 (CLGI) so nothing interrupts the switch.
 *
 * void svm_vmrun(uint64_t vmcb_pa, struct guest_regs *regs);
 */
#include <asm/guest_regs.h>

	.text
	.code64
	.globl svm_vmrun
svm_vmrun:
	HOST_SAVE
	pushq %rsi
	movq %rdi, %rax
	GUEST_LOAD %rsi
	movq R_RDI(%rsi), %rdi
	movq R_RSI(%rsi), %rsi
	vmload %rax
	vmrun %rax
	vmsave %rax
	xchgq %rsi, (%rsp)
	GUEST_STORE %rsi
	movq %rdi, R_RDI(%rsi)
	popq %rax
	movq %rax, R_RSI(%rsi)
	HOST_RESTORE
	ret
