/*
 * `keel dashboard`: the monitor and the starter's actions in a browser,
 * served by dom0 over plain HTTP with libmicrohttpd (Debian's source,
 * built without HTTPS by build.sh). The main thread takes a sample with
 * the sampler `keel top` uses and publishes the state document
 * (dash_json_state): once a second while a page watches (an event stream
 * is open, or /api/state was asked for in the last DASH_WATCH_S), once
 * every DASH_IDLE_SAMPLE_S otherwise, so that an unwatched dashboard
 * costs dom0 next to nothing and the charts still have their history; GET /api/state answers it, GET /api/events
 * streams it as Server-Sent Events, and the page (static files of
 * DASH_WWW_DIR) draws it. POST /api/action?action=..&target=.. runs what
 * the starter runs for that key, one at a time, and only with the
 * control token (header X-Keel-Token) this run made and showed; a bad
 * request gets a 4xx with the reason. Each connection has a thread of
 * its own (libmicrohttpd's thread-per-connection mode), at most
 * DASH_MAX_CONNECTIONS at once.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <microhttpd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "child.h"
#include "config.h"
#include "dash.h"
#include "dash_console.h"
#include "format.h"
#include "hcall.h"
#include "keel.h"
#include "monitor.h"
#include "sample.h"

#define DASH_WWW_DIR "/usr/share/keel/dashboard"
#define DASH_TOKEN_FILE MONITOR_DIR "/dashboard.token"
#define DASH_PORT_DEFAULT 8080
#define DASH_MAX_CONNECTIONS 32u
#define DASH_STATE_BYTES (256u * 1024u)  /* the state document at most */
#define DASH_OUT_BYTES 2048u             /* an action's output kept */
#define DASH_ACTION_TIMEOUT_S 300        /* an action may run this long */
#define DASH_KEEPALIVE_S 15              /* an idle event stream's comment */
#define DASH_FILE_BYTES (1024u * 1024u)  /* a static file at most */
#define DASH_PRESETS_MAX 64u
#define DASH_WATCH_S 10                  /* a /api/state keeps 1 s samples this long */
#define DASH_IDLE_SAMPLE_S 10            /* between samples nobody watches */

/* Options of `keel dashboard`. */
struct dash_opts {
	uint16_t port;
	const char *listen;  /* IPv4 address, or NULL for all */
	const char *www;     /* static files */
	const char *presets; /* the presets' folder */
	bool read_only;      /* no actions at all */
	bool url;            /* --url: print the addresses and token, exit */
};

/* What the threads share. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	uint64_t gen;             /* bumped with each new document */
	char *doc;                /* the state document (malloc'd) */
	size_t doc_len;
	bool quit;
	pthread_mutex_t action;   /* one action at a time */
	char last_action[DASH_OUT_BYTES];
	char token[DASH_TOKEN_DIGITS + 1];
	const struct dash_opts *o;
	char presets[DASH_PRESETS_MAX][DASH_NAME_MAX + 1];
	uint32_t n_presets;
	uint32_t streams;         /* open event streams */
	time_t state_asked;       /* CLOCK_MONOTONIC s of the last /api/state */
} dash = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.changed = PTHREAD_COND_INITIALIZER,
	.action = PTHREAD_MUTEX_INITIALIZER,
};

/* ---- answers ---- */

