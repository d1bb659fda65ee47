/*
 * The network side of `keel migrate` (docs/network.md, "Migration"): a
 * guest keeps its addresses when it moves. The source reads them from
 * its netd's leases and sends them; the target refuses one another guest
 * holds there, hands them to its netd when the guest runs, and both
 * dom0s change their routes (keel-network moved-in / moved-out), so that
 * a connection from the source's network goes on to the guest's new
 * place. The hypervisor announces the guest's MACs on the target's
 * switch itself (a RARP from each NIC when a restored guest starts).
 */
#ifndef KEEL_MIGRATE_NET_H
#define KEEL_MIGRATE_NET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "abi.h"

#define MNET_TEXT_BYTES (KEEL_DOMAIN_MAX_NICS * 36 + 2)

/* A guest's IPv4 addresses on keel0, one per NIC that has a lease. */
struct mnet {
	uint32_t n;
	uint8_t mac[KEEL_DOMAIN_MAX_NICS][6];
	uint32_t addr[KEEL_DOMAIN_MAX_NICS]; /* host byte order */
};

/*
 * The addresses of the @n NICs whose MACs are @macs: each with a live
 * lease in the table of netd whose directory is @net_dir (NETD_RUN_DIR:
 * its "leases", and the adoptions still waiting in its "adopt").
 * Returns 0 (@m may be empty) or -ENOMEM.
 */
int mnet_lookup(const uint8_t (*macs)[6], uint32_t n, const char *net_dir, struct mnet *m);

/* Write @m as text into @buf (MNET_TEXT_BYTES): "mac=addr ...", or "-"
 * for none. */
void mnet_format(const struct mnet *m, char *buf, size_t len);

/* Parse mnet_format's text @text into @m. 0, or -EINVAL for bad text. */
int mnet_parse(const char *text, struct mnet *m);

/*
 * On the target: 0 if no address of @m is held here by another MAC in
 * the lease table of netd in @net_dir, else -EADDRINUSE with the reason
 * in @err.
 */
int mnet_check(const struct mnet *m, const char *net_dir, char *err, size_t err_len);

/*
 * On the target, before the guest starts: `keel-network moved-in` for
 * each address of @m, with the source's address @peer (NULL: same
 * machine or unknown, nothing to do). It must come first: the guest's
 * first packet decides, for its connections, whether dom0 NATs them.
 * Failures print warnings: the guest runs either way.
 */
void mnet_route_in(const struct mnet *m, const char *peer);

/* On the target, once the guest runs: leave each address of @m for netd
 * in @net_dir to adopt (its "adopt": no other guest is offered it, and
 * the guest renews it), saying so on @msg. */
void mnet_arrived(const struct mnet *m, const char *net_dir, FILE *msg);

/* On the source, once the guest runs at @peer (its address; NULL: not
 * known): `keel-network moved-out` for each address of @m: routed there,
 * and the NAT exceptions of an earlier arrival dropped; says so on @msg.
 * Also on the
 * target when the guest did not start after mnet_route_in (it is still
 * at @peer). */
void mnet_left(const struct mnet *m, const char *peer, FILE *msg);

#endif /* KEEL_MIGRATE_NET_H */
