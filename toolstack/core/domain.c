/*
 * Domain list, lookup, control and `keel list` formatting (see domain.h).
 * The hypervisor returns struct keel_dominfo records; everything shown to
 * the user is derived here so that `keel list`, the console and the
 * monitor agree on names and states.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "format.h"
#include "hcall.h"

/* Both list calls' headers begin with these two fields (keel_abi.h). */
struct domain_array_hdr {
	keel_u32 max;   /* in: room for this many records */
	keel_u32 count; /* out: how many were written */
};
_Static_assert(offsetof(struct keel_domain_list, count) == 4 &&
	       offsetof(struct keel_domain_stats, count) == 4,
	       "list headers: max, then count");

/*
 * Make hypercall @op, whose argument is a header of @hdr_bytes (beginning
 * with struct domain_array_hdr) followed by records of @rec_bytes, with
 * room for as many as a call takes; copy the records into a malloc'd
 * array *@out of *@n. Returns 0 or -errno.
 */
static int domain_fetch_array(uint64_t op, size_t hdr_bytes, size_t rec_bytes,
			      void **out, uint32_t *n)
{
	const uint32_t max = (uint32_t)((KEEL_HC_MAX_ARG - hdr_bytes) / rec_bytes);
	size_t size = hdr_bytes + max * rec_bytes;
	struct domain_array_hdr *hdr = calloc(1, size);
	uint32_t count;
	int ret;

	*out = NULL;
	*n = 0;
	if (!hdr)
		return -ENOMEM;
	hdr->max = max;
	ret = keel_hypercall(op, hdr, size);
	if (ret < 0) {
		free(hdr);
		return ret;
	}
	count = hdr->count < max ? hdr->count : max;
	*out = calloc(count ? count : 1, rec_bytes);
	if (!*out) {
		free(hdr);
		return -ENOMEM;
	}
	memcpy(*out, (char *)hdr + hdr_bytes, count * rec_bytes);
	*n = count;
	free(hdr);
	return 0;
}

/* Fetch the domain list; see domain.h. */
int domain_list_get(struct keel_dominfo **out, uint32_t *n)
{
	return domain_fetch_array(KEEL_HC_DOMAIN_LIST, sizeof(struct keel_domain_list),
				  sizeof(struct keel_dominfo), (void **)out, n);
}

/* Parse @word as a domain id; false if it is not all digits. */
static bool domain_parse_id(const char *word, uint32_t *id)
{
	uint64_t v = 0;
	const char *p;

	if (!word[0] || strlen(word) > 9)
		return false;
	for (p = word; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*id = (uint32_t)v;
	return true;
}

/* Find a domain by id or name; see domain.h. */
int domain_find(const struct keel_dominfo *doms, uint32_t n, const char *word)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1];
	uint32_t i, id;

	if (domain_parse_id(word, &id)) {
		for (i = 0; i < n; i++) {
			if (doms[i].domid == id)
				return (int)i;
		}
		return -ENOENT;
	}
	for (i = 0; i < n; i++) {
		domain_name(&doms[i], name, sizeof(name));
		if (strcmp(name, word) == 0)
			return (int)i;
	}
	return -ENOENT;
}

/* Fetch the list and look a domain up, reporting failures; see domain.h. */
int domain_resolve(const char *word, struct keel_dominfo *info)
{
	struct keel_dominfo *doms;
	uint32_t n;
	int ret, idx;

	ret = domain_list_get(&doms, &n);
	if (ret) {
		hcall_report("KEEL_HC_DOMAIN_LIST", ret);
		return ret;
	}
	idx = domain_find(doms, n, word);
	if (idx < 0)
		fprintf(stderr, "keel: no domain named '%s' (see 'keel list')\n",
			word);
	else
		*info = doms[idx];
	free(doms);
	return idx < 0 ? idx : 0;
}

