/*
 * Reading a save stream (savefile.h) into a new domain: what `keel restore`
 * (from a file, checked whole first) and `keel migrate-receive` (from a
 * link, applied as it arrives) share.
 */
#ifndef KEEL_CLI_RESTORE_STREAM_H
#define KEEL_CLI_RESTORE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "savefile.h"

/* A save stream being read: where it comes from and what was kept. */
struct restore_file {
	const char *path;        /* the file, or the link's name, for messages */
	const char *verb;        /* "restore" or "migrate-receive" */
	FILE *f;
	uint64_t pos;            /* bytes read since the header began */
	struct savefile_header h;
	char *cfg_text;          /* CONFIG, NUL-terminated */
	uint8_t *state;          /* STATE */
	uint64_t state_len;
	uint8_t *console;        /* CONSOLE, or NULL */
	uint64_t console_len;
	uint8_t *payload;        /* room for the largest section */
	const struct config *cfg; /* the guest being restored */
};

/*
 * Read the next section of @r into r->payload, checking its length and
 * CRC; *@sec gets its header. Returns 1 when one was read, 0 at the end
 * of the stream, or -EINVAL with the message in @err.
 */
int restore_next(struct restore_file *r, struct savefile_section *sec, char *err,
		 size_t err_len);

/* A copy of the @len bytes at @p with a NUL after them (so a text section
 * reads as a string), or NULL without memory. */
uint8_t *restore_keep(const uint8_t *p, uint64_t len);

/* Free what @r keeps and close its file. */
void restore_close(struct restore_file *r);

/*
 * Parse r->cfg_text into @cfg with the @n key=value overrides @ov; it must
 * keep the saved guest's RAM and vCPUs. Prints errors as "keel: <verb>:".
 * Returns 0 or a negative error.
 */
int restore_config(const struct restore_file *r, char **ov, int n, struct config *cfg);

/*
 * Refuse to make @cfg new domain @domid while a running guest other than
 * one named @skip (may be NULL) has one of its MACs. Returns 0, -EEXIST
 * with the message in @err, or -ENOMEM.
 */
int restore_macs_free(const struct config *cfg, uint32_t domid, const char *skip,
		      char *err, size_t err_len);

/*
 * Unpack RAM or RAM_PAGES section @sec (in r->payload) and write it into
 * new domain @domid; @chunk is SAVEFILE_CHUNK_BYTES of scratch, and *@done
 * counts the bytes of RAM sections. 0, or a negative error with the
 * message in @err.
 */
int restore_section(struct restore_file *r, uint32_t domid, const struct savefile_section *sec,
		    uint8_t *chunk, uint64_t *done, char *err, size_t err_len);

#endif
