/*
 * Device model of channel 2 of the Intel 8254 programmable interval timer
 * and the PC's port B (port 0x61), as a guest sees them: software that
 * measures its clock against the PIT (memtest86+, Linux's PIT calibration)
 * loads channel 2 through ports 0x42/0x43, raises its gate in port B's
 * bit 0 and waits for the channel's output in port B's bit 5. The counter
 * runs at 1.193182 MHz, derived from the TSC the caller passes in, so the
 * model is pure: no hardware, no locks, no interrupts. Channels 0 and 1
 * (the system timer and DRAM refresh) are not modelled: their ports read
 * as 0 and writes to them are ignored, as before; Keel's guests take their
 * timer from the local APIC. Intel 8254 datasheet (order 231164): "Control
 * Word Format", "Mode 0" to "Mode 5", "Read Operations"; port B bits as
 * on the IBM PC/AT (bit 0 timer 2 gate, bit 1 speaker data, bit 4 refresh
 * toggle, bit 5 timer 2 output).
 */
#ifndef KEEL_I8254_H
#define KEEL_I8254_H

#include <stdbool.h>
#include <stdint.h>

#define I8254_HZ 1193182u           /* input clock of every channel */
#define I8254_PORT_COUNTER2 0x42
#define I8254_PORT_CONTROL 0x43
#define I8254_PORT_SYS_B 0x61

#define I8254_SYSB_GATE2 0x01       /* port B: channel 2 gate */
#define I8254_SYSB_SPEAKER 0x02     /* port B: speaker data */
#define I8254_SYSB_REFRESH 0x10     /* port B: toggles as DRAM refresh would */
#define I8254_SYSB_OUT2 0x20        /* port B: channel 2 output */

struct i8254 {
	uint64_t start_tsc;     /* TSC when counting began (count loaded, gate up) */
	uint64_t frozen_ticks;  /* ticks counted before the gate went low */
	uint16_t reload;        /* the count loaded, 0 meaning 65536 */
	uint16_t latch;         /* the counter latched by a latch command */
	uint8_t mode;           /* 0-5, the control word's M2..M0 */
	uint8_t access;         /* 1 low byte, 2 high byte, 3 low then high */
	uint8_t sys_b;          /* port B bits 0-1 as last written */
	bool loaded;            /* a count was written since the control word */
	bool write_high;        /* the next data write is the high byte */
	bool read_high;         /* the next data read is the high byte */
	bool latched;           /* latch holds a value not read out yet */
	bool refresh;           /* port B's refresh toggle */
};

/* Put channel 2 and port B as at power-on: no count, gate low. */
void i8254_reset(struct i8254 *p);

/* A guest read of port (0x40-0x43 or 0x61) at TSC now, with the TSC
 * running at tsc_khz (> 0). Returns the byte read: channels 0 and 1 and
 * the control port read 0. */
uint8_t i8254_read(struct i8254 *p, uint16_t port, uint64_t now, uint64_t tsc_khz);

/* A guest write of val to port (0x40-0x43 or 0x61) at TSC now, tsc_khz as
 * for i8254_read. Writes to channels 0 and 1 are ignored. */
void i8254_write(struct i8254 *p, uint16_t port, uint8_t val, uint64_t now, uint64_t tsc_khz);

#endif
