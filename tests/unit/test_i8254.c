/*
 * Unit tests for hypervisor/devices/i8254.c: memtest86+'s calibration
 * (mode 0, 50 ms, port B's output bit), the counter read through a latch
 * command, the read-back command and byte by byte, the gate stopping and
 * restarting the count, the periodic modes, port B's bits, channels 0 and
 * 1 left alone, and the tick arithmetic over intervals of years.
 */
#include "../../hypervisor/devices/i8254.c"

#include <stdio.h>

#include "harness.h"

#define KHZ 2000000ull                    /* a 2 GHz TSC */
#define TSC_PER_MS (KHZ)
#define T0 1000000000000ull               /* any start */
#define PIT_TICKS_50MS 59659u

static struct i8254 pit;

static void out(uint16_t port, uint8_t v, uint64_t t)
{
	i8254_write(&pit, port, v, t, KHZ);
}

static uint8_t in(uint16_t port, uint64_t t)
{
	return i8254_read(&pit, port, t, KHZ);
}

static bool out2_at(uint64_t t)
{
	return in(I8254_PORT_SYS_B, t) & I8254_SYSB_OUT2;
}

/* memtest86+'s correct_tsc(): gate up, speaker off, channel 2 in mode 0
 * with lobyte/hibyte access, 59659 ticks (50 ms), then poll port B. */
static void test_memtest_calibration(void)
{
	i8254_reset(&pit);
	out(I8254_PORT_SYS_B, (uint8_t)((in(I8254_PORT_SYS_B, T0) & ~0x02) | 0x01), T0);
	out(I8254_PORT_CONTROL, 0xb0, T0);
	CHECK(!out2_at(T0));                       /* mode 0: OUT low from the control word */
	out(I8254_PORT_COUNTER2, PIT_TICKS_50MS & 0xff, T0);
	CHECK(!out2_at(T0));
	out(I8254_PORT_COUNTER2, PIT_TICKS_50MS >> 8, T0);
	CHECK(!out2_at(T0 + 1));
	CHECK(!out2_at(T0 + 49 * TSC_PER_MS));
	CHECK(!out2_at(T0 + 49990 * TSC_PER_MS / 1000));
	CHECK(out2_at(T0 + 50001 * TSC_PER_MS / 1000));
	CHECK(out2_at(T0 + 3600000ull * TSC_PER_MS)); /* and stays high */
	/* loading the count again starts over */
	out(I8254_PORT_COUNTER2, PIT_TICKS_50MS & 0xff, T0 + 100 * TSC_PER_MS);
	out(I8254_PORT_COUNTER2, PIT_TICKS_50MS >> 8, T0 + 100 * TSC_PER_MS);
	CHECK(!out2_at(T0 + 120 * TSC_PER_MS));
	CHECK(out2_at(T0 + 151 * TSC_PER_MS));
}

static uint16_t read_count(uint64_t t)
{
	uint8_t lo = in(I8254_PORT_COUNTER2, t);

	return (uint16_t)(lo | in(I8254_PORT_COUNTER2, t + 12345) << 8);
}

/* The counter counts down at 1.193182 MHz; a latch command freezes what
 * the next two reads return. */
