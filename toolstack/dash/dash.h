/*
 * Pure part of `keel dashboard`, the monitor in a browser: the history of
 * each domain's CPU% and the byte rates of its disks and NICs, the state
 * document (JSON) built from the same samples and rows `keel top` shows,
 * and the checks of what a browser asks for (an action and its target,
 * the control token, a static file's name). No I/O and no HTTP:
 * cli/cmd_dashboard.c serves these with libmicrohttpd, tests/unit and
 * tests/fuzz check them.
 */
#ifndef KEEL_TOOLSTACK_DASH_H
#define KEEL_TOOLSTACK_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "top.h"

#define DASH_HIST_POINTS 300u   /* points of history, one a second: 5 minutes */
#define DASH_TOKEN_DIGITS 8u    /* the control token, as the pairing code */
#define DASH_NAME_MAX 63u       /* a domain or preset name, in bytes */
#define DASH_ARGS_MAX 6u        /* words of the keel command an action runs */
#define DASH_FILE_MAX 48u       /* a static file's name, in bytes */

/* One domain's history: CPU% and rates, oldest first in a ring. */
struct dash_hist_dom {
	uint32_t domid;
	char name[KEEL_DOMAIN_NAME_BYTES + 1];
	uint32_t n;              /* points kept (up to DASH_HIST_POINTS) */
	uint32_t head;           /* index of the next point */
	int32_t cpu_tenths[DASH_HIST_POINTS]; /* TOP_PCT_NONE: no figure */
	bool has_pts;            /* pts_ns is set */
	uint64_t pts_ns;         /* hypervisor clock the points reach */
	bool has_last;           /* last_* hold the previous counters */
	uint64_t last_ns;        /* hypervisor clock of the previous sample */
	uint64_t last_net_rx, last_net_tx, last_blk_rd, last_blk_wr;
	int64_t net_rx_bps, net_tx_bps, blk_rd_bps, blk_wr_bps; /* -1: none */
};

/* The history of every domain of the latest sample. */
struct dash_hist {
	uint32_t n;
	struct dash_hist_dom doms[TOP_MAX_DOMS];
};

/*
 * Add the sample taken at @now_ns (the hypervisor's clock) whose @n
 * domain @rows top_compute() made to @h: each domain gets its CPU% as
 * one point for each whole second the sample covers (none for a sample
 * less than a second after the last, ten for one ten seconds after it:
 * the dashboard samples less often while nobody watches, and a point
 * stays a second of the chart) and its byte rates from the change of
 * its counters; a domain
 * seen for the first time (a new id, or an id with another name) starts
 * an empty history, and one no longer in @rows is dropped.
 */
void dash_hist_push(struct dash_hist *h, const struct top_row *rows, uint32_t n,
		    uint64_t now_ns);

/* The history of domain @domid in @h, or NULL. */
const struct dash_hist_dom *dash_hist_find(const struct dash_hist *h, uint32_t domid);

/* What the state document shows, besides the sample. */
struct dash_extra {
	const char *compat;      /* the compatibility report (keel info --compat) */
	const char *const *presets; /* the presets' names */
	uint32_t n_presets;
	const char *last_action; /* what the last action said, or NULL */
	bool control;            /* actions are possible (with the token) */
};

/*
 * Write the state document for sample @cur, its @n domain @rows and
 * @n_cpus @cpus (top_compute, top_compute_cpus), history @h and @x into
 * @buf (@len bytes) as one line of JSON (docs/dashboard.md lists its
 * fields). Returns its length, or -ENOSPC.
 */
int dash_json_state(const struct top_sample *cur, const struct top_row *rows, uint32_t n,
		    const struct top_cpu_row *cpus, uint32_t n_cpus, const struct dash_hist *h,
		    const struct dash_extra *x, char *buf, size_t len);

/* Actions a browser may ask for (POST /api/action). */
enum dash_verb {
	DASH_START,    /* a preset: keel starter --start PRESET */
	DASH_PAUSE,
	DASH_UNPAUSE,
	DASH_SHUTDOWN,
	DASH_DESTROY,
	DASH_CLONE,
	DASH_SAVE,
	DASH_NR_VERBS,
};

/* A checked action: the keel command line it runs. */
struct dash_action {
	enum dash_verb verb;
	char target[DASH_NAME_MAX + 1];
	char save_path[DASH_NAME_MAX + 32]; /* DASH_SAVE: where it goes
					     * (starter_save_path, as v in the starter) */
	const char *argv[DASH_ARGS_MAX + 1]; /* "keel", ..., NULL; points into this */
};

/*
 * Check the action @verb ("start", "pause", ...) on @target (a preset
 * for start, else a domain name) as a browser sent them (either may be
 * NULL), and fill @a with the command it runs: what the starter runs for
 * the same key. A name is 1 to DASH_NAME_MAX letters, digits, '.', '_'
 * or '-', not starting with '-' or '.'; dom0 (Domain-0) is refused for
 * every action. Whether the preset or domain exists is for the command
 * to say. Returns 0, or -EINVAL with the reason for the user in @err
 * (@len bytes).
 */
int dash_action_parse(const char *verb, const char *target, struct dash_action *a,
		      char *err, size_t len);

/*
 * Whether @given (from the X-Keel-Token header, NULL if none; dashes and
 * spaces ignored) is @token. Takes the same time whatever digits match.
 */
bool dash_token_ok(const char *given, const char *token);

/*
 * The static file a URL path @path names ("/" is index.html): its name
 * (letters, digits, '-', '_' and one '.', no folder) into @name (@len
 * bytes) and its MIME type into *@type. Returns 0, or -ENOENT for any
 * other path.
 */
int dash_static_name(const char *path, char *name, size_t len, const char **type);

#endif /* KEEL_TOOLSTACK_DASH_H */