/* Queue @body (@len bytes, copied) with @status and @type. */
static enum MHD_Result dash_reply(struct MHD_Connection *c, unsigned status, const char *type,
				  const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Answer {"ok":@ok,"message":@msg} with @status. */
static enum MHD_Result dash_reply_msg(struct MHD_Connection *c, unsigned status, bool ok,
				      const char *msg)
{
	char buf[DASH_OUT_BYTES * 2 + 64];
	struct fmt_buf b;

	fmt_buf_init(&b, buf, sizeof(buf));
	fmt_buf_add(&b, "{\"ok\":%s,\"message\":", ok ? "true" : "false");
	fmt_json_str(&b, msg);
	fmt_buf_add(&b, "}\n");
	return dash_reply(c, status, "application/json", buf, b.pos);
}

/* Seconds on CLOCK_MONOTONIC. */
static time_t dash_now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/* Whether a page watches: an event stream is open, or /api/state was
 * asked for in the last DASH_WATCH_S. */
static bool dash_watched(void)
{
	bool w;

	pthread_mutex_lock(&dash.lock);
	w = dash.streams > 0 || (dash.state_asked && dash_now_s() - dash.state_asked < DASH_WATCH_S);
	pthread_mutex_unlock(&dash.lock);
	return w;
}

/* GET /api/state: the latest document. */
static enum MHD_Result dash_get_state(struct MHD_Connection *c)
{
	enum MHD_Result ret;

	pthread_mutex_lock(&dash.lock);
	dash.state_asked = dash_now_s();
	if (!dash.doc) {
		pthread_mutex_unlock(&dash.lock);
		return dash_reply_msg(c, MHD_HTTP_SERVICE_UNAVAILABLE, false,
				      "no sample yet; try again in a second");
	}
	ret = dash_reply(c, MHD_HTTP_OK, "application/json", dash.doc, dash.doc_len);
	pthread_mutex_unlock(&dash.lock);
	return ret;
}

/* GET /<file>: a static file of the page. */
static enum MHD_Result dash_get_file(struct MHD_Connection *c, const char *url)
{
	char name[DASH_FILE_MAX + 1], path[256];
	const char *type;
	struct stat st;
	struct MHD_Response *r;
	enum MHD_Result ret;
	int fd;

	if (dash_static_name(url, name, sizeof(name), &type))
		return dash_reply_msg(c, MHD_HTTP_NOT_FOUND, false, "no such page");
	snprintf(path, sizeof(path), "%s/%s", dash.o->www, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dash_reply_msg(c, MHD_HTTP_NOT_FOUND, false, "no such page");
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)DASH_FILE_BYTES) {
		close(fd);
		return dash_reply_msg(c, MHD_HTTP_NOT_FOUND, false, "no such page");
	}
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd); /* closes fd */
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* Answer with an event stream read by @reader from @cls (freed by @done,
 * also when the answer cannot be made). */
