/*
 * Virtual local APIC (xAPIC mode, the MMIO page at 0xFEE00000) for one
 * vCPU: the register file of Intel SDM vol. 3A chapter 10, interrupt
 * acceptance into IRR/TMR, priority (TPR/PPR) and EOI handling, ICR writes
 * turned into IPI requests for the caller to route, destination matching,
 * and the timer in one-shot, periodic and TSC-deadline modes. The model is
 * pure: no hardware access and no globals; time is always passed in as an
 * absolute TSC value. The timer's input clock is the TSC itself: the
 * counter decrements once every `divide` TSC ticks (divide configuration
 * register, SDM 10.5.4), so the guest sees a LAPIC timer frequency of
 * tsc_khz / divide kHz. The caller owns locking, injection and IPI routing.
 */
#ifndef KEEL_VLAPIC_H
#define KEEL_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>
#include <public/keel_abi.h>

/* Register offsets in the xAPIC page (SDM table 10-1). */
#define VLAPIC_REG_ID 0x020u
#define VLAPIC_REG_VERSION 0x030u
#define VLAPIC_REG_TPR 0x080u
#define VLAPIC_REG_APR 0x090u
#define VLAPIC_REG_PPR 0x0A0u
#define VLAPIC_REG_EOI 0x0B0u
#define VLAPIC_REG_RRD 0x0C0u
#define VLAPIC_REG_LDR 0x0D0u
#define VLAPIC_REG_DFR 0x0E0u
#define VLAPIC_REG_SVR 0x0F0u
#define VLAPIC_REG_ISR0 0x100u /* ISR 0x100-0x170, 8 x 32 bits */
#define VLAPIC_REG_TMR0 0x180u /* TMR 0x180-0x1F0 */
#define VLAPIC_REG_IRR0 0x200u /* IRR 0x200-0x270 */
#define VLAPIC_REG_ESR 0x280u
#define VLAPIC_REG_LVT_CMCI 0x2F0u
#define VLAPIC_REG_ICR_LO 0x300u
#define VLAPIC_REG_ICR_HI 0x310u
#define VLAPIC_REG_LVT_TIMER 0x320u
#define VLAPIC_REG_LVT_THERMAL 0x330u
#define VLAPIC_REG_LVT_PERF 0x340u
#define VLAPIC_REG_LVT_LINT0 0x350u
#define VLAPIC_REG_LVT_LINT1 0x360u
#define VLAPIC_REG_LVT_ERROR 0x370u
#define VLAPIC_REG_TIMER_ICR 0x380u /* initial count */
#define VLAPIC_REG_TIMER_CCR 0x390u /* current count */
#define VLAPIC_REG_TIMER_DCR 0x3E0u /* divide configuration */

#define VLAPIC_PAGE_BYTES 0x1000u
#define VLAPIC_VERSION_VALUE 0x00050014u /* version 0x14, max LVT entry 6 */
#define VLAPIC_MSR_TSC_DEADLINE 0x6E0u

/* Fields shared by the LVT entries and the ICR (SDM figures 10-8, 10-12). */
#define VLAPIC_VECTOR_MASK 0xFFu
#define VLAPIC_LVT_MASKED (1u << 16)
#define VLAPIC_LVT_TIMER_MODE_SHIFT 17
#define VLAPIC_LVT_TIMER_MODE_MASK (3u << VLAPIC_LVT_TIMER_MODE_SHIFT)
#define VLAPIC_TIMER_ONESHOT 0u
#define VLAPIC_TIMER_PERIODIC 1u
#define VLAPIC_TIMER_TSC_DEADLINE 2u
#define VLAPIC_SVR_ENABLE (1u << 8)

/* struct vlapic_ipi.delivery / struct irq_msg.delivery (SDM 10.6.1). */
#define VLAPIC_DM_FIXED 0u
#define VLAPIC_DM_LOWEST 1u
#define VLAPIC_DM_SMI 2u
#define VLAPIC_DM_NMI 4u
#define VLAPIC_DM_INIT 5u
#define VLAPIC_DM_STARTUP 6u
#define VLAPIC_DM_EXTINT 7u /* IOAPIC only */

