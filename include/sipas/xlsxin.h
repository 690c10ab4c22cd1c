/*
 * xlsxin.h: the rows of one sheet of an XLSX workbook (Office Open XML),
 * streaming.
 *
 * The workbook is a zip archive read through libzip: random access, so it
 * must be a file (or a buffer), never a pipe. The sheet's XML is inflated in
 * slices and parsed by expat as it comes, so memory is bounded by one row
 * (at most CSVIN_ROW_MAX bytes of text, XLSXIN_COLUMNS_MAX columns) plus the
 * shared-string table (at most strings_max bytes), whatever the sheet's size.
 *
 * A row is handed on as its cells' texts, column A first, the cells a sparse
 * row leaves out as empty texts: numbers as written in the file (5, 1.25),
 * shared and inline strings, booleans as TRUE and FALSE, formula results as
 * cached, error values as written (#N/A). A number in a cell whose number
 * format shows a date or a time is an Excel date serial: it becomes an ISO
 * 8601 time in Vietnam time (2025-04-23T13:59:00+07:00), the clock time the
 * sheet shows. Rows the sheet leaves out are not handed on.
 *
 * Zip bombs: the archive is refused (XLSXIN_TOO_LARGE) when it has more than
 * entries_max entries, when the sizes its central directory declares add up
 * to more than inflated_max bytes, or when an entry declares more than
 * ratio_max times its compressed size (entries under ratio_floor bytes are
 * not held to the ratio). The same limits are enforced on the bytes actually
 * inflated, since declared sizes can lie.
 */
#ifndef SIPAS_XLSXIN_H
#define SIPAS_XLSXIN_H

#include <stddef.h>
#include <stdint.h>

/* Columns A..XFD, the most a sheet has. */
#define XLSXIN_COLUMNS_MAX 16384

struct xlsxin_limits {
	uint64_t inflated_max; /* bytes inflated from all entries read */
	uint64_t ratio_max;    /* inflated : compressed, per entry */
	uint64_t ratio_floor;  /* entries smaller than this: no ratio */
	uint64_t entries_max;  /* entries of the archive */
	size_t strings_max;    /* bytes of the shared-string table */
};

/* The defaults: 256 MiB, 100:1 beyond 1 MiB, 10000 entries, 64 MiB. */
#define XLSXIN_INFLATED_MAX (256ULL * 1024 * 1024)
#define XLSXIN_RATIO_MAX 100
#define XLSXIN_RATIO_FLOOR (1024 * 1024)
#define XLSXIN_ENTRIES_MAX 10000
#define XLSXIN_STRINGS_MAX (64 * 1024 * 1024)
void xlsxin_limits_default(struct xlsxin_limits *);

/* What went wrong. */
enum xlsxin_fail {
	XLSXIN_OK,
	XLSXIN_BAD,	  /* not a zip, not a workbook, broken XML */
	XLSXIN_TOO_LARGE, /* over a limit: a zip bomb, or too big a table */
	XLSXIN_NO_SHEET,  /* no sheet of that name */
	XLSXIN_STOPPED,	  /* the row callback said stop */
};

struct xlsxin;

/* One row (texts borrowed, NUL-terminated, valid during the call): 0 goes on, -1 stops. */
typedef int (*xlsxin_row_cb)(const char *const *fields, const size_t *lens,
    int n, long sheet_row, void *arg);

/*
 * Open the workbook in the file fd (taken: closed by xlsxin_free or on
 * failure) or in buf[0..len) (borrowed, must outlive the reader), and pick
 * the sheet named sheet, or the first sheet when sheet is NULL. NULL on
 * failure with *fail and *cause (caller frees).
 */
struct xlsxin *xlsxin_open_fd(int fd, const char *sheet,
    const struct xlsxin_limits *, enum xlsxin_fail *fail, char **cause);
struct xlsxin *xlsxin_open_buffer(const void *buf, size_t len,
    const char *sheet, const struct xlsxin_limits *, enum xlsxin_fail *fail,
    char **cause);
/* Free a reader; NULL-safe. */
void xlsxin_free(struct xlsxin *);
/* The name of the sheet being read. */
const char *xlsxin_sheet(const struct xlsxin *);
/*
 * Read one slice of the sheet, handing its whole rows to cb: 1 when there is
 * more, 0 at the end (the last row handed on), -1 on failure (xlsxin_failed,
 * xlsxin_cause), or when cb returned -1 (XLSXIN_STOPPED).
 */
int xlsxin_step(struct xlsxin *, xlsxin_row_cb, void *arg);
enum xlsxin_fail xlsxin_failed(const struct xlsxin *);
const char *xlsxin_cause(const struct xlsxin *);
/* Cells read as Excel date serials so far. */
long xlsxin_dates(const struct xlsxin *);

/* 1 if the first bytes (at least 4) look like a zip archive. */
int xlsxin_magic(const void *buf, size_t len);

#endif
