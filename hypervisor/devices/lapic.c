/*
 * Virtual local APIC in xAPIC mode, following Intel SDM vol. 3A chapter 10
 * (and AMD APM vol. 2 chapter 16 where AMD agrees): the register page,
 * acceptance of fixed interrupts into IRR/TMR, task and processor priority
 * (10.8.3), IRR -> ISR -> EOI (10.8.4, 10.8.5), ICR writes reported as IPI
 * requests (10.6.1), physical and logical destination matching (10.6.2) and
 * the timer in one-shot, periodic and TSC-deadline modes (10.5.4). The
 * code is pure: it touches no hardware and keeps no globals, and time is an
 * absolute TSC value supplied by the caller. Timer input clock: the TSC,
 * divided by the divide configuration register (one count per `divide`
 * TSC ticks). The caller injects what vlapic_pending() reports, routes
 * IPIs, forwards level EOIs to the IOAPIC and programs a host timer for
 * vlapic_timer_next().
 */
#include <stdbool.h>
#include <stdint.h>

#include <keel/errno.h>
#include <keel/string.h>
#include <keel/vlapic.h>

#define VLAPIC_REG_ALIGN_BYTES 0x10u   /* registers sit on 16-byte lines */
#define VLAPIC_ID_MASK 0xFF000000u     /* ID register: APIC ID in 31:24 */
#define VLAPIC_ID_SHIFT 24
#define VLAPIC_TPR_MASK 0xFFu
#define VLAPIC_PRIO_CLASS_MASK 0xF0u   /* priority class = vector[7:4] */
#define VLAPIC_LDR_MASK 0xFF000000u
#define VLAPIC_LDR_SHIFT 24
#define VLAPIC_DFR_MODEL_MASK 0xF0000000u
#define VLAPIC_DFR_RESERVED_ONES 0x0FFFFFFFu
#define VLAPIC_DFR_MODEL_SHIFT 28
#define VLAPIC_DFR_MODEL_FLAT 0xFu
#define VLAPIC_DFR_MODEL_CLUSTER 0x0u
#define VLAPIC_SVR_RESET 0xFFu
#define VLAPIC_SVR_WRITABLE 0x3FFu     /* vector, enable, focus check */
#define VLAPIC_MIN_VALID_VECTOR 16     /* 0-15 are illegal (SDM 10.5.2) */

/* Writable bits of each LVT entry (SDM figure 10-8). */
#define VLAPIC_LVT_BITS_DM 0x000107FFu    /* vector, delivery mode, mask */
#define VLAPIC_LVT_BITS_TIMER 0x000700FFu /* vector, mask, timer mode */
#define VLAPIC_LVT_BITS_LINT 0x0001A7FFu  /* + polarity, trigger mode */
#define VLAPIC_LVT_BITS_ERROR 0x000100FFu /* vector, mask */

/* ICR fields (SDM figure 10-12). */
#define VLAPIC_ICR_LO_WRITABLE 0x000CCFFFu /* status (12) reads as 0 */
#define VLAPIC_ICR_HI_WRITABLE 0xFF000000u
#define VLAPIC_ICR_DM_SHIFT 8
#define VLAPIC_ICR_DM_MASK 7u
#define VLAPIC_ICR_LOGICAL (1u << 11)
#define VLAPIC_ICR_LEVEL_ASSERT (1u << 14)
#define VLAPIC_ICR_SH_SHIFT 18
#define VLAPIC_ICR_SH_MASK 3u
#define VLAPIC_ICR_DEST_SHIFT 24
#define VLAPIC_DM_RESERVED_3 3u
#define VLAPIC_DM_RESERVED_7 7u

#define VLAPIC_DCR_WRITABLE 0xBu /* bits 0, 1 and 3 (SDM figure 10-10) */
#define VLAPIC_TIMER_MODE_RESERVED 3u

/* Bit helpers on the 256-bit IRR/ISR/TMR arrays. */
static bool vlapic_vec_test(const uint32_t *r, uint32_t v)
{
	return (r[v >> 5] >> (v & 31u)) & 1u;
}

