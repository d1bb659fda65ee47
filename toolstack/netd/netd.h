/*
 * Fixed facts of the guests' network as `keel netd` serves it (see
 * docs/network.md, "Addresses and names (keel netd)"): dom0's interface
 * on the hypervisor's virtual switch and its address, the DHCP pool and
 * options, the DNS domain, and the files under /run/keel/net that the
 * toolstack (name registry), netd (leases, pid, log) and dom0's uplink
 * DHCP client (upstream resolvers) share. Addresses are IPv4 in host byte
 * order. Only constants live here, so every netd source and the toolstack
 * can include it without linking anything.
 */
#ifndef KEEL_TOOLSTACK_NETD_H
#define KEEL_TOOLSTACK_NETD_H

/* Dom0's port on the guests' virtual switch, and its address. */
#define NETD_IFNAME "keel0"
#define NETD_ADDR 0x0A4D0001u        /* 10.77.0.1: router, DNS, DHCP server */
#define NETD_ADDR_TEXT "10.77.0.1"
#define NETD_NETMASK 0xFFFFFF00u     /* 255.255.255.0 */
#define NETD_SUBNET (NETD_ADDR & NETD_NETMASK)
#define NETD_LOOPBACK 0x7F000001u    /* 127.0.0.1: DNS for dom0 itself */

/* Addresses handed out by DHCP. */
#define NETD_POOL_FIRST 0x0A4D000Au  /* 10.77.0.10 */
#define NETD_POOL_LAST 0x0A4D00FAu   /* 10.77.0.250 */
#define NETD_POOL_SIZE (NETD_POOL_LAST - NETD_POOL_FIRST + 1u)
#define NETD_LEASE_SECONDS 3600u     /* option 51; renewals re-ack */
#define NETD_OFFER_SECONDS 60u       /* an unanswered OFFER holds this long */

/* Names. */
#define NETD_DOMAIN "keel"           /* DNS domain, DHCP option 15 */
#define NETD_DOM0_NAME "dom0"        /* dom0's own name: dom0.keel */
#define NETD_REVERSE_ZONE "0.77.10.in-addr.arpa"
#define NETD_HOSTNAME_MAX_CHARS 63u  /* one DNS label */
#define NETD_DNS_TTL_SECONDS 60u     /* TTL of the records netd answers */

/* Ports (RFC 2131 section 4.1, RFC 1035 section 4.2). */
#define NETD_DHCP_SERVER_PORT 67u
#define NETD_DHCP_CLIENT_PORT 68u
#define NETD_DNS_PORT 53u

/* Forwarding of other names to the upstream resolvers. */
#define NETD_UPSTREAM_MAX 3u         /* nameserver lines used, as resolv.conf */
#define NETD_DNS_TRY_MS 1500u        /* wait per upstream server */
#define NETD_DNS_TIMEOUT_MS 4000u    /* then the client gets SERVFAIL */
#define NETD_DNS_PENDING_MAX 128u    /* queries waiting for upstream */

/* Files. */
#define NETD_RUN_DIR "/run/keel/net"
#define NETD_NAMES_DIR NETD_RUN_DIR "/names"       /* registry, one file/domain */
#define NETD_LEASES_FILE NETD_RUN_DIR "/leases"    /* MAC -> address */
#define NETD_ADOPT_DIR NETD_RUN_DIR "/adopt"      /* "<mac> <addr>" of guests migrated here */
#define NETD_UPSTREAM_FILE NETD_RUN_DIR "/upstream.conf" /* resolv.conf syntax */
#define NETD_PID_FILE NETD_RUN_DIR "/netd.pid"
#define NETD_LOG_FILE NETD_RUN_DIR "/netd.log"

#endif /* KEEL_TOOLSTACK_NETD_H */
