/*
 * The pvpanic PCI device (QEMU's docs/specs/pvpanic.txt; Linux's
 * drivers/misc/pvpanic/pvpanic-pci.c): one byte in a memory BAR through
 * which a guest kernel reports that it panicked. It lets the hypervisor
 * mark a guest crashed the moment its kernel gives up.
 */
#ifndef KEEL_PVPANIC_H
#define KEEL_PVPANIC_H

#include <stdint.h>
#include <public/keel_abi.h>
#include <stdbool.h>

#define PVPANIC_VENDOR_ID 0x1B36
#define PVPANIC_DEVICE_ID 0x0011
#define PVPANIC_BAR_BYTES 16u
#define PVPANIC_PANICKED 0x01
#define PVPANIC_CRASH_LOADED 0x02
#define PVPANIC_CFG_BYTES 64u

struct pvpanic {
	uint8_t cfg[PVPANIC_CFG_BYTES]; /* type 0 configuration header */
	uint32_t bar0;                  /* current BAR0 value as written */
};

void pvpanic_init(struct pvpanic *p, uint32_t bar0_pa);
uint32_t pvpanic_cfg_read(void *ctx, uint32_t reg, uint32_t size);
void pvpanic_cfg_write(void *ctx, uint32_t reg, uint32_t size, uint32_t value);
bool pvpanic_mmio_hit(const struct pvpanic *p, uint64_t gpa);
void pvpanic_save(const struct pvpanic *p, struct keel_state_pvpanic *st);
int pvpanic_load(struct pvpanic *p, const struct keel_state_pvpanic *st);
uint8_t pvpanic_mmio_read(const struct pvpanic *p);
bool pvpanic_mmio_write(struct pvpanic *p, uint8_t value);

#endif
