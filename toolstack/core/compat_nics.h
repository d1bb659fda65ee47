/*
 * The network part of the compatibility report (`keel info --compat`):
 * every network interface that sits on a bus, with its driver, MAC, link
 * and IPv4 addresses, and every PCI network controller that has no
 * driver, or a driver but no interface, read from sysfs.
 */
#ifndef KEEL_COMPAT_NICS_H
#define KEEL_COMPAT_NICS_H

#include <stdio.h>

/* Where dom0 finds the hypervisor's compatibility report (the hypervisor
 * adds it to dom0's initramfs). */
#define COMPAT_REPORT_PATH "/etc/keel/compat"

/*
 * Print one "network: ..." line per device to out, reading sysfs under
 * sysfs ("/sys"; tests pass a tree of their own). When there is nothing
 * at all, one line says so. Returns the number of devices listed.
 */
int compat_nics_print(const char *sysfs, FILE *out);

#endif
