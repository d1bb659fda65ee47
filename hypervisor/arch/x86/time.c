/*
 * Time for the hypervisor: the TSC frequency, measured once at boot against
 * PIT channel 2 (the i8254 gate on port 0x61, as Linux's pit_calibrate_tsc
 * does), and helpers built on it.
 */
#include <keel/arch.h>
#include <asm/x86.h>

#define PIT_HZ 1193182u
#define PIT_CAL_MS 20u
#define PORT_PIT_CH2 0x42
#define PORT_PIT_MODE 0x43
#define PORT_KBC_B 0x61
#define KBC_B_GATE2 0x01
#define KBC_B_SPEAKER 0x02
#define KBC_B_OUT2 0x20
#define FALLBACK_TSC_KHZ 2000000u

static uint64_t tsc_khz_value = FALLBACK_TSC_KHZ;
static uint64_t tsc_at_boot;

/* Measure the TSC frequency in kHz against the PIT (takes PIT_CAL_MS). */
uint64_t tsc_calibrate_khz(void)
{
	uint32_t latch = PIT_HZ / (1000 / PIT_CAL_MS);
	uint64_t t0, t1, spins = 0;

	outb(PORT_KBC_B, (uint8_t)((inb(PORT_KBC_B) & ~KBC_B_SPEAKER) | KBC_B_GATE2));
	outb(PORT_PIT_MODE, 0xB0); /* channel 2, lobyte/hibyte, mode 0 */
	outb(PORT_PIT_CH2, (uint8_t)latch);
	outb(PORT_PIT_CH2, (uint8_t)(latch >> 8));
	t0 = rdtsc();
	while (!(inb(PORT_KBC_B) & KBC_B_OUT2))
		if (++spins > 100000000ull)
			return 0;
	t1 = rdtsc();
	return (t1 - t0) / PIT_CAL_MS;
}

/* Start the clock: tsc_khz is the measured frequency (0 = unknown). */
void time_init(uint64_t tsc_khz)
{
	if (tsc_khz)
		tsc_khz_value = tsc_khz;
	tsc_at_boot = rdtsc();
}

/* The TSC frequency in kHz used by the hypervisor. */
uint64_t time_tsc_khz(void)
{
	return tsc_khz_value;
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
