/*
 * `keel netd`: dom0's network helper daemon for the guests' virtual
 * switch. It serves DHCP on keel0 (UDP 0.0.0.0:67 bound to the device,
 * replies to 255.255.255.255:68 or to the client's address) and DNS on
 * 10.77.0.1:53 and 127.0.0.1:53, answering the guests' names from the
 * registry that `keel create` writes and forwarding other names to the
 * upstream resolvers of upstream.conf. This file is only the I/O: sockets,
 * the poll() loop, files (leases, registry, upstream, pid, log) and
 * daemonizing; the protocol logic is in dhcp.c, dns.c and lease.c. One
 * process, one thread.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "args.h"
#include "dhcp.h"
#include "dns.h"
#include "keel.h"
#include "lease.h"
#include "netd.h"
#include "netnames.h"

#define NETD_NAMES_MAX 256u          /* registry entries read */
#define NETD_PKT_MAX_BYTES 65536u    /* receive buffer (largest UDP) */
#define NETD_STATS_LOG_MS 60000u     /* log drop counters this often */
#define NETD_UPSTREAM_FILE_MAX_BYTES 8192u
#define NETD_LISTENERS 2u            /* DNS on NETD_ADDR and loopback */
#define NETD_FDS (NETD_LISTENERS + 2u)

/* Command-line options. */
struct netd_opts {
	int foreground;
	const char *ifname;
	const char *names_dir;
	const char *leases;
	const char *upstream;
	const char *log; /* NULL: stderr in the foreground */
};

/* The upstream resolvers and the file they came from. */
struct netd_upstream {
	uint32_t servers[NETD_UPSTREAM_MAX];
	uint32_t n;
	int known;           /* the file has been looked at */
	int present;         /* ... and it existed */
	struct stat st;      /* its identity and mtime when last read */
};

/* Counters. */
struct netd_stats {
	uint64_t dhcp_bad, dns_bad, up_bad;       /* dropped packets */
	uint64_t logged_dhcp_bad, logged_dns_bad, logged_up_bad;
	uint64_t next_log_ms;
};

/* All state of the daemon. */
struct netd {
	struct netd_opts o;
	int dhcp_fd;
	int dns_fd[NETD_LISTENERS];
	int up_fd;
	int log_fd;
	int wrote_pid;
	int names_err;       /* last registry error logged */
	int save_err;        /* last lease-file error logged */
	uint16_t id_counter; /* fallback when getrandom() fails */
	struct lease_table leases;
	struct dns_pending_table pending;
	struct netd_upstream up;
	struct netd_stats st;
	struct netnames_entry names[NETD_NAMES_MAX];
	uint32_t n_names;
	uint8_t pkt[NETD_PKT_MAX_BYTES];
	char text[LEASE_TEXT_MAX_BYTES];
};

static struct netd netd_state;
static volatile sig_atomic_t netd_signal;

/* ---- small helpers ---- */

