/*
 * Virtual I/O APIC after the Intel 82093AA datasheet (section 3: register
 * window, ID/VER/ARB, redirection table; section 2.4 for edge and level
 * inputs and Remote IRR). The caller reports each pin's input level with
 * vioapic_set_irq(); an edge-triggered pin sends on an inactive -> active
 * transition, a level-triggered pin sends while active and Remote IRR is
 * clear and then sets Remote IRR until the local APIC's EOI for its vector
 * comes back through vioapic_eoi(). The polarity bit decides which input
 * level is active. Interrupts are returned as messages in struct
 * vioapic_out; nothing here touches hardware or keeps globals.
 */
#include <stdbool.h>
#include <stdint.h>

#include <keel/errno.h>
#include <keel/string.h>
#include <keel/vioapic.h>

#define VIOAPIC_ID_MASK 0x0F000000u      /* 4-bit ID in bits 27:24 */
#define VIOAPIC_ID_SHIFT 24
#define VIOAPIC_IOREGSEL_MASK 0xFFu
#define VIOAPIC_RTE_LO_WRITABLE 0x0001AFFFu /* not delivs, not Remote IRR */
#define VIOAPIC_RTE_HI_WRITABLE 0xFF000000u
#define VIOAPIC_IDX_REDIR_END (VIOAPIC_IDX_REDIR0 + 2u * VIOAPIC_NR_PINS)
#define VIOAPIC_DM_FIXED 0u
#define VIOAPIC_DM_LOWEST 1u

/*
 * Level semantics (Remote IRR, EOI) apply only to fixed and lowest-priority
 * delivery; SMI, NMI, INIT and ExtINT are always edge (82093AA 3.2.4).
 */
static bool vioapic_pin_is_level(const struct vioapic *io, uint32_t pin)
{
	uint32_t lo = io->rte_lo[pin];
	uint32_t dm = (lo >> VIOAPIC_RTE_DM_SHIFT) & VIOAPIC_RTE_DM_MASK;

	return (lo & VIOAPIC_RTE_LEVEL) &&
	       (dm == VIOAPIC_DM_FIXED || dm == VIOAPIC_DM_LOWEST);
}

/* The input is active: driven to the level selected by the polarity bit. */
static bool vioapic_pin_active(const struct vioapic *io, uint32_t pin)
{
	bool active_low = (io->rte_lo[pin] & VIOAPIC_RTE_ACTIVE_LOW) != 0;

	if (!io->line_driven[pin])
		return false; /* an unconnected input idles inactive */
	return io->line_high[pin] != active_low;
}

static bool vioapic_msg_equal(const struct irq_msg *a, const struct irq_msg *b)
{
	return a->vector == b->vector && a->delivery == b->delivery &&
	       a->logical == b->logical && a->dest == b->dest &&
	       a->level == b->level;
}

/*
 * Appends the pin's message to out. An identical message already queued
 * counts as sent (the local APIC's IRR holds one bit per vector). Returns
 * false if out is full, in which case nothing was sent.
 */
static bool vioapic_send(const struct vioapic *io, uint32_t pin,
			 struct vioapic_out *out)
{
	uint32_t lo = io->rte_lo[pin];
	struct irq_msg m = {
		.vector = (uint8_t)(lo & VIOAPIC_RTE_VECTOR_MASK),
		.delivery = (uint8_t)((lo >> VIOAPIC_RTE_DM_SHIFT) &
				      VIOAPIC_RTE_DM_MASK),
		.logical = (lo & VIOAPIC_RTE_LOGICAL) != 0,
		.dest = io->rte_hi[pin] >> VIOAPIC_RTE_DEST_SHIFT,
		.level = vioapic_pin_is_level(io, pin),
	};

	for (uint32_t i = 0; i < out->n; i++) {
		if (vioapic_msg_equal(&out->msgs[i], &m))
			return true;
	}
	if (out->n >= VIOAPIC_MAX_MSGS)
		return false;
	out->msgs[out->n++] = m;
	return true;
}

/* A level pin that is unmasked, active and not awaiting EOI sends now. */
static void vioapic_service_level(struct vioapic *io, uint32_t pin,
				  struct vioapic_out *out)
{
	uint32_t lo = io->rte_lo[pin];

	if (!vioapic_pin_is_level(io, pin) || (lo & VIOAPIC_RTE_MASKED) ||
	    (lo & VIOAPIC_RTE_REMOTE_IRR) || !vioapic_pin_active(io, pin))
		return;
	if (vioapic_send(io, pin, out))
		io->rte_lo[pin] |= VIOAPIC_RTE_REMOTE_IRR;
}

/*
 * Returns the output to fill: out reset to no messages, or, if out is
 * NULL, scratch marked full so that nothing is sent (level pins then keep
 * Remote IRR clear rather than wait for an EOI that cannot come). The
 * zeroed scratch messages are edge messages, so they never absorb a level
 * pin's message as a duplicate.
 */
