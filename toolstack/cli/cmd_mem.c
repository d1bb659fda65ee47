/*
 * `keel mem-set <domain> <MiB>` and `keel mem-max <domain> <MiB>`, as
 * xl's: change how much memory a running guest has through its
 * virtio-balloon device (KEEL_HC_DOMAIN_BALLOON, ABI 1.12). mem-set asks
 * the guest for a new size and waits, showing progress, until its
 * balloon driver has given back (or taken back) the pages; the hypervisor
 * returns whole 2 MiB chunks to the pool as they empty. mem-max lowers or
 * raises the ceiling of mem-set, up to the memory the guest was built
 * with (its e820 cannot grow). Every refusal names the limit and changes
 * nothing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"
#include "args.h"
#include "domain.h"
#include "hcall.h"
#include "keel.h"

#define MEM_STEP_MIB 2u          /* the hypervisor's chunk */
#define MEM_POLL_NS 250000000ll  /* 250 ms between looks */
#define MEM_WAIT_DEFAULT_S 60u
#define MEM_SETTLE_POLLS 3u      /* unchanged looks before the end */

static uint64_t mib(uint64_t bytes)
{
	return bytes >> 20;
}

/* Parse "<n>", "<n>M" or "<n>G" (MiB unless G) into *@out MiB. */
static int mem_parse_mib(const char *cmd, const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (*end == 'G' || *end == 'g') {
		v *= 1024;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		end++;
	}
	if (!text[0] || text[0] == '-' || *end || errno || v == 0 || v > (1ull << 30)) {
		fprintf(stderr, "keel: %s: '%s' is not a memory size: give MiB, "
			"e.g. 256 (or 256M, 1G)\n", cmd, text);
		return -1;
	}
	if (v % MEM_STEP_MIB) {
		fprintf(stderr, "keel: %s: %llu MiB: memory moves in steps of %u MiB "
			"(try %llu or %llu)\n", cmd, v, MEM_STEP_MIB, v - v % MEM_STEP_MIB,
			v - v % MEM_STEP_MIB + MEM_STEP_MIB);
		return -1;
	}
	*out = v;
	return 0;
}

/* Parse the command line: <domain> <MiB> [-t SECONDS]. KEEL_EXIT_OK,
 * KEEL_EXIT_USAGE (reported) or KEEL_ARGS_HELP. */
static int mem_args(const struct keel_cmd *entry, int argc, char **argv, const char **dom,
		    uint64_t *want_mib, uint32_t *wait_s)
{
	const char *value;
	int ret = keel_domain_value_args(entry, argc, argv, "<MiB>", dom, &value, wait_s);

	if (ret)
		return ret;
	return mem_parse_mib(entry->name, value, want_mib) ? KEEL_EXIT_USAGE : KEEL_EXIT_OK;
}

/* Resolve @word to a started guest into *@d and its balloon into *@b. */
static int mem_guest(const char *cmd, const char *word, struct keel_dominfo *d,
		     struct keel_domain_balloon *b)
{
	int ret;

	if (hcall_connect(NULL) || domain_resolve(word, d))
		return -1;
	if (d->domid == 0) {
		fprintf(stderr, "keel: %s: Domain-0's memory is fixed when Keel boots; "
			"only guests have a balloon\n", cmd);
		return -1;
	}
	ret = domain_balloon(d->domid, KEEL_BALLOON_GET, 0, b);
	if (ret == -KEEL_EBUSY) {
		fprintf(stderr, "keel: %s: %s is not running yet (or is going away); "
			"try again once it has started\n", cmd, word);
		return -1;
	}
	if (ret) {
		hcall_report("KEEL_HC_DOMAIN_BALLOON", ret);
		return -1;
	}
	return 0;
}

/* Refuse @want_mib outside [minimum, ceiling]; @what names the ceiling. */
static int mem_check_range(const char *cmd, const char *name, uint64_t want_mib,
			   uint64_t ram_mib, uint64_t ceiling_mib, const char *what)
{
	uint64_t min_mib = mib(KEEL_BALLOON_MIN_BYTES);

	if (want_mib < min_mib && want_mib != ram_mib) {
		fprintf(stderr, "keel: %s: %s: %llu MiB is below the smallest size a "
			"guest may be given, %llu MiB\n", cmd, name,
			(unsigned long long)want_mib, (unsigned long long)min_mib);
		return -1;
	}
	if (want_mib > ceiling_mib) {
		fprintf(stderr, "keel: %s: %s: %llu MiB is above its maximum, %llu MiB (%s)\n",
			cmd, name, (unsigned long long)want_mib,
			(unsigned long long)ceiling_mib, what);
		return -1;
	}
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec t = { .tv_sec = ns / 1000000000ll, .tv_nsec = ns % 1000000000ll };

	nanosleep(&t, NULL);
}