/* struct vlapic_ipi.shorthand (ICR bits 19:18). */
#define VLAPIC_SH_NONE 0u
#define VLAPIC_SH_SELF 1u
#define VLAPIC_SH_ALL_INCL_SELF 2u
#define VLAPIC_SH_ALL_EXCL_SELF 3u

#define VLAPIC_DEST_BROADCAST 0xFFu
#define VLAPIC_NR_LVT 7
#define VLAPIC_LVT_CMCI 0 /* indices into struct vlapic.lvt[] */
#define VLAPIC_LVT_TIMER 1
#define VLAPIC_LVT_THERMAL 2
#define VLAPIC_LVT_PERF 3
#define VLAPIC_LVT_LINT0 4
#define VLAPIC_LVT_LINT1 5
#define VLAPIC_LVT_ERROR 6
#define VLAPIC_NR_VEC_WORDS 8 /* 256 vectors in 32-bit words */

/* An ICR write the caller must route (SDM 10.6.1). */
struct vlapic_ipi {
	bool valid;         /* false: no IPI (or a reserved delivery mode) */
	uint8_t vector;
	uint8_t delivery;   /* VLAPIC_DM_* */
	bool logical;       /* destination mode */
	bool level_assert;  /* ICR level bit (INIT deassert has it clear) */
	uint8_t shorthand;  /* VLAPIC_SH_* */
	uint32_t dest;      /* 8-bit xAPIC destination field (ICR bits 63:56) */
};

/* Side effects of one register write, filled by vlapic_write. */
struct vlapic_effects {
	struct vlapic_ipi ipi;
	int eoi_level_vector; /* >= 0: an EOI retired this level vector */
};

/* The whole state of one virtual local APIC. Treat as opaque. */
struct vlapic {
	uint32_t id;   /* ID register value: APIC ID in bits 31:24 */
	uint32_t tpr;  /* bits 7:0 */
	uint32_t ldr;  /* bits 31:24 */
	uint32_t dfr;  /* bits 31:28 model, 27:0 read as ones */
	uint32_t svr;
	uint32_t isr[VLAPIC_NR_VEC_WORDS];
	uint32_t tmr[VLAPIC_NR_VEC_WORDS];
	uint32_t irr[VLAPIC_NR_VEC_WORDS];
	uint32_t icr_lo;
	uint32_t icr_hi;
	uint32_t lvt[VLAPIC_NR_LVT]; /* VLAPIC_LVT_* order: CMCI, timer, ..., error */
	uint32_t timer_initial;      /* initial count register */
	uint32_t timer_dcr;          /* divide configuration register */
	bool timer_armed;            /* one-shot/periodic counting, or deadline set */
	uint64_t timer_next_tsc;     /* absolute TSC of the next expiry if armed */
	uint64_t tsc_deadline;       /* IA32_TSC_DEADLINE (0 = disarmed) */
	uint64_t tsc_khz;            /* TSC rate, recorded for the caller */
};

void vlapic_init(struct vlapic *l, uint32_t apic_id, uint64_t tsc_khz);
uint32_t vlapic_read(struct vlapic *l, uint32_t offset, uint64_t now_tsc);
void vlapic_write(struct vlapic *l, uint32_t offset, uint32_t value,
		  uint64_t now_tsc, struct vlapic_effects *fx);
void vlapic_accept(struct vlapic *l, uint8_t vector, bool level);
int vlapic_pending(const struct vlapic *l);
void vlapic_ack(struct vlapic *l, uint8_t vector);
void vlapic_timer_update(struct vlapic *l, uint64_t now_tsc);
uint64_t vlapic_timer_next(const struct vlapic *l);
void vlapic_tsc_deadline_write(struct vlapic *l, uint64_t deadline,
			       uint64_t now_tsc);
uint64_t vlapic_tsc_deadline_read(const struct vlapic *l);
bool vlapic_match_dest(const struct vlapic *l, uint32_t dest, bool logical);
uint32_t vlapic_apic_id(const struct vlapic *l);
uint32_t vlapic_ppr(const struct vlapic *l);
bool vlapic_sw_enabled(const struct vlapic *l);
void vlapic_save(const struct vlapic *l, uint64_t now_tsc, struct keel_state_lapic *st);
int vlapic_load(struct vlapic *l, const struct keel_state_lapic *st, uint64_t now_tsc);

#endif /* KEEL_VLAPIC_H */