/* Monotonic time in ms. */
static uint64_t netd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Format the host-order IPv4 address @addr into @buf. */
static const char *netd_ip(uint32_t addr, char buf[INET_ADDRSTRLEN])
{
	struct in_addr in = { .s_addr = htonl(addr) };

	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

/* Write one timestamped (UTC) log line to @fd. */
static void netd_vlog_fd(int fd, const char *fmt, va_list ap)
{
	char line[512];
	time_t now = time(NULL);
	struct tm tm;
	size_t n;
	int m;

	gmtime_r(&now, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S ", &tm);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += (size_t)m < sizeof(line) - n - 1 ? (size_t)m : sizeof(line) - n - 2;
	line[n++] = '\n';
	if (write(fd, line, n) < 0)
		return;
}

/* Log one line (stderr is the log once running). */
static void netd_log(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void netd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	netd_vlog_fd(STDERR_FILENO, fmt, ap);
	va_end(ap);
}

/*
 * Report a fatal start-up error: "keel: netd: <msg>" on stderr, and in
 * the log file too when it is open and not stderr. Returns KEEL_EXIT_FAIL.
 */
static int netd_fail(struct netd *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int netd_fail(struct netd *n, const char *fmt, ...)
{
	va_list ap;

	fputs("keel: netd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (n->log_fd >= 0 && n->log_fd != STDERR_FILENO) {
		va_start(ap, fmt);
		netd_vlog_fd(n->log_fd, fmt, ap);
		va_end(ap);
	}
	return KEEL_EXIT_FAIL;
}

/* mkdir -p of the directory holding @path. Returns 0 or -errno. */
static int netd_mkdir_parent(const char *path)
{
	char dir[PATH_MAX];
	size_t i, n = strlen(path);

	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n + 1);
	for (i = 1; i < n; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		dir[i] = '/';
	}
	return 0;
}

/* Read at most @len - 1 bytes of @path into @buf (NUL-terminated). */
static ssize_t netd_read_file(const char *path, char *buf, size_t len)
{
	ssize_t got = 0, r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1) {
		r = read(fd, buf + got, len - 1 - (size_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	close(fd);
	buf[got] = '\0';
	return got;
}

/* ---- leases, names, upstream ---- */

/* Load the lease file at start; a missing file is an empty table. */
static void netd_load_leases(struct netd *n)
{
	ssize_t len = netd_read_file(n->o.leases, n->text, sizeof(n->text));
	uint32_t bad = 0, got;

	lease_init(&n->leases);
	if (len < 0) {
		if (len != -ENOENT)
			netd_log("cannot read %s: %s; starting with no leases",
				 n->o.leases, strerror((int)-len));
		return;
	}
	got = lease_parse(&n->leases, n->text, (size_t)len, &bad);
	netd_log("loaded %u leases from %s%s", got, n->o.leases,
		 bad ? " (some lines were bad and skipped)" : "");
}

/* Save the lease table; errors are logged when they change. */
static void netd_save_leases(struct netd *n)
{
	int len = lease_format(&n->leases, n->text, sizeof(n->text));
	int ret = len < 0 ? len : file_write_atomic(n->o.leases, ".tmp", n->text,
						     (size_t)len);

	if (ret && ret != n->save_err)
		netd_log("cannot save leases to %s: %s", n->o.leases,
			 strerror(-ret));
	n->save_err = ret;
}

/* Read the name registry again. */
static void netd_read_names(struct netd *n)
{
	int ret = netnames_read_dir(n->o.names_dir, n->names, NETD_NAMES_MAX,
				    NULL);

	if (ret < 0 && ret != n->names_err)
		netd_log("cannot read the name registry %s: %s",
			 n->o.names_dir, strerror(-ret));
	n->names_err = ret < 0 ? ret : 0;
	n->n_names = ret < 0 ? 0 : (uint32_t)ret;
}

/*
 * Take the addresses of guests that migrated here (keel migrate-receive
 * leaves "<mac> <addr>" files in NETD_ADOPT_DIR): each becomes that MAC's
 * ACTIVE binding (lease_adopt), so that no other guest is offered it and
 * the guest renews it, and the file goes. Run before every DHCP decision
 * and DNS answer.
 */
static void netd_adopt(struct netd *n)
{
	DIR *dir = opendir(NETD_ADOPT_DIR);
	uint8_t guests[NETD_NAMES_MAX][6];
	struct dirent *e;
	bool changed = false;
	uint32_t i;

	if (!dir)
		return;
	netd_read_names(n); /* a lease of a guest no longer here is no clash */
	for (i = 0; i < n->n_names; i++)
		memcpy(guests[i], n->names[i].mac, 6);

	while ((e = readdir(dir)) != NULL) {
		char path[PATH_MAX], text[64], ip[INET_ADDRSTRLEN] = "";
		struct in_addr a;
		uint8_t mac[6];
		ssize_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", NETD_ADOPT_DIR, e->d_name);
		len = netd_read_file(path, text, sizeof(text) - 1);
		unlink(path);
		if (len < 0)
			continue;
		text[len] = '\0';
		if (netnames_mac_parse(text, mac) || sscanf(text + 17, " %15s", ip) != 1 ||
		    inet_pton(AF_INET, ip, &a) != 1) {
			netd_log("ignored %s: not '<mac> <address>'", path);
			continue;
		}
		if (lease_adopt(&n->leases, mac, ntohl(a.s_addr), (uint64_t)time(NULL),
				(const uint8_t (*)[6])guests, n->n_names)) {
			netd_log("%.17s keeps %s: a guest migrated here", text, ip);
			changed = true;
		} else {
			netd_log("%.17s came with %s, which is not ours to give or another "
				 "guest holds", text, ip);
		}
	}
	closedir(dir);
	if (changed)
		netd_save_leases(n);
}

/* The registered hostname of @mac, or NULL (after netd_read_names). */
static const char *netd_hostname_of(const struct netd *n, const uint8_t *mac)
{
	uint32_t i;

	for (i = 0; i < n->n_names; i++) {
		if (memcmp(n->names[i].mac, mac, 6) == 0)
			return n->names[i].hostname;
	}
	return NULL;
}

/* Fill @hosts with the registered names and their live addresses. */
static uint32_t netd_dns_hosts(struct netd *n, struct dns_host *hosts)
{
	uint64_t now = (uint64_t)time(NULL);
	uint32_t i;

	netd_adopt(n);
	netd_read_names(n);
	for (i = 0; i < n->n_names; i++) {
		struct lease *l = lease_by_mac(&n->leases, n->names[i].mac);

		hosts[i].name = n->names[i].hostname;
		hosts[i].addr = l && lease_is_live(l, now) ? l->addr : 0;
	}
	return n->n_names;
}

/* True if @a and @b are the same file with the same contents' time. */
static int netd_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Log the upstream servers now in use. */
static void netd_log_upstream(const struct netd *n)
{
	char list[NETD_UPSTREAM_MAX * (INET_ADDRSTRLEN + 1)] = "", ip[INET_ADDRSTRLEN];
	uint32_t i;

	for (i = 0; i < n->up.n; i++) {
		if (i)
			strcat(list, " ");
		strcat(list, netd_ip(n->up.servers[i], ip));
	}
	netd_log("upstream DNS servers: %s", n->up.n ? list : "none (other "
		 "names get SERVFAIL)");
}

/* Re-read the upstream file if it appeared, vanished or changed. */
static void netd_refresh_upstream(struct netd *n)
{
	char text[NETD_UPSTREAM_FILE_MAX_BYTES];
	struct stat st;
	ssize_t len;

	if (stat(n->o.upstream, &st) < 0) {
		if (n->up.known && !n->up.present)
			return; /* still missing */
		memset(&n->up, 0, sizeof(n->up));
		n->up.known = 1;
		netd_log_upstream(n);
		return;
	}
	if (n->up.known && n->up.present && netd_same_file(&st, &n->up.st))
		return;
	len = netd_read_file(n->o.upstream, text, sizeof(text));
	n->up.n = len < 0 ? 0 : dns_parse_resolv(text, (size_t)len,
						 n->up.servers,
						 NETD_UPSTREAM_MAX);
	n->up.st = st;
	n->up.known = 1;
	n->up.present = 1;
	netd_log_upstream(n);
}

/* ---- DHCP ---- */

/* Log what a DHCP exchange did that matters (leases, NAKs, errors). */
static void netd_log_dhcp(const struct dhcp_request *req,
			  const struct dhcp_decision *d, const char *host)
{
	char mac[NETNAMES_MAC_TEXT_BYTES], ip[INET_ADDRSTRLEN];
	uint32_t asked = req->requested ? req->requested : req->ciaddr;

	netnames_mac_format(req->chaddr, mac);
	if (d->reply == DHCP_ACK && d->bound)
		netd_log("lease %s to %s (%s)", netd_ip(d->yiaddr, ip), mac,
			 host ? host : "no registered name");
	else if (d->reply == DHCP_NAK)
		netd_log("NAK to %s for %s: %s", mac, netd_ip(asked, ip), d->why);
	else if (req->type == DHCP_DISCOVER && !d->reply)
		netd_log("no address for %s: %s", mac, d->why);
	else if (req->type == DHCP_RELEASE && d->changed)
		netd_log("%s released %s", mac, netd_ip(req->ciaddr, ip));
	else if (req->type == DHCP_DECLINE && d->changed)
		netd_log("%s declined %s (in use by another host): not given out "
			 "for %u s", mac, netd_ip(req->requested, ip),
			 NETD_LEASE_SECONDS);
}

/* Send the DHCP reply @buf (@len bytes) to @dest:68 on keel0. */
static void netd_send_dhcp(struct netd *n, const uint8_t *buf, size_t len,
			   uint32_t dest)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(NETD_DHCP_CLIENT_PORT),
		.sin_addr.s_addr = htonl(dest),
	};
	char ip[INET_ADDRSTRLEN];

	if (sendto(n->dhcp_fd, buf, len, 0, (struct sockaddr *)&to,
		   sizeof(to)) < 0)
		netd_log("cannot send DHCP reply to %s: %s", netd_ip(dest, ip),
			 strerror(errno));
}

/* A DHCP packet arrived: answer it (RFC 2131 section 4.3). */
static void netd_on_dhcp(struct netd *n)
{
	uint8_t out[DHCP_MAX_REPLY_BYTES];
	struct dhcp_decision d;
	struct dhcp_request req;
	const char *host;
	ssize_t len;
	int olen;

	len = recv(n->dhcp_fd, n->pkt, sizeof(n->pkt), 0);
	if (len < 0)
		return;
	if (dhcp_parse(n->pkt, (size_t)len, &req)) {
		n->st.dhcp_bad++;
		return;
	}
	netd_adopt(n);
	dhcp_decide(&req, &n->leases, (uint64_t)time(NULL), &d);
	if (d.changed)
		netd_save_leases(n);
	netd_read_names(n);
	host = netd_hostname_of(n, req.chaddr);
	netd_log_dhcp(&req, &d, host);
	if (!d.reply)
		return;
	olen = dhcp_build_reply(&req, &d, host, out, sizeof(out));
	if (olen > 0)
		netd_send_dhcp(n, out, (size_t)olen, d.dest);
}

/* ---- DNS ---- */

/* Send @len bytes of @buf from listener @li to @addr:@port. */
static void netd_send_dns(struct netd *n, uint32_t li, const uint8_t *buf,
			  size_t len, uint32_t addr, uint16_t port)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(addr),
	};

	sendto(n->dns_fd[li], buf, len, 0, (struct sockaddr *)&to, sizeof(to));
}