static void vlapic_vec_set(uint32_t *r, uint32_t v)
{
	r[v >> 5] |= 1u << (v & 31u);
}

static void vlapic_vec_clear(uint32_t *r, uint32_t v)
{
	r[v >> 5] &= ~(1u << (v & 31u));
}

/* Highest set vector, or -1 if none. */
static int vlapic_vec_highest(const uint32_t *r)
{
	for (int i = VLAPIC_NR_VEC_WORDS - 1; i >= 0; i--) {
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	}
	return -1;
}

/*
 * Tells whether the APIC is software-enabled (SVR bit 8, SDM 10.4.3).
 * l: the APIC. Returns true if enabled.
 */
bool vlapic_sw_enabled(const struct vlapic *l)
{
	return (l->svr & VLAPIC_SVR_ENABLE) != 0;
}

/*
 * Returns the 8-bit xAPIC ID currently in the ID register (it is guest
 * writable, so it may differ from the value given to vlapic_init).
 */
uint32_t vlapic_apic_id(const struct vlapic *l)
{
	return l->id >> VLAPIC_ID_SHIFT;
}

/*
 * Computes the processor priority register (SDM 10.8.3.1): the TPR if its
 * class is at least that of the highest in-service vector, otherwise that
 * vector's class. l: the APIC. Returns the PPR value (bits 7:0).
 */
uint32_t vlapic_ppr(const struct vlapic *l)
{
	int isrv = vlapic_vec_highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & VLAPIC_PRIO_CLASS_MASK;

	if ((l->tpr & VLAPIC_PRIO_CLASS_MASK) >= isr_class)
		return l->tpr & VLAPIC_TPR_MASK;
	return isr_class;
}

static uint32_t vlapic_timer_mode(const struct vlapic *l)
{
	return (l->lvt[VLAPIC_LVT_TIMER] & VLAPIC_LVT_TIMER_MODE_MASK) >>
	       VLAPIC_LVT_TIMER_MODE_SHIFT;
}

/* Divide value from the DCR encoding (SDM figure 10-10): 1, 2, ..., 128. */
static uint64_t vlapic_timer_divide(const struct vlapic *l)
{
	uint32_t code = ((l->timer_dcr >> 1) & 4u) | (l->timer_dcr & 3u);

	return code == 7u ? 1u : 2ull << code;
}

/* Puts a fixed interrupt in IRR (edge or level via TMR, SDM 10.8.4). */
static void vlapic_set_irr(struct vlapic *l, uint32_t vector, bool level)
{
	if (vector < VLAPIC_MIN_VALID_VECTOR || !vlapic_sw_enabled(l))
		return;
	vlapic_vec_set(l->irr, vector);
	if (level)
		vlapic_vec_set(l->tmr, vector);
	else
		vlapic_vec_clear(l->tmr, vector);
}

/* The timer reached zero / its deadline: raise its LVT vector unless masked. */
static void vlapic_timer_fire(struct vlapic *l)
{
	uint32_t lvt = l->lvt[VLAPIC_LVT_TIMER];

	if (!(lvt & VLAPIC_LVT_MASKED))
		vlapic_set_irr(l, lvt & VLAPIC_VECTOR_MASK, false);
}

static void vlapic_timer_disarm(struct vlapic *l)
{
	l->timer_armed = false;
	l->timer_next_tsc = 0;
}

/* (Re)starts the count-down from the initial count (SDM 10.5.4). */
static void vlapic_timer_start(struct vlapic *l, uint64_t now_tsc)
{
	if (l->timer_initial == 0) {
		vlapic_timer_disarm(l); /* a zero initial count stops it */
		return;
	}
	l->timer_armed = true;
	l->timer_next_tsc = now_tsc + (uint64_t)l->timer_initial *
					      vlapic_timer_divide(l);
}

