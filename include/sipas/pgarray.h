/*
 * pgarray.h: a PostgreSQL array literal in text form ({"a","b",NULL}), built
 * element by element, for statements that take a whole batch of rows as one
 * array per column (include/sipas/sql_insert.h).
 *
 * Every element is quoted, with its double quotes and backslashes escaped, so
 * any text (JSON included) goes through unchanged; a NULL element is SQL NULL.
 */
#ifndef SIPAS_PGARRAY_H
#define SIPAS_PGARRAY_H

#include <stddef.h>

struct pgarray {
	char *buf;
	size_t len;
	size_t size;
	int n; /* elements so far */
};

/* Start an empty array; s is reused (its buffer kept) when already used. */
void pgarray_reset(struct pgarray *);
/* Append one element: s (text) or NULL (SQL NULL). */
void pgarray_add(struct pgarray *, const char *s);
/* The literal, closed; borrowed until the next reset or free. */
const char *pgarray_text(struct pgarray *);
/* Free the buffer (the struct itself is the caller's). */
void pgarray_free(struct pgarray *);

#endif
