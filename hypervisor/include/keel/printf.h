/*
 * Bounded string formatting for the hypervisor (no libc). Supports the
 * conversions %d %i %u %x %X %o %c %s %p %%, the flags '-' '0' '#' '+' ' ',
 * a field width and a precision (numbers or '*'), and the length modifiers
 * hh h l ll z j t. Output is always NUL-terminated when the buffer size is
 * non-zero; the return value is the length the full output would have
 * had, as in C99 snprintf.
 */
#ifndef KEEL_PRINTF_H
#define KEEL_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* KEEL_PRINTF_H */