/* Wait up to @wait_s for the guest to reach its target and the pool to
 * settle, showing progress. 0 when reached, -1 on timeout or error. */
static int mem_wait(const char *name, uint32_t domid, uint64_t from_mib, uint32_t wait_s,
		    struct keel_domain_balloon *b)
{
	int64_t deadline = now_ns() + (int64_t)wait_s * 1000000000ll;
	bool tty = isatty(STDERR_FILENO);
	uint64_t last_held = 0, shown = UINT64_MAX;
	uint32_t still = 0;

	if (!tty)
		fprintf(stderr, "keel: mem-set: %s: %llu MiB -> %llu MiB, waiting for the guest\n",
			name, (unsigned long long)from_mib, (unsigned long long)mib(b->target_bytes));
	for (;;) {
		if (domain_balloon(domid, KEEL_BALLOON_GET, 0, b))
			return -1;
		if (tty && mib(b->guest_bytes) != shown) {
			shown = mib(b->guest_bytes);
			fprintf(stderr, "\rkeel: mem-set: %s: %llu MiB -> %llu MiB: now %llu MiB ",
				name, (unsigned long long)from_mib,
				(unsigned long long)mib(b->target_bytes), (unsigned long long)shown);
		}
		still = b->held_bytes == last_held ? still + 1 : 0;
		last_held = b->held_bytes;
		if (b->guest_bytes == b->target_bytes && still >= MEM_SETTLE_POLLS)
			break;
		if (now_ns() > deadline)
			break;
		sleep_ns(MEM_POLL_NS);
	}
	if (tty)
		fputc('\n', stderr);
	return b->guest_bytes == b->target_bytes ? 0 : -1;
}

/* Explain a refused SET_TARGET. */
static void mem_set_refused(const char *name, uint64_t want_mib, int ret)
{
	struct keel_info info;

	if (ret == -KEEL_ENOMEM && keel_hypercall(KEEL_HC_INFO, &info, sizeof(info)) >= 0)
		fprintf(stderr, "keel: mem-set: %s: growing to %llu MiB needs memory from "
			"the pool, which has %llu MiB free; free some (keel destroy) or ask "
			"for less. Nothing changed\n", name, (unsigned long long)want_mib,
			(unsigned long long)mib(info.mem_pool_free_bytes));
	else
		hcall_report("KEEL_HC_DOMAIN_BALLOON", ret);
}

/* Entry point of `keel mem-set`. */
static int cmd_mem_set_run(int argc, char **argv)
{
	struct keel_domain_balloon b;
	struct keel_dominfo d;
	const char *word;
	uint64_t want, from, held_before;
	uint32_t wait_s = MEM_WAIT_DEFAULT_S;
	int ret = mem_args(&cmd_mem_set_entry, argc, argv, &word, &want, &wait_s);

	if (ret)
		return ret == KEEL_ARGS_HELP ? KEEL_EXIT_OK : ret;
	if (mem_guest("mem-set", word, &d, &b) ||
	    mem_check_range("mem-set", word, want, mib(b.ram_bytes), mib(b.max_bytes),
			    b.max_bytes == b.ram_bytes ? "the memory it was started with" :
							 "set by keel mem-max"))
		return KEEL_EXIT_FAIL;
	if (!b.driver_ok) {
		fprintf(stderr, "keel: mem-set: %s has no balloon driver running (its "
			"kernel has not loaded virtio_balloon), so it cannot give memory "
			"back or take it; nothing changed\n", word);
		return KEEL_EXIT_FAIL;
	}
	from = mib(b.guest_bytes);
	held_before = b.held_bytes;
	ret = domain_balloon(d.domid, KEEL_BALLOON_SET_TARGET, want << 20, &b);
	if (ret) {
		mem_set_refused(word, want, ret);
		return KEEL_EXIT_FAIL;
	}
	if (wait_s == 0) {
		printf("%s: asked for %llu MiB (it has %llu MiB now)\n", word,
		       (unsigned long long)want, (unsigned long long)from);
		return KEEL_EXIT_OK;
	}
	ret = mem_wait(word, d.domid, from, wait_s, &b);
	if (ret) {
		fprintf(stderr, "keel: mem-set: %s: after %u s the guest has %llu KiB, not "
			"the %llu KiB (%llu MiB) asked (it may be short of free memory, or "
			"slow: wait longer with -t); the target stays set and the guest goes "
			"on\n", word, wait_s, (unsigned long long)(b.guest_bytes >> 10),
			(unsigned long long)(want << 10), (unsigned long long)want);
		return KEEL_EXIT_FAIL;
	}
	printf("%s: %llu MiB -> %llu MiB; Keel holds %llu MiB for it (%s %llu MiB %s the pool)\n",
	       word, (unsigned long long)from, (unsigned long long)want,
	       (unsigned long long)mib(b.held_bytes),
	       b.held_bytes <= held_before ? "gave" : "took",
	       (unsigned long long)mib(b.held_bytes <= held_before ? held_before - b.held_bytes
								 : b.held_bytes - held_before),
	       b.held_bytes <= held_before ? "back to" : "from");
	return fflush(stdout) ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
}