/* Current count register at now_tsc (SDM 10.5.4); 0 in TSC-deadline mode. */
static uint32_t vlapic_timer_current(const struct vlapic *l, uint64_t now_tsc)
{
	uint64_t div = vlapic_timer_divide(l), left, count;

	if (!l->timer_armed || vlapic_timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE)
		return 0;
	if (now_tsc < l->timer_next_tsc) {
		left = l->timer_next_tsc - now_tsc;
	} else if (vlapic_timer_mode(l) == VLAPIC_TIMER_PERIODIC) {
		uint64_t period = (uint64_t)l->timer_initial * div;

		left = period - (now_tsc - l->timer_next_tsc) % period;
	} else {
		return 0; /* one-shot expired, not yet seen by timer_update */
	}
	count = (left + div - 1) / div;
	return count > l->timer_initial ? l->timer_initial : (uint32_t)count;
}

/*
 * Fires timers whose expiry is at or before now_tsc: a one-shot count
 * stops at zero, a periodic one reloads (missed periods collapse into one
 * interrupt, as IRR holds one bit per vector), a TSC deadline disarms and
 * clears IA32_TSC_DEADLINE (SDM 10.5.4.1). A masked LVT timer still
 * expires but sets no IRR bit. l: the APIC; now_tsc: the current TSC.
 */
void vlapic_timer_update(struct vlapic *l, uint64_t now_tsc)
{
	if (!l->timer_armed || now_tsc < l->timer_next_tsc)
		return;
	vlapic_timer_fire(l);
	switch (vlapic_timer_mode(l)) {
	case VLAPIC_TIMER_PERIODIC: {
		uint64_t period = (uint64_t)l->timer_initial *
				  vlapic_timer_divide(l);
		uint64_t missed = (now_tsc - l->timer_next_tsc) / period;

		l->timer_next_tsc += (missed + 1) * period;
		break;
	}
	case VLAPIC_TIMER_TSC_DEADLINE:
		l->tsc_deadline = 0;
		vlapic_timer_disarm(l);
		break;
	default:
		vlapic_timer_disarm(l);
		break;
	}
}

/*
 * Returns the absolute TSC of the next timer expiry, or 0 if no timer is
 * armed. Reported even when the LVT timer is masked, since expiry still
 * changes state (the deadline MSR clears, a one-shot stops). l: the APIC.
 */
uint64_t vlapic_timer_next(const struct vlapic *l)
{
	return l->timer_armed ? l->timer_next_tsc : 0;
}

/*
 * Emulates a WRMSR to IA32_TSC_DEADLINE (MSR 0x6E0, SDM 10.5.4.1). Ignored
 * unless the LVT timer is in TSC-deadline mode. 0 disarms; a deadline at
 * or before now_tsc fires at once (check vlapic_pending afterwards).
 * l: the APIC; deadline: absolute TSC; now_tsc: the current TSC.
 */
void vlapic_tsc_deadline_write(struct vlapic *l, uint64_t deadline,
			       uint64_t now_tsc)
{
	if (vlapic_timer_mode(l) != VLAPIC_TIMER_TSC_DEADLINE)
		return;
	vlapic_timer_update(l, now_tsc); /* an old deadline that passed fires */
	l->tsc_deadline = deadline;
	if (deadline == 0) {
		vlapic_timer_disarm(l);
		return;
	}
	l->timer_armed = true;
	l->timer_next_tsc = deadline;
	vlapic_timer_update(l, now_tsc);
}

/*
 * Emulates a RDMSR of IA32_TSC_DEADLINE: the armed deadline, or 0 when
 * disarmed, already fired or not in TSC-deadline mode. l: the APIC.
 */
uint64_t vlapic_tsc_deadline_read(const struct vlapic *l)
{
	if (vlapic_timer_mode(l) != VLAPIC_TIMER_TSC_DEADLINE)
		return 0;
	return l->tsc_deadline;
}

/*
 * Puts the APIC in its power-up / INIT state (SDM 10.4.7.1): IRR, ISR,
 * TMR, ICR, LDR, TPR, timer counts and divide register 0, DFR all ones,
 * LVT entries masked, SVR 0xFF (software-disabled), no timer armed.
 * l: the APIC; apic_id: its 8-bit xAPIC ID (pass the same value again on
 * INIT, which keeps the ID); tsc_khz: the guest TSC rate, only recorded
 * for the caller since the timer counts TSC ticks directly.
 */
