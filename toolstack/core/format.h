/*
 * Pure text-formatting helpers of the `keel` toolstack: CPU lists, feature
 * names, memory sizes, versions and durations as `keel info` shows them.
 * They write into caller-supplied buffers and do no I/O, so tests/unit can
 * test them on the host. All return 0, or -ENOSPC when the buffer was too
 * small (the output is then truncated but still NUL-terminated).
 */
#ifndef KEEL_TOOLSTACK_FORMAT_H
#define KEEL_TOOLSTACK_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Format the set bits of @mask as a compressed CPU list, e.g. "0,2-5"
 * (runs of two or more CPUs become ranges). An empty mask gives "".
 */
int fmt_cpu_list(uint64_t mask, char *buf, size_t len);

/*
 * Format KEEL_FEAT_* bits in @features as space-separated names in bit
 * order ("npt nrips ..."); unknown bits show as "bit<N>", no bits as "none".
 */
int fmt_features(uint32_t features, char *buf, size_t len);

/* Convert @bytes to whole MiB, rounding down as xl does. */
uint64_t fmt_bytes_to_mib(uint64_t bytes);

/* Format an ABI version (major << 16 | minor) as "major.minor". */
int fmt_abi_version(uint32_t version, char *buf, size_t len);

/* Format a duration of @ns nanoseconds as seconds with one decimal, "12.3 s"
 * (rounded down). */
int fmt_uptime(uint64_t ns, char *buf, size_t len);

/* Name of KEEL_BACKEND_* value @backend: "none", "svm", "vmx", or "unknown". */
const char *fmt_backend(uint32_t backend);

/*
 * Copy the fixed-size field @field (@field_len bytes, maybe not
 * NUL-terminated, as received from the hypervisor) into @buf, stopping at
 * the first NUL and replacing bytes that are not printable ASCII by '?'.
 * An empty field gives "unknown".
 */
int fmt_field_str(const char *field, size_t field_len, char *buf, size_t len);

/* Output cursor over a fixed buffer, for text built piece by piece. */
struct fmt_buf {
	char *buf;
	size_t len;
	size_t pos; /* bytes written so far (the text stays NUL-terminated) */
	int err;    /* 0, or -ENOSPC once something did not fit */
};

/* Start writing into @buf of @len bytes (@len may be 0: err is -ENOSPC). */
void fmt_buf_init(struct fmt_buf *b, char *buf, size_t len);

/*
 * Append printf-style text to @b. Text that does not fit is cut, @b->err
 * becomes -ENOSPC and later calls do nothing.
 */
__attribute__((format(printf, 2, 3)))
void fmt_buf_add(struct fmt_buf *b, const char *fmt, ...);

/*
 * Parse a CPU list as fmt_cpu_list writes it ("0,2-5"; spaces allowed
 * after commas) into *@mask. Returns 0, or -EINVAL for anything else: an
 * empty list, a number above 63, a range that runs backwards.
 */
int fmt_parse_cpu_list(const char *text, uint64_t *mask);

/*
 * Append @s to @b as a JSON string (RFC 8259 section 7): in double quotes,
 * with '"', '\\' and control characters escaped. Bytes of 0x80 and above
 * pass through unchanged (the toolstack's strings are ASCII or UTF-8).
 */
void fmt_json_str(struct fmt_buf *b, const char *s);

/*
 * Format a duration of @ns nanoseconds as `xl uptime` does: "H:MM:SS",
 * with "N day(s), " in front from one day on (e.g. "1 day, 0:00:05").
 */
int fmt_duration(uint64_t ns, char *buf, size_t len);

#endif /* KEEL_TOOLSTACK_FORMAT_H */
