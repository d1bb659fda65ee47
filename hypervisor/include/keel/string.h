/*
 * Freestanding string and memory functions for the hypervisor (there is no
 * libc). The names are the standard ones because the compiler itself emits
 * calls to memcpy/memset/memmove/memcmp for structure copies. Host unit
 * tests of other modules use the host libc's versions instead of
 * hypervisor/common/string.c; tests/unit/test_string.c compiles string.c
 * with its names renamed so that it can be tested next to libc.
 */
#ifndef KEEL_STRING_H
#define KEEL_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t maxlen);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size);

#endif /* KEEL_STRING_H */
