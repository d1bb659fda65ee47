/*
 * Thin inline wrappers for x86 instructions the hypervisor uses: CPUID,
 * MSR access, port I/O, control registers, TSC and interrupt flag control,
 * plus the architectural MSR numbers and CPUID bits we test.
 */
#ifndef ASM_X86_H
#define ASM_X86_H

#include <stdint.h>

#define MSR_APIC_BASE 0x0000001Bu
#define MSR_MTRR_CAP 0x000000FEu
#define MSR_PAT 0x00000277u
#define MSR_TSC_DEADLINE 0x000006E0u
#define MSR_EFER 0xC0000080u
#define MSR_AMD_PATCH_LOADER 0xC0010020u /* write-only: loads a microcode patch (AMD PPRs, MSRC001_0020) */
#define MSR_INTEL_BIOS_UPDT_TRIG 0x79u   /* loads a microcode update (Intel SDM vol. 3A, 10.11.6) */

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)

#define RFLAGS_RESERVED1 (1ull << 1)
#define RFLAGS_IF (1ull << 9)

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline void cpuid_count(uint32_t leaf, uint32_t subleaf,
			       struct cpuid_regs *r)
{
	__asm__ volatile("cpuid"
			 : "=a"(r->eax), "=b"(r->ebx), "=c"(r->ecx), "=d"(r->edx)
			 : "a"(leaf), "c"(subleaf));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
	__asm__ volatile("wrmsr"
			 :
			 : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "memory");
}

/*
 * The "safe" forms of RDMSR and WRMSR are for MSRs this CPU may not have
 * (model-specific ones): the #GP that RDMSR/WRMSR raise then (AMD APM
 * vol. 3, "RDMSR", "WRMSR") is caught through the exception table. The
 * instruction's address and its fix-up go into .ex_table; trap_dispatch
 * (idt.c) resumes a #GP at a listed address at the fix-up, which sets the
 * error and jumps back behind the instruction.
 */
#define X86_EX_TABLE_ENTRY(insn, fixup)                                  \
	".pushsection .ex_table, \"a\"\n.balign 8\n.quad " #insn ", " #fixup \
	"\n.popsection\n"

/* RDMSR of msr into *val: 0, or -EIO (5) if the CPU raised #GP. */
static inline int rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;
	int err = 0;

	__asm__ volatile("1: rdmsr\n"
			 "2:\n"
			 ".pushsection .fixup, \"ax\"\n"
			 "3: movl $-5, %[err]\n"
			 "   jmp 2b\n"
			 ".popsection\n" X86_EX_TABLE_ENTRY(1b, 3b)
			 : "+a"(lo), "+d"(hi), [err] "+r"(err)
			 : "c"(msr));
	*val = ((uint64_t)hi << 32) | lo;
	return err;
}

/* WRMSR of val to msr: 0, or -EIO (5) if the CPU raised #GP. */
static inline int wrmsr_safe(uint32_t msr, uint64_t val)
{
	int err = 0;

	__asm__ volatile("1: wrmsr\n"
			 "2:\n"
			 ".pushsection .fixup, \"ax\"\n"
			 "3: movl $-5, %[err]\n"
			 "   jmp 2b\n"
			 ".popsection\n" X86_EX_TABLE_ENTRY(1b, 3b)
			 : [err] "+r"(err)
			 : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "memory");
	return err;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t read_cr0(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

/* CR2, the linear address of the last page fault (SDM vol. 3A, 2.5).
 * VT-x does not switch it between guest and host (SDM 27.3: the VMCS has
 * no CR2 field), so the VMX backend saves and restores it. */
static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline void write_cr2(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr2" : : "r"(v));
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void cpu_halt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}

static inline uint64_t read_rsp(void)
{
	uint64_t v;
	__asm__ volatile("mov %%rsp, %0" : "=r"(v));
	return v;
}

#endif