static void test_counter_and_latch(void)
{
	uint64_t t1 = T0 + 10 * TSC_PER_MS; /* 11931.82 ticks later */

	i8254_reset(&pit);
	out(I8254_PORT_SYS_B, I8254_SYSB_GATE2, T0);
	out(I8254_PORT_CONTROL, 0xb0, T0);
	out(I8254_PORT_COUNTER2, 0xff, T0);
	out(I8254_PORT_COUNTER2, 0xff, T0);
	CHECK_EQ_INT(read_count(T0), 0xffff);
	out(I8254_PORT_CONTROL, 0x80, t1);          /* latch channel 2 */
	out(I8254_PORT_CONTROL, 0x80, t1 + TSC_PER_MS); /* a second latch is ignored */
	CHECK_EQ_INT(read_count(t1 + 5 * TSC_PER_MS), 0xffff - 11931);
	/* after the latched value is read, reads follow the count again */
	CHECK_EQ_INT(read_count(T0 + 20 * TSC_PER_MS), 0xffff - 23863);
	/* the read-back command (11 0 1 100 0: latch count of counter 2) */
	out(I8254_PORT_CONTROL, 0xd8, t1);
	CHECK_EQ_INT(read_count(T0 + 30 * TSC_PER_MS), 0xffff - 11931);
	/* past zero, mode 0 wraps to 0xffff and goes on */
	out(I8254_PORT_CONTROL, 0x80, T0 + 65535ull * TSC_PER_MS * 1000 / I8254_HZ + 500);
	CHECK_EQ_INT(read_count(T0 + 40 * TSC_PER_MS), 0);
	out(I8254_PORT_CONTROL, 0x80, T0 + 65536ull * TSC_PER_MS * 1000 / I8254_HZ + 500);
	CHECK_EQ_INT(read_count(T0 + 40 * TSC_PER_MS), 0xffff);
	CHECK(out2_at(T0 + 56 * TSC_PER_MS));
}

/* Linux's quick PIT calibration reads only the high byte (access mode 2). */
static void test_high_byte_access(void)
{
	uint8_t a, b;

	i8254_reset(&pit);
	out(I8254_PORT_SYS_B, I8254_SYSB_GATE2, T0);
	out(I8254_PORT_CONTROL, 0xa0, T0);          /* channel 2, high byte only, mode 0 */
	out(I8254_PORT_COUNTER2, 0xff, T0);         /* count 0xff00 */
	a = in(I8254_PORT_COUNTER2, T0 + TSC_PER_MS);
	b = in(I8254_PORT_COUNTER2, T0 + 2 * TSC_PER_MS);
	CHECK_EQ_INT(a, (0xff00 - 1193) >> 8);
	CHECK_EQ_INT(b, (0xff00 - 2386) >> 8);
	out(I8254_PORT_CONTROL, 0x90, T0);          /* low byte only */
	out(I8254_PORT_COUNTER2, 0x40, T0);
	CHECK_EQ_INT(in(I8254_PORT_COUNTER2, T0), 0x40);
	CHECK_EQ_INT(in(I8254_PORT_COUNTER2, T0 + 1), 0x40);
}

/* The gate low stops the count where it is (mode 0) and OUT with it. */
static void test_gate(void)
{
	i8254_reset(&pit);
	out(I8254_PORT_CONTROL, 0xb0, T0);
	out(I8254_PORT_COUNTER2, PIT_TICKS_50MS & 0xff, T0);
	out(I8254_PORT_COUNTER2, PIT_TICKS_50MS >> 8, T0);
	CHECK(!out2_at(T0 + 100 * TSC_PER_MS));     /* the gate is still low: no count */
	CHECK_EQ_INT(read_count(T0 + 100 * TSC_PER_MS), PIT_TICKS_50MS);
	out(I8254_PORT_SYS_B, I8254_SYSB_GATE2, T0 + 100 * TSC_PER_MS);
	out(I8254_PORT_SYS_B, 0, T0 + 130 * TSC_PER_MS);   /* 30 ms counted */
	CHECK(!out2_at(T0 + 500 * TSC_PER_MS));
	out(I8254_PORT_SYS_B, I8254_SYSB_GATE2, T0 + 600 * TSC_PER_MS);
	CHECK(!out2_at(T0 + 619 * TSC_PER_MS));     /* 49 ms */
	CHECK(out2_at(T0 + 621 * TSC_PER_MS));      /* 51 ms */
}

