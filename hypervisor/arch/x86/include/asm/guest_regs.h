/*
 * For the world-switch assembly of both backends (svm_entry.S,
 * vmx_entry.S): the offsets of struct guest_regs (keel/vcpu.h; a static
 * assertion in vmx_exit.c pins its size) and macros that move the
 * registers both switches treat alike between the CPU and that struct,
 * and that save and restore the host's callee-saved registers.
 */
#ifndef ASM_GUEST_REGS_H
#define ASM_GUEST_REGS_H

#ifdef __ASSEMBLY__

#define R_RAX 0
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

/* Push and pop the host's callee-saved registers (System V ABI). */
.macro HOST_SAVE
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro HOST_RESTORE
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
.endm

/* Load RBX, RCX, RDX, RBP and R8-R15 from the struct at \base. */
.macro GUEST_LOAD base
	movq R_RBX(\base), %rbx
	movq R_RCX(\base), %rcx
	movq R_RDX(\base), %rdx
	movq R_RBP(\base), %rbp
	movq R_R8(\base), %r8
	movq R_R9(\base), %r9
	movq R_R10(\base), %r10
	movq R_R11(\base), %r11
	movq R_R12(\base), %r12
	movq R_R13(\base), %r13
	movq R_R14(\base), %r14
	movq R_R15(\base), %r15
.endm

/* Store RBX, RCX, RDX, RBP and R8-R15 into the struct at \base. */
.macro GUEST_STORE base
	movq %rbx, R_RBX(\base)
	movq %rcx, R_RCX(\base)
	movq %rdx, R_RDX(\base)
	movq %rbp, R_RBP(\base)
	movq %r8, R_R8(\base)
	movq %r9, R_R9(\base)
	movq %r10, R_R10(\base)
	movq %r11, R_R11(\base)
	movq %r12, R_R12(\base)
	movq %r13, R_R13(\base)
	movq %r14, R_R14(\base)
	movq %r15, R_R15(\base)
.endm

#endif
#endif
