/*
 * Host unit tests of `keel starter`'s pure part (toolstack/starter.c):
 * presets built from real config text (memory rounded to 2 MiB, ram:
 * disks counted, images not), how many instances fit (memory, vCPUs,
 * broken presets), automatic names (tiny, tiny2, ... against a fake
 * domain list, long and numeric bases, Domain-0), the plain-words
 * messages of the checks and of a finished `keel create`, the keys
 * (Tab between the lists, 1-9, guest actions, the destroy question) and
 * a drawn 80x24 frame.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../toolstack/domain/config.c"
#include "../../toolstack/domain/config_lex.c"
#include "../../toolstack/domain/config_disk.c"
#include "../../toolstack/core/format.c"
#include "../../toolstack/core/domain.c"
#include "../../toolstack/tui/keys.c"
#include "../../toolstack/tui/screen.c"
#include "../../toolstack/tui/top.c"
#include "../../toolstack/tui/starter.c"

#include "harness.h"

#define MIB (UINT64_C(1) << 20)

/* ---- stubs for domain.c (no hypervisor in these tests) ---- */

#include "stub_hcall.h"

static const char tiny_cfg[] =
	"name = \"tiny\"\n"
	"description = \"Tiny busybox Linux\"\n"
	"memory = 127\n"
	"vcpus = 1\n"
	"kernel = \"/k\"\n";

static const char disk_cfg[] =
	"name = \"tinydisk\"\n"
	"memory = 128\n"
	"vcpus = 2\n"
	"kernel = \"/k\"\n"
	"disk = [ 'file:/img.squashfs,xvda,r', 'ram:64M,xvdb,w' ]\n";

static struct config cfg;
static struct starter_preset presets[4];
static struct keel_dominfo doms[8];
static uint32_t n_doms;

/* Parse @text as config @path into preset @p. */
static void load(struct starter_preset *p, const char *path, const char *text)
{
	char err[CONFIG_ERR_BYTES];
	int ret;

	config_init(&cfg);
	ret = config_parse(&cfg, text, strlen(text), path, "/", err, sizeof(err));
	if (!ret)
		ret = config_check(&cfg, path, err, sizeof(err));
	if (ret)
		starter_preset_broken(p, path, err);
	else
		starter_preset_fill(p, path, &cfg);
}

/* Add a domain to the fake list. */
static void add_dom(uint32_t id, const char *name, uint32_t state)
{
	struct keel_dominfo *d = &doms[n_doms++];

	memset(d, 0, sizeof(*d));
	d->domid = id;
	d->state = state;
	d->nr_vcpus = 1;
	d->mem_bytes = 128 * MIB;
	d->cpu_time_ns = 12345678901ull;
	snprintf(d->name, sizeof(d->name), "%s", name);
}

static struct keel_info info(uint64_t free_mib, uint32_t pool_cpus)
{
	struct keel_info in;

	memset(&in, 0, sizeof(in));
	in.mem_pool_free_bytes = free_mib * MIB;
	in.mem_pool_total_bytes = 960 * MIB;
	in.cpus_pool = pool_cpus;
	in.uptime_ns = 61ull * 1000000000ull;
	return in;
}

