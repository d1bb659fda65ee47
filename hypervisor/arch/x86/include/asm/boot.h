/*
 * Constants shared by the boot assembly and C: segment selectors of the
 * hypervisor's GDT, the per-CPU stack size and the physical page where the
 * AP start-up trampoline is copied. Usable from C and from assembly.
 */
#ifndef ASM_BOOT_H
#define ASM_BOOT_H

#define KERNEL_CS 0x08 /* 64-bit code */
#define KERNEL_DS 0x10 /* flat data */
#define KERNEL_TSS 0x20 /* 64-bit TSS (arch/x86/tss.c) */
#define CODE32_CS 0x18 /* 32-bit code, used by the AP trampoline */

#define STACK_SIZE_BYTES 16384 /* per-CPU stack; also its alignment */
#define TRAMPOLINE_PA 0x8000   /* AP real-mode entry page (SIPI vector 8) */

#endif
