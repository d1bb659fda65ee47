/*
 * Unit tests for hypervisor/common/string.c. The file is compiled here
 * with its functions renamed (memcpy -> kmemcpy, ...) so that they can be
 * tested next to, and compared against, the host libc.
 */
#define memcpy kmemcpy
#define memmove kmemmove
#define memset kmemset
#define memcmp kmemcmp
#define strlen kstrlen
#define strnlen kstrnlen
#define strcmp kstrcmp
#define strncmp kstrncmp
#define strchr kstrchr
#define strlcpy kstrlcpy
#include "../../hypervisor/common/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef strlcpy

#include <stdlib.h>
#include <string.h>

#include "harness.h"

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void test_memcpy_memset(void)
{
	unsigned char a[160], b[160];

	for (int i = 0; i < 160; i++)
		a[i] = (unsigned char)(i * 7 + 1);
	/* every head, word and tail length, at every destination alignment,
	 * from an aligned and an unaligned source */
	for (size_t off = 0; off < 8; off++) {
		for (size_t n = 0; n <= 100; n++) {
			memset(b, 0xEE, sizeof(b));
			CHECK(kmemcpy(b + off, a + 3, n) == b + off);
			CHECK(memcmp(b + off, a + 3, n) == 0);
			CHECK(b[off + n] == 0xEE);
			if (off > 0)
				CHECK(b[off - 1] == 0xEE);
			memset(b, 0x11, sizeof(b));
			CHECK(kmemset(b + off, 0xC3, n) == b + off);
			for (size_t i = 0; i < sizeof(b); i++)
				CHECK_EQ_U64(b[i], (i >= off && i < off + n) ? 0xC3 : 0x11);
		}
	}
	for (size_t off = 0; off < 8; off++) {
		for (size_t n = 0; n <= 40; n++) {
			memset(b, 0xEE, sizeof(b));
			CHECK(kmemcpy(b + off, a, n) == b + off);
			CHECK(memcmp(b + off, a, n) == 0);
			CHECK(b[off + n] == 0xEE);
			if (off > 0)
				CHECK(b[off - 1] == 0xEE);
		}
	}
	memset(b, 0, sizeof(b));
	CHECK(kmemset(b + 3, 0x1AB, 10) == b + 3); /* only the low byte */
	for (int i = 0; i < 160; i++)
		CHECK_EQ_U64(b[i], (i >= 3 && i < 13) ? 0xAB : 0);
	CHECK(kmemset(b, 0, 0) == b);
	CHECK(kmemcpy(b, a, 0) == b);
}

static void test_memmove(void)
{
	unsigned char ref[80], buf[80];

	for (size_t src = 0; src < 16; src++) {
		for (size_t dst = 0; dst < 16; dst++) {
			for (size_t n = 0; n < 60; n += 1) {
				for (int i = 0; i < 80; i++)
					ref[i] = buf[i] = (unsigned char)i;
				memmove(ref + dst, ref + src, n);
				CHECK(kmemmove(buf + dst, buf + src, n) ==
				      buf + dst);
				CHECK(memcmp(ref, buf, sizeof(buf)) == 0);
			}
		}
	}
}

static void test_memcmp(void)
{
	unsigned char a[16] = { 1, 2, 3, 0x80, 5 };
	unsigned char b[16] = { 1, 2, 3, 0x7F, 5 };

	CHECK(kmemcmp(a, b, 3) == 0);
	CHECK(kmemcmp(a, b, 4) > 0); /* compared as unsigned */
	CHECK(kmemcmp(b, a, 4) < 0);
	CHECK(kmemcmp(a, b, 0) == 0);
	for (int i = 0; i < 2000; i++) {
		unsigned char x[8], y[8];
		size_t n = harness_rand_below(9);

		for (int j = 0; j < 8; j++) {
			x[j] = (unsigned char)harness_rand_below(3);
			y[j] = (unsigned char)(harness_rand_below(3) + 0x7E);
			if (harness_rand_below(2))
				y[j] = x[j];
		}
		CHECK_EQ_INT(sign(kmemcmp(x, y, n)), sign(memcmp(x, y, n)));
	}
}

static void test_strlen_strnlen(void)
{
	/* Exact-size heap buffer without NUL: ASan catches any overread. */
	char *p = malloc(5);

	memcpy(p, "abcde", 5);
	CHECK_EQ_U64(kstrnlen(p, 5), 5);
	CHECK_EQ_U64(kstrnlen(p, 3), 3);
	CHECK_EQ_U64(kstrnlen(p, 0), 0);
	free(p);
	CHECK_EQ_U64(kstrlen(""), 0);
	CHECK_EQ_U64(kstrlen("keel"), 4);
	CHECK_EQ_U64(kstrnlen("ab", 10), 2);
}

static void test_strcmp(void)
{
	static const char *const words[] = { "", "a", "ab", "abc", "abd",
					     "b", "\x80", "\x7f", "ab\x90",
					     "AB" };
	size_t nw = sizeof(words) / sizeof(words[0]);

	for (size_t i = 0; i < nw; i++) {
		for (size_t j = 0; j < nw; j++) {
			CHECK_EQ_INT(sign(kstrcmp(words[i], words[j])),
				     sign(strcmp(words[i], words[j])));
			for (size_t n = 0; n < 5; n++)
				CHECK_EQ_INT(
					sign(kstrncmp(words[i], words[j], n)),
					sign(strncmp(words[i], words[j], n)));
		}
	}
}

static void test_strchr(void)
{
	const char *s = "hello=world";

	CHECK(kstrchr(s, '=') == s + 5);
	CHECK(kstrchr(s, 'h') == s);
	CHECK(kstrchr(s, 'z') == NULL);
	CHECK(kstrchr(s, '\0') == s + 11);
	CHECK(kstrchr(s, 'o' + 256) == s + 4); /* converted to char */
}

static void test_strlcpy(void)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	CHECK_EQ_U64(kstrlcpy(buf, "abc", sizeof(buf)), 3);
	CHECK_EQ_STR(buf, "abc");
	CHECK_EQ_U64(kstrlcpy(buf, "0123456789", sizeof(buf)), 10);
	CHECK_EQ_STR(buf, "0123456");
	CHECK_EQ_U64(kstrlcpy(buf, "abcdefg", sizeof(buf)), 7);
	CHECK_EQ_STR(buf, "abcdefg");
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ_U64(kstrlcpy(buf, "abc", 1), 3);
	CHECK(buf[0] == '\0' && buf[1] == 'x');
	CHECK_EQ_U64(kstrlcpy(buf, "abc", 0), 3);
	CHECK(buf[0] == '\0' && buf[1] == 'x');
	CHECK_EQ_U64(kstrlcpy(buf, "", sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "");
}

int main(void)
{
	test_memcpy_memset();
	test_memmove();
	test_memcmp();
	test_strlen_strnlen();
	test_strcmp();
	test_strchr();
	test_strlcpy();
	return harness_done("test_string");
}
