/*
 * Virtual I/O APIC modelled on the Intel 82093AA datasheet: 24 input pins,
 * the indirect register window (IOREGSEL at offset 0x00, IOWIN at 0x10 of
 * the page at 0xFEC00000), ID/version/arbitration registers and one 64-bit
 * redirection entry per pin with edge or level triggering, polarity,
 * masking and Remote IRR. The model is pure (no hardware, no globals):
 * interrupts it sends are returned as messages in struct vioapic_out for
 * the caller to route to local APICs, and the caller reports level EOIs
 * back through vioapic_eoi().
 */
#ifndef KEEL_VIOAPIC_H
#define KEEL_VIOAPIC_H

#include <stdbool.h>
#include <stdint.h>
#include <public/keel_abi.h>

#define VIOAPIC_NR_PINS 24u
#define VIOAPIC_PAGE_BYTES 0x1000u
#define VIOAPIC_REG_IOREGSEL 0x00u /* MMIO offsets */
#define VIOAPIC_REG_IOWIN 0x10u
#define VIOAPIC_IDX_ID 0x00u       /* register indices behind IOWIN */
#define VIOAPIC_IDX_VER 0x01u
#define VIOAPIC_IDX_ARB 0x02u
#define VIOAPIC_IDX_REDIR0 0x10u   /* pin n: low 0x10 + 2n, high 0x11 + 2n */
#define VIOAPIC_VERSION_VALUE 0x00170011u /* max entry 23, version 0x11 */
#define VIOAPIC_MAX_MSGS 4u

/* Redirection entry fields, low dword (82093AA section 3.2.4). */
#define VIOAPIC_RTE_VECTOR_MASK 0xFFu
#define VIOAPIC_RTE_DM_SHIFT 8
#define VIOAPIC_RTE_DM_MASK 7u
#define VIOAPIC_RTE_LOGICAL (1u << 11)
#define VIOAPIC_RTE_DELIVS (1u << 12)     /* delivery status, reads 0 */
#define VIOAPIC_RTE_ACTIVE_LOW (1u << 13) /* polarity */
#define VIOAPIC_RTE_REMOTE_IRR (1u << 14)
#define VIOAPIC_RTE_LEVEL (1u << 15)      /* trigger mode */
#define VIOAPIC_RTE_MASKED (1u << 16)
#define VIOAPIC_RTE_DEST_SHIFT 24         /* high dword bits 31:24 */

/* One interrupt message for the caller to route to local APICs. */
struct irq_msg {
	uint8_t vector;
	uint8_t delivery; /* VLAPIC_DM_* numbering: 0 fixed, 1 lowest, ... 7 ExtINT */
	bool logical;     /* destination mode */
	uint32_t dest;    /* 8-bit xAPIC destination */
	bool level;       /* level-triggered: its EOI must reach vioapic_eoi */
};

/* Messages produced by one call; n is reset to 0 by every call. */
struct vioapic_out {
	uint32_t n;
	struct irq_msg msgs[VIOAPIC_MAX_MSGS];
};

/* The whole state of one virtual IOAPIC. Treat as opaque. */
struct vioapic {
	uint32_t id;                            /* ID register (bits 27:24) */
	uint32_t ioregsel;                      /* selected register index */
	uint32_t rte_lo[VIOAPIC_NR_PINS];       /* incl. Remote IRR (bit 14) */
	uint32_t rte_hi[VIOAPIC_NR_PINS];
	bool line_high[VIOAPIC_NR_PINS];        /* input level last set */
	bool line_driven[VIOAPIC_NR_PINS];      /* set_irq ever called */
};

void vioapic_init(struct vioapic *io, uint32_t id);
uint32_t vioapic_read(struct vioapic *io, uint32_t offset);
void vioapic_write(struct vioapic *io, uint32_t offset, uint32_t value,
		   struct vioapic_out *out);
void vioapic_set_irq(struct vioapic *io, uint32_t pin, bool asserted,
		     struct vioapic_out *out);
void vioapic_eoi(struct vioapic *io, uint8_t vector, struct vioapic_out *out);
void vioapic_save(const struct vioapic *io, struct keel_state_ioapic *st);
int vioapic_load(struct vioapic *io, const struct keel_state_ioapic *st);

#endif /* KEEL_VIOAPIC_H */
