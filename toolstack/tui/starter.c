/*
 * Guest starter logic and screen (see starter.h). The screen, from the
 * top: a title bar with the guest pool's free memory and the uptime, the
 * presets (number, name, memory, vCPUs, how many more fit, description),
 * the running guests (id, name, state, memory, vCPUs, CPU time), the
 * status line, the keys of the focused list and the hint line. The
 * focused list's selection is in reverse video, the other list's in bold.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "domain.h"
#include "format.h"
#include "keys.h"
#include "starter.h"
#include "top.h"

#define STARTER_CFG_SUFFIX ".cfg"
#define STARTER_MIB (1ull << 20)
#define STARTER_PAGE_ROWS 5 /* PgUp/PgDn step */

/* ---- presets ---- */

/* Pool memory of one instance; see starter.h. */
uint64_t starter_need_bytes(const struct config *cfg)
{
	uint64_t need = ((uint64_t)cfg->memory_mib * STARTER_MIB +
			 STARTER_MEM_ALIGN_BYTES - 1) &
			~(STARTER_MEM_ALIGN_BYTES - 1);
	uint32_t i;

	for (i = 0; i < cfg->nr_disks; i++) {
		if (cfg->disks[i].kind == CONFIG_DISK_RAM)
			need += cfg->disks[i].ram_bytes;
	}
	return need;
}

/* Set the path and label of @p from @path. */
static void starter_preset_names(struct starter_preset *p, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n, suffix = strlen(STARTER_CFG_SUFFIX);

	memset(p, 0, sizeof(*p));
	snprintf(p->path, sizeof(p->path), "%s", path);
	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > suffix && strcmp(base + n - suffix, STARTER_CFG_SUFFIX) == 0)
		n -= suffix;
	snprintf(p->label, sizeof(p->label), "%.*s", (int)n, base);
}

/* Fill a preset from its config; see starter.h. */
void starter_preset_fill(struct starter_preset *p, const char *path,
			 const struct config *cfg)
{
	starter_preset_names(p, path);
	snprintf(p->name, sizeof(p->name), "%s", cfg->name);
	snprintf(p->description, sizeof(p->description), "%.*s",
		 (int)sizeof(p->description) - 1,
		 cfg->description[0] ? cfg->description : "(no description)");
	p->memory_mib = cfg->memory_mib;
	p->vcpus = cfg->vcpus;
	p->need_bytes = starter_need_bytes(cfg);
	p->ok = true;
}

/* Mark a preset broken; see starter.h. */
void starter_preset_broken(struct starter_preset *p, const char *path,
			   const char *err)
{
	starter_preset_names(p, path);
	snprintf(p->error, sizeof(p->error), "%s", err);
}

/* A saved guest as a preset; see starter.h. */
void starter_preset_saved(struct starter_preset *p, const char *path, const char *name,
			  uint64_t ram_bytes, uint32_t nr_vcpus, const char *when)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->path, sizeof(p->path), "%s", path);
	snprintf(p->label, sizeof(p->label), "%s%s", name, STARTER_SAVED_SUFFIX);
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->description, sizeof(p->description),
		 "saved at %s; Enter resumes it where it stopped", when);
	p->memory_mib = (uint32_t)(ram_bytes >> 20);
	p->vcpus = nr_vcpus;
	p->need_bytes = (ram_bytes + STARTER_MEM_ALIGN_BYTES - 1) &
			~(STARTER_MEM_ALIGN_BYTES - 1);
	p->ok = true;
	p->saved = true;
}

/* Where v saves a guest; see starter.h. */
int starter_save_path(const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s.sav", STARTER_SAVES_DIR, name);

	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* Sort presets by label; see starter.h. */
void starter_sort_presets(struct starter_preset *p, uint32_t n)
{
	uint32_t i, j;

	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && strcmp(p[j].label, p[j - 1].label) < 0; j--) {
			struct starter_preset tmp = p[j];

			p[j] = p[j - 1];
			p[j - 1] = tmp;
		}
	}
}