/* Display name of a domain; see domain.h. */
void domain_name(const struct keel_dominfo *d, char *buf, size_t len)
{
	if (d->domid == 0)
		snprintf(buf, len, "%s", DOMAIN_DOM0_NAME);
	else
		fmt_field_str(d->name, sizeof(d->name), buf, len);
}

/* xl-style state letters; see domain.h. */
void domain_state_str(const struct keel_dominfo *d, char *buf)
{
	int pos = -1;

	memcpy(buf, "------", DOMAIN_STATE_CHARS + 1);
	switch (d->state) {
	case KEEL_DOMSTATE_RUNNING:
		pos = 0;
		break;
	case KEEL_DOMSTATE_BLOCKED:
		pos = 1;
		break;
	case KEEL_DOMSTATE_PAUSED:
		pos = 2;
		break;
	case KEEL_DOMSTATE_SHUTDOWN:
		pos = d->shutdown_reason == KEEL_SHUTDOWN_CRASH ? 4 : 3;
		break;
	case KEEL_DOMSTATE_CRASHED:
		pos = 4;
		break;
	default:
		break;
	}
	if (pos >= 0)
		buf[pos] = "rbpscd"[pos];
}

/* Name of a shutdown reason; see domain.h. */
const char *domain_reason_name(uint32_t r)
{
	switch (r) {
	case KEEL_SHUTDOWN_NONE:
		return "none";
	case KEEL_SHUTDOWN_POWEROFF:
		return "poweroff";
	case KEEL_SHUTDOWN_REBOOT:
		return "reboot";
	case KEEL_SHUTDOWN_CRASH:
		return "crash";
	default:
		return "unknown";
	}
}

/* `keel list` header; see domain.h. */
int domain_format_header(bool long_fmt, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "%-32s %5s %6s %5s %-6s %9s%s", "Name", "ID",
		     "Mem", "VCPUs", "State", "Time(s)",
		     long_fmt ? "      Exits   Console  Shutdown" : "");
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* One `keel list` row; see domain.h. */
int domain_format_row(const struct keel_dominfo *d, bool long_fmt, char *buf,
		      size_t len)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1], state[DOMAIN_STATE_CHARS + 1];
	char extra[96] = "";
	uint64_t tenths = d->cpu_time_ns / 100000000ull;
	int n;

	domain_name(d, name, sizeof(name));
	domain_state_str(d, state);
	if (long_fmt)
		snprintf(extra, sizeof(extra), " %10llu %9llu  %-8s",
			 (unsigned long long)d->exits,
			 (unsigned long long)d->console_bytes,
			 domain_reason_name(d->shutdown_reason));
	n = snprintf(buf, len, "%-32s %5u %6llu %5u %-6s %7llu.%llu%s", name,
		     d->domid, (unsigned long long)fmt_bytes_to_mib(d->mem_bytes),
		     d->nr_vcpus, state, (unsigned long long)(tenths / 10),
		     (unsigned long long)(tenths % 10), extra);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* The word for a domain's state in `keel list -l`. */
static const char *domain_state_word(uint32_t state)
{
	static const char *const words[] = {
		[KEEL_DOMSTATE_BUILDING] = "building",
		[KEEL_DOMSTATE_RUNNING] = "running",
		[KEEL_DOMSTATE_BLOCKED] = "blocked",
		[KEEL_DOMSTATE_PAUSED] = "paused",
		[KEEL_DOMSTATE_SHUTDOWN] = "shutdown",
		[KEEL_DOMSTATE_CRASHED] = "crashed",
	};

	return state < sizeof(words) / sizeof(words[0]) ? words[state] : "unknown";
}