/* Answer @q from listener @li to @addr:@port with @rcode (SERVFAIL). */
static void netd_dns_error(struct netd *n, uint32_t li,
			   const struct dns_query *q, uint16_t rcode,
			   uint32_t addr, uint16_t port)
{
	uint8_t out[DNS_UDP_MAX_BYTES];
	int len = dns_build_error(q, rcode, out, sizeof(out));

	if (len > 0)
		netd_send_dns(n, li, out, (size_t)len, addr, port);
}

/* A random 16-bit query id (RFC 5452 section 9.2). */
static uint16_t netd_random_id(struct netd *n)
{
	uint16_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	n->id_counter = (uint16_t)(n->id_counter * 25173u + 13849u +
				   (uint16_t)netd_now_ms());
	return n->id_counter;
}

/*
 * Send pending query @p to upstream server number p->tries, or the next
 * one that accepts it. Sets the retry time. Returns 0, or -1 if no
 * server is left to try.
 */
static int netd_upstream_send(struct netd *n, struct dns_pending *p,
			      const uint8_t *pkt, size_t len, uint64_t now)
{
	while (p->tries < n->up.n) {
		struct sockaddr_in to = {
			.sin_family = AF_INET,
			.sin_port = htons(NETD_DNS_PORT),
			.sin_addr.s_addr = htonl(n->up.servers[p->tries]),
		};

		p->server = n->up.servers[p->tries++];
		if (sendto(n->up_fd, pkt, len, 0, (struct sockaddr *)&to,
			   sizeof(to)) < 0)
			continue;
		p->retry_ms = p->tries < n->up.n && p->pkt_bytes ?
			      now + NETD_DNS_TRY_MS : 0;
		return 0;
	}
	return -1;
}