void vlapic_init(struct vlapic *l, uint32_t apic_id, uint64_t tsc_khz)
{
	memset(l, 0, sizeof(*l));
	l->id = (apic_id << VLAPIC_ID_SHIFT) & VLAPIC_ID_MASK;
	l->dfr = 0xFFFFFFFFu;
	l->svr = VLAPIC_SVR_RESET;
	for (int i = 0; i < VLAPIC_NR_LVT; i++)
		l->lvt[i] = VLAPIC_LVT_MASKED;
	l->tsc_khz = tsc_khz;
}

/* Index into l->lvt[] for an LVT register offset, or -1. */
static int vlapic_lvt_index(uint32_t offset)
{
	if (offset == VLAPIC_REG_LVT_CMCI)
		return VLAPIC_LVT_CMCI;
	if (offset >= VLAPIC_REG_LVT_TIMER && offset <= VLAPIC_REG_LVT_ERROR)
		return VLAPIC_LVT_TIMER +
		       (int)((offset - VLAPIC_REG_LVT_TIMER) / VLAPIC_REG_ALIGN_BYTES);
	return -1;
}

static uint32_t vlapic_lvt_writable(int idx)
{
	switch (idx) {
	case VLAPIC_LVT_TIMER:
		return VLAPIC_LVT_BITS_TIMER;
	case VLAPIC_LVT_LINT0:
	case VLAPIC_LVT_LINT1:
		return VLAPIC_LVT_BITS_LINT;
	case VLAPIC_LVT_ERROR:
		return VLAPIC_LVT_BITS_ERROR;
	default:
		return VLAPIC_LVT_BITS_DM;
	}
}

/*
 * Reads one 32-bit APIC register (SDM table 10-1). l: the APIC; offset:
 * byte offset in the 4 KiB page; now_tsc: the current TSC (for the
 * current-count register). Unknown, reserved, x2APIC-only and misaligned
 * offsets read 0; so does the write-only EOI register. Returns the value.
 */
uint32_t vlapic_read(struct vlapic *l, uint32_t offset, uint64_t now_tsc)
{
	int lvt = vlapic_lvt_index(offset);

	if (offset % VLAPIC_REG_ALIGN_BYTES != 0 || offset >= VLAPIC_PAGE_BYTES)
		return 0;
	if (lvt >= 0)
		return l->lvt[lvt];
	if (offset >= VLAPIC_REG_ISR0 && offset < VLAPIC_REG_ESR) {
		uint32_t word = (offset - VLAPIC_REG_ISR0) / VLAPIC_REG_ALIGN_BYTES;

		if (word < VLAPIC_NR_VEC_WORDS)
			return l->isr[word];
		if (word < 2 * VLAPIC_NR_VEC_WORDS)
			return l->tmr[word - VLAPIC_NR_VEC_WORDS];
		return l->irr[word - 2 * VLAPIC_NR_VEC_WORDS];
	}
	switch (offset) {
	case VLAPIC_REG_ID:
		return l->id;
	case VLAPIC_REG_VERSION:
		return VLAPIC_VERSION_VALUE;
	case VLAPIC_REG_TPR:
		return l->tpr;
	case VLAPIC_REG_PPR:
		return vlapic_ppr(l);
	case VLAPIC_REG_LDR:
		return l->ldr;
	case VLAPIC_REG_DFR:
		return l->dfr;
	case VLAPIC_REG_SVR:
		return l->svr;
	case VLAPIC_REG_ICR_LO:
		return l->icr_lo;
	case VLAPIC_REG_ICR_HI:
		return l->icr_hi;
	case VLAPIC_REG_TIMER_ICR:
		return l->timer_initial;
	case VLAPIC_REG_TIMER_CCR:
		return vlapic_timer_current(l, now_tsc);
	case VLAPIC_REG_TIMER_DCR:
		return l->timer_dcr;
	default:
		return 0; /* APR, RRD, ESR, EOI, reserved, x2APIC-only */
	}
}

/* EOI (SDM 10.8.5): retire the highest in-service vector. */
static void vlapic_eoi(struct vlapic *l, struct vlapic_effects *fx)
{
	int v = vlapic_vec_highest(l->isr);

	if (v < 0)
		return;
	vlapic_vec_clear(l->isr, (uint32_t)v);
	if (vlapic_vec_test(l->tmr, (uint32_t)v))
		fx->eoi_level_vector = v;
}

