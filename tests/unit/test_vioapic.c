/*
 * Unit tests for hypervisor/devices/ioapic.c, the virtual 82093AA IOAPIC:
 * reset state and the IOREGSEL/IOWIN register window (ID, version,
 * arbitration, redirection entries and their read-only bits), edge versus
 * level pins, Remote IRR and EOI with redelivery, masking and unmasking
 * with an asserted line, active-low polarity, non-fixed delivery modes,
 * message merging and a NULL output.
 */
#include "../../hypervisor/devices/ioapic.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

static struct vioapic_out out;

static uint32_t rd_idx(struct vioapic *io, uint32_t idx)
{
	vioapic_write(io, VIOAPIC_REG_IOREGSEL, idx, &out);
	return vioapic_read(io, VIOAPIC_REG_IOWIN);
}

static void wr_idx(struct vioapic *io, uint32_t idx, uint32_t v)
{
	vioapic_write(io, VIOAPIC_REG_IOREGSEL, idx, &out);
	vioapic_write(io, VIOAPIC_REG_IOWIN, v, &out);
}

/* Programs pin: high dword first (as Linux does), then low dword. */
static void program(struct vioapic *io, uint32_t pin, uint32_t lo, uint8_t dest)
{
	wr_idx(io, VIOAPIC_IDX_REDIR0 + 2 * pin + 1, (uint32_t)dest << 24);
	wr_idx(io, VIOAPIC_IDX_REDIR0 + 2 * pin, lo);
}

static void check_msg(const struct irq_msg *m, uint8_t vector, uint8_t dm,
		      bool logical, uint32_t dest, bool level)
{
	CHECK_EQ_U64(m->vector, vector);
	CHECK_EQ_U64(m->delivery, dm);
	CHECK(m->logical == logical);
	CHECK_EQ_U64(m->dest, dest);
	CHECK(m->level == level);
}

static void test_reset_and_window(void)
{
	struct vioapic io;

	memset(&io, 0x5A, sizeof(io));
	vioapic_init(&io, 1);
	CHECK_EQ_U64(vioapic_read(&io, VIOAPIC_REG_IOREGSEL), 0);
	CHECK_EQ_U64(rd_idx(&io, VIOAPIC_IDX_ID), 0x01000000u);
	CHECK_EQ_U64(rd_idx(&io, VIOAPIC_IDX_VER), 0x00170011u);
	CHECK_EQ_U64(rd_idx(&io, VIOAPIC_IDX_ARB), 0x01000000u);
	for (uint32_t pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
		CHECK_EQ_U64(rd_idx(&io, 0x10 + 2 * pin), VIOAPIC_RTE_MASKED);
		CHECK_EQ_U64(rd_idx(&io, 0x11 + 2 * pin), 0);
	}
	/* IOREGSEL keeps 8 bits and reads back. */
	vioapic_write(&io, VIOAPIC_REG_IOREGSEL, 0xFFFFFF12, &out);
	CHECK_EQ_U64(vioapic_read(&io, VIOAPIC_REG_IOREGSEL), 0x12);
	/* Indices past the table and unknown offsets read 0. */
	CHECK_EQ_U64(rd_idx(&io, 0x40), 0);
	CHECK_EQ_U64(rd_idx(&io, 0x03), 0);
	CHECK_EQ_U64(rd_idx(&io, 0xFF), 0);
	CHECK_EQ_U64(vioapic_read(&io, 0x20), 0);
	CHECK_EQ_U64(vioapic_read(&io, 0x40), 0);
	CHECK_EQ_U64(vioapic_read(&io, 0x04), 0);
	/* ID: bits 27:24 writable, ARB follows; VER and ARB read-only. */
	wr_idx(&io, VIOAPIC_IDX_ID, 0xFFFFFFFF);
	CHECK_EQ_U64(rd_idx(&io, VIOAPIC_IDX_ID), 0x0F000000u);
	CHECK_EQ_U64(rd_idx(&io, VIOAPIC_IDX_ARB), 0x0F000000u);
	wr_idx(&io, VIOAPIC_IDX_VER, 0);
	CHECK_EQ_U64(rd_idx(&io, VIOAPIC_IDX_VER), 0x00170011u);
	wr_idx(&io, VIOAPIC_IDX_ARB, 0);
	CHECK_EQ_U64(rd_idx(&io, VIOAPIC_IDX_ARB), 0x0F000000u);
	/* Redirection entry: delivery status and Remote IRR read-only. */
	wr_idx(&io, 0x10 + 2 * 23, 0xFFFFFFFF);
	CHECK_EQ_U64(rd_idx(&io, 0x10 + 2 * 23), 0x0001AFFFu);
	wr_idx(&io, 0x11 + 2 * 23, 0xFFFFFFFF);
	CHECK_EQ_U64(rd_idx(&io, 0x11 + 2 * 23), 0xFF000000u);
	CHECK_EQ_U64(rd_idx(&io, 0x10 + 2 * 22), VIOAPIC_RTE_MASKED);
	/* Writes elsewhere are ignored. */
	vioapic_write(&io, 0x20, 0x1234, &out);
	CHECK_EQ_U64(out.n, 0);
}

