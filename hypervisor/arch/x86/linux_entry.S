/*
 * Entering Linux natively through its 64-bit boot entry
 * (Documentation/x86/boot.rst, "64-bit Boot Protocol"): a GDT with flat
 * __BOOT_CS (0x10, 64-bit code) and __BOOT_DS (0x18), CS/DS/ES/SS loaded
 * with them, interrupts off, RSI = the zero page, and page tables that map
 * the kernel, zero page and command line 1:1 (ours map the first 4 GiB).
 *
 * void arch_enter_linux_native(uint64_t entry64_pa, uint64_t zero_page_pa);
 */
	.text
	.code64
	.globl arch_enter_linux_native
arch_enter_linux_native:
	cli
	lgdt linux_gdt_desc(%rip)
	movq %rdi, %r8
	movq %rsi, %r9
	pushq $0x10
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
1:	movl $0x18, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movq %r9, %rsi
	xorl %ebp, %ebp
	xorl %edi, %edi
	jmp *%r8

	.data
	.align 16
linux_gdt:
	.quad 0
	.quad 0
	.quad 0x00AF9A000000FFFF /* 0x10: __BOOT_CS, 64-bit code */
	.quad 0x00CF92000000FFFF /* 0x18: __BOOT_DS */
linux_gdt_desc:
	.word 31
	.quad linux_gdt
