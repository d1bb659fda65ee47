/*
 * Bringing every CPU into the hypervisor. The BSP copies the trampoline
 * (head.S) below 1 MiB and starts each AP that ACPI's MADT lists with the
 * INIT-SIPI-SIPI sequence (Intel SDM vol. 3A, 8.4.4.1 "Typical BSP
 * Initialization Sequence"; AMD APM vol. 2, 15.27.8 and 16.5). Each AP gets
 * its own STACK_SIZE_BYTES-aligned stack with its struct cpu pointer at the
 * bottom, and reloads the hypervisor's GDT and IDT (cpu_init_local), since
 * the trampoline page is handed to dom0 afterwards.
 */
#include <keel/arch.h>
#include <keel/acpi.h>
#include <keel/cpu.h>
#include <keel/idt.h>
#include <keel/log.h>
#include <keel/mm.h>
#include <keel/string.h>
#include <keel/errno.h>
#include <asm/boot.h>
#include <asm/lapic.h>
#include <asm/x86.h>

#define INIT_DEASSERT_WAIT_US 10000u
#define SIPI_WAIT_US 200u
#define AP_ONLINE_TIMEOUT_US 500000u
#define STACK_PAGES (STACK_SIZE_BYTES / PAGE_SIZE_4K)

extern char ap_tramp_start[], ap_tramp_end[];
extern char ap_tramp_cr3[], ap_tramp_stack[], ap_tramp_entry[];
extern char boot_gdt_desc[];

struct cpu cpus[MAX_CPUS];
uint32_t nr_cpus = 1;

static void *tramp_word(const char *sym)
{
	return phys_to_virt(TRAMPOLINE_PA + (uint64_t)(sym - ap_tramp_start));
}

/* Load the hypervisor's GDT, segments and IDT on the calling CPU and
 * software-enable its LAPIC. */
void cpu_init_local(void)
{
	__asm__ volatile("lgdt (%0)\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 :
			 : "r"(boot_gdt_desc), "i"(KERNEL_CS), "i"(KERNEL_DS)
			 : "rax", "memory");
	idt_load();
	lapic_enable();
}

static bool ap_wait_online(struct cpu *c)
{
	uint32_t t;

	for (t = 0; t < AP_ONLINE_TIMEOUT_US; t += 100) {
		if (c->online)
			return true;
		udelay(100);
	}
	return false;
}

static int ap_start(struct cpu *c, void (*entry)(void))
{
	uint64_t stack = mm_alloc_pages(STACK_PAGES, STACK_PAGES);

	if (!stack)
		return -ENOMEM;
	c->stack_base = stack;
	*(struct cpu **)phys_to_virt(stack) = c;
	*(uint64_t *)tramp_word(ap_tramp_stack) = stack + STACK_SIZE_BYTES;
	*(uint64_t *)tramp_word(ap_tramp_entry) = (uint64_t)(uintptr_t)entry;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (lapic_send_init(c->apic_id))
		return -EIO;
	udelay(INIT_DEASSERT_WAIT_US);
	if (lapic_send_sipi(c->apic_id, TRAMPOLINE_PA >> 12))
		return -EIO;
	udelay(SIPI_WAIT_US);
	if (!c->online && lapic_send_sipi(c->apic_id, TRAMPOLINE_PA >> 12))
		return -EIO;
	return ap_wait_online(c) ? 0 : -EBUSY;
}

/*
 * Start every enabled AP listed in acpi; each runs ap_entry on its own
 * stack and must set its struct cpu's online flag. CPUs that do not answer
 * are logged and left out. Return the number of CPUs now online.
 */
int smp_boot_aps(const struct acpi_info *acpi, void (*ap_entry)(void))
{
	uint32_t bsp = lapic_id(), i;

	memcpy(phys_to_virt(TRAMPOLINE_PA), ap_tramp_start,
	       (size_t)(ap_tramp_end - ap_tramp_start));
	*(uint32_t *)tramp_word(ap_tramp_cr3) = (uint32_t)read_cr3();
	for (i = 0; i < acpi->nr_cpus && nr_cpus < MAX_CPUS; i++) {
		struct cpu *c = &cpus[nr_cpus];
		int rc;

		if (acpi->cpu_apic_ids[i] == bsp)
			continue;
		c->index = nr_cpus;
		c->apic_id = acpi->cpu_apic_ids[i];
		rc = ap_start(c, ap_entry);
		if (rc) {
			log_warn("CPU with APIC id %u did not start (error %d); not used\n",
				 c->apic_id, rc);
			memset(c, 0, sizeof(*c));
			continue;
		}
		nr_cpus++;
	}
	return (int)nr_cpus;
}
