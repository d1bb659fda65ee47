/*
 * Channel 2 of the Intel 8254 PIT and the PC's port B (see i8254.h): the
 * counter is computed from the TSC when it is read, never ticked, so an
 * idle guest costs nothing. Intel 8254 datasheet (231164), "Modes" and
 * "Read Operations". BCD counting is not modelled (binary always).
 */
#include <keel/i8254.h>

#define CTRL_SC_SHIFT 6
#define CTRL_SC_COUNTER2 2u
#define CTRL_SC_READ_BACK 3u
#define CTRL_RW_SHIFT 4
#define CTRL_RW_LATCH 0u
#define CTRL_MODE_SHIFT 1
#define READ_BACK_NOT_COUNT 0x20 /* read-back: bit 5 low latches the counts */
#define READ_BACK_COUNTER2 0x08
#define ACCESS_LOW 1u
#define ACCESS_HIGH 2u
#define ACCESS_BOTH 3u
#define COUNT_SPAN 65536u        /* a loaded 0 counts 65536 ticks */

/* See i8254.h. */
void i8254_reset(struct i8254 *p)
{
	*p = (struct i8254){ .access = ACCESS_BOTH };
}

/* PIT ticks in the TSC interval [from, now), exactly (no overflow for any
 * interval: whole seconds and the rest are scaled apart). */
static uint64_t ticks_between(uint64_t from, uint64_t now, uint64_t tsc_khz)
{
	uint64_t tsc_hz = tsc_khz * 1000u, delta = now > from ? now - from : 0;

	if (!tsc_hz)
		return 0;
	return delta / tsc_hz * I8254_HZ + delta % tsc_hz * I8254_HZ / tsc_hz;
}

static bool counting(const struct i8254 *p)
{
	return p->loaded && (p->sys_b & I8254_SYSB_GATE2);
}

static uint64_t ticks_now(const struct i8254 *p, uint64_t now, uint64_t tsc_khz)
{
	return p->frozen_ticks + (counting(p) ? ticks_between(p->start_tsc, now, tsc_khz) : 0);
}

static uint32_t span(const struct i8254 *p)
{
	return p->reload ? p->reload : COUNT_SPAN;
}

/* Modes 2 and 3 repeat; 0, 1, 4 and 5 count down once and wrap. */
static bool periodic(const struct i8254 *p)
{
	return p->mode == 2 || p->mode == 3;
}

static uint16_t counter_value(const struct i8254 *p, uint64_t ticks)
{
	uint32_t n = span(p);

	if (!p->loaded)
		return p->reload;
	if (periodic(p))
		return (uint16_t)(n - ticks % n);
	return (uint16_t)((n - ticks % COUNT_SPAN) % COUNT_SPAN);
}

/* The channel's output pin ("Mode 0" to "Mode 5" of the datasheet). */
static bool out2(const struct i8254 *p, uint64_t ticks)
{
	uint32_t n = span(p);

	if (!p->loaded)
		return p->mode != 0;   /* mode 0 drives OUT low from the control word */
	switch (p->mode) {
	case 0:
	case 1:
		return ticks >= n;     /* low while counting, high at terminal count */
	case 2:
		return !(p->sys_b & I8254_SYSB_GATE2) || ticks % n != n - 1;
	case 3:
		return !(p->sys_b & I8254_SYSB_GATE2) || ticks % n < (n + 1) / 2;
	default:
		return ticks != n;     /* modes 4, 5: one tick low at the count's end */
	}
}

static uint8_t read_byte(struct i8254 *p, uint16_t value, bool *done)
{
	bool high = p->access == ACCESS_HIGH || (p->access == ACCESS_BOTH && p->read_high);

	*done = p->access != ACCESS_BOTH || p->read_high;
	if (p->access == ACCESS_BOTH)
		p->read_high = !p->read_high;
	return high ? (uint8_t)(value >> 8) : (uint8_t)value;
}

static uint8_t counter2_read(struct i8254 *p, uint64_t now, uint64_t tsc_khz)
{
	uint16_t value = p->latched ? p->latch : counter_value(p, ticks_now(p, now, tsc_khz));
	bool done;
	uint8_t b = read_byte(p, value, &done);

	if (done)
		p->latched = false;
	return b;
}

