/*
 * Unit tests for hypervisor/devices/ns16550.c: the reset state, the
 * divisor latch behind LCR.DLAB, THR output through the callback,
 * loopback, the receive FIFO with LSR.DR, its limits and overrun, FCR,
 * the IIR priority order and the THRE interrupt rules (cleared by an IIR
 * read that reports it, latched again after a THR write and when
 * IER.ETBEI goes 0->1), the IRQ line gated by OUT2, MSR in loopback and
 * normal mode, SCR, and Linux's 8250 probe sequences (autoconfig, the
 * loopback test and the THRE re-assertion test at startup).
 */
#include "../../hypervisor/devices/ns16550.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

/* Collects transmitted bytes. */
struct tx_log {
	uint8_t buf[256];
	uint32_t n;
};

static void tx_collect(void *ctx, uint8_t c)
{
	struct tx_log *log = ctx;

	if (log->n < sizeof(log->buf))
		log->buf[log->n++] = c;
}

static struct tx_log txl;

static uint8_t rd(struct ns16550 *u, uint32_t off)
{
	return ns16550_read(u, off);
}

static void wr(struct ns16550 *u, uint32_t off, uint8_t v)
{
	ns16550_write(u, off, v, tx_collect, &txl);
}

static void push_str(struct ns16550 *u, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);

	CHECK_EQ_U64(ns16550_rx_push(u, (const uint8_t *)s, n), n);
}

static void test_reset(void)
{
	struct ns16550 u;

	memset(&u, 0xA5, sizeof(u));
	ns16550_init(&u);
	CHECK_EQ_U64(rd(&u, NS16550_IER), 0);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_NO_INT);
	CHECK_EQ_U64(rd(&u, NS16550_LCR), 0);
	CHECK_EQ_U64(rd(&u, NS16550_MCR), 0);
	CHECK_EQ_U64(rd(&u, NS16550_LSR), NS16550_LSR_THRE | NS16550_LSR_TEMT);
	CHECK_EQ_U64(rd(&u, NS16550_MSR),
		     NS16550_MSR_CTS | NS16550_MSR_DSR | NS16550_MSR_DCD);
	CHECK_EQ_U64(rd(&u, NS16550_SCR), 0);
	CHECK(!ns16550_irq_level(&u));
	CHECK_EQ_U64(ns16550_rx_space(&u), 1); /* 16450 mode: just RBR */
	CHECK_EQ_U64(rd(&u, 8), 0xFF);          /* beyond the registers */
	wr(&u, 8, 0x12);                          /* ignored */
	CHECK_EQ_U64(txl.n, 0);
}

static void test_divisor_latch(void)
{
	struct ns16550 u;

	ns16550_init(&u);
	txl.n = 0;
	wr(&u, NS16550_IER, 0x05);
	wr(&u, NS16550_LCR, NS16550_LCR_DLAB | 0x03);
	CHECK_EQ_U64(rd(&u, NS16550_DLL), NS16550_RESET_DIVISOR);
	CHECK_EQ_U64(rd(&u, NS16550_DLM), 0);
	wr(&u, NS16550_DLL, 0x01); /* 115200 baud */
	wr(&u, NS16550_DLM, 0x02);
	CHECK_EQ_U64(rd(&u, NS16550_DLL), 0x01);
	CHECK_EQ_U64(rd(&u, NS16550_DLM), 0x02);
	CHECK_EQ_U64(txl.n, 0);   /* DLL write is not a THR write */
	CHECK_EQ_U64(rd(&u, NS16550_LCR), NS16550_LCR_DLAB | 0x03);
	/* IIR, LSR and SCR do not depend on DLAB. */
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_NO_INT);
	CHECK_EQ_U64(rd(&u, NS16550_LSR), NS16550_LSR_THRE | NS16550_LSR_TEMT);
	wr(&u, NS16550_LCR, 0x03);
	CHECK_EQ_U64(rd(&u, NS16550_IER), 0x05); /* IER survived */
	wr(&u, NS16550_LCR, NS16550_LCR_DLAB);
	CHECK_EQ_U64(rd(&u, NS16550_DLL), 0x01); /* latch kept */
	CHECK_EQ_U64(rd(&u, NS16550_DLM), 0x02);
}

