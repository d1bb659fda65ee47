/*
 * The hypervisor's own consoles: a polled 16550 UART on COM1 (I/O port
 * 0x3F8) and the 80x25 VGA text screen at 0xB8000. Both are log sinks.
 * These drive the real hardware before dom0 owns it; they are not the
 * device models guests see (those live in devices/).
 */
#include <keel/console.h>
#include <keel/log.h>
#include <keel/string.h>
#include <asm/x86.h>

#define COM1_PORT 0x3F8
#define UART_CLOCK_HZ 115200u
#define UART_THR 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define UART_POLL_LIMIT 100000

#define VGA_TEXT_PA 0xB8000ull
#define VGA_COLS 80
#define VGA_ROWS 25
#define VGA_ATTR 0x07      /* light grey on black */
#define VGA_ATTR_WARN 0x0E /* yellow */
#define VGA_ATTR_ERR 0x0C  /* light red */
#define VGA_CRTC_INDEX 0x3D4
#define VGA_CRTC_DATA 0x3D5

static uint32_t vga_row, vga_col;

static void uart_putc(char c)
{
	int i;

	for (i = 0; i < UART_POLL_LIMIT; i++)
		if (inb(COM1_PORT + UART_LSR) & UART_LSR_THRE)
			break;
	outb(COM1_PORT + UART_THR, (uint8_t)c);
}

static void uart_write(int level, const char *s, uint32_t len)
{
	(void)level;
	uint32_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

static struct log_sink uart_sink = { .write = uart_write };

/*
 * Program COM1 for baud bits/s, 8N1, FIFOs on, interrupts off, and make it
 * a log sink. baud must divide 115200; others fall back to 115200.
 */
void console_uart_init(uint32_t baud)
{
	uint32_t div = (baud && UART_CLOCK_HZ % baud == 0) ? UART_CLOCK_HZ / baud : 1;

	outb(COM1_PORT + UART_IER, 0x00);
	outb(COM1_PORT + UART_LCR, 0x80);
	outb(COM1_PORT + UART_DLL, (uint8_t)div);
	outb(COM1_PORT + UART_DLM, (uint8_t)(div >> 8));
	outb(COM1_PORT + UART_LCR, 0x03);
	outb(COM1_PORT + UART_FCR, 0x07);
	outb(COM1_PORT + UART_MCR, 0x03);
	log_add_sink(&uart_sink);
}

static volatile uint16_t *vga_cell(uint32_t row, uint32_t col)
{
	return (volatile uint16_t *)(uintptr_t)VGA_TEXT_PA + row * VGA_COLS + col;
}

static void vga_scroll(void)
{
	uint32_t r, c;

	for (r = 1; r < VGA_ROWS; r++)
		for (c = 0; c < VGA_COLS; c++)
			*vga_cell(r - 1, c) = *vga_cell(r, c);
	for (c = 0; c < VGA_COLS; c++)
		*vga_cell(VGA_ROWS - 1, c) = (VGA_ATTR << 8) | ' ';
	vga_row = VGA_ROWS - 1;
}

static void vga_putc(char c, uint8_t attr)
{
	if (c == '\n') {
		vga_col = 0;
		vga_row++;
	} else if (c != '\r') {
		*vga_cell(vga_row, vga_col) = (uint16_t)((attr << 8) | (uint8_t)c);
		if (++vga_col == VGA_COLS) {
			vga_col = 0;
			vga_row++;
		}
	}
	if (vga_row == VGA_ROWS)
		vga_scroll();
}

static void vga_move_cursor(void)
{
	uint16_t pos = (uint16_t)(vga_row * VGA_COLS + vga_col);

	outb(VGA_CRTC_INDEX, 0x0F);
	outb(VGA_CRTC_DATA, (uint8_t)pos);
	outb(VGA_CRTC_INDEX, 0x0E);
	outb(VGA_CRTC_DATA, (uint8_t)(pos >> 8));
}

static void vga_write(int level, const char *s, uint32_t len)
{
	uint8_t attr = level == LOG_ERR ? VGA_ATTR_ERR : level == LOG_WARN ? VGA_ATTR_WARN : VGA_ATTR;
	uint32_t i;

	for (i = 0; i < len; i++)
		vga_putc(s[i], attr);
	vga_move_cursor();
}

static struct log_sink vga_sink = { .write = vga_write };

/* Clear the VGA text screen and make it a log sink. */
void console_vga_init(void)
{
	uint32_t r, c;

	for (r = 0; r < VGA_ROWS; r++)
		for (c = 0; c < VGA_COLS; c++)
			*vga_cell(r, c) = (VGA_ATTR << 8) | ' ';
	vga_row = vga_col = 0;
	log_add_sink(&vga_sink);
}

/*
 * Stop logging to the VGA screen (dom0's Linux owns it from now on) and
 * return where the cursor is, so dom0's console can continue below.
 */
void console_vga_release(uint32_t *row, uint32_t *col)
{
	log_remove_sink(&vga_sink);
	*row = vga_row;
	*col = vga_col;
}
