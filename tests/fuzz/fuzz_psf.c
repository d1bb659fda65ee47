/*
 * libFuzzer target for the PSF font reader (hypervisor/common/psf.c),
 * with the framebuffer console (fbcon.c) drawing through what it accepts:
 * the font is input, read from a file the build takes from a Debian
 * package. Each input is a whole font file in an exact-size heap block,
 * so ASan catches any read past it. An accepted font must have glyphs of
 * at most PSF_MAX_WIDTH_PX x PSF_MAX_HEIGHT_PX that lie inside the input,
 * and an ASCII map that names only glyphs it has; every printable ASCII
 * character is then drawn onto a small 32-bpp framebuffer. Build and run
 * from the repository root:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all -Ihypervisor/include \
 *       tests/fuzz/fuzz_psf.c -o /tmp/fuzz_psf
 *   ./tests/fuzz/run.sh --seconds 60 fuzz_psf
 */
#include "../../hypervisor/common/psf.c"
#include "../../hypervisor/common/fbcon.c"
#include "fuzz.h"

#include <string.h>

#define FB_W_PX 200u
#define FB_H_PX 140u
#define FB_BPP 32u

void log_add_sink(struct log_sink *sink)
{
	(void)sink;
}

void log_remove_sink(struct log_sink *sink)
{
	(void)sink;
}

static struct fbcon con;
static uint32_t fb_pixels[FB_W_PX * FB_H_PX];

/* Draw every printable ASCII character and a few newlines. */
static void draw_all(const uint8_t *data, size_t size)
{
	static const struct boot_fb fb = {
		.width = FB_W_PX, .height = FB_H_PX, .pitch = FB_W_PX * 4, .bpp = FB_BPP,
		.type = BOOT_FB_TYPE_RGB, .red_pos = 16, .red_size = 8, .green_pos = 8,
		.green_size = 8, .blue_pos = 0, .blue_size = 8,
	};
	char text[0x7F - 0x20 + 3];
	uint32_t i;

	if (fbcon_setup(&con, &fb, fb_pixels, data, size))
		return;
	for (i = 0; i < 0x7F - 0x20; i++)
		text[i] = (char)(0x20 + i);
	text[i++] = '\n';
	text[i++] = '\t';
	text[i++] = '\n';
	fbcon_write(&con, FBCON_COLOUR_NORMAL, text, i);
	fbcon_write(&con, FBCON_COLOUR_ERROR, text, i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct psf_font f;
	uint8_t *copy = malloc(size ? size : 1);
	uint32_t c;

	memcpy(copy, data, size);
	if (psf_parse(copy, size, &f) == 0) {
		FUZZ_ASSERT(f.nr_glyphs >= 1);
		FUZZ_ASSERT(f.width_px >= 1 && f.width_px <= PSF_MAX_WIDTH_PX);
		FUZZ_ASSERT(f.height_px >= 1 && f.height_px <= PSF_MAX_HEIGHT_PX);
		FUZZ_ASSERT(f.glyphs >= copy);
		FUZZ_ASSERT((uint64_t)(f.glyphs - copy) + (uint64_t)f.nr_glyphs * f.glyph_bytes <= size);
		for (c = 0; c < PSF_ASCII_CHARS; c++)
			FUZZ_ASSERT(psf_glyph(&f, f.ascii[c]) != NULL);
		draw_all(copy, size);
	}
	free(copy);
	return 0;
}