static enum MHD_Result dash_reply_stream(struct MHD_Connection *c,
					 MHD_ContentReaderCallback reader, void *cls,
					 MHD_ContentReaderFreeCallback done)
{
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
								   reader, cls, done);
	enum MHD_Result ret;

	if (!r) {
		done(cls);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- the event stream ---- */

/* One /api/events client. */
struct dash_stream {
	uint64_t gen;  /* the document it has */
	char *buf;     /* what is left to send */
	size_t len, off;
};

/* Wait for a document newer than @s->gen (or DASH_KEEPALIVE_S) and make
 * it the next event in @s. Returns false when the server quits. */
static bool dash_stream_next(struct dash_stream *s)
{
	struct timespec until;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += DASH_KEEPALIVE_S;
	pthread_mutex_lock(&dash.lock);
	while (!dash.quit && dash.gen == s->gen)
		if (pthread_cond_timedwait(&dash.changed, &dash.lock, &until) == ETIMEDOUT)
			break;
	free(s->buf);
	s->buf = NULL;
	s->len = s->off = 0;
	if (!dash.quit && dash.gen != s->gen && dash.doc) {
		n = dash.doc_len + 16;
		s->buf = malloc(n);
		if (s->buf)
			s->len = (size_t)snprintf(s->buf, n, "data: %s\n\n", dash.doc);
		s->gen = dash.gen;
	} else if (!dash.quit) {
		s->buf = strdup(": still here\n\n");
		s->len = s->buf ? strlen(s->buf) : 0;
	}
	pthread_mutex_unlock(&dash.lock);
	return !dash.quit && s->buf;
}

/* libmicrohttpd's reader of an event stream: up to @max bytes into @out. */
static ssize_t dash_stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct dash_stream *s = cls;
	size_t n;

	(void)pos;
	if (s->off >= s->len && !dash_stream_next(s))
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = s->len - s->off < max ? s->len - s->off : max;
	memcpy(out, s->buf + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

/* An event stream is done with. */
static void dash_stream_free(void *cls)
{
	struct dash_stream *s = cls;

	pthread_mutex_lock(&dash.lock);
	dash.streams--;
	pthread_mutex_unlock(&dash.lock);
	free(s->buf);
	free(s);
}

/* GET /api/events: the state document, once a second, as SSE. */
static enum MHD_Result dash_get_events(struct MHD_Connection *c)
{
	struct dash_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return MHD_NO;
	pthread_mutex_lock(&dash.lock);
	dash.streams++; /* until dash_stream_free */
	pthread_mutex_unlock(&dash.lock);
	return dash_reply_stream(c, dash_stream_read, s, dash_stream_free);
}

/* ---- actions ---- */

/* Whether @name is one of the presets. */
static bool dash_preset_known(const char *name)
{
	uint32_t i;

	for (i = 0; i < dash.n_presets; i++)
		if (strcmp(dash.presets[i], name) == 0)
			return true;
	return false;
}

/* POST /api/action: check the token and the action, run it. */
static enum MHD_Result dash_post_action(struct MHD_Connection *c)
{
	const char *verb = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "action");
	const char *target = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "target");
	const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Keel-Token");
	char err[256], out[DASH_OUT_BYTES];
	struct dash_action a;
	int rc;

	if (token && !token[strspn(token, " ")])
		token = NULL; /* an empty field is no token */
	if (dash.o->read_only)
		return dash_reply_msg(c, MHD_HTTP_FORBIDDEN, false, "this dashboard is read-only "
				      "(keel dashboard --read-only)");
	if (!dash_token_ok(token, dash.token))
		return dash_reply_msg(c, MHD_HTTP_FORBIDDEN, false, token ?
				      "wrong control token: type the one dom0 shows (keel dashboard "
				      "--url)" : "actions need the control token dom0 shows "
				      "(keel dashboard --url)");
	if (dash_action_parse(verb, target, &a, err, sizeof(err)))
		return dash_reply_msg(c, MHD_HTTP_BAD_REQUEST, false, err);
	if (a.verb == DASH_START && !dash_preset_known(a.target)) {
		snprintf(err, sizeof(err), "no preset '%s' here", a.target);
		return dash_reply_msg(c, MHD_HTTP_NOT_FOUND, false, err);
	}
	if (pthread_mutex_trylock(&dash.action))
		return dash_reply_msg(c, MHD_HTTP_CONFLICT, false, "another action is running; "
				      "try again when it is done");
	rc = child_run_keel(a.argv, NULL, out, sizeof(out), DASH_ACTION_TIMEOUT_S);
	pthread_mutex_lock(&dash.lock);
	snprintf(dash.last_action, sizeof(dash.last_action), "%s %s: %s", verb, a.target,
		 rc == 0 ? "done" : "failed");
	pthread_mutex_unlock(&dash.lock);
	pthread_mutex_unlock(&dash.action);
	if (rc < 0)
		snprintf(out, sizeof(out), "could not run keel: %s", strerror(-rc));
	return dash_reply_msg(c, rc == 0 ? MHD_HTTP_OK : MHD_HTTP_CONFLICT, rc == 0,
			      out[0] ? out : (rc == 0 ? "done" : "failed"));
}

/* ---- consoles ---- */

#define DASH_CONSOLE_PREFIX "/api/console/"

/* Check the token and the domain name of a console request (@url past
 * the prefix). NULL if fine, else the answer's message (*@status set). */
static const char *dash_console_check(const char *token, const char *name, unsigned *status,
				      char *err, size_t len)
{
	struct dash_action a;

	if (token && !token[strspn(token, " ")])
		token = NULL;
	*status = MHD_HTTP_FORBIDDEN;
	if (dash.o->read_only)
		return "this dashboard is read-only (keel dashboard --read-only)";
	if (!dash_token_ok(token, dash.token))
		return token ? "wrong control token" : "consoles need the control token dom0 shows "
		       "(keel dashboard --url)";
	*status = MHD_HTTP_BAD_REQUEST;
	if (dash_action_parse("pause", name, &a, err, len))
		return err;
	return NULL;
}

