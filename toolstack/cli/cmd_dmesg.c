/*
 * `keel dmesg [-c]`: print the hypervisor's log, the "(keel) " lines it has
 * written to its consoles since boot, from its in-memory ring of the last
 * 64 KiB (KEEL_HC_LOG_READ), like `xl dmesg`. With -c, what was printed is
 * cleared, so the next `keel dmesg` shows only what came after.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "abi.h"
#include "args.h"
#include "hcall.h"
#include "keel.h"

#define DMESG_CHUNK_BYTES 16384u

static int dmesg_usage(const char *what, const char *arg)
{
	fprintf(stderr, "keel: dmesg: %s '%s'; see 'keel help dmesg'\n", what, arg);
	return KEEL_EXIT_USAGE;
}

/* Read the log from its oldest kept byte to its end and write it to out;
 * with clear, each piece read is cleared. 0 or a negative error. */
static int dmesg_copy(FILE *out, bool clear)
{
	static struct {
		struct keel_log_read h;
		char text[DMESG_CHUNK_BYTES];
	} buf;
	uint64_t pos = 0;
	int ret;

	for (;;) {
		memset(&buf.h, 0, sizeof(buf.h));
		buf.h.pos = pos;
		buf.h.flags = clear ? KEEL_LOG_CLEAR : 0;
		ret = keel_hypercall(KEEL_HC_LOG_READ, &buf, sizeof(buf));
		if (ret < 0)
			return ret;
		if (buf.h.bytes > DMESG_CHUNK_BYTES)
			return -KEEL_EINVAL;
		fwrite(buf.text, 1, buf.h.bytes, out);
		pos = buf.h.pos + buf.h.bytes;
		if (!buf.h.bytes || pos >= buf.h.head)
			return 0;
	}
}

static int cmd_dmesg_run(int argc, char **argv)
{
	bool clear = false;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_dmesg_entry);
			return KEEL_EXIT_OK;
		}
		if (strcmp(argv[i], "-c"))
			return dmesg_usage(argv[i][0] == '-' ? "unknown option" :
					   "unexpected argument", argv[i]);
		clear = true;
	}
	if (hcall_connect(NULL))
		return KEEL_EXIT_FAIL;
	ret = dmesg_copy(stdout, clear);
	fflush(stdout);
	if (ret) {
		hcall_report("dmesg", ret);
		return KEEL_EXIT_FAIL;
	}
	return KEEL_EXIT_OK;
}

/* Command-table entry of `keel dmesg`. */
const struct keel_cmd cmd_dmesg_entry = {
	.name = "dmesg",
	.summary = "Print the hypervisor's log (-c: then clear it)",
	.usage = "Usage: keel dmesg [-c]\n"
		 "\n"
		 "Print the hypervisor's own log: the \"(keel) \" lines it has\n"
		 "written to the serial port and the screen since boot (CPUs,\n"
		 "memory, domains created, started, crashed and destroyed, and\n"
		 "why). The hypervisor keeps the last 64 KiB of it in memory;\n"
		 "older lines are gone.\n"
		 "\n"
		 "  -c  clear what was printed, so that the next 'keel dmesg'\n"
		 "      shows only newer lines\n",
	.run = cmd_dmesg_run,
};
