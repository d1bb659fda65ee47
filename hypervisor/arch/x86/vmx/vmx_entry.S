/*
 * World switch for Intel VT-x: enters the guest of the current VMCS with
 * VMLAUNCH or VMRESUME (Intel SDM vol. 3C, 26 "VM Entries"; the
 * instructions in 31.3) and returns after the VM exit, which lands in
 * vmx_exit_stub (the VMCS's host RIP) on the stack vmx_enter left in
 * HOST_RSP (27.5.3). The guest's RSP, RIP and RFLAGS live in the VMCS;
 * the other general-purpose registers are loaded from and saved to a
 * struct guest_regs (offsets in keel/vcpu.h).
 *
 * int vmx_enter(struct guest_regs *regs, uint64_t resume);
 *   returns 0 after a VM exit, 1 if the entry instruction failed
 *   (VMfailInvalid or VMfailValid: VM_INSTRUCTION_ERROR says why).
 */
#include <asm/guest_regs.h>

#define VMCS_HOST_RSP 0x6C14

	.text
	.code64
	.globl vmx_enter
vmx_enter:
	HOST_SAVE
	pushq %rdi                      /* regs, for vmx_exit_stub */
	movq $VMCS_HOST_RSP, %rax
	vmwrite %rsp, %rax
	jbe .Lfail
	testq %rsi, %rsi                /* ZF: 1 = first entry (VMLAUNCH) */
	GUEST_LOAD %rdi                 /* MOVs leave the flags alone */
	movq R_RAX(%rdi), %rax
	movq R_RSI(%rdi), %rsi
	movq R_RDI(%rdi), %rdi
	jz 1f
	vmresume
	jmp .Lfail
1:	vmlaunch
.Lfail:
	popq %rdi
	HOST_RESTORE
	movl $1, %eax
	ret

	.globl vmx_exit_stub
vmx_exit_stub:
	pushq %rdi                      /* the guest's RDI */
	movq 8(%rsp), %rdi              /* regs */
	GUEST_STORE %rdi
	movq %rax, R_RAX(%rdi)
	movq %rsi, R_RSI(%rdi)
	popq %rax
	movq %rax, R_RDI(%rdi)
	popq %rdi
	HOST_RESTORE
	xorl %eax, %eax
	ret
