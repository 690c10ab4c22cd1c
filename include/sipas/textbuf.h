/*
 * textbuf.h: a growable byte buffer for text built piece by piece, with the
 * JSON pieces the hot paths write without building a Jansson tree first.
 *
 * textbuf_json_string and textbuf_json_real write exactly what Jansson's
 * json_dumps writes for a string and for a real of 17 significant digits,
 * so text built here may stand for text Jansson built (the content hash of
 * a response depends on it: tests/unit/test_response checks both agree).
 */
#ifndef SIPAS_TEXTBUF_H
#define SIPAS_TEXTBUF_H

#include <stddef.h>

struct textbuf {
	char *buf;	/* NUL-terminated once anything was added */
	size_t len;
	size_t size;
};

/* Empty it; the buffer is kept for reuse. */
void textbuf_reset(struct textbuf *);
/* Room for n more bytes and the NUL at buf + len (to write in place). */
void textbuf_grow(struct textbuf *, size_t n);
void textbuf_add(struct textbuf *, const char *s, size_t n);
void textbuf_puts(struct textbuf *, const char *s);
void textbuf_addc(struct textbuf *, char c);
void textbuf_int(struct textbuf *, long long v);
/* s (valid UTF-8) as a JSON string, quoted and escaped as Jansson does. */
void textbuf_json_string(struct textbuf *, const char *s);
/* v (finite) as Jansson writes a real with JSON_REAL_PRECISION(17). */
void textbuf_json_real(struct textbuf *, double v);
/* The text, handed over (the buffer is the caller's to free); "" if empty. */
char *textbuf_take(struct textbuf *);
void textbuf_free(struct textbuf *);

#endif