static void test_tx(void)
{
	struct ns16550 u;

	ns16550_init(&u);
	txl.n = 0;
	wr(&u, NS16550_THR, 'h');
	wr(&u, NS16550_THR, 'i');
	CHECK_EQ_U64(txl.n, 2);
	CHECK(txl.buf[0] == 'h' && txl.buf[1] == 'i');
	/* Instantaneous transmission: THR and the shift register stay empty. */
	CHECK_EQ_U64(rd(&u, NS16550_LSR), NS16550_LSR_THRE | NS16550_LSR_TEMT);
	/* A NULL callback drops the byte. */
	ns16550_write(&u, NS16550_THR, 'x', NULL, NULL);
	CHECK_EQ_U64(txl.n, 2);
	CHECK_EQ_U64(rd(&u, NS16550_LSR) & NS16550_LSR_DR, 0);
}

static void test_ier_bits(void)
{
	struct ns16550 u;

	ns16550_init(&u);
	wr(&u, NS16550_IER, 0xFF);
	CHECK_EQ_U64(rd(&u, NS16550_IER), 0x0F);
	wr(&u, NS16550_IER, 0x00);
	CHECK_EQ_U64(rd(&u, NS16550_IER), 0x00);
}

static void test_rx_fifo(void)
{
	struct ns16550 u;
	uint8_t big[NS16550_FIFO_BYTES + 10];

	ns16550_init(&u);
	/* 16450 mode: one byte of room. */
	CHECK_EQ_U64(ns16550_rx_push(&u, (const uint8_t *)"ab", 2), 1);
	CHECK_EQ_U64(ns16550_rx_space(&u), 0);
	CHECK_EQ_U64(rd(&u, NS16550_LSR), NS16550_LSR_DR | NS16550_LSR_THRE |
					      NS16550_LSR_TEMT);
	CHECK_EQ_U64(rd(&u, NS16550_RBR), 'a');
	CHECK_EQ_U64(rd(&u, NS16550_LSR) & NS16550_LSR_DR, 0);
	CHECK_EQ_U64(rd(&u, NS16550_RBR), 'a'); /* empty: last byte again */

	wr(&u, NS16550_FCR, NS16550_FCR_ENABLE);
	CHECK_EQ_U64(ns16550_rx_space(&u), NS16550_FIFO_BYTES);
	for (uint32_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i + 1);
	CHECK_EQ_U64(ns16550_rx_push(&u, big, sizeof(big)), NS16550_FIFO_BYTES);
	CHECK_EQ_U64(ns16550_rx_space(&u), 0);
	CHECK_EQ_U64(ns16550_rx_push(&u, big, 1), 0);
	/* Refused console bytes are not an overrun: the caller keeps them. */
	CHECK_EQ_U64(rd(&u, NS16550_LSR) & NS16550_LSR_OE, 0);
	CHECK_EQ_U64(rd(&u, NS16550_RBR), 1);
	CHECK_EQ_U64(ns16550_rx_space(&u), 1);
	CHECK_EQ_U64(ns16550_rx_push(&u, big + NS16550_FIFO_BYTES, 10), 1);
	/* FIFO order across the ring's wrap. */
	bool in_order = true;
	for (uint32_t i = 2; i <= NS16550_FIFO_BYTES + 1; i++) {
		CHECK(rd(&u, NS16550_LSR) & NS16550_LSR_DR);
		if (rd(&u, NS16550_RBR) != (uint8_t)i)
			in_order = false;
	}
	CHECK(in_order);
	CHECK_EQ_U64(rd(&u, NS16550_LSR) & NS16550_LSR_DR, 0);

	/* FCR: clear RX. */
	push_str(&u, "xyz");
	wr(&u, NS16550_FCR, NS16550_FCR_ENABLE | NS16550_FCR_CLEAR_RX);
	CHECK_EQ_U64(rd(&u, NS16550_LSR) & NS16550_LSR_DR, 0);
	CHECK_EQ_U64(ns16550_rx_space(&u), NS16550_FIFO_BYTES);
	/* Clearing TX changes nothing visible; the FIFO stays enabled. */
	push_str(&u, "q");
	wr(&u, NS16550_FCR, NS16550_FCR_ENABLE | NS16550_FCR_CLEAR_TX);
	CHECK_EQ_U64(rd(&u, NS16550_IIR) & NS16550_IIR_FIFO, NS16550_IIR_FIFO);
	CHECK_EQ_U64(rd(&u, NS16550_RBR), 'q');
	/* Disabling the FIFOs clears them. */
	push_str(&u, "rs");
	wr(&u, NS16550_FCR, 0);
	CHECK_EQ_U64(rd(&u, NS16550_LSR) & NS16550_LSR_DR, 0);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_NO_INT);
	CHECK_EQ_U64(ns16550_rx_space(&u), 1);
	/* Other FCR bits are ignored while bit 0 is clear. */
	push_str(&u, "t");
	wr(&u, NS16550_FCR, NS16550_FCR_CLEAR_RX);
	CHECK_EQ_U64(rd(&u, NS16550_RBR), 't');
}

