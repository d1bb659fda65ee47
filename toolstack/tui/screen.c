/*
 * Screen model and renderer of the `keel` full-screen programs (see
 * screen.h): frames are drawn into a character grid, and screen_render()
 * sends only the lines that differ from the previous frame, each as
 * cursor position, text with attribute changes, and erase to the end of
 * the line (trailing blanks are not sent).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "screen.h"

/* Size and clear a frame; see screen.h. */
void screen_init(struct screen *s, uint32_t rows, uint32_t cols)
{
	if (!rows)
		rows = SCREEN_DEFAULT_ROWS;
	if (!cols)
		cols = SCREEN_DEFAULT_COLS;
	s->rows = rows > SCREEN_MAX_ROWS ? SCREEN_MAX_ROWS : rows;
	s->cols = cols > SCREEN_MAX_COLS ? SCREEN_MAX_COLS : cols;
	screen_clear(s);
}

/* Clear a frame; see screen.h. */
void screen_clear(struct screen *s)
{
	memset(s->text, ' ', sizeof(s->text));
	memset(s->attr, SCREEN_ATTR_NORMAL, sizeof(s->attr));
}

/* Write text into a frame; see screen.h. */
uint32_t screen_put(struct screen *s, uint32_t row, uint32_t col,
		    uint8_t attr, const char *text)
{
	if (row >= s->rows)
		return col;
	for (; *text && col < s->cols; text++, col++) {
		unsigned char c = (unsigned char)*text;

		s->text[row][col] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		s->attr[row][col] = attr;
	}
	return col;
}

/* printf into a frame; see screen.h. */
uint32_t screen_printf(struct screen *s, uint32_t row, uint32_t col,
		       uint8_t attr, const char *fmt, ...)
{
	char line[SCREEN_MAX_COLS + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return screen_put(s, row, col, attr, line);
}

/* Attribute for a whole line; see screen.h. */
void screen_line_attr(struct screen *s, uint32_t row, uint8_t attr)
{
	if (row < s->rows)
		memset(s->attr[row], attr, s->cols);
}

/* Draw the keys and hint lines; see screen.h. */
uint32_t screen_footer(struct screen *s, const char *keys, const char *hint)
{
	uint32_t row = s->rows;

	if (hint && row > 1) {
		row--;
		screen_line_attr(s, row, SCREEN_ATTR_REVERSE);
		screen_put(s, row, 0, SCREEN_ATTR_REVERSE, hint);
	}
	if (keys && row > 1) {
		row--;
		screen_put(s, row, 0, SCREEN_ATTR_BOLD, keys);
	}
	return row;
}

/* Output cursor over a fixed buffer. */
struct screen_out {
	char *buf;
	size_t len;
	size_t pos;
	bool full;
};

/* Append @n bytes of @data to @o. */
static void screen_emit(struct screen_out *o, const char *data, size_t n)
{
	if (o->full || n > o->len - o->pos) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->pos, data, n);
	o->pos += n;
}

/* Append the SGR sequence that selects attribute @attr. */
static void screen_emit_attr(struct screen_out *o, uint8_t attr)
{
	char seq[16];
	int n;

	n = snprintf(seq, sizeof(seq), "\x1b[0%s%sm",
		     attr & SCREEN_ATTR_BOLD ? ";1" : "",
		     attr & SCREEN_ATTR_REVERSE ? ";7" : "");
	screen_emit(o, seq, (size_t)n);
}

/* True if line @row of @a and @b differ. */
static bool screen_line_differs(const struct screen *a, const struct screen *b,
				uint32_t row)
{
	return memcmp(a->text[row], b->text[row], a->cols) != 0 ||
	       memcmp(a->attr[row], b->attr[row], a->cols) != 0;
}

/* Columns of line @row worth sending: up to the last non-blank or
 * non-normal cell, and never the last cell of the last line. */
static uint32_t screen_line_end(const struct screen *s, uint32_t row)
{
	uint32_t end = s->cols;

	if (row == s->rows - 1)
		end--;
	while (end > 0 && s->text[row][end - 1] == ' ' &&
	       s->attr[row][end - 1] == SCREEN_ATTR_NORMAL)
		end--;
	return end;
}

/* Append line @row of @s: position, text with attributes, erase. */
static void screen_emit_line(struct screen_out *o, const struct screen *s,
			     uint32_t row)
{
	uint32_t col, end = screen_line_end(s, row);
	uint8_t cur = SCREEN_ATTR_NORMAL;
	char seq[24];
	int n;

	n = snprintf(seq, sizeof(seq), "\x1b[%u;1H", row + 1);
	screen_emit(o, seq, (size_t)n);
	for (col = 0; col < end; col++) {
		if (s->attr[row][col] != cur) {
			cur = s->attr[row][col];
			screen_emit_attr(o, cur);
		}
		screen_emit(o, &s->text[row][col], 1);
	}
	if (cur != SCREEN_ATTR_NORMAL)
		screen_emit_attr(o, SCREEN_ATTR_NORMAL);
	if (end < s->cols)
		screen_emit(o, "\x1b[K", 3);
}

/* Render the changes from @before to @now; see screen.h. */
int screen_render(const struct screen *now, const struct screen *before,
		  char *out, size_t len)
{
	struct screen_out o = { .buf = out, .len = len, .pos = 0 };
	bool all = !before || before->rows != now->rows ||
		   before->cols != now->cols;
	char seq[24];
	uint32_t row;
	int n;

	if (all)
		screen_emit(&o, "\x1b[0m", 4);
	for (row = 0; row < now->rows; row++) {
		if (all || screen_line_differs(now, before, row))
			screen_emit_line(&o, now, row);
	}
	if (o.pos) {
		n = snprintf(seq, sizeof(seq), "\x1b[%u;1H", now->rows);
		screen_emit(&o, seq, (size_t)n);
	}
	if (o.full)
		return -ENOSPC;
	return (int)o.pos;
}