/* Forward the query @pkt (@len bytes, parsed as @q) upstream. */
static void netd_forward(struct netd *n, uint32_t li,
			 const struct dns_query *q, uint8_t *pkt, size_t len,
			 const struct sockaddr_in *from)
{
	uint32_t addr = ntohl(from->sin_addr.s_addr);
	uint16_t port = ntohs(from->sin_port);
	uint64_t now = netd_now_ms();
	struct dns_pending *p;

	netd_refresh_upstream(n);
	p = n->up.n ? dns_pending_new(&n->pending, netd_random_id(n)) : NULL;
	if (!p) {
		netd_dns_error(n, li, q, DNS_RCODE_SERVFAIL, addr, port);
		return;
	}
	p->client_id = q->id;
	p->client_addr = addr;
	p->client_port = port;
	p->listener = li;
	p->q = *q;
	p->deadline_ms = now + NETD_DNS_TIMEOUT_MS;
	dns_set_id(pkt, p->up_id);
	if (len <= sizeof(p->pkt)) {
		memcpy(p->pkt, pkt, len);
		p->pkt_bytes = (uint32_t)len;
	}
	if (netd_upstream_send(n, p, pkt, len, now)) {
		netd_dns_error(n, li, q, DNS_RCODE_SERVFAIL, addr, port);
		p->used = 0;
	}
}

