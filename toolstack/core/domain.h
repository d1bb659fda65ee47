/*
 * Domain queries and control for the `keel` toolstack: fetching the domain
 * list (KEEL_HC_DOMAIN_LIST), naming domains by name or numeric id,
 * KEEL_HC_DOMAIN_CTL, and the xl-style rendering of `keel list` (state
 * letters "rbpscd", memory in MiB, CPU time with one decimal). The
 * formatting and lookup functions are pure and unit-tested on the host.
 */
#ifndef KEEL_TOOLSTACK_DOMAIN_H
#define KEEL_TOOLSTACK_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"

#define DOMAIN_DOM0_NAME "Domain-0"
#define DOMAIN_STATE_CHARS 6 /* "rbpscd" */

/*
 * Fetch the domain list from the hypervisor. @out receives a malloc'd
 * array (free() it) of *@n entries, dom0 first.
 * Returns 0, -ENOMEM, or the hypercall's error.
 */
int domain_list_get(struct keel_dominfo **out, uint32_t *n);

/*
 * Find the domain that @word names in @doms (@n entries): a word of digits
 * is a domain id, anything else a name ("Domain-0" names dom0).
 * Returns the index, or -ENOENT.
 */
int domain_find(const struct keel_dominfo *doms, uint32_t n, const char *word);

/*
 * Fetch the list and look @word up; on failure print "keel: no domain
 * named 'x' (see 'keel list')" (or the hypercall error) to stderr.
 * @info receives the domain's entry. Returns 0 or a negative error.
 */
int domain_resolve(const char *word, struct keel_dominfo *info);

/*
 * Name of @d for display, into @buf (@len bytes): "Domain-0" for id 0,
 * else its name (non-printable bytes as '?').
 */
void domain_name(const struct keel_dominfo *d, char *buf, size_t len);

/*
 * The 6-character xl state of @d into @buf (at least 7 bytes): one
 * position each for running, blocked, paused, shutdown, crashed, dying,
 * the letter when set and '-' otherwise.
 */
void domain_state_str(const struct keel_dominfo *d, char *buf);

/* Header line of `keel list` (@long_fmt: `keel list -l`) into @buf. */
int domain_format_header(bool long_fmt, char *buf, size_t len);

/*
 * One `keel list` line for @d into @buf (no newline).
 * Returns 0 or -ENOSPC.
 */
int domain_format_row(const struct keel_dominfo *d, bool long_fmt, char *buf,
		      size_t len);

struct fmt_buf;

/* The vCPUs domain @d may have online (keel vcpu-set): its max_vcpus,
 * or nr_vcpus from a hypervisor before ABI 1.15. */
uint32_t domain_max_vcpus(const struct keel_dominfo *d);

/*
 * Bytes of the RAM of the domain @st describes that it still shares
 * copy-on-write with a clone or its source: its shared chunks less the
 * pages it has copied out of them.
 */
uint64_t domain_shared_bytes(const struct keel_domstats *st);

/*
 * Append domain @d to @b as one JSON object for `keel list -l`: its id,
 * name, state (the 'rbpscd' flags and a word), shutdown reason, memory,
 * vCPUs, CPU time and per-vCPU times, exits, console bytes, uptime (from
 * @st->start_ns and the hypervisor's clock @now_ns; null before it
 * started), and, when @st is not NULL, its disk, network and hypervisor
 * memory counters. @config_json is the config as a JSON object
 * (config_write_json), or NULL for null (dom0, or no saved config).
 */
void domain_format_json(const struct keel_dominfo *d,
			const struct keel_domstats *st, uint64_t now_ns,
			const char *config_json, struct fmt_buf *b);

/*
 * Fetch KEEL_HC_DOMAIN_STATS into a malloc'd array of *@n records, in the
 * order of the domain list, for the caller to free. 0 or -errno.
 */
int domain_stats_get(struct keel_domstats **out, uint32_t *n);

/* The record of @domid among @n @stats, or NULL. */
const struct keel_domstats *domain_stats_find(const struct keel_domstats *stats,
					      uint32_t n, uint32_t domid);

/*
 * The State column of `keel vcpu-list` for a vCPU in @state (KEEL_VCPU_*)
 * of a domain that is @paused or not, as xl: "r--" running, "-b-" blocked
 * (halted), "--p" paused, "---" waiting for its CPU, "off" not started or
 * stopped.
 */
const char *domain_vcpu_state_str(uint32_t state, bool paused);

/*
 * For commands that take an optional list of domains (`keel uptime`,
 * `keel vcpu-list`): domain_selected says whether @d is named by one of
 * the @nwords @words (every domain is when there are none);
 * domain_words_missing prints "keel: <cmd>: no domain '<word>'" for each
 * word that names none of @doms and returns how many there were.
 */
bool domain_selected(const struct keel_dominfo *d, char *const *words, int nwords);
int domain_words_missing(const char *cmd, const struct keel_dominfo *doms, uint32_t n,
			 char *const *words, int nwords);

/* KEEL_HC_DOMAIN_RENAME: rename guest @domid to @name. 0 or -KEEL_E*. */
int domain_rename(uint32_t domid, const char *name);

/*
 * KEEL_HC_DOMAIN_BALLOON @op (KEEL_BALLOON_*) on guest @domid, with @bytes
 * as the new target (SET_TARGET) or ceiling (SET_MAX); *@b receives the
 * balloon's state, also on failure. 0 or -KEEL_E*.
 */
int domain_balloon(uint32_t domid, uint32_t op, uint64_t bytes, struct keel_domain_balloon *b);

/*
 * For display (keel list, keel top): replace each started guest's
 * mem_bytes in @doms (@n entries) by the memory it has now, its RAM less
 * what its balloon holds. The call also lets the hypervisor return the
 * chunks the balloons gave whole to the pool. Guests it cannot ask keep
 * their RAM size.
 */
void domain_list_memory_now(struct keel_dominfo *doms, uint32_t n);

/* Name of shutdown reason @r: "none", "poweroff", "reboot", "crash". */
const char *domain_reason_name(uint32_t r);

/*
 * Make KEEL_HC_DOMAIN_CTL @op (KEEL_DOMCTL_*) on domain @domid.
 * Returns 0 or the hypercall's negative error.
 */
int domain_ctl(uint32_t domid, uint32_t op);

/* What a domain's entry says about a shutdown or reboot request. */
enum domain_request_verdict {
	DOMAIN_REQUEST_PENDING, /* still running: not done yet */
	DOMAIN_REQUEST_DONE,    /* gone (destroyed or restarted under a new
				 * id) or stopped (on_poweroff/on_reboot=preserve) */
	DOMAIN_REQUEST_CRASHED, /* crashed instead */
};

/*
 * The verdict on a shutdown or reboot request (both end the domain's id,
 * or stop it when on_poweroff/on_reboot is preserve), from the entry @now
 * of the domain the request went to (found by its id), or NULL if no
 * domain has that id any more. Pure.
 */
enum domain_request_verdict domain_request_verdict(const struct keel_dominfo *now);

#endif /* KEEL_TOOLSTACK_DOMAIN_H */