/* GET /api/console/<domain>?token=T: its console as an event stream. */
static enum MHD_Result dash_get_console(struct MHD_Connection *c, const char *name)
{
	const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	char err[256];
	unsigned status;
	const char *why = dash_console_check(token, name, &status, err, sizeof(err));
	struct dash_con *con;

	if (why)
		return dash_reply_msg(c, status, false, why);
	con = dash_console_open(name, &status, err, sizeof(err));
	if (!con)
		return dash_reply_msg(c, status, false, err);
	return dash_reply_stream(c, dash_console_read, con, dash_console_close);
}

/* One request's body, kept across libmicrohttpd's calls. */
struct dash_body {
	char data[DASH_CONSOLE_INPUT_MAX];
	size_t len;
	bool too_big;
};

/* POST /api/console/<domain>: the body typed on its console. */
static enum MHD_Result dash_post_console(struct MHD_Connection *c, const char *name,
					 const struct dash_body *body)
{
	const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Keel-Token");
	char err[256];
	unsigned status;
	const char *why = dash_console_check(token, name, &status, err, sizeof(err));
	int ret;

	if (why)
		return dash_reply_msg(c, status, false, why);
	if (body->too_big)
		return dash_reply_msg(c, MHD_HTTP_CONTENT_TOO_LARGE, false, "at most 4096 bytes "
				      "at once");
	ret = dash_console_input(name, body->data, body->len);
	if (ret == -ENOENT)
		return dash_reply_msg(c, MHD_HTTP_CONFLICT, false, "open the console first");
	return dash_reply_msg(c, ret ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK, !ret,
			      ret ? "the console is gone" : "sent");
}

/* ---- routing ---- */

/* libmicrohttpd's handler of every request. A request body is kept (up
 * to DASH_CONSOLE_INPUT_MAX bytes) until its last call. */
static enum MHD_Result dash_handle(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *upload,
				   size_t *upload_len, void **con_cls)
{
	struct dash_body *body = *con_cls;
	size_t plen = strlen(DASH_CONSOLE_PREFIX);

	(void)cls, (void)version;
	if (!body) {
		*con_cls = calloc(1, sizeof(struct dash_body));
		return *con_cls ? MHD_YES : MHD_NO;
	}
	if (*upload_len) {
		if (body->len + *upload_len > sizeof(body->data))
			body->too_big = true;
		else
			memcpy(body->data + body->len, upload, *upload_len), body->len += *upload_len;
		*upload_len = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") == 0) {
		if (strcmp(url, "/api/action") == 0)
			return dash_post_action(c);
		if (strncmp(url, DASH_CONSOLE_PREFIX, plen) == 0)
			return dash_post_console(c, url + plen, body);
		return dash_reply_msg(c, MHD_HTTP_NOT_FOUND, false, "no such action path");
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return dash_reply_msg(c, MHD_HTTP_METHOD_NOT_ALLOWED, false, "GET or POST only");
	if (strcmp(url, "/api/state") == 0)
		return dash_get_state(c);
	if (strcmp(url, "/api/events") == 0)
		return dash_get_events(c);
	if (strncmp(url, DASH_CONSOLE_PREFIX, plen) == 0)
		return dash_get_console(c, url + plen);
	return dash_get_file(c, url);
}

/* libmicrohttpd's end of a request: free its body. */
static void dash_done(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode why)
{
	(void)cls, (void)c, (void)why;
	free(*con_cls);
	*con_cls = NULL;
}

/* ---- the sampler ---- */

/* The presets: the *.cfg names of the presets' folder, sorted. */
static void dash_scan_presets(void)
{
	struct dirent *e;
	DIR *d = opendir(dash.o->presets);
	uint32_t n = 0, i, j;
	char tmp[DASH_NAME_MAX + 1];

	while (d && (e = readdir(d)) && n < DASH_PRESETS_MAX) {
		size_t l = strlen(e->d_name);

		if (l > 4 && l - 4 <= DASH_NAME_MAX && strcmp(e->d_name + l - 4, ".cfg") == 0 &&
		    e->d_name[0] != '.')
			snprintf(dash.presets[n++], DASH_NAME_MAX + 1, "%.*s", (int)(l - 4), e->d_name);
	}
	if (d)
		closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(dash.presets[j - 1], dash.presets[j]) > 0; j--) {
			memcpy(tmp, dash.presets[j], sizeof(tmp));
			memcpy(dash.presets[j], dash.presets[j - 1], sizeof(tmp));
			memcpy(dash.presets[j - 1], tmp, sizeof(tmp));
		}
	dash.n_presets = n;
}

