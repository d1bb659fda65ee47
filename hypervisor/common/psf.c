/*
 * The PSF console-font reader (keel/psf.h). Layouts from kbd's
 * documentation (doc/font-formats/psf, src/psf.h): PSF1 is a 4-byte
 * header (magic 36 04, mode, bytes per glyph = height), 256 or 512 glyphs
 * 8 pixels wide, then, with PSF1_MODEHASTAB, per glyph a list of
 * little-endian UCS-2 values ending in 0xFFFF (0xFFFE starts sequences).
 * PSF2 is a 32-byte header (magic 72 B5 4A 86, version 0, header size,
 * flags, glyph count, bytes per glyph, height, width, all 32-bit
 * little-endian), the glyphs at header size, then, with
 * PSF2_HAS_UNICODE_TABLE, per glyph UTF-8 text ending in 0xFF (0xFE starts
 * sequences). Every size is checked against the data before it is used.
 */
#include <stddef.h>
#include <stdint.h>

#include <keel/errno.h>
#include <keel/psf.h>
#include <keel/string.h>

#define PSF1_MAGIC0 0x36u
#define PSF1_MAGIC1 0x04u
#define PSF1_HEADER_BYTES 4u
#define PSF1_MODE512 0x01u
#define PSF1_MODEHASTAB 0x02u
#define PSF1_WIDTH_PX 8u
#define PSF1_SEPARATOR 0xFFFFu
#define PSF1_STARTSEQ 0xFFFEu

#define PSF2_MAGIC 0x864AB572u     /* 72 B5 4A 86 read little-endian */
#define PSF2_HEADER_BYTES 32u
#define PSF2_MAX_VERSION 0u
#define PSF2_HAS_UNICODE_TABLE 0x01u
#define PSF2_SEPARATOR 0xFFu
#define PSF2_STARTSEQ 0xFEu

#define PSF_NO_GLYPH 0xFFFFu

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Map each ASCII code the font does not name to '?' (or glyph 0). */
static void ascii_fill_gaps(struct psf_font *f)
{
	uint16_t fallback = f->ascii['?'] != PSF_NO_GLYPH ? f->ascii['?'] : 0;
	uint32_t c;

	for (c = 0; c < PSF_ASCII_CHARS; c++)
		if (f->ascii[c] == PSF_NO_GLYPH)
			f->ascii[c] = fallback;
}

/* Without a Unicode table, code c is glyph c. */
static void ascii_identity(struct psf_font *f)
{
	uint32_t c;

	for (c = 0; c < PSF_ASCII_CHARS; c++)
		f->ascii[c] = c < f->nr_glyphs ? (uint16_t)c : PSF_NO_GLYPH;
}

/* Note that glyph g shows code point cp, if cp is ASCII and not yet taken. */
static void ascii_note(struct psf_font *f, uint32_t cp, uint32_t g)
{
	if (cp < PSF_ASCII_CHARS && f->ascii[cp] == PSF_NO_GLYPH)
		f->ascii[cp] = (uint16_t)g;
}

/* How a Unicode table is written: units of 1 (UTF-8) or 2 (UCS-2,
 * little-endian) bytes; a separator unit ends each glyph's list, and a
 * start-of-sequence unit begins the combining sequences in it. */
struct psf_table_fmt {
	uint32_t unit_bytes, separator, startseq;
};

static const struct psf_table_fmt psf1_fmt = { 2, PSF1_SEPARATOR, PSF1_STARTSEQ };
static const struct psf_table_fmt psf2_fmt = { 1, PSF2_SEPARATOR, PSF2_STARTSEQ };

/* Read the table of len bytes at t for every glyph of f. Sequences are
 * skipped; of UTF-8 only single bytes (ASCII) count, and UTF-8 never
 * contains 0xFE or 0xFF. -EINVAL if it ends before the last glyph's. */
