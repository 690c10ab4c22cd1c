/*
 * pgarray.c: PostgreSQL array literals in text form (pgarray.h).
 */
#include "config.h"

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
}

/* One element, quoted and escaped, or NULL. */
void
pgarray_add(struct pgarray *a, const char *s)
{
	size_t slen;
	char *p;

	if (a->len == 0)
		pgarray_reset(a);
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
	a->buf[a->len] = '}';
	a->buf[a->len + 1] = '\0';
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
}
