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
struct domain_ops;

/* The guest kind of domain: its entry, exits and scheduler hooks. */
extern const struct domain_ops guest_ops;

struct cpuid_out;
void guest_cpuid_here(uint32_t leaf, uint32_t subleaf, struct cpuid_out *o);

uint32_t guest_console_input(struct domain *d, const uint8_t *buf, uint32_t n);
void guest_press_button(struct domain *d, uint16_t status_bit);

/* Make vCPUs 0..nr-1 of d present and the others not, raising the CPU
 * hotplug event; *present gets how many are. 0 or -EINVAL (nr 0 or above
 * d's vCPUs). */
int guest_vcpu_set(struct domain *d, uint32_t nr, uint32_t *present);

#endif