static int table_read(struct psf_font *f, const uint8_t *t, uint64_t len,
		      const struct psf_table_fmt *fmt)
{
	uint64_t off = 0;
	uint32_t g, v;
	int in_seq;

	for (g = 0; g < f->nr_glyphs; g++) {
		for (in_seq = 0;; off += fmt->unit_bytes) {
			if (off + fmt->unit_bytes > len)
				return -EINVAL;
			v = fmt->unit_bytes == 2 ? (uint32_t)t[off] | (uint32_t)t[off + 1] << 8 : t[off];
			if (v == fmt->separator)
				break;
			if (v == fmt->startseq)
				in_seq = 1;
			else if (!in_seq)
				ascii_note(f, v, g);
		}
		off += fmt->unit_bytes;
	}
	return 0;
}

/* Check the glyph geometry in f against len bytes from the glyphs on. */
static int glyphs_check(const struct psf_font *f, uint64_t len)
{
	if (!f->nr_glyphs || !f->width_px || !f->height_px ||
	    f->width_px > PSF_MAX_WIDTH_PX || f->height_px > PSF_MAX_HEIGHT_PX ||
	    f->glyph_bytes != f->row_bytes * f->height_px)
		return -EINVAL;
	return (uint64_t)f->nr_glyphs * f->glyph_bytes <= len ? 0 : -EINVAL;
}

/* Check f's glyphs against the rest bytes from glyph 0 on, then map
 * ASCII through the Unicode table written as fmt that follows them, or
 * one to one without a table (has_table 0). */
static int glyphs_and_table(struct psf_font *f, uint64_t rest, uint32_t has_table,
			    const struct psf_table_fmt *fmt)
{
	uint64_t glyphs_len;
	int rc = glyphs_check(f, rest);

	if (rc)
		return rc;
	if (!has_table) {
		ascii_identity(f);
		return 0;
	}
	glyphs_len = (uint64_t)f->nr_glyphs * f->glyph_bytes;
	return table_read(f, f->glyphs + glyphs_len, rest - glyphs_len, fmt);
}

static int psf1_parse(const uint8_t *d, uint64_t len, struct psf_font *f)
{
	uint8_t mode = d[2];

	f->nr_glyphs = (mode & PSF1_MODE512) ? 512 : 256;
	f->width_px = PSF1_WIDTH_PX;
	f->row_bytes = 1;
	f->height_px = f->glyph_bytes = d[3];
	f->glyphs = d + PSF1_HEADER_BYTES;
	return glyphs_and_table(f, len - PSF1_HEADER_BYTES, mode & PSF1_MODEHASTAB, &psf1_fmt);
}

static int psf2_parse(const uint8_t *d, uint64_t len, struct psf_font *f)
{
	uint32_t hdr = rd32(d + 8), flags = rd32(d + 12);

	if (rd32(d + 4) > PSF2_MAX_VERSION || hdr < PSF2_HEADER_BYTES || hdr > len)
		return -EINVAL;
	f->nr_glyphs = rd32(d + 16);
	f->glyph_bytes = rd32(d + 20);
	f->height_px = rd32(d + 24);
	f->width_px = rd32(d + 28);
	f->row_bytes = (f->width_px + 7) / 8;
	f->glyphs = d + hdr;
	return glyphs_and_table(f, len - hdr, flags & PSF2_HAS_UNICODE_TABLE, &psf2_fmt);
}

/* Read a PSF1 or PSF2 font; see psf.h. */
int psf_parse(const void *data, uint64_t len, struct psf_font *out)
{
	const uint8_t *d = data;
	struct psf_font f;
	int rc;

	memset(&f, 0, sizeof(f));
	memset(f.ascii, 0xff, sizeof(f.ascii)); /* PSF_NO_GLYPH */
	if (len >= PSF2_HEADER_BYTES && rd32(d) == PSF2_MAGIC)
		rc = psf2_parse(d, len, &f);
	else if (len >= PSF1_HEADER_BYTES && d[0] == PSF1_MAGIC0 && d[1] == PSF1_MAGIC1)
		rc = psf1_parse(d, len, &f);
	else
		rc = -EINVAL;
	if (rc)
		return rc;
	ascii_fill_gaps(&f);
	*out = f;
	return 0;
}

/* The bitmap of glyph g; see psf.h. */
const uint8_t *psf_glyph(const struct psf_font *f, uint32_t g)
{
	return g < f->nr_glyphs ? f->glyphs + (uint64_t)g * f->glyph_bytes : NULL;
}
