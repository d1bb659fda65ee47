/*
 * Unit tests for hypervisor/common/vsnprintf.c: many fixed formats and a
 * large number of random integer conversions are formatted both by
 * kvsnprintf and by the host's vsnprintf and must agree, for several
 * buffer sizes (truncation and return value included).
 */
#include "../../hypervisor/common/vsnprintf.c"

/* Odd flag combinations and NULL strings are tested on purpose. */
#ifdef __clang__
#pragma clang diagnostic ignored "-Wunknown-warning-option"
#else
#pragma GCC diagnostic ignored "-Wpragmas"
#endif
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-overflow"
#pragma GCC diagnostic ignored "-Wformat-zero-length"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* Formats with both implementations at several buffer sizes; compares. */
static void cmp_va(const char *file, int line, const char *fmt, va_list ap)
{
	static const size_t sizes[] = { 0, 1, 2, 5, 17, 300 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char want[300], got[300];
		va_list a1, a2;
		int nw, ng;

		memset(want, 'W', sizeof(want));
		memset(got, 'W', sizeof(got));
		va_copy(a1, ap);
		va_copy(a2, ap);
		nw = vsnprintf(sizes[i] ? want : NULL, sizes[i], fmt, a1);
		ng = kvsnprintf(sizes[i] ? got : NULL, sizes[i], fmt, a2);
		va_end(a1);
		va_end(a2);
		CHECK_MSG(nw == ng && memcmp(want, got, sizeof(want)) == 0,
			  "%s:%d fmt \"%s\" size %zu: want %d \"%.*s\", got %d "
			  "\"%.*s\"", file, line, fmt, sizes[i], nw,
			  (int)(sizes[i] ? sizes[i] - 1 : 0), want, ng,
			  (int)(sizes[i] ? sizes[i] - 1 : 0), got);
	}
}

