/*
 * CPU identification and machine reset for common code.
 */
#include <keel/arch.h>
#include <keel/string.h>
#include <asm/x86.h>

#define PORT_RESET_CF9 0xCF9
#define PORT_KBC_CMD 0x64
#define KBC_PULSE_RESET 0xFE

static char vendor[13];

/* The CPUID vendor string ("AuthenticAMD", "GenuineIntel", ...). */
const char *arch_cpu_vendor(void)
{
	struct cpuid_regs r;

	if (!vendor[0]) {
		cpuid_count(0, 0, &r);
		memcpy(vendor, &r.ebx, 4);
		memcpy(vendor + 4, &r.edx, 4);
		memcpy(vendor + 8, &r.ecx, 4);
		vendor[12] = 0;
	}
	return vendor;
}

/* Reset the machine: the PCI reset port 0xCF9, then the keyboard
 * controller, then a triple fault through an empty IDT. */
void arch_reset_machine(void)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __packed empty_idt = { 0, 0 };

	outb(PORT_RESET_CF9, 0x02);
	outb(PORT_RESET_CF9, 0x06);
	outb(PORT_KBC_CMD, KBC_PULSE_RESET);
	__asm__ volatile("lidt %0; int3" : : "m"(empty_idt));
	for (;;)
		cpu_halt();
}
