/*
 * 16550A UART device model, following the TI/National PC16550D datasheet
 * ("Registers": the register summary table, the reset configuration table
 * and the interrupt control functions table for the priorities).
 * The receive FIFO is fed by ns16550_rx_push(); transmitted bytes leave
 * at once through a callback, so THR and the transmitter shift register
 * are always empty. Interrupt sources, in priority order: receiver line
 * status (OE), received data available (any data in the FIFO; there is
 * no character-timeout distinction because nothing here measures time),
 * THR empty, modem status. The THRE interrupt is a latched condition: set
 * when THR becomes empty (right after every THR write, transmission being
 * instantaneous) and when IER.ETBEI goes from 0 to 1 while THR is empty,
 * as real 16550s do and as Linux's 8250 driver checks at startup; cleared
 * by an IIR read that reports it and by a THR write.
 */
#include <keel/errno.h>
#include <keel/ns16550.h>
#include <keel/string.h>

#include <stddef.h>

#define NS16550_16450_RBR_BYTES 1u /* receive depth with FIFOs disabled */

static bool ns16550_loopback(const struct ns16550 *u)
{
	return (u->mcr & NS16550_MCR_LOOP) != 0;
}

static bool ns16550_fifo_enabled(const struct ns16550 *u)
{
	return (u->fcr & NS16550_FCR_ENABLE) != 0;
}

static bool ns16550_dlab(const struct ns16550 *u)
{
	return (u->lcr & NS16550_LCR_DLAB) != 0;
}

/* Receive capacity: the FIFO, or the 16450's single RBR (16450 mode). */
static uint32_t ns16550_rx_capacity(const struct ns16550 *u)
{
	return ns16550_fifo_enabled(u) ? NS16550_FIFO_BYTES :
					 NS16550_16450_RBR_BYTES;
}

