/*
 * The framebuffer text console (keel/fbcon.h). Pixels are packed from
 * the framebuffer's channel positions and sizes (Multiboot2 spec 3.6.12,
 * framebuffer_type 1, which GRUB fills from UEFI GOP's
 * EFI_GRAPHICS_OUTPUT_MODE_INFORMATION, UEFI spec 12.9). A copy of the
 * text on the screen (character and colour per cell) is kept, and a cell
 * is drawn only when it changes: scrolling redraws what differs instead
 * of reading the framebuffer back, which is uncached and slow to read.
 * Glyphs come from a PSF font (psf.c), one bit per pixel, most
 * significant bit leftmost.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/compiler.h>
#include <keel/errno.h>
#include <keel/fbcon.h>
#include <keel/log.h>
#include <keel/string.h>

#define FBCON_CHANNEL_MAX_BITS 8u
#define FBCON_BLANK ' '
#define FBCON_UNKNOWN '?'
#define FBCON_ASCII_FIRST 0x20u  /* space */
#define FBCON_ASCII_LAST 0x7Eu   /* tilde */

/* 8-bit red, green, blue of the text colours and the background. */
static const uint8_t fbcon_rgb[FBCON_NR_COLOURS][3] = {
	[FBCON_COLOUR_NORMAL] = { 0xAA, 0xAA, 0xAA },
	[FBCON_COLOUR_WARN] = { 0xFF, 0xFF, 0x55 },
	[FBCON_COLOUR_ERROR] = { 0xFF, 0x55, 0x55 },
};

static struct fbcon screen;
static struct log_sink screen_sink;

/* One channel's bits of an 8-bit value v, at pos, size bits wide. */
static uint32_t channel_pack(uint8_t v, uint8_t pos, uint8_t size)
{
	return size ? ((uint32_t)v >> (FBCON_CHANNEL_MAX_BITS - size)) << pos : 0;
}

static uint32_t rgb_pack(const struct boot_fb *fb, const uint8_t rgb[3])
{
	return channel_pack(rgb[0], fb->red_pos, fb->red_size) |
	       channel_pack(rgb[1], fb->green_pos, fb->green_size) |
	       channel_pack(rgb[2], fb->blue_pos, fb->blue_size);
}

static bool channel_ok(uint8_t pos, uint8_t size, uint8_t bpp)
{
	return size <= FBCON_CHANNEL_MAX_BITS && (uint32_t)pos + size <= bpp;
}

/* -EINVAL unless fb is an RGB framebuffer fbcon can draw on. */
static int fb_check(const struct boot_fb *fb)
{
	if (fb->type != BOOT_FB_TYPE_RGB || (fb->bpp != 16 && fb->bpp != 24 && fb->bpp != 32))
		return -EINVAL;
	if (!channel_ok(fb->red_pos, fb->red_size, fb->bpp) ||
	    !channel_ok(fb->green_pos, fb->green_size, fb->bpp) ||
	    !channel_ok(fb->blue_pos, fb->blue_size, fb->bpp))
		return -EINVAL;
	return (uint64_t)fb->width * (fb->bpp / 8) <= fb->pitch ? 0 : -EINVAL;
}

static void px_store(uint8_t *p, uint32_t px_bytes, uint32_t v)
{
	if (px_bytes == 4) {
		__builtin_memcpy(p, &v, 4);
	} else if (px_bytes == 2) {
		uint16_t h = (uint16_t)v;

		__builtin_memcpy(p, &h, 2);
	} else {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
		p[2] = (uint8_t)(v >> 16);
	}
}

/* Draw the character and colour the grid holds for cell (r, col). */
static void cell_draw(struct fbcon *c, uint32_t r, uint32_t col)
{
	const struct psf_font *f = &c->font;
	uint8_t ch = c->text[r][col];
	const uint8_t *bits = psf_glyph(f, f->ascii[ch & (PSF_ASCII_CHARS - 1)]);
	uint32_t fg = c->fg[c->colour[r][col] % FBCON_NR_COLOURS];
	uint8_t *line = c->pixels + (uint64_t)r * f->height_px * c->pitch_bytes +
			(uint64_t)col * f->width_px * c->px_bytes;
	uint32_t x, y;

	for (y = 0; y < f->height_px; y++, line += c->pitch_bytes, bits += f->row_bytes)
		for (x = 0; x < f->width_px; x++)
			px_store(line + x * c->px_bytes, c->px_bytes,
				 (bits[x / 8] & (0x80u >> (x % 8))) ? fg : c->bg);
}

/* Put ch in colour into cell (r, col), drawing it only if it changes. */
static void cell_set(struct fbcon *c, uint32_t r, uint32_t col, uint8_t ch, uint8_t colour)
{
	if (c->text[r][col] == ch && c->colour[r][col] == colour)
		return;
	c->text[r][col] = ch;
	c->colour[r][col] = colour;
	cell_draw(c, r, col);
}