/* SVR write (SDM 10.9): clearing the enable bit masks every LVT entry. */
static void vlapic_write_svr(struct vlapic *l, uint32_t value)
{
	l->svr = value & VLAPIC_SVR_WRITABLE;
	if (!vlapic_sw_enabled(l)) {
		for (int i = 0; i < VLAPIC_NR_LVT; i++)
			l->lvt[i] |= VLAPIC_LVT_MASKED;
	}
}

/*
 * LVT write. While software-disabled the mask bit cannot be cleared
 * (SDM 10.4.7.2). For the timer entry, the reserved mode 3 leaves the mode
 * unchanged and a mode change disarms the timer (SDM 10.5.4.1): the
 * initial count and the deadline are cleared.
 */
static void vlapic_write_lvt(struct vlapic *l, int idx, uint32_t value,
			     uint64_t now_tsc)
{
	uint32_t old = l->lvt[idx];
	uint32_t val = value & vlapic_lvt_writable(idx);

	if (!vlapic_sw_enabled(l))
		val |= VLAPIC_LVT_MASKED;
	if (idx == VLAPIC_LVT_TIMER) {
		vlapic_timer_update(l, now_tsc);
		if (((val & VLAPIC_LVT_TIMER_MODE_MASK) >> VLAPIC_LVT_TIMER_MODE_SHIFT) ==
		    VLAPIC_TIMER_MODE_RESERVED)
			val = (val & ~VLAPIC_LVT_TIMER_MODE_MASK) |
			      (old & VLAPIC_LVT_TIMER_MODE_MASK);
		if ((val ^ old) & VLAPIC_LVT_TIMER_MODE_MASK) {
			vlapic_timer_disarm(l);
			l->timer_initial = 0;
			l->tsc_deadline = 0;
		}
	}
	l->lvt[idx] = val;
}

/* Divide configuration write: a running count continues at the new rate. */
static void vlapic_write_dcr(struct vlapic *l, uint32_t value, uint64_t now_tsc)
{
	uint32_t count;

	vlapic_timer_update(l, now_tsc);
	count = vlapic_timer_current(l, now_tsc);
	l->timer_dcr = value & VLAPIC_DCR_WRITABLE;
	if (count != 0)
		l->timer_next_tsc = now_tsc + (uint64_t)count * vlapic_timer_divide(l);
}

/* Initial count write: (re)start counting; ignored in TSC-deadline mode. */
static void vlapic_write_initial(struct vlapic *l, uint32_t value,
				 uint64_t now_tsc)
{
	if (vlapic_timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE)
		return;
	vlapic_timer_update(l, now_tsc);
	l->timer_initial = value;
	vlapic_timer_start(l, now_tsc);
}

/* ICR low write (SDM 10.6.1): describe the IPI for the caller to route. */
static void vlapic_write_icr_lo(struct vlapic *l, uint32_t value,
				struct vlapic_effects *fx)
{
	struct vlapic_ipi *ipi = &fx->ipi;
	uint8_t dm;

	l->icr_lo = value & VLAPIC_ICR_LO_WRITABLE;
	dm = (uint8_t)((value >> VLAPIC_ICR_DM_SHIFT) & VLAPIC_ICR_DM_MASK);
	ipi->vector = (uint8_t)(value & VLAPIC_VECTOR_MASK);
	ipi->delivery = dm;
	ipi->logical = (value & VLAPIC_ICR_LOGICAL) != 0;
	ipi->level_assert = (value & VLAPIC_ICR_LEVEL_ASSERT) != 0;
	ipi->shorthand = (uint8_t)((value >> VLAPIC_ICR_SH_SHIFT) & VLAPIC_ICR_SH_MASK);
	ipi->dest = l->icr_hi >> VLAPIC_ICR_DEST_SHIFT;
	ipi->valid = dm != VLAPIC_DM_RESERVED_3 && dm != VLAPIC_DM_RESERVED_7;
}

