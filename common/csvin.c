/*
 * csvin.c: the streaming responses CSV reader (docs/interfaces.md,
 * "Responses CSV").
 *
 * libcsv splits bytes into fields and records; this module maps the header to
 * columns, checks every field of every row against the survey and turns good
 * rows into a struct response. It holds one row at a time (its fields in one
 * buffer) and never more than CSVIN_ROW_MAX bytes of it. It does no I/O and
 * prints nothing: every problem goes to the error callback, once.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>

#include "sipas/csvin.h"
#include "sipas/csvout.h"
#include "sipas/strmap.h"
#include "sipas/util.h"

/* Bytes handed to libcsv at a time, so an endless field is caught early. */
#define CSVIN_SLICE 65536

enum csvin_kind {
	CSVIN_UNIT,
	CSVIN_ID,
	CSVIN_SUBMITTED_AT,
	CSVIN_CHANNEL,
	CSVIN_WEIGHT,
	CSVIN_STRATUM,
	CSVIN_PSU,
	CSVIN_ITEM,
	CSVIN_RESPONDENT,
};

/* The reserved column names (matched case-insensitively). */
static const struct {
	const char *name;
	enum csvin_kind kind;
} csvin_reserved[] = {
	{ "unit", CSVIN_UNIT },
	{ "id", CSVIN_ID },
	{ "submitted_at", CSVIN_SUBMITTED_AT },
	{ "channel", CSVIN_CHANNEL },
	{ "weight", CSVIN_WEIGHT },
	{ "stratum", CSVIN_STRATUM },
	{ "psu", CSVIN_PSU },
};
#define CSVIN_RESPONDENT_PREFIX "respondent."

struct csvin_column {
	char *name;	     /* the header text, trimmed */
	enum csvin_kind kind;
	int item;	     /* CSVIN_ITEM: index in survey->items */
	const char *field;   /* CSVIN_RESPONDENT: the part after the prefix */
};

struct csvin {
	const struct survey *survey;
	csvin_row_cb row_cb;
	csvin_error_cb error_cb;
	void *arg;

	struct csv_parser parser;
	unsigned char bom[3]; /* bytes held while deciding if they are a BOM */
	size_t nbom;
	int bom_done;

	/* The record being read: fields NUL-terminated, one after another. */
	char *buf;
	size_t buflen;
	size_t bufalloc;
	size_t *offs;
	size_t *lens;
	int nfields;	 /* fields of the record so far, kept or not */
	int fieldalloc;
	int extra_text;	 /* a field beyond the header's columns is not blank */

	struct csvin_column *cols;
	int ncols;
	int have_header;

	struct response *resp;
	struct response_rules rules; /* when has_rules */
	int has_rules;
	long rows;
	long bad;
	int row_bad; /* the current row has had an error */
	int stopped; /* a callback said stop, or the input cannot be read on */
	int finished;
};

/* libcsv's buffer through xreallocarray: out of memory is fatal. */
static void *
csvin_realloc(void *p, size_t size)
{
	return xreallocarray(p, size, 1);
}

