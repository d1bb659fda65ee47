/*
 * Domain list, lookup, control and `keel list` formatting (see domain.h).
 * The hypervisor returns struct keel_dominfo records; everything shown to
 * the user is derived here so that `keel list`, the console and the
 * monitor agree on names and states.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "format.h"
#include "hcall.h"

/* Fetch the domain list; see domain.h. */
int domain_list_get(struct keel_dominfo **out, uint32_t *n)
{
	size_t size = sizeof(struct keel_domain_list) +
		      DOMAIN_LIST_MAX * sizeof(struct keel_dominfo);
	struct keel_domain_list *hdr = calloc(1, size);
	uint32_t count;
	int ret;

	*out = NULL;
	*n = 0;
	if (!hdr)
		return -ENOMEM;
	hdr->max = (uint32_t)DOMAIN_LIST_MAX;
	ret = keel_hypercall(KEEL_HC_DOMAIN_LIST, hdr, size);
	if (ret < 0) {
		free(hdr);
		return ret;
	}
	count = hdr->count < hdr->max ? hdr->count : hdr->max;
	*out = calloc(count ? count : 1, sizeof(struct keel_dominfo));
	if (!*out) {
		free(hdr);
		return -ENOMEM;
	}
	memcpy(*out, hdr + 1, count * sizeof(struct keel_dominfo));
	*n = count;
	free(hdr);
	return 0;
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
