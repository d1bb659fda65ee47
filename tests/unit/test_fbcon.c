/*
 * Unit tests for hypervisor/common/psf.c and fbcon.c: PSF1 and PSF2 fonts
 * (with and without a Unicode table) are read, bad and truncated ones are
 * refused with -EINVAL; the framebuffer console draws glyphs into a
 * memory framebuffer of 32, 24 and 16 bits per pixel in the right
 * colours, and wraps, scrolls, handles tabs and control bytes. The screen
 * is read back by matching each character cell against the font, the way
 * the UEFI boot test reads QEMU's screendump.
 */
#include "../../hypervisor/common/psf.c"
#include "../../hypervisor/common/fbcon.c"

#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define GLYPH_H 16u
#define NGLYPHS 256u

/* log.c's sink list, as fbcon_init and fbcon_release use it. */
static struct log_sink *added_sink;

void log_add_sink(struct log_sink *sink)
{
	added_sink = sink;
}

void log_remove_sink(struct log_sink *sink)
{
	if (added_sink == sink)
		added_sink = NULL;
}

/* Glyph g of the test fonts: blank for a space, else row 0 = g,
 * row 1 = ~g and a few more bits, so every glyph differs. */
static void glyph_bits(uint32_t g, uint32_t row_bytes, uint32_t h, uint8_t *out)
{
	uint32_t y, b;

	memset(out, 0, row_bytes * h);
	if (g == ' ')
		return;
	for (y = 0; y < h; y++)
		for (b = 0; b < row_bytes; b++)
			out[y * row_bytes + b] = y == 0 ? (uint8_t)g : y == 1 ? (uint8_t)~g :
						 (uint8_t)((g * 37u + y * 11u + b) & 0xC3u);
}

/* A PSF1 font of 256 8x16 glyphs into buf; with table, the Unicode table
 * `table` (table_bytes) follows. Returns the length. */
static uint32_t psf1_make(uint8_t *buf, uint8_t mode, const uint8_t *table, uint32_t table_bytes)
{
	uint32_t g, n = (mode & PSF1_MODE512) ? 512 : 256;

	buf[0] = 0x36;
	buf[1] = 0x04;
	buf[2] = mode;
	buf[3] = GLYPH_H;
	for (g = 0; g < n; g++)
		glyph_bits(g & 0xFF, 1, GLYPH_H, buf + 4 + g * GLYPH_H);
	if (table)
		memcpy(buf + 4 + n * GLYPH_H, table, table_bytes);
	return 4 + n * GLYPH_H + table_bytes;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* A PSF2 font of n glyphs, width x height, optional table. Returns the length. */
static uint32_t psf2_make(uint8_t *buf, uint32_t n, uint32_t width, uint32_t height,
			  const uint8_t *table, uint32_t table_bytes)
{
	uint32_t rb = (width + 7) / 8, g;

	put32(buf, 0x864AB572u);
	put32(buf + 4, 0);
	put32(buf + 8, 32);
	put32(buf + 12, table ? 1 : 0);
	put32(buf + 16, n);
	put32(buf + 20, rb * height);
	put32(buf + 24, height);
	put32(buf + 28, width);
	for (g = 0; g < n; g++)
		glyph_bits(g, rb, height, buf + 32 + g * rb * height);
	if (table)
		memcpy(buf + 32 + n * rb * height, table, table_bytes);
	return 32 + n * rb * height + table_bytes;
}

static uint8_t fontbuf[64 * 1024];

static void test_psf1(void)
{
	uint8_t table[2 * 1024 * 2 + 16];
	struct psf_font f;
	uint32_t len, g, t = 0;

	len = psf1_make(fontbuf, 0, NULL, 0);
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), 0);
	CHECK_EQ_INT(f.nr_glyphs, 256);
	CHECK_EQ_INT(f.width_px, 8);
	CHECK_EQ_INT(f.height_px, GLYPH_H);
	CHECK_EQ_INT(f.ascii['A'], 'A');
	CHECK(psf_glyph(&f, 'A') == fontbuf + 4 + 'A' * GLYPH_H);
	CHECK(psf_glyph(&f, 256) == NULL);

	/* 512 glyphs with a table: 'A' is glyph 300, 'B' glyph 5 (its
	 * sequence entry with 'C' does not count), '?' glyph 7; 'C' and the
	 * rest fall back to '?'. */
	for (g = 0; g < 512; g++) {
		uint16_t v[4];
		uint32_t k = 0, i;

		if (g == 300)
			v[k++] = 'A';
		if (g == 5)
			v[k++] = 'B', v[k++] = 0xFFFE, v[k++] = 'C';
		if (g == 7)
			v[k++] = '?';
		if (g == 9)
			v[k++] = 0x00E9; /* not ASCII */
		for (i = 0; i < k; i++)
			table[t++] = (uint8_t)v[i], table[t++] = (uint8_t)(v[i] >> 8);
		table[t++] = 0xFF, table[t++] = 0xFF;
	}
	len = psf1_make(fontbuf, PSF1_MODE512 | PSF1_MODEHASTAB, table, t);
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), 0);
	CHECK_EQ_INT(f.nr_glyphs, 512);
	CHECK_EQ_INT(f.ascii['A'], 300);
	CHECK_EQ_INT(f.ascii['B'], 5);
	CHECK_EQ_INT(f.ascii['C'], 7);
	CHECK_EQ_INT(f.ascii['Z'], 7);
	/* the table ends before the last glyph's separator */
	CHECK_EQ_INT(psf_parse(fontbuf, len - 1, &f), -EINVAL);
	CHECK_EQ_INT(psf_parse(fontbuf, len - 2, &f), -EINVAL);
}

