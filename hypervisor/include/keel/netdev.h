/*
 * Guest network interfaces (common/netdev.c): virtio-net devices on a
 * guest's PCI bus, all joined by one virtual switch in the hypervisor.
 */
#ifndef KEEL_NETDEV_H
#define KEEL_NETDEV_H

#include <stdint.h>
#include <stdbool.h>

struct domain;

#define NETDEV_IO_BASE 0xC200u        /* I/O BAR0 of NIC n: base + 0x40 * n */
#define NETDEV_IO_STRIDE 0x40u
#define NETDEV_MEM_BASE 0xFE020000u   /* memory BAR1 (MSI-X): base + 4 KiB * n */
#define NETDEV_MEM_STRIDE 0x1000u
#define NETDEV_PCI_DEV_FIRST 6        /* NIC n is PCI device 6 + n */

void netdev_init(void);
int netdev_attach(struct domain *d, const uint8_t mac[6], uint32_t *slot);
int netdev_set_link(struct domain *d, uint32_t slot, bool up);
void netdev_detach_all(struct domain *d);
void netdev_announce(struct domain *d);
void netdev_poll(struct domain *d, uint32_t *kick);
void netdev_flush_wakeups(struct domain *d);

struct keel_domstats;
int netdev_dom0_attach(struct domain *d, const uint8_t mac[6], uint64_t notify_pa);
int netdev_dom0_xmit(const uint8_t *batch, uint32_t bytes, uint32_t count);
int netdev_dom0_recv(uint8_t *buf, uint32_t room, uint32_t *count,
		     uint32_t *bytes, uint32_t *more);
void netdev_dom0_notify(void);
int netdev_dom0_set_irq(uint32_t vector, uint32_t apic_id);
void netdev_stats(struct domain *d, struct keel_domstats *s);

#endif
