/*
 * Writing a guest as a save stream (savefile.h): what `keel save` (into a
 * file) and `keel migrate` (over a link) share. The stream is the header
 * and CONFIG section (save_write_head), then the RAM, the vCPU and device
 * state, the console's history and END (save_write_body).
 */
#ifndef KEEL_CLI_SAVE_STREAM_H
#define KEEL_CLI_SAVE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "save_ram.h"

/* Bytes of room for a guest's config text. */
#define SAVE_CFG_TEXT_BYTES (64u << 10)

/* One save or migration: the guest, what to write and how it went. */
struct save_job {
	const struct keel_dominfo *d;
	const char *name;
	const char *verb;               /* "save" or "migrate", for messages */
	uint32_t abi;
	const char *cfg_text;
	uint8_t *state;                 /* KEEL_HC_MAX_ARG bytes */
	bool live;                      /* copy it while it runs (--live) */
	bool reported;                  /* an error was printed already */
	struct save_live_report rep;
};

/*
 * The config guest @name was created from (the monitor's saved copy),
 * with every NIC's MAC written out so that its copy keeps them, as text
 * into @text (@len bytes). Prints why not as "keel: <verb>: ...".
 * Returns 0 or a negative error.
 */
int save_config_text(const char *verb, const char *name, char *text, size_t len);

/* Write the stream's header and CONFIG section for @j to @o (errors are
 * kept in o->err). */
void save_write_head(struct save_out *o, const struct save_job *j);

/*
 * Write the rest of the stream for @j to @o: the RAM (j->live: in rounds
 * while the guest runs, and it is paused at the end, see save_ram_live),
 * then the state of the paused guest, its console's history and END.
 * Returns 0 or a negative error; j->reported says a message was printed.
 */
int save_write_body(struct save_out *o, struct save_job *j);

/* Print the line that says what a live copy did: its rounds, the pages
 * copied again and how long (@paused_us) the guest was paused. */
void save_live_print(const struct save_job *j, uint64_t paused_us);

/*
 * Connect to the hypervisor (its ABI into j->abi) and find the guest
 * @word names into @d and its name into @name (KEEL_DOMAIN_NAME_BYTES + 1
 * bytes): a guest that runs or is paused, not Domain-0, made by `keel
 * create`, whose config text goes into @cfg_text (SAVE_CFG_TEXT_BYTES).
 * Fills j->d, j->name and j->cfg_text; j->verb names the command in the
 * messages. Returns 0 or a negative error (printed).
 */
int save_pick_guest(struct save_job *j, const char *word, struct keel_dominfo *d, char *name,
		    char *cfg_text);

/* Destroy guest @domid (@name), whose copy is safe elsewhere, so that its
 * monitor lets it go and its DNS name is freed. 0 or a negative error
 * (printed). */
int save_drop_source(uint32_t domid, const char *name);

#endif