/* A new reader. */
struct csvin *
csvin_create(const struct survey *survey, csvin_row_cb row_cb,
    csvin_error_cb error_cb, void *arg)
{
	struct csvin *c = xcalloc(1, sizeof *c);

	c->survey = survey;
	c->row_cb = row_cb;
	c->error_cb = error_cb;
	c->arg = arg;
	if (csv_init(&c->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		ASSERT(0);
	csv_set_realloc_func(&c->parser, csvin_realloc);
	csv_set_free_func(&c->parser, free);
	csv_set_blk_size(&c->parser, 4096);
	c->resp = response_create(survey);
	return c;
}

/* The rules rows are checked against (copied). */
void
csvin_rules_set(struct csvin *c, const struct response_rules *rules)
{
	c->rules = *rules;
	c->has_rules = 1;
}

/* Free a reader. */
void
csvin_free(struct csvin *c)
{
	int i;

	if (c == NULL)
		return;
	csv_free(&c->parser);
	for (i = 0; i < c->ncols; i++)
		free(c->cols[i].name);
	free(c->cols);
	free(c->buf);
	free(c->offs);
	free(c->lens);
	response_free(c->resp);
	free(c);
}

/* Data rows seen, good and bad. */
long
csvin_rows(const struct csvin *c)
{
	return c->rows;
}

/* Bad data rows seen. */
long
csvin_bad_rows(const struct csvin *c)
{
	return c->bad;
}

/* Report one problem; marks the row bad; -1 if the callback said stop. */
static int __attribute__((format(printf, 5, 6)))
csvin_error(struct csvin *c, long row, int column, const char *column_name,
    const char *fmt, ...)
{
	struct csvin_error e;
	va_list ap;
	char *reason;
	int rc = 0;

	c->row_bad = 1;
	va_start(ap, fmt);
	if (vasprintf(&reason, fmt, ap) < 0)
		ASSERT(0);
	va_end(ap);
	e.row = row;
	e.column = column;
	e.column_name = column_name;
	e.reason = reason;
	if (c->error_cb != NULL && c->error_cb(&e, c->arg) != 0) {
		c->stopped = 1;
		rc = -1;
	}
	free(reason);
	return rc;
}

/* Field i of the current record, trimmed of ASCII blanks, NUL-terminated,
 * without the ' a CSV writer puts before a risky text (csvout_text_risky). */
static char *
csvin_field(struct csvin *c, int i)
{
	char *s = c->buf + c->offs[i];
	size_t len = c->lens[i];

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	s[len] = '\0';
	/* The ' the CSV writer puts before text a spreadsheet could run. */
	if (*s == '\'' && csvout_text_risky(s + 1))
		s++;
	return s;
}

/* The most columns a header of c's survey may have. */
static int
csvin_columns_max(const struct csvin *c)
{
	return (int)(sizeof csvin_reserved / sizeof csvin_reserved[0]) +
	    c->survey->nitems + CSVIN_EXTRA_COLUMNS;
}

/* 1 if the len bytes at s are all ASCII blanks. */
static int
csvin_blank(const char *s, size_t len)
{
	size_t j;

	for (j = 0; j < len; j++) {
		if (s[j] != ' ' && s[j] != '\t')
			return 0;
	}
	return 1;
}

/* libcsv: one field ends. */
static void
csvin_field_cb(void *s, size_t len, void *arg)
{
	struct csvin *c = arg;

	if (c->stopped)
		return;
	/*
	 * Memory follows the survey's columns, whatever the input holds: a
	 * header stops at its first empty name or its first column too many;
	 * a data row's fields beyond the header's are counted, not kept.
	 */
	if (!c->have_header && c->nfields >= csvin_columns_max(c)) {
		csvin_error(c, 0, c->nfields + 1, NULL, "the header has more "
		    "than %d columns (the %d of survey %s and at most %d "
		    "respondent.<field> columns)", csvin_columns_max(c),
		    csvin_columns_max(c) - CSVIN_EXTRA_COLUMNS, c->survey->code,
		    CSVIN_EXTRA_COLUMNS);
		c->stopped = 1;
		return;
	}
	if (!c->have_header && csvin_blank(s, len)) {
		csvin_error(c, 0, c->nfields + 1, NULL, "empty column name");
		c->stopped = 1;
		return;
	}
	if (c->have_header && c->nfields >= c->ncols) {
		if (!csvin_blank(s, len))
			c->extra_text = 1;
		c->nfields++;
		return;
	}
	if (c->buflen + len + 1 > CSVIN_ROW_MAX) {
		csvin_error(c, c->have_header ? c->rows + 1 : 0, c->nfields + 1, NULL,
		    "row is longer than %d bytes", CSVIN_ROW_MAX);
		c->stopped = 1;
		return;
	}
	if (c->buflen + len + 1 > c->bufalloc) {
		while (c->buflen + len + 1 > c->bufalloc)
			c->bufalloc = c->bufalloc == 0 ? 4096 : c->bufalloc * 2;
		c->buf = xreallocarray(c->buf, c->bufalloc, 1);
	}
	if (c->nfields == c->fieldalloc) {
		c->fieldalloc = c->fieldalloc == 0 ? 64 : c->fieldalloc * 2;
		c->offs = xreallocarray(c->offs, c->fieldalloc, sizeof *c->offs);
		c->lens = xreallocarray(c->lens, c->fieldalloc, sizeof *c->lens);
	}
	if (len > 0)
		memcpy(c->buf + c->buflen, s, len);
	c->buf[c->buflen + len] = '\0';
	c->offs[c->nfields] = c->buflen;
	c->lens[c->nfields] = len;
	c->nfields++;
	c->buflen += len + 1;
}

/* Map one header name to a column; -1 (reported) if it is not one. */
static int
csvin_header_column(struct csvin *c, int i, struct strmap *seen)
{
	struct csvin_column *col = &c->cols[i];
	const char *name;
	char *key = NULL, *q;
	size_t k, plen = strlen(CSVIN_RESPONDENT_PREFIX);
	intptr_t first;

	if (!utf8_valid(c->buf + c->offs[i], c->lens[i])) {
		col->name = xstrdup("?");
		csvin_error(c, 0, i + 1, NULL, "invalid UTF-8 in the column name");
		return -1;
	}
	name = csvin_field(c, i);
	col->name = xstrdup(name);
	if (*name == '\0') {
		csvin_error(c, 0, i + 1, NULL, "empty column name");
		return -1;
	}

	for (k = 0; k < sizeof csvin_reserved / sizeof csvin_reserved[0]; k++) {
		if (strcasecmp(name, csvin_reserved[k].name) == 0) {
			col->kind = csvin_reserved[k].kind;
			key = xstrdup(csvin_reserved[k].name);
			break;
		}
	}
	if (key == NULL && strncasecmp(name, CSVIN_RESPONDENT_PREFIX, plen) == 0 &&
	    name[plen] != '\0') {
		col->kind = CSVIN_RESPONDENT;
		col->field = col->name + plen;
		xasprintf(&key, "%s%s", CSVIN_RESPONDENT_PREFIX, col->field);
	}
	if (key == NULL && (col->item = survey_item_find(c->survey, name)) >= 0) {
		col->kind = CSVIN_ITEM;
		key = xstrdup(name);
	}
	if (key == NULL) {
		q = response_quote_dup(col->name);
		csvin_error(c, 0, i + 1, col->name,
		    "unknown column \"%s\" (not unit, id, submitted_at, channel, "
		    "weight, stratum, psu, respondent.<field> or an item of "
		    "survey %s)", q, c->survey->code);
		free(q);
		return -1;
	}

	/* The map's value is the 1-based column that first had the name. */
	first = (intptr_t)strmap_get(seen, key);
	if (first != 0) {
		q = response_quote_dup(col->name);
		csvin_error(c, 0, i + 1, col->name,
		    "duplicate column \"%s\" (also column %d)", q, (int)first);
		free(q);
		free(key);
		return -1;
	}
	strmap_put(seen, key, (void *)(intptr_t)(i + 1));
	free(key);
	return 0;
}

/* The header record: map every column, report every problem. */
static void
csvin_header(struct csvin *c)
{
	struct strmap *seen = strmap_create();
	int i, bad = 0, unit = 0;

	c->have_header = 1;
	c->ncols = c->nfields;
	c->cols = xcalloc(c->ncols, sizeof *c->cols);
	for (i = 0; i < c->ncols && !c->stopped; i++) {
		if (csvin_header_column(c, i, seen) != 0)
			bad = 1;
		else if (c->cols[i].kind == CSVIN_UNIT)
			unit = 1;
	}
	strmap_free(seen);
	if (!unit && !c->stopped) {
		csvin_error(c, 0, 0, "unit", "missing required column \"unit\"");
		bad = 1;
	}
	/* Rows cannot be read against a header that does not make sense. */
	if (bad)
		c->stopped = 1;
}

/* Check one field of a data row into c->resp; -1 if reading must stop. */
static int
csvin_row_field(struct csvin *c, int i)
{
	const struct csvin_column *col = &c->cols[i];
	struct response *r = c->resp;
	const struct item *it;
	char *s, *cause = NULL;
	int ch, v, rc = 0;
	long row = c->rows;

	if (col->kind == CSVIN_ITEM && c->lens[i] <= 1) {
		/* The common cell: empty or one digit on the item's scale. */
		const char *f = c->buf + c->offs[i];

		it = &c->survey->items[col->item];
		if (c->lens[i] == 0) {
			r->answers[col->item] = ANSWER_NONE;
			return 0;
		}
		if (*f >= '0' && *f <= '9' && scale_has(it->scale, *f - '0')) {
			r->answers[col->item] = *f - '0';
			return 0;
		}
	}
	if (!utf8_valid(c->buf + c->offs[i], c->lens[i]))
		return csvin_error(c, row, i + 1, col->name, "invalid UTF-8");
	s = csvin_field(c, i);

	switch (col->kind) {
	case CSVIN_UNIT:
		if (*s == '\0')
			return csvin_error(c, row, i + 1, col->name, "empty unit");
		r->unit = xstrdup(s);
		break;
	case CSVIN_ID:
		if (*s != '\0')
			r->id = xstrdup(s);
		break;
	case CSVIN_SUBMITTED_AT:
		if (*s == '\0')
			break;
		if (time_parse_iso8601(s, &r->submitted_at, &r->tz_minutes,
		    &cause) != 0)
			rc = csvin_error(c, row, i + 1, col->name, "%s", cause);
		else
			r->has_time = 1;
		break;
	case CSVIN_CHANNEL:
		if (*s == '\0')
			break;
		if ((ch = channel_parse(s)) < 0) {
			return csvin_error(c, row, i + 1, col->name,
			    "unknown channel \"%.40s\" (paper, web, sms, kiosk)", s);
		}
		r->channel = ch;
		break;
	case CSVIN_WEIGHT:
		if (*s == '\0')
			break;
		if (response_weight_parse(s, &r->weight, &cause) != 0)
			rc = csvin_error(c, row, i + 1, col->name, "%s", cause);
		break;
	case CSVIN_STRATUM:
		if (*s != '\0')
			r->stratum = xstrdup(s);
		break;
	case CSVIN_PSU:
		if (*s != '\0')
			r->psu = xstrdup(s);
		break;
	case CSVIN_ITEM:
		it = &c->survey->items[col->item];
		if (response_answer_parse(it, s, &v, &cause) != 0)
			rc = csvin_error(c, row, i + 1, col->name, "%s", cause);
		else
			r->answers[col->item] = v;
		break;
	case CSVIN_RESPONDENT:
		if (*s != '\0')
			response_respondent_add(r, col->field, s);
		break;
	}
	free(cause);
	return rc;
}

/* 1 if every field of the record is empty (a spreadsheet's ",,,," line). */
static int
csvin_row_blank(const struct csvin *c)
{
	int i;

	if (c->extra_text)
		return 0;
	for (i = 0; i < c->nfields && i < c->ncols; i++) {
		if (!csvin_blank(c->buf + c->offs[i], c->lens[i]))
			return 0;
	}
	return 1;
}

/* A data record: validate it, hand it on or count it bad. */
static void
csvin_row(struct csvin *c)
{
	char *field, *cause;
	int i, col;

	if (csvin_row_blank(c))
		return;
	c->rows++;
	c->row_bad = 0;
	if (c->nfields != c->ncols) {
		csvin_error(c, c->rows, 0, NULL, "row has %d fields, the header has %d",
		    c->nfields, c->ncols);
		c->bad++;
		return;
	}
	response_clear(c->resp);
	for (i = 0; i < c->ncols; i++) {
		if (csvin_row_field(c, i) != 0)
			break;
	}
	if (!c->row_bad && c->has_rules && response_validate(c->resp, &c->rules, &field,
	    &cause) != 0) {
		col = csvin_column_index(c, field);
		csvin_error(c, c->rows, col, col > 0 ? c->cols[col - 1].name :
		    field, "%s", cause);
		free(field);
		free(cause);
	}
	if (c->row_bad) {
		c->bad++;
		return;
	}
	if (c->row_cb != NULL && c->row_cb(c->resp, c->rows, c->arg) != 0)
		c->stopped = 1;
}

/* libcsv: one record ends. */
static void
csvin_record_cb(int term, void *arg)
{
	struct csvin *c = arg;

	if (!c->stopped) {
		if (!c->have_header)
			csvin_header(c);
		else
			csvin_row(c);
	}
	c->nfields = 0;
	c->extra_text = 0;
	c->buflen = 0;
}

/* The row and column libcsv is at, for a parse error. */
static void
csvin_position(const struct csvin *c, long *row, int *column)
{
	*row = c->have_header ? c->rows + 1 : 0;
	*column = c->nfields + 1;
}

/* Hand bytes to libcsv in slices; stop on broken quoting or a huge field. */
static int
csvin_feed(struct csvin *c, const char *buf, size_t len)
{
	size_t n, done;
	long row;
	int column;

	while (len > 0 && !c->stopped) {
		n = len < CSVIN_SLICE ? len : CSVIN_SLICE;
		done = csv_parse(&c->parser, buf, n, csvin_field_cb, csvin_record_cb, c);
		if (c->stopped)
			break;
		if (done != n) {
			csvin_position(c, &row, &column);
			csvin_error(c, row, column, NULL, "%s",
			    "malformed quoting: a quote inside an unquoted field, "
			    "or text after a closing quote");
			c->stopped = 1;
			break;
		}
		if (c->parser.entry_pos + c->buflen > CSVIN_ROW_MAX) {
			csvin_position(c, &row, &column);
			csvin_error(c, row, column, NULL, "row is longer than %d bytes",
			    CSVIN_ROW_MAX);
			c->stopped = 1;
			break;
		}
		buf += n;
		len -= n;
	}
	return c->stopped ? -1 : 0;
}

/* Push bytes; a UTF-8 BOM at the very start is dropped. */
int
csvin_push(struct csvin *c, const char *buf, size_t len)
{
	static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };
	size_t held;

	if (c->stopped || c->finished)
		return -1;
	while (!c->bom_done && len > 0) {
		if ((unsigned char)*buf != bom[c->nbom]) {
			/* Not a BOM: what was held is data. */
			c->bom_done = 1;
			held = c->nbom;
			c->nbom = 0;
			if (csvin_feed(c, (const char *)c->bom, held) != 0)
				return -1;
			break;
		}
		c->bom[c->nbom++] = (unsigned char)*buf++;
		len--;
		if (c->nbom == 3) {
			c->bom_done = 1;
			c->nbom = 0;
		}
	}
	return csvin_feed(c, buf, len);
}

/* End of input: the last row without a newline, then the checks of the end. */
int
csvin_finish(struct csvin *c)
{
	long row;
	int column;

	if (c->stopped || c->finished)
		return -1;
	c->finished = 1;
	if (!c->bom_done && c->nbom > 0) {
		c->bom_done = 1;
		if (csvin_feed(c, (const char *)c->bom, c->nbom) != 0)
			return -1;
	}
	if (csv_fini(&c->parser, csvin_field_cb, csvin_record_cb, c) != 0) {
		csvin_position(c, &row, &column);
		csvin_error(c, row, column, NULL, "unterminated quoted field");
		c->stopped = 1;
		return -1;
	}
	if (c->stopped)
		return -1;
	if (!c->have_header) {
		csvin_error(c, 0, 0, NULL, "empty file: no header row");
		c->stopped = 1;
		return -1;
	}
	return 0;
}

/* The 1-based column whose header names field (a reserved name in any case, an item code exactly, respondent.X), or 0. */
int
csvin_column_index(const struct csvin *c, const char *field)
{
	int i;

	for (i = 0; i < c->ncols; i++) {
		if (c->cols[i].kind == CSVIN_ITEM ?
		    strcmp(c->cols[i].name, field) == 0 :
		    strcasecmp(c->cols[i].name, field) == 0)
			return i + 1;
	}
	return 0;
}

/* The current record's fields, trimmed, into out. */
void
csvin_row_write(const struct csvin *c, struct csvout *out)
{
	const char *s;
	char *text;
	size_t len;
	int i;

	if (!c->have_header) {
		csvin_header_write(c, out);
		return;
	}
	for (i = 0; i < c->nfields && i < c->ncols; i++) {
		s = c->buf + c->offs[i];
		len = strnlen(s, c->lens[i]);
		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		text = xstrndup(s, len);
		csvout_field(out, text);
		free(text);
	}
}

/* The header's names into out. */
void
csvin_header_write(const struct csvin *c, struct csvout *out)
{
	int i;

	for (i = 0; i < c->ncols; i++)
		csvout_field(out, c->cols[i].name);
}
