/*
 * xlsxin.c: the rows of one sheet of an XLSX workbook, streaming
 * (include/sipas/xlsxin.h).
 *
 * libzip gives the archive's entries; each part is inflated in slices of
 * XLSXIN_SLICE bytes, every slice counted against the limits, and handed to
 * expat. The small parts are read whole at open: xl/workbook.xml (the
 * sheets' names, the 1904 date system), its relationships (which entry holds
 * the chosen sheet), xl/styles.xml (which cell styles show a date) and
 * xl/sharedStrings.xml (kept, up to strings_max bytes). The sheet itself is
 * read one slice per xlsxin_step, and only the row being read is kept.
 * Documents with a DOCTYPE are refused, so no entity is ever expanded.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <expat.h>
#include <zip.h>

#include "sipas/response.h"
#include "sipas/util.h"
#include "sipas/xlsxin.h"

/* Bytes inflated and parsed at a time. */
#define XLSXIN_SLICE 16384
/* The most text of one row, and of one cell of the small parts. */
#define XLSXIN_ROW_MAX (1024 * 1024)
/* Sheet names listed when the one asked for is not there. */
#define XLSXIN_NAMES_MAX 512
/* Custom number formats and cell styles remembered. */
#define XLSXIN_FORMATS_MAX 4096
#define XLSXIN_STYLES_MAX 65536
/* Expat's name separator: namespace URI, then the local name. */
#define XLSXIN_NS_SEP '|'
/* The largest Excel date serial: 9999-12-31. */
#define XLSXIN_SERIAL_MAX 2958466.0
/* Vietnam time, in minutes east of UTC. */
#define XLSXIN_TZ_MINUTES (7 * 60)

enum xlsxin_part {
	XLSXIN_WORKBOOK,
	XLSXIN_RELS,
	XLSXIN_STYLES,
	XLSXIN_STRINGS,
	XLSXIN_SHEET,
};

/* An entry being inflated. */
struct xlsxin_entry {
	zip_file_t *zf;
	char *name;
	uint64_t bytes; /* inflated so far */
	uint64_t comp;	/* its compressed size */
};

struct xlsxin {
	zip_t *zip;
	struct xlsxin_limits lim;
	uint64_t inflated; /* from every entry read */
	enum xlsxin_fail fail;
	char *cause;
	enum xlsxin_part part;
	XML_Parser parser;

	/* xl/workbook.xml and its relationships. */
	const char *want;  /* the sheet asked for, or NULL */
	char *sheet;	   /* the sheet chosen */
	char *sheet_rid;
	char *sheet_path;
	char names[XLSXIN_NAMES_MAX];
	int date1904;

	/* xl/styles.xml: custom date formats, then a flag per cell style. */
	int *date_fmts;
	int ndate_fmts;
	unsigned char *xf_date;
	size_t nxf;
	int in_numfmts, in_cellxfs;

	/* xl/sharedStrings.xml: the texts one after another, NUL-terminated. */
	char *sst;
	size_t sstlen, sstalloc;
	size_t *sst_off;
	size_t nsst, sstoffalloc;
	int in_si, in_rph;

	/* Text of the element being read (cell value, string). */
	char *text;
	size_t textlen, textalloc, textmax;
	int collect;

	/* The sheet: the row being read. */
	struct xlsxin_entry sheet_entry;
	int done;
	long row_no;
	char *buf;	/* the row's cell texts, NUL-terminated */
	size_t buflen, bufalloc;
	size_t *offs, *lens;
	const char **fields;
	int ncells, cellalloc;
	int cell_col;
	char cell_ref[16];
	char cell_type; /* n, s, b, e, i (inline), S (str), d */
	long cell_style;
	int in_v, in_is, in_t;
	long dates;
	xlsxin_row_cb cb;
	void *arg;
};

/* The defaults of xlsxin.h. */
void
xlsxin_limits_default(struct xlsxin_limits *lim)
{
	lim->inflated_max = XLSXIN_INFLATED_MAX;
	lim->ratio_max = XLSXIN_RATIO_MAX;
	lim->ratio_floor = XLSXIN_RATIO_FLOOR;
	lim->entries_max = XLSXIN_ENTRIES_MAX;
	lim->strings_max = XLSXIN_STRINGS_MAX;
}

/* 1 if buf starts with a zip local file header. */
int
xlsxin_magic(const void *buf, size_t len)
{
	return len >= 4 && memcmp(buf, "PK\003\004", 4) == 0;
}