/* Append @d's counters from @st as JSON members (after a comma). */
static void domain_json_stats(const struct keel_domstats *st, struct fmt_buf *b)
{
	fmt_buf_add(b, ", \"disks\": %u, \"nics\": %u", st->nr_disks, st->nr_nics);
	fmt_buf_add(b, ", \"blk\": {\"reads\": %" PRIu64 ", \"writes\": %" PRIu64
		    ", \"read_bytes\": %" PRIu64 ", \"write_bytes\": %" PRIu64
		    ", \"errors\": %" PRIu64 "}", st->blk_reads, st->blk_writes,
		    st->blk_read_bytes, st->blk_write_bytes, st->blk_errors);
	fmt_buf_add(b, ", \"net\": {\"tx_packets\": %" PRIu64 ", \"tx_bytes\": %" PRIu64
		    ", \"rx_packets\": %" PRIu64 ", \"rx_bytes\": %" PRIu64
		    ", \"drops\": %" PRIu64 ", \"spoofed\": %" PRIu64 "}",
		    st->net_tx_packets, st->net_tx_bytes, st->net_rx_packets,
		    st->net_rx_bytes, st->net_drops, st->net_spoofed);
	fmt_buf_add(b, ", \"hv_bytes\": %" PRIu64, st->hv_bytes);
	fmt_buf_add(b, ", \"shared_bytes\": %" PRIu64 ", \"cow_copied_bytes\": %" PRIu64,
		    domain_shared_bytes(st), st->cow_page_bytes);
}

/* The vCPUs a domain may have; see domain.h. */
uint32_t domain_max_vcpus(const struct keel_dominfo *d)
{
	return d->max_vcpus > d->nr_vcpus ? d->max_vcpus : d->nr_vcpus;
}

/* Bytes of a domain's RAM still shared copy-on-write; see domain.h. */
uint64_t domain_shared_bytes(const struct keel_domstats *st)
{
	uint64_t shared = (uint64_t)st->shared_chunks * (uint64_t)KEEL_GUEST_CHUNK_BYTES;

	return shared > st->cow_page_bytes ? shared - st->cow_page_bytes : 0;
}

/* One domain as a JSON object; see domain.h. */
void domain_format_json(const struct keel_dominfo *d,
			const struct keel_domstats *st, uint64_t now_ns,
			const char *config_json, struct fmt_buf *b)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1], state[DOMAIN_STATE_CHARS + 1];
	uint32_t i;

	domain_name(d, name, sizeof(name));
	domain_state_str(d, state);
	fmt_buf_add(b, "{\"domid\": %u, \"name\": ", d->domid);
	fmt_json_str(b, name);
	fmt_buf_add(b, ", \"state\": \"%s\", \"status\": \"%s\", "
		    "\"shutdown_reason\": \"%s\", \"memory_mib\": %" PRIu64
		    ", \"vcpus\": %u, \"cpu_time_ns\": %" PRIu64 ", \"vcpu_time_ns\": [",
		    state, domain_state_word(d->state),
		    domain_reason_name(d->shutdown_reason),
		    fmt_bytes_to_mib(d->mem_bytes), d->nr_vcpus, d->cpu_time_ns);
	for (i = 0; i < d->nr_vcpus && i < KEEL_DOMAIN_MAX_VCPUS; i++)
		fmt_buf_add(b, "%s%" PRIu64, i ? ", " : "", d->vcpu_time_ns[i]);
	fmt_buf_add(b, "], \"exits\": %" PRIu64 ", \"console_bytes\": %" PRIu64,
		    d->exits, d->console_bytes);
	if (st && st->start_ns && now_ns >= st->start_ns)
		fmt_buf_add(b, ", \"uptime_ns\": %" PRIu64, now_ns - st->start_ns);
	else
		fmt_buf_add(b, ", \"uptime_ns\": null");
	if (st)
		domain_json_stats(st, b);
	fmt_buf_add(b, ", \"config\": %s}", config_json ? config_json : "null");
}

/* KEEL_HC_DOMAIN_STATS into an array; see domain.h. */
int domain_stats_get(struct keel_domstats **out, uint32_t *n)
{
	return domain_fetch_array(KEEL_HC_DOMAIN_STATS, sizeof(struct keel_domain_stats),
				  sizeof(struct keel_domstats), (void **)out, n);
}