/* A DNS query arrived on listener @li (RFC 1035 section 4.2.1). */
static void netd_on_dns(struct netd *n, uint32_t li)
{
	struct dns_host hosts[NETD_NAMES_MAX];
	uint8_t out[DNS_UDP_MAX_BYTES];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	struct dns_query q;
	size_t olen = 0;
	uint32_t nh;
	ssize_t len;

	len = recvfrom(n->dns_fd[li], n->pkt, sizeof(n->pkt), 0,
		       (struct sockaddr *)&from, &flen);
	if (len < 0 || flen < sizeof(from))
		return;
	nh = netd_dns_hosts(n, hosts);
	switch (dns_handle_query(n->pkt, (size_t)len, hosts, nh, &q, out,
				 sizeof(out), &olen)) {
	case DNS_DROP:
		n->st.dns_bad++;
		break;
	case DNS_REPLY:
		netd_send_dns(n, li, out, olen, ntohl(from.sin_addr.s_addr),
			      ntohs(from.sin_port));
		break;
	case DNS_FORWARD:
		netd_forward(n, li, &q, n->pkt, (size_t)len, &from);
		break;
	}
}

/* An answer arrived from upstream: relay it with the client's id. */
static void netd_on_upstream(struct netd *n)
{
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	struct dns_pending *p;
	ssize_t len;

	len = recvfrom(n->up_fd, n->pkt, sizeof(n->pkt), 0,
		       (struct sockaddr *)&from, &flen);
	if (len < 0 || flen < sizeof(from))
		return;
	p = dns_pending_match(&n->pending, n->pkt, (size_t)len,
			      ntohl(from.sin_addr.s_addr), ntohs(from.sin_port));
	if (!p) {
		n->st.up_bad++;
		return;
	}
	dns_set_id(n->pkt, p->client_id);
	netd_send_dns(n, p->listener, n->pkt, (size_t)len, p->client_addr,
		      p->client_port);
	p->used = 0;
}

/* Retry or fail forwarded queries whose time has come. */
static void netd_pending_tick(struct netd *n, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < NETD_DNS_PENDING_MAX; i++) {
		struct dns_pending *p = &n->pending.e[i];

		if (!p->used)
			continue;
		if (now >= p->deadline_ms) {
			netd_dns_error(n, p->listener, &p->q, DNS_RCODE_SERVFAIL,
				       p->client_addr, p->client_port);
			p->used = 0;
		} else if (p->retry_ms && now >= p->retry_ms &&
			   netd_upstream_send(n, p, p->pkt, p->pkt_bytes, now)) {
			p->retry_ms = 0; /* no server left: wait for the deadline */
		}
	}
}

/* Log the drop counters if they changed since the last time. */
static void netd_log_stats(struct netd *n)
{
	struct netd_stats *s = &n->st;

	if (s->dhcp_bad == s->logged_dhcp_bad && s->dns_bad == s->logged_dns_bad &&
	    s->up_bad == s->logged_up_bad)
		return;
	netd_log("dropped so far: %llu malformed DHCP, %llu malformed DNS "
		 "queries, %llu unexpected upstream packets",
		 (unsigned long long)s->dhcp_bad, (unsigned long long)s->dns_bad,
		 (unsigned long long)s->up_bad);
	s->logged_dhcp_bad = s->dhcp_bad;
	s->logged_dns_bad = s->dns_bad;
	s->logged_up_bad = s->up_bad;
}

/* ---- sockets ---- */

/*
 * A non-blocking UDP socket bound to @addr:@port (host order), bound to
 * device @dev if not NULL, broadcast-capable if @bcast. fd or -errno.
 */