/* Record the first failure; later ones are consequences. */
static void __attribute__((format(printf, 3, 4)))
xlsxin_fail(struct xlsxin *x, enum xlsxin_fail fail, const char *fmt, ...)
{
	va_list ap;

	if (x->fail != XLSXIN_OK)
		return;
	x->fail = fail;
	va_start(ap, fmt);
	if (vasprintf(&x->cause, fmt, ap) < 0)
		ASSERT(0);
	va_end(ap);
	if (x->parser != NULL)
		XML_StopParser(x->parser, XML_FALSE);
}

/* The local part of an expat name ("uri|row" -> "row"). */
static const char *
xlsxin_local(const char *name)
{
	const char *p = strrchr(name, XLSXIN_NS_SEP);

	return p != NULL ? p + 1 : name;
}

/* The value of the attribute with local name name, or NULL. */
static const char *
xlsxin_attr(const char **attrs, const char *name)
{
	int i;

	for (i = 0; attrs[i] != NULL; i += 2) {
		if (strcmp(xlsxin_local(attrs[i]), name) == 0)
			return attrs[i + 1];
	}
	return NULL;
}

/* A non-negative decimal integer, or -1. */
static long
xlsxin_index(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return v;
}

/* Start collecting an element's text, at most max bytes. */
static void
xlsxin_collect(struct xlsxin *x, size_t max)
{
	x->textlen = 0;
	x->textmax = max;
	x->collect = 1;
}

/* expat: text. */
static void
xlsxin_chars(void *arg, const XML_Char *s, int len)
{
	struct xlsxin *x = arg;

	if (!x->collect || len <= 0 || x->fail != XLSXIN_OK)
		return;
	if (x->part == XLSXIN_SHEET && x->in_is && (!x->in_t || x->in_rph))
		return;
	if (x->part == XLSXIN_STRINGS && (!x->in_t || x->in_rph))
		return;
	if (x->textlen + (size_t)len + 1 > x->textmax) {
		if (x->part == XLSXIN_STRINGS)
			xlsxin_fail(x, XLSXIN_TOO_LARGE, "the shared strings "
			    "are more than %zu bytes: split the workbook",
			    x->lim.strings_max);
		else
			xlsxin_fail(x, XLSXIN_BAD, "row %ld is longer than %d "
			    "bytes", x->row_no, XLSXIN_ROW_MAX);
		return;
	}
	if (x->textlen + (size_t)len + 1 > x->textalloc) {
		while (x->textlen + (size_t)len + 1 > x->textalloc)
			x->textalloc = x->textalloc == 0 ? 256 : x->textalloc * 2;
		x->text = xreallocarray(x->text, x->textalloc, 1);
	}
	memcpy(x->text + x->textlen, s, len);
	x->textlen += len;
	x->text[x->textlen] = '\0';
}

/*
 * 1 if a number format shows a date or a time: a y, m, d, h or s outside
 * quoted text, escapes and brackets, or an elapsed time ([h], [mm], [ss]).
 */
static int
xlsxin_format_is_date(const char *f)
{
	const char *end;
	size_t n;

	for (; *f != '\0'; f++) {
		switch (*f) {
		case '"':
			if ((end = strchr(f + 1, '"')) == NULL)
				return 0;
			f = end;
			break;
		case '\\':
		case '_':
		case '*':
			if (f[1] != '\0')
				f++;
			break;
		case '[':
			if ((end = strchr(f + 1, ']')) == NULL)
				return 0;
			n = strspn(f + 1, "hHmMsS");
			if (n > 0 && f + 1 + n == end)
				return 1;
			f = end;
			break;
		case 'y': case 'Y': case 'm': case 'M': case 'd': case 'D':
		case 'h': case 'H': case 's': case 'S':
			return 1;
		}
	}
	return 0;
}

/* 1 if the number format numFmtId shows a date (built in, or custom). */
static int
xlsxin_fmt_is_date(const struct xlsxin *x, long id)
{
	int i;

	if ((id >= 14 && id <= 22) || (id >= 27 && id <= 36) ||
	    (id >= 45 && id <= 47) || (id >= 50 && id <= 58))
		return 1;
	for (i = 0; i < x->ndate_fmts; i++) {
		if (x->date_fmts[i] == id)
			return 1;
	}
	return 0;
}

