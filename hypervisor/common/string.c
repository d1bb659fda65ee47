/*
 * Freestanding implementations of the C string and memory functions the
 * hypervisor and the compiler need (the hypervisor has no libc). memset,
 * memcpy and memmove (forwards) move eight bytes at a time once the
 * destination is aligned: they clear and copy whole guests' RAM and disk
 * images (a 256 MiB guest is zeroed at create), and a byte loop took over
 * ten seconds for that under emulation, with dom0 stopped in the
 * hypercall meanwhile. GCC could recognise these loops as memcpy/memset patterns and
 * replace them with calls to the very functions being defined (endless
 * recursion), so that transformation is switched off for this file's
 * functions, as glibc does.
 */
#include <stddef.h>
#include <stdint.h>

#include <keel/string.h>

#if defined(__GNUC__) && !defined(__clang__)
#define STRING_NO_LIBCALL \
	__attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define STRING_NO_LIBCALL
#endif

/* Eight bytes at any alignment, which may alias anything. */
typedef uint64_t __attribute__((may_alias, aligned(1))) string_word;

#define STRING_WORD_BYTES 8u

/* Copy n bytes forwards, words once d is aligned; safe for overlapping
 * areas when dst <= src. */
STRING_NO_LIBCALL static void copy_forward(unsigned char *d, const unsigned char *s, size_t n)
{
	while (n && ((uintptr_t)d & (STRING_WORD_BYTES - 1))) {
		*d++ = *s++;
		n--;
	}
	for (; n >= 4 * STRING_WORD_BYTES; n -= 4 * STRING_WORD_BYTES) {
		string_word w0 = ((const string_word *)s)[0];
		string_word w1 = ((const string_word *)s)[1];
		string_word w2 = ((const string_word *)s)[2];
		string_word w3 = ((const string_word *)s)[3];

		((string_word *)d)[0] = w0;
		((string_word *)d)[1] = w1;
		((string_word *)d)[2] = w2;
		((string_word *)d)[3] = w3;
		d += 4 * STRING_WORD_BYTES;
		s += 4 * STRING_WORD_BYTES;
	}
	for (; n >= STRING_WORD_BYTES; n -= STRING_WORD_BYTES) {
		*(string_word *)d = *(const string_word *)s;
		d += STRING_WORD_BYTES;
		s += STRING_WORD_BYTES;
	}
	while (n--)
		*d++ = *s++;
}

/*
 * Copies n bytes from src to dst; the areas must not overlap.
 * Returns dst.
 */
STRING_NO_LIBCALL void *memcpy(void *dst, const void *src, size_t n)
{
	copy_forward(dst, src, n);
	return dst;
}

/*
 * Copies n bytes from src to dst; the areas may overlap.
 * Returns dst.
 */
STRING_NO_LIBCALL void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if ((uintptr_t)d <= (uintptr_t)s || (uintptr_t)d >= (uintptr_t)s + n) {
		copy_forward(d, s, n);
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

/*
 * Fills n bytes at dst with the byte value c (converted to unsigned char).
 * Returns dst.
 */
STRING_NO_LIBCALL void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	uint64_t w = (unsigned char)c * 0x0101010101010101ull;

	while (n && ((uintptr_t)d & (STRING_WORD_BYTES - 1))) {
		*d++ = (unsigned char)c;
		n--;
	}
	for (; n >= 4 * STRING_WORD_BYTES; n -= 4 * STRING_WORD_BYTES) {
		((string_word *)d)[0] = w;
		((string_word *)d)[1] = w;
		((string_word *)d)[2] = w;
		((string_word *)d)[3] = w;
		d += 4 * STRING_WORD_BYTES;
	}
	for (; n >= STRING_WORD_BYTES; n -= STRING_WORD_BYTES) {
		*(string_word *)d = w;
		d += STRING_WORD_BYTES;
	}
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

/*
 * Compares n bytes of a and b as unsigned chars. Returns <0, 0 or >0 as a
 * sorts before, equal to or after b.
 */
int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a;
	const unsigned char *y = b;

	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}

/* Returns the number of bytes in the NUL-terminated string s. */
size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/*
 * Returns the length of s, but at most maxlen; reads no byte at or beyond
 * s + maxlen.
 */
size_t strnlen(const char *s, size_t maxlen)
{
	size_t n = 0;

	while (n < maxlen && s[n])
		n++;
	return n;
}

/*
 * Compares the strings a and b as unsigned chars. Returns <0, 0 or >0 as a
 * sorts before, equal to or after b.
 */
int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, SIZE_MAX);
}

/*
 * Compares at most n characters of the strings a and b. Returns <0, 0 or
 * >0 as a sorts before, equal to or after b.
 */
int strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i];
		unsigned char y = (unsigned char)b[i];

		if (x != y)
			return x < y ? -1 : 1;
		if (x == 0)
			break;
	}
	return 0;
}

/*
 * Finds the first occurrence of the character c (converted to char) in s;
 * the terminating NUL counts as part of s. Returns a pointer to it or NULL.
 */
char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (*s == '\0')
			return NULL;
	}
}

/*
 * Copies the string src into dst, a buffer of size bytes, truncating if
 * needed and NUL-terminating whenever size > 0. Returns strlen(src), so
 * truncation happened if the result is >= size.
 */
size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
