/*
 * The hypervisor's own consoles (COM1 and the VGA text screen), used as
 * log sinks until dom0 owns the hardware.
 */
#ifndef KEEL_CONSOLE_H
#define KEEL_CONSOLE_H

#include <stdint.h>

void console_uart_init(uint32_t baud);
void console_vga_init(void);
void console_vga_release(uint32_t *row, uint32_t *col);

#endif
