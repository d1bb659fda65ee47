/*
 * The physical local APIC in xAPIC mode, as the hypervisor uses it on its
 * own CPUs (AMD APM vol. 2, 16.3-16.5; Intel SDM vol. 3A, 10.4-10.6): the
 * id, the spurious-interrupt register that software-enables it, EOI, and
 * the interrupt command register for INIT and start-up IPIs. Dom0's CPU
 * keeps its LAPIC to itself; the hypervisor only sends INIT/SIPI from it
 * before dom0 starts.
 */
#include <asm/lapic.h>
#include <asm/x86.h>
#include <keel/arch.h>
#include <keel/cpu.h>
#include <keel/errno.h>
#include <keel/log.h>

#define LAPIC_REG_ID 0x20
#define LAPIC_REG_EOI 0xB0
#define LAPIC_REG_SVR 0xF0
#define LAPIC_REG_ICR_LO 0x300
#define LAPIC_REG_ICR_HI 0x310
#define LAPIC_SVR_ENABLE 0x100
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_INIT_ASSERT 0x00004500u /* INIT, level assert */
#define ICR_STARTUP 0x00004600u     /* start-up IPI, vector in bits 7:0 */
#define ICR_SEND_TIMEOUT_US 100000u

static volatile uint32_t *lapic_reg(uint32_t off)
{
	return (volatile uint32_t *)(uintptr_t)(LAPIC_DEFAULT_PA + off);
}

/* Read the calling CPU's xAPIC register at offset off (for dom0's trapped
 * accesses, common/dom0.c). */
uint32_t arch_lapic_read(uint32_t off)
{
	return *lapic_reg(off & 0xFF0);
}

/* Write val to the calling CPU's xAPIC register at offset off. */
void arch_lapic_write(uint32_t off, uint32_t val)
{
	*lapic_reg(off & 0xFF0) = val;
}

/* The physical address of the local APICs' xAPIC page. */
uint64_t arch_lapic_pa(void)
{
	return LAPIC_DEFAULT_PA;
}

/* Return the calling CPU's local APIC id. */
uint32_t lapic_id(void)
{
	return *lapic_reg(LAPIC_REG_ID) >> 24;
}

/* Software-enable the calling CPU's LAPIC with the spurious vector. */
void lapic_enable(void)
{
	*lapic_reg(LAPIC_REG_SVR) = LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR;
}

/* Signal end of interrupt to the calling CPU's LAPIC. */
void lapic_eoi(void)
{
	*lapic_reg(LAPIC_REG_EOI) = 0;
}

static int lapic_send_icr(uint32_t apic_id, uint32_t lo)
{
	uint32_t waited;

	*lapic_reg(LAPIC_REG_ICR_HI) = apic_id << 24;
	*lapic_reg(LAPIC_REG_ICR_LO) = lo;
	for (waited = 0; *lapic_reg(LAPIC_REG_ICR_LO) & ICR_DELIVERY_PENDING; waited++) {
		if (waited >= ICR_SEND_TIMEOUT_US)
			return -EBUSY;
		udelay(1);
	}
	return 0;
}

/* Send INIT to the CPU with apic_id. 0 or -EBUSY if it was not accepted. */
int lapic_send_init(uint32_t apic_id)
{
	return lapic_send_icr(apic_id, ICR_INIT_ASSERT);
}

/* Send a start-up IPI that starts apic_id at vector << 12. 0 or -EBUSY. */
int lapic_send_sipi(uint32_t apic_id, uint32_t vector)
{
	return lapic_send_icr(apic_id, ICR_STARTUP | (vector & 0xff));
}

#define LAPIC_REG_LVT_TIMER 0x320
#define LAPIC_REG_TIMER_INIT 0x380
#define LAPIC_REG_TIMER_CUR 0x390
#define LAPIC_REG_TIMER_DIV 0x3E0
#define LAPIC_TIMER_DIV_1 0xB
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_CAL_US 10000u
#define ICR_FIXED_ASSERT 0x00004000u
#define ICR_NMI_ASSERT 0x00004400u

static uint64_t lapic_timer_khz;

/*
 * Measure the LAPIC timer's input clock against the TSC (divide by 1) on
 * the calling CPU, then stop the timer again. All CPUs share the bus
 * clock, so one measurement serves every CPU.
 */
void lapic_timer_calibrate(void)
{
	uint32_t left;

	*lapic_reg(LAPIC_REG_LVT_TIMER) = LAPIC_LVT_MASKED | LAPIC_TIMER_VECTOR;
	*lapic_reg(LAPIC_REG_TIMER_DIV) = LAPIC_TIMER_DIV_1;
	*lapic_reg(LAPIC_REG_TIMER_INIT) = 0xFFFFFFFFu;
	udelay(LAPIC_CAL_US);
	left = *lapic_reg(LAPIC_REG_TIMER_CUR);
	*lapic_reg(LAPIC_REG_TIMER_INIT) = 0;
	lapic_timer_khz = (0xFFFFFFFFull - left) * 1000 / LAPIC_CAL_US;
	if (lapic_timer_khz == 0)
		lapic_timer_khz = 1000000; /* 1 GHz, if the timer did not run */
}

