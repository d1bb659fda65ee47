/*
 * `keel info`: the hypervisor-wide information command, modelled on
 * `xl info`. It fetches struct keel_info with KEEL_HC_INFO and prints it
 * through info_format(). `keel info --compat` prints the compatibility
 * report the hypervisor handed dom0 in its initramfs (/etc/keel/compat),
 * and dom0's network interfaces with their drivers and addresses; it
 * works without the hypervisor too.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"
#include "args.h"
#include "hcall.h"
#include "info_fmt.h"
#include "keel.h"

/* Body of `keel info` once the command line is known to be fine. */
static int cmd_info_show(void)
{
	struct keel_info info;
	int ret;

	if (hcall_connect(NULL))
		return KEEL_EXIT_FAIL;
	memset(&info, 0, sizeof(info));
	ret = keel_hypercall(KEEL_HC_INFO, &info, sizeof(info));
	if (ret < 0) {
		hcall_report("KEEL_HC_INFO", ret);
		return KEEL_EXIT_FAIL;
	}
	if (info_format(&info, stdout)) {
		fprintf(stderr, "keel: info: cannot write output: %s\n",
			strerror(errno));
		return KEEL_EXIT_FAIL;
	}
	return KEEL_EXIT_OK;
}

#define COMPAT_REPORT_PATH "/etc/keel/compat"
#define SYS_NET "/sys/class/net"

/* Read the first line of sysfs file dir/name into out (n bytes); "" if
 * it cannot be read. */
static void sys_read_line(const char *dir, const char *name, char *out, size_t n)
{
	char path[PATH_MAX];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(out, (int)n, f))
		out[strcspn(out, "\n")] = 0;
	fclose(f);
}

/* Write iface's IPv4 addresses ("10.0.2.15/24", comma-separated) into
 * out (n bytes), "no address" if it has none. */
static void iface_addresses(const char *iface, char *out, size_t n)
{
	struct ifaddrs *all, *a;
	size_t used = 0;

	snprintf(out, n, "no address");
	if (getifaddrs(&all))
		return;
	for (a = all; a; a = a->ifa_next) {
		char ip[INET_ADDRSTRLEN];
		const struct sockaddr_in *sin = (const void *)a->ifa_addr;
		const struct sockaddr_in *mask = (const void *)a->ifa_netmask;
		int bits;

		if (!sin || sin->sin_family != AF_INET || strcmp(a->ifa_name, iface) ||
		    !inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)))
			continue;
		bits = mask ? __builtin_popcount(mask->sin_addr.s_addr) : 32;
		used += (size_t)snprintf(out + used, used < n ? n - used : 0, "%s%s/%d",
					 used ? ", " : "", ip, bits);
		if (used >= n)
			break;
	}
	freeifaddrs(all);
}

/* Print one line for the network interface name if it sits on a bus
 * (virtual ones, keel0 and the guests' vifs, have no device link).
 * Returns 1 if it printed one. */
static int compat_nic_line(const char *name)
{
	char dir[320], path[352], target[PATH_MAX], mac[32], state[32], addrs[128];
	const char *driver;
	struct stat st;
	ssize_t len;

	snprintf(dir, sizeof(dir), "%s/%.255s", SYS_NET, name);
	snprintf(path, sizeof(path), "%s/device", dir);
	if (stat(path, &st))
		return 0;
	snprintf(path, sizeof(path), "%s/device/driver", dir);
	len = readlink(path, target, sizeof(target) - 1);
	target[len > 0 ? len : 0] = 0;
	driver = strrchr(target, '/') ? strrchr(target, '/') + 1 : "no driver";
	sys_read_line(dir, "address", mac, sizeof(mac));
	sys_read_line(dir, "operstate", state, sizeof(state));
	snprintf(path, sizeof(path), "%s/wireless", dir);
	if (!stat(path, &st)) {
		printf("network: %s (%s, %s): Wi-Fi, not supported by Keel yet\n", name, driver,
		       mac);
		return 1;
	}
	iface_addresses(name, addrs, sizeof(addrs));
	printf("network: %s (%s, %s): link %s, %s\n", name, driver, mac,
	       strcmp(state, "up") ? "down" : "up", addrs);
	return 1;
}

/* Body of `keel info --compat`. */
static int cmd_info_compat(void)
{
	char line[256];
	FILE *f = fopen(COMPAT_REPORT_PATH, "r");
	struct dirent *e;
	DIR *d;
	int nics = 0;

	if (f) {
		while (fgets(line, sizeof(line), f))
			fputs(line, stdout);
		fclose(f);
	} else {
		printf("no compatibility report (%s): dom0 was started without the Keel "
		       "hypervisor (the 'Dom0 Linux without hypervisor' entry)\n",
		       COMPAT_REPORT_PATH);
	}
	d = opendir(SYS_NET);
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			nics += compat_nic_line(e->d_name);
	if (d)
		closedir(d);
	if (!nics)
		printf("network: no network card with a driver: guests reach each other, "
		       "not the outside\n");
	return KEEL_EXIT_OK;
}

/* Entry point of `keel info [--compat] [--help]`. */
static int cmd_info_run(int argc, char **argv)
{
	struct args_global args;

	if (argc == 2 && strcmp(argv[1], "--compat") == 0)
		return cmd_info_compat();
	if (args_parse_none(argc, argv, &args)) {
		fprintf(stderr, "keel: info: unexpected %s '%s'; see "
			"'keel help info'\n",
			args.action == ARGS_BAD_OPTION ? "option" : "argument",
			args.bad);
		return KEEL_EXIT_USAGE;
	}
	if (args.action == ARGS_HELP) {
		keel_print_cmd_help(&cmd_info_entry);
		return KEEL_EXIT_OK;
	}
	return cmd_info_show();
}

/* Command-table entry of `keel info`. */
const struct keel_cmd cmd_info_entry = {
	.name = "info",
	.summary = "Show information about the hypervisor and the host",
	.usage = "Usage: keel info [--compat]\n"
		 "\n"
		 "Print hypervisor, CPU and memory information, one\n"
		 "'key : value' per line (like 'xl info'). Memory is in MiB.\n"
		 "Needs root and dom0 running on Keel (/dev/keel).\n"
		 "\n"
		 "  --compat  print the compatibility report instead: what this\n"
		 "            machine can do for Keel (CPU, virtualization,\n"
		 "            IOMMU, firmware, memory and CPUs, whether it is\n"
		 "            itself virtual, whether guests can run), as the\n"
		 "            hypervisor found it at boot, then each network\n"
		 "            card with its driver, link and address. Works\n"
		 "            without the hypervisor too.\n",
	.run = cmd_info_run,
};
