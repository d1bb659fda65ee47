/*
 * Pure key decoder of the `keel` full-screen programs (`keel top`, `keel
 * starter`): turns the bytes a terminal sends (Linux VGA console, VT100,
 * xterm over a serial line) into key codes. Escape sequences may arrive
 * split over several reads, so the decoder keeps a partial sequence
 * between calls; a lone Esc is only known to be one when no more bytes
 * follow, which the caller signals with keys_flush() after a short
 * timeout. No I/O, so tests/unit drives it byte by byte.
 */
#ifndef KEEL_TOOLSTACK_KEYS_H
#define KEEL_TOOLSTACK_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Key codes: bytes 0x00-0xFF stand for themselves, special keys follow. */
#define KEYS_ENTER '\r'     /* CR, LF or CR LF */
#define KEYS_TAB '\t'
#define KEYS_CTRL_C 0x03
#define KEYS_CTRL_L 0x0c
#define KEYS_UP 0x101
#define KEYS_DOWN 0x102
#define KEYS_RIGHT 0x103
#define KEYS_LEFT 0x104
#define KEYS_HOME 0x105
#define KEYS_END 0x106
#define KEYS_PGUP 0x107
#define KEYS_PGDN 0x108
#define KEYS_INSERT 0x109
#define KEYS_DELETE 0x10a
#define KEYS_BACKTAB 0x10b  /* Shift-Tab */
#define KEYS_ESC 0x10c      /* Esc alone */
#define KEYS_BACKSPACE 0x10d /* DEL (0x7f) or BS (0x08) */
#define KEYS_UNKNOWN 0x10e  /* an escape sequence we do not know, swallowed */
#define KEYS_F1 0x111       /* KEYS_F1 + n - 1 is Fn, up to F12 */

#define KEYS_SEQ_MAX_BYTES 16u /* longer sequences are given up on */
#define KEYS_ESC_TIMEOUT_MS 50u /* Esc with nothing after it this long */

/* Decoder state: a partial escape sequence and the CR-LF folding. */
struct keys_decoder {
	uint8_t seq[KEYS_SEQ_MAX_BYTES]; /* bytes of a pending sequence */
	uint32_t n_seq;
	bool last_cr; /* the last byte was CR: a following LF is dropped */
};

/* Reset @d to the empty state. */
void keys_init(struct keys_decoder *d);

/*
 * Decode the @n bytes at @in, writing up to @max key codes to @out. Bytes
 * of an unfinished escape sequence are kept for the next call.
 * Returns the number of keys written (keys beyond @max are dropped).
 */
size_t keys_feed(struct keys_decoder *d, const uint8_t *in, size_t n,
		 int32_t *out, size_t max);

/* True if @d holds the start of an escape sequence (call keys_flush()
 * when no byte follows within KEYS_ESC_TIMEOUT_MS). */
bool keys_pending(const struct keys_decoder *d);

/*
 * The input went quiet: a pending lone Esc becomes KEYS_ESC, an
 * unfinished longer sequence KEYS_UNKNOWN. Writes at most one key to
 * @out (room for one) and returns how many (0 or 1).
 */
size_t keys_flush(struct keys_decoder *d, int32_t *out);

#endif /* KEEL_TOOLSTACK_KEYS_H */
