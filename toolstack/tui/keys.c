/*
 * Key decoder of the `keel` full-screen programs (see keys.h). It knows
 * the sequences of the Linux console (arrows ESC [ A, Home ESC [ 1 ~, F1
 * ESC [ [ A), of VT100 in cursor-key application mode (ESC O A) and of
 * xterm (ESC [ H, ESC [ 1 ; 5 A with modifiers, which are ignored). A
 * sequence is collected byte by byte, so it may be split over reads.
 */
#include <string.h>

#include "keys.h"

#define KEYS_ESC_BYTE 0x1b

/* Reset a decoder; see keys.h. */
void keys_init(struct keys_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

/* Is a sequence pending; see keys.h. */
bool keys_pending(const struct keys_decoder *d)
{
	return d->n_seq > 0;
}

/* Key of the `ESC [ <n> ~` sequence with first parameter @n. */
static int32_t keys_tilde(uint32_t n)
{
	static const int32_t fkeys[] = {
		[11] = KEYS_F1,	    [12] = KEYS_F1 + 1, [13] = KEYS_F1 + 2,
		[14] = KEYS_F1 + 3, [15] = KEYS_F1 + 4, [17] = KEYS_F1 + 5,
		[18] = KEYS_F1 + 6, [19] = KEYS_F1 + 7, [20] = KEYS_F1 + 8,
		[21] = KEYS_F1 + 9, [23] = KEYS_F1 + 10, [24] = KEYS_F1 + 11,
	};

	switch (n) {
	case 1:
	case 7:
		return KEYS_HOME;
	case 4:
	case 8:
		return KEYS_END;
	case 2:
		return KEYS_INSERT;
	case 3:
		return KEYS_DELETE;
	case 5:
		return KEYS_PGUP;
	case 6:
		return KEYS_PGDN;
	default:
		break;
	}
	if (n < sizeof(fkeys) / sizeof(fkeys[0]) && fkeys[n])
		return fkeys[n];
	return KEYS_UNKNOWN;
}

/* Key of a final byte @c shared by CSI and SS3 (arrows, Home, End). */
static int32_t keys_final(uint8_t c)
{
	switch (c) {
	case 'A':
		return KEYS_UP;
	case 'B':
		return KEYS_DOWN;
	case 'C':
		return KEYS_RIGHT;
	case 'D':
		return KEYS_LEFT;
	case 'H':
		return KEYS_HOME;
	case 'F':
		return KEYS_END;
	default:
		return KEYS_UNKNOWN;
	}
}

/* Key of the complete CSI sequence ESC [ params final in @d. */
static int32_t keys_csi(const struct keys_decoder *d)
{
	uint8_t final = d->seq[d->n_seq - 1];
	uint32_t i, n = 0;

	if (final == 'Z')
		return KEYS_BACKTAB;
	if (final != '~')
		return keys_final(final);
	for (i = 2; i < d->n_seq - 1 && d->seq[i] >= '0' && d->seq[i] <= '9';
	     i++)
		n = n * 10 + (uint32_t)(d->seq[i] - '0');
	return keys_tilde(n);
}

/* Key of the complete SS3 sequence ESC O final in @d. */
static int32_t keys_ss3(const struct keys_decoder *d)
{
	uint8_t final = d->seq[2];

	if (final >= 'P' && final <= 'S')
		return KEYS_F1 + (final - 'P');
	if (final == 'M')
		return KEYS_ENTER;
	return keys_final(final);
}

/*
 * Look at the pending sequence after a byte was added: returns the key
 * when it is complete, 0 when more bytes are needed, or -1 when it
 * broke off (the last byte does not belong to it).
 */
static int32_t keys_step(const struct keys_decoder *d)
{
	uint8_t kind = d->seq[1], last = d->seq[d->n_seq - 1];

	if (d->n_seq == 2)
		return kind == '[' || kind == 'O' ? 0 : -1;
	if (kind == 'O')
		return keys_ss3(d);
	if (d->seq[2] == '[') { /* Linux console F1-F5: ESC [ [ A..E */
		if (d->n_seq == 3)
			return 0;
		return last >= 'A' && last <= 'E' ? KEYS_F1 + (last - 'A')
						  : KEYS_UNKNOWN;
	}
	if (last >= 0x40 && last <= 0x7e)
		return keys_csi(d);
	if (last >= 0x20 && last <= 0x3f)
		return d->n_seq < KEYS_SEQ_MAX_BYTES ? 0 : KEYS_UNKNOWN;
	return -1;
}

/* Output cursor of keys_feed(). */
struct keys_out {
	int32_t *keys;
	size_t max;
	size_t n;
};

/* Append @key to @o if there is room. */
static void keys_emit(struct keys_out *o, int32_t key)
{
	if (o->n < o->max)
		o->keys[o->n++] = key;
}

/* Decode one byte @b that is not part of a sequence. */
static void keys_plain(struct keys_decoder *d, uint8_t b, struct keys_out *o)
{
	if (b == KEYS_ESC_BYTE) {
		d->seq[0] = b;
		d->n_seq = 1;
		d->last_cr = false;
		return;
	}
	if (b == '\n' && d->last_cr) {
		d->last_cr = false;
		return;
	}
	d->last_cr = b == '\r';
	if (b == '\r' || b == '\n')
		keys_emit(o, KEYS_ENTER);
	else if (b == 0x7f || b == 0x08)
		keys_emit(o, KEYS_BACKSPACE);
	else
		keys_emit(o, b);
}

/* Decode one byte @b while a sequence is pending. */
static void keys_in_seq(struct keys_decoder *d, uint8_t b, struct keys_out *o)
{
	uint32_t had;
	int32_t key;

	d->seq[d->n_seq++] = b;
	had = d->n_seq;
	key = keys_step(d);
	if (key == 0)
		return;
	d->n_seq = 0;
	if (key > 0) {
		keys_emit(o, key);
		return;
	}
	/* broken off: a lone Esc before @b is Esc (Alt-<b> comes as Esc
	 * and <b>), a longer start an unknown sequence; then @b is decoded
	 * on its own */
	keys_emit(o, had == 2 ? KEYS_ESC : KEYS_UNKNOWN);
	keys_plain(d, b, o);
}

/* Decode bytes; see keys.h. */
size_t keys_feed(struct keys_decoder *d, const uint8_t *in, size_t n,
		 int32_t *out, size_t max)
{
	struct keys_out o = { .keys = out, .max = max, .n = 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		if (d->n_seq)
			keys_in_seq(d, in[i], &o);
		else
			keys_plain(d, in[i], &o);
	}
	return o.n;
}

/* The input went quiet; see keys.h. */
size_t keys_flush(struct keys_decoder *d, int32_t *out)
{
	if (!d->n_seq)
		return 0;
	out[0] = d->n_seq == 1 ? KEYS_ESC : KEYS_UNKNOWN;
	d->n_seq = 0;
	return 1;
}