/*
 * Writes one 32-bit APIC register (SDM table 10-1). Read-only, reserved,
 * unknown and misaligned offsets are ignored. l: the APIC; offset: byte
 * offset in the page; value: the data; now_tsc: the current TSC (timer
 * registers); fx: cleared, then receives an IPI request (ICR low write) or
 * a retired level-triggered vector (EOI write). May be NULL if the caller
 * does not care (the effects are then lost).
 */
void vlapic_write(struct vlapic *l, uint32_t offset, uint32_t value,
		  uint64_t now_tsc, struct vlapic_effects *fx)
{
	struct vlapic_effects scratch;
	int lvt = vlapic_lvt_index(offset);

	if (!fx)
		fx = &scratch;
	memset(fx, 0, sizeof(*fx));
	fx->eoi_level_vector = -1;
	if (offset % VLAPIC_REG_ALIGN_BYTES != 0 || offset >= VLAPIC_PAGE_BYTES)
		return;
	if (lvt >= 0) {
		vlapic_write_lvt(l, lvt, value, now_tsc);
		return;
	}
	switch (offset) {
	case VLAPIC_REG_ID:
		l->id = value & VLAPIC_ID_MASK;
		break;
	case VLAPIC_REG_TPR:
		l->tpr = value & VLAPIC_TPR_MASK;
		break;
	case VLAPIC_REG_EOI:
		vlapic_eoi(l, fx);
		break;
	case VLAPIC_REG_LDR:
		l->ldr = value & VLAPIC_LDR_MASK;
		break;
	case VLAPIC_REG_DFR:
		l->dfr = (value & VLAPIC_DFR_MODEL_MASK) | VLAPIC_DFR_RESERVED_ONES;
		break;
	case VLAPIC_REG_SVR:
		vlapic_write_svr(l, value);
		break;
	case VLAPIC_REG_ICR_LO:
		vlapic_write_icr_lo(l, value, fx);
		break;
	case VLAPIC_REG_ICR_HI:
		l->icr_hi = value & VLAPIC_ICR_HI_WRITABLE;
		break;
	case VLAPIC_REG_TIMER_ICR:
		vlapic_write_initial(l, value, now_tsc);
		break;
	case VLAPIC_REG_TIMER_DCR:
		vlapic_write_dcr(l, value, now_tsc);
		break;
	default:
		break; /* ESR (always 0), read-only and reserved registers */
	}
}

/*
 * Accepts a fixed (or lowest-priority) interrupt routed to this APIC
 * (SDM 10.8.4): sets its IRR bit and records the trigger mode in TMR.
 * Vectors 0-15 are illegal and dropped, as are interrupts arriving while
 * the APIC is software-disabled. l: the APIC; vector: 0-255; level: true
 * for level-triggered (its EOI is then reported for the IOAPIC).
 */
void vlapic_accept(struct vlapic *l, uint8_t vector, bool level)
{
	vlapic_set_irr(l, vector, level);
}

/*
 * Returns the highest vector in IRR whose priority class is above the
 * PPR's class (SDM 10.8.3.1), or -1 if there is none or the APIC is
 * software-disabled. Does not change state. l: the APIC.
 */
int vlapic_pending(const struct vlapic *l)
{
	int v;

	if (!vlapic_sw_enabled(l))
		return -1;
	v = vlapic_vec_highest(l->irr);
	if (v < 0)
		return -1;
	if (((uint32_t)v & VLAPIC_PRIO_CLASS_MASK) <=
	    (vlapic_ppr(l) & VLAPIC_PRIO_CLASS_MASK))
		return -1;
	return v;
}

/*
 * Records that the CPU took `vector` (normally vlapic_pending()'s result):
 * moves it from IRR to ISR, which raises the PPR (SDM 10.8.4).
 * l: the APIC; vector: the vector injected.
 */
void vlapic_ack(struct vlapic *l, uint8_t vector)
{
	vlapic_vec_clear(l->irr, vector);
	vlapic_vec_set(l->isr, vector);
}