/* See i8254.h. */
uint8_t i8254_read(struct i8254 *p, uint16_t port, uint64_t now, uint64_t tsc_khz)
{
	uint8_t v;

	switch (port) {
	case I8254_PORT_COUNTER2:
		return counter2_read(p, now, tsc_khz);
	case I8254_PORT_SYS_B:
		p->refresh = !p->refresh;
		v = p->sys_b & (I8254_SYSB_GATE2 | I8254_SYSB_SPEAKER);
		if (p->refresh)
			v |= I8254_SYSB_REFRESH;
		if (out2(p, ticks_now(p, now, tsc_khz)))
			v |= I8254_SYSB_OUT2;
		return v;
	default:
		return 0;
	}
}

static void latch(struct i8254 *p, uint64_t now, uint64_t tsc_khz)
{
	if (p->latched)
		return;        /* a second latch before the read is ignored */
	p->latch = counter_value(p, ticks_now(p, now, tsc_khz));
	p->latched = true;
	p->read_high = false;
}

static void control_write(struct i8254 *p, uint8_t val, uint64_t now, uint64_t tsc_khz)
{
	uint8_t sc = val >> CTRL_SC_SHIFT, rw = (val >> CTRL_RW_SHIFT) & 3u;

	if (sc == CTRL_SC_READ_BACK) {
		if (!(val & READ_BACK_NOT_COUNT) && (val & READ_BACK_COUNTER2))
			latch(p, now, tsc_khz);
		return;
	}
	if (sc != CTRL_SC_COUNTER2)
		return;
	if (rw == CTRL_RW_LATCH) {
		latch(p, now, tsc_khz);
		return;
	}
	p->access = rw;
	p->mode = (val >> CTRL_MODE_SHIFT) & 7u;
	if (p->mode > 5)
		p->mode -= 4;  /* 6 and 7 are modes 2 and 3 */
	p->loaded = false;
	p->latched = false;
	p->write_high = false;
	p->read_high = false;
	p->frozen_ticks = 0;
}

static void load(struct i8254 *p, uint64_t now)
{
	p->loaded = true;
	p->frozen_ticks = 0;
	p->start_tsc = now;
}

static void counter2_write(struct i8254 *p, uint8_t val, uint64_t now)
{
	switch (p->access) {
	case ACCESS_LOW:
		p->reload = val;
		load(p, now);
		break;
	case ACCESS_HIGH:
		p->reload = (uint16_t)(val << 8);
		load(p, now);
		break;
	default:
		if (!p->write_high) {
			p->reload = (uint16_t)((p->reload & 0xFF00u) | val);
			p->write_high = true;
			return;
		}
		p->reload = (uint16_t)((p->reload & 0x00FFu) | (uint16_t)(val << 8));
		p->write_high = false;
		load(p, now);
	}
}

/* Port B: the gate going low stops the count where it is; going high, it
 * goes on (modes 0 and 4) or starts again from the loaded count (the
 * gate-triggered modes 1, 2, 3 and 5). */
static void sys_b_write(struct i8254 *p, uint8_t val, uint64_t now, uint64_t tsc_khz)
{
	bool was = p->sys_b & I8254_SYSB_GATE2, up = val & I8254_SYSB_GATE2;

	if (was && !up)
		p->frozen_ticks = ticks_now(p, now, tsc_khz);
	p->sys_b = val & (I8254_SYSB_GATE2 | I8254_SYSB_SPEAKER);
	if (!was && up) {
		if (p->mode != 0 && p->mode != 4)
			p->frozen_ticks = 0;
		p->start_tsc = now;
	}
}

/* See i8254.h. */
void i8254_write(struct i8254 *p, uint16_t port, uint8_t val, uint64_t now, uint64_t tsc_khz)
{
	switch (port) {
	case I8254_PORT_CONTROL:
		control_write(p, val, now, tsc_khz);
		break;
	case I8254_PORT_COUNTER2:
		counter2_write(p, val, now);
		break;
	case I8254_PORT_SYS_B:
		sys_b_write(p, val, now, tsc_khz);
		break;
	default:
		break;
	}
}