static void test_loopback(void)
{
	struct ns16550 u;

	ns16550_init(&u);
	txl.n = 0;
	wr(&u, NS16550_FCR, NS16550_FCR_ENABLE);
	wr(&u, NS16550_MCR, NS16550_MCR_LOOP);
	CHECK_EQ_U64(ns16550_rx_space(&u), 0); /* serial input disconnected */
	CHECK_EQ_U64(ns16550_rx_push(&u, (const uint8_t *)"z", 1), 0);
	wr(&u, NS16550_THR, 0x5A);
	CHECK_EQ_U64(txl.n, 0);
	CHECK_EQ_U64(rd(&u, NS16550_LSR), NS16550_LSR_DR | NS16550_LSR_THRE |
					      NS16550_LSR_TEMT);
	CHECK_EQ_U64(rd(&u, NS16550_RBR), 0x5A);

	/* Overrun: the FIFO keeps its bytes, the new one is lost, OE set. */
	for (uint32_t i = 0; i < NS16550_FIFO_BYTES + 1; i++)
		wr(&u, NS16550_THR, (uint8_t)i);
	CHECK_EQ_U64(rd(&u, NS16550_LSR), NS16550_LSR_DR | NS16550_LSR_OE |
					      NS16550_LSR_THRE |
					      NS16550_LSR_TEMT);
	CHECK_EQ_U64(rd(&u, NS16550_LSR) & NS16550_LSR_OE, 0); /* read clears */
	CHECK_EQ_U64(rd(&u, NS16550_RBR), 0);
	for (uint32_t i = 1; i < NS16550_FIFO_BYTES; i++)
		(void)rd(&u, NS16550_RBR);
	CHECK_EQ_U64(rd(&u, NS16550_RBR), NS16550_FIFO_BYTES - 1);
	CHECK_EQ_U64(rd(&u, NS16550_LSR) & NS16550_LSR_DR, 0);

	/* 16450 mode overrun: the new byte overwrites the unread one. */
	wr(&u, NS16550_FCR, 0);
	wr(&u, NS16550_THR, 'a');
	wr(&u, NS16550_THR, 'b');
	CHECK_EQ_U64(rd(&u, NS16550_LSR) & (NS16550_LSR_OE | NS16550_LSR_DR),
		     NS16550_LSR_OE | NS16550_LSR_DR);
	CHECK_EQ_U64(rd(&u, NS16550_RBR), 'b');

	/* Leaving loopback: output goes to the callback again. */
	wr(&u, NS16550_MCR, 0);
	wr(&u, NS16550_THR, 'c');
	CHECK_EQ_U64(txl.n, 1);
	CHECK_EQ_U64(rd(&u, NS16550_LSR) & NS16550_LSR_DR, 0);
}

