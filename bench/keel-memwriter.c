/*
 * keel-memwriter: a guest program that keeps writing its memory and
 * notices any write that was lost, for testing and measuring a live save
 * or migration (`keel save --live`). It fills an area page by page, pass
 * after pass: each page carries the number of the pass that last wrote it
 * and its own index. Before a pass rewrites a page it checks that the page
 * still carries the previous pass's mark; a page that does not (a write
 * lost, as when a live copy missed a page the program wrote) is reported
 * with what it held, and the program exits 1. Once a second it prints how
 * many passes are done, so a counter that goes on shows the guest runs.
 * Static, for dom0 and every guest (/usr/bin on the CD).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE_BYTES 4096u
#define WORDS (PAGE_BYTES / sizeof(uint64_t))
#define SALT 0x4b45454c4d454d57ull /* "KEELMEMW" */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: keel-memwriter [-m MiB] [-d ms] [-n passes]\n"
		"\n"
		"Write an area of memory page by page, pass after pass, checking\n"
		"before each write that the page still holds what the previous pass\n"
		"wrote. A page that does not is reported ('MISMATCH ...') and the\n"
		"program exits 1. Once a second: 'keel-memwriter: N passes ok'.\n"
		"\n"
		"  -m MiB     size of the area (default 16)\n"
		"  -d ms      sleep between passes (default 0: write as fast as it can)\n"
		"  -n passes  stop after this many passes (default: run until killed)\n");
}

/* The mark of page p written by pass g, in word w of the page. */
static uint64_t mark(uint64_t g, uint64_t p, uint64_t w)
{
	return (g << 32 | p) ^ (SALT + w * 0x9e3779b97f4a7c15ull);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Check page p of area against pass g - 1 (none before pass 1), then
 * write pass g's mark into its first, middle and last words. */
static int page_pass(uint64_t *pg, uint64_t g, uint64_t p)
{
	static const uint64_t words[] = { 0, WORDS / 2, WORDS - 1 };
	uint32_t i;

	for (i = 0; g > 0 && i < 3; i++) {
		if (pg[words[i]] != mark(g - 1, p, words[i])) {
			printf("keel-memwriter: MISMATCH page %llu word %llu in pass %llu: "
			       "%#llx, expected %#llx (pass %llu)\n", (unsigned long long)p,
			       (unsigned long long)words[i], (unsigned long long)g,
			       (unsigned long long)pg[words[i]],
			       (unsigned long long)mark(g - 1, p, words[i]),
			       (unsigned long long)(g - 1));
			return -1;
		}
	}
	for (i = 0; i < 3; i++)
		pg[words[i]] = mark(g, p, words[i]);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t mib = 16, delay_ms = 0, passes = 0, pages, g, p, last;
	uint64_t *area;
	int opt;

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	while ((opt = getopt(argc, argv, "m:d:n:h")) != -1) {
		if (opt == 'm')
			mib = strtoull(optarg, NULL, 0);
		else if (opt == 'd')
			delay_ms = strtoull(optarg, NULL, 0);
		else if (opt == 'n')
			passes = strtoull(optarg, NULL, 0);
		else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind < argc || mib == 0 || mib > 65536) {
		usage(stderr);
		return 2;
	}
	pages = mib * (1u << 20) / PAGE_BYTES;
	area = aligned_alloc(PAGE_BYTES, pages * PAGE_BYTES);
	if (!area) {
		fprintf(stderr, "keel-memwriter: cannot allocate %llu MiB\n",
			(unsigned long long)mib);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("keel-memwriter: writing %llu MiB, %llu pages, pass after pass\n",
	       (unsigned long long)mib, (unsigned long long)pages);
	last = now_ms();
	for (g = 0; passes == 0 || g < passes; g++) {
		for (p = 0; p < pages; p++)
			if (page_pass(area + p * WORDS, g, p))
				return 1;
		if (now_ms() - last >= 1000) {
			last = now_ms();
			printf("keel-memwriter: %llu passes ok\n", (unsigned long long)g + 1);
		}
		if (delay_ms)
			usleep((useconds_t)(delay_ms * 1000));
	}
	printf("keel-memwriter: %llu passes ok, done\n", (unsigned long long)g);
	return 0;
}
