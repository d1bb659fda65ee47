/*
 * The hypervisor's own address space beyond the boot page tables. head.S
 * maps the first 4 GiB with 2 MiB pages; RAM above that is mapped here,
 * before the page allocator (which keeps its bitmap in that RAM) exists,
 * so the tables come from .bss or are 1 GiB pages (AMD APM vol. 2, 5.3.4
 * "1-Gbyte Page Translation", CPUID 0x80000001 EDX bit 26).
 */
#include <keel/arch.h>
#include <keel/log.h>
#include <keel/compiler.h>
#include <asm/x86.h>

#define PDPT_ENTRIES 512u
#define BOOT_MAPPED_GIB 4u
#define SPARE_PD_PAGES 28u /* 2 MiB pages for RAM up to 32 GiB */
#define PTE_P_RW 0x3ull
#define PTE_PS 0x80ull
#define CPUID_EXT_EDX_PDPE1GB (1u << 26)

extern uint64_t boot_pdpt[PDPT_ENTRIES];
static uint64_t spare_pd[SPARE_PD_PAGES][512] __aligned(4096);

/* Whether the CPU maps 1 GiB pages (CPUID Fn8000_0001_EDX[26], Page1GB;
 * AMD APM vol. 2, 5.3.4; nested page tables share the format, 15.25.5). */
bool arch_cpu_has_1g_pages(void)
{
	struct cpuid_regs r;

	cpuid_count(0x80000001, 0, &r);
	return (r.edx & CPUID_EXT_EDX_PDPE1GB) != 0;
}

static void map_gib_with_pd(uint32_t g, uint64_t *pd)
{
	uint32_t i;

	for (i = 0; i < 512; i++)
		pd[i] = ((uint64_t)g << 30) + ((uint64_t)i << 21) + (PTE_P_RW | PTE_PS);
	boot_pdpt[g] = (uint64_t)(uintptr_t)pd | PTE_P_RW;
}

/*
 * Identity-map physical memory up to top_pa (exclusive) for the hypervisor.
 * Return the address actually mapped up to, which is less than top_pa when
 * the machine has more RAM than this build can map (the rest is not used).
 */
uint64_t arch_map_ram(uint64_t top_pa)
{
	uint32_t need = (uint32_t)MIN(ALIGN_UP(top_pa, PAGE_SIZE_1G) >> 30, PDPT_ENTRIES);
	bool big = arch_cpu_has_1g_pages();
	uint32_t g, spare = 0;

	for (g = BOOT_MAPPED_GIB; g < need; g++) {
		if (big) {
			boot_pdpt[g] = ((uint64_t)g << 30) | PTE_P_RW | PTE_PS;
		} else if (spare < SPARE_PD_PAGES) {
			map_gib_with_pd(g, spare_pd[spare++]);
		} else {
			log_warn("RAM above %u GiB is not used (no 1 GiB pages)\n", g);
			break;
		}
	}
	write_cr3(read_cr3());
	return MIN(top_pa, (uint64_t)MAX(g, BOOT_MAPPED_GIB) << 30);
}