static void test_edge(void)
{
	struct vioapic io;

	vioapic_init(&io, 1);
	program(&io, 4, 0x31, 0); /* UART: vector 0x31, fixed, physical 0 */
	CHECK_EQ_U64(out.n, 0);
	vioapic_set_irq(&io, 4, true, &out);
	CHECK_EQ_U64(out.n, 1);
	check_msg(&out.msgs[0], 0x31, 0, false, 0, false);
	/* Staying high: no new edge. */
	vioapic_set_irq(&io, 4, true, &out);
	CHECK_EQ_U64(out.n, 0);
	vioapic_set_irq(&io, 4, false, &out);
	CHECK_EQ_U64(out.n, 0);
	vioapic_set_irq(&io, 4, true, &out);
	CHECK_EQ_U64(out.n, 1);
	/* Edge pins set no Remote IRR; EOI does nothing. */
	CHECK_EQ_U64(rd_idx(&io, 0x10 + 8) & VIOAPIC_RTE_REMOTE_IRR, 0);
	vioapic_eoi(&io, 0x31, &out);
	CHECK_EQ_U64(out.n, 0);
	/* Masked: an edge is lost, unmasking with the line high sends nothing. */
	vioapic_set_irq(&io, 4, false, &out);
	program(&io, 4, VIOAPIC_RTE_MASKED | 0x31, 0);
	vioapic_set_irq(&io, 4, true, &out);
	CHECK_EQ_U64(out.n, 0);
	program(&io, 4, 0x31, 0);
	CHECK_EQ_U64(out.n, 0);
	vioapic_set_irq(&io, 4, false, &out);
	vioapic_set_irq(&io, 4, true, &out);
	CHECK_EQ_U64(out.n, 1);
	/* Logical destination, lowest priority, destination byte. */
	program(&io, 5, 0x900 | 0x41, 0x0F);
	vioapic_set_irq(&io, 5, true, &out);
	CHECK_EQ_U64(out.n, 1);
	check_msg(&out.msgs[0], 0x41, 1, true, 0x0F, false);
	/* Out-of-range pins are ignored. */
	vioapic_set_irq(&io, 24, true, &out);
	CHECK_EQ_U64(out.n, 0);
	vioapic_set_irq(&io, 0xFFFFFFFF, true, &out);
	CHECK_EQ_U64(out.n, 0);
}