static void test_psf2(void)
{
	uint8_t table[4096];
	struct psf_font f;
	uint32_t len, g, t = 0;

	len = psf2_make(fontbuf, 128, 10, 20, NULL, 0);
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), 0);
	CHECK_EQ_INT(f.width_px, 10);
	CHECK_EQ_INT(f.row_bytes, 2);
	CHECK_EQ_INT(f.glyph_bytes, 40);
	CHECK_EQ_INT(f.ascii['x'], 'x');
	CHECK(psf_glyph(&f, 1) == fontbuf + 32 + 40);

	/* UTF-8 table: glyph g shows ASCII 127 - g; glyph 3 also U+00E9
	 * (C3 A9) and the sequence 'e' + U+0301, which must not count. */
	for (g = 0; g < 128; g++) {
		table[t++] = (uint8_t)(127 - g);
		if (g == 3) {
			table[t++] = 0xC3, table[t++] = 0xA9;
			table[t++] = 0xFE, table[t++] = 'e', table[t++] = 0xCC, table[t++] = 0x81;
		}
		table[t++] = 0xFF;
	}
	len = psf2_make(fontbuf, 128, 8, 16, table, t);
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), 0);
	CHECK_EQ_INT(f.ascii['A'], 127 - 'A');
	CHECK_EQ_INT(f.ascii['e'], 127 - 'e');
	CHECK_EQ_INT(f.ascii[0x7C], 3);
	CHECK_EQ_INT(psf_parse(fontbuf, len - 1, &f), -EINVAL);
}

