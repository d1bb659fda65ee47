/*
 * Writing a guest's RAM into a save file: the whole of it from a paused
 * guest, or from a running one in rounds with its dirty page log
 * (`keel save --live`), which pauses it only for the last pages.
 */
#ifndef KEEL_CLI_SAVE_RAM_H
#define KEEL_CLI_SAVE_RAM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "precopy.h"

/* A save file being written. */
struct save_out {
	FILE *f;
	uint64_t pos;   /* bytes written */
	int err;        /* first write error (-errno) */
};

/* What a live copy did. */
struct save_live_report {
	struct precopy pc;      /* rounds and the dirty pages each found */
	uint64_t final_pages;   /* copied while paused */
	uint64_t pause_us;      /* CLOCK_MONOTONIC when it paused the guest */
	bool paused;            /* it paused the guest (the caller unpauses) */
};

/* CLOCK_MONOTONIC in microseconds (how long the guest was paused). */
uint64_t save_now_us(void);

/* Append @len bytes at @p to @o (the first error is kept in o->err). */
void out_bytes(struct save_out *o, const void *p, uint64_t len);

/* Append a section of @type with payload @p (@len bytes) and padding. */
void out_section(struct save_out *o, uint32_t type, const void *p, uint64_t len);

/*
 * Write the RAM of guest @domid (@ram_bytes of it; @verb, "save" or
 * "migrate", and @name for the progress line) as RAM sections, all-zero
 * pages left out. The guest is paused, or running with its dirty page log
 * on. 0 or a negative error.
 */
int save_ram(struct save_out *o, uint32_t domid, const char *verb, const char *name,
	     uint64_t ram_bytes);

/*
 * Turn the dirty page log of running guest @domid on (a message names why
 * it cannot be, as "keel: <verb>: ..."), or off again. 0 or a negative
 * error.
 */
int save_live_start(uint32_t domid, const char *verb, const char *name);
void save_live_stop(uint32_t domid);

/*
 * The RAM of running guest @domid, log on: the whole of it, then in rounds
 * the pages written meanwhile (RAM_PAGES sections, one progress line per
 * round on stderr, "keel: <verb>: ..."), until precopy_should_stop; then
 * it pauses the guest and writes the pages written up to the pause. @rep
 * says what happened; rep->paused is set once it paused the guest,
 * whatever the result. 0 or a negative error.
 */
int save_ram_live(struct save_out *o, uint32_t domid, const char *verb, const char *name,
		  uint64_t ram_bytes, struct save_live_report *rep);

#endif
