/*
 * csvin.h: the responses CSV reader (docs/interfaces.md, "Responses CSV"),
 * streaming.
 *
 * Bytes are pushed in any chunks; each complete data row is validated against
 * the survey and handed to a callback as a struct response, or reported as an
 * error naming the row (first data row = 1), column (1-based) and reason.
 * Built on libcsv: RFC 4180 quoting, CRLF or LF; blank lines and rows whose fields are all empty (a spreadsheet's ",,,,")
 * are skipped and not counted. Fields are trimmed of spaces and tabs. Column
 * names unit, id, submitted_at, channel, weight, stratum, psu and the
 * respondent. prefix match in any case; item codes match exactly. Memory is
 * bounded by one row (at most CSVIN_ROW_MAX bytes), never by the input.
 *
 * A bad row is reported once per bad field (or once when its number of fields
 * is wrong), counts once in csvin_bad_rows and never reaches the row callback.
 * Header problems (unknown, duplicate or empty column name, no unit column,
 * invalid UTF-8) are all reported with row 0, then reading stops: csvin_push
 * and csvin_finish return -1. So do broken quoting and an over-long row, which
 * leave no way to find the next row.
 *
 * The bytes are decoded first (docs/uploads.md, "File formats"): UTF-8 with
 * or without a BOM, UTF-16LE/BE (by the BOM, or by a NUL in the first two
 * bytes) or, when the first non-ASCII bytes are not UTF-8, Windows-1258;
 * csvin_encoding_set overrides that. Text is normalized to NFC. The delimiter
 * (comma, semicolon or tab) is the one the header row has most of. The first
 * CSVIN_DETECT_MAX bytes may be held until the encoding is decided, and the
 * header row until its end: the decision never depends on how bytes are
 * chunked. A byte that cannot be decoded is an error on its row and column.
 */
#ifndef SIPAS_CSVIN_H
#define SIPAS_CSVIN_H

#include <stddef.h>

#include "sipas/response.h"

/* The longest row accepted, in bytes. */
#define CSVIN_ROW_MAX (1024 * 1024)
/*
 * Columns a header may have beyond the survey's own (unit, id, submitted_at,
 * channel, weight, stratum, psu and one per item): room for this many
 * respondent.<field> columns. A longer header is refused at the first column
 * too many, so that memory follows the survey, not the header.
 */
#define CSVIN_EXTRA_COLUMNS 32

/* Bytes held at most while no non-ASCII byte has decided the encoding. */
#define CSVIN_DETECT_MAX 65536

struct csvin;

/* Everything borrowed, valid during the callback only. */
struct csvin_error {
	long row;     /* data row, first = 1; 0 for the header or the whole file */
	int column;   /* 1-based; 0 when not about one column */
	const char *column_name; /* the column's header text, or NULL */
	const char *reason;	 /* English, saying what to do */
	const char *reason_vi; /* the same in Vietnamese */
};

/* What was read: names as in the upload report, valid as long as the reader. */
struct csvin_format {
	const char *encoding;  /* "utf-8", "utf-16le", "utf-16be", "windows-1258" */
	char delimiter;	       /* ',', ';' or '\t' */
	const char *dates;     /* "iso8601", "dd/mm/yyyy" or "mixed" */
};

/* A good row (response borrowed, valid during the call): 0 goes on, -1 stops. */
typedef int (*csvin_row_cb)(const struct response *, long row, void *arg);
/* A bad field, row or header: return 0 to go on, -1 to stop. */
typedef int (*csvin_error_cb)(const struct csvin_error *, void *arg);

/* A reader for survey (borrowed; must outlive it); either callback may be NULL. */
struct csvin *csvin_create(const struct survey *, csvin_row_cb, csvin_error_cb, void *arg);
/*
 * The rules every good row must pass besides its fields' own (response.h),
 * for a reader of responses that enter the store (upload, import); none until
 * set. A row that fails is reported once, on the column the rule is about (0
 * for answers).
 */
void csvin_rules_set(struct csvin *, const struct response_rules *);
/*
 * Read the input in this encoding (a charset name: utf-8, utf-16, utf-16le,
 * utf-16be, windows-1258 or cp1258, in any case) instead of detecting it;
 * before the first push. 0, or -1 for a name not in that list (with a NULL
 * reader, only the name is checked).
 */
int csvin_encoding_set(struct csvin *, const char *charset);
/* What was detected (or set) so far. */
void csvin_format_get(const struct csvin *, struct csvin_format *);
/* Free a reader; NULL-safe. */
void csvin_free(struct csvin *);
/* Push bytes; -1 once a callback stopped or the input cannot be read on. */
int csvin_push(struct csvin *, const char *buf, size_t len);
/*
 * Push one record already split into fields (a spreadsheet's row): the same
 * header matching, checks, errors and callbacks as a CSV record, without the
 * byte decoding. The fields are taken as they are (no quoting, no BOM);
 * since a spreadsheet does not store empty cells, a row with fewer fields
 * than the header has empty ones after them, and blank fields past the
 * header's last column (or, in the header, after its last name) are
 * dropped. Do not mix with csvin_push on one reader. -1 as csvin_push.
 */
int csvin_push_fields(struct csvin *, const char *const *fields,
    const size_t *lens, int n);
/*
 * End of input; -1 as above, or on an empty file (no header) or an
 * unterminated quote. 0 does not mean every row was good: see csvin_bad_rows.
 */
int csvin_finish(struct csvin *);
/* Data rows seen so far (good and bad), and bad ones. */
long csvin_rows(const struct csvin *);
long csvin_bad_rows(const struct csvin *);
struct csvout;
/*
 * During a callback: the fields of the row being read (the header's names
 * for row 0), trimmed, as one CSV row appended to out without its end, so a
 * rejected row can be handed back as it was sent. Fields past the header's
 * count are not kept and not written.
 */
void csvin_row_write(const struct csvin *, struct csvout *);
/* The header's column names as one CSV row (not ended); nothing before it. */
void csvin_header_write(const struct csvin *, struct csvout *);
/* The 1-based column of the header named field ("unit", "Q9_1", "respondent.age"), or 0. */
int csvin_column_index(const struct csvin *, const char *field);

#endif