/* How many more instances fit; see starter.h. */
uint32_t starter_fits(const struct starter_preset *p,
		      const struct keel_info *info)
{
	uint64_t n;

	if (!p->ok || !p->need_bytes || p->vcpus > info->cpus_pool)
		return 0;
	n = info->mem_pool_free_bytes / p->need_bytes;
	if (p->saved && n > 1)
		n = 1; /* one guest, restored once */
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* True if a domain in @doms (@n) is called @name. */
static bool starter_name_taken(const char *name, const struct keel_dominfo *doms,
			       uint32_t n)
{
	uint32_t i;

	if (strcmp(name, DOMAIN_DOM0_NAME) == 0)
		return true;
	for (i = 0; i < n; i++) {
		if (strncmp(doms[i].name, name, sizeof(doms[i].name)) == 0)
			return true;
	}
	return false;
}

/* Choose an instance name; see starter.h. */
int starter_auto_name(const char *base, const struct keel_dominfo *doms,
		      uint32_t n, char *out, size_t len)
{
	char name[CONFIG_NAME_MAX + 1], suffix[16] = "";
	uint32_t i;
	size_t keep;

	for (i = 1; i <= STARTER_NAME_SUFFIX_MAX; i++) {
		if (i > 1)
			snprintf(suffix, sizeof(suffix), "%u", i);
		keep = CONFIG_NAME_MAX - strlen(suffix);
		snprintf(name, sizeof(name), "%.*s%s", (int)keep, base, suffix);
		if (starter_name_taken(name, doms, n))
			continue;
		if (strlen(name) >= len)
			return -ENOSPC;
		memcpy(out, name, strlen(name) + 1);
		return 0;
	}
	return -EEXIST;
}

/* Check a start; see starter.h. */
int starter_check(const struct starter_preset *p, const struct keel_info *info,
		  char *msg, size_t len)
{
	if (!p->ok) {
		snprintf(msg, len, "%s cannot be started: %s", p->label, p->error);
		return -EINVAL;
	}
	if (p->vcpus > info->cpus_pool) {
		snprintf(msg, len, "%s needs %u vCPUs, but only %u CPUs are kept "
			 "for guests", p->label, p->vcpus, info->cpus_pool);
		return -ENOSPC;
	}
	if (p->need_bytes > info->mem_pool_free_bytes) {
		snprintf(msg, len, "Not enough free memory for %s (needs %" PRIu64
			 " MiB, %" PRIu64 " MiB free)", p->label,
			 fmt_bytes_to_mib(p->need_bytes + STARTER_MIB - 1),
			 fmt_bytes_to_mib(info->mem_pool_free_bytes));
		return -ENOMEM;
	}
	return 0;
}

/* The last line of @output starting with "keel: ", into @buf, with the
 * "keel: " and "create: " prefixes removed; "" if there is none. */
static void starter_last_message(const char *output, char *buf, size_t len)
{
	static const char *const verbs[] = { "create: ", "restore: ", "save: ", "clone: " };
	const char *p = output, *found = NULL, *end;
	uint32_t i;

	buf[0] = '\0';
	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, "keel: ", 6) == 0)
			found = p + 6;
	}
	if (!found)
		return;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strncmp(found, verbs[i], strlen(verbs[i])) == 0)
			found += strlen(verbs[i]);
	end = strchr(found, '\n');
	snprintf(buf, len, "%.*s", (int)(end ? end - found : (long)strlen(found)),
		 found);
}

/* The status after a create; see starter.h. */
void starter_create_result(const char *name, int status, const char *output,
			   char *msg, size_t len)
{
	char why[STARTER_TEXT_BYTES];
	const char *id = strstr(output, "(id=");

	if (status == 0) {
		snprintf(msg, len, "Started %s%s%.*s. Tab then c: its console",
			 name, id ? " " : "",
			 id ? (int)strcspn(id, "\n") : 0, id ? id : "");
		return;
	}
	starter_last_message(output, why, sizeof(why));
	if (why[0])
		snprintf(msg, len, "Could not start %s: %s", name, why);
	else
		snprintf(msg, len, "Could not start %s: keel create failed "
			 "(exit status %d)", name, status);
}