static void test_msr(void)
{
	struct ns16550 u;
	const uint8_t normal = NS16550_MSR_CTS | NS16550_MSR_DSR |
			       NS16550_MSR_DCD;

	ns16550_init(&u);
	/* Normal mode: MCR outputs do not show up in MSR. */
	wr(&u, NS16550_MCR, NS16550_MCR_DTR | NS16550_MCR_RTS);
	CHECK_EQ_U64(rd(&u, NS16550_MSR), normal);
	wr(&u, NS16550_MCR, 0);
	CHECK_EQ_U64(rd(&u, NS16550_MSR), normal);

	/* Loopback, each output to its input; deltas on change. */
	wr(&u, NS16550_MCR, NS16550_MCR_LOOP);
	CHECK_EQ_U64(rd(&u, NS16550_MSR), NS16550_MSR_DCTS | NS16550_MSR_DDSR |
					      NS16550_MSR_DDCD);
	CHECK_EQ_U64(rd(&u, NS16550_MSR), 0); /* deltas cleared by the read */
	wr(&u, NS16550_MCR, NS16550_MCR_LOOP | NS16550_MCR_RTS);
	CHECK_EQ_U64(rd(&u, NS16550_MSR), NS16550_MSR_CTS | NS16550_MSR_DCTS);
	wr(&u, NS16550_MCR, NS16550_MCR_LOOP | NS16550_MCR_DTR);
	CHECK_EQ_U64(rd(&u, NS16550_MSR), NS16550_MSR_DSR | NS16550_MSR_DCTS |
					      NS16550_MSR_DDSR);
	wr(&u, NS16550_MCR, NS16550_MCR_LOOP | NS16550_MCR_OUT1);
	CHECK_EQ_U64(rd(&u, NS16550_MSR), NS16550_MSR_RI | NS16550_MSR_DDSR);
	wr(&u, NS16550_MCR, NS16550_MCR_LOOP); /* RI trailing edge */
	CHECK_EQ_U64(rd(&u, NS16550_MSR), NS16550_MSR_TERI);
	wr(&u, NS16550_MCR, NS16550_MCR_LOOP | NS16550_MCR_OUT2);
	CHECK_EQ_U64(rd(&u, NS16550_MSR), NS16550_MSR_DCD | NS16550_MSR_DDCD);
	wr(&u, NS16550_MCR, NS16550_MCR_MASK);
	CHECK_EQ_U64(rd(&u, NS16550_MSR) & 0xF0, 0xF0);
	CHECK_EQ_U64(rd(&u, NS16550_MCR), NS16550_MCR_MASK);
	wr(&u, NS16550_MCR, 0xFF); /* bits 7:5 read as 0 */
	CHECK_EQ_U64(rd(&u, NS16550_MCR), NS16550_MCR_MASK);

	/* MSR and LSR writes are ignored. */
	wr(&u, NS16550_MSR, 0xFF);
	wr(&u, NS16550_LSR, 0xFF);
	CHECK_EQ_U64(rd(&u, NS16550_MSR), 0xF0);
	CHECK_EQ_U64(rd(&u, NS16550_LSR), NS16550_LSR_THRE | NS16550_LSR_TEMT);
}

static void test_scr(void)
{
	struct ns16550 u;

	ns16550_init(&u);
	for (uint32_t v = 0; v < 256; v += 0x55) {
		wr(&u, NS16550_SCR, (uint8_t)v);
		CHECK_EQ_U64(rd(&u, NS16550_SCR), v);
	}
	wr(&u, NS16550_LCR, NS16550_LCR_DLAB);
	wr(&u, NS16550_SCR, 0x42);
	CHECK_EQ_U64(rd(&u, NS16550_SCR), 0x42);
}

