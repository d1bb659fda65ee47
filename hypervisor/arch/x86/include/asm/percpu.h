/*
 * Finding the running CPU's struct cpu on x86: every per-CPU stack is
 * STACK_SIZE_BYTES-aligned and holds a pointer to its struct cpu at its
 * lowest address (arch/x86/smp.c sets it up), so the stack pointer names
 * the CPU without a segment register or an MSR read.
 */
#ifndef ASM_PERCPU_H
#define ASM_PERCPU_H

#include <stdint.h>
#include <asm/boot.h>

struct cpu;

/* Return the struct cpu of the CPU this code runs on. */
static inline struct cpu *this_cpu(void)
{
	uint64_t rsp;

	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	return *(struct cpu **)(rsp & ~((uint64_t)STACK_SIZE_BYTES - 1));
}

#endif