static void test_level(void)
{
	struct vioapic io;
	uint32_t lo = VIOAPIC_RTE_LEVEL | 0x51;

	vioapic_init(&io, 1);
	program(&io, 10, lo, 2);
	vioapic_set_irq(&io, 10, true, &out);
	CHECK_EQ_U64(out.n, 1);
	check_msg(&out.msgs[0], 0x51, 0, false, 2, true);
	CHECK(rd_idx(&io, 0x10 + 20) & VIOAPIC_RTE_REMOTE_IRR);
	/* Still asserted, Remote IRR set: nothing more. */
	vioapic_set_irq(&io, 10, true, &out);
	CHECK_EQ_U64(out.n, 0);
	/* Writes cannot clear Remote IRR while level-triggered. */
	program(&io, 10, lo, 2);
	CHECK(rd_idx(&io, 0x10 + 20) & VIOAPIC_RTE_REMOTE_IRR);
	CHECK_EQ_U64(out.n, 0);
	/* EOI of another vector: nothing. */
	vioapic_eoi(&io, 0x52, &out);
	CHECK_EQ_U64(out.n, 0);
	CHECK(rd_idx(&io, 0x10 + 20) & VIOAPIC_RTE_REMOTE_IRR);
	/* EOI while still asserted: redelivered, Remote IRR set again. */
	vioapic_eoi(&io, 0x51, &out);
	CHECK_EQ_U64(out.n, 1);
	check_msg(&out.msgs[0], 0x51, 0, false, 2, true);
	CHECK(rd_idx(&io, 0x10 + 20) & VIOAPIC_RTE_REMOTE_IRR);
	/* Deassert, then EOI: Remote IRR clears, nothing sent. */
	vioapic_set_irq(&io, 10, false, &out);
	CHECK_EQ_U64(out.n, 0);
	vioapic_eoi(&io, 0x51, &out);
	CHECK_EQ_U64(out.n, 0);
	CHECK_EQ_U64(rd_idx(&io, 0x10 + 20) & VIOAPIC_RTE_REMOTE_IRR, 0);
	/* Assert again: sends. */
	vioapic_set_irq(&io, 10, true, &out);
	CHECK_EQ_U64(out.n, 1);
	/* Switching to edge clears Remote IRR (Linux's EOI trick for 0x11). */
	program(&io, 10, VIOAPIC_RTE_MASKED | 0x51, 2);
	CHECK_EQ_U64(rd_idx(&io, 0x10 + 20) & VIOAPIC_RTE_REMOTE_IRR, 0);
	/* Back to level, unmasked, line still high: sends again. */
	program(&io, 10, lo, 2);
	CHECK_EQ_U64(out.n, 1);
	CHECK(rd_idx(&io, 0x10 + 20) & VIOAPIC_RTE_REMOTE_IRR);
}

static void test_mask_unmask_level(void)
{
	struct vioapic io;
	uint32_t lo = VIOAPIC_RTE_LEVEL | 0x61;

	vioapic_init(&io, 1);
	program(&io, 11, VIOAPIC_RTE_MASKED | lo, 0);
	vioapic_set_irq(&io, 11, true, &out);
	CHECK_EQ_U64(out.n, 0);
	CHECK_EQ_U64(rd_idx(&io, 0x10 + 22) & VIOAPIC_RTE_REMOTE_IRR, 0);
	/* Unmasking with the line asserted delivers. */
	program(&io, 11, lo, 0);
	CHECK_EQ_U64(out.n, 1);
	check_msg(&out.msgs[0], 0x61, 0, false, 0, true);
	/* Masked while awaiting EOI: EOI clears Remote IRR, no send. */
	program(&io, 11, VIOAPIC_RTE_MASKED | lo, 0);
	CHECK_EQ_U64(out.n, 0);
	vioapic_eoi(&io, 0x61, &out);
	CHECK_EQ_U64(out.n, 0);
	CHECK_EQ_U64(rd_idx(&io, 0x10 + 22) & VIOAPIC_RTE_REMOTE_IRR, 0);
	/* Unmask with the line deasserted meanwhile: nothing. */
	vioapic_set_irq(&io, 11, false, &out);
	program(&io, 11, lo, 0);
	CHECK_EQ_U64(out.n, 0);
	/* Unmask writing only the high dword also re-evaluates (no-op). */
	wr_idx(&io, 0x11 + 22, 0x03000000);
	CHECK_EQ_U64(out.n, 0);
	vioapic_set_irq(&io, 11, true, &out);
	CHECK_EQ_U64(out.n, 1);
	check_msg(&out.msgs[0], 0x61, 0, false, 3, true);
}

