/*
 * Interrupt routing inside a guest's virtual PC: MSI/MSI-X messages from
 * the virtio devices, IOAPIC inputs (UART, SCI) and the IOAPIC's messages,
 * and IPIs between vLAPICs, each to the vLAPICs whose destination matches
 * (fixed, lowest-priority, INIT, start-up; guest NMIs are not modelled).
 * Every call holds d->lock and adds the vCPUs it woke to *kick; irq_kick
 * then makes their CPUs look, after the lock is dropped. Device glue
 * (blkdev.c, netdev.c) and the virtual PC (guest.c) call it; it calls only
 * the device models and the run queue's kick.
 */
#include <keel/irq_route.h>
#include <keel/domain.h>
#include <keel/vpc.h>
#include <keel/sched.h>

#define IPI_SELF 1
#define IPI_ALL 2
#define IPI_ALL_BUT_SELF 3
#define IPI_DELIVERY_LOWEST 1
#define IPI_DELIVERY_NMI 4
#define IPI_DELIVERY_INIT 5
#define IPI_DELIVERY_SIPI 6

static void deliver_to(struct vcpu *t, uint8_t vector, uint8_t delivery, bool level,
		       uint32_t *kick)
{
	if (delivery == IPI_DELIVERY_NMI)
		return; /* guest NMIs are not modelled yet */
	vlapic_accept(t->lapic, vector, level);
	*kick |= 1u << t->id;
}

static void route_msg(struct domain *d, const struct irq_msg *m, uint32_t *kick)
{
	uint32_t i;

	for (i = 0; i < d->nr_vcpus; i++) {
		if (!vlapic_match_dest(&d->pc->lapics[i], m->dest, m->logical))
			continue;
		deliver_to(&d->vcpus[i], m->vector, m->delivery, m->level, kick);
		if (m->delivery == IPI_DELIVERY_LOWEST)
			break;
	}
}

/* Deliver an MSI/MSI-X message; see irq_route.h. */
void irq_route_msi(struct domain *d, uint64_t address, uint32_t data, uint32_t *kick)
{
	struct irq_msg m = {
		.vector = (uint8_t)data,
		.delivery = (uint8_t)((data >> 8) & 7),
		.logical = (address >> 2) & 1,
		.dest = (uint32_t)((address >> 12) & 0xFF),
		.level = false,
	};

	route_msg(d, &m, kick);
}

/* Deliver the IOAPIC's messages; see irq_route.h. */
void irq_route_ioapic_out(struct domain *d, const struct vioapic_out *out, uint32_t *kick)
{
	uint32_t i;

	for (i = 0; i < out->n; i++)
		route_msg(d, &out->msgs[i], kick);
}

/* Set an IOAPIC input and deliver what it sends; see irq_route.h. */
void irq_route_pin(struct domain *d, uint32_t pin, bool level, uint32_t *kick)
{
	struct vioapic_out out = { 0 };

	vioapic_set_irq(&d->pc->ioapic, pin, level, &out);
	irq_route_ioapic_out(d, &out, kick);
}

static void ipi_one(struct vcpu *t, const struct vlapic_ipi *ipi, uint32_t *kick)
{
	bool start = ipi->delivery == IPI_DELIVERY_INIT || ipi->delivery == IPI_DELIVERY_SIPI;

	/* a vCPU that is not plugged in (keel vcpu-set) cannot be started */
	if (start && !(t->dom->pc->cpuhp.present & (1u << t->id)))
		return;
	if (ipi->delivery == IPI_DELIVERY_INIT) {
		/* Order matters: an INIT cancels SIPIs sent before it, not the
		 * ones that follow it before the target CPU gets to look. */
		if (ipi->level_assert) {
			t->init_pending = true;
			t->sipi_pending = false;
		}
	} else if (ipi->delivery == IPI_DELIVERY_SIPI) {
		t->sipi_vector = ipi->vector;
		t->sipi_pending = true;
	} else {
		deliver_to(t, ipi->vector, ipi->delivery, false, kick);
		return;
	}
	*kick |= 1u << t->id;
}

/* Deliver an IPI of src's vLAPIC; see irq_route.h. */
void irq_route_ipi(struct vcpu *src, const struct vlapic_ipi *ipi, uint32_t *kick)
{
	struct domain *d = src->dom;
	uint32_t i;

	for (i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *t = &d->vcpus[i];
		bool hit;

		switch (ipi->shorthand) {
		case IPI_SELF: hit = t == src; break;
		case IPI_ALL: hit = true; break;
		case IPI_ALL_BUT_SELF: hit = t != src; break;
		default: hit = vlapic_match_dest(&d->pc->lapics[i], ipi->dest, ipi->logical); break;
		}
		if (hit)
			ipi_one(t, ipi, kick);
	}
}

/* Kick the vCPUs of d in kick; see irq_route.h. */
void irq_kick(struct domain *d, uint32_t kick)
{
	uint32_t i;

	for (i = 0; i < d->nr_vcpus; i++)
		if (kick & (1u << i))
			sched_kick(&d->vcpus[i]);
}