/* Entry point of `keel mem-max`. */
static int cmd_mem_max_run(int argc, char **argv)
{
	struct keel_domain_balloon b;
	struct keel_dominfo d;
	const char *word;
	uint64_t want;
	int ret = mem_args(&cmd_mem_max_entry, argc, argv, &word, &want, NULL);

	if (ret)
		return ret == KEEL_ARGS_HELP ? KEEL_EXIT_OK : ret;
	if (mem_guest("mem-max", word, &d, &b) ||
	    mem_check_range("mem-max", word, want, mib(b.ram_bytes), mib(b.ram_bytes),
			    "the memory it was started with: a running guest's memory map "
			    "cannot grow"))
		return KEEL_EXIT_FAIL;
	ret = domain_balloon(d.domid, KEEL_BALLOON_SET_MAX, want << 20, &b);
	if (ret) {
		mem_set_refused(word, want, ret);
		return KEEL_EXIT_FAIL;
	}
	printf("%s: maximum %llu MiB (target %llu MiB, has %llu MiB)\n", word,
	       (unsigned long long)mib(b.max_bytes), (unsigned long long)mib(b.target_bytes),
	       (unsigned long long)mib(b.guest_bytes));
	return fflush(stdout) ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
}

/* Command-table entry of `keel mem-set`. */
const struct keel_cmd cmd_mem_set_entry = {
	.name = "mem-set",
	.summary = "Change a running guest's memory (its balloon)",
	.usage = "Usage: keel mem-set [-t SECONDS] <domain> <MiB>\n"
		 "\n"
		 "As 'xl mem-set': ask the guest, through its virtio-balloon\n"
		 "device, to keep MiB of memory (256, 256M or 1G; in steps of\n"
		 "2 MiB, from 64 MiB up to its maximum, see keel mem-max), and\n"
		 "wait until it has, showing progress. Memory the guest gives\n"
		 "back returns to the pool in whole 2 MiB chunks, so Keel may\n"
		 "hold a little more for it than it has. Growing takes the\n"
		 "memory from the pool first and is refused if the pool lacks\n"
		 "it. keel list and keel top show each guest's memory now.\n"
		 "\n"
		 "  -t SECONDS  wait at most this long (default 60; 0: do not\n"
		 "              wait). The target stays set either way.\n"
		 "\n"
		 "The guest's kernel needs the virtio_balloon driver (Keel's\n"
		 "guest images load it). A restored guest gets all its memory\n"
		 "back (docs/save-restore.md).\n",
	.run = cmd_mem_set_run,
};

/* Command-table entry of `keel mem-max`. */
const struct keel_cmd cmd_mem_max_entry = {
	.name = "mem-max",
	.summary = "Set the most memory keel mem-set may give a guest",
	.usage = "Usage: keel mem-max <domain> <MiB>\n"
		 "\n"
		 "As 'xl mem-max': the ceiling of keel mem-set for this guest,\n"
		 "from 64 MiB up to the memory it was started with (memory =\n"
		 "in its config: a running guest's memory map cannot grow). A\n"
		 "guest above the new maximum is asked down to it (as mem-set\n"
		 "-t 0).\n",
	.run = cmd_mem_max_run,
};
