/*
 * Device model of the Motorola MC146818 real-time clock and CMOS RAM as a
 * PC guest sees it at ports 0x70 (index) and 0x71 (data): the date and
 * time registers, registers A-D and 114 bytes of CMOS RAM. The clock
 * follows the wall clock the caller passes in (the host's, read from its
 * own RTC at boot) plus a per-guest offset that the guest moves by setting
 * the time, so every guest starts with the right date and may set its own.
 * The model is pure: no hardware, no locks, no interrupts (the periodic,
 * alarm and update interrupts are not modelled; register C reads 0). It
 * also holds the calendar arithmetic shared with the host's RTC reader.
 */
#ifndef KEEL_MC146818_H
#define KEEL_MC146818_H

#include <stdbool.h>
#include <stdint.h>
#include <public/keel_abi.h>

#define MC146818_PORT_INDEX 0 /* offsets from the base port 0x70 */
#define MC146818_PORT_DATA 1
#define MC146818_CMOS_BYTES 128u

/* Register indexes (MC146818A datasheet, "Address map"). */
#define MC146818_SEC 0x00
#define MC146818_SEC_ALARM 0x01
#define MC146818_MIN 0x02
#define MC146818_MIN_ALARM 0x03
#define MC146818_HOUR 0x04
#define MC146818_HOUR_ALARM 0x05
#define MC146818_WDAY 0x06 /* 1 = Sunday */
#define MC146818_MDAY 0x07
#define MC146818_MON 0x08
#define MC146818_YEAR 0x09 /* two digits */
#define MC146818_REG_A 0x0A
#define MC146818_REG_B 0x0B
#define MC146818_REG_C 0x0C
#define MC146818_REG_D 0x0D
#define MC146818_CENTURY 0x32 /* the PC convention (ACPI FADT CENTURY) */

#define MC146818_A_UIP 0x80   /* update in progress: never set here */
#define MC146818_B_SET 0x80   /* updates stopped while the time is set */
#define MC146818_B_DM_BINARY 0x04
#define MC146818_B_24H 0x02
#define MC146818_D_VRT 0x80   /* valid RAM and time (battery good) */
#define MC146818_HOUR_PM 0x80 /* in 12-hour mode */

/* A calendar date and time of day, UTC. */
struct rtc_date {
	int32_t year;  /* e.g. 2026 */
	uint8_t mon;   /* 1-12 */
	uint8_t mday;  /* 1-31 */
	uint8_t hour;  /* 0-23 */
	uint8_t min;   /* 0-59 */
	uint8_t sec;   /* 0-59 */
	uint8_t wday;  /* 0 = Sunday */
};

struct mc146818 {
	uint8_t index;                       /* last index written, 0-127 */
	uint8_t cmos[MC146818_CMOS_BYTES];   /* registers A, B, alarms, RAM */
	int64_t offset_s;                    /* guest time minus wall time */
	bool latched;                        /* SET is on: writes go to @latch */
	struct rtc_date latch;               /* the time being set */
};

void mc146818_init(struct mc146818 *r);
uint8_t mc146818_read(struct mc146818 *r, uint32_t port_off, int64_t wall_s);
void mc146818_write(struct mc146818 *r, uint32_t port_off, uint8_t val, int64_t wall_s);

void mc146818_save(const struct mc146818 *r, struct keel_state_rtc *st);
int mc146818_load(struct mc146818 *r, const struct keel_state_rtc *st);

int64_t rtc_date_to_unix(const struct rtc_date *t);
void rtc_date_from_unix(int64_t s, struct rtc_date *t);
int mc146818_regs_to_unix(const uint8_t regs[MC146818_REG_B + 1], uint8_t century,
			  int64_t *unix_s);

#endif