static void test_polarity(void)
{
	struct vioapic io;
	uint32_t lo = VIOAPIC_RTE_ACTIVE_LOW | VIOAPIC_RTE_LEVEL | 0x71;

	vioapic_init(&io, 1);
	/* An undriven active-low pin is idle: unmasking sends nothing. */
	program(&io, 16, lo, 0);
	CHECK_EQ_U64(out.n, 0);
	/* High = inactive, low = active. */
	vioapic_set_irq(&io, 16, true, &out);
	CHECK_EQ_U64(out.n, 0);
	vioapic_set_irq(&io, 16, false, &out);
	CHECK_EQ_U64(out.n, 1);
	check_msg(&out.msgs[0], 0x71, 0, false, 0, true);
	vioapic_set_irq(&io, 16, true, &out);
	vioapic_eoi(&io, 0x71, &out);
	CHECK_EQ_U64(out.n, 0);
	vioapic_set_irq(&io, 16, false, &out);
	vioapic_eoi(&io, 0x71, &out);
	CHECK_EQ_U64(out.n, 1); /* still low: redelivered */
	/* Edge, active low: the falling edge sends. */
	program(&io, 17, VIOAPIC_RTE_ACTIVE_LOW | 0x72, 0);
	vioapic_set_irq(&io, 17, true, &out);
	CHECK_EQ_U64(out.n, 0);
	vioapic_set_irq(&io, 17, false, &out);
	CHECK_EQ_U64(out.n, 1);
	check_msg(&out.msgs[0], 0x72, 0, false, 0, false);
	vioapic_set_irq(&io, 17, true, &out);
	CHECK_EQ_U64(out.n, 0);
	/* Active high, undriven: the first raise is an edge. */
	program(&io, 18, 0x73, 0);
	vioapic_set_irq(&io, 18, false, &out);
	CHECK_EQ_U64(out.n, 0);
	vioapic_set_irq(&io, 18, true, &out);
	CHECK_EQ_U64(out.n, 1);
}

static void test_delivery_modes(void)
{
	struct vioapic io;

	vioapic_init(&io, 1);
	/* NMI with the level bit set still behaves as edge: no Remote IRR. */
	program(&io, 2, VIOAPIC_RTE_LEVEL | 0x400, 0);
	vioapic_set_irq(&io, 2, true, &out);
	CHECK_EQ_U64(out.n, 1);
	check_msg(&out.msgs[0], 0, 4, false, 0, false);
	CHECK_EQ_U64(rd_idx(&io, 0x10 + 4) & VIOAPIC_RTE_REMOTE_IRR, 0);
	vioapic_set_irq(&io, 2, true, &out);
	CHECK_EQ_U64(out.n, 0);
	/* ExtINT passes through. */
	program(&io, 0, 0x700, 0);
	vioapic_set_irq(&io, 0, true, &out);
	CHECK_EQ_U64(out.n, 1);
	CHECK_EQ_U64(out.msgs[0].delivery, 7);
}

