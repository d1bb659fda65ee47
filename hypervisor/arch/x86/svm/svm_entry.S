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
#define R_RBX 8
#define R_RCX 16
#define R_RDX 24
#define R_RSI 32
#define R_RDI 40
#define R_RBP 48
#define R_R8 56
#define R_R9 64
#define R_R10 72
#define R_R11 80
#define R_R12 88
#define R_R13 96
#define R_R14 104
#define R_R15 112

	.text
	.code64
	.globl svm_vmrun
svm_vmrun:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rsi
	movq %rdi, %rax
	movq R_RBX(%rsi), %rbx
	movq R_RCX(%rsi), %rcx
	movq R_RDX(%rsi), %rdx
	movq R_RDI(%rsi), %rdi
	movq R_RBP(%rsi), %rbp
	movq R_R8(%rsi), %r8
	movq R_R9(%rsi), %r9
	movq R_R10(%rsi), %r10
	movq R_R11(%rsi), %r11
	movq R_R12(%rsi), %r12
	movq R_R13(%rsi), %r13
	movq R_R14(%rsi), %r14
	movq R_R15(%rsi), %r15
	movq R_RSI(%rsi), %rsi
	vmload %rax
	vmrun %rax
	vmsave %rax
	xchgq %rsi, (%rsp)
	movq %rbx, R_RBX(%rsi)
	movq %rcx, R_RCX(%rsi)
	movq %rdx, R_RDX(%rsi)
	movq %rdi, R_RDI(%rsi)
	movq %rbp, R_RBP(%rsi)
	movq %r8, R_R8(%rsi)
	movq %r9, R_R9(%rsi)
	movq %r10, R_R10(%rsi)
	movq %r11, R_R11(%rsi)
	movq %r12, R_R12(%rsi)
	movq %r13, R_R13(%rsi)
	movq %r14, R_R14(%rsi)
	movq %r15, R_R15(%rsi)
	popq %rax
	movq %rax, R_RSI(%rsi)
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