/* xl/workbook.xml: the sheets. */
static void
xlsxin_workbook_start(struct xlsxin *x, const char *name, const char **attrs)
{
	const char *v, *rid;
	size_t len;

	if (strcmp(name, "workbookPr") == 0) {
		v = xlsxin_attr(attrs, "date1904");
		x->date1904 = v != NULL && (strcmp(v, "1") == 0 ||
		    strcasecmp(v, "true") == 0);
		return;
	}
	if (strcmp(name, "sheet") != 0)
		return;
	v = xlsxin_attr(attrs, "name");
	rid = xlsxin_attr(attrs, "id");
	if (v == NULL || rid == NULL)
		return;
	len = strlen(x->names);
	if (len + strlen(v) + 3 < sizeof x->names)
		snprintf(x->names + len, sizeof x->names - len, "%s%s",
		    len > 0 ? ", " : "", v);
	if (x->sheet == NULL && (x->want == NULL || strcmp(x->want, v) == 0)) {
		x->sheet = xstrdup(v);
		x->sheet_rid = xstrdup(rid);
	}
}

/* xl/_rels/workbook.xml.rels: the entry of the chosen sheet. */
static void
xlsxin_rels_start(struct xlsxin *x, const char *name, const char **attrs)
{
	const char *id, *target;

	if (strcmp(name, "Relationship") != 0 || x->sheet_path != NULL)
		return;
	id = xlsxin_attr(attrs, "Id");
	target = xlsxin_attr(attrs, "Target");
	if (id == NULL || target == NULL || strcmp(id, x->sheet_rid) != 0)
		return;
	if (*target == '/')
		x->sheet_path = xstrdup(target + 1);
	else
		xasprintf(&x->sheet_path, "xl/%s", target);
}

/* xl/styles.xml: custom date formats, the cell styles that show a date. */
static void
xlsxin_styles_start(struct xlsxin *x, const char *name, const char **attrs)
{
	const char *code;
	long id;

	if (strcmp(name, "numFmts") == 0)
		x->in_numfmts = 1;
	else if (strcmp(name, "cellXfs") == 0)
		x->in_cellxfs = 1;
	else if (x->in_numfmts && strcmp(name, "numFmt") == 0) {
		id = xlsxin_index(xlsxin_attr(attrs, "numFmtId"));
		code = xlsxin_attr(attrs, "formatCode");
		if (id < 0 || code == NULL || !xlsxin_format_is_date(code) ||
		    x->ndate_fmts >= XLSXIN_FORMATS_MAX)
			return;
		x->date_fmts = xreallocarray(x->date_fmts, x->ndate_fmts + 1,
		    sizeof *x->date_fmts);
		x->date_fmts[x->ndate_fmts++] = (int)id;
	} else if (x->in_cellxfs && strcmp(name, "xf") == 0) {
		if (x->nxf >= XLSXIN_STYLES_MAX)
			return;
		id = xlsxin_index(xlsxin_attr(attrs, "numFmtId"));
		x->xf_date = xreallocarray(x->xf_date, x->nxf + 1, 1);
		x->xf_date[x->nxf++] = id >= 0 && xlsxin_fmt_is_date(x, id);
	}
}

/* xl/sharedStrings.xml: <si> holds <t>, or rich runs <r><t>; not <rPh>. */
static void
xlsxin_strings_start(struct xlsxin *x, const char *name)
{
	if (strcmp(name, "si") == 0) {
		x->in_si = 1;
		xlsxin_collect(x, x->lim.strings_max + 1);
	} else if (strcmp(name, "rPh") == 0)
		x->in_rph = 1;
	else if (strcmp(name, "t") == 0)
		x->in_t = 1;
}

/* The end of a shared string: keep it. */
static void
xlsxin_strings_end(struct xlsxin *x, const char *name)
{
	size_t need;

	if (strcmp(name, "rPh") == 0)
		x->in_rph = 0;
	else if (strcmp(name, "t") == 0)
		x->in_t = 0;
	if (strcmp(name, "si") != 0 || !x->in_si)
		return;
	x->in_si = 0;
	x->collect = 0;
	need = x->sstlen + x->textlen + 1;
	if (need + (x->nsst + 1) * sizeof *x->sst_off > x->lim.strings_max) {
		xlsxin_fail(x, XLSXIN_TOO_LARGE, "the shared strings are more "
		    "than %zu bytes: split the workbook", x->lim.strings_max);
		return;
	}
	if (need > x->sstalloc) {
		while (need > x->sstalloc)
			x->sstalloc = x->sstalloc == 0 ? 4096 : x->sstalloc * 2;
		x->sst = xreallocarray(x->sst, x->sstalloc, 1);
	}
	if (x->nsst == x->sstoffalloc) {
		x->sstoffalloc = x->sstoffalloc == 0 ? 256 : x->sstoffalloc * 2;
		x->sst_off = xreallocarray(x->sst_off, x->sstoffalloc,
		    sizeof *x->sst_off);
	}
	if (x->textlen > 0)
		memcpy(x->sst + x->sstlen, x->text, x->textlen);
	x->sst[x->sstlen + x->textlen] = '\0';
	x->sst_off[x->nsst++] = x->sstlen;
	x->sstlen = need;
}

