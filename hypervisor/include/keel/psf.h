/*
 * PC Screen Font (PSF) files, the console fonts of Linux's kbd and
 * Debian's console-setup, as the framebuffer console (fbcon.h) draws them.
 * Both versions are read: PSF1 (8 pixels wide, 256 or 512 glyphs, an
 * optional UCS-2 table) and PSF2 (any size, an optional UTF-8 table). The
 * layouts are those of kbd's documentation (doc/font-formats/psf and
 * src/psf.h). psf_parse is pure: it runs in host unit tests and fuzzers.
 */
#ifndef KEEL_PSF_H
#define KEEL_PSF_H

#include <stdint.h>

#define PSF_MAX_WIDTH_PX 32u   /* wider glyphs are refused */
#define PSF_MAX_HEIGHT_PX 64u  /* taller glyphs are refused */
#define PSF_ASCII_CHARS 128u

/* A parsed font; glyphs point into the caller's data. */
struct psf_font {
	const uint8_t *glyphs;        /* glyph 0's bitmap */
	uint32_t nr_glyphs;
	uint32_t width_px, height_px;
	uint32_t row_bytes;           /* bytes of one bitmap row, (width + 7) / 8 */
	uint32_t glyph_bytes;         /* bytes of one glyph's bitmap */
	uint16_t ascii[PSF_ASCII_CHARS]; /* the glyph index for each ASCII code */
};

/*
 * Read a PSF1 or PSF2 font of len bytes at data into out. The glyph for an
 * ASCII code comes from the font's Unicode table where it has one (else
 * the code itself is the index); a code the font has no glyph for gets
 * the glyph of '?', or glyph 0. Returns 0, or -EINVAL for an unknown
 * magic, a header that contradicts itself, glyphs larger than
 * PSF_MAX_WIDTH_PX x PSF_MAX_HEIGHT_PX, or data (glyphs or table) that
 * ends early.
 */
int psf_parse(const void *data, uint64_t len, struct psf_font *out);

/* The bitmap of glyph index g of f (row by row, most significant bit
 * leftmost), or NULL when g is out of range. */
const uint8_t *psf_glyph(const struct psf_font *f, uint32_t g);

#endif
