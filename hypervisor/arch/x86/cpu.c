/*
 * CPU identification and machine reset for common code.
 */
#include <keel/arch.h>
#include <keel/string.h>
#include <asm/x86.h>
#include <asm/lapic.h>
#include <keel/cpu.h>

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

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_HV_VENDOR_LEAF 0x40000000u

/*
 * Whether the calling CPU is emulated by QEMU's TCG: CPUID.1:ECX[31] says
 * a hypervisor is present and its vendor leaf 0x40000000 reads
 * "TCGTCGTCGTCG" (QEMU's default, property tcg-cpuid). Real CPUs clear
 * bit 31 (AMD APM vol. 3, CPUID Fn0000_0001_ECX; Intel SDM vol. 2A,
 * CPUID). Returns true under TCG, false on hardware and other hypervisors.
 */
bool arch_cpu_is_qemu_tcg(void)
{
	struct cpuid_regs r;
	char sig[12];

	cpuid_count(1, 0, &r);
	if (!(r.ecx & CPUID_1_ECX_HYPERVISOR))
		return false;
	cpuid_count(CPUID_HV_VENDOR_LEAF, 0, &r);
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	return memcmp(sig, "TCGTCGTCGTCG", sizeof(sig)) == 0;
}

/* Copy the CPU's brand string (CPUID 0x80000002-0x80000004, leading
 * blanks dropped) into out (size bytes), or "" when the CPU has none. */
void arch_cpu_brand(char *out, size_t size)
{
	char b[49];
	struct cpuid_regs r;
	uint32_t i;
	const char *p = b;

	out[0] = '\0';
	cpuid_count(0x80000000u, 0, &r);
	if (r.eax < 0x80000004u)
		return;
	for (i = 0; i < 3; i++) {
		cpuid_count(0x80000002u + i, 0, &r);
		memcpy(b + i * 16, &r, 16);
	}
	b[48] = '\0';
	while (*p == ' ')
		p++;
	strlcpy(out, p, size);
}

/* Copy the signature at CPUID 0x40000000 of a hypervisor Keel runs under
 * into out (size bytes), or "" when CPUID 1 does not say there is one. */
void arch_cpu_outer_hv(char *out, size_t size)
{
	struct cpuid_regs r;
	char sig[13];

	out[0] = '\0';
	cpuid_count(1, 0, &r);
	if (!(r.ecx & CPUID_1_ECX_HYPERVISOR))
		return;
	cpuid_count(CPUID_HV_VENDOR_LEAF, 0, &r);
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = '\0';
	strlcpy(out, sig, size);
}

/* Whether the CPU has x2APIC mode (CPUID Fn0000_0001_ECX[21]; Intel SDM
 * vol. 3A, 10.12.1). */
bool arch_cpu_has_x2apic(void)
{
	struct cpuid_regs r;

	cpuid_count(1, 0, &r);
	return (r.ecx & CPUID_1_ECX_X2APIC) != 0;
}

/* Whether the TSC runs at a constant rate in every power state (CPUID
 * Fn8000_0007_EDX[8] on AMD and Intel; SDM vol. 3B, 18.17.1). */
bool arch_cpu_has_invariant_tsc(void)
{
	struct cpuid_regs r;

	cpuid_count(0x80000000, 0, &r);
	if (r.eax < 0x80000007)
		return false;
	cpuid_count(0x80000007, 0, &r);
	return (r.edx & (1u << 8)) != 0;
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

/* Arm this CPU's scheduling timer for TSC value deadline_tsc. */
void arch_timer_arm(uint64_t deadline_tsc)
{
	this_cpu()->timer_deadline_tsc = deadline_tsc;
	lapic_timer_arm(deadline_tsc);
}

/* Make the CPU with apic_id leave guest mode or idle and look at its
 * run queue. */
void arch_kick_cpu(uint32_t apic_id)
{
	lapic_send_ipi(apic_id, LAPIC_KICK_VECTOR);
}

/* Send a fixed interrupt with vector to the CPU with apic_id (dom0's
 * switch-port interrupt, netdev_dom0_notify). */
void arch_send_vector(uint32_t apic_id, uint8_t vector)
{
	lapic_send_ipi(apic_id, vector);
}

/* Send an NMI to the CPU with apic_id (the watchdog asks it for its state). */
void arch_send_nmi(uint32_t apic_id)
{
	lapic_send_nmi(apic_id);
}

/* Log the calling CPU's local interrupt controller state. */
void arch_dump_local_irqs(void)
{
	lapic_dump_local();
}

/* Take the host interrupt that caused an INTR exit: it stays pending in the
 * LAPIC until interrupts are enabled for a moment. */
void arch_irq_window(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

/* Wait for an interrupt (timer or kick) with interrupts enabled, then
 * return with them disabled again. */
void arch_idle_wait(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

#define MSR_TSC_AUX 0xC0000103u
#define CPUID_EXT_EDX_RDTSCP (1u << 27)

static uint64_t tsc_aux_loaded[MAX_CPUS]; /* value + 1; 0 = unknown */

/* Make the calling CPU's TSC_AUX (read by RDTSCP) hold val, the running
 * vCPU's value; skipped when it already does or the CPU lacks RDTSCP.
 * Bits 63:32 are reserved and raise #GP when set (AMD APM vol. 2, 13.2.4),
 * so only the low 32 bits are ever written. */
void arch_tsc_aux_load(uint64_t val)
{
	static int has_rdtscp = -1;
	uint32_t i = this_cpu()->index;

	if (has_rdtscp < 0) {
		struct cpuid_regs r;

		cpuid_count(0x80000001, 0, &r);
		has_rdtscp = (r.edx & CPUID_EXT_EDX_RDTSCP) != 0;
	}
	val = (uint32_t)val;
	if (!has_rdtscp || tsc_aux_loaded[i] == val + 1)
		return;
	wrmsr(MSR_TSC_AUX, val);
	tsc_aux_loaded[i] = val + 1;
}

/* Write back and invalidate every cache of the calling CPU (WBINVD, AMD
 * APM vol. 3; Intel SDM vol. 2B). */
void arch_wbinvd(void)
{
	__asm__ volatile("wbinvd" ::: "memory");
}
