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

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>
#include <uninorm.h>

#include "sipas/csvin.h"
#include "sipas/csvout.h"
#include "sipas/strmap.h"
#include "sipas/util.h"

/* Bytes handed to libcsv at a time, so an endless field is caught early. */
#define CSVIN_SLICE 65536
/* Bytes handed to iconv at a time. */
#define CSVIN_DECODE_SLICE 4096

/* The encodings read; CSVIN_ENC_NONE until decided. */
enum csvin_encoding {
	CSVIN_ENC_NONE,
	CSVIN_ENC_UTF8,
	CSVIN_ENC_UTF16LE,
	CSVIN_ENC_UTF16BE,
	CSVIN_ENC_CP1258,
};

/* Their names: in the report, for iconv, in messages; and the charsets accepted. */
static const struct {
	const char *charset;
	enum csvin_encoding enc;
} csvin_charsets[] = {
	{ "utf-8", CSVIN_ENC_UTF8 },
	{ "utf8", CSVIN_ENC_UTF8 },
	{ "us-ascii", CSVIN_ENC_UTF8 },
	{ "utf-16le", CSVIN_ENC_UTF16LE },
	{ "utf-16", CSVIN_ENC_UTF16LE }, /* the BOM says when it is BE */
	{ "utf-16be", CSVIN_ENC_UTF16BE },
	{ "windows-1258", CSVIN_ENC_CP1258 },
	{ "cp1258", CSVIN_ENC_CP1258 },
};
static const char *const csvin_encoding_names[] = {
	"utf-8", "utf-8", "utf-16le", "utf-16be", "windows-1258"
};
static const char *const csvin_encoding_titles[] = {
	"UTF-8", "UTF-8", "UTF-16LE", "UTF-16BE", "Windows-1258"
};
static const char *const csvin_encoding_iconv[] = {
	NULL, NULL, "UTF-16LE", "UTF-16BE", "WINDOWS-1258"
};

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

	/*
	 * The decoding front: raw bytes are held until the encoding is decided
	 * (then only a character cut by a chunk's end), decoded text until the
	 * header row's end decides the delimiter.
	 */
	enum csvin_encoding enc;
	int enc_forced;	  /* csvin_encoding_set: a BOM is still dropped */
	int enc_done;
	iconv_t cd;	  /* (iconv_t)-1 for UTF-8 */
	char *raw;
	size_t nraw, rawalloc;
	size_t ascii;	  /* leading raw bytes known to be ASCII */
	char *head;
	size_t nhead, headalloc;
	int headquoted;	  /* the end of head is inside quotes */
	int delim_done;
	char delim;
	long dates_iso, dates_dmy;

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
	c->cd = (iconv_t)-1;
	c->delim = ',';
	return c;
}

/* Name the input's encoding instead of detecting it. */
int
csvin_encoding_set(struct csvin *c, const char *charset)
{
	size_t k;

	for (k = 0; k < sizeof csvin_charsets / sizeof csvin_charsets[0]; k++) {
		if (strcasecmp(charset, csvin_charsets[k].charset) == 0) {
			if (c != NULL) {
				c->enc = csvin_charsets[k].enc;
				c->enc_forced = 1;
			}
			return 0;
		}
	}
	return -1;
}

/* What was detected so far. */
void
csvin_format_get(const struct csvin *c, struct csvin_format *f)
{
	f->encoding = csvin_encoding_names[c->enc];
	f->delimiter = c->delim;
	if (c->dates_dmy > 0 && c->dates_iso > 0)
		f->dates = "mixed";
	else if (c->dates_dmy > 0)
		f->dates = "dd/mm/yyyy";
	else
		f->dates = "iso8601";
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
	if (c->cd != (iconv_t)-1)
		iconv_close(c->cd);
	free(c->raw);
	free(c->head);
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

/*
 * Report one problem, in English (fmt) and Vietnamese (vi, formatted already;
 * NULL: only the English); marks the row bad; -1 if the callback said stop.
 */
static int __attribute__((format(printf, 6, 7)))
csvin_error(struct csvin *c, long row, int column, const char *column_name,
    const char *vi, const char *fmt, ...)
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
	e.reason_vi = vi != NULL ? vi : reason;
	if (c->error_cb != NULL && c->error_cb(&e, c->arg) != 0) {
		c->stopped = 1;
		rc = -1;
	}
	free(reason);
	return rc;
}