/* The compatibility report, as `keel info --compat` prints it. */
static void dash_read_compat(char *out, size_t len)
{
	static const char *const argv[] = { "keel", "info", "--compat", NULL };

	if (child_run_keel(argv, NULL, out, len, DASH_ACTION_TIMEOUT_S) < 0)
		snprintf(out, len, "(keel info --compat did not run)");
}

/* What the sampler keeps between rounds. */
struct dash_sampler {
	struct top_sample samples[2];
	struct top_sample *cur, *prev;
	struct top_row rows[TOP_MAX_DOMS];
	struct top_cpu_row cpus[TOP_MAX_CPUS];
	struct dash_hist hist;
	char compat[8192];
	char *buf;
};

/* Take a sample and publish its document. 0, or the sample's error. */
static int dash_sample(struct dash_sampler *s, char *why, size_t len)
{
	struct top_sample *next = s->cur == &s->samples[0] ? &s->samples[1] : &s->samples[0];
	const char *names[DASH_PRESETS_MAX];
	struct dash_extra x;
	uint32_t n, nc, i;
	int ret = sample_take(next, why, len);

	if (ret)
		return ret;
	s->prev = s->cur;
	s->cur = next;
	n = top_compute(s->prev, s->cur, s->rows, TOP_MAX_DOMS);
	nc = top_compute_cpus(s->prev, s->cur, s->cpus, TOP_MAX_CPUS);
	dash_hist_push(&s->hist, s->rows, n, s->cur->now_ns);
	for (i = 0; i < dash.n_presets; i++)
		names[i] = dash.presets[i];
	pthread_mutex_lock(&dash.lock);
	x = (struct dash_extra){ s->compat, names, dash.n_presets,
				 dash.last_action[0] ? dash.last_action : NULL,
				 !dash.o->read_only };
	ret = dash_json_state(s->cur, s->rows, n, s->cpus, nc, &s->hist, &x, s->buf,
			      DASH_STATE_BYTES);
	if (ret > 0) {
		char *old = dash.doc;

		dash.doc = s->buf;
		dash.doc_len = (size_t)ret;
		s->buf = old;
		dash.gen++;
		pthread_cond_broadcast(&dash.changed);
	}
	pthread_mutex_unlock(&dash.lock);
	if (!s->buf)
		s->buf = malloc(DASH_STATE_BYTES);
	return s->buf ? 0 : -ENOMEM;
}

/* ---- start and stop ---- */

/* Make the control token and leave it in DASH_TOKEN_FILE (0600). */
static int dash_make_token(void)
{
	uint8_t raw[DASH_TOKEN_DIGITS];
	uint32_t i;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	FILE *f;

	if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw)) {
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	close(fd);
	for (i = 0; i < DASH_TOKEN_DIGITS; i++)
		dash.token[i] = (char)('0' + raw[i] % 10);
	dash.token[DASH_TOKEN_DIGITS] = 0;
	mkdir(MONITOR_DIR, 0755);
	fd = open(DASH_TOKEN_FILE ".new", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f)
		return -errno;
	fprintf(f, "%d %s\n", dash.o->port, dash.token);
	if (fclose(f) || rename(DASH_TOKEN_FILE ".new", DASH_TOKEN_FILE))
		return -errno;
	return 0;
}