/*
 * Tells whether this APIC is a target of an 8-bit xAPIC destination
 * (SDM 10.6.2): physical mode compares with the APIC ID; logical mode uses
 * the LDR with the flat (DFR model 1111b: any common bit) or cluster
 * (0000b: same cluster in bits 7:4, a common bit in 3:0) model. 0xFF is a
 * broadcast in both modes. l: the APIC; dest: destination field;
 * logical: destination mode. Returns true on a match.
 */
bool vlapic_match_dest(const struct vlapic *l, uint32_t dest, bool logical)
{
	uint32_t ldr = l->ldr >> VLAPIC_LDR_SHIFT;

	dest &= 0xFFu;
	if (dest == VLAPIC_DEST_BROADCAST)
		return true;
	if (!logical)
		return dest == vlapic_apic_id(l);
	switch (l->dfr >> VLAPIC_DFR_MODEL_SHIFT) {
	case VLAPIC_DFR_MODEL_FLAT:
		return (ldr & dest) != 0;
	case VLAPIC_DFR_MODEL_CLUSTER:
		return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xFu) != 0;
	default:
		return false;
	}
}

_Static_assert(KEEL_STATE_LAPIC_LVTS == VLAPIC_NR_LVT &&
		       sizeof(((struct keel_state_lapic *)0)->isr) ==
			       VLAPIC_NR_VEC_WORDS * sizeof(uint32_t),
	       "the LAPIC record holds every LVT entry and vector");

#define VLAPIC_NS_PER_MS 1000000ull

/* TSC ticks in ns nanoseconds at khz kHz, for ns <= KEEL_STATE_LAPIC_MAX_NS
 * and khz below 2^24 (16 GHz): no product overflows 64 bits. */
static uint64_t vlapic_ns_to_ticks(uint64_t ns, uint64_t khz)
{
	if (khz >= (1ull << 24))
		khz = (1ull << 24) - 1;
	return (ns / VLAPIC_NS_PER_MS) * khz + (ns % VLAPIC_NS_PER_MS) * khz / VLAPIC_NS_PER_MS;
}

/* Nanoseconds in ticks TSC ticks at khz kHz, capped at
 * KEEL_STATE_LAPIC_MAX_NS (a deadline further away is as good as never). */
static uint64_t vlapic_ticks_to_ns(uint64_t ticks, uint64_t khz)
{
	uint64_t ms, ns;

	if (khz == 0)
		return 0; /* no rate known: the timer is due */
	ms = ticks / khz;
	if (ms > KEEL_STATE_LAPIC_MAX_NS / VLAPIC_NS_PER_MS)
		return KEEL_STATE_LAPIC_MAX_NS;
	ns = ms * VLAPIC_NS_PER_MS + (ticks % khz) * VLAPIC_NS_PER_MS / khz;
	return ns < KEEL_STATE_LAPIC_MAX_NS ? ns : KEEL_STATE_LAPIC_MAX_NS;
}

/*
 * Copy l's state at now_tsc into its save record (docs/save-restore.md):
 * the registers, and the timer as the time left until its next expiry (0
 * if it is due). The caller fires due timers first (vlapic_timer_update),
 * so that an expiry already passed is in IRR rather than lost.
 */
void vlapic_save(const struct vlapic *l, uint64_t now_tsc, struct keel_state_lapic *st)
{
	memset(st, 0, sizeof(*st));
	st->id = l->id;
	st->tpr = l->tpr;
	st->ldr = l->ldr;
	st->dfr = l->dfr;
	st->svr = l->svr;
	memcpy(st->isr, l->isr, sizeof(st->isr));
	memcpy(st->tmr, l->tmr, sizeof(st->tmr));
	memcpy(st->irr, l->irr, sizeof(st->irr));
	st->icr_lo = l->icr_lo;
	st->icr_hi = l->icr_hi;
	memcpy(st->lvt, l->lvt, sizeof(st->lvt));
	st->timer_initial = l->timer_initial;
	st->timer_dcr = l->timer_dcr;
	st->timer_armed = l->timer_armed;
	if (l->timer_armed && l->timer_next_tsc > now_tsc)
		st->timer_left_ns = vlapic_ticks_to_ns(l->timer_next_tsc - now_tsc, l->tsc_khz);
}

