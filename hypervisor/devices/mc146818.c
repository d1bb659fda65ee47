/*
 * The MC146818 real-time clock of the guests' virtual PC (see mc146818.h):
 * the date and time registers computed from the wall clock plus the
 * guest's offset, in BCD or binary and in 24- or 12-hour mode as register
 * B selects; setting the time through register B's SET bit or one field at
 * a time; registers A-D; CMOS RAM. Also the calendar arithmetic (days
 * since 1970 from a civil date and back, proleptic Gregorian) used here
 * and by the host's RTC reader in arch/x86/time.c.
 */
#include <keel/mc146818.h>
#include <keel/errno.h>
#include <keel/string.h>

#define SECS_PER_DAY 86400
#define DAYS_PER_ERA 146097 /* 400 Gregorian years */
#define DAYS_0000_TO_1970 719468 /* from 0000-03-01 to 1970-01-01 */
#define EPOCH_WDAY 4 /* 1970-01-01 was a Thursday */
#define REG_A_DEFAULT 0x26 /* 32.768 kHz time base, 1024 Hz rate */
#define REG_B_DEFAULT MC146818_B_24H /* BCD, 24-hour, as PC firmware leaves it */

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Days from 1970-01-01 to year-mon-mday (mon 1-12; mday may run past
 * the month's end, which carries into the next). Counted in years that
 * start on March 1, so that the leap day ends a year. */
static int64_t days_from_civil(int64_t year, uint32_t mon, uint32_t mday)
{
	int64_t y = year - (mon <= 2);
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;                          /* 0-399 */
	int64_t doy = (153 * (mon > 2 ? mon - 3 : mon + 9) + 2) / 5 + mday - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* 0-146096 */

	return era * DAYS_PER_ERA + doe - DAYS_0000_TO_1970;
}

/* Seconds since 1970-01-01 00:00 UTC of @t (its wday is ignored). */
int64_t rtc_date_to_unix(const struct rtc_date *t)
{
	return days_from_civil(t->year, t->mon, t->mday) * SECS_PER_DAY +
	       t->hour * 3600 + t->min * 60 + t->sec;
}

/* The date and time @s seconds after 1970-01-01 00:00 UTC, into @t. */
void rtc_date_from_unix(int64_t s, struct rtc_date *t)
{
	int64_t days = floor_div(s, SECS_PER_DAY);
	int64_t rem = s - days * SECS_PER_DAY;
	int64_t z = days + DAYS_0000_TO_1970;
	int64_t era = floor_div(z, DAYS_PER_ERA);
	int64_t doe = z - era * DAYS_PER_ERA;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153; /* 0 = March */

	t->mday = (uint8_t)(doy - (153 * mp + 2) / 5 + 1);
	t->mon = (uint8_t)(mp < 10 ? mp + 3 : mp - 9);
	t->year = (int32_t)(yoe + era * 400 + (t->mon <= 2));
	t->hour = (uint8_t)(rem / 3600);
	t->min = (uint8_t)(rem / 60 % 60);
	t->sec = (uint8_t)(rem % 60);
	t->wday = (uint8_t)(days + EPOCH_WDAY - floor_div(days + EPOCH_WDAY, 7) * 7);
}

static uint8_t bcd_to_bin(uint8_t v)
{
	return (uint8_t)((v >> 4) * 10 + (v & 0x0F));
}

static bool bcd_valid(uint8_t v)
{
	return (v & 0x0F) <= 9 && (v >> 4) <= 9;
}

/* A register's value in the mode of register B. */
static uint8_t field_encode(uint8_t reg_b, uint32_t v)
{
	return (reg_b & MC146818_B_DM_BINARY) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | (v % 10));
}

/* Decode a register value; -1 if it is not valid BCD in BCD mode. */
static int32_t field_decode(uint8_t reg_b, uint8_t v)
{
	if (reg_b & MC146818_B_DM_BINARY)
		return v;
	return bcd_valid(v) ? bcd_to_bin(v) : -1;
}

