/*
 * hostile - the user-space half of Keel's hostile-guest test (a static
 * binary the boot tests build and carry into guests on a disk image, with
 * keel_hostile.ko). "hostile victim" is the innocent guest's side: it
 * keeps XMM0-15 and MXCSR full of a known pattern, DR0-DR3 loaded with a
 * known value (through keel_hostile.ko) and a memory area written and
 * checksummed, and counts every time its own state was not what it left.
 * Each round it also takes a page fault at VICTIM_FAULT_VA, so that its
 * CPU's CR2 holds a known address of the victim's.
 * The attacker's side is keel_hostile.ko's /proc/keel_hostile (see there).
 * Never shipped on the CD.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MEM_WORDS (4u << 20) / 8u  /* 4 MiB checksummed area */
#define XMM_PATTERN_BASE 0xA0u     /* XMMn holds 16 bytes of 0xA0 + n */
#define VICTIM_MXCSR 0xFF80u       /* all masked, round toward zero, FZ */
#define VICTIM_DR 0x5A5A0000ull    /* DR0-DR3 = this + 0..3 */
#define SPIN_ITERS 200000ul
#define VICTIM_FAULT_VA 0x5A5A5000ul /* a page dropped and touched each round */

static void usage(FILE *f)
{
	fprintf(f, "usage: hostile victim STATUS-FILE [SECONDS]\n"
		   "  Keep XMM0-15/MXCSR, DR0-DR3 (through /proc/keel_hostile) and a\n"
		   "  4 MiB memory area filled with known values, check them, and write\n"
		   "  'rounds=N xmm_bad=N mem_bad=N dr_set=N faults=N' to STATUS-FILE every\n"
		   "  second; each round takes a page fault at 0x5A5A5000 (for CR2);\n"
		   "  runs SECONDS (default: until killed).\n"

		   "Keel's boot tests use it with keel_hostile.ko (tests/hostile/).\n");
}

/* Load the pattern into XMM0-15 and MXCSR, then check XMM0 and XMM15 for
 * iters rounds. Returns 1 if they changed under the program, else 0. */
static int xmm_spin(const uint8_t pat[256], uint32_t mxcsr, unsigned long iters)
{
	unsigned long bad;

	__asm__ volatile(
		"movdqu 0(%[p]), %%xmm0\n\tmovdqu 16(%[p]), %%xmm1\n\t"
		"movdqu 32(%[p]), %%xmm2\n\tmovdqu 48(%[p]), %%xmm3\n\t"
		"movdqu 64(%[p]), %%xmm4\n\tmovdqu 80(%[p]), %%xmm5\n\t"
		"movdqu 96(%[p]), %%xmm6\n\tmovdqu 112(%[p]), %%xmm7\n\t"
		"movdqu 128(%[p]), %%xmm8\n\tmovdqu 144(%[p]), %%xmm9\n\t"
		"movdqu 160(%[p]), %%xmm10\n\tmovdqu 176(%[p]), %%xmm11\n\t"
		"movdqu 192(%[p]), %%xmm12\n\tmovdqu 208(%[p]), %%xmm13\n\t"
		"movdqu 224(%[p]), %%xmm14\n\tmovdqu 240(%[p]), %%xmm15\n\t"
		"ldmxcsr %[m]\n\t"
		"xor %[bad], %[bad]\n"
		"1:\n\t"
		"movq %%xmm0, %%rax\n\tcmp 0(%[p]), %%rax\n\tjne 2f\n\t"
		"movq %%xmm15, %%rax\n\tcmp 240(%[p]), %%rax\n\tjne 2f\n\t"
		"dec %[n]\n\tjnz 1b\n\tjmp 3f\n"
		"2:\n\tmov $1, %[bad]\n"
		"3:\n"
		: [bad] "=&r"(bad), [n] "+r"(iters)
		: [p] "r"(pat), [m] "m"(mxcsr)
		: "rax", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
		  "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
		  "xmm12", "xmm13", "xmm14", "xmm15");
	return (int)bad;
}

/* Write round's pattern over mem, read it back; the words that differ. */
static unsigned long mem_round(volatile uint64_t *mem, uint64_t round)
{
	uint64_t seed = round * 0x9E3779B97F4A7C15ull;
	unsigned long bad = 0;
	uint32_t i;

	for (i = 0; i < MEM_WORDS; i++)
		mem[i] = seed ^ i;
	for (i = 0; i < MEM_WORDS; i++)
		bad += mem[i] != (seed ^ i);
	return bad;
}

/* Drop page's contents and write it again: a page fault whose address
 * (CR2) is VICTIM_FAULT_VA. Returns 1 if the fault was taken. */
static int fault_round(volatile uint8_t *page)
{
	if (madvise((void *)page, 4096, MADV_DONTNEED))
		return 0;
	page[0] = 1;
	return 1;
}

static int victim(const char *status, long seconds)
{
	uint8_t pat[256];
	uint64_t *mem = malloc(MEM_WORDS * 8ull);
	unsigned long rounds = 0, xmm_bad = 0, mem_bad = 0, dr_set = 0, faults = 0;
	volatile uint8_t *page = mmap((void *)VICTIM_FAULT_VA, 4096, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	time_t start = time(NULL), last = 0;
	char cmd[64];
	int i, fd = open("/proc/keel_hostile", O_WRONLY);

	if (page == MAP_FAILED) {
		fprintf(stderr, "hostile: cannot map the fault page at %#lx\n", VICTIM_FAULT_VA);
		return 1;
	}
	if (!mem) {
		fprintf(stderr, "hostile: out of memory\n");
		return 1;
	}
	for (i = 0; i < 256; i++)
		pat[i] = (uint8_t)(XMM_PATTERN_BASE + i / 16);
	snprintf(cmd, sizeof(cmd), "dr-set %llx", VICTIM_DR);
	for (;;) {
		time_t now = time(NULL);

		if (fd >= 0 && write(fd, cmd, strlen(cmd)) > 0)
			dr_set++;
		xmm_bad += (unsigned long)xmm_spin(pat, VICTIM_MXCSR, SPIN_ITERS);
		mem_bad += mem_round(mem, rounds);
		faults += (unsigned long)fault_round(page);
		rounds++;
		if (now != last) {
			FILE *f = fopen(status, "w");

			if (f) {
				fprintf(f, "rounds=%lu xmm_bad=%lu mem_bad=%lu dr_set=%lu faults=%lu\n",
					rounds, xmm_bad, mem_bad, dr_set, faults);
				fclose(f);
			}
			last = now;
		}
		if (seconds > 0 && now - start >= seconds)
			return 0;
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "victim"))
		return victim(argv[2], argc >= 4 ? atol(argv[3]) : 0);
	usage(stderr);
	return 2;
}