/* The status after a clone; see starter.h. */
void starter_clone_result(const char *name, int status, const char *output, char *msg,
			  size_t len)
{
	const char *as = strstr(output, " as ");
	char why[STARTER_TEXT_BYTES];

	if (status == 0 && as) {
		as += 4;
		snprintf(msg, len, "Cloned %s as %.*s: its RAM is shared copy-on-write",
			 name, (int)strcspn(as, "\n;"), as);
		return;
	}
	starter_last_message(output, why, sizeof(why));
	if (status == 0)
		snprintf(msg, len, "Cloned %s", name);
	else if (why[0])
		snprintf(msg, len, "Could not clone %s: %s", name, why);
	else
		snprintf(msg, len, "Could not clone %s: keel clone failed (exit status %d)", name,
			 status);
}

/* The status after a save or restore; see starter.h. */
void starter_save_result(const char *name, bool restore, int status, const char *output,
			 char *msg, size_t len)
{
	char why[STARTER_TEXT_BYTES];
	const char *id = strstr(output, "(id=");

	if (status == 0 && restore) {
		snprintf(msg, len, "Restored %s%s%.*s where it stopped", name, id ? " " : "",
			 id ? (int)strcspn(id, " \n") : 0, id ? id : "");
		return;
	}
	if (status == 0) {
		snprintf(msg, len, "Saved %s: it stopped; Tab, then Enter on '%s%s' "
			 "resumes it", name, name, STARTER_SAVED_SUFFIX);
		return;
	}
	starter_last_message(output, why, sizeof(why));
	if (why[0])
		snprintf(msg, len, "Could not %s %s: %s", restore ? "restore" : "save", name, why);
	else
		snprintf(msg, len, "Could not %s %s: keel %s failed (exit status %d)",
			 restore ? "restore" : "save", name, restore ? "restore" : "save", status);
}

/* ---- keys ---- */

/* Set up the screen state; see starter.h. */
void starter_ui_init(struct starter_ui *ui, const char *dir, const char *hint)
{
	memset(ui, 0, sizeof(*ui));
	ui->dir = dir;
	ui->hint = hint;
}

/* Copy the line of report that starts with key (without its newline, and
 * without key itself if drop_key) to the end of out (n bytes), after "; "
 * if out is not empty. */
static void starter_take_line(const char *report, const char *key, bool drop_key,
			      char *out, size_t n)
{
	const char *p = report;
	size_t used = strlen(out), len;

	while (p && *p && strncmp(p, key, strlen(key))) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (!p || !*p)
		return;
	if (drop_key)
		p += strspn(p + strlen(key), " ") + strlen(key);
	len = strcspn(p, "\n");
	snprintf(out + used, n - used, "%s%.*s", used ? "; " : "", (int)len, p);
}

/* Summarize the compatibility report; see starter.h. */
void starter_machine_line(const char *report, char *out, size_t n)
{
	if (!n)
		return;
	out[0] = 0;
	if (!report)
		return;
	starter_take_line(report, "Guests:", false, out, n);
	starter_take_line(report, "virtualization:", true, out, n);
}

/* Set the status line; see starter.h. */
void starter_status(struct starter_ui *ui, bool error, const char *text)
{
	snprintf(ui->status, sizeof(ui->status), "%s", text);
	ui->status_error = error;
}

/* Index of the selected guest; see starter.h. */
int starter_guest_index(struct starter_ui *ui,
			const struct keel_dominfo *guests, uint32_t n)
{
	uint32_t i;

	if (!n) {
		ui->has_guest_sel = false;
		return -1;
	}
	for (i = 0; ui->has_guest_sel && i < n; i++) {
		if (guests[i].domid == ui->guest_sel_domid)
			return (int)i;
	}
	ui->has_guest_sel = true;
	ui->guest_sel_domid = guests[0].domid;
	return 0;
}