static void test_iir_priority(void)
{
	struct ns16550 u;

	ns16550_init(&u);
	wr(&u, NS16550_FCR, NS16550_FCR_ENABLE);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_NO_INT);

	/* Make all four conditions true in loopback: OE, data, THRE, MSR. */
	wr(&u, NS16550_MCR, NS16550_MCR_LOOP);       /* MSR deltas */
	for (uint32_t i = 0; i <= NS16550_FIFO_BYTES; i++)
		wr(&u, NS16550_THR, (uint8_t)i);       /* data, OE, THRE */
	wr(&u, NS16550_IER, NS16550_IER_MASK);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_LSR);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_LSR);
	(void)rd(&u, NS16550_LSR);                   /* clears OE */
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_RDA);
	for (uint32_t i = 0; i < NS16550_FIFO_BYTES - 1; i++)
		(void)rd(&u, NS16550_RBR);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_RDA);
	(void)rd(&u, NS16550_RBR);                   /* FIFO empty */
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_THRE);
	/* That read cleared THRE: modem status is next. */
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_MSR);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_MSR);
	(void)rd(&u, NS16550_MSR);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_NO_INT);

	/* Disabled sources are not reported; enabling them shows them. */
	wr(&u, NS16550_IER, 0);
	wr(&u, NS16550_MCR, NS16550_MCR_LOOP | NS16550_MCR_RTS);
	wr(&u, NS16550_THR, 'a');
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_NO_INT);
	wr(&u, NS16550_IER, NS16550_IER_EDSSI);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_MSR);
	wr(&u, NS16550_IER, NS16550_IER_EDSSI | NS16550_IER_ERBFI);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_RDA);

	/* Without FIFOs bits 7:6 read 0. */
	ns16550_init(&u);
	wr(&u, NS16550_IER, NS16550_IER_ERBFI);
	push_str(&u, "k");
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_RDA);
}

static void test_thre_rules(void)
{
	struct ns16550 u;

	ns16550_init(&u);
	txl.n = 0;
	wr(&u, NS16550_FCR, NS16550_FCR_ENABLE);
	/* ETBEI 0->1 with THR empty raises THRE. */
	wr(&u, NS16550_IER, NS16550_IER_ETBEI);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_THRE);
	/* The IIR read that reported it cleared it. */
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_NO_INT);
	/* Writing IER again with ETBEI still set does not re-raise it. */
	wr(&u, NS16550_IER, NS16550_IER_ETBEI);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_NO_INT);
	/* A THR write empties at once, so THRE is pending again after it. */
	wr(&u, NS16550_THR, 'a');
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_THRE);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_NO_INT);
	/* ETBEI 1->0->1 re-raises. */
	wr(&u, NS16550_IER, 0);
	wr(&u, NS16550_IER, NS16550_IER_ETBEI | NS16550_IER_ERBFI);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_THRE);
	/* An IIR read reporting a higher source leaves THRE latched. */
	wr(&u, NS16550_IER, 0);
	wr(&u, NS16550_IER, NS16550_IER_ETBEI | NS16550_IER_ERBFI);
	push_str(&u, "r");
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_RDA);
	(void)rd(&u, NS16550_RBR);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_THRE);
	/* The condition latched while ETBEI was off shows when enabled. */
	wr(&u, NS16550_IER, 0);
	wr(&u, NS16550_THR, 'b');
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_NO_INT);
	wr(&u, NS16550_IER, NS16550_IER_ETBEI);
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_FIFO | NS16550_IIR_THRE);
	CHECK_EQ_U64(txl.n, 2);
}

static void test_irq_level(void)
{
	struct ns16550 u;

	ns16550_init(&u);
	wr(&u, NS16550_IER, NS16550_IER_ERBFI);
	push_str(&u, "x");
	CHECK(!ns16550_irq_level(&u)); /* pending, but OUT2 clear */
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_RDA);
	wr(&u, NS16550_MCR, NS16550_MCR_OUT2);
	CHECK(ns16550_irq_level(&u));
	wr(&u, NS16550_MCR, NS16550_MCR_DTR | NS16550_MCR_RTS | NS16550_MCR_OUT1);
	CHECK(!ns16550_irq_level(&u));
	wr(&u, NS16550_MCR, NS16550_MCR_OUT2 | NS16550_MCR_DTR);
	CHECK(ns16550_irq_level(&u));
	(void)rd(&u, NS16550_RBR);
	CHECK(!ns16550_irq_level(&u)); /* nothing pending */
	/* ETBEI: THRE raises the line, the IIR read drops it. */
	wr(&u, NS16550_IER, NS16550_IER_ETBEI);
	CHECK(ns16550_irq_level(&u));
	(void)rd(&u, NS16550_IIR);
	CHECK(!ns16550_irq_level(&u));
	wr(&u, NS16550_THR, '!');
	CHECK(ns16550_irq_level(&u));
	wr(&u, NS16550_IER, 0);
	CHECK(!ns16550_irq_level(&u)); /* masked */
	/* Loopback forces OUT2 inactive, so the line stays low. */
	wr(&u, NS16550_IER, NS16550_IER_ERBFI);
	wr(&u, NS16550_MCR, NS16550_MCR_OUT2 | NS16550_MCR_LOOP);
	wr(&u, NS16550_THR, 'l');
	CHECK_EQ_U64(rd(&u, NS16550_IIR), NS16550_IIR_RDA);
	CHECK(!ns16550_irq_level(&u));
	wr(&u, NS16550_MCR, NS16550_MCR_OUT2);
	CHECK(ns16550_irq_level(&u));
}

