/*
 * textbuf.c: a growable text buffer and Jansson-identical JSON pieces
 * (textbuf.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipas/textbuf.h"
#include "sipas/util.h"

/* Room for n more bytes and the NUL. */
static void
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
