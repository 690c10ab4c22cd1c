/*
 * csvout.c: the one CSV writer (RFC 4180 quoting) and the rows of the
 * responses CSV. Used by the report's CSV (report/render_csv.c), sipasctl export
 * (ctl/ctl_db.c) and GET /api/v1/export (daemon/present/export.c).
 *
 * Builds bytes in memory only: no I/O but csvout_write, no database, no
 * libevent.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sipas/csvout.h"
#include "sipas/response.h"
#include "sipas/survey.h"
#include "sipas/util.h"

/* An empty buffer. */
void
csvout_init(struct csvout *o, const char *eol)
{
	memset(o, 0, sizeof *o);
	o->eol = eol;
}

/* Free the bytes. */
void
csvout_free(struct csvout *o)
{
	free(o->data);
	o->data = NULL;
	o->len = o->size = 0;
	o->nfields = 0;
}

/* Forget the bytes, keep the memory. */
void
csvout_clear(struct csvout *o)
{
	o->len = 0;
}

/* Append len bytes. */
static void
csvout_add(struct csvout *o, const char *s, size_t len)
{
	size_t want = o->len + len;

	if (want > o->size) {
		o->size = o->size == 0 ? 256 : o->size;
		while (o->size < want)
			o->size *= 2;
		o->data = xreallocarray(o->data, o->size, 1);
	}
	memcpy(o->data + o->len, s, len);
	o->len += len;
}

/* 1 if s could be a formula: =, +, -, @, tab or CR after any number of '. */
int
csvout_text_risky(const char *s)
{
	if (s == NULL)
		return 0;
	s += strspn(s, "'");
	return *s != '\0' && strchr("=+-@\t\r", *s) != NULL;
}

/* One field as it is, quoted when needed. */
static void
csvout_put(struct csvout *o, const char *s, int guard)
{
	const char *p, *q;

	if (o->nfields++ > 0)
		csvout_add(o, ",", 1);
	if (s == NULL || *s == '\0')
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		if (guard)
			csvout_add(o, "'", 1);
		csvout_add(o, s, strlen(s));
		return;
	}
	csvout_add(o, "\"", 1);
	if (guard)
		csvout_add(o, "'", 1);
	/* Each quote is doubled: copy up to and including it, then one more. */
	for (p = s; (q = strchr(p, '"')) != NULL; p = q + 1) {
		csvout_add(o, p, (size_t)(q - p) + 1);
		csvout_add(o, "\"", 1);
	}
	csvout_add(o, p, strlen(p));
	csvout_add(o, "\"", 1);
}

/* One text field: a ' in front when a spreadsheet could run it. */
void
csvout_field(struct csvout *o, const char *s)
{
	csvout_put(o, s, csvout_text_risky(s));
}

/* One number field, as it is. */
void
csvout_number(struct csvout *o, const char *s)
{
	csvout_put(o, s, 0);
}

/* End the row. */
void
csvout_row_end(struct csvout *o)
{
	csvout_add(o, o->eol, strlen(o->eol));
	o->nfields = 0;
}

/* Write and clear. */
int
csvout_write(struct csvout *o, FILE *f)
{
	if (o->len > 0 && fwrite(o->data, 1, o->len, f) != o->len) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	o->len = 0;
	return 0;
}

/* The header row of a responses CSV. */
void
csvout_responses_header(struct csvout *o, const struct survey *s,
    char *const *keys, size_t nkeys)
{
	static const char *const fixed[] = { "id", "unit", "submitted_at",
		"channel", "weight", "stratum", "psu" };
	char *name;
	size_t i;
	int j;

	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		csvout_field(o, fixed[i]);
	for (j = 0; j < s->nitems; j++)
		csvout_field(o, s->items[j].code);
	for (i = 0; i < nkeys; i++) {
		xasprintf(&name, "respondent.%s", keys[i]);
		csvout_field(o, name);
		free(name);
	}
	csvout_row_end(o);
}

static const char *csvout_json_text(json_t *, char *, size_t);

/* One JSON scalar as a field: a number as a number, the rest as text. */
static void
csvout_json_field(struct csvout *o, json_t *v, char *buf, size_t len)
{
	const char *s = csvout_json_text(v, buf, len);

	if (json_is_number(v))
		csvout_number(o, s);
	else
		csvout_field(o, s);
}

/* A JSON scalar as CSV text into buf ("" for null or absent). */
static const char *
csvout_json_text(json_t *v, char *buf, size_t len)
{
	if (v == NULL || json_is_null(v))
		return "";
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, len, "%.15g", json_real_value(v));
		return buf;
	}
	if (json_is_true(v))
		return "true";
	if (json_is_false(v))
		return "false";
	return "";
}

/* One data row. */
void
csvout_responses_row(struct csvout *o, const struct survey *s,
    char *const *keys, size_t nkeys, const struct csvout_response *row)
{
	char buf[64];
	json_t *answers, *resp;
	json_error_t jerr;
	size_t i;
	int j;

	csvout_field(o, row->id);
	csvout_field(o, row->unit);
	time_format_iso8601(row->submitted_at, 7 * 60, buf); /* Vietnam */
	csvout_field(o, buf);
	csvout_field(o, row->channel);
	/* Lossless: the shortest form that reads back to the same double. */
	snprintf(buf, sizeof buf, "%.15g", row->weight);
	if (strtod(buf, NULL) != row->weight)
		snprintf(buf, sizeof buf, "%.17g", row->weight);
	csvout_number(o, buf);
	csvout_field(o, row->stratum);
	csvout_field(o, row->psu);
	answers = json_loads(row->answers, 0, &jerr);
	for (j = 0; j < s->nitems; j++)
		csvout_json_field(o, json_object_get(answers, s->items[j].code),
		    buf, sizeof buf);
	json_decref(answers);
	resp = row->respondent != NULL ? json_loads(row->respondent, 0, &jerr) :
	    NULL;
	for (i = 0; i < nkeys; i++)
		csvout_json_field(o, json_object_get(resp, keys[i]), buf,
		    sizeof buf);
	json_decref(resp);
	csvout_row_end(o);
}