static int netd_udp_socket(uint32_t addr, uint16_t port, const char *dev,
			   int bcast)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(addr),
	};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, ret = 0;

	if (fd < 0)
		return -errno;
	if (dev && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev,
			      (socklen_t)strlen(dev) + 1) < 0)
		ret = -errno;
	if (!ret && bcast &&
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0)
		ret = -errno;
	if (!ret && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* A hint for the socket error @err (interface @ifname), or "". */
static const char *netd_bind_hint(int err, const char *ifname)
{
	static char hint[96];

	if (err == -EADDRINUSE)
		return " (is another netd or DHCP/DNS server running?)";
	if (err == -EACCES || err == -EPERM)
		return " (root is needed)";
	if (err == -EADDRNOTAVAIL) {
		snprintf(hint, sizeof(hint), " (is %s configured with "
			 NETD_ADDR_TEXT "/24?)", ifname);
		return hint;
	}
	return "";
}

/* Open all sockets, reporting failures. Returns 0 or KEEL_EXIT_FAIL. */
static int netd_open_sockets(struct netd *n)
{
	static const uint32_t dns_addrs[NETD_LISTENERS] = { NETD_ADDR,
							    NETD_LOOPBACK };
	char ip[INET_ADDRSTRLEN];
	uint32_t i;
	int fd;

	if (if_nametoindex(n->o.ifname) == 0)
		return netd_fail(n, "interface %s does not exist%s", n->o.ifname,
				 strcmp(n->o.ifname, NETD_IFNAME) == 0 ?
				 "; is keel.ko loaded?" : "");
	fd = netd_udp_socket(0, NETD_DHCP_SERVER_PORT, n->o.ifname, 1);
	if (fd < 0)
		return netd_fail(n, "cannot listen for DHCP on UDP 0.0.0.0:%u "
				 "(device %s): %s%s", NETD_DHCP_SERVER_PORT,
				 n->o.ifname, strerror(-fd),
				 netd_bind_hint(fd, n->o.ifname));
	n->dhcp_fd = fd;
	for (i = 0; i < NETD_LISTENERS; i++) {
		fd = netd_udp_socket(dns_addrs[i], NETD_DNS_PORT, NULL, 0);
		if (fd < 0)
			return netd_fail(n, "cannot listen for DNS on UDP %s:%u: "
					 "%s%s", netd_ip(dns_addrs[i], ip),
					 NETD_DNS_PORT, strerror(-fd),
					 netd_bind_hint(fd, n->o.ifname));
		n->dns_fd[i] = fd;
	}
	fd = netd_udp_socket(0, 0, NULL, 0);
	if (fd < 0)
		return netd_fail(n, "cannot open the upstream DNS socket: %s",
				 strerror(-fd));
	n->up_fd = fd;
	return 0;
}

/* ---- process ---- */

/* Signal handler: remember the signal; the loop ends. */
static void netd_on_signal(int sig)
{
	netd_signal = sig;
}

/* Catch SIGTERM/SIGINT (blocked except inside ppoll), ignore the rest. */
static void netd_signals(sigset_t *poll_mask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = netd_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, poll_mask);
	sigdelset(poll_mask, SIGTERM);
	sigdelset(poll_mask, SIGINT);
}

/* Open the log file (unless logging to stderr). Returns 0 or exit code. */
static int netd_open_log(struct netd *n)
{
	int ret;

	n->log_fd = STDERR_FILENO;
	if (!n->o.log)
		return 0;
	ret = netd_mkdir_parent(n->o.log);
	n->log_fd = ret ? -1 : open(n->o.log, O_WRONLY | O_CREAT | O_APPEND |
				    O_CLOEXEC, 0644);
	if (n->log_fd < 0) {
		ret = ret ? ret : -errno;
		n->log_fd = -1;
		return netd_fail(n, "cannot open log file %s: %s", n->o.log,
				 strerror(-ret));
	}
	return 0;
}

/* Write @pid to the pid file. Returns 0 or -errno. */
static int netd_write_pid(pid_t pid)
{
	char text[24];
	int len = snprintf(text, sizeof(text), "%d\n", (int)pid);
	int ret = netd_mkdir_parent(NETD_PID_FILE);

	return ret ? ret : file_write_atomic(NETD_PID_FILE, ".tmp", text, (size_t)len);
}

/* True if @fd is one of the daemon's own descriptors. */
static int netd_own_fd(const struct netd *n, int fd)
{
	uint32_t i;

	for (i = 0; i < NETD_LISTENERS; i++) {
		if (fd == n->dns_fd[i])
			return 1;
	}
	return fd == n->dhcp_fd || fd == n->up_fd || fd == n->log_fd;
}

/* Close inherited descriptors (3 and up) that are not the daemon's. */
static void netd_close_inherited(const struct netd *n)
{
	int fd;

	for (fd = 3; fd < 1024; fd++) {
		if (!netd_own_fd(n, fd))
			close(fd);
	}
}

/*
 * Become a daemon: fork, setsid, fork again; the middle process writes
 * the pid file for the daemon. In the original process returns 1 with
 * *@status the exit code to return; in the daemon returns 0, with stdin
 * on /dev/null, stdout/stderr on the log and no inherited descriptors.
 * -errno if fork fails.
 */