static void test_presets(void)
{
	struct keel_info in = info(576, 3);
	char msg[STARTER_TEXT_BYTES];

	load(&presets[0], "/cfg/tiny.cfg", tiny_cfg);
	CHECK(presets[0].ok);
	CHECK_EQ_STR(presets[0].label, "tiny");
	CHECK_EQ_STR(presets[0].name, "tiny");
	CHECK_EQ_STR(presets[0].description, "Tiny busybox Linux");
	CHECK_EQ_U64(presets[0].need_bytes, 128 * MIB); /* 127 rounds up */
	CHECK_EQ_INT(starter_fits(&presets[0], &in), 4);   /* 576 / 128 */
	load(&presets[1], "/cfg/tiny-disk.cfg", disk_cfg);
	CHECK(presets[1].ok);
	CHECK_EQ_STR(presets[1].label, "tiny-disk");
	CHECK_EQ_STR(presets[1].description, "(no description)");
	CHECK_EQ_U64(presets[1].need_bytes, 192 * MIB); /* + 64 MiB ram disk */
	CHECK_EQ_INT(starter_fits(&presets[1], &in), 3);
	CHECK_EQ_INT(starter_fits(&presets[1], &(struct keel_info){
		.mem_pool_free_bytes = 1000 * MIB, .cpus_pool = 1 }), 0);
	load(&presets[2], "/cfg/broken.cfg", "name = \"x\"\nmemory = lots\n");
	CHECK(!presets[2].ok);
	CHECK(strstr(presets[2].error, "broken.cfg:2") != NULL);
	CHECK_EQ_INT(starter_fits(&presets[2], &in), 0);
	load(&presets[3], "/cfg/a", tiny_cfg);
	CHECK_EQ_STR(presets[3].label, "a");
	starter_sort_presets(presets, 4);
	CHECK(strcmp(presets[0].label, "a") == 0 &&
	      strcmp(presets[1].label, "broken") == 0 &&
	      strcmp(presets[2].label, "tiny") == 0 &&
	      strcmp(presets[3].label, "tiny-disk") == 0);

	/* checks in plain words */
	CHECK_EQ_INT(starter_check(&presets[2], &in, msg, sizeof(msg)), 0);
	in = info(180, 3);
	CHECK_EQ_INT(starter_check(&presets[3], &in, msg, sizeof(msg)), -ENOMEM);
	CHECK_EQ_STR(msg, "Not enough free memory for tiny-disk (needs 192 "
		     "MiB, 180 MiB free)");
	in = info(1000, 1);
	CHECK_EQ_INT(starter_check(&presets[3], &in, msg, sizeof(msg)), -ENOSPC);
	CHECK_EQ_STR(msg, "tiny-disk needs 2 vCPUs, but only 1 CPUs are kept "
		     "for guests");
	CHECK_EQ_INT(starter_check(&presets[1], &in, msg, sizeof(msg)), -EINVAL);
	CHECK(strncmp(msg, "broken cannot be started: ", 26) == 0);
	CHECK_EQ_INT(starter_check(&presets[2], &in, msg, sizeof(msg)), 0);
}

static void test_names(void)
{
	char name[CONFIG_NAME_MAX + 1], base[40];
	uint32_t i;

	n_doms = 0;
	add_dom(0, "Domain-0", KEEL_DOMSTATE_RUNNING);
	CHECK_EQ_INT(starter_auto_name("tiny", doms, n_doms, name, sizeof(name)), 0);
	CHECK_EQ_STR(name, "tiny");
	add_dom(3, "tiny", KEEL_DOMSTATE_BLOCKED);
	starter_auto_name("tiny", doms, n_doms, name, sizeof(name));
	CHECK_EQ_STR(name, "tiny2");
	add_dom(4, "tiny2", KEEL_DOMSTATE_RUNNING);
	add_dom(6, "tiny4", KEEL_DOMSTATE_RUNNING);
	starter_auto_name("tiny", doms, n_doms, name, sizeof(name));
	CHECK_EQ_STR(name, "tiny3");
	starter_auto_name("tinydisk", doms, n_doms, name, sizeof(name));
	CHECK_EQ_STR(name, "tinydisk");
	/* a numeric base is a name, not an id */
	starter_auto_name("3", doms, n_doms, name, sizeof(name));
	CHECK_EQ_STR(name, "3");
	starter_auto_name("Domain-0", doms, n_doms, name, sizeof(name));
	CHECK_EQ_STR(name, "Domain-02");
	/* a 31-character base loses characters for the suffix */
	memset(base, 'x', 31);
	base[31] = '\0';
	n_doms = 0;
	add_dom(1, base, KEEL_DOMSTATE_RUNNING);
	starter_auto_name(base, doms, n_doms, name, sizeof(name));
	CHECK_EQ_INT(strlen(name), 31);
	CHECK(name[30] == '2' && name[29] == 'x');
	CHECK_EQ_INT(starter_auto_name("tiny", doms, n_doms, name, 4), -ENOSPC);
	/* every name taken */
	n_doms = 0;
	add_dom(1, "a", KEEL_DOMSTATE_RUNNING);
	for (i = 2; i < 8; i++) {
		char nm[8];

		snprintf(nm, sizeof(nm), "a%u", i);
		add_dom(i, nm, KEEL_DOMSTATE_RUNNING);
	}
	starter_auto_name("a", doms, n_doms, name, sizeof(name));
	CHECK_EQ_STR(name, "a8");
}