/* The LAPIC timer's input clock in kHz, as calibrated. */
uint64_t lapic_timer_rate_khz(void)
{
	return lapic_timer_khz;
}

/* Per CPU: the deadline its timer counts down to (0: none pending), and
 * whether its divider and LVT are set for lapic_timer_arm. */
static uint64_t armed_tsc[MAX_CPUS];
static bool timer_set_up[MAX_CPUS];

/* The calling CPU's timer interrupt arrived: nothing counts down now. */
void lapic_timer_fired(void)
{
	armed_tsc[this_cpu()->index] = 0;
}

/* Arm the calling CPU's LAPIC timer to fire LAPIC_TIMER_VECTOR once at TSC
 * value deadline_tsc (at once if it has passed). */
void lapic_timer_arm(uint64_t deadline_tsc)
{
	uint32_t cpu = this_cpu()->index;
	uint64_t now, ticks = 1;

	/* Every guest entry arms the timer, mostly for the same end of slice;
	 * each LAPIC register write costs (an MMIO access to an emulated
	 * APIC under QEMU TCG took about 4 us). A countdown still running
	 * towards this deadline needs no new one (Intel SDM vol. 3A, 10.5.4:
	 * one-shot mode fires once when the current count reaches 0). */
	if (deadline_tsc && deadline_tsc == armed_tsc[cpu])
		return;
	if (!timer_set_up[cpu]) {
		*lapic_reg(LAPIC_REG_TIMER_DIV) = LAPIC_TIMER_DIV_1;
		*lapic_reg(LAPIC_REG_LVT_TIMER) = LAPIC_TIMER_VECTOR; /* one-shot */
		timer_set_up[cpu] = true;
	}
	now = rdtsc();
	if (deadline_tsc > now)
		ticks = (deadline_tsc - now) * lapic_timer_khz / time_tsc_khz();
	if (ticks == 0)
		ticks = 1;
	if (ticks > 0xFFFFFFFFull)
		ticks = 0xFFFFFFFFull;
	armed_tsc[cpu] = deadline_tsc;
	*lapic_reg(LAPIC_REG_TIMER_INIT) = (uint32_t)ticks;
}

/* Send ICR low word lo to apic_id. ICR high is restored, since on CPU 0
 * the LAPIC is dom0's and this runs in the middle of dom0's work. */
static void lapic_send_restoring(uint32_t apic_id, uint32_t lo)
{
	uint32_t hi = *lapic_reg(LAPIC_REG_ICR_HI);

	lapic_send_icr(apic_id, lo);
	*lapic_reg(LAPIC_REG_ICR_HI) = hi;
}

/* Send ICR low word lo (any mode, physical destination or a shorthand)
 * to apic_id through the calling CPU's xAPIC, waiting until it is
 * accepted; the ICR high word is kept (dom0 may own this LAPIC). */
void arch_lapic_send(uint32_t apic_id, uint32_t lo)
{
	lapic_send_restoring(apic_id, lo);
}

/* Send a fixed IPI with vector to apic_id. */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	lapic_send_restoring(apic_id, ICR_FIXED_ASSERT | vector);
}

/* Send an NMI to apic_id (delivery mode 100b, AMD APM vol. 2, 16.5). */
void lapic_send_nmi(uint32_t apic_id)
{
	lapic_send_restoring(apic_id, ICR_NMI_ASSERT);
}

#define LAPIC_REG_TPR 0x80
#define LAPIC_REG_PPR 0xA0
#define LAPIC_REG_ISR0 0x100
#define LAPIC_REG_IRR0 0x200
#define LAPIC_REG_STRIDE 0x10
#define LAPIC_VECTOR_WORDS 8

/* The highest vector set in the 256-bit register bank at first (ISR, IRR),
 * or -1. */
static int32_t lapic_highest(uint32_t first)
{
	int32_t w, b;

	for (w = LAPIC_VECTOR_WORDS - 1; w >= 0; w--) {
		uint32_t bits = *lapic_reg(first + (uint32_t)w * LAPIC_REG_STRIDE);

		for (b = 31; bits && b >= 0; b--)
			if (bits & (1u << b))
				return w * 32 + b;
	}
	return -1;
}

/* True if vector is in service at the calling CPU's LAPIC: the CPU took it
 * as an interrupt, not as an exception (the ISR, AMD APM vol. 2, 16.6.2). */
bool lapic_in_service(uint32_t vector)
{
	uint32_t bits = *lapic_reg(LAPIC_REG_ISR0 + (vector / 32) * LAPIC_REG_STRIDE);

	return vector < 256 && (bits >> (vector % 32)) & 1;
}

/* Log the calling CPU's local APIC interrupt state: the highest vector in
 * service and requested, TPR, PPR and the timer (for the watchdog). */
void lapic_dump_local(void)
{
	log_err("  LAPIC %u: ISR top %d IRR top %d TPR %#x PPR %#x timer LVT %#x count %u\n",
		lapic_id(), lapic_highest(LAPIC_REG_ISR0), lapic_highest(LAPIC_REG_IRR0),
		*lapic_reg(LAPIC_REG_TPR), *lapic_reg(LAPIC_REG_PPR),
		*lapic_reg(LAPIC_REG_LVT_TIMER), *lapic_reg(LAPIC_REG_TIMER_CUR));
}