/* Find a domain's statistics; see domain.h. */
const struct keel_domstats *domain_stats_find(const struct keel_domstats *stats,
					      uint32_t n, uint32_t domid)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (stats[i].domid == domid)
			return &stats[i];
	return NULL;
}

/* A vCPU's State column; see domain.h. */
const char *domain_vcpu_state_str(uint32_t state, bool paused)
{
	if (state == KEEL_VCPU_DOWN)
		return "off";
	if (paused)
		return "--p";
	if (state == KEEL_VCPU_RUNNING)
		return "r--";
	if (state == KEEL_VCPU_BLOCKED)
		return "-b-";
	return "---";
}

/* Whether a word of a command's list names @d; see domain.h. */
bool domain_selected(const struct keel_dominfo *d, char *const *words, int nwords)
{
	int j;

	for (j = 0; j < nwords; j++)
		if (domain_find(d, 1, words[j]) == 0)
			return true;
	return nwords == 0;
}

/* Report the words that name no domain; see domain.h. */
int domain_words_missing(const char *cmd, const struct keel_dominfo *doms, uint32_t n,
			 char *const *words, int nwords)
{
	int j, missing = 0;

	for (j = 0; j < nwords; j++) {
		if (domain_find(doms, n, words[j]) < 0) {
			fprintf(stderr, "keel: %s: no domain '%s'; see 'keel list'\n", cmd,
				words[j]);
			missing++;
		}
	}
	return missing;
}

/* KEEL_HC_DOMAIN_RENAME; see domain.h. */
int domain_rename(uint32_t domid, const char *name)
{
	struct keel_domain_rename r = { .domid = domid };
	int ret;

	if (strlen(name) >= sizeof(r.name))
		return -KEEL_EINVAL;
	memcpy(r.name, name, strlen(name));
	ret = keel_hypercall(KEEL_HC_DOMAIN_RENAME, &r, sizeof(r));
	return ret < 0 ? ret : 0;
}

/* KEEL_HC_DOMAIN_BALLOON; see domain.h. */
int domain_balloon(uint32_t domid, uint32_t op, uint64_t bytes, struct keel_domain_balloon *b)
{
	int ret;

	memset(b, 0, sizeof(*b));
	b->domid = domid;
	b->op = op;
	b->target_bytes = bytes;
	b->max_bytes = bytes;
	ret = keel_hypercall(KEEL_HC_DOMAIN_BALLOON, b, sizeof(*b));
	return ret < 0 ? ret : 0;
}

/* Each guest's memory as it is now; see domain.h. */
void domain_list_memory_now(struct keel_dominfo *doms, uint32_t n)
{
	struct keel_domain_balloon b;
	uint32_t i;

	for (i = 0; i < n; i++)
		if (doms[i].domid != 0 && doms[i].state != KEEL_DOMSTATE_BUILDING &&
		    domain_balloon(doms[i].domid, KEEL_BALLOON_GET, 0, &b) == 0)
			doms[i].mem_bytes = b.guest_bytes;
}

/* KEEL_HC_DOMAIN_CTL; see domain.h. */
int domain_ctl(uint32_t domid, uint32_t op)
{
	struct keel_domain_ctl ctl = { .domid = domid, .op = op };
	int ret = keel_hypercall(KEEL_HC_DOMAIN_CTL, &ctl, sizeof(ctl));

	return ret < 0 ? ret : 0;
}

/* The verdict on a shutdown or reboot request; see domain.h. */
enum domain_request_verdict domain_request_verdict(const struct keel_dominfo *now)
{
	if (!now)
		return DOMAIN_REQUEST_DONE;
	if (now->state == KEEL_DOMSTATE_CRASHED)
		return DOMAIN_REQUEST_CRASHED;
	if (now->state == KEEL_DOMSTATE_SHUTDOWN)
		return DOMAIN_REQUEST_DONE;
	return DOMAIN_REQUEST_PENDING;
}