static void test_shared_vector_eoi(void)
{
	struct vioapic io;
	uint32_t lo = VIOAPIC_RTE_LEVEL | 0x81;

	vioapic_init(&io, 1);
	/* Six level pins, same vector: two destinations, three pins each. */
	for (uint32_t pin = 0; pin < 6; pin++) {
		program(&io, pin, lo, (uint8_t)(pin & 1));
		vioapic_set_irq(&io, pin, true, &out);
		CHECK_EQ_U64(out.n, 1);
	}
	/* One EOI: identical messages merge, all six pins resent. */
	vioapic_eoi(&io, 0x81, &out);
	CHECK_EQ_U64(out.n, 2);
	for (uint32_t pin = 0; pin < 6; pin++)
		CHECK(rd_idx(&io, 0x10 + 2 * pin) & VIOAPIC_RTE_REMOTE_IRR);
	/* Five distinct destinations: the fifth does not fit and stays clear. */
	for (uint32_t pin = 0; pin < 6; pin++)
		program(&io, pin, lo, (uint8_t)pin);
	vioapic_eoi(&io, 0x81, &out);
	CHECK_EQ_U64(out.n, 4);
	CHECK(rd_idx(&io, 0x10 + 6) & VIOAPIC_RTE_REMOTE_IRR);
	CHECK_EQ_U64(rd_idx(&io, 0x10 + 8) & VIOAPIC_RTE_REMOTE_IRR, 0);
	CHECK_EQ_U64(rd_idx(&io, 0x10 + 10) & VIOAPIC_RTE_REMOTE_IRR, 0);
	/* The next input change of pin 4 sends it. */
	vioapic_set_irq(&io, 4, true, &out);
	CHECK_EQ_U64(out.n, 1);
	CHECK_EQ_U64(out.msgs[0].dest, 4);
	/* A NULL output sends nothing and leaves Remote IRR clear. */
	vioapic_set_irq(&io, 5, true, NULL);
	CHECK_EQ_U64(rd_idx(&io, 0x10 + 10) & VIOAPIC_RTE_REMOTE_IRR, 0);
	vioapic_eoi(&io, 0x81, NULL);
	vioapic_write(&io, VIOAPIC_REG_IOREGSEL, 0x10, NULL);
	CHECK_EQ_U64(vioapic_read(&io, VIOAPIC_REG_IOREGSEL), 0x10);
}

/* A guest's IOAPIC saved and loaded into a fresh one behaves the same:
 * the pending level EOI is redelivered from the copy. Bad records are
 * refused and leave the target as it was. */
static void test_save_load(void)
{
	struct vioapic io, copy, before;
	struct keel_state_ioapic st, bad;
	uint32_t lo = VIOAPIC_RTE_LEVEL | 0x51;

	vioapic_init(&io, 3);
	program(&io, 10, lo, 2);
	program(&io, 4, 0x33, 1);
	vioapic_set_irq(&io, 10, true, &out); /* Remote IRR set, line high */
	CHECK_EQ_U64(out.n, 1);
	vioapic_write(&io, VIOAPIC_REG_IOREGSEL, 0x18, &out);
	vioapic_save(&io, &st);
	CHECK_EQ_U64(st.line_high, 1u << 10);
	CHECK(st.rte_lo[10] & VIOAPIC_RTE_REMOTE_IRR);

	vioapic_init(&copy, 0);
	CHECK_EQ_U64(vioapic_load(&copy, &st), 0);
	CHECK(memcmp(&copy, &io, sizeof(io)) == 0);
	CHECK_EQ_U64(vioapic_read(&copy, VIOAPIC_REG_IOREGSEL), 0x18);
	CHECK_EQ_U64(rd_idx(&copy, VIOAPIC_IDX_ID), 3u << 24);
	/* the copy redelivers on EOI, as the original would */
	vioapic_eoi(&copy, 0x51, &out);
	CHECK_EQ_U64(out.n, 1);
	check_msg(&out.msgs[0], 0x51, 0, false, 2, true);

	/* each impossible field is refused, the target unchanged */
	vioapic_init(&copy, 5);
	before = copy;
	for (int i = 0; i < 6; i++) {
		bad = st;
		switch (i) {
		case 0: bad.id |= 1u; break;                       /* below bit 24 */
		case 1: bad.ioregsel = 0x100; break;               /* 8-bit select */
		case 2: bad.rte_lo[3] |= VIOAPIC_RTE_DELIVS; break; /* read-only bit */
		case 3: bad.rte_hi[23] |= 1u; break;               /* reserved */
		case 4: bad.line_high |= 1u << 24; break;          /* pin 24 */
		case 5: bad.line_driven |= 1u << 31; break;
		}
		CHECK_EQ_U64(vioapic_load(&copy, &bad), (uint64_t)(int64_t)-EINVAL);
		CHECK(memcmp(&copy, &before, sizeof(copy)) == 0);
	}
}

int main(void)
{
	test_reset_and_window();
	test_save_load();
	test_edge();
	test_level();
	test_mask_unmask_level();
	test_polarity();
	test_delivery_modes();
	test_shared_vector_eoi();
	return harness_done("test_vioapic");
}