/* True if every register of st holds only bits a guest can set. */
static bool vlapic_state_regs_ok(const struct keel_state_lapic *st)
{
	uint32_t mode = (st->lvt[VLAPIC_LVT_TIMER] & VLAPIC_LVT_TIMER_MODE_MASK) >>
			VLAPIC_LVT_TIMER_MODE_SHIFT;

	if ((st->id & ~VLAPIC_ID_MASK) || (st->tpr & ~VLAPIC_TPR_MASK) ||
	    (st->ldr & ~VLAPIC_LDR_MASK) ||
	    (st->dfr & VLAPIC_DFR_RESERVED_ONES) != VLAPIC_DFR_RESERVED_ONES ||
	    (st->svr & ~VLAPIC_SVR_WRITABLE) || (st->icr_lo & ~VLAPIC_ICR_LO_WRITABLE) ||
	    (st->icr_hi & ~VLAPIC_ICR_HI_WRITABLE) || (st->timer_dcr & ~VLAPIC_DCR_WRITABLE) ||
	    mode == VLAPIC_TIMER_MODE_RESERVED || st->reserved)
		return false;
	/* vectors 0-15 are illegal (SDM 10.5.2): never requested or in service */
	if ((st->isr[0] | st->irr[0] | st->tmr[0]) & 0xFFFFu)
		return false;
	for (int i = 0; i < VLAPIC_NR_LVT; i++)
		if (st->lvt[i] & ~vlapic_lvt_writable(i))
			return false;
	return true;
}

/* True if st's timer fields describe a timer a guest could have set. */
static bool vlapic_state_timer_ok(const struct keel_state_lapic *st)
{
	uint32_t mode = (st->lvt[VLAPIC_LVT_TIMER] & VLAPIC_LVT_TIMER_MODE_MASK) >>
			VLAPIC_LVT_TIMER_MODE_SHIFT;

	if (st->timer_armed > 1 || st->timer_left_ns > KEEL_STATE_LAPIC_MAX_NS)
		return false;
	if (!st->timer_armed)
		return st->timer_left_ns == 0;
	if (mode == VLAPIC_TIMER_TSC_DEADLINE)
		return st->timer_initial == 0;
	return st->timer_initial != 0; /* a zero count stops the timer */
}

/*
 * Replace l's state with the record st (which may come from a file) at
 * now_tsc, keeping l's TSC rate: every register is checked against the
 * bits a guest can write, no vector below 16 may be pending or in
 * service, and the timer must be one a guest could have armed. The timer
 * runs on with the time it had left; in TSC-deadline mode the deadline
 * MSR then reads that new expiry. Returns 0, or -EINVAL with l unchanged.
 */
int vlapic_load(struct vlapic *l, const struct keel_state_lapic *st, uint64_t now_tsc)
{
	uint32_t mode = (st->lvt[VLAPIC_LVT_TIMER] & VLAPIC_LVT_TIMER_MODE_MASK) >>
			VLAPIC_LVT_TIMER_MODE_SHIFT;

	if (!vlapic_state_regs_ok(st) || !vlapic_state_timer_ok(st))
		return -EINVAL;
	l->id = st->id;
	l->tpr = st->tpr;
	l->ldr = st->ldr;
	l->dfr = st->dfr;
	l->svr = st->svr;
	memcpy(l->isr, st->isr, sizeof(l->isr));
	memcpy(l->tmr, st->tmr, sizeof(l->tmr));
	memcpy(l->irr, st->irr, sizeof(l->irr));
	l->icr_lo = st->icr_lo;
	l->icr_hi = st->icr_hi;
	memcpy(l->lvt, st->lvt, sizeof(l->lvt));
	l->timer_initial = st->timer_initial;
	l->timer_dcr = st->timer_dcr;
	l->timer_armed = st->timer_armed;
	l->timer_next_tsc = st->timer_armed ?
		now_tsc + vlapic_ns_to_ticks(st->timer_left_ns, l->tsc_khz) : 0;
	l->tsc_deadline = st->timer_armed && mode == VLAPIC_TIMER_TSC_DEADLINE ?
		l->timer_next_tsc : 0;
	return 0;
}
