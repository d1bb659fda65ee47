"""Boot tests of dom0 on a visitor's hardware (issue 14, part 5): the boot
medium on a USB stick and on an NVMe disk, and uplinks on NICs other than
QEMU's default e1000 (rtl8139, virtio-net, e1000e, igb where this QEMU has
it, and a USB network adapter plugged in after boot). Dom0's initramfs holds
only the drivers that find the medium; every other driver comes from the
medium's /dom0/modules.squashfs, loaded by modalias (/sbin/keel-hotplug).
On the old ISO (68 modules in the initramfs, no squashfs) the NVMe medium,
rtl8139 and the USB adapter had no driver.

Registered into test_boot's table (imported at its end); select them with
-k hw-.."""

import re
import subprocess
import time

import test_boot
from harness import Machine
from test_boot import check, test


def qemu_has_device(name):
    """True if this QEMU can emulate the device NAME (-device help)."""
    out = subprocess.run(["qemu-system-x86_64", "-device", "help"], capture_output=True,
                         text=True).stdout
    return re.search(r'name "%s"' % re.escape(name), out) is not None


NICS_NVME = ["virtio-net-pci", "rtl8139"] + (["igb"] if qemu_has_device("igb") else [])


def hw_fixture(name, media, nics, extra=()):
    """A BIOS boot of the ISO from MEDIA with user-network NICs of the
    models NICS, NIC i with MAC nic_mac(i) on its own subnet 10.0.(3+i).0/24."""
    def boot():
        args = []
        for i, model in enumerate(nics):
            args += ["-nic", "user,model=%s,mac=%s,net=10.0.%d.0/24" % (model, nic_mac(i), 3 + i)]
        m = Machine(name, cpu="max", smp=2, mem=1024, media=media,
                    extra=args + list(extra)).start()
        m.boot_entry("keel-serial", timeout=180)
        m.wait_shell()
        return m
    return boot


test_boot.FIXTURES["hw-nvme-nics"] = hw_fixture("hw-nvme-nics", "nvme", NICS_NVME)
test_boot.FIXTURES["hw-usb-stick"] = hw_fixture(
    "hw-usb-stick", "usb", ["e1000e"], extra=["-netdev", "user,id=later,net=10.0.9.0/24"])


def nic_mac(i):
    """The MAC address of the fixture's NIC number I (interface names follow
    the order the drivers probe in, not the PCI slots)."""
    return "52:54:00:4b:00:%02x" % (i + 1)


def iface_with_mac(m, mac):
    out, _ = m.run("grep -l '%s' /sys/class/net/*/address" % mac)
    found = re.search(r"/sys/class/net/([^/]+)/address", out)
    check(found, "no network interface has the MAC %s (a NIC without a driver?); "
          "interfaces: %r" % (mac, m.run("ls /sys/class/net")[0]))
    return found.group(1)


def medium_device(m):
    out, rc = m.run("awk '$2 == \"/run/keel/medium\" { print $1 }' /proc/mounts")
    return out.strip()


def wait_uplink(m, iface, address, timeout=60):
    """Wait until IFACE has ADDRESS (from QEMU's DHCP server); returns the
    name of its driver."""
    deadline = time.monotonic() + timeout
    out = ""
    while time.monotonic() < deadline:
        out, rc = m.run("ip -4 -o addr show dev %s" % iface)
        if (" %s/" % address) in out:
            drv, _ = m.run("basename $(readlink /sys/class/net/%s/device/driver)" % iface)
            return drv.strip()
        time.sleep(2)
    log, _ = m.run("tail -n 15 /run/keel/net/network.log; tail -n 15 /run/keel/hotplug.log")
    check(False, "%s got no address %s by DHCP within %d s (ip: %r)\n%s"
          % (iface, address, timeout, out, log))


def check_modules_from_medium(m):
    out, rc = m.run("grep -c ' /lib/modules/[^ ]* squashfs ' /proc/mounts; "
                    "grep -c ' /lib/firmware squashfs ' /proc/mounts; ls /lib/firmware/rtl_nic | wc -l")
    counts = out.split()
    check(counts[:2] == ["1", "1"],
          "the modules' squashfs from the medium is not mounted on /lib/modules and "
          "/lib/firmware: %r" % out)
    check(int(counts[2]) > 10, "firmware-realtek's rtl_nic files are not in /lib/firmware: %r" % out)


@test("hw_medium_found_on_nvme_disk", "hw-nvme-nics")
def t_hw_nvme_medium(m):
    dev = medium_device(m)
    check(dev.startswith("/dev/nvme"), "the boot medium was not found on the NVMe disk "
          "(mounted from %r)" % dev)
    check_modules_from_medium(m)


@test("hw_uplinks_on_virtio_rtl8139_igb_get_addresses", "hw-nvme-nics")
def t_hw_nics(m):
    drivers = {"virtio-net-pci": ("virtio_net",), "rtl8139": ("8139cp", "8139too"),
               "igb": ("igb",)}
    for i, model in enumerate(NICS_NVME):
        iface = iface_with_mac(m, nic_mac(i))
        drv = wait_uplink(m, iface, "10.0.%d.15" % (3 + i))
        check(drv in drivers[model], "%s (%s) is driven by %r, expected %s"
              % (iface, model, drv, " or ".join(drivers[model])))
        m.note("uplink %s: %s, driver %s" % (iface, model, drv))
    if "igb" not in NICS_NVME:
        m.note("this QEMU has no igb device (it came in QEMU 8.0): igb not tested")


@test("hw_medium_found_on_usb_stick", "hw-usb-stick")
def t_hw_usb_medium(m):
    dev = medium_device(m)
    out, _ = m.run("readlink -f /sys/class/block/%s" % dev.replace("/dev/", ""))
    check("/usb" in out, "the boot medium %r is not on the USB stick (%s)" % (dev, out.strip()))
    check_modules_from_medium(m)
    drv = wait_uplink(m, "eth0", "10.0.3.15")
    check(drv == "e1000e", "eth0 (e1000e) is driven by %r" % drv)


@test("hw_usb_nic_plugged_in_later_gets_an_address", "hw-usb-stick")
def t_hw_usb_hotplug(m):
    m.monitor("device_add usb-net,bus=xhci.0,netdev=later,id=usbnic")
    drv = wait_uplink(m, "usb0", "10.0.9.15")
    check(drv in ("cdc_subset", "cdc_ether", "rndis_host"),
          "the USB adapter usb0 is driven by %r" % drv)
    m.monitor("device_del usbnic")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        out, _ = m.run("ls /sys/class/net; ls /run/keel/net")
        if "usb0" not in out:
            break
        time.sleep(1)
    check("usb0" not in out, "after unplugging, usb0 or its DHCP state remains: %r" % out)


@test("linux_entry_uplink_gets_an_address", "linux")
def t_linux_uplink(m):
    # dom0 without the hypervisor is the diagnosis entry: its network works too
    drv = wait_uplink(m, "eth0", "10.0.2.15")
    check(drv == "e1000", "eth0 is driven by %r" % drv)
