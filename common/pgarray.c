/*
 * pgarray.c: PostgreSQL array parameters in text and binary form (pgarray.h).
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "sipas/pgarray.h"
#include "sipas/util.h"

/* Room for need more bytes (and the closing brace and NUL). */
static void
pgarray_grow(struct pgarray *a, size_t need)
{
	size_t size = a->size != 0 ? a->size : 256;

	if (a->len + need + 2 <= a->size)
		return;
	while (a->len + need + 2 > size)
		size *= 2;
	a->buf = xreallocarray(a->buf, size, 1);
	a->size = size;
}

/* Start an empty array, keeping the buffer. */
void
pgarray_reset(struct pgarray *a)
{
	pgarray_grow(a, 1);
	a->buf[0] = '{';
	a->len = 1;
	a->n = 0;
	a->binary = 0;
}

/* One element, quoted and escaped, or NULL. */
void
pgarray_add(struct pgarray *a, const char *s)
{
	size_t slen;
	char *p;

	if (a->len == 0)
		pgarray_reset(a);
	ASSERT(!a->binary);
	if (s == NULL) {
		pgarray_grow(a, 5);
		memcpy(a->buf + a->len, a->n > 0 ? ",NULL" : "NULL",
		    a->n > 0 ? 5 : 4);
		a->len += a->n > 0 ? 5 : 4;
		a->n++;
		return;
	}
	/* At worst every byte escaped, plus a comma and two quotes. */
	slen = strlen(s);
	pgarray_grow(a, 2 * slen + 3);
	p = a->buf + a->len;
	if (a->n > 0)
		*p++ = ',';
	*p++ = '"';
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			*p++ = '\\';
		*p++ = *s;
	}
	*p++ = '"';
	a->len = (size_t)(p - a->buf);
	a->n++;
}

/* Close the literal (it stays open for more elements until reset). */
const char *
pgarray_text(struct pgarray *a)
{
	if (a->len == 0)
		pgarray_reset(a);
	ASSERT(!a->binary);
	a->buf[a->len] = '}';
	a->buf[a->len + 1] = '\0';
	return a->buf;
}

/* --- binary form --- */

/*
 * The header of the binary form: dimensions (1), a NULL flag, the element
 * type, then the one dimension's length and lower bound (1).
 */
#define PGARRAY_HEADER 20

/* v as 4 bytes, most significant first, at p. */
static void
pgarray_put32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

/* Start an empty binary array of elements of type oid. */
void
pgarray_reset_binary(struct pgarray *a, unsigned int oid)
{
	pgarray_grow(a, PGARRAY_HEADER);
	a->len = PGARRAY_HEADER;
	a->n = 0;
	a->binary = 1;
	a->nulls = 0;
	a->oid = oid;
}

/* One element of len bytes, or NULL for SQL NULL. */
static void
pgarray_add_bytes(struct pgarray *a, const void *p, size_t len)
{
	ASSERT(a->binary && len <= INT32_MAX);
	pgarray_grow(a, 4 + (p != NULL ? len : 0));
	if (p == NULL) {
		pgarray_put32(a->buf + a->len, UINT32_MAX); /* -1 */
		a->len += 4;
		a->nulls = 1;
	} else {
		pgarray_put32(a->buf + a->len, (uint32_t)len);
		if (len > 0)
			memcpy(a->buf + a->len + 4, p, len);
		a->len += 4 + len;
	}
	a->n++;
}

void
pgarray_add_text(struct pgarray *a, const char *s)
{
	ASSERT(a->oid == PGARRAY_TEXT);
	pgarray_add_bytes(a, s, s != NULL ? strlen(s) : 0);
}

/* float8send: the IEEE 754 bits, most significant byte first. */
void
pgarray_add_float8(struct pgarray *a, double v)
{
	uint64_t bits;
	char b[8];

	ASSERT(a->oid == PGARRAY_FLOAT8);
	memcpy(&bits, &v, sizeof bits);
	pgarray_put32(b, (uint32_t)(bits >> 32));
	pgarray_put32(b + 4, (uint32_t)bits);
	pgarray_add_bytes(a, b, sizeof b);
}

/* The header written, the whole array. */
const char *
pgarray_binary(struct pgarray *a, int *len)
{
	ASSERT(a->binary && a->len <= INT_MAX);
	pgarray_put32(a->buf, 1);
	pgarray_put32(a->buf + 4, (uint32_t)a->nulls);
	pgarray_put32(a->buf + 8, a->oid);
	pgarray_put32(a->buf + 12, (uint32_t)a->n);
	pgarray_put32(a->buf + 16, 1);
	*len = (int)a->len;
	return a->buf;
}

/* Free the buffer. */
void
pgarray_free(struct pgarray *a)
{
	free(a->buf);
	a->buf = NULL;
	a->len = a->size = 0;
	a->n = 0;
	a->binary = 0;
}