/* Mode 2 (rate generator) and mode 3 (square wave) repeat every count. */
static void test_periodic(void)
{
	uint32_t i, high = 0, low = 0;
	uint64_t tick = TSC_PER_MS * 1000 / I8254_HZ; /* TSC per PIT tick, about */

	i8254_reset(&pit);
	out(I8254_PORT_SYS_B, I8254_SYSB_GATE2 | I8254_SYSB_SPEAKER, T0);
	out(I8254_PORT_CONTROL, 0xb6, T0);          /* mode 3, the speaker's beep */
	out(I8254_PORT_COUNTER2, 100, T0);
	out(I8254_PORT_COUNTER2, 0, T0);
	for (i = 0; i < 1000; i++) {
		if (out2_at(T0 + i * tick + tick / 2))
			high++;
		else
			low++;
	}
	CHECK(high >= 490 && high <= 510 && low >= 490 && low <= 510);
	CHECK(in(I8254_PORT_COUNTER2, T0 + 250 * tick + tick / 2) <= 100);
	out(I8254_PORT_CONTROL, 0xb4, T0);          /* mode 2 */
	out(I8254_PORT_COUNTER2, 10, T0);
	out(I8254_PORT_COUNTER2, 0, T0);
	for (high = 0, i = 0; i < 100; i++)
		high += out2_at(T0 + i * tick + tick / 2);
	CHECK_EQ_INT(high, 90);                       /* low one tick in ten */
	out(I8254_PORT_CONTROL, 0xbc, T0);          /* mode 6 is mode 2 */
	CHECK_EQ_INT(pit.mode, 2);
	out(I8254_PORT_SYS_B, I8254_SYSB_SPEAKER, T0);
	CHECK(out2_at(T0 + 5 * tick));              /* gate low: OUT high in mode 2 */
}

/* Port B keeps its two writable bits, the refresh bit toggles; channels
 * 0 and 1 and the control port read 0 and ignore writes. */
static void test_ports(void)
{
	uint8_t a, b;

	i8254_reset(&pit);
	out(I8254_PORT_SYS_B, 0xff, T0);
	a = in(I8254_PORT_SYS_B, T0);
	b = in(I8254_PORT_SYS_B, T0);
	CHECK_EQ_INT(a & 0x03, 0x03);
	CHECK_EQ_INT((a ^ b) & I8254_SYSB_REFRESH, I8254_SYSB_REFRESH);
	CHECK_EQ_INT(a & 0xcc, 0);
	out(0x40, 0x12, T0);
	out(0x41, 0x34, T0);
	out(I8254_PORT_CONTROL, 0x30, T0);          /* channel 0, mode 0 */
	out(I8254_PORT_CONTROL, 0x70, T0);          /* channel 1 */
	CHECK_EQ_INT(in(0x40, T0), 0);
	CHECK_EQ_INT(in(0x41, T0), 0);
	CHECK_EQ_INT(in(I8254_PORT_CONTROL, T0), 0);
	CHECK_EQ_INT(pit.loaded, 0);
	CHECK_EQ_INT(pit.mode, 0);
}

/* Exact tick counts over long intervals and with a TSC read backwards. */
static void test_ticks(void)
{
	CHECK_EQ_U64(ticks_between(0, KHZ * 1000, KHZ), I8254_HZ);
	CHECK_EQ_U64(ticks_between(0, KHZ * 1000 * 86400 * 365 * 100, KHZ),
		     (uint64_t)I8254_HZ * 86400 * 365 * 100);
	CHECK_EQ_U64(ticks_between(0, UINT64_MAX, 1), UINT64_MAX / 1000 * I8254_HZ +
		     UINT64_MAX % 1000 * I8254_HZ / 1000);
	CHECK_EQ_U64(ticks_between(T0, T0 - 1, KHZ), 0);
	CHECK_EQ_U64(ticks_between(0, 1000, 0), 0);
}

int main(void)
{
	test_memtest_calibration();
	test_counter_and_latch();
	test_high_byte_access();
	test_gate();
	test_periodic();
	test_ports();
	test_ticks();
	return harness_done("test_i8254");
}