/* A cell reference (C7): the 0-based column, or -1. */
static int
xlsxin_ref_column(const char *ref)
{
	int col = 0, n = 0;

	for (; *ref >= 'A' && *ref <= 'Z'; ref++) {
		if (++n > 3)
			return -1;
		col = col * 26 + (*ref - 'A' + 1);
	}
	if (n == 0 || *ref < '1' || *ref > '9')
		return -1;
	while (*ref >= '0' && *ref <= '9')
		ref++;
	if (*ref != '\0')
		return -1;
	return col - 1;
}

/* The sheet: a row, a cell, its value. */
static void
xlsxin_sheet_start(struct xlsxin *x, const char *name, const char **attrs)
{
	const char *v;
	long r;
	int col;

	if (strcmp(name, "row") == 0) {
		r = xlsxin_index(xlsxin_attr(attrs, "r"));
		x->row_no = r > 0 ? r : x->row_no + 1;
		x->ncells = 0;
		x->buflen = 0;
		return;
	}
	if (strcmp(name, "c") == 0) {
		v = xlsxin_attr(attrs, "r");
		if (v == NULL) {
			col = x->ncells;
			snprintf(x->cell_ref, sizeof x->cell_ref, "%d:%ld",
			    col + 1, x->row_no);
		} else {
			col = xlsxin_ref_column(v);
			snprintf(x->cell_ref, sizeof x->cell_ref, "%s", v);
			if (col < 0) {
				xlsxin_fail(x, XLSXIN_BAD, "row %ld: the cell "
				    "reference \"%.12s\" is not valid",
				    x->row_no, v);
				return;
			}
		}
		if (col >= XLSXIN_COLUMNS_MAX) {
			xlsxin_fail(x, XLSXIN_BAD, "row %ld has more than %d "
			    "columns", x->row_no, XLSXIN_COLUMNS_MAX);
			return;
		}
		if (col < x->ncells) {
			xlsxin_fail(x, XLSXIN_BAD, "cell %s: the cells of row "
			    "%ld are not in column order", x->cell_ref,
			    x->row_no);
			return;
		}
		x->cell_col = col;
		v = xlsxin_attr(attrs, "t");
		if (v == NULL || strcmp(v, "n") == 0)
			x->cell_type = 'n';
		else if (strcmp(v, "inlineStr") == 0)
			x->cell_type = 'i';
		else if (strcmp(v, "str") == 0)
			x->cell_type = 'S';
		else
			x->cell_type = *v;
		x->cell_style = xlsxin_index(xlsxin_attr(attrs, "s"));
		x->textlen = 0;
		x->collect = 0;
		return;
	}
	if (strcmp(name, "v") == 0 && x->cell_type != 'i') {
		x->in_v = 1;
		xlsxin_collect(x, XLSXIN_ROW_MAX);
	} else if (strcmp(name, "is") == 0) {
		x->in_is = 1;
		xlsxin_collect(x, XLSXIN_ROW_MAX);
	} else if (strcmp(name, "t") == 0)
		x->in_t = 1;
	else if (strcmp(name, "rPh") == 0)
		x->in_rph = 1;
}

/*
 * An Excel date serial as ISO 8601 at +07:00 into out (32 bytes): 0, or -1
 * if text is not a serial of a day 1900..9999. Day 1 is 1900-01-01 and day
 * 60 the 1900-02-29 Excel counts (as 1900-03-01 here); in the 1904 system
 * day 0 is 1904-01-01.
 */
static int
xlsxin_serial(const struct xlsxin *x, const char *text, char *out)
{
	char *end;
	double v;
	int64_t secs, day, base;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < 0 || v >= XLSXIN_SERIAL_MAX)
		return -1;
	secs = llround(v * 86400.0);
	day = secs / 86400;
	if (x->date1904)
		base = time_day_number(1904, 1, 1);
	else if (day < 61)
		base = time_day_number(1899, 12, 31);
	else
		base = time_day_number(1899, 12, 30);
	time_format_iso8601((base + day) * 86400 + secs % 86400 -
	    XLSXIN_TZ_MINUTES * 60, XLSXIN_TZ_MINUTES, out);
	return 0;
}