/* Move the selection of the focused list by @delta (clamped). */
static void starter_move(struct starter_ui *ui, int32_t delta,
			 uint32_t n_presets, const struct keel_dominfo *guests,
			 uint32_t n_guests)
{
	int64_t i, n;

	if (ui->focus == STARTER_FOCUS_PRESETS) {
		i = (int64_t)ui->preset_sel;
		n = n_presets;
	} else {
		i = starter_guest_index(ui, guests, n_guests);
		n = n_guests;
	}
	if (n <= 0)
		return;
	i += delta;
	i = i < 0 ? 0 : i >= n ? n - 1 : i;
	if (ui->focus == STARTER_FOCUS_PRESETS)
		ui->preset_sel = (uint32_t)i;
	else
		ui->guest_sel_domid = guests[i].domid;
}

/* Answer to the destroy question: y destroys, anything else cancels. */
static enum starter_action starter_confirm_key(struct starter_ui *ui,
					       int32_t key)
{
	ui->confirm = false;
	if (key == 'y' || key == 'Y') {
		ui->guest_sel_domid = ui->confirm_domid;
		return STARTER_DESTROY;
	}
	starter_status(ui, false, "Destroy cancelled");
	return STARTER_NONE;
}

/* A guest action key @key (c, p, v, n, s, d, Enter) in the guest list. */
static enum starter_action starter_guest_key(struct starter_ui *ui, int32_t key,
					     const struct keel_dominfo *guests,
					     uint32_t n_guests)
{
	const struct keel_dominfo *g;
	char name[KEEL_DOMAIN_NAME_BYTES + 1], q[STARTER_TEXT_BYTES];
	int i = starter_guest_index(ui, guests, n_guests);

	if (i < 0) {
		starter_status(ui, false, "No guest is running: pick a preset "
			       "and press Enter");
		return STARTER_NONE;
	}
	g = &guests[i];
	switch (key) {
	case 'p': case 'P':
		return g->state == KEEL_DOMSTATE_PAUSED ? STARTER_UNPAUSE
							: STARTER_PAUSE;
	case 's': case 'S':
		return STARTER_SHUTDOWN;
	case 'v': case 'V':
		return STARTER_SAVE;
	case 'n': case 'N':
		return STARTER_CLONE;
	case 'd': case 'D':
		domain_name(g, name, sizeof(name));
		snprintf(q, sizeof(q), "Destroy %s? It stops at once; what it "
			 "has not saved is lost. y/n", name);
		starter_status(ui, true, q);
		ui->confirm = true;
		ui->confirm_domid = g->domid;
		return STARTER_NONE;
	default:
		return STARTER_CONSOLE;
	}
}

/* Switch the focus to the other list (if it has entries). */
static void starter_switch(struct starter_ui *ui, uint32_t n_guests)
{
	if (ui->focus == STARTER_FOCUS_GUESTS)
		ui->focus = STARTER_FOCUS_PRESETS;
	else if (n_guests)
		ui->focus = STARTER_FOCUS_GUESTS;
	else
		starter_status(ui, false, "No guest is running yet");
}

/* Keys that move or switch; returns false if @key is not one. */
static bool starter_nav_key(struct starter_ui *ui, int32_t key,
			    uint32_t n_presets,
			    const struct keel_dominfo *guests, uint32_t n_guests)
{
	int32_t d;

	switch (key) {
	case KEYS_TAB: case KEYS_BACKTAB: case KEYS_LEFT: case KEYS_RIGHT:
		starter_switch(ui, n_guests);
		return true;
	case KEYS_UP: case 'k': d = -1; break;
	case KEYS_DOWN: case 'j': d = 1; break;
	case KEYS_PGUP: d = -STARTER_PAGE_ROWS; break;
	case KEYS_PGDN: d = STARTER_PAGE_ROWS; break;
	case KEYS_HOME: d = -(int32_t)STARTER_MAX_GUESTS; break;
	case KEYS_END: d = (int32_t)STARTER_MAX_GUESTS; break;
	default:
		return false;
	}
	starter_move(ui, d, n_presets, guests, n_guests);
	return true;
}