static uint8_t hour_encode(uint8_t reg_b, uint32_t hour)
{
	uint32_t h12;

	if (reg_b & MC146818_B_24H)
		return field_encode(reg_b, hour);
	h12 = hour % 12 ? hour % 12 : 12;
	return (uint8_t)(field_encode(reg_b, h12) | (hour >= 12 ? MC146818_HOUR_PM : 0));
}

/* Hour register to 0-23, or -1 if invalid. */
static int32_t hour_decode(uint8_t reg_b, uint8_t v)
{
	int32_t h;

	if (reg_b & MC146818_B_24H) {
		h = field_decode(reg_b, v);
		return h <= 23 ? h : -1;
	}
	h = field_decode(reg_b, v & (uint8_t)~MC146818_HOUR_PM);
	if (h < 1 || h > 12)
		return -1;
	return h % 12 + ((v & MC146818_HOUR_PM) ? 12 : 0);
}

/* Reset @r: time equal to the wall clock, BCD 24-hour mode, RAM zeroed. */
void mc146818_init(struct mc146818 *r)
{
	memset(r, 0, sizeof(*r));
	r->cmos[MC146818_REG_A] = REG_A_DEFAULT;
	r->cmos[MC146818_REG_B] = REG_B_DEFAULT;
}

static void current_date(const struct mc146818 *r, int64_t wall_s, struct rtc_date *t)
{
	if (r->latched)
		*t = r->latch;
	else
		rtc_date_from_unix(wall_s + r->offset_s, t);
}

static uint8_t time_reg_read(const struct mc146818 *r, uint8_t idx, int64_t wall_s)
{
	uint8_t b = r->cmos[MC146818_REG_B];
	struct rtc_date t;

	current_date(r, wall_s, &t);
	switch (idx) {
	case MC146818_SEC: return field_encode(b, t.sec);
	case MC146818_MIN: return field_encode(b, t.min);
	case MC146818_HOUR: return hour_encode(b, t.hour);
	case MC146818_WDAY: return field_encode(b, t.wday + 1u);
	case MC146818_MDAY: return field_encode(b, t.mday);
	case MC146818_MON: return field_encode(b, t.mon);
	case MC146818_YEAR: return field_encode(b, (uint32_t)(t.year % 100));
	default: return field_encode(b, (uint32_t)(t.year / 100)); /* century */
	}
}

static bool is_time_reg(uint8_t idx)
{
	return idx == MC146818_SEC || idx == MC146818_MIN || idx == MC146818_HOUR ||
	       (idx >= MC146818_WDAY && idx <= MC146818_YEAR) || idx == MC146818_CENTURY;
}

/*
 * Read from port 0x70 + @port_off at wall-clock time @wall_s (seconds
 * since 1970). The index port is write-only and reads 0xFF; the data port
 * returns the register last selected. Returns the byte read.
 */
uint8_t mc146818_read(struct mc146818 *r, uint32_t port_off, int64_t wall_s)
{
	if (port_off != MC146818_PORT_DATA)
		return 0xFF;
	if (is_time_reg(r->index))
		return time_reg_read(r, r->index, wall_s);
	switch (r->index) {
	case MC146818_REG_A:
		return r->cmos[MC146818_REG_A] & (uint8_t)~MC146818_A_UIP;
	case MC146818_REG_C:
		return 0; /* no interrupt flags: no interrupts are modelled */
	case MC146818_REG_D:
		return MC146818_D_VRT;
	default:
		return r->cmos[r->index];
	}
}

/* Put field @idx of @t to @v (binary, already range-checked by the caller
 * or normalised by the conversion to seconds). */
static void date_set_field(struct rtc_date *t, uint8_t idx, int32_t v)
{
	switch (idx) {
	case MC146818_SEC: t->sec = (uint8_t)v; break;
	case MC146818_MIN: t->min = (uint8_t)v; break;
	case MC146818_HOUR: t->hour = (uint8_t)v; break;
	case MC146818_MDAY: t->mday = (uint8_t)v; break;
	case MC146818_MON: t->mon = (uint8_t)v; break;
	case MC146818_YEAR: t->year = t->year / 100 * 100 + v; break;
	case MC146818_CENTURY: t->year = v * 100 + t->year % 100; break;
	default: break; /* the weekday follows from the date */
	}
}