static void ns16550_rx_clear(struct ns16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* Append one byte; the caller has checked there is room. */
static void ns16550_rx_put(struct ns16550 *u, uint8_t c)
{
	uint32_t tail = (u->rx_head + u->rx_count) % NS16550_FIFO_BYTES;

	u->rx_buf[tail] = c;
	u->rx_count++;
}

/*
 * A character arrives at the receiver shift register (loopback). With the
 * FIFO full it is lost and OE set (LSR bit 1, FIFO mode); in 16450 mode it
 * overwrites the unread RBR, which also sets OE.
 */
static void ns16550_rx_receive(struct ns16550 *u, uint8_t c)
{
	if (u->rx_count < ns16550_rx_capacity(u)) {
		ns16550_rx_put(u, c);
		return;
	}
	u->lsr_err |= NS16550_LSR_OE;
	if (!ns16550_fifo_enabled(u))
		u->rx_buf[u->rx_head] = c;
}

static uint8_t ns16550_rx_pop(struct ns16550 *u)
{
	if (u->rx_count) {
		u->rbr = u->rx_buf[u->rx_head];
		u->rx_head = (u->rx_head + 1) % NS16550_FIFO_BYTES;
		u->rx_count--;
	}
	return u->rbr;
}

/*
 * Modem status inputs (MSR bits 7:4). In loopback the MCR outputs feed
 * them (MCR bit 4: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD); otherwise
 * the virtual cable reports CTS, DSR and DCD active and no ring.
 */
static uint8_t ns16550_modem_inputs(const struct ns16550 *u)
{
	uint8_t m = 0;

	if (!ns16550_loopback(u))
		return NS16550_MSR_CTS | NS16550_MSR_DSR | NS16550_MSR_DCD;
	if (u->mcr & NS16550_MCR_RTS)
		m |= NS16550_MSR_CTS;
	if (u->mcr & NS16550_MCR_DTR)
		m |= NS16550_MSR_DSR;
	if (u->mcr & NS16550_MCR_OUT1)
		m |= NS16550_MSR_RI;
	if (u->mcr & NS16550_MCR_OUT2)
		m |= NS16550_MSR_DCD;
	return m;
}

/*
 * MSR delta bits for a change of the modem inputs from old to new (MSR
 * bits 3:0): DCTS, DDSR and DDCD on any change, TERI when RI goes from
 * active to inactive (the trailing edge of the ring indicator).
 */
static uint8_t ns16550_msr_deltas(uint8_t old, uint8_t new)
{
	uint8_t changed = old ^ new;
	uint8_t d = 0;

	if (changed & NS16550_MSR_CTS)
		d |= NS16550_MSR_DCTS;
	if (changed & NS16550_MSR_DSR)
		d |= NS16550_MSR_DDSR;
	if (changed & NS16550_MSR_DCD)
		d |= NS16550_MSR_DDCD;
	if ((old & NS16550_MSR_RI) && !(new & NS16550_MSR_RI))
		d |= NS16550_MSR_TERI;
	return d;
}

/* The highest-priority enabled pending interrupt, as an IIR id value. */
static uint8_t ns16550_pending(const struct ns16550 *u)
{
	if ((u->ier & NS16550_IER_ELSI) && (u->lsr_err & NS16550_LSR_ERRORS))
		return NS16550_IIR_LSR;
	if ((u->ier & NS16550_IER_ERBFI) && u->rx_count)
		return NS16550_IIR_RDA;
	if ((u->ier & NS16550_IER_ETBEI) && u->thre_pending)
		return NS16550_IIR_THRE;
	if ((u->ier & NS16550_IER_EDSSI) && u->msr_delta)
		return NS16550_IIR_MSR;
	return NS16550_IIR_NO_INT;
}

/* Reset the UART; see ns16550.h. */
void ns16550_init(struct ns16550 *u)
{
	ns16550_rx_clear(u);
	for (uint32_t i = 0; i < NS16550_FIFO_BYTES; i++)
		u->rx_buf[i] = 0;
	u->rbr = 0;
	u->ier = 0;
	u->fcr = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->lsr_err = 0;
	u->msr_delta = 0;
	u->scr = 0;
	u->dll = (uint8_t)(NS16550_RESET_DIVISOR & 0xFFu);
	u->dlm = (uint8_t)(NS16550_RESET_DIVISOR >> 8);
	u->thre_pending = false;
}

/* IIR read (datasheet "Interrupt Identification Register"): report, and clear THRE if it is the source. */
static uint8_t ns16550_read_iir(struct ns16550 *u)
{
	uint8_t id = ns16550_pending(u);

	if (id == NS16550_IIR_THRE)
		u->thre_pending = false;
	return (uint8_t)(id | (ns16550_fifo_enabled(u) ? NS16550_IIR_FIFO : 0));
}

/* LSR read ("Line Status Register"): DR, THRE and TEMT live; errors clear on read. */
static uint8_t ns16550_read_lsr(struct ns16550 *u)
{
	uint8_t lsr = NS16550_LSR_THRE | NS16550_LSR_TEMT | u->lsr_err;

	if (u->rx_count)
		lsr |= NS16550_LSR_DR;
	u->lsr_err = 0;
	return lsr;
}

/* MSR read ("Modem Status Register"): the delta bits clear on read. */
static uint8_t ns16550_read_msr(struct ns16550 *u)
{
	uint8_t msr = (uint8_t)(ns16550_modem_inputs(u) | u->msr_delta);

	u->msr_delta = 0;
	return msr;
}

/* Read a register; see ns16550.h. */
uint8_t ns16550_read(struct ns16550 *u, uint32_t offset)
{
	switch (offset) {
	case NS16550_RBR:
		return ns16550_dlab(u) ? u->dll : ns16550_rx_pop(u);
	case NS16550_IER:
		return ns16550_dlab(u) ? u->dlm : u->ier;
	case NS16550_IIR:
		return ns16550_read_iir(u);
	case NS16550_LCR:
		return u->lcr;
	case NS16550_MCR:
		return u->mcr;
	case NS16550_LSR:
		return ns16550_read_lsr(u);
	case NS16550_MSR:
		return ns16550_read_msr(u);
	case NS16550_SCR:
		return u->scr;
	default:
		return 0xFF;
	}
}

/*
 * THR write: the byte leaves at once (or loops back to the receiver), so
 * THR empties again immediately and THRE is latched anew after the write
 * cleared it.
 */
static void ns16550_write_thr(struct ns16550 *u, uint8_t value,
			      ns16550_tx_fn tx, void *ctx)
{
	u->thre_pending = false;
	if (ns16550_loopback(u))
		ns16550_rx_receive(u, value);
	else if (tx)
		tx(ctx, value);
	u->thre_pending = true;
}

/* IER write: enabling ETBEI with THR empty re-raises THRE ("Interrupt Enable
 * Register"; THRE is latched whenever THR is empty and ETBEI is set).
 */
static void ns16550_write_ier(struct ns16550 *u, uint8_t value)
{
	uint8_t ier = value & NS16550_IER_MASK;

	if ((ier & NS16550_IER_ETBEI) && !(u->ier & NS16550_IER_ETBEI))
		u->thre_pending = true;
	u->ier = ier;
}

/*
 * FCR write ("FIFO Control Register"): changing bit 0 clears both FIFOs; the other
 * bits are only programmed while bit 0 is set; bits 1 and 2 self-clear.
 * The transmit side is always empty, so clearing it changes nothing.
 */
static void ns16550_write_fcr(struct ns16550 *u, uint8_t value)
{
	if ((value ^ u->fcr) & NS16550_FCR_ENABLE)
		ns16550_rx_clear(u);
	if (!(value & NS16550_FCR_ENABLE)) {
		u->fcr = 0;
		return;
	}
	if (value & NS16550_FCR_CLEAR_RX)
		ns16550_rx_clear(u);
	u->fcr = value & (NS16550_FCR_ENABLE | NS16550_FCR_TRIGGER);
}

/* MCR write ("Modem Control Register"): loopback changes raise MSR delta bits. */
static void ns16550_write_mcr(struct ns16550 *u, uint8_t value)
{
	uint8_t old = ns16550_modem_inputs(u);

	u->mcr = value & NS16550_MCR_MASK;
	u->msr_delta |= ns16550_msr_deltas(old, ns16550_modem_inputs(u));
}

/* Write a register; see ns16550.h. */
void ns16550_write(struct ns16550 *u, uint32_t offset, uint8_t value,
		   ns16550_tx_fn tx, void *ctx)
{
	switch (offset) {
	case NS16550_THR:
		if (ns16550_dlab(u))
			u->dll = value;
		else
			ns16550_write_thr(u, value, tx, ctx);
		break;
	case NS16550_IER:
		if (ns16550_dlab(u))
			u->dlm = value;
		else
			ns16550_write_ier(u, value);
		break;
	case NS16550_FCR:
		ns16550_write_fcr(u, value);
		break;
	case NS16550_LCR:
		u->lcr = value;
		break;
	case NS16550_MCR:
		ns16550_write_mcr(u, value);
		break;
	case NS16550_SCR:
		u->scr = value;
		break;
	default: /* LSR and MSR are read-only here */
		break;
	}
}

/* Free receive space for console input; see ns16550.h. */
uint32_t ns16550_rx_space(const struct ns16550 *u)
{
	uint32_t cap = ns16550_rx_capacity(u);

	if (ns16550_loopback(u) || u->rx_count >= cap)
		return 0;
	return cap - u->rx_count;
}

/* Console input; see ns16550.h. */
uint32_t ns16550_rx_push(struct ns16550 *u, const uint8_t *buf, uint32_t n)
{
	uint32_t space = ns16550_rx_space(u);
	uint32_t take = n < space ? n : space;

	for (uint32_t i = 0; i < take; i++)
		ns16550_rx_put(u, buf[i]);
	return take;
}

/* IRQ output gated by OUT2; see ns16550.h. */
bool ns16550_irq_level(const struct ns16550 *u)
{
	if (!(u->mcr & NS16550_MCR_OUT2) || ns16550_loopback(u))
		return false;
	return ns16550_pending(u) != NS16550_IIR_NO_INT;
}

_Static_assert(KEEL_STATE_UART_FIFO_BYTES == NS16550_FIFO_BYTES,
	       "the UART record holds the whole receive FIFO");

/* Save u's state; see ns16550.h. */
void ns16550_save(const struct ns16550 *u, struct keel_state_uart *st)
{
	memset(st, 0, sizeof(*st));
	for (uint32_t i = 0; i < u->rx_count; i++)
		st->rx[i] = u->rx_buf[(u->rx_head + i) % NS16550_FIFO_BYTES];
	st->rx_count = u->rx_count;
	st->rbr = u->rbr;
	st->ier = u->ier;
	st->fcr = u->fcr;
	st->lcr = u->lcr;
	st->mcr = u->mcr;
	st->lsr_err = u->lsr_err;
	st->msr_delta = u->msr_delta;
	st->scr = u->scr;
	st->dll = u->dll;
	st->dlm = u->dlm;
	st->thre_pending = u->thre_pending;
}

/* True if every reserved byte of st is 0. */
static bool ns16550_reserved_clear(const struct keel_state_uart *st)
{
	for (uint32_t i = 0; i < sizeof(st->reserved); i++)
		if (st->reserved[i])
			return false;
	return true;
}

/* Load u's state; see ns16550.h. */
int ns16550_load(struct ns16550 *u, const struct keel_state_uart *st)
{
	uint32_t depth = (st->fcr & NS16550_FCR_ENABLE) ? NS16550_FIFO_BYTES : 1u;

	if (st->rx_count > depth || (st->ier & ~NS16550_IER_MASK) ||
	    (st->fcr & ~(NS16550_FCR_ENABLE | NS16550_FCR_TRIGGER)) ||
	    (st->mcr & ~NS16550_MCR_MASK) || (st->lsr_err & ~NS16550_LSR_OE) ||
	    (st->msr_delta & ~NS16550_MSR_DELTAS) || st->thre_pending > 1 ||
	    !ns16550_reserved_clear(st))
		return -EINVAL;
	memset(u, 0, sizeof(*u));
	memcpy(u->rx_buf, st->rx, st->rx_count);
	u->rx_head = 0;
	u->rx_count = st->rx_count;
	u->rbr = st->rbr;
	u->ier = st->ier;
	u->fcr = st->fcr;
	u->lcr = st->lcr;
	u->mcr = st->mcr;
	u->lsr_err = st->lsr_err;
	u->msr_delta = st->msr_delta;
	u->scr = st->scr;
	u->dll = st->dll;
	u->dlm = st->dlm;
	u->thre_pending = st->thre_pending;
	return 0;
}
