/*
 * A migrating guest's addresses (migrate_net.h): read from netd's lease
 * table on the source, checked against the target's, handed to the
 * target's netd, and routed by keel-network on both sides once the guest
 * runs at its new place (docs/network.md, "Migration").
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "lease.h"
#include "migrate_net.h"
#include "netnames.h"

#define MNET_LEASES_TEXT_BYTES (256 * 1024)
#define MNET_NETWORK_SCRIPT "/sbin/keel-network"
#define MNET_GUESTS_MAX 256u

/* The guests that exist here: netd's name registry and their MACs. */
struct mnet_guests {
	uint32_t n;
	struct netnames_entry e[MNET_GUESTS_MAX];
	uint8_t mac[MNET_GUESTS_MAX][6];
};

/* The MACs of the guests that exist here (netd's name registry in
 * @net_dir) into @g; returns how many. */
static uint32_t mnet_guests(const char *net_dir, struct mnet_guests *g)
{
	char dir[512];
	int n;

	snprintf(dir, sizeof(dir), "%s/names", net_dir);
	n = netnames_read_dir(dir, g->e, MNET_GUESTS_MAX, NULL);
	g->n = n < 0 ? 0 : (uint32_t)n;
	for (n = 0; n < (int)g->n; n++)
		memcpy(g->mac[n], g->e[n].mac, 6);
	return g->n;
}

/* Apply to @t the adoptions netd has not made yet: the "<mac> <addr>"
 * files in @dir (as netd's netd_adopt will, with the guests @g). */
static void mnet_pending(const char *dir, struct lease_table *t, const struct mnet_guests *g)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		char path[800], text[64] = "", ip[INET_ADDRSTRLEN] = "";
		struct in_addr a;
		uint8_t mac[6];
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(text, sizeof(text), f) && strlen(text) > 18 && text[17] == ' ' &&
		    sscanf(text + 18, "%15s", ip) == 1 && inet_pton(AF_INET, ip, &a) == 1) {
			text[17] = '\0';
			if (netnames_mac_parse(text, mac) == 0)
				lease_adopt(t, mac, ntohl(a.s_addr), (uint64_t)time(NULL),
					    (const uint8_t (*)[6])g->mac, g->n);
		}
		fclose(f);
	}
	if (d)
		closedir(d);
}

/* Load the lease table in @net_dir (netd's "leases") into @t (an empty
 * one if there is none), with the adoptions still waiting in its "adopt"
 * (a guest that arrived since netd last looked). 0 or -ENOMEM. */
static int mnet_leases(const char *net_dir, struct lease_table *t, struct mnet_guests *g)
{
	char *text = malloc(MNET_LEASES_TEXT_BYTES), path[512];
	FILE *f;
	size_t len = 0;

	if (!text)
		return -ENOMEM;
	lease_init(t);
	snprintf(path, sizeof(path), "%s/leases", net_dir);
	f = fopen(path, "r");
	if (f) {
		len = fread(text, 1, MNET_LEASES_TEXT_BYTES - 1, f);
		fclose(f);
		lease_parse(t, text, len, NULL);
	}
	free(text);
	mnet_guests(net_dir, g);
	snprintf(path, sizeof(path), "%s/adopt", net_dir);
	mnet_pending(path, t, g);
	return 0;
}

/* The addresses of some MACs; see migrate_net.h. */
int mnet_lookup(const uint8_t (*macs)[6], uint32_t n, const char *net_dir, struct mnet *m)
{
	struct lease_table *t = malloc(sizeof(*t));
	struct mnet_guests *g = malloc(sizeof(*g));
	uint64_t now = (uint64_t)time(NULL);
	uint32_t k;
	int ret = t && g ? mnet_leases(net_dir, t, g) : -ENOMEM;

	memset(m, 0, sizeof(*m));
	for (k = 0; !ret && k < n && m->n < KEEL_DOMAIN_MAX_NICS; k++) {
		const struct lease *l = lease_by_mac(t, macs[k]);

		if (l && lease_is_live(l, now)) {
			memcpy(m->mac[m->n], macs[k], 6);
			m->addr[m->n++] = l->addr;
		}
	}
	free(g);
	free(t);
	return ret;
}

/* mnet_format; see migrate_net.h. */
void mnet_format(const struct mnet *m, char *buf, size_t len)
{
	size_t used = 0;
	uint32_t i;

	snprintf(buf, len, "-");
	for (i = 0; i < m->n && used < len; i++) {
		char mac[NETNAMES_MAC_TEXT_BYTES], ip[INET_ADDRSTRLEN];
		struct in_addr a = { htonl(m->addr[i]) };

		netnames_mac_format(m->mac[i], mac);
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", i ? " " : "", mac, ip);
	}
}

