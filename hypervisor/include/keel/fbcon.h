/*
 * The framebuffer text console: the hypervisor's screen where the loader
 * left a linear graphics framebuffer instead of VGA text mode (UEFI's GOP,
 * passed on in the Multiboot2 framebuffer tag). It draws the log with a
 * PSF console font (keel/psf.h; the build takes it from Debian's
 * console-setup-linux) into the framebuffer's pixels, scrolls, and shows
 * warnings and errors in colour. Once dom0 owns the screen (efifb),
 * fbcon_release stops it for good.
 *
 * struct fbcon and fbcon_setup/fbcon_write are pure (they only touch the
 * pixel memory they are given) and run in host unit tests; fbcon_init and
 * fbcon_release drive the one console the hypervisor logs to.
 */
#ifndef KEEL_FBCON_H
#define KEEL_FBCON_H

#include <stdint.h>
#include <keel/multiboot.h>
#include <keel/psf.h>

/* The console font the build links in (hypervisor/Makefile: a PSF file
 * from Debian's console-setup-linux package), fbcon_font_psf_end -
 * fbcon_font_psf bytes long. */
extern const uint8_t fbcon_font_psf[], fbcon_font_psf_end[];

#define FBCON_MAX_COLS 256u   /* wider screens keep their right part blank */
#define FBCON_MAX_ROWS 128u
#define FBCON_TAB_COLS 8u

/* Text colours (the background is black). */
#define FBCON_COLOUR_NORMAL 0u  /* light grey */
#define FBCON_COLOUR_WARN 1u    /* yellow */
#define FBCON_COLOUR_ERROR 2u   /* light red */
#define FBCON_NR_COLOURS 3u

struct fbcon {
	uint8_t *pixels;             /* the framebuffer's first pixel */
	uint32_t pitch_bytes;        /* bytes from one pixel line to the next */
	uint32_t px_bytes;           /* bytes of one pixel: 2, 3 or 4 */
	uint32_t cols, rows;         /* text cells on the screen */
	uint32_t row, col;           /* the cursor; col == cols: wrap before the next character */
	uint32_t fg[FBCON_NR_COLOURS]; /* pixel values of the text colours */
	uint32_t bg;                 /* pixel value of the background */
	struct psf_font font;
	uint8_t text[FBCON_MAX_ROWS][FBCON_MAX_COLS];   /* the character in each cell */
	uint8_t colour[FBCON_MAX_ROWS][FBCON_MAX_COLS]; /* its FBCON_COLOUR_* */
};

/*
 * Set up c to draw on the framebuffer described by fb (its addr is not
 * used), whose first pixel is at pixels, with the PSF font of font_bytes
 * bytes at font (which must stay there), and clear the screen. Only RGB
 * framebuffers of 16, 24 or 32 bits per pixel with channels of at most 8
 * bits are drawn on (Multiboot2 spec 3.6.12, framebuffer_type 1). Returns
 * 0; -EINVAL for a bad font, another framebuffer type or depth, or
 * inconsistent sizes; -ENOSPC when not one character fits.
 */
int fbcon_setup(struct fbcon *c, const struct boot_fb *fb, void *pixels,
		const void *font, uint64_t font_bytes);

/*
 * Draw len bytes of s at the cursor in colour (FBCON_COLOUR_*): '\n' starts
 * a new line, '\r' returns to its start, '\t' moves to the next multiple
 * of FBCON_TAB_COLS; other bytes outside printable ASCII show as '?'.
 * A full line wraps; below the last line the screen scrolls up one line.
 */
void fbcon_write(struct fbcon *c, uint32_t colour, const char *s, uint32_t len);

/*
 * Make the framebuffer fb, mapped at pixels, the hypervisor's screen: set
 * it up with the PSF font at font (font_bytes long) and add it as a log
 * sink, warnings in yellow and errors in red. Returns 0, -EBUSY when it
 * ran before, or fbcon_setup's -errno (the log then stays on its other
 * sinks).
 */
int fbcon_init(const struct boot_fb *fb, void *pixels, const void *font, uint64_t font_bytes);

/* Stop drawing for good (dom0 owns the framebuffer from now on); the log
 * goes on to its other sinks. Harmless when fbcon_init never succeeded. */
void fbcon_release(void);

#endif
