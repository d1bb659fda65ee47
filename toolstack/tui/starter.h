/*
 * Pure part of `keel starter`, the full-screen guest starter: the preset
 * model (a guest config from the configs directory with what one
 * instance costs), how many more instances fit, automatic unique names
 * (tiny, tiny2, tiny3, ...), the checks and plain-words messages shown in
 * the status line, the keys (what a key does in which list) and drawing
 * the screen into a frame (screen.h). No I/O: cmd_starter.c reads the
 * configs, runs `keel create` and the domain controls, and drives the
 * terminal.
 */
#ifndef KEEL_TOOLSTACK_STARTER_H
#define KEEL_TOOLSTACK_STARTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "config.h"
#include "screen.h"

#define STARTER_MAX_PRESETS 32u
#define STARTER_MAX_GUESTS 64u
#define STARTER_PATH_BYTES 512u
#define STARTER_LABEL_BYTES 64u
#define STARTER_TEXT_BYTES 256u
#define STARTER_MEM_ALIGN_BYTES (2ull << 20) /* guest RAM granularity */
#define STARTER_NAME_SUFFIX_MAX 999u         /* tiny2 .. tiny999 */
#define STARTER_KEYS_PRESETS "Enter start  1-9 pick  Up/Down move  " \
			     "Tab guests  q quit"
#define STARTER_KEYS_GUESTS "c console  p pause/unpause  v save  n clone  " \
			    "s shutdown  d destroy  Tab  q quit" /* 80 columns */
#define STARTER_SAVES_DIR "/run/keel/saves" /* where v saves guests */
#define STARTER_SAVED_SUFFIX " [saved]"      /* label of a saved guest */

/* One preset: a config file of the configs directory. */
struct starter_preset {
	char path[STARTER_PATH_BYTES];      /* the .cfg file */
	char label[STARTER_LABEL_BYTES];    /* file name without ".cfg" */
	char name[CONFIG_NAME_MAX + 1];     /* its `name`: base of instance names */
	char description[STARTER_TEXT_BYTES];
	uint32_t memory_mib;
	uint32_t vcpus;
	uint64_t need_bytes;  /* guest pool memory one instance takes */
	bool ok;              /* false: the file has an error, in @error */
	bool saved;           /* a guest saved by v (path: its .sav file):
			       * Enter restores it, once */
	char error[STARTER_TEXT_BYTES];
};

/* Which list the cursor is in. */
enum starter_focus {
	STARTER_FOCUS_PRESETS,
	STARTER_FOCUS_GUESTS,
};

/* What the caller should do after a key. */
enum starter_action {
	STARTER_NONE,     /* just redraw */
	STARTER_QUIT,
	STARTER_START,    /* start the selected preset */
	STARTER_CONSOLE,  /* attach to the selected guest's console */
	STARTER_PAUSE,    /* pause the selected guest */
	STARTER_UNPAUSE,
	STARTER_SHUTDOWN,
	STARTER_DESTROY,  /* confirmed with y */
	STARTER_SAVE,     /* save the selected guest to STARTER_SAVES_DIR */
	STARTER_CLONE,    /* clone the selected guest (keel clone) */
	STARTER_REPAINT,  /* repaint the terminal in full */
};

/* State of the starter's screen. */
struct starter_ui {
	enum starter_focus focus;
	uint32_t preset_sel;
	bool has_guest_sel;
	uint32_t guest_sel_domid;   /* selected guest (kept as the list changes) */
	bool confirm;               /* "Destroy x? y/n" is being asked */
	uint32_t confirm_domid;
	char status[STARTER_TEXT_BYTES]; /* the status line */
	bool status_error;          /* shown highlighted */
	const char *dir;            /* the configs directory, for the title */
	const char *hint;           /* extra last line, or NULL */
	char machine[STARTER_TEXT_BYTES]; /* row 1: what the compatibility
					   * report says of this machine */
};

/*
 * Summarize the compatibility report (the text of /etc/keel/compat, one
 * line per '\n') for the starter's second row: its "Guests:" verdict and
 * what its "virtualization:" line says, joined by "; ", into out (n
 * bytes), the verdict first so that a narrow screen keeps it. "" when
 * report is NULL or has neither.
 */
void starter_machine_line(const char *report, char *out, size_t n);

/*
 * Pool memory one instance of @cfg takes: its RAM rounded up to
 * STARTER_MEM_ALIGN_BYTES plus its ram: disks. Shared file: images are
 * not counted (they are loaded once for all instances).
 */
uint64_t starter_need_bytes(const struct config *cfg);

/*
 * Fill @p from the parsed and checked config @cfg read from @path
 * (label: the file name without ".cfg").
 */
void starter_preset_fill(struct starter_preset *p, const char *path,
			 const struct config *cfg);