/* Each way a PSF file can be broken is refused. */
static void test_psf_bad(void)
{
	struct psf_font f;
	uint32_t len;

	memset(&f, 0x5A, sizeof(f));
	CHECK_EQ_INT(psf_parse(fontbuf, 0, &f), -EINVAL);
	len = psf1_make(fontbuf, 0, NULL, 0);
	CHECK_EQ_INT(psf_parse(fontbuf, 3, &f), -EINVAL);          /* header */
	CHECK_EQ_INT(psf_parse(fontbuf, len - 1, &f), -EINVAL);    /* glyphs */
	fontbuf[3] = 0;                                            /* height 0 */
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), -EINVAL);
	fontbuf[3] = PSF_MAX_HEIGHT_PX + 1;
	CHECK_EQ_INT(psf_parse(fontbuf, sizeof(fontbuf), &f), -EINVAL);
	fontbuf[1] = 0x05;                                         /* magic */
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), -EINVAL);
	CHECK_EQ_INT(f.nr_glyphs, 0x5A5A5A5A);                     /* out untouched */

	len = psf2_make(fontbuf, 128, 8, 16, NULL, 0);
	CHECK_EQ_INT(psf_parse(fontbuf, 31, &f), -EINVAL);         /* header */
	CHECK_EQ_INT(psf_parse(fontbuf, len - 1, &f), -EINVAL);    /* glyphs */
	put32(fontbuf + 4, 1);                                     /* version */
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), -EINVAL);
	put32(fontbuf + 4, 0);
	put32(fontbuf + 8, 16);                                    /* header size */
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), -EINVAL);
	put32(fontbuf + 8, len + 1);
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), -EINVAL);
	put32(fontbuf + 8, 32);
	put32(fontbuf + 20, 17);                                   /* glyph bytes */
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), -EINVAL);
	put32(fontbuf + 20, 16);
	put32(fontbuf + 16, 0);                                    /* no glyphs */
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), -EINVAL);
	put32(fontbuf + 16, 0xFFFFFFFFu);                          /* too many */
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), -EINVAL);
	len = psf2_make(fontbuf, 2, PSF_MAX_WIDTH_PX + 1, 16, NULL, 0);
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), -EINVAL);
	len = psf2_make(fontbuf, 2, 0, 16, NULL, 0);
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), -EINVAL);
	len = psf2_make(fontbuf, 2, PSF_MAX_WIDTH_PX, PSF_MAX_HEIGHT_PX, NULL, 0);
	CHECK_EQ_INT(psf_parse(fontbuf, len, &f), 0);
}

/* ---- the console on a memory framebuffer */

static struct fbcon con;
static uint8_t *pixels;
static uint32_t font_len;

static struct boot_fb fb_make(uint32_t w, uint32_t h, uint8_t bpp)
{
	struct boot_fb fb = { .addr = 0x80000000u, .width = w, .height = h, .bpp = bpp,
			      .type = BOOT_FB_TYPE_RGB };

	fb.pitch = w * (bpp / 8) + 12; /* some padding, as real cards have */
	if (bpp == 16) {
		fb.red_pos = 11, fb.red_size = 5, fb.green_pos = 5, fb.green_size = 6;
		fb.blue_pos = 0, fb.blue_size = 5;
	} else {
		fb.red_pos = 16, fb.red_size = 8, fb.green_pos = 8, fb.green_size = 8;
		fb.blue_pos = 0, fb.blue_size = 8;
	}
	return fb;
}

