/*
 * Pure text-formatting helpers of the `keel` toolstack (see format.h). They
 * turn the raw numbers of struct keel_info into the strings `keel info`
 * prints, without doing any I/O.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "abi.h"
#include "format.h"

/* Names of the KEEL_FEAT_* bits, indexed by bit number. */
static const char *const fmt_feature_names[] = {
	"npt",	       "nrips",	 "decode_assists", "vmcb_clean",
	"flush_by_asid", "avic", "vgif",	   "x2apic",
	"tsc_invariant", "vpid", "unrestricted_guest",
};

/* Start writing into a buffer; see format.h. */
void fmt_buf_init(struct fmt_buf *b, char *buf, size_t len)
{
	b->buf = buf;
	b->len = len;
	b->pos = 0;
	b->err = len ? 0 : -ENOSPC;
	if (len)
		buf[0] = '\0';
}

/* Append printf-style text; see format.h. */
void fmt_buf_add(struct fmt_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->pos, b->len - b->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->len - b->pos) {
		b->err = -ENOSPC;
		b->pos = b->len - 1;
		return;
	}
	b->pos += (size_t)n;
}

/* Format the set bits of @mask as a compressed CPU list; see format.h. */
int fmt_cpu_list(uint64_t mask, char *buf, size_t len)
{
	struct fmt_buf b;
	unsigned int cpu = 0, end;
	const char *sep = "";

	fmt_buf_init(&b, buf, len);
	while (cpu < 64) {
		if (!(mask >> cpu & 1)) {
			cpu++;
			continue;
		}
		end = cpu;
		while (end + 1 < 64 && (mask >> (end + 1) & 1))
			end++;
		if (end == cpu)
			fmt_buf_add(&b, "%s%u", sep, cpu);
		else
			fmt_buf_add(&b, "%s%u-%u", sep, cpu, end);
		sep = ",";
		cpu = end + 1;
	}
	return b.err;
}

/* Format KEEL_FEAT_* bits as names; see format.h. */
int fmt_features(uint32_t features, char *buf, size_t len)
{
	size_t n_names = sizeof(fmt_feature_names) / sizeof(fmt_feature_names[0]);
	struct fmt_buf b;
	const char *sep = "";
	unsigned int bit;

	fmt_buf_init(&b, buf, len);
	if (!features) {
		fmt_buf_add(&b, "none");
		return b.err;
	}
	for (bit = 0; bit < 32; bit++) {
		if (!(features >> bit & 1))
			continue;
		if (bit < n_names)
			fmt_buf_add(&b, "%s%s", sep, fmt_feature_names[bit]);
		else
			fmt_buf_add(&b, "%sbit%u", sep, bit);
		sep = " ";
	}
	return b.err;
}

/* Convert bytes to whole MiB; see format.h. */
uint64_t fmt_bytes_to_mib(uint64_t bytes)
{
	return bytes >> 20;
}

/* Format an ABI version as "major.minor"; see format.h. */
int fmt_abi_version(uint32_t version, char *buf, size_t len)
{
	struct fmt_buf b;

	fmt_buf_init(&b, buf, len);
	fmt_buf_add(&b, "%" PRIu32 ".%" PRIu32, version >> 16, version & 0xffff);
	return b.err;
}

/* Format nanoseconds as "S.d s"; see format.h. */
int fmt_uptime(uint64_t ns, char *buf, size_t len)
{
	uint64_t tenths = ns / 100000000u;
	struct fmt_buf b;

	fmt_buf_init(&b, buf, len);
	fmt_buf_add(&b, "%" PRIu64 ".%" PRIu64 " s", tenths / 10, tenths % 10);
	return b.err;
}

/* Name of a KEEL_BACKEND_* value; see format.h. */
const char *fmt_backend(uint32_t backend)
{
	switch (backend) {
	case KEEL_BACKEND_NONE:
		return "none";
	case KEEL_BACKEND_SVM:
		return "svm";
	case KEEL_BACKEND_VMX:
		return "vmx";
	default:
		return "unknown";
	}
}

/* Copy a fixed-size hypervisor string field safely; see format.h. */
int fmt_field_str(const char *field, size_t field_len, char *buf, size_t len)
{
	struct fmt_buf b;
	size_t i;

	fmt_buf_init(&b, buf, len);
	for (i = 0; i < field_len && field[i] != '\0'; i++) {
		char c = field[i];

		fmt_buf_add(&b, "%c", (c >= ' ' && c < 0x7f) ? c : '?');
	}
	if (i == 0)
		fmt_buf_add(&b, "unknown");
	return b.err;
}

/* Read a CPU number (0-63) at *@p; false if there is none. */
static bool fmt_cpu_number(const char **p, uint32_t *cpu)
{
	uint32_t n = 0, digits = 0;

	while (**p >= '0' && **p <= '9' && digits < 3) {
		n = n * 10 + (uint32_t)(**p - '0');
		(*p)++;
		digits++;
	}
	*cpu = n;
	return digits > 0 && n < 64;
}

/* Parse a CPU list; see format.h. */
int fmt_parse_cpu_list(const char *text, uint64_t *mask)
{
	const char *p = text;
	uint32_t lo, hi, c;

	*mask = 0;
	for (;;) {
		if (!fmt_cpu_number(&p, &lo))
			return -EINVAL;
		hi = lo;
		if (*p == '-') {
			p++;
			if (!fmt_cpu_number(&p, &hi) || hi < lo)
				return -EINVAL;
		}
		for (c = lo; c <= hi; c++)
			*mask |= 1ull << c;
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			return -EINVAL;
		while (*p == ' ')
			p++;
	}
}

/* Append @s as a JSON string; see format.h. */
void fmt_json_str(struct fmt_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fmt_buf_add(b, "\"");
	for (; *p && !b->err; p++) {
		if (*p == '"' || *p == '\\')
			fmt_buf_add(b, "\\%c", *p);
		else if (*p == '\n')
			fmt_buf_add(b, "\\n");
		else if (*p == '\t')
			fmt_buf_add(b, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			fmt_buf_add(b, "\\u%04x", *p);
		else
			fmt_buf_add(b, "%c", *p);
	}
	fmt_buf_add(b, "\"");
}

/* Format a duration as `xl uptime` does; see format.h. */
int fmt_duration(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000u, days = s / 86400u;
	struct fmt_buf b;

	fmt_buf_init(&b, buf, len);
	s %= 86400u;
	if (days)
		fmt_buf_add(&b, "%" PRIu64 " day%s, ", days, days == 1 ? "" : "s");
	fmt_buf_add(&b, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600u,
		    s / 60u % 60u, s % 60u);
	return b.err;
}