/* Where the running dashboard is; see keel.h. */
int cmd_dashboard_where(char *urls, size_t len, char *token, size_t tlen)
{
	struct ifaddrs *ifs, *i;
	char addr[INET_ADDRSTRLEN], tok[DASH_TOKEN_DIGITS + 1] = "";
	int port = 0, n = 0;
	FILE *f = fopen(DASH_TOKEN_FILE, "r");
	struct fmt_buf b;

	if (!f || fscanf(f, "%d %8s", &port, tok) != 2 || strlen(tok) != DASH_TOKEN_DIGITS) {
		if (f)
			fclose(f);
		return -ENOENT;
	}
	fclose(f);
	snprintf(token, tlen, "%.4s-%.4s", tok, tok + 4);
	fmt_buf_init(&b, urls, len);
	if (getifaddrs(&ifs) == 0) {
		/* the uplinks first: they are what other machines reach */
		for (int pass = 0; pass < 2; pass++) {
			for (i = ifs; i; i = i->ifa_next) {
				bool keel0 = strcmp(i->ifa_name, "keel0") == 0;

				if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
				    (i->ifa_flags & IFF_LOOPBACK) || keel0 != (pass == 1))
					continue;
				inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
					  addr, sizeof(addr));
				fmt_buf_add(&b, "%shttp://%s:%d/ (%s)", n++ ? ", " : "", addr, port,
					    i->ifa_name);
			}
		}
		freeifaddrs(ifs);
	}
	if (!n)
		fmt_buf_add(&b, "port %d (no network address yet)", port);
	return 0;
}

/* `keel dashboard --url`: where it is, and the control token. */
static int dash_print_url(void)
{
	char urls[1024], token[16];

	if (cmd_dashboard_where(urls, sizeof(urls), token, sizeof(token))) {
		printf("The dashboard is not running (start it with 'keel dashboard &')\n");
		return KEEL_EXIT_FAIL;
	}
	printf("Dashboard: %s\nDashboard control token: %s\n", urls, token);
	return KEEL_EXIT_OK;
}

static volatile sig_atomic_t dash_stop;

/* SIGINT/SIGTERM: leave the loop. */
static void dash_on_signal(int sig)
{
	(void)sig;
	dash_stop = 1;
}

/* Start libmicrohttpd on the options' address and port. NULL on failure
 * (printed). */
static struct MHD_Daemon *dash_listen(const struct dash_opts *o)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(o->port);
	if (o->listen && inet_pton(AF_INET, o->listen, &sa.sin_addr) != 1) {
		fprintf(stderr, "keel: dashboard: '%s' is not an IPv4 address\n", o->listen);
		return NULL;
	}
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
			     o->port, NULL, NULL, dash_handle, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)DASH_MAX_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(DASH_KEEPALIVE_S * 4),
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
			     MHD_OPTION_NOTIFY_COMPLETED, dash_done, NULL,
			     MHD_OPTION_END);
	if (!d)
		fprintf(stderr, "keel: dashboard: cannot listen on %s port %u (is another "
			"dashboard running? choose another with --port)\n",
			o->listen ? o->listen : "every address", o->port);
	return d;
}

/* Serve until a signal; sample once a second while a page watches, every
 * DASH_IDLE_SAMPLE_S otherwise. */
static int dash_serve(const struct dash_opts *o)
{
	static struct dash_sampler s;
	char why[256] = "";
	struct MHD_Daemon *d;
	uint32_t idle_s = DASH_IDLE_SAMPLE_S;
	int ret;

	dash.o = o;
	if (hcall_connect(NULL))
		return KEEL_EXIT_FAIL;
	s.buf = malloc(DASH_STATE_BYTES);
	if (!s.buf)
		return KEEL_EXIT_FAIL;
	dash_read_compat(s.compat, sizeof(s.compat));
	dash_scan_presets();
	if (dash_make_token()) {
		fprintf(stderr, "keel: dashboard: cannot write %s: %s\n", DASH_TOKEN_FILE,
			strerror(errno));
		return KEEL_EXIT_FAIL;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, dash_on_signal);
	signal(SIGTERM, dash_on_signal);
	d = dash_listen(o);
	if (!d)
		return KEEL_EXIT_FAIL;
	dash_print_url();
	fflush(stdout);
	while (!dash_stop) {
		if (idle_s >= DASH_IDLE_SAMPLE_S || dash_watched()) {
			ret = dash_sample(&s, why, sizeof(why));
			if (ret)
				fprintf(stderr, "keel: dashboard: no sample: %s\n", why);
			if (dash.gen % 5 == 0)
				dash_scan_presets();
			idle_s = 0;
		}
		sleep(1);
		idle_s++;
	}
	pthread_mutex_lock(&dash.lock);
	dash.quit = true;
	pthread_cond_broadcast(&dash.changed);
	pthread_mutex_unlock(&dash.lock);
	dash_console_stop_all();
	MHD_stop_daemon(d);
	unlink(DASH_TOKEN_FILE);
	return KEEL_EXIT_OK;
}