/* Put text at the current cell's column, empty cells before it. */
static void
xlsxin_cell_put(struct xlsxin *x, const char *text, size_t len)
{
	int col = x->cell_col, j;

	if (x->buflen + len + 1 > XLSXIN_ROW_MAX) {
		xlsxin_fail(x, XLSXIN_BAD, "row %ld is longer than %d bytes",
		    x->row_no, XLSXIN_ROW_MAX);
		return;
	}
	if (x->buflen + len + 1 > x->bufalloc) {
		while (x->buflen + len + 1 > x->bufalloc)
			x->bufalloc = x->bufalloc == 0 ? 4096 : x->bufalloc * 2;
		x->buf = xreallocarray(x->buf, x->bufalloc, 1);
	}
	if (col >= x->cellalloc) {
		while (col >= x->cellalloc)
			x->cellalloc = x->cellalloc == 0 ? 64 : x->cellalloc * 2;
		x->offs = xreallocarray(x->offs, x->cellalloc, sizeof *x->offs);
		x->lens = xreallocarray(x->lens, x->cellalloc, sizeof *x->lens);
		x->fields = xreallocarray(x->fields, x->cellalloc,
		    sizeof *x->fields);
	}
	for (j = x->ncells; j < col; j++) {
		x->offs[j] = 0;
		x->lens[j] = 0;
	}
	if (len > 0)
		memcpy(x->buf + x->buflen, text, len);
	x->buf[x->buflen + len] = '\0';
	x->offs[col] = x->buflen;
	x->lens[col] = len;
	x->buflen += len + 1;
	x->ncells = col + 1;
}

/* The end of a cell: its text by its type. */
static void
xlsxin_cell_end(struct xlsxin *x)
{
	const char *text = x->textlen > 0 ? x->text : "";
	char when[32];
	long i;

	switch (x->cell_type) {
	case 's':
		i = xlsxin_index(text);
		if (i < 0 || (size_t)i >= x->nsst) {
			xlsxin_fail(x, XLSXIN_BAD, "cell %s: shared string "
			    "\"%.20s\" does not exist", x->cell_ref, text);
			return;
		}
		text = x->sst + x->sst_off[i];
		xlsxin_cell_put(x, text, strlen(text));
		return;
	case 'b':
		if (x->textlen == 0)
			break;
		text = strcmp(text, "0") == 0 ? "FALSE" : "TRUE";
		xlsxin_cell_put(x, text, strlen(text));
		return;
	case 'n':
		if (x->textlen > 0 && x->cell_style >= 0 &&
		    (size_t)x->cell_style < x->nxf && x->xf_date[x->cell_style] &&
		    xlsxin_serial(x, text, when) == 0) {
			x->dates++;
			xlsxin_cell_put(x, when, strlen(when));
			return;
		}
		break;
	}
	xlsxin_cell_put(x, text, x->textlen);
}

/* The end of a row: hand it on. */
static void
xlsxin_row_end(struct xlsxin *x)
{
	int j;

	if (x->ncells == 0 || x->cb == NULL)
		return;
	for (j = 0; j < x->ncells; j++)
		x->fields[j] = x->lens[j] > 0 ? x->buf + x->offs[j] : "";
	if (x->cb(x->fields, x->lens, x->ncells, x->row_no, x->arg) != 0)
		xlsxin_fail(x, XLSXIN_STOPPED, "stopped");
}

static void
xlsxin_sheet_end(struct xlsxin *x, const char *name)
{
	if (strcmp(name, "v") == 0) {
		x->in_v = 0;
		x->collect = 0;
	} else if (strcmp(name, "is") == 0) {
		x->in_is = 0;
		x->collect = 0;
	} else if (strcmp(name, "t") == 0)
		x->in_t = 0;
	else if (strcmp(name, "rPh") == 0)
		x->in_rph = 0;
	else if (strcmp(name, "c") == 0)
		xlsxin_cell_end(x);
	else if (strcmp(name, "row") == 0)
		xlsxin_row_end(x);
}

/* expat: an element starts. */
static void
xlsxin_start(void *arg, const XML_Char *qname, const XML_Char **attrs)
{
	struct xlsxin *x = arg;
	const char *name = xlsxin_local(qname);

	if (x->fail != XLSXIN_OK)
		return;
	switch (x->part) {
	case XLSXIN_WORKBOOK:
		xlsxin_workbook_start(x, name, attrs);
		break;
	case XLSXIN_RELS:
		xlsxin_rels_start(x, name, attrs);
		break;
	case XLSXIN_STYLES:
		xlsxin_styles_start(x, name, attrs);
		break;
	case XLSXIN_STRINGS:
		xlsxin_strings_start(x, name);
		break;
	case XLSXIN_SHEET:
		xlsxin_sheet_start(x, name, attrs);
		break;
	}
}

