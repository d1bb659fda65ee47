/*
 * Unit tests for hypervisor/devices/mc146818.c: the calendar arithmetic
 * against the C library's gmtime_r() over 600 years, the guest clock's
 * registers in BCD, binary and 12-hour modes as wall time passes, setting
 * the time through SET and one field at a time, invalid writes, the NMI
 * bit of the index, CMOS RAM and the read-only registers, and decoding a
 * real RTC's registers.
 */
#include "../../hypervisor/devices/mc146818.c"

#include <stdio.h>
#include <time.h>

#include "harness.h"

#define T_2026_12_02_055007 1796190607LL /* a Wednesday */

static uint8_t reg(struct mc146818 *r, uint8_t idx, int64_t wall)
{
	mc146818_write(r, MC146818_PORT_INDEX, idx, wall);
	return mc146818_read(r, MC146818_PORT_DATA, wall);
}

static void put(struct mc146818 *r, uint8_t idx, uint8_t val, int64_t wall)
{
	mc146818_write(r, MC146818_PORT_INDEX, idx, wall);
	mc146818_write(r, MC146818_PORT_DATA, val, wall);
}

static void test_calendar(void)
{
	struct rtc_date t;
	int64_t s;
	int bad = 0;

	rtc_date_from_unix(0, &t);
	CHECK(t.year == 1970 && t.mon == 1 && t.mday == 1 && t.hour == 0 && t.wday == 4);
	rtc_date_from_unix(-1, &t);
	CHECK(t.year == 1969 && t.mon == 12 && t.mday == 31 && t.sec == 59 && t.wday == 3);
	rtc_date_from_unix(951782400, &t); /* leap day of a year divisible by 400 */
	CHECK(t.year == 2000 && t.mon == 2 && t.mday == 29 && t.wday == 2);
	rtc_date_from_unix(4107542400LL, &t); /* 2100 is not a leap year */
	CHECK(t.year == 2100 && t.mon == 3 && t.mday == 1 && t.wday == 1);
	/* every 9 days and 17 s from 1800 to 2400 against the C library */
	for (s = -5364662400LL; s < 13569465600LL; s += 9 * 86400 + 17) {
		time_t tt = (time_t)s;
		struct tm tm;

		gmtime_r(&tt, &tm);
		rtc_date_from_unix(s, &t);
		if (t.year != tm.tm_year + 1900 || t.mon != tm.tm_mon + 1 || t.mday != tm.tm_mday ||
		    t.hour != tm.tm_hour || t.min != tm.tm_min || t.sec != tm.tm_sec ||
		    t.wday != tm.tm_wday || rtc_date_to_unix(&t) != s)
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	/* a day past the month's end carries over */
	t = (struct rtc_date){ .year = 2026, .mon = 2, .mday = 29 };
	rtc_date_from_unix(rtc_date_to_unix(&t), &t);
	CHECK(t.mon == 3 && t.mday == 1);
}

static void test_read_modes(void)
{
	struct mc146818 r;
	int64_t w = T_2026_12_02_055007;

	mc146818_init(&r);
	CHECK_EQ_U64(reg(&r, MC146818_SEC, w), 0x07);
	CHECK_EQ_U64(reg(&r, MC146818_MIN, w), 0x50);
	CHECK_EQ_U64(reg(&r, MC146818_HOUR, w), 0x05);
	CHECK_EQ_U64(reg(&r, MC146818_WDAY, w), 4); /* Wednesday, Sunday = 1 */
	CHECK_EQ_U64(reg(&r, MC146818_MDAY, w), 0x02);
	CHECK_EQ_U64(reg(&r, MC146818_MON, w), 0x12);
	CHECK_EQ_U64(reg(&r, MC146818_YEAR, w), 0x26);
	CHECK_EQ_U64(reg(&r, MC146818_CENTURY, w), 0x20);
	CHECK_EQ_U64(reg(&r, MC146818_REG_A, w) & MC146818_A_UIP, 0);
	CHECK_EQ_U64(reg(&r, MC146818_REG_B, w), MC146818_B_24H);
	CHECK_EQ_U64(reg(&r, MC146818_REG_C, w), 0);
	CHECK_EQ_U64(reg(&r, MC146818_REG_D, w), MC146818_D_VRT);
	CHECK_EQ_U64(mc146818_read(&r, MC146818_PORT_INDEX, w), 0xFF);
	/* the clock runs with the wall clock: 10 s, then past midnight */
	CHECK_EQ_U64(reg(&r, MC146818_SEC, w + 10), 0x17);
	CHECK_EQ_U64(reg(&r, MC146818_MIN, w + 10), 0x50);
	CHECK_EQ_U64(reg(&r, MC146818_MDAY, w + 19 * 3600), 0x03);
	/* binary mode */
	put(&r, MC146818_REG_B, MC146818_B_24H | MC146818_B_DM_BINARY, w);
	CHECK_EQ_U64(reg(&r, MC146818_SEC, w), 7);
	CHECK_EQ_U64(reg(&r, MC146818_MIN, w), 50);
	CHECK_EQ_U64(reg(&r, MC146818_YEAR, w), 26);
	/* 12-hour BCD mode: 05 AM, 5 PM, midnight is 12 AM, noon 12 PM */
	put(&r, MC146818_REG_B, 0, w);
	CHECK_EQ_U64(reg(&r, MC146818_HOUR, w), 0x05);
	CHECK_EQ_U64(reg(&r, MC146818_HOUR, w + 12 * 3600), 0x85);
	CHECK_EQ_U64(reg(&r, MC146818_HOUR, w + 19 * 3600), 0x12);
	CHECK_EQ_U64(reg(&r, MC146818_HOUR, w + 7 * 3600), 0x92);
}

static void test_set_time(void)
{
	struct mc146818 r;
	struct rtc_date want = { .year = 2030, .mon = 1, .mday = 15, .hour = 10, .min = 20,
				 .sec = 30 };
	int64_t w = T_2026_12_02_055007;

	mc146818_init(&r);
	/* as Linux's mc146818_set_time: SET, the fields, SET off */
	put(&r, MC146818_REG_B, MC146818_B_24H | MC146818_B_SET, w);
	CHECK_EQ_U64(reg(&r, MC146818_SEC, w + 3), 0x07); /* frozen while SET */
	put(&r, MC146818_YEAR, 0x30, w);
	put(&r, MC146818_MON, 0x01, w);
	put(&r, MC146818_MDAY, 0x15, w);
	put(&r, MC146818_HOUR, 0x10, w);
	put(&r, MC146818_MIN, 0x20, w);
	put(&r, MC146818_SEC, 0x30, w);
	CHECK_EQ_U64(reg(&r, MC146818_SEC, w + 1), 0x30);
	put(&r, MC146818_REG_B, MC146818_B_24H, w + 100);
	CHECK_EQ_INT(r.offset_s, rtc_date_to_unix(&want) - (w + 100));
	CHECK_EQ_U64(reg(&r, MC146818_SEC, w + 105), 0x35);
	CHECK_EQ_U64(reg(&r, MC146818_MIN, w + 105), 0x20);
	CHECK_EQ_U64(reg(&r, MC146818_YEAR, w + 105), 0x30);
	CHECK_EQ_U64(reg(&r, MC146818_MON, w + 105), 0x01);
	CHECK_EQ_U64(reg(&r, MC146818_WDAY, w + 105), 3); /* 2030-01-15: Tuesday */
	/* one field without SET; the others keep running */
	mc146818_init(&r);
	put(&r, MC146818_MIN, 0x00, w);
	CHECK_EQ_U64(reg(&r, MC146818_MIN, w), 0x00);
	CHECK_EQ_U64(reg(&r, MC146818_SEC, w + 1), 0x08);
	CHECK_EQ_U64(reg(&r, MC146818_HOUR, w), 0x05);
	CHECK_EQ_INT(r.offset_s, -50 * 60);
	/* 12-hour mode: 3 PM */
	put(&r, MC146818_REG_B, 0, w);
	put(&r, MC146818_HOUR, 0x83, w);
	put(&r, MC146818_REG_B, MC146818_B_24H, w);
	CHECK_EQ_U64(reg(&r, MC146818_HOUR, w), 0x15);
	/* values the chip cannot hold are ignored */
	mc146818_init(&r);
	put(&r, MC146818_SEC, 0x7A, w);
	put(&r, MC146818_MIN, 0x60, w);
	put(&r, MC146818_MON, 0x13, w);
	put(&r, MC146818_MDAY, 0x00, w);
	put(&r, MC146818_HOUR, 0x24, w);
	CHECK_EQ_INT(r.offset_s, 0);
	/* the weekday follows from the date */
	put(&r, MC146818_WDAY, 0x01, w);
	CHECK_EQ_U64(reg(&r, MC146818_WDAY, w), 4);
	/* the century register moves the year by centuries */
	put(&r, MC146818_CENTURY, 0x21, w);
	CHECK_EQ_U64(reg(&r, MC146818_CENTURY, w), 0x21);
	CHECK_EQ_U64(reg(&r, MC146818_YEAR, w), 0x26);
}

static void test_registers(void)
{
	struct mc146818 r;
	int64_t w = T_2026_12_02_055007;

	mc146818_init(&r);
	/* bit 7 of the index is the PC's NMI mask, not part of the index */
	CHECK_EQ_U64(reg(&r, 0x80 | MC146818_REG_D, w), MC146818_D_VRT);
	CHECK_EQ_U64(reg(&r, 0x80 | MC146818_SEC, w), 0x07);
	put(&r, 0x40, 0xAB, w);
	put(&r, 0x7F, 0xCD, w);
	CHECK_EQ_U64(reg(&r, 0x40, w), 0xAB);
	CHECK_EQ_U64(reg(&r, 0x7F, w), 0xCD);
	put(&r, MC146818_SEC_ALARM, 0x42, w);
	CHECK_EQ_U64(reg(&r, MC146818_SEC_ALARM, w), 0x42);
	put(&r, MC146818_REG_C, 0xFF, w);
	put(&r, MC146818_REG_D, 0x00, w);
	CHECK_EQ_U64(reg(&r, MC146818_REG_C, w), 0);
	CHECK_EQ_U64(reg(&r, MC146818_REG_D, w), MC146818_D_VRT);
	put(&r, MC146818_REG_A, 0xA6, w); /* UIP is read-only */
	CHECK_EQ_U64(reg(&r, MC146818_REG_A, w), 0x26);
	/* other ports do nothing */
	mc146818_write(&r, 2, 0x55, w);
	CHECK_EQ_U64(mc146818_read(&r, 2, w), 0xFF);
}

static void test_host_regs(void)
{
	uint8_t bcd[12] = { 0x07, 0, 0x50, 0, 0x05, 0, 4, 0x02, 0x12, 0x26, 0x26, 0x02 };
	uint8_t bin[12] = { 7, 0, 50, 0, 5, 0, 4, 2, 12, 26, 0x26, 0x06 };
	uint8_t pm[12] = { 0x07, 0, 0x50, 0, 0x85, 0, 4, 0x02, 0x12, 0x26, 0x26, 0x00 };
	uint8_t dead[12];
	int64_t s = 0;

	CHECK_EQ_INT(mc146818_regs_to_unix(bcd, 0x20, &s), 0);
	CHECK_EQ_INT(s, T_2026_12_02_055007);
	CHECK_EQ_INT(mc146818_regs_to_unix(bcd, 0, &s), 0); /* no century: 20xx */
	CHECK_EQ_INT(s, T_2026_12_02_055007);
	CHECK_EQ_INT(mc146818_regs_to_unix(bin, 20, &s), 0);
	CHECK_EQ_INT(s, T_2026_12_02_055007);
	CHECK_EQ_INT(mc146818_regs_to_unix(pm, 0x20, &s), 0);
	CHECK_EQ_INT(s, T_2026_12_02_055007 + 12 * 3600);
	bcd[MC146818_YEAR] = 0x99; /* 1999 without a century */
	CHECK_EQ_INT(mc146818_regs_to_unix(bcd, 0xFF, &s), 0);
	CHECK_EQ_INT(s, T_2026_12_02_055007 - 9862LL * 86400); /* 27 years earlier */
	memset(dead, 0xFF, sizeof(dead));
	CHECK_EQ_INT(mc146818_regs_to_unix(dead, 0xFF, &s), -EINVAL);
	bcd[MC146818_MON] = 0x00;
	CHECK_EQ_INT(mc146818_regs_to_unix(bcd, 0x20, &s), -EINVAL);
}

/* A clock the guest moved, saved mid-way through setting its time on one
 * machine, reads the same on another whose wall clock is an hour later;
 * bad records are refused and leave the target as it was. */
static void test_save_load(void)
{
	const int64_t w = T_2026_12_02_055007;
	struct mc146818 r, copy, before;
	struct keel_state_rtc st, bad;

	mc146818_init(&r);
	put(&r, MC146818_YEAR, 0x30, w);              /* the guest says 2030 */
	put(&r, 0x40, 0xA5, w);                        /* a byte of CMOS RAM */
	put(&r, MC146818_SEC_ALARM, 0x12, w);
	mc146818_save(&r, &st);
	CHECK_EQ_U64(st.cmos[0x40], 0xA5);
	CHECK_EQ_U64(st.cmos[MC146818_YEAR], 0);       /* time is not stored */
	mc146818_init(&copy);
	CHECK_EQ_U64(mc146818_load(&copy, &st), 0);
	CHECK(memcmp(&copy, &r, sizeof(r)) == 0);
	CHECK_EQ_U64(reg(&copy, MC146818_YEAR, w + 3600), reg(&r, MC146818_YEAR, w + 3600));
	CHECK_EQ_U64(reg(&copy, MC146818_HOUR, w + 3600), 0x06);
	CHECK_EQ_U64(reg(&copy, 0x40, w), 0xA5);

	/* saved while the guest holds SET: the time being set carries over */
	put(&r, MC146818_REG_B, MC146818_B_SET | 0x02, w);
	put(&r, MC146818_MIN, 0x33, w);
	mc146818_save(&r, &st);
	CHECK_EQ_U64(st.latched, 1);
	CHECK_EQ_U64(st.latch_min, 33);
	mc146818_init(&copy);
	CHECK_EQ_U64(mc146818_load(&copy, &st), 0);
	put(&copy, MC146818_REG_B, 0x02, w + 100);     /* SET off: runs from there */
	CHECK_EQ_U64(reg(&copy, MC146818_MIN, w + 100), 0x33);

	/* each impossible field is refused, the target unchanged */
	mc146818_init(&copy);
	before = copy;
	for (int i = 0; i < 10; i++) {
		bad = st;
		switch (i) {
		case 0: bad.index = 0x80; break;
		case 1: bad.latched = 0; break;                /* SET on, nothing latched */
		case 2: bad.cmos[MC146818_REG_C] = 1; break;
		case 3: bad.cmos[MC146818_MIN] = 5; break;     /* time is never stored */
		case 4: bad.cmos[MC146818_REG_A] |= MC146818_A_UIP; break;
		case 5: bad.offset_s = KEEL_STATE_RTC_MAX_OFFSET_S + 1; break;
		case 6: bad.latch_mon = 13; break;
		case 7: bad.latch_sec = 60; break;
		case 8: bad.latch_year = 10000; break;
		case 9: bad.reserved[1] = 1; break;
		}
		CHECK_EQ_U64(mc146818_load(&copy, &bad), (uint64_t)(int64_t)-EINVAL);
		CHECK(memcmp(&copy, &before, sizeof(copy)) == 0);
	}
	/* not latched: the latch fields must be clear */
	mc146818_init(&r);
	mc146818_save(&r, &bad);
	bad.latch_hour = 1;
	CHECK_EQ_U64(mc146818_load(&copy, &bad), (uint64_t)(int64_t)-EINVAL);
}

int main(void)
{
	test_calendar();
	test_save_load();
	test_read_modes();
	test_set_time();
	test_registers();
	test_host_regs();
	return harness_done("mc146818");
}
