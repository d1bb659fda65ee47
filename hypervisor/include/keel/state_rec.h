/*
 * Domain state records (docs/save-restore.md): a writer that appends
 * typed records (struct keel_state_rec and a payload, padded to
 * KEEL_STATE_REC_ALIGN) to a caller's buffer, and a reader that walks such
 * a stream from an untrusted source, checking every header against the
 * bytes really there. Pure code: no allocation, no globals.
 */
#ifndef KEEL_STATE_REC_H
#define KEEL_STATE_REC_H

#include <stdint.h>
#include <public/keel_abi.h>

/* An output stream; err stays 0 until a record does not fit (-ENOSPC). */
struct state_writer {
	uint8_t *buf;
	uint64_t cap; /* bytes at buf */
	uint64_t len; /* bytes written */
	int err;
};

/* One record found by state_rec_next(): payload points into the stream. */
struct state_rec_view {
	uint32_t type;
	uint32_t instance;
	uint64_t length;
	const uint8_t *payload;
};

void state_writer_init(struct state_writer *w, uint8_t *buf, uint64_t cap);
int state_rec_put_parts(struct state_writer *w, uint32_t type, uint32_t instance,
			const void *head, uint64_t head_len, const void *tail, uint64_t tail_len);
int state_rec_put(struct state_writer *w, uint32_t type, uint32_t instance,
		  const void *payload, uint64_t length);
int state_rec_next(const uint8_t *buf, uint64_t len, uint64_t *pos,
		   struct state_rec_view *out);
int state_rec_payload(const struct state_rec_view *r, void *out, uint64_t size);

#endif /* KEEL_STATE_REC_H */