/* expat: an element ends. */
static void
xlsxin_end(void *arg, const XML_Char *qname)
{
	struct xlsxin *x = arg;
	const char *name = xlsxin_local(qname);

	if (x->fail != XLSXIN_OK)
		return;
	switch (x->part) {
	case XLSXIN_STYLES:
		if (strcmp(name, "numFmts") == 0)
			x->in_numfmts = 0;
		else if (strcmp(name, "cellXfs") == 0)
			x->in_cellxfs = 0;
		break;
	case XLSXIN_STRINGS:
		xlsxin_strings_end(x, name);
		break;
	case XLSXIN_SHEET:
		xlsxin_sheet_end(x, name);
		break;
	default:
		break;
	}
}

/* expat: a DOCTYPE (entities could expand without bound): refused. */
static void
xlsxin_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	struct xlsxin *x = arg;

	xlsxin_fail(x, XLSXIN_BAD, "a part of the workbook has a DOCTYPE, "
	    "which a spreadsheet never writes");
}

/* A new expat parser for part. */
static void
xlsxin_parser(struct xlsxin *x, enum xlsxin_part part)
{
	if (x->parser != NULL)
		XML_ParserFree(x->parser);
	x->parser = XML_ParserCreateNS(NULL, XLSXIN_NS_SEP);
	ASSERT(x->parser != NULL);
	x->part = part;
	x->collect = 0;
	x->in_t = x->in_rph = 0;
	XML_SetUserData(x->parser, x);
	XML_SetElementHandler(x->parser, xlsxin_start, xlsxin_end);
	XML_SetCharacterDataHandler(x->parser, xlsxin_chars);
	XML_SetStartDoctypeDeclHandler(x->parser, xlsxin_doctype);
}

/* Open entry name for reading: 0, -1 if absent (reported when required). */
static int
xlsxin_entry_open(struct xlsxin *x, struct xlsxin_entry *e, const char *name,
    int required)
{
	zip_stat_t st;
	zip_int64_t i;

	memset(e, 0, sizeof *e);
	if ((i = zip_name_locate(x->zip, name, 0)) < 0) {
		if (required)
			xlsxin_fail(x, XLSXIN_BAD, "the workbook has no %s: "
			    "not an XLSX file", name);
		return -1;
	}
	zip_stat_init(&st);
	if (zip_stat_index(x->zip, (zip_uint64_t)i, 0, &st) != 0 ||
	    (e->zf = zip_fopen_index(x->zip, (zip_uint64_t)i, 0)) == NULL) {
		xlsxin_fail(x, XLSXIN_BAD, "%s cannot be read: %s", name,
		    zip_strerror(x->zip));
		return -1;
	}
	e->name = xstrdup(name);
	e->comp = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 0;
	return 0;
}

static void
xlsxin_entry_close(struct xlsxin_entry *e)
{
	if (e->zf != NULL)
		zip_fclose(e->zf);
	free(e->name);
	memset(e, 0, sizeof *e);
}

/* Inflate up to n bytes of e, held to the limits: bytes, or -1. */
static zip_int64_t
xlsxin_entry_read(struct xlsxin *x, struct xlsxin_entry *e, char *buf,
    size_t n)
{
	zip_int64_t got;
	uint64_t comp = e->comp > 0 ? e->comp : 1;

	if ((got = zip_fread(e->zf, buf, n)) < 0) {
		xlsxin_fail(x, XLSXIN_BAD, "%s cannot be inflated: %s", e->name,
		    zip_file_strerror(e->zf));
		return -1;
	}
	e->bytes += (uint64_t)got;
	x->inflated += (uint64_t)got;
	if (x->inflated > x->lim.inflated_max) {
		xlsxin_fail(x, XLSXIN_TOO_LARGE, "the workbook inflates to "
		    "more than %llu bytes (a zip bomb, or too big a sheet): "
		    "save it again without unused content, or split it",
		    (unsigned long long)x->lim.inflated_max);
		return -1;
	}
	if (e->bytes > x->lim.ratio_floor && e->bytes / comp > x->lim.ratio_max) {
		xlsxin_fail(x, XLSXIN_TOO_LARGE, "%s inflates more than %llu "
		    "times its compressed size (a zip bomb?): save the workbook "
		    "again from the spreadsheet program, or upload CSV UTF-8",
		    e->name, (unsigned long long)x->lim.ratio_max);
		return -1;
	}
	return got;
}

