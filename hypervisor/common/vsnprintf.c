/*
 * kvsnprintf/ksnprintf: the hypervisor's bounded printf-style formatter
 * (there is no libc). It understands the usual integer, character, string
 * and pointer conversions with flags, width, precision and length
 * modifiers, never writes past the buffer, and returns the full length the
 * output would have had, like C99 vsnprintf.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/printf.h>

#define FMT_LEFT (1u << 0)  /* '-': pad on the right */
#define FMT_ZERO (1u << 1)  /* '0': pad with zeros */
#define FMT_ALT (1u << 2)   /* '#': 0x prefix / leading 0 */
#define FMT_PLUS (1u << 3)  /* '+': sign always */
#define FMT_SPACE (1u << 4) /* ' ': space for positive sign */

#define FMT_DIGITS_MAX 24 /* 2^64 in octal has 22 digits */

/* Output state: where to write, how much room, how much was produced. */
struct fmt_out {
	char *buf;
	size_t size;
	size_t len;
};

/* One parsed conversion specification. */
struct fmt_spec {
	uint32_t flags;
	int32_t width;     /* 0 = none */
	int32_t precision; /* -1 = none */
	char length;       /* 0, 'H' (hh), 'h', 'l', 'L' (ll), 'z', 'j', 't' */
	char conv;
};

static void fmt_putc(struct fmt_out *o, char c)
{
	if (o->size > 0 && o->len < o->size - 1)
		o->buf[o->len] = c;
	o->len++;
}

static void fmt_pad(struct fmt_out *o, char c, int32_t count)
{
	while (count-- > 0)
		fmt_putc(o, c);
}

static size_t fmt_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

static void fmt_string(struct fmt_out *o, const struct fmt_spec *sp,
		       const char *s)
{
	size_t max = sp->precision >= 0 ? (size_t)sp->precision : SIZE_MAX;
	size_t n;
	int32_t pad;

	if (s == NULL)
		s = "(null)";
	n = fmt_strnlen(s, max);
	pad = sp->width > (int32_t)n ? sp->width - (int32_t)n : 0;
	if (!(sp->flags & FMT_LEFT))
		fmt_pad(o, ' ', pad);
	for (size_t i = 0; i < n; i++)
		fmt_putc(o, s[i]);
	if (sp->flags & FMT_LEFT)
		fmt_pad(o, ' ', pad);
}

/*
 * Formats the magnitude v with sign/prefix, precision and width.
 * negative says whether the original signed value was below zero.
 */
static void fmt_number(struct fmt_out *o, const struct fmt_spec *sp,
		       uint64_t v, bool negative)
{
	const char *digits_set = sp->conv == 'X' ? "0123456789ABCDEF"
						 : "0123456789abcdef";
	uint32_t base = 10;
	char digits[FMT_DIGITS_MAX];
	int32_t ndigits = 0;
	const char *prefix = "";
	int32_t prefix_len, zeros, pad;

	if (sp->conv == 'x' || sp->conv == 'X' || sp->conv == 'p')
		base = 16;
	else if (sp->conv == 'o')
		base = 8;
	for (uint64_t t = v; t != 0; t /= base)
		digits[ndigits++] = digits_set[t % base];
	if (v == 0 && sp->precision != 0)
		digits[ndigits++] = '0';

	if (negative)
		prefix = "-";
	else if ((sp->flags & FMT_PLUS) && (sp->conv == 'd' || sp->conv == 'i'))
		prefix = "+";
	else if ((sp->flags & FMT_SPACE) && (sp->conv == 'd' || sp->conv == 'i'))
		prefix = " ";
	else if (sp->conv == 'p' || ((sp->flags & FMT_ALT) && v != 0 &&
				     (sp->conv == 'x' || sp->conv == 'X')))
		prefix = sp->conv == 'X' ? "0X" : "0x";
	prefix_len = (int32_t)fmt_strnlen(prefix, 2);

	zeros = sp->precision > ndigits ? sp->precision - ndigits : 0;
	if (sp->conv == 'o' && (sp->flags & FMT_ALT) && zeros == 0 &&
	    (ndigits == 0 || digits[ndigits - 1] != '0'))
		zeros = 1;
	pad = sp->width - prefix_len - zeros - ndigits;
	if (pad < 0)
		pad = 0;
	if ((sp->flags & FMT_ZERO) && !(sp->flags & FMT_LEFT) &&
	    sp->precision < 0) {
		zeros += pad;
		pad = 0;
	}

	if (!(sp->flags & FMT_LEFT))
		fmt_pad(o, ' ', pad);
	for (int32_t i = 0; i < prefix_len; i++)
		fmt_putc(o, prefix[i]);
	fmt_pad(o, '0', zeros);
	while (ndigits > 0)
		fmt_putc(o, digits[--ndigits]);
	if (sp->flags & FMT_LEFT)
		fmt_pad(o, ' ', pad);
}

/* Reads a signed argument of the spec's length and formats it. */
static void fmt_signed(struct fmt_out *o, const struct fmt_spec *sp,
		       va_list *ap)
{
	int64_t v;

	switch (sp->length) {
	case 'H': v = (signed char)va_arg(*ap, int); break;
	case 'h': v = (short)va_arg(*ap, int); break;
	case 'l': v = va_arg(*ap, long); break;
	case 'L': v = va_arg(*ap, long long); break;
	case 'z': v = (int64_t)va_arg(*ap, size_t); break;
	case 'j': v = va_arg(*ap, intmax_t); break;
	case 't': v = va_arg(*ap, ptrdiff_t); break;
	default: v = va_arg(*ap, int); break;
	}
	/* 0 - (uint64_t)v is the magnitude, INT64_MIN included. */
	fmt_number(o, sp, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0);
}

