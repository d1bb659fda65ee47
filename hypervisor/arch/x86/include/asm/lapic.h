/*
 * The hypervisor's use of the physical local APIC in xAPIC mode (AMD APM
 * vol. 2, 16.3 "Local APIC"; Intel SDM vol. 3A, 10.4): identification,
 * software enable, EOI and the interrupt command register for INIT/SIPI.
 */
#ifndef ASM_LAPIC_H
#define ASM_LAPIC_H

#include <stdint.h>
#include <stdbool.h>

#define LAPIC_DEFAULT_PA 0xFEE00000ull
#define LAPIC_SPURIOUS_VECTOR 0xFF
#define LAPIC_TIMER_VECTOR 0xEF /* the hypervisor's scheduling timer */
#define LAPIC_KICK_VECTOR 0xF0  /* "look at your run queue" between CPUs */

uint32_t lapic_id(void);
void lapic_enable(void);
void lapic_eoi(void);
int lapic_send_init(uint32_t apic_id);
int lapic_send_sipi(uint32_t apic_id, uint32_t vector);
void lapic_timer_calibrate(void);
uint64_t lapic_timer_rate_khz(void);
void lapic_timer_arm(uint64_t deadline_tsc);
void lapic_timer_fired(void);
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_nmi(uint32_t apic_id);
void lapic_dump_local(void);
bool lapic_in_service(uint32_t vector);

#endif
