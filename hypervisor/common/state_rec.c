/*
 * Domain state records: the stream format shared by save/restore, clone
 * and migration (docs/save-restore.md). The writer never writes past its
 * buffer; the reader trusts nothing in the stream (it may come from a file
 * or another machine) and checks each header's length against the bytes
 * left, so a truncated or corrupted stream is refused, never overrun.
 */
#include <stdbool.h>

#include <keel/errno.h>
#include <keel/state_rec.h>
#include <keel/string.h>

/* Round n up to the record alignment; false if that overflows. */
static bool state_rec_padded(uint64_t n, uint64_t *out)
{
	if (n > UINT64_MAX - (KEEL_STATE_REC_ALIGN - 1))
		return false;
	*out = (n + KEEL_STATE_REC_ALIGN - 1) & ~(uint64_t)(KEEL_STATE_REC_ALIGN - 1);
	return true;
}

/* Start an empty stream in the cap bytes at buf. */
void state_writer_init(struct state_writer *w, uint8_t *buf, uint64_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

/*
 * Append a record of the given type and instance whose payload is the
 * head_len bytes at head followed by the tail_len bytes at tail (a fixed
 * struct and the variable part after it), zero-padded to
 * KEEL_STATE_REC_ALIGN. Returns 0, or -ENOSPC when it does not fit (then
 * nothing is written, and w->err keeps -ENOSPC so a caller may check once
 * after many records).
 */
int state_rec_put_parts(struct state_writer *w, uint32_t type, uint32_t instance,
			const void *head, uint64_t head_len, const void *tail, uint64_t tail_len)
{
	struct keel_state_rec h = { .type = type, .instance = instance };
	uint64_t padded, need, length;

	if (w->err)
		return w->err;
	if (tail_len > UINT64_MAX - head_len || !state_rec_padded(head_len + tail_len, &padded) ||
	    padded > UINT64_MAX - sizeof(h) || (need = sizeof(h) + padded) > w->cap - w->len) {
		w->err = -ENOSPC;
		return w->err;
	}
	length = head_len + tail_len;
	h.length = length;
	memcpy(w->buf + w->len, &h, sizeof(h));
	if (head_len)
		memcpy(w->buf + w->len + sizeof(h), head, head_len);
	if (tail_len)
		memcpy(w->buf + w->len + sizeof(h) + head_len, tail, tail_len);
	memset(w->buf + w->len + sizeof(h) + length, 0, padded - length);
	w->len += need;
	return 0;
}

/* Append a record with the length bytes at payload; as
 * state_rec_put_parts with no tail. */
int state_rec_put(struct state_writer *w, uint32_t type, uint32_t instance,
		  const void *payload, uint64_t length)
{
	return state_rec_put_parts(w, type, instance, payload, length, 0, 0);
}

/*
 * Read the record at *pos of the len-byte stream at buf into *out and
 * advance *pos past it and its padding. Returns 1 for a record, 0 at the
 * end of the stream, or -EINVAL when the stream is damaged: *pos not
 * aligned, a header cut off, or a payload (with its padding) longer than
 * the bytes left.
 */
int state_rec_next(const uint8_t *buf, uint64_t len, uint64_t *pos,
		   struct state_rec_view *out)
{
	struct keel_state_rec h;
	uint64_t left, padded;

	if (*pos == len)
		return 0;
	if (*pos > len || *pos % KEEL_STATE_REC_ALIGN)
		return -EINVAL;
	left = len - *pos;
	if (left < sizeof(h))
		return -EINVAL;
	memcpy(&h, buf + *pos, sizeof(h));
	if (!state_rec_padded(h.length, &padded) || padded > left - sizeof(h))
		return -EINVAL;
	out->type = h.type;
	out->instance = h.instance;
	out->length = h.length;
	out->payload = buf + *pos + sizeof(h);
	*pos += sizeof(h) + padded;
	return 1;
}

/*
 * Copy record r's payload into the size bytes at out. A shorter payload
 * (from an older ABI minor version) fills the start and leaves the rest
 * zero; a longer one (a newer version) is refused. Returns 0 or -EINVAL.
 */
int state_rec_payload(const struct state_rec_view *r, void *out, uint64_t size)
{
	if (r->length > size)
		return -EINVAL;
	memset(out, 0, size);
	if (r->length)
		memcpy(out, r->payload, r->length);
	return 0;
}