static void test_create_result(void)
{
	char msg[STARTER_TEXT_BYTES];

	starter_create_result("tiny2", 0, "Started domain tiny2 (id=7)\n",
			      msg, sizeof(msg));
	CHECK_EQ_STR(msg, "Started tiny2 (id=7). Tab then c: its console");
	starter_create_result("tiny2", 1, "uploading x\nkeel: create: not enough "
			      "free memory: need 512 MiB, 300 MiB free\n",
			      msg, sizeof(msg));
	CHECK_EQ_STR(msg, "Could not start tiny2: not enough free memory: need "
		     "512 MiB, 300 MiB free");
	starter_create_result("t", 1, "keel: /dev/keel not found", msg,
			      sizeof(msg));
	CHECK_EQ_STR(msg, "Could not start t: /dev/keel not found");
	starter_create_result("t", 139, "", msg, sizeof(msg));
	CHECK_EQ_STR(msg, "Could not start t: keel create failed (exit status "
		     "139)");
}

/* Guests saved with v: their preset, file and status lines. */
static void test_saved(void)
{
	struct keel_info in = info(576, 3);
	struct starter_preset p;
	char msg[STARTER_TEXT_BYTES], path[STARTER_PATH_BYTES];

	starter_preset_saved(&p, "/run/keel/saves/tiny2.sav", "tiny2", 127 * MIB, 1, "14:05");
	CHECK(p.ok && p.saved);
	CHECK_EQ_STR(p.label, "tiny2 [saved]");
	CHECK_EQ_STR(p.name, "tiny2");
	CHECK_EQ_STR(p.path, "/run/keel/saves/tiny2.sav");
	CHECK(strstr(p.description, "14:05") && strstr(p.description, "Enter resumes"));
	CHECK_EQ_U64(p.need_bytes, 128 * MIB);
	CHECK_EQ_INT(starter_fits(&p, &in), 1); /* one guest, not 576 / 128 */
	in.mem_pool_free_bytes = 64 * MIB;
	CHECK_EQ_INT(starter_fits(&p, &in), 0);
	CHECK_EQ_INT(starter_save_path("tiny2", path, sizeof(path)), 0);
	CHECK_EQ_STR(path, "/run/keel/saves/tiny2.sav");
	CHECK_EQ_INT(starter_save_path("tiny2", path, 10), -ENOSPC);
	starter_save_result("tiny2", false, 0, "Saved domain tiny2 to x\n", msg, sizeof(msg));
	CHECK_EQ_STR(msg, "Saved tiny2: it stopped; Tab, then Enter on 'tiny2 [saved]' "
		     "resumes it");
	starter_save_result("tiny2", true, 0, "Restored domain tiny2 (id=9) from x\n", msg,
			    sizeof(msg));
	CHECK_EQ_STR(msg, "Restored tiny2 (id=9) where it stopped");
	starter_save_result("tiny2", false, 1, "keel: save: '/run/keel/saves/tiny2.sav' "
			    "exists\n", msg, sizeof(msg));
	CHECK_EQ_STR(msg, "Could not save tiny2: '/run/keel/saves/tiny2.sav' exists");
	starter_save_result("tiny2", true, 1, "keel: restore: a domain named 'tiny2' "
			    "already exists\n", msg, sizeof(msg));
	CHECK_EQ_STR(msg, "Could not restore tiny2: a domain named 'tiny2' already exists");
	starter_save_result("t", true, 9, "", msg, sizeof(msg));
	CHECK_EQ_STR(msg, "Could not restore t: keel restore failed (exit status 9)");
	starter_clone_result("tiny2", 0, "Cloned domain tiny2 as tiny2-clone (id=9); its RAM "
			     "is shared copy-on-write\nNote: ...\n", msg, sizeof(msg));
	CHECK_EQ_STR(msg, "Cloned tiny2 as tiny2-clone (id=9): its RAM is shared "
		     "copy-on-write");
	starter_clone_result("tiny2", 1, "keel: clone: 'tiny2' has a writable RAM disk (a "
			     "ram: disk), whose contents cannot be copied yet; nothing was "
			     "changed\n", msg, sizeof(msg));
	CHECK_EQ_STR(msg, "Could not clone tiny2: 'tiny2' has a writable RAM disk (a ram: "
		     "disk), whose contents cannot be copied yet; nothing was changed");
	starter_clone_result("t", 3, "", msg, sizeof(msg));
	CHECK_EQ_STR(msg, "Could not clone t: keel clone failed (exit status 3)");
}

static void test_keys_ui(void)
{
	struct starter_ui ui;
	struct keel_dominfo *g;
	uint32_t ng;

	n_doms = 0;
	add_dom(3, "tiny", KEEL_DOMSTATE_BLOCKED);
	add_dom(5, "tiny2", KEEL_DOMSTATE_PAUSED);
	g = doms;
	ng = n_doms;
	starter_ui_init(&ui, "/cfg", NULL);
	CHECK_EQ_INT(starter_key(&ui, KEYS_ENTER, 4, g, ng), STARTER_START);
	CHECK_EQ_INT(starter_key(&ui, KEYS_ENTER, 0, g, ng), STARTER_NONE);
	CHECK_EQ_INT(starter_key(&ui, KEYS_DOWN, 4, g, ng), STARTER_NONE);
	CHECK_EQ_INT(ui.preset_sel, 1);
	starter_key(&ui, KEYS_END, 4, g, ng);
	CHECK_EQ_INT(ui.preset_sel, 3);
	starter_key(&ui, 'j', 4, g, ng);
	CHECK_EQ_INT(ui.preset_sel, 3);
	starter_key(&ui, '2', 4, g, ng);
	CHECK_EQ_INT(ui.preset_sel, 1);
	starter_key(&ui, '9', 4, g, ng);
	CHECK_EQ_INT(ui.preset_sel, 1);
	/* guest keys in the preset list only say where to go */
	CHECK_EQ_INT(starter_key(&ui, 'p', 4, g, ng), STARTER_NONE);
	CHECK(strstr(ui.status, "Tab") != NULL);
	ui.status[0] = '\0';
	CHECK_EQ_INT(starter_key(&ui, 'v', 4, g, ng), STARTER_NONE);
	CHECK(strstr(ui.status, "Tab") != NULL);
	ui.status[0] = '\0';
	CHECK_EQ_INT(starter_key(&ui, 'n', 4, g, ng), STARTER_NONE);
	CHECK(strstr(ui.status, "Tab") != NULL);
	/* Tab: no guests, no switch */
	starter_key(&ui, KEYS_TAB, 4, g, 0);
	CHECK_EQ_INT(ui.focus, STARTER_FOCUS_PRESETS);
	starter_key(&ui, KEYS_TAB, 4, g, ng);
	CHECK_EQ_INT(ui.focus, STARTER_FOCUS_GUESTS);
	CHECK_EQ_INT(starter_key(&ui, 'p', 4, g, ng), STARTER_PAUSE);
	CHECK(ui.has_guest_sel && ui.guest_sel_domid == 3);
	CHECK_EQ_INT(starter_key(&ui, 'c', 4, g, ng), STARTER_CONSOLE);
	CHECK_EQ_INT(starter_key(&ui, KEYS_ENTER, 4, g, ng), STARTER_CONSOLE);
	starter_key(&ui, KEYS_DOWN, 4, g, ng);
	CHECK_EQ_INT(ui.guest_sel_domid, 5);
	CHECK_EQ_INT(starter_key(&ui, 'p', 4, g, ng), STARTER_UNPAUSE);
	CHECK_EQ_INT(starter_key(&ui, 's', 4, g, ng), STARTER_SHUTDOWN);
	CHECK_EQ_INT(starter_key(&ui, 'v', 4, g, ng), STARTER_SAVE);
	CHECK_EQ_INT(starter_key(&ui, 'n', 4, g, ng), STARTER_CLONE);
	CHECK_EQ_INT(ui.guest_sel_domid, 5);
	/* destroy asks first; n cancels, y confirms the guest asked about */
	CHECK_EQ_INT(starter_key(&ui, 'd', 4, g, ng), STARTER_NONE);
	CHECK(ui.confirm && strstr(ui.status, "Destroy tiny2?") && ui.status_error);
	CHECK_EQ_INT(starter_key(&ui, 'n', 4, g, ng), STARTER_NONE);
	CHECK(!ui.confirm && strcmp(ui.status, "Destroy cancelled") == 0);
	starter_key(&ui, 'd', 4, g, ng);
	CHECK_EQ_INT(starter_key(&ui, 'q', 4, g, ng), STARTER_NONE); /* = no */
	starter_key(&ui, 'd', 4, g, ng);
	CHECK_EQ_INT(starter_key(&ui, 'y', 4, g, ng), STARTER_DESTROY);
	CHECK_EQ_INT(ui.guest_sel_domid, 5);
	/* the selected guest went away: the first one is selected */
	CHECK_EQ_INT(starter_guest_index(&ui, g, 1), 0);
	CHECK_EQ_INT(ui.guest_sel_domid, 3);
	CHECK_EQ_INT(starter_guest_index(&ui, g, 0), -1);
	CHECK_EQ_INT(starter_key(&ui, 's', 4, g, 0), STARTER_NONE);
	CHECK_EQ_INT(starter_key(&ui, KEYS_BACKTAB, 4, g, ng), STARTER_NONE);
	CHECK_EQ_INT(ui.focus, STARTER_FOCUS_PRESETS);
	CHECK_EQ_INT(starter_key(&ui, KEYS_CTRL_L, 4, g, ng), STARTER_REPAINT);
	CHECK_EQ_INT(starter_key(&ui, 'q', 4, g, ng), STARTER_QUIT);
	CHECK_EQ_INT(starter_key(&ui, KEYS_CTRL_C, 4, g, ng), STARTER_QUIT);
}

static struct screen scr;

/* Line @row of @s without trailing blanks. */
static const char *line_of(const struct screen *s, uint32_t row)
{
	static char buf[SCREEN_MAX_COLS + 1];
	uint32_t n = s->cols;

	memcpy(buf, s->text[row], n);
	while (n && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return buf;
}

static void test_draw(void)
{
	struct keel_info in = info(576, 3);
	struct starter_ui ui;
	uint32_t i;

	n_doms = 0;
	add_dom(3, "tiny", KEEL_DOMSTATE_BLOCKED);
	add_dom(5, "tiny2", KEEL_DOMSTATE_PAUSED);
	starter_ui_init(&ui, "/cfg", "Alt-F1 starter  Alt-F2 monitor  Alt-F3 shell");
	starter_status(&ui, false, "Started tiny2");
	starter_guest_index(&ui, doms, n_doms);
	screen_init(&scr, 24, 80);
	starter_draw(&scr, &ui, presets, 4, &in, doms, n_doms);
	CHECK_EQ_STR(line_of(&scr, 0), "Keel guest starter                              "
		     "free 576 of 960 MiB  up 0:01:01");
	CHECK_EQ_STR(line_of(&scr, 2), "Presets (/cfg)");
	CHECK_EQ_STR(line_of(&scr, 3), "  #  PRESET           MEMORY VCPUS FITS  DESCRIPTION");
	CHECK_EQ_STR(line_of(&scr, 4), "  1  a               127 MiB     1    4  Tiny busybox Linux");
	CHECK(strncmp(line_of(&scr, 5), "  2  broken                -     -    -  error: ", 47) == 0);
	CHECK_EQ_STR(line_of(&scr, 7), "  4  tiny-disk       128 MiB     2    3  (no description)");
	CHECK_EQ_STR(line_of(&scr, 9), "Running guests");
	CHECK_EQ_STR(line_of(&scr, 11), "    3  tiny                 -b----    128 MiB     1        12.3");
	CHECK_EQ_STR(line_of(&scr, 12), "    5  tiny2                --p---    128 MiB     1        12.3");
	CHECK_EQ_STR(line_of(&scr, 21), "Started tiny2");
	CHECK_EQ_STR(line_of(&scr, 22), STARTER_KEYS_PRESETS);
	CHECK_EQ_STR(line_of(&scr, 23), "Alt-F1 starter  Alt-F2 monitor  Alt-F3 shell");
	CHECK(scr.attr[4][0] == SCREEN_ATTR_REVERSE);  /* selected preset */
	CHECK(scr.attr[11][0] == SCREEN_ATTR_BOLD);    /* guest, unfocused */
	ui.focus = STARTER_FOCUS_GUESTS;
	starter_guest_index(&ui, doms, n_doms);
	starter_draw(&scr, &ui, presets, 4, &in, doms, n_doms);
	CHECK(scr.attr[4][0] == SCREEN_ATTR_BOLD);
	CHECK(scr.attr[11][0] == SCREEN_ATTR_REVERSE);
	CHECK_EQ_STR(line_of(&scr, 22), STARTER_KEYS_GUESTS);
	if (harness_failed)
		for (i = 0; i < scr.rows; i++)
			printf("|%s\n", line_of(&scr, i));
	/* no guests, no presets, no info: still drawn */
	starter_draw(&scr, &ui, presets, 0, NULL, doms, 0);
	CHECK(strstr(line_of(&scr, 4), "No presets") != NULL);
	CHECK(strstr(line_of(&scr, 8), "None yet") != NULL);
	CHECK_EQ_STR(line_of(&scr, 0), "Keel guest starter");
	/* many presets on a small screen: both lists keep some room */
	screen_init(&scr, 12, 40);
	starter_draw(&scr, &ui, presets, 4, &in, doms, n_doms);
	CHECK_EQ_STR(line_of(&scr, 2), "Presets (/cfg)");
	for (i = 0; i < 12; i++)
		if (strcmp(line_of(&scr, i), "Running guests") == 0)
			break;
	CHECK(i < 10);
}

/* The second row summarizes the compatibility report the hypervisor
 * left in dom0's /etc/keel/compat. */
static void test_machine_line(void)
{
	static const char report[] =
		"CPU: AuthenticAMD, QEMU TCG CPU version 2.5+\n"
		"virtualization: AMD-V, enabled; NPT yes, NRIPS no, decode assists no\n"
		"firmware: BIOS\n"
		"Guests: yes\n";
	struct keel_info in = info(576, 3);
	struct starter_ui ui;
	char out[24];

	starter_ui_init(&ui, "/cfg", NULL);
	starter_machine_line(report, ui.machine, sizeof(ui.machine));
	CHECK_EQ_STR(ui.machine, "Guests: yes; AMD-V, enabled; NPT yes, NRIPS no, "
		     "decode assists no");
	n_doms = 0;
	screen_init(&scr, 24, 80);
	starter_draw(&scr, &ui, presets, 4, &in, doms, n_doms);
	CHECK_EQ_STR(line_of(&scr, 1), ui.machine);
	starter_machine_line("Guests: no, because x\n", out, sizeof(out));
	CHECK_EQ_STR(out, "Guests: no, because x");
	starter_machine_line("firmware: BIOS\nvirtualization: not usable (SVM is off)",
			     out, sizeof(out));
	CHECK_EQ_STR(out, "not usable (SVM is off)"); /* no key, no newline */
	starter_machine_line(NULL, out, sizeof(out));
	CHECK_EQ_STR(out, "");
	starter_machine_line("", out, sizeof(out));
	CHECK_EQ_STR(out, "");
}

int main(void)
{
	test_machine_line();
	test_presets();
	test_names();
	test_create_result();
	test_saved();
	test_keys_ui();
	test_draw();
	return harness_done("test_toolstack_starter");
}
