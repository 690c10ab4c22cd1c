/*
 * textbuf.c: a growable text buffer and Jansson-identical JSON pieces
 * (textbuf.h).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipas/textbuf.h"
#include "sipas/util.h"

/* Room for n more bytes and the NUL. */
void
textbuf_grow(struct textbuf *t, size_t n)
{
	size_t want = t->len + n + 1;

	if (want <= t->size)
		return;
	if (t->size == 0)
		t->size = 256;
	while (t->size < want)
		t->size *= 2;
	t->buf = xreallocarray(t->buf, t->size, 1);
}

void
textbuf_reset(struct textbuf *t)
{
	t->len = 0;
	if (t->buf != NULL)
		t->buf[0] = '\0';
}

void
textbuf_add(struct textbuf *t, const char *s, size_t n)
{
	textbuf_grow(t, n);
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

void
textbuf_puts(struct textbuf *t, const char *s)
{
	textbuf_add(t, s, strlen(s));
}

void
textbuf_addc(struct textbuf *t, char c)
{
	textbuf_add(t, &c, 1);
}

/* A decimal integer, without printf. */
void
textbuf_int(struct textbuf *t, long long v)
{
	char digits[24], *p = digits + sizeof digits;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	textbuf_add(t, p, (size_t)(digits + sizeof digits - p));
}

/*
 * Jansson's dump_string without flags: a backslash, a double quote and the
 * bytes below 0x20 are escaped (\b \f \n \r \t by name, the others as \u00XX
 * in upper-case hex); every other byte, UTF-8 included, is written as it is.
 */
void
textbuf_json_string(struct textbuf *t, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *run;
	char esc[7];

	textbuf_addc(t, '"');
	for (;;) {
		run = p;
		while (*p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		textbuf_add(t, (const char *)run, (size_t)(p - run));
		if (*p == '\0')
			break;
		esc[0] = '\\';
		switch (*p) {
		case '\\': esc[1] = '\\'; break;
		case '"': esc[1] = '"'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
			textbuf_add(t, esc, 6);
			p++;
			continue;
		}
		textbuf_add(t, esc, 2);
		p++;
	}
	textbuf_addc(t, '"');
}

/*
 * printf's "%.17g" of v without printf, for 1e-7 <= |v| < 1e17 (the
 * indices, their intervals and standard errors, counts, weights); -1 for any
 * other v, which the caller formats with snprintf. The 17 significant digits
 * are those of v * 10^k rounded to an integer, computed exactly: v is m *
 * 2^e (m < 2^53) and k <= 23, so m * 5^k < 2^107 fits in 128 bits, and the
 * bits shifted out decide the rounding (to nearest, ties to even, as glibc).
 * tests/unit/test_response compares it with Jansson on 1.5 million values.
 */
static int
textbuf_g17(double v, char *out)
{
	static const uint64_t pow5[24] = {
		1ULL, 5ULL, 25ULL, 125ULL, 625ULL, 3125ULL, 15625ULL, 78125ULL,
		390625ULL, 1953125ULL, 9765625ULL, 48828125ULL, 244140625ULL,
		1220703125ULL, 6103515625ULL, 30517578125ULL, 152587890625ULL,
		762939453125ULL, 3814697265625ULL, 19073486328125ULL,
		95367431640625ULL, 476837158203125ULL, 2384185791015625ULL,
		11920928955078125ULL,
	};
	const uint64_t lo = 10000000000000000ULL, hi = 100000000000000000ULL;
	double a = fabs(v);
	char digits[18], *p = out;
	unsigned __int128 prod, q, r, half;
	uint64_t m, d;
	int e2, e, x, k, sh, i, tries, last;

	if (!(a >= 1e-7 && a < 1e17))
		return -1;
	m = (uint64_t)ldexp(frexp(a, &e2), 53);
	e = e2 - 53;
	x = (int)floor(log10(a));
	for (tries = 0; ; tries++) {
		k = 16 - x;
		if (k < 0 || k > 23 || tries > 2)
			return -1;
		prod = (unsigned __int128)m * pow5[k];
		sh = e + k;
		r = half = 0;
		if (sh >= 0) {
			if (sh > 10)
				return -1;
			q = prod << sh;
		} else if (-sh >= 127) {
			return -1;
		} else {
			q = prod >> -sh;
			r = prod & (((unsigned __int128)1 << -sh) - 1);
			half = (unsigned __int128)1 << (-sh - 1);
		}
		/* x is right when the digits before rounding are 17. */
		if (q >= hi)
			x++;
		else if (q < lo)
			x--;
		else
			break;
	}
	if (r > half || (r == half && r != 0 && (q & 1))) {
		/* Rounding up may carry into an 18th digit: 10^17 is 1e(x+1). */
		if (++q == hi) {
			q = lo;
			if (++x > 16)
				return -1;
		}
	}
	d = (uint64_t)q;
	for (i = 16; i >= 0; i--) {
		digits[i] = (char)('0' + d % 10);
		d /= 10;
	}
	for (last = 16; last > 0 && digits[last] == '0'; last--)
		;
	if (signbit(v))
		*p++ = '-';
	if (x < -4) {
		/* d.ddde-XX: %g's exponent form (x > 16 went to snprintf). */
		*p++ = digits[0];
		if (last > 0) {
			*p++ = '.';
			memcpy(p, digits + 1, (size_t)last);
			p += last;
		}
		*p++ = 'e';
		*p++ = '-';
		*p++ = (char)('0' + (-x) / 10);
		*p++ = (char)('0' + (-x) % 10);
	} else if (x < 0) {
		/* 0.000ddd */
		*p++ = '0';
		*p++ = '.';
		for (i = -1; i > x; i--)
			*p++ = '0';
		memcpy(p, digits, (size_t)last + 1);
		p += last + 1;
	} else {
		/* ddd.ddd, the dot only before a nonzero fraction */
		memcpy(p, digits, (size_t)x + 1);
		p += x + 1;
		if (last > x) {
			*p++ = '.';
			memcpy(p, digits + x + 1, (size_t)(last - x));
			p += last - x;
		}
	}
	*p = '\0';
	return (int)(p - out);
}

/*
 * Jansson's jsonp_dtostr with precision 17: "%.17g", then ".0" when there is
 * neither a dot nor an exponent, and the exponent without its '+' and its
 * leading zeros ("1e+20" -> "1e20", "1e-05" -> "1e-5").
 */
void
textbuf_json_real(struct textbuf *t, double v)
{
	char buf[64], *start, *end;
	size_t len;
	int n;

	if ((n = textbuf_g17(v, buf)) < 0)
		n = snprintf(buf, sizeof buf - 3, "%.17g", v);
	ASSERT(n > 0 && (size_t)n < sizeof buf - 3);
	len = (size_t)n;
	if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) {
		memcpy(buf + len, ".0", 3);
		len += 2;
	}
	if ((start = strchr(buf, 'e')) != NULL) {
		start++;
		end = start + 1;
		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, len - (size_t)(end - buf) + 1);
			len -= (size_t)(end - start);
		}
	}
	textbuf_add(t, buf, len);
}

char *
textbuf_take(struct textbuf *t)
{
	char *s = t->buf != NULL ? t->buf : xstrdup("");

	t->buf = NULL;
	t->len = t->size = 0;
	return s;
}

void
textbuf_free(struct textbuf *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = t->size = 0;
}
