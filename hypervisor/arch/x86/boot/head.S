/*
 * Entry from a Multiboot (v1 or v2) loader and the AP start-up trampoline.
 * The loader enters _start in 32-bit protected mode with paging off (Multiboot
 * spec section 3.2); we clear .bss, identity-map the first 4 GiB with 2 MiB
 * pages, enable long mode (AMD APM vol. 2, 14.6 "Enabling and Activating
 * Long Mode") and call hv_main(magic, info). The trampoline is copied to
 * TRAMPOLINE_PA and started by INIT-SIPI-SIPI; it walks each AP from real
 * mode to long mode on the BSP's page tables and jumps to the C entry that
 * the BSP stored in its data words.
 */
#include <asm/boot.h>

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-aligned modules, memory map wanted */

#define CR0_PE 0x00000001
#define CR0_WP 0x00010000
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define MSR_EFER 0xC0000080
#define EFER_LME 0x00000100

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

/*
 * The Multiboot2 header, for GRUB's multiboot2 command (the UEFI path):
 * Multiboot2 spec 3.1. Without an EFI entry tag GRUB leaves boot services
 * and enters _start as a Multiboot v1 loader would (32-bit protected mode,
 * paging off), with 0x36d76289 in EAX; the tags ask for page-aligned
 * modules and say that EGA text is fine (BIOS) but a linear framebuffer is
 * taken where there is no text mode (UEFI).
 */
#define MB2_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0
#define MB2_TAG_OPTIONAL 1
	.align 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* console flags (type 4): EGA text supported */
	.word 4, MB2_TAG_OPTIONAL
	.long 12
	.long 2
	.align 8
	/* framebuffer (type 5): any size, 32 bits per pixel preferred */
	.word 5, MB2_TAG_OPTIONAL
	.long 20
	.long 0, 0, 32
	.align 8
	/* module alignment (type 6): modules on page boundaries */
	.word 6, 0
	.long 8
	/* end */
	.word 0, 0
	.long 8
mb2_header_end:

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, boot_mb_magic
	movl %ebx, boot_mb_info

	/* Clear .bss (page tables and the boot stack live there). */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl $boot_stack_top, %esp

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories. */
	movl $boot_pdpt, %eax
	orl $3, %eax
	movl %eax, boot_pml4
	movl $boot_pd, %eax
	orl $3, %eax
	movl $boot_pdpt, %edi
	movl $4, %ecx
1:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 1b

	/* 2048 2 MiB pages: identity map of 0..4 GiB (P, RW, PS). */
	movl $boot_pd, %edi
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, (%edi,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jne 2b

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP | CR0_PE), %eax
	movl %eax, %cr0

	lgdt boot_gdt_desc
	ljmp $KERNEL_CS, $start64

	.code64
start64:
	movw $KERNEL_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl boot_mb_magic(%rip), %edi
	movl boot_mb_info(%rip), %esi
	call hv_main
3:	cli
	hlt
	jmp 3b

/* ---- AP trampoline: position-independent, copied to TRAMPOLINE_PA ---- */
#define TR(sym) (TRAMPOLINE_PA + (sym) - ap_tramp_start)

	.globl ap_tramp_start, ap_tramp_end
	.globl ap_tramp_cr3, ap_tramp_stack, ap_tramp_entry
	.code16
ap_tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl (ap_tramp_gdt_desc - ap_tramp_start)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $CODE32_CS, $TR(ap_tramp32)

	.code32
ap_tramp32:
	movw $KERNEL_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl TR(ap_tramp_cr3), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP), %eax
	movl %eax, %cr0
	ljmp $KERNEL_CS, $TR(ap_tramp64)

	.code64
ap_tramp64:
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq TR(ap_tramp_stack), %rsp
	movq TR(ap_tramp_entry), %rax
	xorl %ebp, %ebp
	jmp *%rax

	.align 8
ap_tramp_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF /* 0x08: 64-bit code */
	.quad 0x00CF92000000FFFF /* 0x10: data */
	.quad 0x00CF9A000000FFFF /* 0x18: 32-bit code */
ap_tramp_gdt_desc:
	.word 31
	.long TR(ap_tramp_gdt)
	.align 8
ap_tramp_cr3:
	.quad 0
ap_tramp_stack:
	.quad 0
ap_tramp_entry:
	.quad 0
ap_tramp_end:

	.data
	.align 16
	.globl boot_gdt, boot_gdt_desc
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF /* 0x08: 64-bit code */
	.quad 0x00CF92000000FFFF /* 0x10: data */
	.quad 0x00CF9A000000FFFF /* 0x18: 32-bit code */
	.quad 0, 0               /* 0x20: the TSS (filled by tss_load) */
boot_gdt_desc:
	.word 47
	.quad boot_gdt
	.globl boot_mb_magic, boot_mb_info
boot_mb_magic:
	.long 0
boot_mb_info:
	.long 0

	.section .bss.pagetables, "aw", @nobits
	.align 4096
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	.align STACK_SIZE_BYTES
	.globl boot_stack, boot_stack_top
boot_stack:
	.skip STACK_SIZE_BYTES
boot_stack_top:
