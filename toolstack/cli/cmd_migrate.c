/*
 * `keel migrate <domain> <host>` and `keel migrate-receive`, as xl's: the
 * source copies a running guest's RAM to the target while it runs, in
 * rounds (its dirty page log, as `keel save --live`), then pauses it and
 * sends the rest with its vCPU and device state; the target builds the
 * guest as the stream arrives and starts it only when the source says
 * go, and the source destroys its copy only when the target says the
 * guest runs. The stream is a save file's (savefile.h) with a few text
 * lines between its parts (docs/save-restore.md, "Migration"), so any
 * failure before "go" leaves the guest running on the source and nothing
 * on the target. The link (migrate_link.h) is SSH, with a one-time
 * pairing code the target shows (migrate_pair.c), or plain TCP when asked
 * for with --insecure (a private link).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "abi.h"
#include "args.h"
#include "build.h"
#include "config.h"
#include "domain.h"
#include "guest_state.h"
#include "hcall.h"
#include "keel.h"
#include "migrate_images.h"
#include "migrate_link.h"
#include "migrate_net.h"
#include "migrate_pair.h"
#include "monitor.h"
#include "netd.h"
#include "restore_stream.h"
#include "save_stream.h"
#include "savefile.h"

#define MIGRATE_LINE_BYTES LINK_LINE_BYTES
#define MIGRATE_HELLO "KEEL-MIGRATE 1"
#define MIGRATE_INCOMING "-incoming"   /* a same-machine copy's name until the end */
#define MIGRATE_SAME_MACHINE "same-machine" /* READY's last word when it is */

/* ---- the source: keel migrate ---- */

/* What one `keel migrate` was asked. */
struct migrate_args {
	const char *dom;
	const char *host;
	const char *port;
	char code[LINK_CODE_DIGITS + 1]; /* the pairing code (SSH) */
	bool insecure;                   /* plain TCP */
};

/* A marker that tells a target on this same dom0 that the guest it gets
 * is still here under its name: MONITOR_DIR/migrating-<nonce>. */
struct local_mark {
	char nonce[33];
	char path[256];
};

static void mark_make(struct local_mark *m)
{
	uint8_t raw[16];
	int fd = open("/dev/urandom", O_RDONLY), i;

	strcpy(m->nonce, "-");
	m->path[0] = 0;
	if (fd < 0)
		return;
	if (read(fd, raw, sizeof(raw)) == (ssize_t)sizeof(raw)) {
		for (i = 0; i < 16; i++)
			snprintf(m->nonce + 2 * i, 3, "%02x", raw[i]);
		snprintf(m->path, sizeof(m->path), MONITOR_DIR "/migrating-%s", m->nonce);
		i = open(m->path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (i < 0) {
			strcpy(m->nonce, "-");
			m->path[0] = 0;
		} else {
			close(i);
		}
	}
	close(fd);
}

static void mark_drop(struct local_mark *m)
{
	if (m->path[0])
		unlink(m->path);
}

/* One migration under way on the source. */
struct migrate_run {
	struct save_job j;
	const struct migrate_args *a;
	struct link l;
	FILE *r, *w;          /* l's */
	struct save_out o;    /* the stream, on w */
	uint64_t t0_us;
	struct mnet net;      /* the guest's addresses, which go with it */
	char images[MIMG_TEXT_BYTES]; /* its read-only images (IMAGES) */
	char there[INET6_ADDRSTRLEN]; /* the target's address, as it saw the link */
	bool same_machine;    /* the target said it is this dom0 (READY ... same-machine) */
	bool we_paused;       /* the guest is paused by this migration */
	volatile bool go_sent; /* the target may run it from now on */
};

/* The migration under way, for migrate_on_signal. */
static struct migrate_run *volatile migrate_active;

/* Ctrl-C or a kill while the guest is copied: it stays here, running (the
 * target drops its copy when the link closes). After "go" it stays as it
 * is, since the target may run it. */
static void migrate_on_signal(int sig)
{
	struct migrate_run *m = migrate_active;

	if (m && !m->go_sent) {
		if (m->j.live)
			save_live_stop(m->j.d->domid);
		if (m->we_paused || m->j.rep.paused)
			domain_ctl(m->j.d->domid, KEEL_DOMCTL_UNPAUSE);
	}
	_exit(128 + sig);
}

/* Run @fn on SIGINT, SIGTERM and SIGHUP; SIGPIPE is ignored (a closed
 * link is an error from write). */
static void on_signals(void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* What goes with the guest whose config text (its MACs written out) is
 * @cfg_text: its addresses, from netd's leases, and the names of its
 * read-only images. 0, or an error (printed). */
static int migrate_describe(const char *cfg_text, struct migrate_run *m)
{
	char names[KEEL_DOMAIN_MAX_DISKS][KEEL_IMAGE_NAME_BYTES];
	struct config *cfg = malloc(sizeof(*cfg));
	uint8_t macs[KEEL_DOMAIN_MAX_NICS][6];
	char err[BUILD_ERR_BYTES];
	uint32_t n = 0, k;
	int ret = -ENOMEM;

	if (!cfg)
		goto out;
	config_init(cfg);
	ret = config_parse(cfg, cfg_text, strlen(cfg_text), "the guest's config", NULL, err,
			   sizeof(err));
	for (k = 0; !ret && k < cfg->vif.n && n < KEEL_DOMAIN_MAX_NICS; k++)
		n += build_vif_mac(cfg->name, k, cfg->vif.items[k], macs[n], err,
				   sizeof(err)) == 0;
	if (!ret)
		ret = build_image_names(cfg, names, err, sizeof(err));
	if (!ret)
		mimg_format(names, m->images, sizeof(m->images));
	if (!ret)
		ret = mnet_lookup((const uint8_t (*)[6])macs, n, NETD_RUN_DIR, &m->net);
	if (ret == -ENOMEM)
		snprintf(err, sizeof(err), "out of memory");
out:
	if (ret)
		fprintf(stderr, "keel: migrate: %s\n", ret == -ENOMEM ? "out of memory" : err);
	free(cfg);
	return ret;
}

/* Send the stream's head and wait for the target's answer: 0 when it is
 * ready, or an error (printed). */
static int migrate_offer(struct migrate_run *m, const char *nonce)
{
	char line[MIGRATE_LINE_BYTES], addrs[MNET_TEXT_BYTES];

	mnet_format(&m->net, addrs, sizeof(addrs));
	if (link_say(m->w, MIGRATE_HELLO " %s", nonce) || link_say(m->w, "ADDRESSES %s", addrs) ||
	    link_say(m->w, "IMAGES %s", m->images))
		goto gone;
	m->o.f = m->w;
	save_write_head(&m->o, &m->j);
	if (m->o.err || fflush(m->w) || link_hear(m->r, line, sizeof(line)))
		goto gone;
	if (line_is(line, "READY")) {
		link_ready_address(line_rest(line, "READY"), m->there, sizeof(m->there));
		m->same_machine = strstr(line, " " MIGRATE_SAME_MACHINE) != NULL;
		return 0;
	}
	if (line_is(line, "REFUSED")) {
		fprintf(stderr, "keel: migrate: %s refused '%s': %s; nothing was changed, "
			"the guest runs on here\n", m->a->host, m->j.name, line_rest(line, "REFUSED"));
		return -EPERM;
	}
	fprintf(stderr, "keel: migrate: %s did not answer as 'keel migrate-receive' does "
		"(it said '%.80s'); nothing was changed\n", m->a->host, line);
	return -EPROTO;
gone:
	fprintf(stderr, "keel: migrate: the link to %s closed before the target answered "
		"(%s); nothing was changed, the guest runs on here\n", m->a->host,
		m->a->insecure ? "is 'keel migrate-receive --insecure' of a Keel CD waiting there?" :
		"a wrong pairing code, or no SSH there? dbclient says why above");
	return -EPIPE;
}

/* Send the RAM and state; 0 when the target holds the whole guest,
 * paused, or an error (printed). The guest here is paused at the end. */
static int migrate_copy(struct migrate_run *m)
{
	char line[MIGRATE_LINE_BYTES];
	int ret;

	ret = save_write_body(&m->o, &m->j);
	m->we_paused = m->j.live ? m->j.rep.paused : m->we_paused;
	if (!ret && fflush(m->w))
		ret = -EPIPE;
	if (!ret)
		ret = link_hear(m->r, line, sizeof(line));
	if (!ret && line_is(line, "LOADED"))
		return 0;
	if (!ret && line_is(line, "FAILED"))
		fprintf(stderr, "keel: migrate: %s could not take '%s': %s\n", m->a->host,
			m->j.name, line_rest(line, "FAILED"));
	else if (!m->j.reported)
		fprintf(stderr, "keel: migrate: the link to %s failed while '%s' was copied "
			"(%s)\n", m->a->host, m->j.name,
			ret == -KEEL_EBUSY || ret == -KEEL_EFAULT ? "a hypercall refused" :
			"the target closed it or went silent");
	return ret ? ret : -EPROTO;
}

/* Tell the target to start the guest; 0 when it says it runs there,
 * -EPROTO when it failed (its copy is gone), -ETIMEDOUT when it did not
 * answer (it may run there). Prints. */
static int migrate_go(struct migrate_run *m, bool paused, uint32_t *their_id)
{
	char line[MIGRATE_LINE_BYTES];

	m->go_sent = true;
	if (link_say(m->w, paused ? "GO paused" : "GO") ||
	    link_hear(m->r, line, sizeof(line))) {
		fprintf(stderr, "keel: migrate: %s did not answer after it was told to start "
			"'%s': the guest may be running there. Its copy here stays paused: see "
			"'keel list' on %s, then 'keel destroy %s' or 'keel unpause %s' here\n",
			m->a->host, m->j.name, m->a->host, m->j.name, m->j.name);
		return -ETIMEDOUT;
	}
	if (line_is(line, "RUNNING")) {
		*their_id = (uint32_t)strtoul(line_rest(line, "RUNNING"), NULL, 10);
		return 0;
	}
	fprintf(stderr, "keel: migrate: %s could not start '%s': %s\n", m->a->host, m->j.name,
		line_is(line, "FAILED") ? line_rest(line, "FAILED") : line);
	return -EPROTO;
}

/* The guest stays here: the log off, and running again if this paused it. */
static void migrate_keep(struct migrate_run *m)
{
	if (m->j.live)
		save_live_stop(m->j.d->domid);
	if (m->we_paused)
		domain_ctl(m->j.d->domid, KEEL_DOMCTL_UNPAUSE);
	fprintf(stderr, "keel: migrate: '%s' goes on running here\n", m->j.name);
}

/* After the target said the guest runs: drop the copy here and report. */
static void migrate_done(struct migrate_run *m, uint32_t their_id)
{
	uint64_t now = save_now_us();

	save_drop_source(m->j.d->domid, m->j.name);
	if (m->same_machine)
		link_say(m->w, "DONE");
	else
		mnet_left(&m->net, m->there[0] ? m->there : NULL, stdout);
	printf("Migrated domain %s to %s (id=%u there) in %.1f s\n", m->j.name, m->a->host,
	       their_id, (double)(now - m->t0_us) / 1e6);
	if (m->j.live)
		save_live_print(&m->j, now - m->j.rep.pause_us);
}

/* Body of `keel migrate`. */
static int migrate_do(const struct migrate_args *a)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1];
	char *cfg_text = malloc(SAVE_CFG_TEXT_BYTES);
	struct migrate_run m = { 0 };
	struct local_mark mark = { "-", "" };
	struct keel_dominfo d;
	uint32_t their_id = 0;
	bool was_paused;
	int ret = -ENOMEM;

	m.a = a;
	m.j.state = malloc(KEEL_HC_MAX_ARG);
	m.j.verb = "migrate";
	if (!cfg_text || !m.j.state || (ret = save_pick_guest(&m.j, a->dom, &d, name, cfg_text)) ||
	    (ret = migrate_describe(cfg_text, &m)))
		goto out;
	ret = a->insecure ? link_connect_tcp(a->host, a->port, &m.l) :
			    link_connect_ssh(a->host, a->port, a->code, &m.l);
	if (ret)
		goto out;
	m.r = m.l.r;
	m.w = m.l.w;
	m.t0_us = save_now_us();
	migrate_active = &m;
	mark_make(&mark);
	ret = migrate_offer(&m, mark.nonce);
	if (ret)
		goto out;
	was_paused = d.state == KEEL_DOMSTATE_PAUSED;
	m.j.live = !was_paused;
	if (m.j.live)
		ret = save_live_start(d.domid, "migrate", name);
	if (ret)
		goto out; /* the target drops its copy when the link closes */
	ret = migrate_copy(&m);
	if (!ret)
		ret = migrate_go(&m, was_paused, &their_id);
	if (ret == -ETIMEDOUT)
		save_live_stop(d.domid); /* and it stays paused */
	else if (ret)
		migrate_keep(&m);
	else
		migrate_done(&m, their_id);
out:
	migrate_active = NULL;
	mark_drop(&mark);
	link_close(&m.l);
	free(cfg_text);
	free(m.j.state);
	return ret ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
}

/* Ask for the pairing code on the terminal (not echoed) into a->code. */
static int migrate_ask_code(struct migrate_args *a)
{
	char line[64] = "";
	struct termios t, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	bool got;

	if (!tty) {
		fprintf(stderr, "keel: migrate: give the pairing code that 'keel "
			"migrate-receive' shows on %s with --code (no terminal to ask on)\n",
			a->host);
		return KEEL_EXIT_USAGE;
	}
	fprintf(tty, "Pairing code shown on %s: ", a->host);
	fflush(tty);
	if (tcgetattr(fileno(tty), &t) == 0) {
		quiet = t;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSANOW, &quiet);
	}
	got = fgets(line, sizeof(line), tty) != NULL;
	tcsetattr(fileno(tty), TCSANOW, &t);
	fputc('\n', tty);
	fclose(tty);
	line[strcspn(line, "\r\n")] = 0;
	if (!got || link_code_normal(line, a->code, sizeof(a->code))) {
		fprintf(stderr, "keel: migrate: a pairing code is %d digits, as 1234-5678\n",
			LINK_CODE_DIGITS);
		return KEEL_EXIT_USAGE;
	}
	return KEEL_EXIT_OK;
}

/* Entry point of `keel migrate [--code C | --insecure] [--port N] <domain>
 * <host>`. */
static int migrate_run(int argc, char **argv)
{
	struct migrate_args a;
	const char *port = NULL, *code = NULL;
	int i, ret;

	memset(&a, 0, sizeof(a));
	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_migrate_entry);
			return KEEL_EXIT_OK;
		}
	}
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "--insecure") == 0)
			a.insecure = true;
		else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = argv[++i];
		else if (strcmp(argv[i], "--code") == 0 && i + 1 < argc)
			code = argv[++i];
		else
			return keel_usage_error("migrate", "unknown option", argv[i]);
	}
	if (argc - i < 2)
		return keel_usage_error("migrate", argc - i < 1 ? "missing domain name or id" :
					"missing target host", NULL);
	if (argc - i > 2)
		return keel_usage_error("migrate", "unexpected argument", argv[i + 2]);
	if (a.insecure && code)
		return keel_usage_error("migrate", "--insecure has no pairing code; drop", "--code");
	a.dom = argv[i];
	a.host = argv[i + 1];
	a.port = port ? port : a.insecure ? LINK_TCP_PORT : LINK_SSH_PORT;
	if (code && link_code_normal(code, a.code, sizeof(a.code)))
		return keel_usage_error("migrate", "a pairing code is 8 digits, as 1234-5678, "
					"not", code);
	if (!a.insecure && !code && (ret = migrate_ask_code(&a)))
		return ret;
	on_signals(migrate_on_signal);
	return migrate_do(&a);
}

/* Command-table entry of `keel migrate`. */
const struct keel_cmd cmd_migrate_entry = {
	.name = "migrate",
	.summary = "Move a running guest to another Keel machine",
	.usage = "Usage: keel migrate [--code CODE | --insecure] [--port N] <domain> <host>\n"
		 "\n"
		 "Move a running guest to the Keel machine <host>, where 'keel\n"
		 "migrate-receive' waits, as 'xl migrate': its RAM is copied while\n"
		 "it runs, then in rounds the pages it wrote meanwhile, then it is\n"
		 "paused for the last few and its state, and it goes on there.\n"
		 "Prints how long it took and how long the guest was paused.\n"
		 "Its copy here is destroyed only once the target says it runs;\n"
		 "any failure before that (the target refuses, a wrong code, the\n"
		 "link drops, the target dies) leaves it running here and nothing\n"
		 "there.\n"
		 "\n"
		 "The link is SSH (Dropbear) to the account 'migrate' on <host>,\n"
		 "whose password is the one-time pairing code 'keel migrate-receive'\n"
		 "shows there; without --code it is asked for.\n"
		 "\n"
		 "  --code CODE  the pairing code, as 1234-5678\n"
		 "  --insecure   plain TCP instead, unencrypted and without a code:\n"
		 "               only for a private link (a cable between two\n"
		 "               machines), to 'keel migrate-receive --insecure'\n"
		 "  --port N     the target's port (default 22; 8002 with --insecure)\n"
		 "\n"
		 "<host> is an address (IPv4 with --insecure), or localhost: the\n"
		 "guest then moves to a new domain on this machine.\n"
		 "\n"
		 "The guest keeps its IP address: this machine routes it to <host>\n"
		 "afterwards, so connections from this machine's network go on\n"
		 "(docs/network.md). It keeps the CPU features it booted with, and\n"
		 "the target refuses it, by name and with nothing changed, if its\n"
		 "CPU lacks one, if a disk image is another file there (another\n"
		 "build of the CD), if a guest there holds its address or MAC, or\n"
		 "if its memory is short. Two machines on a cable without DHCP:\n"
		 "'keel-network address eth0 192.168.77.1/24' on each (.2 on the\n"
		 "other).\n",
	.run = migrate_run,
};

/* ---- the target: keel migrate-receive ---- */

/* One guest being received. */
struct receive_run {
	struct restore_file r;
	FILE *w;
	FILE *msg;              /* human messages */
	const char *skip;       /* the source's name here (same machine), or NULL */
	struct mnet net;        /* the guest's addresses (ADDRESSES) */
	char images[MIMG_TEXT_BYTES]; /* its read-only images on the source (IMAGES) */
	char here[INET6_ADDRSTRLEN]; /* this machine's address on the link, or "-" */
	char peer[INET6_ADDRSTRLEN]; /* the source's, or "" (same machine, unknown) */
	bool ready;             /* READY was said */
	bool local;             /* the source is this same dom0 */
	bool paused;            /* the source asked for it paused */
	uint8_t *buf;           /* KEEL_HC_MAX_ARG bytes */
};

/* The domain being received and not yet handed over, for
 * receive_on_signal (0: none). */
static volatile uint32_t receive_domid;

/* Ctrl-C or a kill on the target: drop the half-made copy (the source
 * keeps the guest when the link closes). */
static void receive_on_signal(int sig)
{
	if (receive_domid)
		domain_ctl(receive_domid, KEEL_DOMCTL_DESTROY);
	_exit(128 + sig);
}

/* Keep STATE or CONSOLE section @sec (in r->payload). */
static int receive_keep(struct restore_file *r, const struct savefile_section *sec)
{
	uint8_t **slot = sec->type == SAVEFILE_SEC_STATE ? &r->state : &r->console;
	uint64_t *len = sec->type == SAVEFILE_SEC_STATE ? &r->state_len : &r->console_len;

	if (*slot)
		return -EINVAL;
	*slot = restore_keep(r->payload, sec->length);
	*len = sec->length;
	return *slot ? 0 : -ENOMEM;
}

/* Read the stream after READY up to its END, writing the RAM as it comes. */
static int receive_stream(struct receive_run *rr, uint32_t domid, char *err, size_t err_len)
{
	struct restore_file *r = &rr->r;
	struct savefile_section sec;
	uint8_t *chunk = malloc(SAVEFILE_CHUNK_BYTES);
	uint64_t done = 0, end_at;
	int ret;

	if (!chunk)
		return -ENOMEM;
	while ((ret = restore_next(r, &sec, err, err_len)) == 1) {
		uint64_t at = r->pos - sizeof(sec) - sec.length - savefile_pad(sec.length);

		if (sec.type == SAVEFILE_SEC_RAM || sec.type == SAVEFILE_SEC_RAM_PAGES) {
			ret = restore_section(r, domid, &sec, chunk, &done, err, err_len);
		} else if (sec.type == SAVEFILE_SEC_STATE || sec.type == SAVEFILE_SEC_CONSOLE) {
			ret = receive_keep(r, &sec);
			if (ret == -EINVAL)
				snprintf(err, err_len, "the stream has a second %s section",
					 savefile_section_name(sec.type));
		} else if (sec.type == SAVEFILE_SEC_END) {
			memcpy(&end_at, r->payload, sizeof(end_at));
			ret = end_at == at && r->state ? 2 : -EINVAL;
			if (ret < 0)
				snprintf(err, err_len, "the stream ended without its state, or "
					 "with bytes missing");
		} else {
			snprintf(err, err_len, "the stream has a section it should not (%s)",
				 savefile_section_name(sec.type));
			ret = -EINVAL;
		}
		if (ret)
			break;
	}
	free(chunk);
	if (ret == 2)
		return 0;
	if (ret == 0 || (ret == -EINVAL && strstr(err, "truncated")))
		snprintf(err, err_len, "the link closed before the whole guest came");
	return ret ? ret : -EPIPE;
}

/* The guest's read-only images are the same files here as at the source
 * (mimg_compare); 0 or an error in @err. */
static int receive_images_match(const struct receive_run *rr, char *err, size_t err_len)
{
	char names[KEEL_DOMAIN_MAX_DISKS][KEEL_IMAGE_NAME_BYTES];
	int ret = build_image_names(rr->r.cfg, names, err, err_len);

	return ret ? ret : mimg_compare(rr->images, names, err, err_len);
}

/* The loader of build_domain_loaded on the target: READY, the stream,
 * the state, LOADED, then start on GO. */
static int receive_load(uint32_t domid, void *ctx, char *err, size_t err_len)
{
	struct receive_run *rr = ctx;
	char line[MIGRATE_LINE_BYTES];
	int ret = restore_macs_free(rr->r.cfg, domid, rr->skip, err, err_len);

	if (!ret)
		ret = mnet_check(&rr->net, NETD_RUN_DIR, err, err_len);
	if (!ret)
		ret = receive_images_match(rr, err, err_len);
	if (ret)
		return ret;
	receive_domid = domid;
	if (link_say(rr->w, "READY %u %s%s", domid, rr->here[0] ? rr->here : "-",
		     rr->local ? " " MIGRATE_SAME_MACHINE : "")) {
		snprintf(err, err_len, "the link closed");
		return -EPIPE;
	}
	rr->ready = true;
	fprintf(rr->msg, "Receiving '%s' as domain %u...\n", rr->r.cfg->name, domid);
	fflush(rr->msg);
	ret = receive_stream(rr, domid, err, err_len);
	if (!ret)
		ret = gstate_load(domid, rr->r.state, rr->r.state_len, rr->r.console,
				  rr->r.console_len, rr->buf, rr->r.path, err, err_len);
	if (ret)
		return ret;
	if (link_say(rr->w, "LOADED") || link_hear(rr->r.f, line, sizeof(line)) ||
	    !line_is(line, "GO")) {
		snprintf(err, err_len, "the source did not say go (the link closed)");
		return -EPIPE;
	}
	rr->paused = strcmp(line_rest(line, "GO"), "paused") == 0;
	if (!rr->local)
		mnet_route_in(&rr->net, rr->peer[0] ? rr->peer : NULL);
	ret = gstate_resume(domid, err, err_len);
	if (!ret && rr->paused)
		ret = domain_ctl(domid, KEEL_DOMCTL_PAUSE);
	if (ret && !rr->local) /* it stays at the source */
		mnet_left(&rr->net, rr->peer[0] ? rr->peer : NULL, rr->msg);
	return ret;
}

/* Read the hello and the stream's head; 0, or an error with the message
 * in @err. *@local is set when the source is this same dom0. */
static int receive_head(struct receive_run *rr, uint32_t abi, bool *local, char *err,
			size_t err_len)
{
	struct restore_file *r = &rr->r;
	struct savefile_section sec;
	char line[MIGRATE_LINE_BYTES], path[256];
	const size_t hello = sizeof(MIGRATE_HELLO " ") - 1;
	int ret;


	if (link_hear(r->f, line, sizeof(line)) || strncmp(line, MIGRATE_HELLO " ", hello)) {
		snprintf(err, err_len, "the peer is not 'keel migrate' of this Keel version");
		return -EPROTO;
	}
	*local = strlen(line + hello) == 32 && strspn(line + hello, "0123456789abcdef") == 32 &&
		 snprintf(path, sizeof(path), MONITOR_DIR "/migrating-%s", line + hello) > 0 &&
		 access(path, F_OK) == 0;
	if (link_hear(r->f, line, sizeof(line)) || !line_is(line, "ADDRESSES") ||
	    mnet_parse(line_rest(line, "ADDRESSES"), &rr->net) ||
	    link_hear(r->f, line, sizeof(line)) || !line_is(line, "IMAGES")) {
		snprintf(err, err_len, "the peer did not send the guest's addresses and images "
			 "as 'keel migrate' of this Keel version does");
		return -EPROTO;
	}
	snprintf(rr->images, sizeof(rr->images), "%s", line_rest(line, "IMAGES"));
	if (fread(&r->h, 1, sizeof(r->h), r->f) != sizeof(r->h)) {
		snprintf(err, err_len, "the link closed inside the stream's header");
		return -EPIPE;
	}
	r->pos = sizeof(r->h);
	ret = savefile_header_check(&r->h, abi, err, err_len);
	if (ret)
		return ret;
	ret = restore_next(r, &sec, err, err_len);
	if (ret == 1 && sec.type != SAVEFILE_SEC_CONFIG) {
		snprintf(err, err_len, "the stream does not begin with the guest's config");
		return -EINVAL;
	}
	if (ret != 1)
		return ret ? ret : -EPIPE;
	r->cfg_text = (char *)restore_keep(r->payload, sec.length);
	return r->cfg_text ? 0 : -ENOMEM;
}

/* The config to build: the saved one, under "<name>-incoming" when the
 * source is on this machine (its name is taken until it is gone). */
static int receive_config(struct receive_run *rr, bool local, struct config *cfg,
			  char *orig, char *err, size_t err_len)
{
	char ov[CONFIG_NAME_MAX + 8], *ovp = ov;
	int ret;

	ret = restore_config(&rr->r, NULL, 0, cfg);
	if (ret) {
		snprintf(err, err_len, "its config does not fit this machine (see the target's "
			 "messages)");
		return ret;
	}
	memcpy(orig, cfg->name, strlen(cfg->name) + 1);
	if (!local)
		return 0;
	snprintf(ov, sizeof(ov), "name=%.*s" MIGRATE_INCOMING,
		 (int)(CONFIG_NAME_MAX - strlen(MIGRATE_INCOMING)), orig);
	rr->skip = orig;
	return restore_config(&rr->r, &ovp, 1, cfg);
}

/* Same machine: wait for the source to drop its copy, then take its name. */
static void receive_rename(const char *tmp, const char *orig, uint32_t domid, FILE *r)
{
	char line[MIGRATE_LINE_BYTES];
	struct keel_dominfo d;

	if (link_hear(r, line, sizeof(line)) || !line_is(line, "DONE") ||
	    domain_resolve(tmp, &d) || d.domid != domid) {
		fprintf(stderr, "keel: migrate-receive: the source did not say it dropped its "
			"copy; the guest keeps the name '%s' (keel rename %s %s)\n", tmp, tmp, orig);
		return;
	}
	cmd_rename_domain(&d, tmp, orig);
}

/* Receive one guest on @in, answering on @out; messages to @msg, and with
 * @result to PAIR_RESULT too. */
static int receive_do(FILE *in, FILE *out, FILE *msg, const char *peer, bool result,
		      const struct link_ends *ends)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct receive_run rr;
	struct build_loader ld = { receive_load, &rr, false, 0 };
	char err[BUILD_ERR_BYTES] = "", orig[CONFIG_NAME_MAX + 1] = "";
	uint32_t abi = 0, domid = 0;
	bool local = false;
	int ret = -ENOMEM;

	memset(&rr, 0, sizeof(rr));
	rr.r.path = peer;
	snprintf(rr.here, sizeof(rr.here), "%s", ends->here);
	snprintf(rr.peer, sizeof(rr.peer), "%s", ends->peer);
	rr.r.verb = "migrate-receive";
	rr.r.f = in;
	rr.w = out;
	rr.msg = msg;
	rr.r.payload = malloc(savefile_section_max(SAVEFILE_SEC_RAM));
	rr.buf = malloc(KEEL_HC_MAX_ARG);
	if (!cfg || !rr.r.payload || !rr.buf)
		snprintf(err, sizeof(err), "out of memory");
	else if (hcall_connect(&abi))
		snprintf(err, sizeof(err), "the target's toolstack cannot reach its hypervisor");
	else if (!(ret = receive_head(&rr, abi, &local, err, sizeof(err))) &&
		 !(ret = receive_config(&rr, local, cfg, orig, err, sizeof(err)))) {
		rr.r.cfg = cfg;
		rr.local = local;
		ret = build_domain_loaded(cfg, &ld, &domid, err, sizeof(err));
	}
	receive_domid = 0; /* a failed build destroyed it; a started one is the guest */
	if (ret) {
		link_say(out, "%s %s", rr.ready ? "FAILED" : "REFUSED", err);
		fprintf(stderr, "keel: migrate-receive: %s; nothing was kept here\n", err);
		if (result)
			link_result_put(PAIR_RESULT, "FAIL", err);
	} else {
		char text[160];

		cmd_domain_adopt(cfg, domid, "migrate-receive");
		link_say(out, "RUNNING %u", domid);
		if (result) /* stdout was the link; what is said from now is for people */
			dup2(STDERR_FILENO, STDOUT_FILENO);
		if (!local)
			mnet_arrived(&rr.net, NETD_RUN_DIR, msg);
		snprintf(text, sizeof(text), "Received domain %s (id=%u) from %s; it runs here%s",
			 orig, domid, peer, rr.paused ? ", paused as it was" : "");
		fprintf(msg, "%s\n", text);
		fflush(msg);
		if (result)
			link_result_put(PAIR_RESULT, "OK", text);
		if (local)
			receive_rename(cfg->name, orig, domid, in);
	}
	rr.r.f = NULL; /* the caller's */
	restore_close(&rr.r);
	free(rr.buf);
	free(cfg);
	return ret ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
}

/* `keel migrate-receive --insecure`: one peer on TCP @port. */
static int receive_tcp(const char *port)
{
	struct link l;
	int lfd = link_listen_tcp("migrate-receive", port), fd, ret;

	if (lfd < 0)
		return KEEL_EXIT_FAIL;
	printf("Waiting on TCP port %s for one guest from 'keel migrate --insecure' (plain "
	       "TCP: for a private link only)\n", port);
	fflush(stdout);
	struct link_ends ends;

	fd = link_accept_fd("migrate-receive", lfd);
	close(lfd);
	if (fd < 0)
		return KEEL_EXIT_FAIL;
	link_ends_of_socket(fd, &ends);
	if (link_open_fd(fd, &l))
		return KEEL_EXIT_FAIL;
	ret = receive_do(l.r, l.w, stdout, "the TCP link", false, &ends);
	link_close(&l);
	return ret;
}

/* Entry point of `keel migrate-receive [--insecure] [--port N]`. */
static int receive_run(int argc, char **argv)
{
	const char *port = NULL;
	bool insecure = false, stdio = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_migrate_receive_entry);
			return KEEL_EXIT_OK;
		}
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--insecure") == 0)
			insecure = true;
		else if (strcmp(argv[i], "--stdio") == 0)
			stdio = true;
		else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = argv[++i];
		else
			return keel_usage_error("migrate-receive", argv[i][0] == '-' ?
						"unknown option" : "unexpected argument", argv[i]);
	}
	on_signals(receive_on_signal);
	if (stdio) { /* the "migrate" account's shell, at the far end of SSH */
		struct link_ends ends;

		char pid[16];

		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		link_result_put(PAIR_RESULT, "RUN", pid);
		link_ends_of_ssh(getenv("SSH_CONNECTION"), &ends);
		return receive_do(stdin, stdout, stderr, "the SSH link", true, &ends);
	}
	if (insecure)
		return receive_tcp(port ? port : LINK_TCP_PORT);
	return pair_serve(port ? port : LINK_SSH_PORT, stdout) ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
}

/* Command-table entry of `keel migrate-receive`. */
const struct keel_cmd cmd_migrate_receive_entry = {
	.name = "migrate-receive",
	.summary = "Take one guest from 'keel migrate' on another machine",
	.usage = "Usage: keel migrate-receive [--insecure] [--port N]\n"
		 "\n"
		 "Wait for one guest from 'keel migrate' and run it here, as 'xl\n"
		 "migrate-receive'. It shows a one-time pairing code (and this\n"
		 "boot's SSH host key) to type on the source, and takes SSH logins\n"
		 "(Dropbear) with it until a guest came; after 5 logins without\n"
		 "the code it stops. The code is good for this run only.\n"
		 "The guest is built as its RAM arrives and starts only when the\n"
		 "source says go; if anything fails before, nothing is kept here\n"
		 "and it runs on at the source. Refused, with nothing changed on\n"
		 "either side: too little free memory here, a disk image this\n"
		 "machine does not have or has another build of, a MAC or address\n"
		 "a guest here uses, another hypervisor ABI; after the copy, a CPU\n"
		 "feature the guest booted with that this CPU lacks, or a TSC rate\n"
		 "more than 0.1 % from this one's. The guest keeps its address\n"
		 "here (docs/network.md).\n"
		 "\n"
		 "  --insecure  plain TCP instead, unencrypted and without a code:\n"
		 "              only for a private link\n"
		 "  --port N    the port to listen on (default 22; 8002 with\n"
		 "              --insecure)\n"
		 "  --stdio     take the stream on standard input and answer on\n"
		 "              standard output (what the SSH login runs)\n",
	.run = receive_run,
};