static uint32_t px_at(const struct boot_fb *fb, uint32_t x, uint32_t y)
{
	const uint8_t *p = pixels + (uint64_t)y * fb->pitch + x * (fb->bpp / 8);
	uint32_t v = 0, i;

	for (i = 0; i < fb->bpp / 8u; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* The character drawn in cell (r, c): the glyph whose bits equal the
 * cell's non-background pixels, or 0 when none does. */
static char cell_read(const struct boot_fb *fb, uint32_t r, uint32_t c)
{
	uint8_t bits[GLYPH_H];
	uint32_t g, x, y;

	memset(bits, 0, sizeof(bits));
	for (y = 0; y < GLYPH_H; y++)
		for (x = 0; x < 8; x++)
			if (px_at(fb, c * 8 + x, r * GLYPH_H + y))
				bits[y] |= (uint8_t)(0x80u >> x);
	for (g = 0x20; g < 0x7F; g++)
		if (memcmp(psf_glyph(&con.font, g), bits, GLYPH_H) == 0)
			return (char)g;
	return 0;
}

/* Row r of the screen as text, trailing blanks cut. */
static const char *row_read(const struct boot_fb *fb, uint32_t r)
{
	static char line[FBCON_MAX_COLS + 1];
	uint32_t c, n = 0;

	for (c = 0; c < con.cols; c++) {
		line[c] = cell_read(fb, r, c);
		if (line[c] != ' ')
			n = c + 1;
	}
	line[n] = 0;
	return line;
}

static int fb_start(struct boot_fb *fb, uint32_t w, uint32_t h, uint8_t bpp)
{
	*fb = fb_make(w, h, bpp);
	free(pixels);
	pixels = malloc((size_t)fb->pitch * h);
	memset(pixels, 0x5A, (size_t)fb->pitch * h);
	return fbcon_setup(&con, fb, pixels, fontbuf, font_len);
}

static void write_str(uint32_t colour, const char *s)
{
	fbcon_write(&con, colour, s, (uint32_t)strlen(s));
}

static void test_fb_refused(void)
{
	struct boot_fb fb = fb_make(80, 48, 32);
	uint8_t px[4];

	CHECK_EQ_INT(fbcon_setup(&con, &fb, NULL, fontbuf, font_len), -EINVAL);
	CHECK_EQ_INT(fbcon_setup(&con, &fb, px, fontbuf, 3), -EINVAL);
	fb.type = BOOT_FB_TYPE_EGA_TEXT;
	CHECK_EQ_INT(fbcon_setup(&con, &fb, px, fontbuf, font_len), -EINVAL);
	fb = fb_make(80, 48, 32);
	fb.bpp = 8;
	CHECK_EQ_INT(fbcon_setup(&con, &fb, px, fontbuf, font_len), -EINVAL);
	fb = fb_make(80, 48, 32);
	fb.red_size = 9;
	CHECK_EQ_INT(fbcon_setup(&con, &fb, px, fontbuf, font_len), -EINVAL);
	fb = fb_make(80, 48, 16);
	fb.red_pos = 12;                      /* 12 + 5 bits > 16 */
	CHECK_EQ_INT(fbcon_setup(&con, &fb, px, fontbuf, font_len), -EINVAL);
	fb = fb_make(80, 48, 32);
	fb.pitch = 80 * 4 - 1;
	CHECK_EQ_INT(fbcon_setup(&con, &fb, px, fontbuf, font_len), -EINVAL);
	CHECK_EQ_INT(fb_start(&fb, 7, 48, 32), -ENOSPC);
	CHECK_EQ_INT(fb_start(&fb, 80, 15, 32), -ENOSPC);
}

/* A glyph lands in its cell pixel for pixel, in the level's colour, and
 * setup cleared the whole framebuffer, margins too. */
static void test_fb_draw32(void)
{
	struct boot_fb fb;
	const uint8_t *bits;
	uint32_t x, y, bad = 0;

	CHECK_EQ_INT(fb_start(&fb, 85, 50, 32), 0);
	CHECK_EQ_INT(con.cols, 10);
	CHECK_EQ_INT(con.rows, 3);
	for (y = 0; y < 50; y++)
		for (x = 0; x < 85; x++)
			bad += px_at(&fb, x, y) != 0;
	CHECK_EQ_INT(bad, 0);
	write_str(FBCON_COLOUR_NORMAL, "xA");
	bits = psf_glyph(&con.font, 'A');
	for (y = 0; y < GLYPH_H; y++)
		for (x = 0; x < 8; x++)
			bad += px_at(&fb, 8 + x, y) != ((bits[y] & (0x80 >> x)) ? 0xAAAAAAu : 0);
	CHECK_EQ_INT(bad, 0);
	write_str(FBCON_COLOUR_WARN, "W");
	write_str(FBCON_COLOUR_ERROR, "E");
	CHECK_EQ_U64(px_at(&fb, 16, 0), ('W' & 0x80) ? 0xFFFF55u : 0);
	CHECK_EQ_U64(px_at(&fb, 16 + 1, 0), ('W' & 0x40) ? 0xFFFF55u : 0);
	CHECK_EQ_U64(px_at(&fb, 24 + 1, 1), (~'E' & 0x40) ? 0xFF5555u : 0);
	CHECK_EQ_STR(row_read(&fb, 0), "xAWE");
}

static void test_fb_depths(void)
{
	struct boot_fb fb;

	/* 'A' row 1 is ~0x41 = 0xBE: pixel 0 set, pixel 1 clear */
	CHECK_EQ_INT(fb_start(&fb, 16, 16, 16), 0);
	write_str(FBCON_COLOUR_NORMAL, "A");
	CHECK_EQ_U64(px_at(&fb, 0, 1), (0xAAu >> 3) << 11 | (0xAAu >> 2) << 5 | 0xAAu >> 3);
	CHECK_EQ_U64(px_at(&fb, 1, 1), 0);
	CHECK_EQ_STR(row_read(&fb, 0), "A");
	CHECK_EQ_INT(fb_start(&fb, 16, 16, 24), 0);
	write_str(FBCON_COLOUR_ERROR, "A");
	CHECK_EQ_U64(px_at(&fb, 0, 1), 0xFF5555u);
	CHECK_EQ_STR(row_read(&fb, 0), "A");
}

static void test_fb_wrap_scroll(void)
{
	struct boot_fb fb;

	CHECK_EQ_INT(fb_start(&fb, 80, 48, 32), 0);
	write_str(0, "0123456789AB\n");
	CHECK_EQ_STR(row_read(&fb, 0), "0123456789");
	CHECK_EQ_STR(row_read(&fb, 1), "AB");
	CHECK_EQ_INT(con.row, 2);
	/* a line exactly as wide as the screen makes no empty line */
	write_str(0, "abcdefghij\nk");
	CHECK_EQ_STR(row_read(&fb, 1), "abcdefghij");
	CHECK_EQ_STR(row_read(&fb, 2), "k");
	/* scrolled once already: 'AB' went up, then the top line goes */
	CHECK_EQ_STR(row_read(&fb, 0), "AB");
	write_str(0, "\nlast");
	CHECK_EQ_STR(row_read(&fb, 0), "abcdefghij");
	CHECK_EQ_STR(row_read(&fb, 1), "k");
	CHECK_EQ_STR(row_read(&fb, 2), "last");
	write_str(0, "\n\n\n");
	CHECK_EQ_STR(row_read(&fb, 0), "");
	CHECK_EQ_STR(row_read(&fb, 2), "");
	CHECK_EQ_INT(con.row, 2);
	CHECK_EQ_INT(con.col, 0);
}

static void test_fb_controls(void)
{
	struct boot_fb fb;

	CHECK_EQ_INT(fb_start(&fb, 160, 32, 32), 0);
	write_str(0, "ab\tc\x01\xe9\rX");
	CHECK_EQ_STR(row_read(&fb, 0), "Xb      c??");
	write_str(0, "\n\t\t!");
	CHECK_EQ_STR(row_read(&fb, 1), "                !");
	con.row = 99;                      /* a cursor another CPU left outside */
	write_str(0, "z");
	CHECK_EQ_INT(con.row, 1);
}

/* fbcon_init makes a log sink that colours by level; fbcon_release
 * removes it. */
static void test_fb_sink(void)
{
	struct boot_fb fb = fb_make(80, 48, 32);

	free(pixels);
	pixels = calloc(1, (size_t)fb.pitch * fb.height);
	CHECK_EQ_INT(fbcon_init(&fb, pixels, fontbuf, 3), -EINVAL);
	CHECK(added_sink == NULL);
	fbcon_release();                   /* before any init: harmless */
	CHECK_EQ_INT(fbcon_init(&fb, pixels, fontbuf, font_len), 0);
	CHECK(added_sink != NULL);
	if (added_sink)
		added_sink->write(LOG_WARN, "W", 1);
	CHECK_EQ_U64(px_at(&fb, 0, 1), (~'W' & 0x80) ? 0xFFFF55u : 0);
	CHECK_EQ_U64(px_at(&fb, 1, 1), (~'W' & 0x40) ? 0xFFFF55u : 0);
	fbcon_release();
	CHECK(added_sink == NULL);
}

int main(void)
{
	test_psf1();
	test_psf2();
	test_psf_bad();
	font_len = psf1_make(fontbuf, 0, NULL, 0);
	test_fb_refused();
	test_fb_draw32();
	test_fb_depths();
	test_fb_wrap_scroll();
	test_fb_controls();
	test_fb_sink();
	free(pixels);
	return harness_done("fbcon");
}
