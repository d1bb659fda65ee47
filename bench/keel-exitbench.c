/*
 * keel-exitbench: the cost of the cheapest VM exits, timed from inside a
 * domain (a guest or dom0, both on the CD as /usr/bin/keel-exitbench).
 * It runs COUNT CPUIDs of Keel's own leaf 0x40000000 (the bare exit:
 * the hypervisor answers from a table) and COUNT KEEL_HC_VERSION
 * hypercalls (VMMCALL on AMD, VMCALL on Intel; unprivileged, so a user
 * program may make it), each timed with CLOCK_MONOTONIC (the vDSO reads
 * the TSC: no exit of its own), and prints the time per round trip and
 * their ratio. bench/ratios.py reports "hypercall round trip / bare exit"
 * from it. Static, no dependencies: gcc -static -O2.
 */
#include <cpuid.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../hypervisor/include/public/keel_abi.h"

#define DEFAULT_COUNT 20000u

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void keel_cpuid(uint32_t leaf, uint32_t r[4])
{
	__cpuid(leaf, r[0], r[1], r[2], r[3]);
}

/* KEEL_HC_VERSION through the vendor's instruction; returns RAX. */
static uint64_t keel_version_call(int amd)
{
	uint64_t rax = KEEL_HC_VERSION;

	if (amd)
		__asm__ volatile("vmmcall" : "+a"(rax) : "D"(0ull), "S"(0ull) : "memory");
	else
		__asm__ volatile("vmcall" : "+a"(rax) : "D"(0ull), "S"(0ull) : "memory");
	return rax;
}

static int usage(FILE *out, int rc)
{
	fprintf(out, "Usage: keel-exitbench [-n COUNT]\n"
		     "\n"
		     "Time COUNT (default %u) CPUIDs of Keel's leaf 0x40000000 (the\n"
		     "bare VM exit) and COUNT KEEL_HC_VERSION hypercalls from this\n"
		     "domain, and print the round trip of each and their ratio.\n"
		     "Runs only under the Keel hypervisor.\n", DEFAULT_COUNT);
	return rc;
}

int main(int argc, char **argv)
{
	uint32_t r[4], i, count = DEFAULT_COUNT;
	char sig[13] = { 0 }, vendor[13] = { 0 };
	double t0, t_cpuid, t_call;
	int amd;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage(stdout, 0);
	if (argc == 3 && !strcmp(argv[1], "-n")) {
		char *end;
		unsigned long n = strtoul(argv[2], &end, 10);

		if (*end || n == 0 || n > 100000000ul) {
			fprintf(stderr, "keel-exitbench: -n needs a count from 1 to 100000000, "
					"not '%s'\n", argv[2]);
			return 2;
		}
		count = (uint32_t)n;
	} else if (argc != 1) {
		return usage(stderr, 2);
	}
	keel_cpuid(KEEL_CPUID_BASE, r);
	memcpy(sig, &r[1], 4), memcpy(sig + 4, &r[2], 4), memcpy(sig + 8, &r[3], 4);
	if (strcmp(sig, KEEL_CPUID_SIGNATURE)) {
		fprintf(stderr, "keel-exitbench: not running under the Keel hypervisor "
				"(CPUID 0x40000000 says '%s')\n", sig);
		return 1;
	}
	keel_cpuid(0, r);
	memcpy(vendor, &r[1], 4), memcpy(vendor + 4, &r[3], 4), memcpy(vendor + 8, &r[2], 4);
	amd = !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine");
	keel_cpuid(KEEL_CPUID_VERSION, r);
	if (keel_version_call(amd) != r[1]) {
		fprintf(stderr, "keel-exitbench: KEEL_HC_VERSION did not return the ABI "
				"version CPUID gives (%#x)\n", r[1]);
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < count; i++)
		keel_cpuid(KEEL_CPUID_BASE, r);
	t_cpuid = now_s() - t0;
	t0 = now_s();
	for (i = 0; i < count; i++)
		keel_version_call(amd);
	t_call = now_s() - t0;
	printf("cpuid: %u in %.3f s, %.3f us each\n", count, t_cpuid, t_cpuid * 1e6 / count);
	printf("hypercall: %u in %.3f s, %.3f us each\n", count, t_call, t_call * 1e6 / count);
	printf("ratio hypercall/cpuid: %.3f\n", t_cpuid > 0 ? t_call / t_cpuid : 0.0);
	return 0;
}
