/*
 * `keel console <domain>`: attach to a guest's serial console. With a
 * terminal on stdin it switches it to raw mode (restored on exit and on
 * signals) so every key, Ctrl-C included, goes to the guest, and Ctrl-]
 * detaches. With a pipe on stdin it leaves termios alone and ends when the
 * input ends and the guest's output has drained. `keel create -c` uses
 * cmd_console_attach() directly.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "abi.h"
#include "args.h"
#include "console.h"
#include "domain.h"
#include "hcall.h"
#include "keel.h"

/* Attach to a domain's console; see keel.h. */
int cmd_console_attach(uint32_t domid, const char *name)
{
	int tty = console_tty_raw(STDIN_FILENO) == 0;
	int ret;

	signal(SIGPIPE, SIG_IGN);
	if (tty)
		fprintf(stderr, "Connected to %s (id=%u); Ctrl-] detaches\r\n",
			name, domid);
	ret = console_run(domid, STDIN_FILENO, STDOUT_FILENO, NULL);
	console_tty_restore();
	if (tty && ret == 0)
		fprintf(stderr, "\nDetached from %s\n", name);
	if (ret == -KEEL_ENOENT || ret == -ENOENT) {
		fprintf(stderr, "\nkeel: console: domain %s (id=%u) is gone\n",
			name, domid);
		return KEEL_EXIT_OK;
	}
	if (ret == -EPIPE)
		return KEEL_EXIT_FAIL;
	if (ret) {
		hcall_report("KEEL_HC_CONSOLE_IO", ret);
		return KEEL_EXIT_FAIL;
	}
	return KEEL_EXIT_OK;
}

/* Entry point of `keel console <domain>`. */
static int cmd_console_run(int argc, char **argv)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1];
	struct keel_dominfo d;
	int i;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_console_entry);
			return KEEL_EXIT_OK;
		}
	}
	if (argc != 2 || (argv[1][0] == '-' && argv[1][1])) {
		fprintf(stderr, "keel: console: %s; see 'keel help console'\n",
			argc < 2 ? "missing domain name or id" :
			argc > 2 ? "too many arguments" : "unknown option");
		return KEEL_EXIT_USAGE;
	}
	if (hcall_connect(NULL) || domain_resolve(argv[1], &d))
		return KEEL_EXIT_FAIL;
	if (d.domid == 0) {
		fprintf(stderr, "keel: console: Domain-0 has no Keel console "
			"(it owns the real terminals)\n");
		return KEEL_EXIT_FAIL;
	}
	domain_name(&d, name, sizeof(name));
	return cmd_console_attach(d.domid, name);
}

/* Command-table entry of `keel console`. */
const struct keel_cmd cmd_console_entry = {
	.name = "console",
	.summary = "Attach to a domain's serial console",
	.usage = "Usage: keel console <domain>\n"
		 "\n"
		 "Show the guest's console output (starting with what it printed\n"
		 "while no one was attached) and send it what you type.\n"
		 "Ctrl-] detaches; the guest keeps running. When stdin is not\n"
		 "a terminal, input is sent as it comes and the command ends\n"
		 "when the input ends and the output has been quiet for 1 s.\n",
	.run = cmd_console_run,
};
