/*
 * Time for the hypervisor: the TSC frequency, measured once at boot against
 * PIT channel 2 (the i8254 gate on port 0x61, as Linux's pit_calibrate_tsc
 * does), the wall clock, read once at boot from the machine's CMOS RTC
 * (before dom0 owns it) and carried on by the TSC, and helpers built on
 * them.
 */
#include <keel/arch.h>
#include <keel/mc146818.h>
#include <keel/log.h>
#include <keel/string.h>
#include <asm/x86.h>

#define PIT_HZ 1193182u
#define PIT_CAL_TICKS 59659u      /* 50 ms of PIT_HZ (the counter holds 65535) */
#define PIT_CAL_TRIES 5u
#define PIT_CAL_GOOD_PPM 50u
#define PIT_CAL_SPINS 100000000ull
#define PORT_PIT_CH2 0x42
#define PORT_PIT_MODE 0x43
#define PORT_KBC_B 0x61
#define KBC_B_GATE2 0x01
#define KBC_B_SPEAKER 0x02
#define KBC_B_OUT2 0x20
#define FALLBACK_TSC_KHZ 2000000u

#define PORT_RTC_INDEX 0x70
#define PORT_RTC_DATA 0x71
#define RTC_NMI_OFF 0x80 /* index bit 7: keep NMIs masked while reading */
#define RTC_READ_TRIES 10
#define RTC_UIP_SPINS 1000000u

static uint64_t tsc_khz_value = FALLBACK_TSC_KHZ;
static bool tsc_khz_measured;
static uint64_t tsc_at_boot;
static int64_t wall_at_boot_s; /* wall clock at time_init(), seconds since 1970 */

/* One measurement of the TSC against PIT_CAL_TICKS of PIT channel 2: the
 * TSC ticks between the count's start and the output's rise, and how
 * uncertain that is. */
struct tsc_cal {
	uint64_t ticks;
	uint64_t err_ticks; /* the true span is within ticks +- err_ticks */
};

/*
 * Measure once, each end bracketed by TSC reads: the count starts during
 * the write of its high byte, and the output rose after the last read
 * that saw it low began and before the first that saw it high ended (the
 * i8254's mode 0; Linux's quick_pit_calibrate bounds its error the same
 * way). A preemption or a slow port read widens the bracket, not the
 * answer. Returns 0, or -1 if the output never rose.
 */
static int tsc_cal_once(struct tsc_cal *c)
{
	uint64_t start_lo, start_hi, low_at, before, after, spins = 0;

	outb(PORT_KBC_B, (uint8_t)((inb(PORT_KBC_B) & ~KBC_B_SPEAKER) | KBC_B_GATE2));
	outb(PORT_PIT_MODE, 0xB0); /* channel 2, lobyte/hibyte, mode 0 */
	outb(PORT_PIT_CH2, (uint8_t)PIT_CAL_TICKS);
	start_lo = rdtsc();
	outb(PORT_PIT_CH2, (uint8_t)(PIT_CAL_TICKS >> 8));
	start_hi = rdtsc();
	low_at = start_lo;
	for (;;) {
		before = rdtsc();
		if (inb(PORT_KBC_B) & KBC_B_OUT2)
			break;
		low_at = before;
		if (++spins > PIT_CAL_SPINS)
			return -1;
	}
	after = rdtsc();
	c->ticks = (low_at + after) / 2 - (start_lo + start_hi) / 2;
	c->err_ticks = ((after - low_at) + (start_hi - start_lo)) / 2;
	return 0;
}

/*
 * Measure the TSC frequency in kHz against the PIT: up to PIT_CAL_TRIES
 * windows of 50 ms, keeping the one with the narrowest bounds, and
 * stopping early once they are within PIT_CAL_GOOD_PPM. Two machines
 * whose TSCs run at one rate must measure it within a few hundred ppm of
 * each other, since a guest may move between them only then
 * (common/tsc_offset.c). Returns kHz, or 0 if the PIT never answered.
 */