/* Move every line up by one and blank the last. */
static void screen_scroll(struct fbcon *c)
{
	uint32_t r, col;

	for (r = 0; r + 1 < c->rows; r++)
		for (col = 0; col < c->cols; col++)
			cell_set(c, r, col, c->text[r + 1][col], c->colour[r + 1][col]);
	for (col = 0; col < c->cols; col++)
		cell_set(c, c->rows - 1, col, FBCON_BLANK, FBCON_COLOUR_NORMAL);
}

static void cursor_newline(struct fbcon *c)
{
	c->col = 0;
	if (c->row + 1 < c->rows)
		c->row++;
	else
		screen_scroll(c);
}

/* Draw a printable byte at the cursor, wrapping first if the line is full. */
static void char_put(struct fbcon *c, uint8_t ch, uint8_t colour)
{
	if (ch < FBCON_ASCII_FIRST || ch > FBCON_ASCII_LAST)
		ch = FBCON_UNKNOWN;
	if (c->col >= c->cols)
		cursor_newline(c);
	cell_set(c, c->row, c->col, ch, colour);
	c->col++;
}

static void byte_put(struct fbcon *c, uint8_t ch, uint8_t colour)
{
	if (ch == '\n') {
		cursor_newline(c);
	} else if (ch == '\r') {
		c->col = 0;
	} else if (ch == '\t') {
		do
			char_put(c, FBCON_BLANK, colour);
		while (c->col % FBCON_TAB_COLS && c->col < c->cols);
	} else {
		char_put(c, ch, colour);
	}
}

/* Fill all of the framebuffer (beyond the text cells too) with the background. */
static void screen_clear(struct fbcon *c, const struct boot_fb *fb)
{
	uint32_t x, y;

	for (y = 0; y < fb->height; y++)
		for (x = 0; x < fb->width; x++)
			px_store(c->pixels + (uint64_t)y * c->pitch_bytes + x * c->px_bytes,
				 c->px_bytes, c->bg);
	memset(c->text, FBCON_BLANK, sizeof(c->text));
	memset(c->colour, FBCON_COLOUR_NORMAL, sizeof(c->colour));
	c->row = c->col = 0;
}

/* Set up a console on a framebuffer; see fbcon.h. */
int fbcon_setup(struct fbcon *c, const struct boot_fb *fb, void *pixels,
		const void *font, uint64_t font_bytes)
{
	uint32_t i;
	int rc;

	rc = psf_parse(font, font_bytes, &c->font);
	if (rc == 0 && !pixels)
		rc = -EINVAL;
	if (rc == 0)
		rc = fb_check(fb);
	if (rc)
		return rc;
	c->pixels = pixels;
	c->pitch_bytes = fb->pitch;
	c->px_bytes = fb->bpp / 8;
	c->cols = MIN(fb->width / c->font.width_px, FBCON_MAX_COLS);
	c->rows = MIN(fb->height / c->font.height_px, FBCON_MAX_ROWS);
	if (!c->cols || !c->rows)
		return -ENOSPC;
	for (i = 0; i < FBCON_NR_COLOURS; i++)
		c->fg[i] = rgb_pack(fb, fbcon_rgb[i]);
	c->bg = 0;
	screen_clear(c, fb);
	return 0;
}

/* Draw text at the cursor; see fbcon.h. */
void fbcon_write(struct fbcon *c, uint32_t colour, const char *s, uint32_t len)
{
	uint32_t i;

	/* A CPU that the log lock gave up waiting for may write at the
	 * same time (log.c): keep the cursor inside the grid whatever it did. */
	if (c->row >= c->rows)
		c->row = c->rows - 1;
	for (i = 0; i < len; i++)
		byte_put(c, (uint8_t)s[i], (uint8_t)(colour % FBCON_NR_COLOURS));
}

static void screen_sink_write(int level, const char *s, uint32_t len)
{
	uint32_t colour = level == LOG_ERR ? FBCON_COLOUR_ERROR :
			  level == LOG_WARN ? FBCON_COLOUR_WARN : FBCON_COLOUR_NORMAL;

	fbcon_write(&screen, colour, s, len);
}

/* Make a framebuffer the hypervisor's screen; see fbcon.h. */
int fbcon_init(const struct boot_fb *fb, void *pixels, const void *font, uint64_t font_bytes)
{
	int rc;

	if (screen_sink.write)
		return -EBUSY;
	rc = fbcon_setup(&screen, fb, pixels, font, font_bytes);
	if (rc)
		return rc;
	screen_sink.write = screen_sink_write;
	log_add_sink(&screen_sink);
	return 0;
}

/* Stop drawing on the framebuffer for good; see fbcon.h. */
void fbcon_release(void)
{
	if (screen_sink.write)
		log_remove_sink(&screen_sink);
}