/* Apply a key; see starter.h. */
enum starter_action starter_key(struct starter_ui *ui, int32_t key,
				uint32_t n_presets,
				const struct keel_dominfo *guests,
				uint32_t n_guests)
{
	if (ui->confirm)
		return starter_confirm_key(ui, key);
	if (key == 'q' || key == 'Q' || key == KEYS_CTRL_C)
		return STARTER_QUIT;
	if (key == KEYS_CTRL_L)
		return STARTER_REPAINT;
	if (starter_nav_key(ui, key, n_presets, guests, n_guests))
		return STARTER_NONE;
	if (key >= '1' && key <= '9' && (uint32_t)(key - '1') < n_presets) {
		ui->focus = STARTER_FOCUS_PRESETS;
		ui->preset_sel = (uint32_t)(key - '1');
		return STARTER_NONE;
	}
	if (ui->focus == STARTER_FOCUS_PRESETS) {
		if (key == KEYS_ENTER)
			return n_presets ? STARTER_START : STARTER_NONE;
		if (strchr("cCpPsSdDvVnN", key) && key > 0 && key < 0x80)
			starter_status(ui, false, "Press Tab to choose a running "
				       "guest first");
		return STARTER_NONE;
	}
	if (key == KEYS_ENTER || (key > 0 && key < 0x80 &&
				  strchr("cCpPsSdDvVnN", key)))
		return starter_guest_key(ui, key, guests, n_guests);
	return STARTER_NONE;
}

/* ---- drawing ---- */

/* Draw the title bar (row 0). */
static void starter_draw_title(struct screen *s, const struct keel_info *info)
{
	char up[32], right[96] = "";
	uint32_t w;

	screen_line_attr(s, 0, SCREEN_ATTR_REVERSE);
	screen_put(s, 0, 0, SCREEN_ATTR_REVERSE, "Keel guest starter");
	if (info) {
		top_fmt_duration(info->uptime_ns, up, sizeof(up));
		snprintf(right, sizeof(right), "free %" PRIu64 " of %" PRIu64
			 " MiB  up %s", fmt_bytes_to_mib(info->mem_pool_free_bytes),
			 fmt_bytes_to_mib(info->mem_pool_total_bytes), up);
	}
	w = (uint32_t)strlen(right);
	if (w + 20 < s->cols)
		screen_put(s, 0, s->cols - w - 1, SCREEN_ATTR_REVERSE, right);
}

/* Attribute of a selected row: reverse if its list has the focus. */
static uint8_t starter_sel_attr(const struct starter_ui *ui,
				enum starter_focus list)
{
	return ui->focus == list ? SCREEN_ATTR_REVERSE : SCREEN_ATTR_BOLD;
}

/* Draw preset @i of @p at @row. */
static void starter_draw_preset(struct screen *s, uint32_t row, uint32_t i,
				const struct starter_preset *p,
				const struct keel_info *info, uint8_t attr)
{
	char fits[16] = "-";

	if (info && p->ok)
		snprintf(fits, sizeof(fits), "%u", starter_fits(p, info));
	screen_line_attr(s, row, attr);
	if (!p->ok) {
		screen_printf(s, row, 0, attr, " %2u  %-14.14s %8s %5s %4s  error: %s",
			      i + 1, p->label, "-", "-", "-", p->error);
		return;
	}
	screen_printf(s, row, 0, attr, " %2u  %-14.14s %4u MiB %5u %4s  %s",
		      i + 1, p->label, p->memory_mib, p->vcpus, fits,
		      p->description);
}

/* Draw the preset list from @row with @rows lines for presets. */
static void starter_draw_presets(struct screen *s, uint32_t row,
				     uint32_t rows, const struct starter_ui *ui,
				     const struct starter_preset *p, uint32_t n,
				     const struct keel_info *info)
{
	uint32_t i, first = 0;

	screen_printf(s, row++, 0, SCREEN_ATTR_BOLD, "Presets (%s)", ui->dir);
	screen_printf(s, row++, 0, SCREEN_ATTR_NORMAL, " %2s  %-14s %8s %5s %4s  %s",
		      "#", "PRESET", "MEMORY", "VCPUS", "FITS", "DESCRIPTION");
	if (!n) {
		screen_printf(s, row, 2, SCREEN_ATTR_NORMAL, "No presets: no "
			      "*.cfg file in %s", ui->dir);
		return;
	}
	if (rows && ui->preset_sel >= rows)
		first = ui->preset_sel - rows + 1;
	for (i = first; i < n && i - first < rows; i++)
		starter_draw_preset(s, row++, i, &p[i], info,
				    i == ui->preset_sel
				    ? starter_sel_attr(ui, STARTER_FOCUS_PRESETS)
				    : SCREEN_ATTR_NORMAL);
}