/* Range of each settable field; false if @v is outside it. */
static bool field_valid(uint8_t idx, int32_t v)
{
	switch (idx) {
	case MC146818_SEC: case MC146818_MIN: return v >= 0 && v <= 59;
	case MC146818_HOUR: return v >= 0 && v <= 23;
	case MC146818_MDAY: return v >= 1 && v <= 31;
	case MC146818_MON: return v >= 1 && v <= 12;
	default: return v >= 0 && v <= 99;
	}
}

static void time_reg_write(struct mc146818 *r, uint8_t idx, uint8_t val, int64_t wall_s)
{
	uint8_t b = r->cmos[MC146818_REG_B];
	int32_t v = idx == MC146818_HOUR ? hour_decode(b, val) : field_decode(b, val);
	struct rtc_date t;

	if (v < 0 || !field_valid(idx, v))
		return; /* a value the chip could not hold: ignored */
	current_date(r, wall_s, &t);
	date_set_field(&t, idx, v);
	if (r->latched)
		r->latch = t;
	else
		r->offset_s = rtc_date_to_unix(&t) - wall_s;
}

/* Register B: SET on freezes the time for setting, SET off starts it
 * from the time set. */
static void reg_b_write(struct mc146818 *r, uint8_t val, int64_t wall_s)
{
	bool set = (val & MC146818_B_SET) != 0;

	if (set && !r->latched) {
		rtc_date_from_unix(wall_s + r->offset_s, &r->latch);
		r->latched = true;
	} else if (!set && r->latched) {
		r->latched = false;
		r->offset_s = rtc_date_to_unix(&r->latch) - wall_s;
	}
	r->cmos[MC146818_REG_B] = val;
}

/*
 * Write @val to port 0x70 + @port_off at wall-clock time @wall_s. The
 * index port takes the register number (bit 7, the PC's NMI mask, is
 * dropped); the data port writes the selected register. Time fields are
 * taken in the mode register B selects; invalid values are ignored.
 */
void mc146818_write(struct mc146818 *r, uint32_t port_off, uint8_t val, int64_t wall_s)
{
	if (port_off == MC146818_PORT_INDEX) {
		r->index = val & 0x7F;
		return;
	}
	if (port_off != MC146818_PORT_DATA)
		return;
	if (is_time_reg(r->index)) {
		time_reg_write(r, r->index, val, wall_s);
		return;
	}
	switch (r->index) {
	case MC146818_REG_A:
		r->cmos[MC146818_REG_A] = val & (uint8_t)~MC146818_A_UIP;
		break;
	case MC146818_REG_B:
		reg_b_write(r, val, wall_s);
		break;
	case MC146818_REG_C:
	case MC146818_REG_D:
		break; /* read-only */
	default:
		r->cmos[r->index] = val;
		break;
	}
}

/*
 * Convert a real RTC's registers 0x00-0x0B (@regs, read while no update
 * was in progress) and its century register (@century, 0 if unknown) to
 * seconds since 1970 in @unix_s. Years without a valid century of 19-21
 * are taken as 1970-2069. Returns 0, or -EINVAL if a field is out of range
 * (a clock that lost its battery, say).
 */
int mc146818_regs_to_unix(const uint8_t regs[MC146818_REG_B + 1], uint8_t century,
			  int64_t *unix_s)
{
	uint8_t b = regs[MC146818_REG_B];
	struct rtc_date t;
	int32_t v[5], hour, c;
	static const uint8_t idx[5] = { MC146818_SEC, MC146818_MIN, MC146818_MDAY,
					MC146818_MON, MC146818_YEAR };
	uint32_t i;

	for (i = 0; i < 5; i++) {
		v[i] = field_decode(b, regs[idx[i]]);
		if (v[i] < 0 || !field_valid(idx[i], v[i]))
			return -EINVAL;
	}
	t.sec = (uint8_t)v[0];
	t.min = (uint8_t)v[1];
	t.mday = (uint8_t)v[2];
	t.mon = (uint8_t)v[3];
	hour = hour_decode(b, regs[MC146818_HOUR]);
	if (hour < 0)
		return -EINVAL;
	t.hour = (uint8_t)hour;
	c = field_decode(b, century);
	if (c >= 19 && c <= 21)
		t.year = c * 100 + v[4];
	else
		t.year = (v[4] < 70 ? 2000 : 1900) + v[4];
	*unix_s = rtc_date_to_unix(&t);
	return 0;
}

