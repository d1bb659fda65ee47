/*
 * The hypervisor's use of the physical local APIC in xAPIC mode (AMD APM
 * vol. 2, 16.3 "Local APIC"; Intel SDM vol. 3A, 10.4): identification,
 * software enable, EOI and the interrupt command register for INIT/SIPI.
 */
#ifndef ASM_LAPIC_H
#define ASM_LAPIC_H

#include <stdint.h>

#define LAPIC_DEFAULT_PA 0xFEE00000ull
#define LAPIC_SPURIOUS_VECTOR 0xFF

uint32_t lapic_id(void);
void lapic_enable(void);
void lapic_eoi(void);
int lapic_send_init(uint32_t apic_id);
int lapic_send_sipi(uint32_t apic_id, uint32_t vector);

#endif
