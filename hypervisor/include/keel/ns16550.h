/*
 * Device model of a National Semiconductor / TI 16550A UART (PC16550D
 * datasheet) as a guest sees it at 0x3F8: the eight byte-wide registers,
 * a receive FIFO fed from the hypervisor's console, the interrupt
 * identification logic and the IRQ output as gated by MCR.OUT2 on a PC.
 * The model is pure: it keeps all state in struct ns16550, touches no
 * hardware and sends transmitted bytes through a callback. Transmission is
 * instantaneous, so the transmitter is always empty (LSR.THRE and TEMT).
 * The caller samples ns16550_irq_level() after every access and every
 * ns16550_rx_push() and raises the guest's IRQ (ISA IRQ 4 for COM1) on a
 * rising edge.
 */
#ifndef KEEL_NS16550_H
#define KEEL_NS16550_H

#include <stdbool.h>
#include <stdint.h>
#include <public/keel_abi.h>

#define NS16550_FIFO_BYTES 64 /* receive FIFO depth, in bytes */
#define NS16550_REG_COUNT 8   /* registers at offsets 0..7 from the base port */

/* Register offsets from the base port (PC16550D register summary table). */
#define NS16550_RBR 0 /* read, DLAB=0: receiver buffer */
#define NS16550_THR 0 /* write, DLAB=0: transmitter holding register */
#define NS16550_DLL 0 /* DLAB=1: divisor latch, low byte */
#define NS16550_IER 1 /* DLAB=0: interrupt enable */
#define NS16550_DLM 1 /* DLAB=1: divisor latch, high byte */
#define NS16550_IIR 2 /* read: interrupt identification */
#define NS16550_FCR 2 /* write: FIFO control */
#define NS16550_LCR 3 /* line control */
#define NS16550_MCR 4 /* modem control */
#define NS16550_LSR 5 /* line status */
#define NS16550_MSR 6 /* modem status */
#define NS16550_SCR 7 /* scratch */

/* IER bits. */
#define NS16550_IER_ERBFI 0x01u /* received data available */
#define NS16550_IER_ETBEI 0x02u /* transmitter holding register empty */
#define NS16550_IER_ELSI 0x04u  /* receiver line status */
#define NS16550_IER_EDSSI 0x08u /* modem status */
#define NS16550_IER_MASK 0x0Fu

/* IIR values: bit 0 clear means "interrupt pending", bits 3:1 the source. */
#define NS16550_IIR_NO_INT 0x01u
#define NS16550_IIR_MSR 0x00u   /* modem status (lowest priority) */
#define NS16550_IIR_THRE 0x02u  /* transmitter holding register empty */
#define NS16550_IIR_RDA 0x04u   /* received data available */
#define NS16550_IIR_LSR 0x06u   /* receiver line status (highest) */
#define NS16550_IIR_ID_MASK 0x0Fu
#define NS16550_IIR_FIFO 0xC0u  /* bits 7:6: FIFOs enabled */

/* FCR bits. */
#define NS16550_FCR_ENABLE 0x01u
#define NS16550_FCR_CLEAR_RX 0x02u
#define NS16550_FCR_CLEAR_TX 0x04u
#define NS16550_FCR_DMA 0x08u
#define NS16550_FCR_TRIGGER 0xC0u

/* LCR bits. */
#define NS16550_LCR_DLAB 0x80u

/* MCR bits. */
#define NS16550_MCR_DTR 0x01u
#define NS16550_MCR_RTS 0x02u
#define NS16550_MCR_OUT1 0x04u
#define NS16550_MCR_OUT2 0x08u
#define NS16550_MCR_LOOP 0x10u
#define NS16550_MCR_MASK 0x1Fu

/* LSR bits. */
#define NS16550_LSR_DR 0x01u
#define NS16550_LSR_OE 0x02u
#define NS16550_LSR_PE 0x04u
#define NS16550_LSR_FE 0x08u
#define NS16550_LSR_BI 0x10u
#define NS16550_LSR_THRE 0x20u
#define NS16550_LSR_TEMT 0x40u
#define NS16550_LSR_RXFE 0x80u
#define NS16550_LSR_ERRORS 0x1Eu /* OE|PE|FE|BI: cleared by reading LSR */