/* Entry point of `keel dashboard`. */
static int cmd_dashboard_run(int argc, char **argv)
{
	static struct dash_opts o = { DASH_PORT_DEFAULT, NULL, DASH_WWW_DIR, CONFIG_MEDIUM_DIR,
				      false, false };
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool takes = !strcmp(a, "--port") || !strcmp(a, "--listen") || !strcmp(a, "--www") ||
			     !strcmp(a, "-C");

		if (args_is_help(a)) {
			keel_print_cmd_help(&cmd_dashboard_entry);
			return KEEL_EXIT_OK;
		}
		if (takes && i + 1 >= argc)
			return keel_usage_error("dashboard", "missing value after", a);
		if (!strcmp(a, "--port")) {
			char *end;
			long p = strtol(argv[++i], &end, 10);

			if (*end || p < 1 || p > 65535)
				return keel_usage_error("dashboard", "bad port (1-65535)", argv[i]);
			o.port = (uint16_t)p;
		} else if (!strcmp(a, "--listen")) {
			o.listen = argv[++i];
		} else if (!strcmp(a, "--www")) {
			o.www = argv[++i];
		} else if (!strcmp(a, "-C")) {
			o.presets = argv[++i];
		} else if (!strcmp(a, "--read-only")) {
			o.read_only = true;
		} else if (!strcmp(a, "--url")) {
			o.url = true;
		} else {
			return keel_usage_error("dashboard", a[0] == '-' ? "unknown option" :
						"unexpected argument", a);
		}
	}
	return o.url ? dash_print_url() : dash_serve(&o);
}

/* Command-table entry of `keel dashboard`. */
const struct keel_cmd cmd_dashboard_entry = {
	.name = "dashboard",
	.summary = "Serve the monitor and the starter's actions to a web browser",
	.usage = "Usage: keel dashboard [--port N] [--listen ADDR] [--read-only] [-C DIR]\n"
		 "       keel dashboard --url\n"
		 "\n"
		 "Serve a web page (plain HTTP) with what 'keel top' shows, live: each\n"
		 "domain's state, CPU% with a chart of the last 5 minutes, memory,\n"
		 "vCPUs, network and disk rates, exits per second; each physical\n"
		 "CPU's load; the pool's free memory; the compatibility report.\n"
		 "Dom0 starts it at boot. Anyone who reaches the page sees it; its\n"
		 "buttons (start a preset, pause, unpause, shut down, destroy, clone,\n"
		 "save) need the control token, a code made for this run and shown\n"
		 "on dom0's banner and serial menu and by --url. Runs until stopped.\n"
		 "\n"
		 "  --port N       TCP port (default 8080)\n"
		 "  --listen ADDR  listen on this IPv4 address only (default: all,\n"
		 "                 keel0 and the uplinks)\n"
		 "  --read-only    no actions, with or without the token\n"
		 "  -C DIR         the presets' folder (default " CONFIG_MEDIUM_DIR ")\n"
		 "  --www DIR      the page's files (default " DASH_WWW_DIR ")\n"
		 "  --url          print the running dashboard's addresses and control\n"
		 "                 token, and exit\n"
		 "\n"
		 "Under QEMU, forward a host port to it: -nic user,hostfwd=tcp::8080-:8080,\n"
		 "then open http://localhost:8080/ on the host. docs/dashboard.md.\n",
	.run = cmd_dashboard_run,
};