static struct vioapic_out *vioapic_out_prepare(struct vioapic_out *out,
					       struct vioapic_out *scratch)
{
	if (out) {
		out->n = 0;
		return out;
	}
	memset(scratch, 0, sizeof(*scratch));
	scratch->n = VIOAPIC_MAX_MSGS;
	return scratch;
}

/*
 * Puts the IOAPIC in its reset state: every redirection entry masked with
 * all other fields 0, every input undriven, IOREGSEL 0. io: the IOAPIC;
 * id: its 4-bit IOAPIC ID (as listed in the MP table or MADT).
 */
void vioapic_init(struct vioapic *io, uint32_t id)
{
	memset(io, 0, sizeof(*io));
	io->id = (id << VIOAPIC_ID_SHIFT) & VIOAPIC_ID_MASK;
	for (uint32_t pin = 0; pin < VIOAPIC_NR_PINS; pin++)
		io->rte_lo[pin] = VIOAPIC_RTE_MASKED;
}

/* Register behind IOWIN at index idx (82093AA 3.2). */
static uint32_t vioapic_read_index(const struct vioapic *io, uint32_t idx)
{
	uint32_t pin;

	if (idx == VIOAPIC_IDX_ID || idx == VIOAPIC_IDX_ARB)
		return io->id; /* the arbitration ID follows the ID */
	if (idx == VIOAPIC_IDX_VER)
		return VIOAPIC_VERSION_VALUE;
	if (idx < VIOAPIC_IDX_REDIR0 || idx >= VIOAPIC_IDX_REDIR_END)
		return 0;
	pin = (idx - VIOAPIC_IDX_REDIR0) / 2u;
	if (idx & 1u)
		return io->rte_hi[pin];
	return io->rte_lo[pin];
}

/*
 * Reads the IOAPIC page. io: the IOAPIC; offset: 0x00 (IOREGSEL) or 0x10
 * (IOWIN: the register IOREGSEL selects: 0 ID, 1 version 0x00170011,
 * 2 arbitration ID, 0x10 + 2n / 0x11 + 2n redirection entry n low/high).
 * Other offsets and indices read 0; delivery status always reads 0.
 * Returns the 32-bit value.
 */
uint32_t vioapic_read(struct vioapic *io, uint32_t offset)
{
	if (offset == VIOAPIC_REG_IOREGSEL)
		return io->ioregsel;
	if (offset == VIOAPIC_REG_IOWIN)
		return vioapic_read_index(io, io->ioregsel);
	return 0;
}

/*
 * Low dword of a redirection entry. Remote IRR and delivery status are
 * read-only; selecting edge trigger clears Remote IRR (Linux relies on
 * this to retire a stuck level interrupt on IOAPICs without an EOI
 * register). Then a level pin that is asserted and unmasked sends.
 */
static void vioapic_write_rte_lo(struct vioapic *io, uint32_t pin,
				 uint32_t value, struct vioapic_out *out)
{
	uint32_t rirr = io->rte_lo[pin] & VIOAPIC_RTE_REMOTE_IRR;

	if (!(value & VIOAPIC_RTE_LEVEL))
		rirr = 0;
	io->rte_lo[pin] = (value & VIOAPIC_RTE_LO_WRITABLE) | rirr;
	vioapic_service_level(io, pin, out);
}

static void vioapic_write_index(struct vioapic *io, uint32_t idx,
				uint32_t value, struct vioapic_out *out)
{
	uint32_t pin;

	if (idx == VIOAPIC_IDX_ID) {
		io->id = value & VIOAPIC_ID_MASK;
		return;
	}
	if (idx < VIOAPIC_IDX_REDIR0 || idx >= VIOAPIC_IDX_REDIR_END)
		return; /* version, arbitration and unknown: read-only */
	pin = (idx - VIOAPIC_IDX_REDIR0) / 2u;
	if (idx & 1u) {
		io->rte_hi[pin] = value & VIOAPIC_RTE_HI_WRITABLE;
		vioapic_service_level(io, pin, out);
	} else {
		vioapic_write_rte_lo(io, pin, value, out);
	}
}

/*
 * Writes the IOAPIC page. io: the IOAPIC; offset: 0x00 (IOREGSEL, low 8
 * bits kept) or 0x10 (IOWIN, the selected register); value: the data;
 * out: reset, then receives a message when the write unmasks (or
 * otherwise enables) a level-triggered pin whose input is active. Edge
 * pins never send on a write: edges seen while masked are lost (82093AA
 * 3.2.4, mask bit). out may be NULL (such a message is then not sent and
 * the pin stays eligible).
 */
void vioapic_write(struct vioapic *io, uint32_t offset, uint32_t value,
		   struct vioapic_out *out)
{
	struct vioapic_out scratch;