/*
 * The probe sequences of Linux's 8250 driver (drivers/tty/serial/8250),
 * as behaviour: the IER read-back test, FIFO detection through IIR bits
 * 7:6, the EFR probes that read offset 2 with LCR 0x80 / 0xBF (must not
 * read 0), the loopback test expecting MSR 0x90, and the THRE test at
 * startup (ETBEI on, IIR, ETBEI off and on again, IIR must show THRE).
 */
static void test_linux_probe(void)
{
	struct ns16550 u;
	uint8_t iir1, iir2;

	ns16550_init(&u);
	wr(&u, NS16550_IER, 0);
	CHECK_EQ_U64(rd(&u, NS16550_IER) & 0x0F, 0);
	wr(&u, NS16550_IER, 0x0F);
	CHECK_EQ_U64(rd(&u, NS16550_IER) & 0x0F, 0x0F);
	wr(&u, NS16550_IER, 0);

	wr(&u, NS16550_FCR, NS16550_FCR_ENABLE);
	CHECK_EQ_U64(rd(&u, NS16550_IIR) >> 6, 3); /* 16550A */
	wr(&u, NS16550_LCR, 0x80);
	CHECK(rd(&u, NS16550_IIR) != 0);
	wr(&u, NS16550_LCR, 0xBF);
	CHECK(rd(&u, NS16550_IIR) != 0);
	wr(&u, NS16550_LCR, 0x03);

	wr(&u, NS16550_MCR, NS16550_MCR_LOOP | 0x0A);
	CHECK_EQ_U64(rd(&u, NS16550_MSR) & 0xF0, 0x90);
	wr(&u, NS16550_MCR, NS16550_MCR_OUT2 | NS16550_MCR_DTR |
				    NS16550_MCR_RTS);

	/* Startup THRE test. */
	CHECK(rd(&u, NS16550_LSR) & NS16550_LSR_THRE);
	wr(&u, NS16550_IER, NS16550_IER_ETBEI);
	iir1 = rd(&u, NS16550_IIR);
	wr(&u, NS16550_IER, 0);
	wr(&u, NS16550_IER, NS16550_IER_ETBEI);
	iir2 = rd(&u, NS16550_IIR);
	wr(&u, NS16550_IER, 0);
	CHECK_EQ_U64(iir1 & NS16550_IIR_NO_INT, 0);
	CHECK_EQ_U64(iir2 & NS16550_IIR_NO_INT, 0); /* no "THRE bug" */
	CHECK_EQ_U64(iir2 & NS16550_IIR_ID_MASK, NS16550_IIR_THRE);
}

/*
 * Interrupt-driven transmit as Linux does it on an edge-triggered IRQ:
 * enable ETBEI, and in the handler loop "read IIR; while THRE: write up
 * to 16 bytes, or disable ETBEI when done" until IIR says no interrupt.
 * All bytes must come out and the line must end low.
 */
static void test_irq_driven_tx(void)
{
	struct ns16550 u;
	const char *msg = "interrupt-driven output longer than one FIFO load";
	uint32_t len = (uint32_t)strlen(msg), sent = 0, rounds = 0;

	ns16550_init(&u);
	txl.n = 0;
	wr(&u, NS16550_FCR, NS16550_FCR_ENABLE);
	wr(&u, NS16550_MCR, NS16550_MCR_OUT2);
	wr(&u, NS16550_IER, NS16550_IER_ERBFI | NS16550_IER_ETBEI);
	CHECK(ns16550_irq_level(&u));
	while (rounds++ < 100) {
		uint8_t iir = rd(&u, NS16550_IIR);

		if (iir & NS16550_IIR_NO_INT)
			break;
		CHECK_EQ_U64(iir & NS16550_IIR_ID_MASK, NS16550_IIR_THRE);
		for (uint32_t i = 0; i < 16 && sent < len; i++)
			wr(&u, NS16550_THR, (uint8_t)msg[sent++]);
		if (sent == len)
			wr(&u, NS16550_IER, NS16550_IER_ERBFI);
	}
	CHECK_EQ_U64(txl.n, len);
	CHECK(memcmp(txl.buf, msg, len) == 0);
	CHECK(!ns16550_irq_level(&u));
}