#define CSVIN_EN_EMPTY_NAME "empty column name: name the column or delete it"
#define CSVIN_VI_EMPTY_NAME "Tên cột trống: đặt tên cho cột hoặc xoá cột đó"

/* A row too long to read on: reported, reading stops. */
static void
csvin_row_long(struct csvin *c, long row, int column)
{
	char *vi;

	xasprintf(&vi, "Hàng dài hơn %d byte: kiểm tra các dấu ngoặc kép (một "
	    "ô mở ngoặc kép mà không đóng) hoặc chia nhỏ tệp", CSVIN_ROW_MAX);
	csvin_error(c, row, column, NULL, vi, "row is longer than %d bytes: "
	    "check the quotes (a field opened with a quote and never closed) "
	    "or split the file", CSVIN_ROW_MAX);
	free(vi);
	c->stopped = 1;
}

/* A field (or column name) that is not text in the file's encoding. */
static int
csvin_undecodable(struct csvin *c, long row, int column, const char *name)
{
	const char *enc = csvin_encoding_titles[c->enc];
	char *vi;
	int rc;

	xasprintf(&vi, "Ô này có ký tự không đọc được theo bảng mã %s: lưu "
	    "tệp dưới dạng CSV UTF-8 hoặc tải lên tệp XLSX", enc);
	rc = csvin_error(c, row, column, name, vi, "invalid %s%s: save the "
	    "file as CSV UTF-8 or upload the XLSX file", enc, row == 0 ?
	    " in the column name" : "");
	free(vi);
	return rc;
}

/* The survey's item codes, comma-separated (owned). */
static char *
csvin_item_list(const struct survey *s)
{
	char *out = xstrdup(""), *tmp;
	int i;

	for (i = 0; i < s->nitems; i++) {
		xasprintf(&tmp, "%s%s%s", out, i == 0 ? "" : ", ",
		    s->items[i].code);
		free(out);
		out = tmp;
	}
	return out;
}