/* MSR bits. */
#define NS16550_MSR_DCTS 0x01u
#define NS16550_MSR_DDSR 0x02u
#define NS16550_MSR_TERI 0x04u
#define NS16550_MSR_DDCD 0x08u
#define NS16550_MSR_CTS 0x10u
#define NS16550_MSR_DSR 0x20u
#define NS16550_MSR_RI 0x40u
#define NS16550_MSR_DCD 0x80u
#define NS16550_MSR_DELTAS 0x0Fu

/* Divisor after reset: 12, i.e. 9600 baud from a 1.8432 MHz clock. */
#define NS16550_RESET_DIVISOR 12u

/* One UART. Treat the fields as private; use the functions below. */
struct ns16550 {
	uint8_t rx_buf[NS16550_FIFO_BYTES]; /* ring buffer of received bytes */
	uint32_t rx_head;                   /* index of the oldest byte */
	uint32_t rx_count;                  /* bytes in rx_buf */
	uint8_t rbr;       /* last byte read, returned again when empty */
	uint8_t ier;       /* bits 3:0 */
	uint8_t fcr;       /* ENABLE and TRIGGER bits as last programmed */
	uint8_t lcr;
	uint8_t mcr;       /* bits 4:0 */
	uint8_t lsr_err;   /* sticky OE (PE/FE/BI never happen here) */
	uint8_t msr_delta; /* MSR bits 3:0, cleared by reading MSR */
	uint8_t scr;
	uint8_t dll;
	uint8_t dlm;
	bool thre_pending; /* the THRE interrupt condition is latched */
};

/* Byte sink for transmitted characters; ctx is the caller's. */
typedef void (*ns16550_tx_fn)(void *ctx, uint8_t c);

/*
 * Put u into its power-on state (PC16550D "UART Reset Configuration"
 * table): IER, FCR, LCR and MCR 0, FIFOs empty, LSR THRE|TEMT,
 * no interrupt pending, divisor NS16550_RESET_DIVISOR.
 */
void ns16550_init(struct ns16550 *u);

/*
 * Guest read of the register at offset (0..7 from the base port), with
 * the side effects of the read: RBR pops the FIFO, IIR clears a THRE
 * interrupt it reports, LSR clears OE, MSR clears the delta bits.
 * Offsets 0 and 1 are the divisor latch while LCR.DLAB is set. Returns
 * the register value (0xFF for an offset above 7).
 */
uint8_t ns16550_read(struct ns16550 *u, uint32_t offset);

/*
 * Guest write of value to the register at offset (0..7). A THR write
 * calls tx(ctx, value) (tx may be NULL to drop output), or in loopback
 * mode (MCR.LOOP) puts the byte into the receive FIFO instead. Writes to
 * LSR, MSR and offsets above 7 are ignored.
 */
void ns16550_write(struct ns16550 *u, uint32_t offset, uint8_t value,
		   ns16550_tx_fn tx, void *ctx);

/*
 * Input from the console: append up to n bytes of buf to the receive
 * FIFO. Returns the number of bytes accepted, which is at most
 * ns16550_rx_space(); the caller keeps the rest and offers it again
 * later, so nothing is lost and OE is not set. Accepts nothing in
 * loopback mode, where the serial input is disconnected.
 */
uint32_t ns16550_rx_push(struct ns16550 *u, const uint8_t *buf, uint32_t n);

/*
 * Bytes ns16550_rx_push() would accept now: the free FIFO space (the FIFO
 * holds NS16550_FIFO_BYTES with FCR.ENABLE set and one byte, the 16450's
 * RBR, without), or 0 in loopback mode.
 */
uint32_t ns16550_rx_space(const struct ns16550 *u);

/*
 * Level of the UART's IRQ line as a PC wires it: true when an enabled
 * interrupt is pending (IIR bit 0 clear) and MCR.OUT2 is set. In loopback
 * mode the OUT2 output is forced inactive (PC16550D, MCR bit 4), so the
 * line is low.
 */
bool ns16550_irq_level(const struct ns16550 *u);

/* Copy u's whole state into its save record (docs/save-restore.md),
 * the receive FIFO oldest byte first. */
void ns16550_save(const struct ns16550 *u, struct keel_state_uart *st);

/*
 * Replace u's state with the record st, which may come from a file: every
 * register is checked against the bits a guest can set, the FIFO count
 * against the FIFO's depth in the saved FCR mode, and the reserved bytes
 * must be 0. Returns 0, or -EINVAL with u unchanged.
 */
int ns16550_load(struct ns16550 *u, const struct keel_state_uart *st);

#endif /* KEEL_NS16550_H */