/* Reads an unsigned argument of the spec's length and formats it. */
static void fmt_unsigned(struct fmt_out *o, const struct fmt_spec *sp,
			 va_list *ap)
{
	uint64_t v;

	switch (sp->length) {
	case 'H': v = (unsigned char)va_arg(*ap, unsigned int); break;
	case 'h': v = (unsigned short)va_arg(*ap, unsigned int); break;
	case 'l': v = va_arg(*ap, unsigned long); break;
	case 'L': v = va_arg(*ap, unsigned long long); break;
	case 'z': v = va_arg(*ap, size_t); break;
	case 'j': v = va_arg(*ap, uintmax_t); break;
	case 't': v = (uint64_t)va_arg(*ap, ptrdiff_t); break;
	default: v = va_arg(*ap, unsigned int); break;
	}
	fmt_number(o, sp, v, false);
}

/* Parses a decimal number at *p, advancing *p; saturates at INT32_MAX/10. */
static int32_t fmt_atoi(const char **p)
{
	int32_t v = 0;

	while (**p >= '0' && **p <= '9') {
		if (v < INT32_MAX / 10 - 10)
			v = v * 10 + (**p - '0');
		(*p)++;
	}
	return v;
}

/*
 * Parses the specification after a '%' at *p (flags, width, precision,
 * length, conversion), taking '*' values from ap. Advances *p past it.
 */
static void fmt_parse_spec(const char **p, struct fmt_spec *sp, va_list *ap)
{
	const char *s = *p;

	sp->flags = 0;
	for (;; s++) {
		if (*s == '-') sp->flags |= FMT_LEFT;
		else if (*s == '0') sp->flags |= FMT_ZERO;
		else if (*s == '#') sp->flags |= FMT_ALT;
		else if (*s == '+') sp->flags |= FMT_PLUS;
		else if (*s == ' ') sp->flags |= FMT_SPACE;
		else break;
	}
	sp->width = 0;
	if (*s == '*') {
		int w = va_arg(*ap, int);

		s++;
		if (w < 0) {
			sp->flags |= FMT_LEFT;
			w = w == INT32_MIN ? INT32_MAX : -w;
		}
		sp->width = w;
	} else {
		sp->width = fmt_atoi(&s);
	}
	sp->precision = -1;
	if (*s == '.') {
		s++;
		if (*s == '*') {
			int prec = va_arg(*ap, int);

			s++;
			sp->precision = prec < 0 ? -1 : prec;
		} else {
			sp->precision = fmt_atoi(&s);
		}
	}
	sp->length = 0;
	if (*s == 'h') {
		s++;
		sp->length = 'h';
		if (*s == 'h') {
			s++;
			sp->length = 'H';
		}
	} else if (*s == 'l') {
		s++;
		sp->length = 'l';
		if (*s == 'l') {
			s++;
			sp->length = 'L';
		}
	} else if (*s == 'z' || *s == 'j' || *s == 't') {
		sp->length = *s++;
	}
	sp->conv = *s;
	if (*s)
		s++;
	*p = s;
}

/* Formats one conversion; unknown ones are copied out literally. */
static void fmt_convert(struct fmt_out *o, struct fmt_spec *sp,
			const char *start, const char *end, va_list *ap)
{
	char c;

	switch (sp->conv) {
	case 'd':
	case 'i':
		fmt_signed(o, sp, ap);
		break;
	case 'u':
	case 'x':
	case 'X':
	case 'o':
		fmt_unsigned(o, sp, ap);
		break;
	case 'p':
		sp->flags &= ~(FMT_PLUS | FMT_SPACE);
		fmt_number(o, sp, (uint64_t)(uintptr_t)va_arg(*ap, void *),
			   false);
		break;
	case 'c':
		c = (char)va_arg(*ap, int);
		if (!(sp->flags & FMT_LEFT))
			fmt_pad(o, ' ', sp->width - 1);
		fmt_putc(o, c);
		if (sp->flags & FMT_LEFT)
			fmt_pad(o, ' ', sp->width - 1);
		break;
	case 's':
		fmt_string(o, sp, va_arg(*ap, const char *));
		break;
	case '%':
		fmt_putc(o, '%');
		break;
	default:
		for (const char *q = start; q < end; q++)
			fmt_putc(o, *q);
		break;
	}
}

/*
 * Formats fmt with the arguments in ap into buf, which has room for size
 * bytes. Writes at most size - 1 characters plus a NUL (nothing at all if
 * size is 0). Returns the number of characters the complete output has,
 * not counting the NUL (INT32_MAX if that would not fit an int).
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { .buf = buf, .size = size, .len = 0 };
	struct fmt_spec sp;
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		const char *start = fmt;

		if (*fmt != '%') {
			fmt_putc(&o, *fmt++);
			continue;
		}
		fmt++;
		fmt_parse_spec(&fmt, &sp, &args);
		fmt_convert(&o, &sp, start, fmt, &args);
	}
	va_end(args);
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}

/*
 * Like kvsnprintf but takes the arguments directly. Returns the length of
 * the complete output, not counting the NUL.
 */
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
