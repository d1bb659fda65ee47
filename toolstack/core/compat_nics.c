/*
 * Network devices for the compatibility report (compat_nics.h): the
 * interfaces under <sysfs>/class/net that have a device link (keel0, lo
 * and the guests' vifs have none), then the PCI network controllers
 * (class 0x02) under <sysfs>/bus/pci/devices that Linux gave no
 * interface, so that a card dom0 cannot drive is named, not silently
 * missing.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <limits.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat_nics.h"

#define NIC_PATH_BYTES 512 /* a file under a device directory */
#define NIC_DIR_BYTES 384  /* a device directory: root, subtree, name */

/* Read the first line of file dir/name into out (n bytes); "" if it
 * cannot be read. */
static void nic_read_line(const char *dir, const char *name, char *out, size_t n)
{
	char path[NIC_PATH_BYTES];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/%.64s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(out, (int)n, f))
		out[strcspn(out, "\n")] = 0;
	fclose(f);
}

/* The driver bound to the device in dir (the last part of its driver
 * link) into out (n bytes); "" when there is none. */
static void nic_driver(const char *dir, char *out, size_t n)
{
	char path[NIC_PATH_BYTES], target[PATH_MAX];
	ssize_t len;
	const char *slash;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/driver", dir);
	len = readlink(path, target, sizeof(target) - 1);
	if (len <= 0)
		return;
	target[len] = 0;
	slash = strrchr(target, '/');
	snprintf(out, n, "%.63s", slash ? slash + 1 : target);
}

static int nic_exists(const char *dir, const char *name)
{
	char path[NIC_PATH_BYTES];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%.64s", dir, name);
	return stat(path, &st) == 0;
}

/* iface's IPv4 addresses ("10.0.2.15/24", comma-separated) into out (n
 * bytes), "no address" if it has none. */
static void nic_addresses(const char *iface, char *out, size_t n)
{
	struct ifaddrs *all, *a;
	size_t used = 0;

	snprintf(out, n, "no address");
	if (getifaddrs(&all))
		return;
	for (a = all; a && used < n; a = a->ifa_next) {
		char ip[INET_ADDRSTRLEN];
		const struct sockaddr_in *sin = (const void *)a->ifa_addr;
		const struct sockaddr_in *mask = (const void *)a->ifa_netmask;

		if (!sin || sin->sin_family != AF_INET || strcmp(a->ifa_name, iface) ||
		    !inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)))
			continue;
		used += (size_t)snprintf(out + used, n - used, "%s%s/%d", used ? ", " : "", ip,
					 mask ? __builtin_popcount(mask->sin_addr.s_addr) : 32);
	}
	freeifaddrs(all);
}

/* One line for interface name (under sysfs/class/net) if it sits on a
 * bus. Returns 1 if it printed one. */
static int nic_iface_line(const char *sysfs, const char *name, FILE *out)
{
	char dir[NIC_DIR_BYTES], dev[NIC_DIR_BYTES], driver[64], mac[32], state[32];
	char addrs[128];

	snprintf(dir, sizeof(dir), "%.100s/class/net/%.255s", sysfs, name);
	snprintf(dev, sizeof(dev), "%.370s/device", dir);
	if (!nic_exists(dir, "device"))
		return 0;
	nic_driver(dev, driver, sizeof(driver));
	nic_read_line(dir, "address", mac, sizeof(mac));
	nic_read_line(dir, "operstate", state, sizeof(state));
	if (nic_exists(dir, "wireless")) {
		fprintf(out, "network: %s (%s, %s): Wi-Fi, not supported by Keel yet\n", name,
			driver[0] ? driver : "no driver", mac);
		return 1;
	}
	nic_addresses(name, addrs, sizeof(addrs));
	fprintf(out, "network: %s (%s, %s): link %s, %s\n", name,
		driver[0] ? driver : "no driver", mac, strcmp(state, "up") ? "down" : "up",
		addrs);
	return 1;
}

/* Whether the PCI function in dir has a network interface: a net/
 * directory of its own, or one under a child device (virtio0/net for
 * virtio-net). */
static int nic_pci_has_iface(const char *dir)
{
	char child[NIC_DIR_BYTES];
	struct dirent *e;
	DIR *d;
	int found = nic_exists(dir, "net");

	d = found ? NULL : opendir(dir);
	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%.300s/%.64s", dir, e->d_name);
		found = nic_exists(child, "net");
	}
	if (d)
		closedir(d);
	return found;
}

/* One line for PCI function name (under sysfs/bus/pci/devices) if it is
 * a network controller without an interface. Returns 1 if it printed. */
static int nic_pci_line(const char *sysfs, const char *name, FILE *out)
{
	char dir[NIC_DIR_BYTES], cls[16], vendor[16], device[16], driver[64];
	const char *ven, *dev;

	snprintf(dir, sizeof(dir), "%.100s/bus/pci/devices/%.255s", sysfs, name);
	nic_read_line(dir, "class", cls, sizeof(cls));
	if (strncmp(cls, "0x02", 4) || nic_pci_has_iface(dir))
		return 0;
	nic_read_line(dir, "vendor", vendor, sizeof(vendor));
	nic_read_line(dir, "device", device, sizeof(device));
	nic_driver(dir, driver, sizeof(driver));
	ven = vendor + 2 * !strncmp(vendor, "0x", 2);
	dev = device + 2 * !strncmp(device, "0x", 2);
	if (!driver[0] && !strncmp(cls, "0x0280", 6))
		/* PCI class 02h subclass 80h, "other network controller": Wi-Fi
		 * cards, whose drivers dom0 does not carry */
		fprintf(out, "network: PCI %s [%s:%s]: Wi-Fi or other wireless card, not supported "
			"by Keel (no driver in dom0); use Ethernet or a USB Ethernet adapter\n",
			name, ven, dev);
	else if (driver[0])
		fprintf(out, "network: PCI %s [%s:%s]: driver %s, but no interface (missing "
			"firmware? see dmesg)\n", name, ven, dev, driver);
	else
		fprintf(out, "network: PCI %s [%s:%s]: no driver in dom0's kernel for this "
			"card\n", name, ven, dev);
	return 1;
}

/* Call line for each entry of sysfs/sub (sorted by name); sum the results. */
static int nic_each(const char *sysfs, const char *sub, FILE *out,
		    int (*line)(const char *, const char *, FILE *))
{
	char dir[NIC_DIR_BYTES];
	struct dirent **names;
	int i, n, sum = 0;

	snprintf(dir, sizeof(dir), "%.100s/%.64s", sysfs, sub);
	n = scandir(dir, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			sum += line(sysfs, names[i]->d_name, out);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return sum;
}

/* Print the network devices; see compat_nics.h. */
int compat_nics_print(const char *sysfs, FILE *out)
{
	int n = nic_each(sysfs, "class/net", out, nic_iface_line);

	n += nic_each(sysfs, "bus/pci/devices", out, nic_pci_line);
	if (!n)
		fprintf(out, "network: no network card found: guests reach each other and "
			"dom0, not the outside\n");
	return n;
}