static int netd_daemonize(struct netd *n, int *status)
{
	pid_t pid;
	int st, fd;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		*status = waitpid(pid, &st, 0) == pid && WIFEXITED(st) ?
			  WEXITSTATUS(st) : KEEL_EXIT_FAIL;
		return 1;
	}
	if (setsid() < 0)
		_exit(KEEL_EXIT_FAIL);
	pid = fork();
	if (pid < 0)
		_exit(KEEL_EXIT_FAIL);
	if (pid > 0) {
		st = netd_write_pid(pid);
		if (st)
			netd_fail(n, "cannot write %s: %s", NETD_PID_FILE,
				  strerror(-st));
		_exit(KEEL_EXIT_OK);
	}
	n->wrote_pid = 1;
	if (chdir("/") < 0)
		_exit(KEEL_EXIT_FAIL);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	dup2(n->log_fd, STDOUT_FILENO);
	dup2(n->log_fd, STDERR_FILENO);
	netd_close_inherited(n);
	return 0;
}

/* Handle whatever poll() reported in @fds. */
static void netd_dispatch(struct netd *n, const struct pollfd *fds)
{
	uint32_t i;

	if (fds[0].revents & POLLIN)
		netd_on_dhcp(n);
	for (i = 0; i < NETD_LISTENERS; i++) {
		if (fds[1 + i].revents & POLLIN)
			netd_on_dns(n, i);
	}
	if (fds[1 + NETD_LISTENERS].revents & POLLIN)
		netd_on_upstream(n);
}

/* Milliseconds poll() may sleep at @now. */
static int netd_poll_timeout(const struct netd *n, uint64_t now)
{
	uint64_t next = dns_pending_next_ms(&n->pending);

	if (n->st.next_log_ms < next)
		next = n->st.next_log_ms;
	return next <= now ? 0 : next - now > INT_MAX ? INT_MAX
						      : (int)(next - now);
}

/* The main loop; returns when a signal asks to stop. */
static void netd_loop(struct netd *n, const sigset_t *poll_mask)
{
	struct pollfd fds[NETD_FDS];
	struct timespec ts;
	uint64_t now;
	uint32_t i;
	int ms;

	fds[0].fd = n->dhcp_fd;
	for (i = 0; i < NETD_LISTENERS; i++)
		fds[1 + i].fd = n->dns_fd[i];
	fds[1 + NETD_LISTENERS].fd = n->up_fd;
	for (i = 0; i < NETD_FDS; i++)
		fds[i].events = POLLIN;
	n->st.next_log_ms = netd_now_ms() + NETD_STATS_LOG_MS;
	while (!netd_signal) {
		ms = netd_poll_timeout(n, netd_now_ms());
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		if (ppoll(fds, NETD_FDS, &ts, poll_mask) > 0)
			netd_dispatch(n, fds);
		now = netd_now_ms();
		netd_pending_tick(n, now);
		if (now >= n->st.next_log_ms) {
			netd_log_stats(n);
			n->st.next_log_ms = now + NETD_STATS_LOG_MS;
		}
	}
}

/* ---- command ---- */

/* Report a usage error and return KEEL_EXIT_USAGE. */
static int netd_usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "keel: netd: %s '%s'; see 'keel help netd'\n", what,
		arg);
	return KEEL_EXIT_USAGE;
}

/* The option variable for "--name" in @o, or NULL if there is none. */
static const char **netd_opt_slot(struct netd_opts *o, const char *name,
				  size_t len)
{
	static const char *const names[] = { "--interface", "--names-dir",
					     "--leases", "--upstream", "--log" };
	const char **slots[] = { &o->ifname, &o->names_dir, &o->leases,
				 &o->upstream, &o->log };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) == len && strncmp(name, names[i], len) == 0)
			return slots[i];
	}
	return NULL;
}

/*
 * Parse the arguments of `keel netd` into @o. Returns -1 to go on, or
 * the exit code to return (help shown, or a usage error).
 */
static int netd_parse_args(int argc, char **argv, struct netd_opts *o)
{
	const char **slot;
	const char *eq;
	int i;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_netd_entry);
			return KEEL_EXIT_OK;
		}
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--foreground") == 0) {
			o->foreground = 1;
			continue;
		}
		if (argv[i][0] != '-')
			return netd_usage_error("unexpected argument", argv[i]);
		eq = strchr(argv[i], '=');
		slot = netd_opt_slot(o, argv[i], eq ? (size_t)(eq - argv[i])
						    : strlen(argv[i]));
		if (!slot)
			return netd_usage_error("unknown option", argv[i]);
		if (!eq && i + 1 >= argc)
			return netd_usage_error("missing value for option",
						argv[i]);
		*slot = eq ? eq + 1 : argv[i + 1];
		if (!**slot)
			return netd_usage_error("empty value for option", argv[i]);
		i += !eq;
	}
	return -1;
}