	out = vioapic_out_prepare(out, &scratch);
	if (offset == VIOAPIC_REG_IOREGSEL)
		io->ioregsel = value & VIOAPIC_IOREGSEL_MASK;
	else if (offset == VIOAPIC_REG_IOWIN)
		vioapic_write_index(io, io->ioregsel, value, out);
}

/*
 * Sets the input level of a pin. io: the IOAPIC; pin: 0-23 (others are
 * ignored); asserted: the electrical input level, true = high. With the
 * polarity bit clear (active high) true is the active level; with it set
 * (active low) false is. A pin never set idles inactive whatever its
 * polarity. out: reset, then receives the message sent, if any: an
 * unmasked edge pin sends on an inactive -> active transition; an
 * unmasked level pin sends while active unless Remote IRR is set, and
 * then sets Remote IRR. out may be NULL (nothing is then sent).
 */
void vioapic_set_irq(struct vioapic *io, uint32_t pin, bool asserted,
		     struct vioapic_out *out)
{
	struct vioapic_out scratch;
	bool was_active;

	out = vioapic_out_prepare(out, &scratch);
	if (pin >= VIOAPIC_NR_PINS)
		return;
	was_active = vioapic_pin_active(io, pin);
	io->line_high[pin] = asserted;
	io->line_driven[pin] = true;
	if (vioapic_pin_is_level(io, pin)) {
		vioapic_service_level(io, pin, out);
		return;
	}
	if (!was_active && vioapic_pin_active(io, pin) &&
	    !(io->rte_lo[pin] & VIOAPIC_RTE_MASKED))
		(void)vioapic_send(io, pin, out);
}

/*
 * A local APIC retired a level-triggered vector (EOI). Clears Remote IRR
 * on every pin that has it set for this vector, masked pins included,
 * and resends for those still active and unmasked. io: the IOAPIC;
 * vector: the retired vector; out: reset, then receives the resent
 * messages (identical ones merged; if more than 4 distinct ones are due,
 * the rest keep Remote IRR clear and send on their next input change).
 */
void vioapic_eoi(struct vioapic *io, uint8_t vector, struct vioapic_out *out)
{
	struct vioapic_out scratch;

	out = vioapic_out_prepare(out, &scratch);
	for (uint32_t pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
		uint32_t lo = io->rte_lo[pin];

		if (!(lo & VIOAPIC_RTE_REMOTE_IRR) ||
		    (lo & VIOAPIC_RTE_VECTOR_MASK) != vector)
			continue;
		io->rte_lo[pin] = lo & ~VIOAPIC_RTE_REMOTE_IRR;
		vioapic_service_level(io, pin, out);
	}
}

_Static_assert(KEEL_STATE_IOAPIC_PINS == VIOAPIC_NR_PINS,
	       "the IOAPIC record holds every pin");

/* Copy io's whole state into its save record (docs/save-restore.md). */
void vioapic_save(const struct vioapic *io, struct keel_state_ioapic *st)
{
	memset(st, 0, sizeof(*st));
	st->id = io->id;
	st->ioregsel = io->ioregsel;
	for (uint32_t pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
		st->rte_lo[pin] = io->rte_lo[pin];
		st->rte_hi[pin] = io->rte_hi[pin];
		st->line_high |= (uint32_t)io->line_high[pin] << pin;
		st->line_driven |= (uint32_t)io->line_driven[pin] << pin;
	}
}

/*
 * Replace io's state with the record st, which may come from a file:
 * every field is checked against what a guest can write (the ID's bits,
 * the select register's width, each entry's writable bits and Remote IRR,
 * 24 pins). Returns 0, or -EINVAL with io unchanged.
 */
int vioapic_load(struct vioapic *io, const struct keel_state_ioapic *st)
{
	const uint32_t pins = (1u << VIOAPIC_NR_PINS) - 1u;

	if ((st->id & ~VIOAPIC_ID_MASK) || (st->ioregsel & ~VIOAPIC_IOREGSEL_MASK) ||
	    (st->line_high & ~pins) || (st->line_driven & ~pins))
		return -EINVAL;
	for (uint32_t pin = 0; pin < VIOAPIC_NR_PINS; pin++)
		if ((st->rte_lo[pin] & ~(VIOAPIC_RTE_LO_WRITABLE | VIOAPIC_RTE_REMOTE_IRR)) ||
		    (st->rte_hi[pin] & ~VIOAPIC_RTE_HI_WRITABLE))
			return -EINVAL;
	io->id = st->id;
	io->ioregsel = st->ioregsel;
	for (uint32_t pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
		io->rte_lo[pin] = st->rte_lo[pin];
		io->rte_hi[pin] = st->rte_hi[pin];
		io->line_high[pin] = (st->line_high >> pin) & 1u;
		io->line_driven[pin] = (st->line_driven >> pin) & 1u;
	}
	return 0;
}