static void cmp_fmt(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cmp_fmt(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmp_va(file, line, fmt, ap);
	va_end(ap);
}

#define CMP(...) cmp_fmt(__FILE__, __LINE__, __VA_ARGS__)

static void test_fixed(void)
{
	CMP("plain text");
	CMP("");
	CMP("%%");
	CMP("a%%b%%%%c");
	CMP("%d %i", 0, -0);
	CMP("%d|%d|%d|%d", 1, -1, INT_MAX, INT_MIN);
	CMP("%5d|%-5d|%05d|%+d|% d|%+d|% d", 42, 42, 42, 42, 42, -42, -42);
	CMP("%-05d|%+05d|% 05d|%05d", 42, 42, 42, -42);
	CMP("%.3d|%8.3d|%-8.3d|%08.3d|%.0d|%5.0d|%.0d", 7, -7, 7, 7, 0, 0, 1);
	CMP("%u|%u|%u", 0u, 1u, UINT_MAX);
	CMP("%x|%X|%#x|%#X|%#x|%#08x|%#-8x|%#.5x", 0xbeefu, 0xbeefu, 0xbeefu,
	    0xbeefu, 0u, 0x1fu, 0x1fu, 0x1fu);
	CMP("%o|%#o|%#o|%#.0o|%.0o|%#5o|%#.3o|%#.3o", 8u, 8u, 0u, 0u, 0u, 8u,
	    8u, 01234u);
	CMP("%hhd|%hhd|%hhu|%hhx", 300, -129, -1, 0x1ff);
	CMP("%hd|%hu|%hx|%hd", 70000, -1, 0x12345, -32768);
	CMP("%ld|%ld|%lu|%lx", LONG_MAX, LONG_MIN, ULONG_MAX, 0xdeadbeefUL);
	CMP("%lld|%lld|%llu|%llX|%llo", LLONG_MAX, LLONG_MIN, ULLONG_MAX,
	    0xABCDEF0123456789ULL, ULLONG_MAX);
	CMP("%zu|%zx|%zd", SIZE_MAX, (size_t)0x1234, (ssize_t)-5);
	CMP("%jd|%ju|%td", (intmax_t)-9, (uintmax_t)9, (ptrdiff_t)-3);
	CMP("%c|%5c|%-5c|%c", 'A', 'b', 'c', 0x141);
	CMP("%c%c%c", 'x', '\0', 'y');
	CMP("%s|%10s|%-10s|%.3s|%10.3s|%-10.3s|%.0s|%.10s", "hello", "hello",
	    "hello", "hello", "hello", "hello", "hello", "hello");
	CMP("%s", "");
	CMP("%*d|%-*d|%*d", 6, 12, 6, 12, -6, 12);
	CMP("%.*d|%.*d|%*.*d", 4, 12, -1, 12, 8, 3, 5);
	CMP("%.*s|%.*s|%*s", 2, "abcdef", -1, "abc", 5, "ab");
	CMP("%p|%20p|%-20p|", (void *)0x1234, (void *)0xffffffff80001000ull,
	    (void *)0x10);
	CMP("%s=%d, %s=0x%08x, %-6s|%6.2s|", "a", 1, "bb", 0xabcu, "ccc",
	    "dddd");
	CMP("%03d:%02d:%02d.%03u", 1, 2, 3, 45u);
	CMP("%+.0d|% .0d|%+5.0d", 0, 0, 0);
	CMP("%llx %llx", 0ull, 1ull << 63);
	CMP("long output %0200d end", 5);
}

static void test_special(void)
{
	char buf[32];
	const char *fmt_unknown = "a%yb%";
	char *null_str = NULL;

	CHECK_EQ_INT(ksnprintf(buf, sizeof(buf), "%s", null_str), 6);
	CHECK_EQ_STR(buf, "(null)");
	CHECK_EQ_INT(ksnprintf(buf, sizeof(buf), "[%8s]", null_str), 10);
	CHECK_EQ_STR(buf, "[  (null)]");
	/* Unknown conversions and a trailing '%' are copied out. */
	CHECK_EQ_INT(ksnprintf(buf, sizeof(buf), fmt_unknown, 1), 5);
	CHECK_EQ_STR(buf, "a%yb%");
	/* size 0 writes nothing, not even to buf. */
	buf[0] = 'Z';
	CHECK_EQ_INT(ksnprintf(buf, 0, "%d", 12345), 5);
	CHECK(buf[0] == 'Z');
	CHECK_EQ_INT(ksnprintf(NULL, 0, "abc%s", "def"), 6);
	/* size 1: only the NUL. */
	CHECK_EQ_INT(ksnprintf(buf, 1, "xyz"), 3);
	CHECK(buf[0] == '\0');
	/* Exactly fitting and one short. */
	CHECK_EQ_INT(ksnprintf(buf, 4, "abc"), 3);
	CHECK_EQ_STR(buf, "abc");
	CHECK_EQ_INT(ksnprintf(buf, 3, "abc"), 3);
	CHECK_EQ_STR(buf, "ab");
	CHECK_EQ_INT(ksnprintf(buf, sizeof(buf), "%p", (void *)0), 3);
	CHECK_EQ_STR(buf, "0x0");
}

/* Random integer conversions with random flags, width and precision. */
static void test_random(void)
{
	static const char *const lengths[] = { "", "hh", "h", "l", "ll", "z" };
	static const char convs[] = "diuxXo";

	for (int iter = 0; iter < 20000; iter++) {
		char fmt[64];
		size_t pos = 0;
		int li = (int)harness_rand_below(6);
		char conv = convs[harness_rand_below(6)];
		uint64_t v = harness_rand();

		if (harness_rand_below(3) == 0)
			v &= 0xff;
		if (harness_rand_below(8) == 0)
			v = 0;
		fmt[pos++] = '<';
		fmt[pos++] = '%';
		if (harness_rand_below(3) == 0) fmt[pos++] = '-';
		if (harness_rand_below(3) == 0) fmt[pos++] = '0';
		if (harness_rand_below(3) == 0) fmt[pos++] = '#';
		if ((conv == 'd' || conv == 'i') && harness_rand_below(4) == 0)
			fmt[pos++] = harness_rand_below(2) ? '+' : ' ';
		if (harness_rand_below(2))
			pos += (size_t)sprintf(fmt + pos, "%d",
					       (int)harness_rand_below(30));
		if (harness_rand_below(2))
			pos += (size_t)sprintf(fmt + pos, ".%d",
					       (int)harness_rand_below(25));
		pos += (size_t)sprintf(fmt + pos, "%s%c>", lengths[li], conv);
		(void)pos;
		/* Pass the argument with the type the length modifier needs. */
		switch (li) {
		case 0:
		case 1:
		case 2: cmp_fmt(__FILE__, __LINE__, fmt, (int)v); break;
		case 3: cmp_fmt(__FILE__, __LINE__, fmt, (long)v); break;
		case 4: cmp_fmt(__FILE__, __LINE__, fmt, (long long)v); break;
		default: cmp_fmt(__FILE__, __LINE__, fmt, (size_t)v); break;
		}
	}
}

int main(void)
{
	test_fixed();
	test_special();
	test_random();
	return harness_done("test_vsnprintf");
}
