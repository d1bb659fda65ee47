/*
 * Unit tests for toolstack/core/compat_nics.c on a sysfs tree made in
 * /tmp: an interface with its driver, MAC and link; a Wi-Fi interface; a
 * virtual interface (no device link) left out; PCI network controllers
 * with no driver and with a driver but no interface named; a virtio-net
 * function whose interface sits under its child device, and a display
 * controller, left out; an empty tree says there is no card.
 */
#include "../../toolstack/core/compat_nics.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static char root[] = "/tmp/keel-sysfs.XXXXXX";

static void mk(const char *rel)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", root, rel);
	CHECK(system(cmd) == 0);
}

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void link_to(const char *rel, const char *target)
{
	char path[512], abs[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(abs, sizeof(abs), "%s/%s", root, target);
	CHECK(symlink(abs, path) == 0);
}

static void pci(const char *fn, const char *cls, const char *vendor, const char *device,
		const char *driver)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", fn);
	mk(rel);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/class", fn);
	put(rel, cls);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vendor", fn);
	put(rel, vendor);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/device", fn);
	put(rel, device);
	if (driver) {
		char target[128];

		snprintf(target, sizeof(target), "bus/pci/drivers/%s", driver);
		mk(target);
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver", fn);
		link_to(rel, target);
	}
}

static void build_tree(void)
{
	pci("0000:00:01.0", "0x030000\n", "0x1234\n", "0x1111\n", NULL);
	pci("0000:00:03.0", "0x020000\n", "0x8086\n", "0x100e\n", "e1000");
	mk("bus/pci/devices/0000:00:03.0/net/keeltest0");
	pci("0000:00:04.0", "0x020000\n", "0x10ec\n", "0x8168\n", NULL);
	pci("0000:00:05.0", "0x020000\n", "0x1af4\n", "0x1041\n", "virtio-pci");
	mk("bus/pci/devices/0000:00:05.0/virtio0/net/keeltest1");
	pci("0000:00:06.0", "0x028000\n", "0x8086\n", "0x2723\n", "iwlwifi");
	pci("0000:00:07.0", "0x020000\n", "0x10ec\n", "0x8125\n", "r8169");
	pci("0000:00:08.0", "0x028000\n", "0x8086\n", "0x51f0\n", NULL);
	mk("class/net/lo");
	mk("class/net/keeltest0");
	link_to("class/net/keeltest0/device", "bus/pci/devices/0000:00:03.0");
	put("class/net/keeltest0/address", "52:54:00:12:34:56\n");
	put("class/net/keeltest0/operstate", "up\n");
	mk("class/net/keeltest2/wireless");
	link_to("class/net/keeltest2/device", "bus/pci/devices/0000:00:06.0");
	put("class/net/keeltest2/address", "a0:b1:c2:d3:e4:f5\n");
	mk("bus/pci/devices/0000:00:06.0/net/keeltest2");
}

static void test_tree(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int n;

	build_tree();
	n = compat_nics_print(root, out);
	fclose(out);
	CHECK_EQ_INT(n, 5);
	CHECK_EQ_STR(text,
		     "network: keeltest0 (e1000, 52:54:00:12:34:56): link up, no address\n"
		     "network: keeltest2 (iwlwifi, a0:b1:c2:d3:e4:f5): Wi-Fi, not supported by "
		     "Keel yet\n"
		     "network: PCI 0000:00:04.0 [10ec:8168]: no driver in dom0's kernel for this "
		     "card\n"
		     "network: PCI 0000:00:07.0 [10ec:8125]: driver r8169, but no interface "
		     "(missing firmware? see dmesg)\n"
		     "network: PCI 0000:00:08.0 [8086:51f0]: Wi-Fi or other wireless card, not "
		     "supported by Keel (no driver in dom0); use Ethernet or a USB Ethernet "
		     "adapter\n");
	free(text);
}

static void test_empty(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	CHECK_EQ_INT(compat_nics_print("/nonexistent-keel-sysfs", out), 0);
	fclose(out);
	CHECK(strstr(text, "network: no network card found") == text);
	free(text);
}

int main(void)
{
	char cmd[256];

	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	test_tree();
	test_empty();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
	return harness_done("test_toolstack_compat_nics");
}
