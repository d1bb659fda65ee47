/*
 * Full-screen view of `keel top`: draws the monitor's figures (top.h)
 * into a screen frame (screen.h) and turns keys (keys.h) into changes of
 * the view (sort order, interval, selected domain) or actions. The table
 * shows as many columns as fit the terminal's width (80 columns: all but
 * MEM% and MAX(M)); the selected domain's full figures, max memory
 * included, are shown in two detail lines below it. Pure: cmd_top.c does
 * the sampling and the terminal I/O.
 */
#ifndef KEEL_TOOLSTACK_TOP_VIEW_H
#define KEEL_TOOLSTACK_TOP_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "exitprof.h"
#include "screen.h"
#include "top.h"

#define TOP_VIEW_MIN_INTERVAL_MS 200u
#define TOP_VIEW_MAX_INTERVAL_MS 3600000u
#define TOP_VIEW_KEYS "q quit  c/m/n/i sort CPU/mem/name/id  r reverse  " \
		      "+/- interval  Up/Down  x exits"

/* What the caller should do after a key. */
enum top_view_action {
	TOP_VIEW_NONE,    /* redraw with the same figures */
	TOP_VIEW_QUIT,
	TOP_VIEW_SAMPLE,  /* take a new sample now (interval changed, ...) */
	TOP_VIEW_REPAINT, /* the terminal must be repainted in full */
};

/* State of the view. */
struct top_view {
	enum top_sort sort;
	bool reverse;
	uint32_t interval_ms;
	bool has_sel;        /* a domain is selected */
	uint32_t sel_domid;  /* ... this one (kept when rows are re-sorted) */
	const char *hint;    /* extra last line (the VGA console hint), or NULL */
	bool show_exits;     /* x: the selected domain's exit profile */
	const struct exitprof *exits; /* ... over the last interval, sorted;
				       * NULL until two samples were taken */
};

/* Initialise @v: sort by CPU%, interval @interval_ms, footer @hint. */
void top_view_init(struct top_view *v, uint32_t interval_ms, const char *hint);

/*
 * Apply key @key to @v; @rows (@n, as displayed: sorted) are needed to
 * move the selection. Returns what the caller should do.
 */
enum top_view_action top_view_key(struct top_view *v, int32_t key,
				  const struct top_row *rows, uint32_t n);

/* The domain id of the selected row of @rows (@n > 0, as displayed): the
 * one the user picked, or the first. */
uint32_t top_view_selected(const struct top_view *v, const struct top_row *rows, uint32_t n);

/*
 * Draw the monitor into @s (sized already): title and totals, the CPU
 * bars, the domain table of @n @rows (sorted by the caller with
 * top_sort()), the selected domain's details, the keys and the hint.
 * @cur is the sample the rows come from.
 */
void top_view_draw(struct screen *s, const struct top_view *v,
		   const struct top_sample *cur, const struct top_row *rows,
		   uint32_t n, const struct top_cpu_row *cpus, uint32_t n_cpus);

/*
 * Draw a notice screen into @s: @title on a reverse bar, @msg wrapped
 * over the lines below, @keys and @hint (either may be NULL) at the
 * bottom. Used when the hypervisor cannot be reached.
 */
void top_view_notice(struct screen *s, const char *title, const char *msg,
		     const char *keys, const char *hint);

/*
 * Format @v right-aligned into exactly @width characters of @buf; if it
 * does not fit, divide it by @div and append the next suffix of
 * @suffixes (e.g. 1024 and "MGT" for a KiB value, 1000 and "kMG" for a
 * count) until it does. Returns 0, or -ENOSPC if even that is too wide.
 */
int top_view_fmt_scaled(uint64_t v, uint32_t div, const char *suffixes,
			uint32_t width, char *buf, size_t len);

#endif /* KEEL_TOOLSTACK_TOP_VIEW_H */