_Static_assert(KEEL_STATE_RTC_CMOS_BYTES == MC146818_CMOS_BYTES,
	       "the RTC record holds all of CMOS");

/* Copy r's whole state into its save record (docs/save-restore.md). */
void mc146818_save(const struct mc146818 *r, struct keel_state_rtc *st)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->cmos, r->cmos, sizeof(st->cmos));
	st->index = r->index;
	st->latched = r->latched;
	st->offset_s = r->offset_s;
	if (r->latched) {
		st->latch_year = r->latch.year;
		st->latch_mon = r->latch.mon;
		st->latch_mday = r->latch.mday;
		st->latch_hour = r->latch.hour;
		st->latch_min = r->latch.min;
		st->latch_sec = r->latch.sec;
		st->latch_wday = r->latch.wday;
	}
}

/* True if the bytes of st a guest cannot write hold what the model keeps
 * there: the date and time registers, C and D are not stored (0), and A
 * never shows an update in progress. */
static bool rtc_state_cmos_ok(const struct keel_state_rtc *st)
{
	for (uint32_t i = 0; i < MC146818_CMOS_BYTES; i++)
		if ((is_time_reg((uint8_t)i) || i == MC146818_REG_C || i == MC146818_REG_D) &&
		    st->cmos[i])
			return false;
	return !(st->cmos[MC146818_REG_A] & MC146818_A_UIP);
}

/* True if st's time being set is a date the model could hold. */
static bool rtc_state_latch_ok(const struct keel_state_rtc *st)
{
	if (!st->latched)
		return st->latch_year == 0 && st->latch_mon == 0 && st->latch_mday == 0 &&
		       st->latch_hour == 0 && st->latch_min == 0 && st->latch_sec == 0 &&
		       st->latch_wday == 0;
	return st->latch_year >= 0 && st->latch_year <= 9999 && st->latch_mon >= 1 &&
	       st->latch_mon <= 12 && st->latch_mday >= 1 && st->latch_mday <= 31 &&
	       st->latch_hour <= 23 && st->latch_min <= 59 && st->latch_sec <= 59 &&
	       st->latch_wday <= 6;
}

/*
 * Replace r's state with the record st, which may come from a file: the
 * index within 0-127, the bytes a guest cannot write as the model keeps
 * them, SET and the latch agreeing, the latched date in range and the
 * offset within KEEL_STATE_RTC_MAX_OFFSET_S. Returns 0, or -EINVAL with r
 * unchanged.
 */
int mc146818_load(struct mc146818 *r, const struct keel_state_rtc *st)
{
	bool set = (st->cmos[MC146818_REG_B] & MC146818_B_SET) != 0;

	if (st->index > 0x7F || st->latched > 1 || set != (st->latched == 1) ||
	    st->offset_s > KEEL_STATE_RTC_MAX_OFFSET_S ||
	    st->offset_s < -KEEL_STATE_RTC_MAX_OFFSET_S || st->reserved[0] ||
	    st->reserved[1] || !rtc_state_cmos_ok(st) || !rtc_state_latch_ok(st))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	memcpy(r->cmos, st->cmos, sizeof(r->cmos));
	r->index = (uint8_t)st->index;
	r->latched = st->latched;
	r->offset_s = st->offset_s;
	r->latch.year = (int32_t)st->latch_year;
	r->latch.mon = st->latch_mon;
	r->latch.mday = st->latch_mday;
	r->latch.hour = st->latch_hour;
	r->latch.min = st->latch_min;
	r->latch.sec = st->latch_sec;
	r->latch.wday = st->latch_wday;
	return 0;
}