/* Draw guest @g at @row. */
static void starter_draw_guest(struct screen *s, uint32_t row,
			       const struct keel_dominfo *g, uint8_t attr)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1], state[DOMAIN_STATE_CHARS + 1];
	uint64_t tenths = g->cpu_time_ns / (TOP_NS_PER_S / 10);

	domain_name(g, name, sizeof(name));
	domain_state_str(g, state);
	screen_line_attr(s, row, attr);
	screen_printf(s, row, 0, attr, " %4u  %-20.20s %-6s %6" PRIu64
		      " MiB %5u %9" PRIu64 ".%" PRIu64, g->domid, name, state,
		      fmt_bytes_to_mib(g->mem_bytes), g->nr_vcpus, tenths / 10,
		      tenths % 10);
}

/* Draw the guest list from @row within @rows lines. */
static void starter_draw_guests(struct screen *s, uint32_t row, uint32_t rows,
				const struct starter_ui *ui,
				const struct keel_dominfo *g, uint32_t n)
{
	uint32_t i, first = 0, sel = n;

	screen_put(s, row++, 0, SCREEN_ATTR_BOLD, "Running guests");
	screen_printf(s, row++, 0, SCREEN_ATTR_NORMAL, " %4s  %-20s %-6s %10s %5s %11s",
		      "ID", "NAME", "STATE", "MEMORY", "VCPUS", "CPU(s)");
	if (!n) {
		screen_put(s, row, 2, SCREEN_ATTR_NORMAL,
			   "None yet: pick a preset above and press Enter");
		return;
	}
	for (i = 0; ui->has_guest_sel && i < n; i++) {
		if (g[i].domid == ui->guest_sel_domid)
			sel = i;
	}
	if (rows && sel < n && sel >= rows)
		first = sel - rows + 1;
	for (i = first; i < n && i - first < rows; i++)
		starter_draw_guest(s, row++, &g[i], i == sel
				   ? starter_sel_attr(ui, STARTER_FOCUS_GUESTS)
				   : SCREEN_ATTR_NORMAL);
}

/* Draw the starter; see starter.h. */
void starter_draw(struct screen *s, const struct starter_ui *ui,
		  const struct starter_preset *presets, uint32_t n_presets,
		  const struct keel_info *info,
		  const struct keel_dominfo *guests, uint32_t n_guests)
{
	uint32_t bottom, avail, pneed, gneed, prow;

	screen_clear(s);
	starter_draw_title(s, info);
	screen_put(s, 1, 0, SCREEN_ATTR_NORMAL, ui->machine);
	bottom = screen_footer(s, ui->focus == STARTER_FOCUS_GUESTS
				  ? STARTER_KEYS_GUESTS : STARTER_KEYS_PRESETS,
			       ui->hint);
	if (bottom < 10)
		return;
	bottom--; /* the status line */
	screen_line_attr(s, bottom, ui->status_error ? SCREEN_ATTR_REVERSE
						     : SCREEN_ATTR_NORMAL);
	screen_put(s, bottom, 0, ui->status_error ? SCREEN_ATTR_REVERSE
						  : SCREEN_ATTR_BOLD, ui->status);
	/* lines 2 .. bottom-1: each list has a title and a header line, a
	 * blank line separates them */
	avail = bottom - 2 - 5;
	pneed = n_presets ? n_presets : 1;
	gneed = n_guests ? n_guests : 1;
	if (pneed + gneed <= avail || pneed < avail / 2)
		prow = pneed < avail ? pneed : avail - 1;
	else if (gneed >= avail / 2)
		prow = avail / 2;
	else
		prow = avail - gneed;
	starter_draw_presets(s, 2, prow, ui, presets, n_presets, info);
	starter_draw_guests(s, 2 + 2 + prow + 1, avail - prow, ui, guests,
			    n_guests);
}
