/*
 * Pure screen model of the `keel` full-screen programs: a grid of
 * characters with one attribute (normal, bold, reverse) per cell that the
 * programs draw a frame into, and a renderer that turns a frame into the
 * VT100/ANSI bytes that bring the terminal from the previous frame to
 * this one. Only lines that changed are sent, each as "move to the line,
 * text, clear to end of line", so nothing flickers and a 115200-baud
 * serial line is not flooded. The escapes used (CUP, EL, ED, SGR 0/1/7)
 * work on the Linux VGA console (TERM=linux), VT100 and xterm. Text is
 * ASCII: other bytes are drawn as '?'. No I/O.
 */
#ifndef KEEL_TOOLSTACK_SCREEN_H
#define KEEL_TOOLSTACK_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCREEN_MAX_ROWS 72u
#define SCREEN_MAX_COLS 240u
#define SCREEN_DEFAULT_ROWS 24u /* when the terminal does not say */
#define SCREEN_DEFAULT_COLS 80u
/* Enough for any frame: every cell with its own attribute change. */
#define SCREEN_RENDER_BYTES (SCREEN_MAX_ROWS * (SCREEN_MAX_COLS * 12u + 32u))

/* Cell attributes. */
#define SCREEN_ATTR_NORMAL 0u
#define SCREEN_ATTR_BOLD 1u
#define SCREEN_ATTR_REVERSE 2u

/* One frame. */
struct screen {
	uint32_t rows;
	uint32_t cols;
	char text[SCREEN_MAX_ROWS][SCREEN_MAX_COLS];
	uint8_t attr[SCREEN_MAX_ROWS][SCREEN_MAX_COLS];
};

/*
 * Set the size of @s to @rows x @cols (0 or more than the maximum: the
 * defaults or the maximum) and clear it to blanks.
 */
void screen_init(struct screen *s, uint32_t rows, uint32_t cols);

/* Clear @s to normal blanks, keeping its size. */
void screen_clear(struct screen *s);

/*
 * Write @text at @row, @col with attribute @attr, clipped at the right
 * edge. Non-printable bytes become '?'. Returns the column after the
 * text (at most cols).
 */
uint32_t screen_put(struct screen *s, uint32_t row, uint32_t col,
		    uint8_t attr, const char *text);

/* printf-style screen_put(); text longer than a line is clipped. */
__attribute__((format(printf, 5, 6)))
uint32_t screen_printf(struct screen *s, uint32_t row, uint32_t col,
		       uint8_t attr, const char *fmt, ...);

/* Give the whole of line @row attribute @attr (e.g. a reverse title bar). */
void screen_line_attr(struct screen *s, uint32_t row, uint8_t attr);

/*
 * Draw the bottom lines shared by the full-screen programs: @hint (if not
 * NULL) in reverse video on the last line, @keys (if not NULL) in bold
 * above it. Returns the first line above them.
 */
uint32_t screen_footer(struct screen *s, const char *keys, const char *hint);

/*
 * Write to @out (@len bytes, at least SCREEN_RENDER_BYTES is always
 * enough) the bytes that turn the terminal showing @before into @now.
 * @before NULL, or of another size, means the terminal's content is
 * unknown: every line is sent. The cursor ends at the start of the last
 * line with normal attributes. The last cell of the last line is never
 * written, so the terminal cannot scroll.
 * Returns the number of bytes written (0: nothing changed) or -ENOSPC.
 */
int screen_render(const struct screen *now, const struct screen *before,
		  char *out, size_t len);

#endif /* KEEL_TOOLSTACK_SCREEN_H */
