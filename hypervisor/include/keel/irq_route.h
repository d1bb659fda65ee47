/*
 * Interrupt routing inside a guest's virtual PC (common/irq_route.c). All
 * calls but irq_kick hold d->lock and add the vCPUs (bit n for vCPU n)
 * they made runnable to *kick; irq_kick(d, kick) is called after the lock
 * is dropped.
 */
#ifndef KEEL_IRQ_ROUTE_H
#define KEEL_IRQ_ROUTE_H

#include <stdint.h>
#include <stdbool.h>

struct domain;
struct vcpu;
struct vioapic_out;
struct vlapic_ipi;

/* Deliver an MSI/MSI-X message (PCI 3.0, 6.8.1; Intel SDM vol. 3A,
 * 10.11): destination APIC id in address bits 19:12, logical if bit 2;
 * vector and delivery mode in data bits 7:0 and 10:8. */
void irq_route_msi(struct domain *d, uint64_t address, uint32_t data, uint32_t *kick);

/* Set IOAPIC input pin of d to level and deliver the messages it sends. */
void irq_route_pin(struct domain *d, uint32_t pin, bool level, uint32_t *kick);

/* Deliver the messages the IOAPIC of d produced (an EOI, a redirection
 * entry unmasked). */
void irq_route_ioapic_out(struct domain *d, const struct vioapic_out *out, uint32_t *kick);

/* Deliver an IPI that src's vLAPIC sent: shorthand or destination, fixed,
 * lowest priority, INIT or start-up. */
void irq_route_ipi(struct vcpu *src, const struct vlapic_ipi *ipi, uint32_t *kick);

/* Make the CPUs of the vCPUs of d named in kick look at them again. */
void irq_kick(struct domain *d, uint32_t kick);

#endif