/* Feed n bytes (0: the end) to the part's parser; -1 on failure. */
static int
xlsxin_parse(struct xlsxin *x, const char *what, const char *buf, size_t n)
{
	if (XML_Parse(x->parser, buf, (int)n, n == 0) != XML_STATUS_ERROR)
		return x->fail != XLSXIN_OK ? -1 : 0;
	if (x->fail == XLSXIN_OK)
		xlsxin_fail(x, XLSXIN_BAD, "%s is not well-formed XML (line "
		    "%lu: %s)", what, (unsigned long)XML_GetCurrentLineNumber(
		    x->parser), XML_ErrorString(XML_GetErrorCode(x->parser)));
	return -1;
}

/* Read a whole small part through part's handlers: 0, 1 if absent, -1. */
static int
xlsxin_part_read(struct xlsxin *x, const char *name, enum xlsxin_part part,
    int required)
{
	struct xlsxin_entry e;
	char buf[XLSXIN_SLICE];
	zip_int64_t n;
	int rc = 0;

	if (xlsxin_entry_open(x, &e, name, required) != 0)
		return x->fail != XLSXIN_OK ? -1 : 1;
	xlsxin_parser(x, part);
	do {
		if ((n = xlsxin_entry_read(x, &e, buf, sizeof buf)) < 0 ||
		    xlsxin_parse(x, name, buf, (size_t)n) != 0) {
			rc = -1;
			break;
		}
	} while (n > 0);
	xlsxin_entry_close(&e);
	return rc;
}

/* The central directory against the limits. */
static int
xlsxin_directory(struct xlsxin *x)
{
	zip_int64_t n, i;
	zip_stat_t st;
	uint64_t total = 0, comp;

	n = zip_get_num_entries(x->zip, 0);
	if (n < 0 || (uint64_t)n > x->lim.entries_max) {
		xlsxin_fail(x, XLSXIN_TOO_LARGE, "the workbook has more than "
		    "%llu entries (a zip bomb?): save it again from the "
		    "spreadsheet program", (unsigned long long)x->lim.entries_max);
		return -1;
	}
	for (i = 0; i < n; i++) {
		zip_stat_init(&st);
		if (zip_stat_index(x->zip, (zip_uint64_t)i, 0, &st) != 0)
			continue;
		if (!(st.valid & ZIP_STAT_SIZE))
			continue;
		total += st.size;
		if (total > x->lim.inflated_max) {
			xlsxin_fail(x, XLSXIN_TOO_LARGE, "the workbook would "
			    "inflate to more than %llu bytes (a zip bomb, or "
			    "too big a sheet): save it again without unused "
			    "content, or split it", (unsigned long long)
			    x->lim.inflated_max);
			return -1;
		}
		comp = (st.valid & ZIP_STAT_COMP_SIZE) && st.comp_size > 0 ?
		    st.comp_size : 1;
		if (st.size > x->lim.ratio_floor && st.size / comp >
		    x->lim.ratio_max) {
			xlsxin_fail(x, XLSXIN_TOO_LARGE, "%.100s would inflate "
			    "more than %llu times its compressed size (a zip "
			    "bomb?): save the workbook again from the "
			    "spreadsheet program, or upload CSV UTF-8",
			    (st.valid & ZIP_STAT_NAME) ? st.name : "an entry",
			    (unsigned long long)x->lim.ratio_max);
			return -1;
		}
	}
	return 0;
}

/* Everything of open after the archive: parts, then the sheet. */
static int
xlsxin_prepare(struct xlsxin *x)
{
	if (xlsxin_directory(x) != 0)
		return -1;
	if (zip_name_locate(x->zip, "[Content_Types].xml", 0) < 0) {
		xlsxin_fail(x, XLSXIN_BAD, "a zip archive, but not an XLSX "
		    "workbook (no [Content_Types].xml)");
		return -1;
	}
	if (xlsxin_part_read(x, "xl/workbook.xml", XLSXIN_WORKBOOK, 1) != 0)
		return -1;
	if (x->sheet == NULL) {
		if (x->want != NULL)
			xlsxin_fail(x, XLSXIN_NO_SHEET, "no sheet named \"%.40s\" "
			    "(the workbook has: %s)", x->want, x->names);
		else
			xlsxin_fail(x, XLSXIN_BAD, "the workbook has no sheet");
		return -1;
	}
	if (xlsxin_part_read(x, "xl/_rels/workbook.xml.rels", XLSXIN_RELS,
	    1) != 0)
		return -1;
	if (x->sheet_path == NULL) {
		xlsxin_fail(x, XLSXIN_BAD, "the workbook does not say where "
		    "sheet \"%.40s\" is", x->sheet);
		return -1;
	}
	if (xlsxin_part_read(x, "xl/styles.xml", XLSXIN_STYLES, 0) < 0 ||
	    xlsxin_part_read(x, "xl/sharedStrings.xml", XLSXIN_STRINGS, 0) < 0)
		return -1;
	if (xlsxin_entry_open(x, &x->sheet_entry, x->sheet_path, 1) != 0)
		return -1;
	xlsxin_parser(x, XLSXIN_SHEET);
	return 0;
}

