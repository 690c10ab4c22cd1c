/*
 * util.h: memory helpers that never return NULL, small string helpers.
 *
 * Out of memory is the one run-time condition that is fatal (docs/style.md):
 * xmalloc and friends abort with a message instead of returning NULL.
 */
#ifndef SIPAS_UTIL_H
#define SIPAS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

/* A bug: stays on in release builds, aborts with file:line. */
#define ASSERT(x)                                                              \
	do {                                                                   \
		if (!(x))                                                      \
			assert_fail(#x, __FILE__, __LINE__);                   \
	} while (0)

void assert_fail(const char *, const char *, int) __attribute__((noreturn));

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));

/*
 * One UTF-8 code point at *pp (< end), advancing past it; UTF8_INVALID (and
 * one byte) for anything not well formed, as Jansson judges it.
 */
#define UTF8_INVALID 0xffffffffu
uint32_t utf8_next(const unsigned char **pp, const unsigned char *end);
/* 1 if s[0..len) is well-formed UTF-8 (utf8_next) without a NUL. */
int utf8_valid(const char *s, size_t len);
/* The value of the hex digit c (0-9, a-f, A-F), or -1. */
int util_hexval(int c);

/*
 * The Content-Disposition of a download named name (RFC 6266): "attachment;
 * filename=" the name with every byte but A-Z a-z 0-9 . _ - as '_', then,
 * when name is UTF-8, "filename*=UTF-8''" and the name percent-encoded.
 * Caller frees.
 */
char *util_content_disposition(const char *name);

/* Route Jansson's allocations through xmalloc (call once at start). */
void util_jansson_init(void);
json_t *util_json_loadb_scratch(const char *, size_t, size_t, json_error_t *);

/* Read a whole small file (survey definitions, configs); NULL and *cause on error. */
char *util_file_read(const char *path, size_t *lenp, char **cause);

/* Fill buf with len bytes from the kernel's CSPRNG (getrandom): 0, or -1 and
 * errno. */
int util_random_bytes(void *buf, size_t len);

/* Days in month m (1-12) of year y. */
int util_month_days(int y, int m);
/*
 * v with decimals for people, with a decimal comma when comma ("87,53"),
 * "+" on positive values when sign, "–" for NAN or infinity, and never a
 * sign on a value that rounds to zero (no "-0,00"). Returns buf (>= 32 bytes).
 */
char *util_number_format(double v, int decimals, int sign, int comma, char *buf, size_t len);
/* A day YYYY-MM-DD as people read it: "04/12/2026", en "4 Dec 2026"; other text as given. */
char *util_day_text(const char *day, int en, char *buf, size_t len);
/*
 * The period from..to (days, inclusive) in words: "Năm 2025", "6 tháng đầu
 * năm 2025", "6 tháng cuối năm 2025", "Quý I/2025", "Tháng 3/2025", else
 * "01/01/2025 – 15/02/2025"; en: "2025", "H1 2025", "H2 2025", "Q1 2025",
 * "Mar 2025", "1 Jan 2025 – 15 Feb 2025". Returns buf (>= 64 bytes).
 */
char *util_period_text(const char *from, const char *to, int en, char *buf, size_t len);

/* The wall clock in seconds (deadlines and ages of a few seconds). */
double util_now(void);

/*
 * Write s as roff text for a manual page: backslashes and hyphens escaped,
 * a leading dot or quote made literal.
 */
void util_roff_puts(FILE *, const char *s);

#endif
