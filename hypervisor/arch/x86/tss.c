/*
 * One 64-bit TSS shared by every CPU (see asm/tss.h): the descriptor at
 * KERNEL_TSS in the boot GDT points at it (Intel SDM vol. 3A, 8.2.3 "TSS
 * Descriptor in 64-bit mode"; 8.7 "Task Management in 64-bit Mode"). It
 * holds no stacks the hypervisor uses and no I/O bitmap; LTR marks its
 * descriptor busy, so each CPU clears that mark before loading it.
 */
#include <stdint.h>
#include <asm/boot.h>
#include <asm/tss.h>

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

_Static_assert(sizeof(struct tss64) == 104, "a 64-bit TSS is 104 bytes (SDM vol. 3A, figure 8-11)");

#define TSS_TYPE_AVAILABLE 0x9u
#define TSS_PRESENT 0x80u

extern uint64_t boot_gdt[];

static struct tss64 hv_tss __attribute__((aligned(128))) = {
	.iomap_base = sizeof(struct tss64), /* no I/O permission bitmap */
};

/* Write the 16-byte TSS descriptor, not busy. */
static void tss_descriptor_set(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&hv_tss, limit = sizeof(hv_tss) - 1;
	uint64_t *d = &boot_gdt[KERNEL_TSS / 8];

	d[0] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
	       ((uint64_t)(TSS_PRESENT | TSS_TYPE_AVAILABLE) << 40) |
	       (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	d[1] = base >> 32;
}

/* Load the TSS on this CPU; see asm/tss.h. */
void tss_load(void)
{
	tss_descriptor_set();
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)KERNEL_TSS) : "memory");
}

/* Address of the TSS; see asm/tss.h. */
uint64_t tss_base(void)
{
	return (uint64_t)(uintptr_t)&hv_tss;
}

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* Base of the GDT this CPU runs with; see asm/tss.h. */
uint64_t gdt_base(void)
{
	struct desc_ptr p;

	__asm__ volatile("sgdt %0" : "=m"(p));
	return p.base;
}

/* Base of the IDT this CPU runs with; see asm/tss.h. */
uint64_t idt_base(void)
{
	struct desc_ptr p;

	__asm__ volatile("sidt %0" : "=m"(p));
	return p.base;
}
