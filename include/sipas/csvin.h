/*
 * csvin.h: the responses CSV reader (interfaces.md section 3), streaming.
 *
 * Bytes are pushed in any chunks; each complete data row is validated against
 * the survey and handed to a callback as a struct response, or reported as an
 * error naming the row (first data row = 1), column (1-based) and reason.
 * Built on libcsv: RFC 4180 quoting, CRLF or LF, a UTF-8 BOM is skipped.
 */
#ifndef SIPAS_CSVIN_H
#define SIPAS_CSVIN_H

#include <stddef.h>

#include "sipas/response.h"

struct csvin;

struct csvin_error {
	long row;     /* data row, first = 1; 0 for the header or the whole file */
	int column;   /* 1-based; 0 when not about one column */
	const char *column_name; /* or NULL */
	const char *reason;
};

/* A good row: return 0 to go on, -1 to stop reading. */
typedef int (*csvin_row_cb)(const struct response *, long row, void *arg);
/* A bad row (or bad header): return 0 to go on, -1 to stop. */
typedef int (*csvin_error_cb)(const struct csvin_error *, void *arg);

struct csvin *csvin_create(const struct survey *, csvin_row_cb, csvin_error_cb, void *arg);
void csvin_free(struct csvin *);
/* Push bytes; -1 when a callback stopped or the header was unusable. */
int csvin_push(struct csvin *, const char *buf, size_t len);
/* End of input; -1 as above, or on an empty file or an unterminated quote. */
int csvin_finish(struct csvin *);
/* Rows seen so far (good and bad), and bad ones. */
long csvin_rows(const struct csvin *);
long csvin_bad_rows(const struct csvin *);

#endif