/* A UART saved with a wrapped FIFO, a pending THRE interrupt and its
 * registers set loads into a fresh one that reads the same bytes in the
 * same order and raises the same IRQ; bad records are refused and leave
 * the target as it was. */
static void test_save_load(void)
{
	struct ns16550 u, copy, before;
	struct keel_state_uart st, bad;
	uint8_t big[NS16550_FIFO_BYTES];

	ns16550_init(&u);
	wr(&u, NS16550_FCR, NS16550_FCR_ENABLE | 0x80);
	wr(&u, NS16550_MCR, NS16550_MCR_OUT2 | NS16550_MCR_DTR);
	wr(&u, NS16550_SCR, 0x5a);
	wr(&u, NS16550_IER, NS16550_IER_ERBFI | NS16550_IER_ETBEI);
	for (uint32_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i + 1);
	CHECK_EQ_U64(ns16550_rx_push(&u, big, 40), 40);
	for (int i = 0; i < 30; i++)
		rd(&u, NS16550_RBR);              /* head moves to 30 */
	CHECK_EQ_U64(ns16550_rx_push(&u, big + 40, 24), 24);
	CHECK_EQ_U64(ns16550_rx_push(&u, big, 30), 30); /* wraps: 64 in all */
	ns16550_save(&u, &st);
	CHECK_EQ_U64(st.rx_count, 64);
	CHECK_EQ_U64(st.rx[0], 31);

	ns16550_init(&copy);
	CHECK_EQ_U64(ns16550_load(&copy, &st), 0);
	CHECK_EQ_U64(ns16550_irq_level(&copy), ns16550_irq_level(&u));
	CHECK_EQ_U64(rd(&copy, NS16550_SCR), 0x5a);
	CHECK_EQ_U64(rd(&copy, NS16550_MCR), rd(&u, NS16550_MCR));
	bool same = true;
	for (int i = 0; i < 64; i++)
		if (rd(&copy, NS16550_RBR) != rd(&u, NS16550_RBR))
			same = false;
	CHECK(same);
	CHECK_EQ_U64(rd(&copy, NS16550_LSR), rd(&u, NS16550_LSR));
	CHECK_EQ_U64(rd(&copy, NS16550_IIR), rd(&u, NS16550_IIR));

	/* each impossible field is refused, the target unchanged */
	ns16550_init(&copy);
	before = copy;
	for (int i = 0; i < 9; i++) {
		bad = st;
		switch (i) {
		case 0: bad.rx_count = 65; break;                 /* deeper than the FIFO */
		case 1: bad.fcr = 0; bad.rx_count = 2; break;     /* 16450 mode holds 1 */
		case 2: bad.ier = 0x10; break;
		case 3: bad.fcr |= NS16550_FCR_CLEAR_RX; break;   /* never stored */
		case 4: bad.mcr = 0x20; break;
		case 5: bad.lsr_err = NS16550_LSR_PE; break;
		case 6: bad.msr_delta = 0x10; break;
		case 7: bad.thre_pending = 2; break;
		case 8: bad.reserved[4] = 1; break;
		}
		CHECK_EQ_U64(ns16550_load(&copy, &bad), (uint64_t)(int64_t)-EINVAL);
		CHECK(memcmp(&copy, &before, sizeof(copy)) == 0);
	}
}

int main(void)
{
	test_reset();
	test_save_load();
	test_divisor_latch();
	test_tx();
	test_ier_bits();
	test_rx_fifo();
	test_loopback();
	test_msr();
	test_scr();
	test_iir_priority();
	test_thre_rules();
	test_irq_level();
	test_linux_probe();
	test_irq_driven_tx();
	return harness_done("test_ns16550");
}