/* A reader over src (taken). */
static struct xlsxin *
xlsxin_open_source(zip_source_t *src, const char *sheet,
    const struct xlsxin_limits *lim, enum xlsxin_fail *fail, char **cause)
{
	struct xlsxin *x;
	zip_error_t ze;

	x = xcalloc(1, sizeof *x);
	x->lim = *lim;
	x->want = sheet;
	zip_error_init(&ze);
	if ((x->zip = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS,
	    &ze)) == NULL) {
		zip_source_free(src);
		xlsxin_fail(x, XLSXIN_BAD, "not a readable XLSX (zip) file: %s",
		    zip_error_strerror(&ze));
		zip_error_fini(&ze);
	} else
		xlsxin_prepare(x);
	x->want = NULL;
	if (x->fail == XLSXIN_OK)
		return x;
	*fail = x->fail;
	*cause = x->cause;
	x->cause = NULL;
	xlsxin_free(x);
	return NULL;
}

/* A reader of the workbook in fd. */
struct xlsxin *
xlsxin_open_fd(int fd, const char *sheet, const struct xlsxin_limits *lim,
    enum xlsxin_fail *fail, char **cause)
{
	zip_source_t *src;
	zip_error_t ze;
	FILE *f;

	if ((f = fdopen(fd, "rb")) == NULL) {
		*fail = XLSXIN_BAD;
		xasprintf(cause, "cannot read the file: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	zip_error_init(&ze);
	if ((src = zip_source_filep_create(f, 0, -1, &ze)) == NULL) {
		*fail = XLSXIN_BAD;
		xasprintf(cause, "cannot read the file: %s",
		    zip_error_strerror(&ze));
		zip_error_fini(&ze);
		fclose(f);
		return NULL;
	}
	return xlsxin_open_source(src, sheet, lim, fail, cause);
}

/* A reader of the workbook in buf. */
struct xlsxin *
xlsxin_open_buffer(const void *buf, size_t len, const char *sheet,
    const struct xlsxin_limits *lim, enum xlsxin_fail *fail, char **cause)
{
	zip_source_t *src;
	zip_error_t ze;

	zip_error_init(&ze);
	if ((src = zip_source_buffer_create(buf, len, 0, &ze)) == NULL) {
		*fail = XLSXIN_BAD;
		xasprintf(cause, "cannot read the buffer: %s",
		    zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return NULL;
	}
	return xlsxin_open_source(src, sheet, lim, fail, cause);
}

/* Free a reader. */
void
xlsxin_free(struct xlsxin *x)
{
	if (x == NULL)
		return;
	if (x->parser != NULL)
		XML_ParserFree(x->parser);
	xlsxin_entry_close(&x->sheet_entry);
	if (x->zip != NULL)
		zip_discard(x->zip);
	free(x->cause);
	free(x->sheet);
	free(x->sheet_rid);
	free(x->sheet_path);
	free(x->date_fmts);
	free(x->xf_date);
	free(x->sst);
	free(x->sst_off);
	free(x->text);
	free(x->buf);
	free(x->offs);
	free(x->lens);
	free(x->fields);
	free(x);
}

const char *
xlsxin_sheet(const struct xlsxin *x)
{
	return x->sheet;
}

enum xlsxin_fail
xlsxin_failed(const struct xlsxin *x)
{
	return x->fail;
}

const char *
xlsxin_cause(const struct xlsxin *x)
{
	return x->cause != NULL ? x->cause : "";
}

long
xlsxin_dates(const struct xlsxin *x)
{
	return x->dates;
}

/* One slice of the sheet. */
int
xlsxin_step(struct xlsxin *x, xlsxin_row_cb cb, void *arg)
{
	char buf[XLSXIN_SLICE];
	zip_int64_t n;

	if (x->fail != XLSXIN_OK)
		return -1;
	if (x->done)
		return 0;
	x->cb = cb;
	x->arg = arg;
	if ((n = xlsxin_entry_read(x, &x->sheet_entry, buf, sizeof buf)) < 0 ||
	    xlsxin_parse(x, x->sheet_path, buf, (size_t)n) != 0)
		return -1;
	if (n == 0) {
		x->done = 1;
		return 0;
	}
	return 1;
}
