/*
 * Running guest vCPUs on the minimal virtual PC (common/guest.c): entry
 * with interrupt injection, and the guest halves of exits: port I/O,
 * MMIO through the instruction decoder, HLT, MSRs and interrupt routing
 * between the UART, the IOAPIC and the vLAPICs.
 */
#ifndef KEEL_GUEST_H
#define KEEL_GUEST_H

#include <stdint.h>
#include <stdbool.h>
#include <keel/vcpu.h>

struct domain;

bool guest_vcpu_ready(struct vcpu *v, uint64_t now_tsc);
uint64_t guest_vcpu_next_timer(struct vcpu *v);
void guest_run(struct vcpu *v, uint64_t slice_end_tsc);
int guest_mmio(struct vcpu *v, const struct vm_exit *e);
void guest_io(struct vcpu *v, const struct vm_exit *e);
void guest_hlt(struct vcpu *v, const struct vm_exit *e);
void guest_msr(struct vcpu *v, const struct vm_exit *e);
void guest_cache_flush(struct vcpu *v, const struct vm_exit *e);
uint32_t guest_console_input(struct domain *d, const uint8_t *buf, uint32_t n);
void guest_press_button(struct domain *d, uint16_t status_bit);
void guest_deliver_msi(struct domain *d, uint64_t address, uint32_t data, uint32_t *kick);

#endif