uint64_t tsc_calibrate_khz(void)
{
	struct tsc_cal best = { 0, 0 }, c;
	uint32_t tries;

	for (tries = 1; tries <= PIT_CAL_TRIES; tries++) {
		if (tsc_cal_once(&c) || c.ticks == 0)
			continue;
		if (best.ticks == 0 || c.err_ticks * best.ticks < best.err_ticks * c.ticks)
			best = c;
		if (best.err_ticks * 1000000ull <= best.ticks * PIT_CAL_GOOD_PPM)
			break;
	}
	if (best.ticks == 0)
		return 0;
	log_info("TSC measured against the PIT: %llu kHz, within %llu ppm (%u window(s))\n",
		 (unsigned long long)(best.ticks * PIT_HZ / (PIT_CAL_TICKS * 1000ull)),
		 (unsigned long long)(best.err_ticks * 1000000ull / best.ticks),
		 tries > PIT_CAL_TRIES ? PIT_CAL_TRIES : tries);
	return best.ticks * PIT_HZ / (PIT_CAL_TICKS * 1000ull);
}

/* Start the clock: tsc_khz is the measured frequency (0 = unknown). */
void time_init(uint64_t tsc_khz)
{
	if (tsc_khz) {
		tsc_khz_value = tsc_khz;
		tsc_khz_measured = true;
	}
	tsc_at_boot = rdtsc();
}

/* The TSC frequency in kHz used by the hypervisor. */
uint64_t time_tsc_khz(void)
{
	return tsc_khz_value;
}

/* The TSC frequency in kHz as measured at boot, or 0 if the measurement
 * failed (then time_tsc_khz() is a guess). */
uint64_t time_tsc_khz_measured(void)
{
	return tsc_khz_measured ? tsc_khz_value : 0;
}

/* Convert a count of TSC ticks to nanoseconds (without overflow for any
 * span the TSC can count). */
uint64_t time_tsc_to_ns(uint64_t ticks)
{
	return (ticks / tsc_khz_value) * 1000000ull +
	       ((ticks % tsc_khz_value) * 1000000ull) / tsc_khz_value;
}

/* Nanoseconds since time_init(). */
uint64_t time_now_ns(void)
{
	return time_tsc_to_ns(rdtsc() - tsc_at_boot);
}

/* Busy-wait for us microseconds. */
void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_khz_value / 1000;

	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}

/* Whole seconds since time_init(). */
static int64_t uptime_s(void)
{
	return (int64_t)(time_now_ns() / 1000000000ull);
}

static uint8_t rtc_read_reg(uint8_t reg)
{
	outb(PORT_RTC_INDEX, (uint8_t)(reg | RTC_NMI_OFF));
	return inb(PORT_RTC_DATA);
}

/* Read the RTC's registers 0x00-0x0B and the century register between
 * updates: wait for UIP to clear, read, and read again until two reads
 * agree (MC146818A datasheet, "Update cycle"). Returns 0 or -1. */
static int rtc_read_stable(uint8_t regs[MC146818_REG_B + 1], uint8_t *century)
{
	uint8_t again[MC146818_REG_B + 1];
	uint32_t tries, spins, i;

	for (tries = 0; tries < RTC_READ_TRIES; tries++) {
		for (spins = 0; rtc_read_reg(MC146818_REG_A) & MC146818_A_UIP; spins++)
			if (spins > RTC_UIP_SPINS)
				return -1;
		for (i = 0; i <= MC146818_REG_B; i++)
			regs[i] = rtc_read_reg((uint8_t)i);
		*century = rtc_read_reg(MC146818_CENTURY);
		for (i = 0; i <= MC146818_REG_B; i++)
			again[i] = rtc_read_reg((uint8_t)i);
		if (memcmp(regs, again, sizeof(again)) == 0)
			return 0;
	}
	return -1;
}

/* Read the wall clock from the machine's RTC (UTC, as Linux and QEMU
 * keep it); 0 (1970) if it cannot be read. Call once, after time_init(). */
void time_wall_init(void)
{
	uint8_t regs[MC146818_REG_B + 1], century;
	struct rtc_date t;
	int64_t s;
	int rc = rtc_read_stable(regs, &century);

	/* Leave the index at register D with NMIs unmasked, as firmware does. */
	outb(PORT_RTC_INDEX, MC146818_REG_D);
	if (rc || mc146818_regs_to_unix(regs, century, &s)) {
		log_warn("the machine's RTC could not be read: guests' clocks start at 1970\n");
		return;
	}
	wall_at_boot_s = s - uptime_s();
	rtc_date_from_unix(s, &t);
	log_info("wall clock: %04d-%02u-%02u %02u:%02u:%02u UTC (the machine's RTC)\n",
		 (int)t.year, t.mon, t.mday, t.hour, t.min, t.sec);
}

/* The wall clock now, in seconds since 1970-01-01 00:00 UTC. */
int64_t time_wall_s(void)
{
	return wall_at_boot_s + uptime_s();
}