/* Set up, daemonize and run; returns the exit code. */
static int netd_main(struct netd *n)
{
	sigset_t poll_mask;
	int ret, status = KEEL_EXIT_FAIL;

	if (!n->o.log && !n->o.foreground)
		n->o.log = NETD_LOG_FILE;
	ret = netd_open_log(n);
	if (!ret)
		ret = netd_open_sockets(n);
	if (ret)
		return ret;
	if (n->log_fd != STDERR_FILENO && n->o.foreground)
		dup2(n->log_fd, STDERR_FILENO);
	netd_mkdir_parent(n->o.leases);
	if (!n->o.foreground) {
		ret = netd_daemonize(n, &status);
		if (ret < 0)
			return netd_fail(n, "fork failed: %s", strerror(-ret));
		if (ret > 0)
			return status;
	}
	netd_signals(&poll_mask);
	netd_log("netd %s started (pid %d): DHCP on %s, DNS on " NETD_ADDR_TEXT
		 ":53 and 127.0.0.1:53, names from %s", KEEL_TOOLSTACK_VERSION,
		 (int)getpid(), n->o.ifname, n->o.names_dir);
	netd_load_leases(n);
	netd_refresh_upstream(n);
	netd_loop(n, &poll_mask);
	netd_log("stopping on signal %d", (int)netd_signal);
	netd_log_stats(n);
	netd_save_leases(n);
	if (n->wrote_pid)
		unlink(NETD_PID_FILE);
	return KEEL_EXIT_OK;
}

/* Entry point of `keel netd`. */
static int cmd_netd_run(int argc, char **argv)
{
	struct netd *n = &netd_state;
	int ret;

	memset(n, 0, sizeof(*n));
	n->o.ifname = NETD_IFNAME;
	n->o.names_dir = NETD_NAMES_DIR;
	n->o.leases = NETD_LEASES_FILE;
	n->o.upstream = NETD_UPSTREAM_FILE;
	n->log_fd = -1;
	ret = netd_parse_args(argc, argv, &n->o);
	if (ret >= 0)
		return ret;
	return netd_main(n);
}

/* Command-table entry of `keel netd`. */
const struct keel_cmd cmd_netd_entry = {
	.name = "netd",
	.summary = "Run the guests' DHCP and DNS server (dom0 daemon)",
	.usage = "Usage: keel netd [--foreground] [--interface IF] "
		 "[--names-dir DIR]\n"
		 "                 [--leases FILE] [--upstream FILE] "
		 "[--log FILE]\n"
		 "\n"
		 "DHCP and DNS server for the guests' virtual switch, run in "
		 "dom0\n"
		 "(started by dom0's init once " NETD_IFNAME " has "
		 NETD_ADDR_TEXT "/24).\n"
		 "DHCP on " NETD_IFNAME ": addresses 10.77.0.10-10.77.0.250 "
		 "(a MAC keeps its\n"
		 "address), router and DNS server " NETD_ADDR_TEXT ", domain '"
		 NETD_DOMAIN "', lease 3600 s.\n"
		 "DNS on " NETD_ADDR_TEXT ":53 and 127.0.0.1:53: guests as "
		 "'<name>' and\n"
		 "'<name>." NETD_DOMAIN "' (names from 'keel create'), dom0 as '"
		 NETD_DOM0_NAME "." NETD_DOMAIN "'; other\n"
		 "names are forwarded to the upstream servers.\n"
		 "By default it runs in the background, writes "
		 NETD_PID_FILE "\n"
		 "and logs to " NETD_LOG_FILE ". See docs/network.md.\n"
		 "\n"
		 "  --foreground      stay in the foreground, write no pid file, "
		 "and log\n"
		 "                    to stderr unless --log is given\n"
		 "  --interface IF    serve DHCP on IF (default " NETD_IFNAME ")\n"
		 "  --names-dir DIR   name registry written by 'keel create'\n"
		 "                    (default " NETD_NAMES_DIR ")\n"
		 "  --leases FILE     lease table, kept across restarts\n"
		 "                    (default " NETD_LEASES_FILE ")\n"
		 "  --upstream FILE   upstream DNS servers, resolv.conf "
		 "'nameserver' lines\n"
		 "                    (default " NETD_UPSTREAM_FILE ")\n"
		 "  --log FILE        log file (default " NETD_LOG_FILE ")\n",
	.run = cmd_netd_run,
};
