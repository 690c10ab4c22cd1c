/*
 * pgarray.h: a PostgreSQL array parameter, built element by element, for
 * statements that take a whole batch of rows as one array per column
 * (include/sipas/sql_insert.h).
 *
 * In text form ({"a","b",NULL}) every element is quoted, with its double
 * quotes and backslashes escaped, so any text (JSON included) goes through
 * unchanged; a NULL element is SQL NULL. In binary form (the format of
 * PostgreSQL's array_send, for a parameter sent with format 1) each element
 * is its length and its bytes, so the server copies them instead of parsing
 * a literal: text elements as they are, double precision ones as 8 bytes.
 */
#ifndef SIPAS_PGARRAY_H
#define SIPAS_PGARRAY_H

#include <stddef.h>

struct pgarray {
	char *buf;
	size_t len;
	size_t size;
	int n;		  /* elements so far */
	int binary;	  /* 1: binary form (pgarray_reset_binary) */
	int nulls;	  /* binary form: a NULL element was added */
	unsigned int oid; /* binary form: the elements' type */
};

/* Element types of the binary form (pg_type.oid). */
#define PGARRAY_TEXT 25
#define PGARRAY_FLOAT8 701

/* Start an empty array; s is reused (its buffer kept) when already used. */
void pgarray_reset(struct pgarray *);
/* Append one element: s (text) or NULL (SQL NULL). */
void pgarray_add(struct pgarray *, const char *s);
/* The literal, closed; borrowed until the next reset or free. */
const char *pgarray_text(struct pgarray *);
/*
 * Start an empty array in binary form of elements of type oid (PGARRAY_TEXT
 * or PGARRAY_FLOAT8), keeping the buffer. Then only the calls below.
 */
void pgarray_reset_binary(struct pgarray *, unsigned int oid);
/* Append a text element (binary form): s, or NULL (SQL NULL). */
void pgarray_add_text(struct pgarray *, const char *s);
/* Append a double precision element (binary form). */
void pgarray_add_float8(struct pgarray *, double v);
/* The binary form, *len bytes; borrowed until the next reset or free. */
const char *pgarray_binary(struct pgarray *, int *len);
/* Free the buffer (the struct itself is the caller's). */
void pgarray_free(struct pgarray *);

#endif
