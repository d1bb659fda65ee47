/*
 * The hypervisor's task-state segment. Nothing in the hypervisor switches
 * stacks through it (no IST, no privilege change), but Intel VT-x needs a
 * usable task register to return to after every VM exit (Intel SDM vol.
 * 3C, 26.2.3: the host TR selector must not be null), so each CPU loads
 * one with tss_load() before it enables VMX.
 */
#ifndef ASM_TSS_H
#define ASM_TSS_H

#include <stdint.h>

/* Load the hypervisor's TSS into the calling CPU's task register
 * (selector KERNEL_TSS). CPUs must not call this at the same time. */
void tss_load(void);

/* Linear address of the TSS, for the VMCS host-state area. */
uint64_t tss_base(void);

/* Linear address and limit of the GDT and IDT the hypervisor runs with. */
uint64_t gdt_base(void);
uint64_t idt_base(void);

#endif