/* mnet_parse; see migrate_net.h. */
int mnet_parse(const char *text, struct mnet *m)
{
	const char *p = text;

	memset(m, 0, sizeof(*m));
	if (strcmp(text, "-") == 0)
		return 0;
	while (*p) {
		char ip[INET_ADDRSTRLEN], mac[NETNAMES_MAC_TEXT_BYTES];
		struct in_addr a;
		size_t n;

		if (m->n >= KEEL_DOMAIN_MAX_NICS || strnlen(p, 18) < 18 || p[17] != '=')
			return -EINVAL;
		memcpy(mac, p, 17);
		mac[17] = '\0';
		if (netnames_mac_parse(mac, m->mac[m->n]))
			return -EINVAL;
		p += 18;
		n = strcspn(p, " ");
		if (n == 0 || n >= sizeof(ip))
			return -EINVAL;
		memcpy(ip, p, n);
		ip[n] = '\0';
		if (inet_pton(AF_INET, ip, &a) != 1)
			return -EINVAL;
		m->addr[m->n++] = ntohl(a.s_addr);
		p += n;
		if (*p == ' ' && p[1])
			p++;
		else if (*p)
			return -EINVAL;
	}
	return 0;
}

/* mnet_check; see migrate_net.h. */
int mnet_check(const struct mnet *m, const char *net_dir, char *err, size_t err_len)
{
	struct lease_table *t = malloc(sizeof(*t));
	struct mnet_guests *g = malloc(sizeof(*g));
	uint64_t now = (uint64_t)time(NULL);
	uint32_t i;
	int ret = t && g ? mnet_leases(net_dir, t, g) : -ENOMEM;

	for (i = 0; !ret && i < m->n; i++) {
		const struct lease *l = lease_by_addr(t, m->addr[i]);

		if (l && lease_held_by_guest(l, m->mac[i], now, (const uint8_t (*)[6])g->mac,
					     g->n)) {
			char mac[NETNAMES_MAC_TEXT_BYTES], ip[INET_ADDRSTRLEN];
			struct in_addr a = { htonl(m->addr[i]) };

			netnames_mac_format(l->mac, mac);
			inet_ntop(AF_INET, &a, ip, sizeof(ip));
			snprintf(err, err_len, "the guest's address %s is held here by another "
				 "guest (MAC %s; 'keel list' and 'keel top' show which): move "
				 "that guest away or destroy it first", ip, mac);
			ret = -EADDRINUSE;
		}
	}
	if (ret == -ENOMEM)
		snprintf(err, err_len, "out of memory");
	free(g);
	free(t);
	return ret;
}

/* Run keel-network @how @addr @peer; a failure is a warning. */
static void mnet_script(const char *how, uint32_t addr, const char *peer)
{
	char ip[INET_ADDRSTRLEN];
	struct in_addr a = { htonl(addr) };
	int status = -1;
	pid_t pid;

	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO); /* ours may be the link */
		execl(MNET_NETWORK_SCRIPT, "keel-network", how, ip, peer, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "keel: warning: 'keel-network %s %s %s' failed: connections to "
			"the guest from %s may not go on (see /run/keel/net/network.log)\n",
			how, ip, peer, peer);
}

/* mnet_route_in; see migrate_net.h. */
void mnet_route_in(const struct mnet *m, const char *peer)
{
	uint32_t i;

	for (i = 0; peer && i < m->n; i++)
		mnet_script("moved-in", m->addr[i], peer);
}

/* mnet_arrived; see migrate_net.h. */
void mnet_arrived(const struct mnet *m, const char *net_dir, FILE *msg)
{
	char dir[512];
	uint32_t i;

	snprintf(dir, sizeof(dir), "%s/adopt", net_dir);
	mkdir(dir, 0755);
	for (i = 0; i < m->n; i++) {
		char path[600], text[64], mac[NETNAMES_MAC_TEXT_BYTES], ip[INET_ADDRSTRLEN];
		struct in_addr a = { htonl(m->addr[i]) };
		int len;

		netnames_mac_format(m->mac[i], mac);
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		snprintf(path, sizeof(path), "%s/%02x%02x%02x%02x%02x%02x", dir, m->mac[i][0],
			 m->mac[i][1], m->mac[i][2], m->mac[i][3], m->mac[i][4], m->mac[i][5]);
		len = snprintf(text, sizeof(text), "%s %s\n", mac, ip);
		if (file_write_atomic(path, ".tmp", text, (size_t)len))
			fprintf(stderr, "keel: warning: could not tell netd that %s keeps %s: "
				"another guest here may be given it\n", mac, ip);
		fprintf(msg, "It keeps its address %s here\n", ip);
	}
}

/* The address of NIC @i of @m as text into @ip (INET_ADDRSTRLEN). */
static const char *mnet_ip(const struct mnet *m, uint32_t i, char *ip)
{
	struct in_addr a = { htonl(m->addr[i]) };

	return inet_ntop(AF_INET, &a, ip, INET_ADDRSTRLEN);
}

/* mnet_left; see migrate_net.h. */
void mnet_left(const struct mnet *m, const char *peer, FILE *msg)
{
	char ip[INET_ADDRSTRLEN];
	uint32_t i;

	if (m->n && !peer)
		fprintf(msg, "The guest's addresses are not routed to the target: it did not say "
			"its own address\n");
	for (i = 0; peer && i < m->n; i++) {
		fprintf(msg, "It keeps its address %s; this machine routes it to %s now\n",
			mnet_ip(m, i, ip), peer);
		mnet_script("moved-out", m->addr[i], peer);
	}
}
