/*
 * The hypervisor's own address space beyond the boot page tables. head.S
 * maps the first 4 GiB with 2 MiB pages; RAM above that is mapped here,
 * before the page allocator (which keeps its bitmap in that RAM) exists,
 * so the tables come from .bss or are 1 GiB pages (AMD APM vol. 2, 5.3.4
 * "1-Gbyte Page Translation", CPUID 0x80000001 EDX bit 26). Device
 * memory the hypervisor draws on (a loader's framebuffer) is mapped
 * uncached with 2 MiB pages: PCD and PWT select PAT entry 3, which is UC
 * both at reset and in the PAT Linux programs (AMD APM vol. 2, 7.8.2
 * "PAT Indexing"; Intel SDM vol. 3A, 11.12.3).
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
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_P 0x1ull
#define PD_ENTRIES 512u
#define CPUID_EXT_EDX_PDPE1GB (1u << 26)

extern uint64_t boot_pdpt[PDPT_ENTRIES];
extern uint64_t boot_pd[BOOT_MAPPED_GIB][PD_ENTRIES];
static uint64_t spare_pd[SPARE_PD_PAGES][512] __aligned(4096);
static uint32_t spare_used;

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
	uint32_t g;

	for (g = BOOT_MAPPED_GIB; g < need; g++) {
		if (boot_pdpt[g] & PTE_P) {
			continue; /* arch_map_uncached's table: RAM is in it too */
		} else if (big) {
			boot_pdpt[g] = ((uint64_t)g << 30) | PTE_P_RW | PTE_PS;
		} else if (spare_used < SPARE_PD_PAGES) {
			map_gib_with_pd(g, spare_pd[spare_used++]);
		} else {
			log_warn("RAM above %u GiB is not used (no 1 GiB pages)\n", g);
			break;
		}
	}
	write_cr3(read_cr3());
	return MIN(top_pa, (uint64_t)MAX(g, BOOT_MAPPED_GIB) << 30);
}

/* The page directory that maps GiB g with 2 MiB pages: head.S's below
 * 4 GiB, else a spare one, filled with the identity map (write-back, so
 * any RAM in that GiB stays usable). NULL when none is left. */
static uint64_t *pd_for_gib(uint32_t g)
{
	if (g < BOOT_MAPPED_GIB)
		return boot_pd[g];
	if (boot_pdpt[g] & PTE_P)
		return (boot_pdpt[g] & PTE_PS) ? NULL : (uint64_t *)(uintptr_t)(boot_pdpt[g] & ~0xFFFull);
	if (spare_used >= SPARE_PD_PAGES)
		return NULL;
	map_gib_with_pd(g, spare_pd[spare_used]);
	return spare_pd[spare_used++];
}

/*
 * Identity-map bytes of device memory from pa uncached (UC) for the
 * hypervisor, in whole 2 MiB pages, on every CPU (call it before the APs
 * start, or they keep stale TLB entries). Returns the virtual address of
 * pa, or NULL when the range is empty, reaches beyond 512 GiB, or no
 * spare page directory is left.
 */
void *arch_map_uncached(uint64_t pa, uint64_t bytes)
{
	uint64_t end = pa + bytes, a;

	if (!bytes || end < pa || end > (uint64_t)PDPT_ENTRIES << 30)
		return NULL;
	for (a = ALIGN_DOWN(pa, PAGE_SIZE_2M); a < end; a += PAGE_SIZE_2M) {
		uint64_t *pd = pd_for_gib((uint32_t)(a >> 30));

		if (!pd)
			return NULL;
		pd[(a >> 21) % PD_ENTRIES] = a | PTE_P_RW | PTE_PS | PTE_PCD | PTE_PWT;
	}
	write_cr3(read_cr3());
	return (void *)(uintptr_t)pa;
}