/* 1 if the len bytes at s are all ASCII. */
static int
csvin_ascii(const char *s, size_t len)
{
	size_t j;

	for (j = 0; j < len; j++) {
		if ((unsigned char)s[j] >= 0x80)
			return 0;
	}
	return 1;
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
	uint8_t *nfc = NULL;
	size_t nfclen;
	char *vi;

	if (c->stopped)
		return;
	/*
	 * Memory follows the survey's columns, whatever the input holds: a
	 * header stops at its first empty name or its first column too many;
	 * a data row's fields beyond the header's are counted, not kept.
	 */
	if (!c->have_header && c->nfields >= csvin_columns_max(c)) {
		xasprintf(&vi, "Dòng tiêu đề có hơn %d cột (%d cột của phiếu "
		    "%s và tối đa %d cột respondent.<tên>): xoá các cột thừa",
		    csvin_columns_max(c), csvin_columns_max(c) -
		    CSVIN_EXTRA_COLUMNS, c->survey->code, CSVIN_EXTRA_COLUMNS);
		csvin_error(c, 0, c->nfields + 1, NULL, vi, "the header has more "
		    "than %d columns (the %d of survey %s and at most %d "
		    "respondent.<field> columns): delete the extra columns",
		    csvin_columns_max(c), csvin_columns_max(c) -
		    CSVIN_EXTRA_COLUMNS, c->survey->code, CSVIN_EXTRA_COLUMNS);
		free(vi);
		c->stopped = 1;
		return;
	}
	if (!c->have_header && csvin_blank(s, len)) {
		csvin_error(c, 0, c->nfields + 1, NULL, CSVIN_VI_EMPTY_NAME,
		    "%s", CSVIN_EN_EMPTY_NAME);
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
		csvin_row_long(c, c->have_header ? c->rows + 1 : 0,
		    c->nfields + 1);
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
	/* Text in NFC: "e" and a combining tone mark become one letter. */
	if (!csvin_ascii(s, len) && utf8_valid(s, len) &&
	    (nfc = u8_normalize(UNINORM_NFC, s, len, NULL, &nfclen)) != NULL &&
	    nfclen <= len) {
		s = nfc;
		len = nfclen;
	}
	if (len > 0)
		memcpy(c->buf + c->buflen, s, len);
	free(nfc);
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
	char *key = NULL, *q, *vi, *items;
	size_t k, plen = strlen(CSVIN_RESPONDENT_PREFIX);
	intptr_t first;

	if (!utf8_valid(c->buf + c->offs[i], c->lens[i])) {
		col->name = xstrdup("?");
		csvin_undecodable(c, 0, i + 1, NULL);
		return -1;
	}
	name = csvin_field(c, i);
	col->name = xstrdup(name);
	if (*name == '\0') {
		csvin_error(c, 0, i + 1, NULL, CSVIN_VI_EMPTY_NAME, "%s",
		    CSVIN_EN_EMPTY_NAME);
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
		items = csvin_item_list(c->survey);
		xasprintf(&vi, "Cột không xác định \"%s\": đổi tên cột thành "
		    "một trong các tên unit, id, submitted_at, channel, weight, "
		    "stratum, psu, respondent.<tên> hoặc mã câu hỏi của phiếu "
		    "%s (%s), hoặc xoá cột", q, c->survey->code, items);
		csvin_error(c, 0, i + 1, col->name, vi,
		    "unknown column \"%s\" (not unit, id, submitted_at, channel, "
		    "weight, stratum, psu, respondent.<field> or an item of "
		    "survey %s): rename it to one of those (items: %s) or "
		    "delete it", q, c->survey->code, items);
		free(vi);
		free(items);
		free(q);
		return -1;
	}

	/* The map's value is the 1-based column that first had the name. */
	first = (intptr_t)strmap_get(seen, key);
	if (first != 0) {
		q = response_quote_dup(col->name);
		xasprintf(&vi, "Cột \"%s\" bị lặp (trùng với cột %d): xoá "
		    "hoặc đổi tên một trong hai cột", q, (int)first);
		csvin_error(c, 0, i + 1, col->name, vi,
		    "duplicate column \"%s\" (also column %d): delete or rename "
		    "one of them", q, (int)first);
		free(vi);
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
		csvin_error(c, 0, 0, "unit", "Thiếu cột bắt buộc \"unit\": "
		    "thêm cột unit ghi mã đơn vị của mỗi phiếu",
		    "missing required column \"unit\": add a column unit with "
		    "each response's unit code");
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
	char *s, *p = NULL, *q, *vi, *cause = NULL;
	int ch, v, dmy, rc = 0;
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
		return csvin_undecodable(c, row, i + 1, col->name);
	s = csvin_field(c, i);

	switch (col->kind) {
	case CSVIN_UNIT:
		if (*s == '\0')
			return csvin_error(c, row, i + 1, col->name,
			    "Ô unit trống: ghi mã đơn vị của phiếu",
			    "empty unit: write the response's unit code");
		r->unit = xstrdup(s);
		break;
	case CSVIN_ID:
		if (*s != '\0')
			r->id = xstrdup(s);
		break;
	case CSVIN_SUBMITTED_AT:
		if (*s == '\0')
			break;
		dmy = strchr(s, '/') != NULL;
		if ((dmy ? time_parse_dmy(s, &r->submitted_at, &r->tz_minutes,
		    &cause) : time_parse_iso8601(s, &r->submitted_at,
		    &r->tz_minutes, &cause)) != 0) {
			q = response_quote_dup(s);
			xasprintf(&vi, "Thời điểm \"%s\" không đọc được: ghi "
			    "ngày/tháng/năm (dd/mm/yyyy, ngày trước, tháng "
			    "1 đến 12), ví dụ 23/04/2025 hoặc 23/04/2025 "
			    "13:59, hoặc dạng ISO 8601 2025-04-23T13:59:00+07:00",
			    q);
			rc = csvin_error(c, row, i + 1, col->name, vi, "%s", cause);
			free(vi);
			free(q);
		} else {
			r->has_time = 1;
			if (dmy)
				c->dates_dmy++;
			else
				c->dates_iso++;
		}
		break;
	case CSVIN_CHANNEL:
		if (*s == '\0')
			break;
		if ((ch = channel_parse(s)) < 0) {
			xasprintf(&vi, "Kênh không hợp lệ \"%.40s\": ghi paper, "
			    "web, sms hoặc kiosk", s);
			rc = csvin_error(c, row, i + 1, col->name, vi,
			    "unknown channel \"%.40s\" (paper, web, sms, kiosk)", s);
			free(vi);
			return rc;
		}
		r->channel = ch;
		break;
	case CSVIN_WEIGHT:
		if (*s == '\0')
			break;
		/* A decimal comma, when the comma is not the delimiter. */
		if (c->delim != ',' && (p = strchr(s, ',')) != NULL &&
		    strchr(p + 1, ',') == NULL && strchr(s, '.') == NULL)
			*p = '.';
		if (response_weight_parse(s, &r->weight, &cause) != 0) {
			if (p != NULL)
				*p = ',';
			q = response_quote_dup(s);
			xasprintf(&vi, "Trọng số phải là một số lớn hơn 0, ví dụ "
			    "1,5 hoặc 1.5 (ô này ghi \"%s\")", q);
			rc = csvin_error(c, row, i + 1, col->name, vi, "%s%s", cause,
			    c->delim != ',' ? " (a decimal comma is read: 1,5)" :
			    ": write a number such as 1.5");
			free(vi);
			free(q);
		}
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
		if (response_answer_parse(it, s, &v, &cause) != 0) {
			xasprintf(&vi, "Câu trả lời không hợp lệ cho câu %s: ghi "
			    "một giá trị trên thang đo của câu hỏi hoặc để trống "
			    "(%s)", it->code, cause);
			rc = csvin_error(c, row, i + 1, col->name, vi, "%s", cause);
			free(vi);
		} else
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
	char *field, *cause, *vi;
	int i, col;

	if (csvin_row_blank(c))
		return;
	c->rows++;
	c->row_bad = 0;
	if (c->nfields != c->ncols) {
		xasprintf(&vi, "Hàng có %d ô nhưng dòng tiêu đề có %d cột: thêm "
		    "hoặc xoá ô cho khớp, hoặc đặt trong ngoặc kép ô có chứa "
		    "dấu phân cách", c->nfields, c->ncols);
		csvin_error(c, c->rows, 0, NULL, vi, "row has %d fields, the header "
		    "has %d: add or delete fields to match, or quote a field "
		    "that holds the delimiter", c->nfields, c->ncols);
		free(vi);
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
		xasprintf(&vi, "Hàng không hợp lệ ở cột %s: %s; sửa giá trị rồi "
		    "tải lên lại", field, cause);
		csvin_error(c, c->rows, col, col > 0 ? c->cols[col - 1].name :
		    field, vi, "%s", cause);
		free(vi);
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
			csvin_error(c, row, column, NULL, "Dấu ngoặc kép đặt sai: "
			    "đặt cả ô trong ngoặc kép và viết \"\" cho mỗi dấu "
			    "ngoặc kép bên trong ô", "%s",
			    "malformed quoting: a quote inside an unquoted field, "
			    "or text after a closing quote; quote the whole field "
			    "and double every quote inside it");
			c->stopped = 1;
			break;
		}
		if (c->parser.entry_pos + c->buflen > CSVIN_ROW_MAX) {
			csvin_position(c, &row, &column);
			csvin_row_long(c, row, column);
			break;
		}
		buf += n;
		len -= n;
	}
	return c->stopped ? -1 : 0;
}

/* Append len bytes to a held buffer. */
static void
csvin_hold(char **b, size_t *n, size_t *alloc, const char *s, size_t len)
{
	if (*n + len > *alloc) {
		while (*n + len > *alloc)
			*alloc = *alloc == 0 ? 4096 : *alloc * 2;
		*b = xreallocarray(*b, *alloc, 1);
	}
	if (len > 0)
		memcpy(*b + *n, s, len);
	*n += len;
}

/* libcsv's blanks around a field when the delimiter is a tab. */
static int
csvin_space(unsigned char ch)
{
	return ch == ' ';
}

/*
 * The delimiter: of comma, semicolon and tab, the one the header row (the
 * first end bytes of c->head) has most of outside quotes; a comma on a tie.
 * Then the held text goes to libcsv.
 */
static int
csvin_delim_decide(struct csvin *c, size_t end)
{
	size_t i, comma = 0, semi = 0, tab = 0;
	int quoted = 0, rc;

	for (i = 0; i < end; i++) {
		if (c->head[i] == '"')
			quoted = !quoted;
		else if (!quoted && c->head[i] == ',')
			comma++;
		else if (!quoted && c->head[i] == ';')
			semi++;
		else if (!quoted && c->head[i] == '\t')
			tab++;
	}
	c->delim = ',';
	if (semi > comma)
		c->delim = ';';
	if (tab > comma && tab > semi)
		c->delim = '\t';
	csv_set_delim(&c->parser, (unsigned char)c->delim);
	if (c->delim == '\t')
		csv_set_space_func(&c->parser, csvin_space);
	c->delim_done = 1;
	rc = csvin_feed(c, c->head, c->nhead);
	free(c->head);
	c->head = NULL;
	c->nhead = c->headalloc = 0;
	return rc;
}

/* Decoded text: held until the header row ends, then to libcsv. */
static int
csvin_text(struct csvin *c, const char *s, size_t len)
{
	size_t i, from;

	if (c->delim_done)
		return csvin_feed(c, s, len);
	from = c->nhead;
	csvin_hold(&c->head, &c->nhead, &c->headalloc, s, len);
	/* Only the new bytes are scanned: the cost follows the input. */
	for (i = from; i < c->nhead; i++) {
		if (c->head[i] == '"')
			c->headquoted = !c->headquoted;
		else if (!c->headquoted && (c->head[i] == '\n' ||
		    c->head[i] == '\r'))
			return csvin_delim_decide(c, i);
	}
	if (c->nhead > CSVIN_ROW_MAX)
		return csvin_delim_decide(c, c->nhead);
	return 0;
}

/*
 * Decode the held raw bytes to UTF-8 text; a character cut at the end waits
 * for the next push unless final. A byte sequence that is not text in the
 * encoding becomes a byte that is never UTF-8 (0xff), so that its row and
 * column are reported by the field checks.
 */
static int
csvin_convert(struct csvin *c, int final)
{
	char out[4 * CSVIN_DECODE_SLICE], *in = c->raw, *o;
	size_t inleft = c->nraw, oleft, r, skip;
	int err;

	while (inleft > 0 && !c->stopped) {
		o = out;
		oleft = sizeof out - 1;
		r = iconv(c->cd, &in, &inleft, &o, &oleft);
		err = r == (size_t)-1 ? errno : 0;
		if (err == EILSEQ || (err == EINVAL && final)) {
			*o++ = '\xff';
			skip = c->enc == CSVIN_ENC_CP1258 ? 1 : 2;
			skip = skip < inleft ? skip : inleft;
			in += skip;
			inleft -= skip;
		}
		if (o > out && csvin_text(c, out, (size_t)(o - out)) != 0)
			return -1;
		if (err == EINVAL && !final)
			break;
	}
	if (inleft > 0)
		memmove(c->raw, in, inleft);
	c->nraw = inleft;
	if (final && !c->stopped) {
		/* A letter the decoder holds back for a tone mark that may follow. */
		o = out;
		oleft = sizeof out;
		if (iconv(c->cd, NULL, NULL, &o, &oleft) != (size_t)-1 &&
		    o > out && csvin_text(c, out, (size_t)(o - out)) != 0)
			return -1;
	}
	return c->stopped ? -1 : 0;
}

/* Bytes in the decided encoding. */
static int
csvin_decode(struct csvin *c, const char *buf, size_t len)
{
	size_t n;

	if (c->cd == (iconv_t)-1)
		return csvin_text(c, buf, len);
	while (len > 0 && !c->stopped) {
		n = len < CSVIN_DECODE_SLICE ? len : CSVIN_DECODE_SLICE;
		csvin_hold(&c->raw, &c->nraw, &c->rawalloc, buf, n);
		buf += n;
		len -= n;
		if (csvin_convert(c, 0) != 0)
			return -1;
	}
	return c->stopped ? -1 : 0;
}

/*
 * The encoding from the held bytes: a BOM, a NUL in the first two bytes
 * (UTF-16 without a BOM), else the first non-ASCII character: UTF-8 if it is
 * one, else Windows-1258. *skip is the BOM's length. 0 while the bytes held
 * cannot tell (only before the end of input).
 */
static int
csvin_detect(struct csvin *c, int final, size_t *skip)
{
	const unsigned char *b = (const unsigned char *)c->raw;
	size_t n = c->nraw, i, need;

	*skip = 0;
	if (n < 3 && !final && (n == 0 || b[0] == 0xef || b[0] == 0xff ||
	    b[0] == 0xfe || n < 2))
		return 0;
	if (n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf) {
		*skip = 3;
		if (!c->enc_forced)
			c->enc = CSVIN_ENC_UTF8;
		return 1;
	}
	if (n >= 2 && ((b[0] == 0xff && b[1] == 0xfe) || (b[0] == 0xfe &&
	    b[1] == 0xff)) && (!c->enc_forced || c->enc == CSVIN_ENC_UTF16LE ||
	    c->enc == CSVIN_ENC_UTF16BE)) {
		*skip = 2;
		c->enc = b[0] == 0xff ? CSVIN_ENC_UTF16LE : CSVIN_ENC_UTF16BE;
		return 1;
	}
	if (c->enc_forced)
		return 1;
	if (n >= 2 && (b[0] == 0) != (b[1] == 0)) {
		c->enc = b[1] == 0 ? CSVIN_ENC_UTF16LE : CSVIN_ENC_UTF16BE;
		return 1;
	}
	for (i = c->ascii; i < n && b[i] < 0x80; i++)
		;
	c->ascii = i;
	if (i == n) {
		if (!final && n < CSVIN_DETECT_MAX)
			return 0;
		c->enc = CSVIN_ENC_UTF8;
		return 1;
	}
	need = b[i] >= 0xf0 ? 4 : b[i] >= 0xe0 ? 3 : 2;
	if (i + need > n && !final)
		return 0;
	c->enc = i + need <= n && utf8_valid(c->raw + i, need) ?
	    CSVIN_ENC_UTF8 : CSVIN_ENC_CP1258;
	return 1;
}

/* The encoding is known: open its decoder, decode what was held. */
static int
csvin_start(struct csvin *c, size_t skip)
{
	char *held = c->raw;
	size_t n = c->nraw;
	int rc;

	c->enc_done = 1;
	if (csvin_encoding_iconv[c->enc] != NULL) {
		c->cd = iconv_open("UTF-8", csvin_encoding_iconv[c->enc]);
		if (c->cd == (iconv_t)-1) {
			csvin_error(c, 0, 0, NULL, "Máy chủ không giải mã được "
			    "bảng mã này: lưu tệp dưới dạng CSV UTF-8",
			    "%s cannot be decoded here: save the file as CSV "
			    "UTF-8", csvin_encoding_titles[c->enc]);
			c->stopped = 1;
			return -1;
		}
	}
	c->raw = NULL;
	c->nraw = c->rawalloc = 0;
	/* Nothing held (an empty input): nothing to decode, no pointer to add to. */
	rc = n > skip ? csvin_decode(c, held + skip, n - skip) : 0;
	free(held);
	return rc;
}

/* Push bytes: held until the encoding is decided, then decoded. */
int
csvin_push(struct csvin *c, const char *buf, size_t len)
{
	size_t n, skip;

	if (c->stopped || c->finished)
		return -1;
	while (!c->enc_done && len > 0) {
		n = CSVIN_DETECT_MAX - c->nraw;
		n = n < len ? n : len;
		csvin_hold(&c->raw, &c->nraw, &c->rawalloc, buf, n);
		buf += n;
		len -= n;
		if (csvin_detect(c, 0, &skip) && csvin_start(c, skip) != 0)
			return -1;
	}
	return csvin_decode(c, buf, len);
}

/* Push one record of fields split already (xlsxin.c). */
int
csvin_push_fields(struct csvin *c, const char *const *fields,
    const size_t *lens, int n)
{
	int i, keep = c->have_header ? c->ncols : 0;

	if (c->stopped || c->finished)
		return -1;
	/* Text already decoded and split: no encoding or delimiter to find. */
	c->enc_done = 1;
	c->delim_done = 1;
	while (n > keep && csvin_blank(fields[n - 1], lens[n - 1]))
		n--;
	if (n == 0 && !c->have_header)
		return 0;
	for (i = 0; i < n && !c->stopped; i++)
		csvin_field_cb((void *)fields[i], lens[i], c);
	for (; i < keep && !c->stopped; i++)
		csvin_field_cb((void *)"", 0, c);
	csvin_record_cb(0, c);
	return c->stopped ? -1 : 0;
}

/* End of input: the last row without a newline, then the checks of the end. */
int
csvin_finish(struct csvin *c)
{
	size_t skip;
	long row;
	int column;

	if (c->stopped || c->finished)
		return -1;
	c->finished = 1;
	if (!c->enc_done) {
		csvin_detect(c, 1, &skip);
		if (csvin_start(c, skip) != 0)
			return -1;
	}
	if (c->cd != (iconv_t)-1 && csvin_convert(c, 1) != 0)
		return -1;
	if (!c->delim_done && csvin_delim_decide(c, c->nhead) != 0)
		return -1;
	if (csv_fini(&c->parser, csvin_field_cb, csvin_record_cb, c) != 0) {
		csvin_position(c, &row, &column);
		csvin_error(c, row, column, NULL, "Ô mở dấu ngoặc kép mà không "
		    "đóng: thêm dấu ngoặc kép đóng ở cuối ô", "%s",
		    "unterminated quoted field: add the closing quote");
		c->stopped = 1;
		return -1;
	}
	if (c->stopped)
		return -1;
	if (!c->have_header) {
		csvin_error(c, 0, 0, NULL, "Tệp trống: dòng đầu tiên phải là "
		    "dòng tiêu đề (unit, các mã câu hỏi, ...)", "%s",
		    "empty file: no header row; the first line must name the "
		    "columns (unit, the item codes, ...)");
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