/*
 * Fill @p as the guest @name saved in @path (a `keel save` file of a
 * guest with @ram_bytes and @nr_vcpus, saved at @when, e.g. "14:05"):
 * the label is the name with STARTER_SAVED_SUFFIX, starting it restores
 * it, and it fits at most once.
 */
void starter_preset_saved(struct starter_preset *p, const char *path, const char *name,
			  uint64_t ram_bytes, uint32_t nr_vcpus, const char *when);

/*
 * The file v saves guest @name to: STARTER_SAVES_DIR/<name>.sav, into
 * @out (@len bytes). 0, or -ENOSPC.
 */
int starter_save_path(const char *name, char *out, size_t len);

/*
 * Mark @p, read from @path, as broken with message @err (the config
 * parser's "<file>:<line>: ..." text).
 */
void starter_preset_broken(struct starter_preset *p, const char *path,
			   const char *err);

/* Sort @n presets by label. */
void starter_sort_presets(struct starter_preset *p, uint32_t n);

/*
 * How many more instances of @p fit: free pool memory / need_bytes, 0 if
 * the preset asks for more vCPUs than the pool has CPUs or is broken.
 */
uint32_t starter_fits(const struct starter_preset *p,
		      const struct keel_info *info);

/*
 * Choose the name of a new instance of a preset whose config name is
 * @base: @base if no domain in @doms (@n) has it, else @base2, @base3,
 * ... (the base shortened so the name stays within CONFIG_NAME_MAX).
 * Writes it to @out (@len bytes). Returns 0, or -EEXIST if all up to
 * STARTER_NAME_SUFFIX_MAX are taken, -ENOSPC if @len is too small.
 */
int starter_auto_name(const char *base, const struct keel_dominfo *doms,
		      uint32_t n, char *out, size_t len);

/*
 * Check that an instance of @p can start under @info; if not, write why
 * in plain words to @msg ("Not enough free memory for debian (needs 256
 * MiB, 180 MiB free)"). Returns 0, -ENOMEM, -ENOSPC (vCPUs) or -EINVAL
 * (a broken preset).
 */
int starter_check(const struct starter_preset *p, const struct keel_info *info,
		  char *msg, size_t len);

/*
 * The status line after `keel create` for instance @name ended with
 * exit status @status and printed @output (stdout and stderr, may be
 * cut): "Started tiny2 (id 7) ..." on success, else "Could not start
 * tiny2: <its last "keel: " message without prefixes>". Writes @msg.
 */
void starter_create_result(const char *name, int status, const char *output,
			   char *msg, size_t len);

/*
 * The status line after `keel clone <name>` ended with exit status
 * @status and printed @output: "Cloned tiny as tiny-clone (id=8): its RAM
 * is shared copy-on-write" on success, else "Could not
 * clone tiny: <its last "keel: " message>". Writes @msg.
 */
void starter_clone_result(const char *name, int status, const char *output, char *msg,
			  size_t len);

/*
 * The status line after `keel save` (@restore false) or `keel restore`
 * (true) of guest @name ended with exit status @status and printed
 * @output: "Saved tiny: it stopped; Tab then Enter on 'tiny [saved]'
 * resumes it" or "Restored tiny (id=7) where it stopped" on success, else
 * "Could not save tiny: <its last "keel: " message>".
 */
void starter_save_result(const char *name, bool restore, int status, const char *output,
			 char *msg, size_t len);

/* Initialise @ui for configs directory @dir and hint line @hint. */
void starter_ui_init(struct starter_ui *ui, const char *dir, const char *hint);

/*
 * Apply key @key to @ui with @n_presets presets and the @n_guests guests
 * in @guests (Domain-0 left out). Returns what the caller should do; for
 * guest actions the guest is ui->guest_sel_domid (valid then).
 */
enum starter_action starter_key(struct starter_ui *ui, int32_t key,
				uint32_t n_presets,
				const struct keel_dominfo *guests,
				uint32_t n_guests);

/*
 * Index of the selected guest in @guests (@n), or -1 if none.
 * Selects the first one if the selected guest is gone.
 */
int starter_guest_index(struct starter_ui *ui,
			const struct keel_dominfo *guests, uint32_t n);

/* Set the status line of @ui to @text (@error: highlighted). */
void starter_status(struct starter_ui *ui, bool error, const char *text);

/*
 * Draw the starter into @s: title with free memory and uptime (@info,
 * NULL if unknown), the @n_presets @presets with how many fit, the
 * @n_guests @guests, the status line, the keys for the focused list and
 * the hint.
 */
void starter_draw(struct screen *s, const struct starter_ui *ui,
		  const struct starter_preset *presets, uint32_t n_presets,
		  const struct keel_info *info,
		  const struct keel_dominfo *guests, uint32_t n_guests);

#endif /* KEEL_TOOLSTACK_STARTER_H */
