/*
 * response.c: the validated response type and the parsers of its fields:
 * channel names, ISO 8601 times (offset +07:00 when none is given), answers
 * on an item's scale and sampling weights.
 *
 * Pure functions on strings: no I/O, no logging. Callers decide what an error
 * means (a CSV row rejected, an HTTP 422, an SMS reply) and report it once.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "sipas/response.h"
#include "sipas/strmap.h"
#include "sipas/textbuf.h"
#include "sipas/util.h"

/* How much of a bad value a message quotes. */
#define RESPONSE_QUOTE_MAX 40

static const char *const channel_names[] = {
	[CHANNEL_PAPER] = "paper",
	[CHANNEL_WEB] = "web",
	[CHANNEL_SMS] = "sms",
	[CHANNEL_KIOSK] = "kiosk",
};
#define CHANNEL_COUNT ((int)(sizeof channel_names / sizeof channel_names[0]))

/* The channel's name. */
const char *
channel_name(enum channel c)
{
	ASSERT((int)c >= 0 && (int)c < CHANNEL_COUNT);
	return channel_names[c];
}

/* Channel by name, case-insensitive; -1 if unknown. */
int
channel_parse(const char *s)
{
	int i;

	for (i = 0; i < CHANNEL_COUNT; i++) {
		if (strcasecmp(s, channel_names[i]) == 0)
			return i;
	}
	return -1;
}

/* Skip ASCII spaces and tabs at both ends: a borrowed span [*sp, *sp + *lenp). */
static void
response_trim(const char *s, const char **sp, size_t *lenp)
{
	size_t len = strlen(s);

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	*sp = s;
	*lenp = len;
}

/* A copy of a bad value for a message, shortened at a UTF-8 boundary. */
static char *
response_quote(const char *s, size_t len)
{
	char *out;
	size_t n = len;

	if (n <= RESPONSE_QUOTE_MAX)
		return xstrndup(s, n);
	n = RESPONSE_QUOTE_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	xasprintf(&out, "%.*s...", (int)n, s);
	return out;
}

/* --- time --- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
int64_t
time_day_number(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The date of a day number since 1970-01-01 (inverse of the above). */
void
time_day_civil(int64_t z, int64_t *yp, int *mp, int *dp)
{
	int64_t era, doe, yoe, y, doy, mp0;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp0 = (5 * doy + 2) / 153;
	*dp = (int)(doy - (153 * mp0 + 2) / 5 + 1);
	*mp = (int)(mp0 < 10 ? mp0 + 3 : mp0 - 9);
	*yp = y + (*mp <= 2);
}

void
time_midnight_vn(int64_t days, char *out)
{
	int64_t y;
	int m, d;

	time_day_civil(days, &y, &m, &d);
	snprintf(out, 32, "%04d-%02d-%02d 00:00:00+07", (int)y, m, d);
}

/* Exactly n decimal digits at *pp into *v; advances *pp. */
static int
time_digits(const char **pp, int n, int *v)
{
	const char *p = *pp;
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	*pp = p + n;
	return 0;
}

/* Parse an ISO 8601 date or date-time (see response.h). */
int
time_parse_iso8601(const char *text, int64_t *utc, int *tz_minutes, char **cause)
{
	const char *s, *p;
	char *copy = NULL, *q;
	size_t len;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign, tz;

	response_trim(text, &s, &len);
	copy = xstrndup(s, len);
	p = copy;

	if (time_digits(&p, 4, &y) != 0 || *p++ != '-' ||
	    time_digits(&p, 2, &mo) != 0 || *p++ != '-' ||
	    time_digits(&p, 2, &d) != 0)
		goto bad;
	tz = RESPONSE_TZ_DEFAULT;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (time_digits(&p, 2, &h) != 0 || *p++ != ':' ||
		    time_digits(&p, 2, &mi) != 0)
			goto bad;
		if (*p == ':') {
			p++;
			if (time_digits(&p, 2, &sec) != 0)
				goto bad;
			if (*p == '.' || *p == ',') {
				p++;
				if (*p < '0' || *p > '9')
					goto bad;
				while (*p >= '0' && *p <= '9')
					p++;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
			tz = 0;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '-' ? -1 : 1;
			if (time_digits(&p, 2, &oh) != 0)
				goto bad;
			if (*p == ':') {
				p++;
				if (time_digits(&p, 2, &om) != 0)
					goto bad;
			} else if (*p != '\0' && time_digits(&p, 2, &om) != 0)
				goto bad;
			if (oh > 14 || om > 59 || (oh == 14 && om != 0)) {
				xasprintf(cause, "time zone offset out of range in \"%s\"",
				    copy);
				goto fail;
			}
			tz = sign * (oh * 60 + om);
		}
	}
	if (*p != '\0')
		goto bad;

	if (mo < 1 || mo > 12 || d < 1 || d > util_month_days(y, mo)) {
		xasprintf(cause, "no such date: %04d-%02d-%02d", y, mo, d);
		goto fail;
	}
	if (h > 23 || mi > 59 || sec > 59) {
		xasprintf(cause, "no such time of day: %02d:%02d:%02d", h, mi, sec);
		goto fail;
	}
	*utc = time_day_number(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    (int64_t)tz * 60;
	*tz_minutes = tz;
	free(copy);
	return 0;

bad:
	q = response_quote(s, len);
	xasprintf(cause,
	    "\"%s\" is not an ISO 8601 date or date-time "
	    "(2025-04-23 or 2025-04-23T13:59:00+07:00)", q);
	free(q);
fail:
	free(copy);
	return -1;
}

/* One or two decimal digits at *pp into *v; advances *pp. */
static int
time_digits12(const char **pp, int *v)
{
	if (time_digits(pp, 1, v) != 0)
		return -1;
	if (**pp >= '0' && **pp <= '9')
		*v = *v * 10 + (*(*pp)++ - '0');
	return 0;
}

/* Parse dd/mm/yyyy [HH:MM[:SS]], Vietnam time (see response.h). */
int
time_parse_dmy(const char *text, int64_t *utc, int *tz_minutes, char **cause)
{
	const char *s, *p;
	char *copy, *q;
	size_t len;
	int y, mo, d, h = 0, mi = 0, sec = 0;

	response_trim(text, &s, &len);
	copy = xstrndup(s, len);
	p = copy;
	if (time_digits12(&p, &d) != 0 || *p++ != '/' ||
	    time_digits12(&p, &mo) != 0 || *p++ != '/' ||
	    time_digits(&p, 4, &y) != 0)
		goto bad;
	if (*p == ' ' || *p == 'T') {
		while (*p == ' ')
			p++;
		if (*p == 'T')
			p++;
		if (time_digits12(&p, &h) != 0 || *p++ != ':' ||
		    time_digits(&p, 2, &mi) != 0)
			goto bad;
		if (*p == ':') {
			p++;
			if (time_digits(&p, 2, &sec) != 0)
				goto bad;
		}
	}
	if (*p != '\0')
		goto bad;
	q = response_quote(s, len);
	if (mo < 1 || mo > 12) {
		xasprintf(cause, "no month %d in \"%s\": dates with / are "
		    "dd/mm/yyyy (day first, then the month 1 to 12), e.g. "
		    "23/04/2025", mo, q);
		goto fail;
	}
	if (d < 1 || d > util_month_days(y, mo)) {
		xasprintf(cause, "no such date: \"%s\" (dd/mm/yyyy: day %d of "
		    "month %d)", q, d, mo);
		goto fail;
	}
	if (h > 23 || mi > 59 || sec > 59) {
		xasprintf(cause, "no such time of day in \"%s\" (HH:MM or "
		    "HH:MM:SS, 00:00 to 23:59:59)", q);
		goto fail;
	}
	free(q);
	*utc = time_day_number(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    (int64_t)RESPONSE_TZ_DEFAULT * 60;
	*tz_minutes = RESPONSE_TZ_DEFAULT;
	free(copy);
	return 0;

bad:
	q = response_quote(s, len);
	xasprintf(cause, "\"%s\" is not a date dd/mm/yyyy with an optional "
	    "time HH:MM or HH:MM:SS (23/04/2025 or 23/04/2025 13:59)", q);
fail:
	free(q);
	free(copy);
	return -1;
}

/* Format utc as local time at offset tz_minutes, e.g. 2025-04-23T13:59:00+07:00. */
void
time_format_iso8601(int64_t utc, int tz_minutes, char *buf)
{
	int64_t local = utc + (int64_t)tz_minutes * 60, days, secs, y;
	int m, d, off;
	char zone[16], tmp[80];

	days = local / 86400;
	secs = local % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	time_day_civil(days, &y, &m, &d);
	off = tz_minutes < 0 ? -tz_minutes : tz_minutes;
	if (tz_minutes == 0)
		strcpy(zone, "Z");
	else {
		snprintf(zone, sizeof zone, "%c%02d:%02d", tz_minutes < 0 ? '-' : '+',
		    off / 60 % 100, off % 60);
	}
	/* tmp is large enough for any input; a sane one fits in 32 bytes. */
	snprintf(tmp, sizeof tmp, "%04lld-%02d-%02dT%02d:%02d:%02d%s", (long long)y,
	    m, d, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), zone);
	snprintf(buf, 32, "%.31s", tmp);
}

/* --- answers and weights --- */

/* Append "NAME (v1, v2, ...)" of a scale to a message. */
static char *
response_scale_describe(const struct scale *sc)
{
	char *out, *tmp;
	int i;

	xasprintf(&out, "%s (", sc->name);
	for (i = 0; i < sc->nvalues; i++) {
		xasprintf(&tmp, "%s%s%d", out, i == 0 ? "" : ", ", sc->values[i]);
		free(out);
		out = tmp;
	}
	xasprintf(&tmp, "%s)", out);
	free(out);
	return tmp;
}

/* Parse an answer: empty is ANSWER_NONE, else an integer on the item's scale. */
int
response_answer_parse(const struct item *it, const char *text, int *v, char **cause)
{
	const struct scale *sc = it->scale;
	const char *s, *p;
	size_t len, i;
	long val = 0;
	int neg = 0, ok = 1, k;
	char *desc, *q;

	response_trim(text, &s, &len);
	if (len == 0) {
		*v = ANSWER_NONE;
		return 0;
	}
	p = s;
	i = 0;
	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		i++;
	}
	if (i == len || len - i > 9)
		ok = 0;
	for (; ok && i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			ok = 0;
		else
			val = val * 10 + (p[i] - '0');
	}
	if (neg)
		val = -val;
	if (ok) {
		for (k = 0; k < sc->nvalues; k++) {
			if (sc->values[k] == val) {
				*v = (int)val;
				return 0;
			}
		}
	}
	desc = response_scale_describe(sc);
	if (ok)
		xasprintf(cause, "value %ld is not on scale %s", val, desc);
	else {
		q = response_quote(s, len);
		xasprintf(cause, "value \"%s\" is not on scale %s", q, desc);
		free(q);
	}
	free(desc);
	return -1;
}

/* Parse a weight: a finite decimal number > 0. */
int
response_weight_parse(const char *text, double *w, char **cause)
{
	const char *s;
	char *copy, *end, *q;
	size_t len, i;
	double x;
	int ok = 1;

	response_trim(text, &s, &len);
	copy = xstrndup(s, len);
	if (len == 0)
		ok = 0;
	/* Decimal only: strtod would also take "inf", "nan" and hex. */
	for (i = 0; ok && i < len; i++) {
		if (strchr("0123456789.eE+-", copy[i]) == NULL)
			ok = 0;
	}
	if (ok) {
		errno = 0;
		x = strtod(copy, &end);
		if (end == copy || *end != '\0' || errno == ERANGE || !isfinite(x) ||
		    !(x > 0))
			ok = 0;
	}
	if (!ok) {
		q = response_quote(s, len);
		xasprintf(cause, "weight must be a number > 0, got \"%s\"", q);
		free(q);
		free(copy);
		return -1;
	}
	*w = x;
	free(copy);
	return 0;
}

/* --- the response --- */

/* A new empty response with room for every item of the survey. */
struct response *
response_create(const struct survey *survey)
{
	struct response *r = xcalloc(1, sizeof *r);

	r->nanswers = survey->nitems;
	r->answers = xreallocarray(NULL, r->nanswers > 0 ? r->nanswers : 1,
	    sizeof *r->answers);
	response_clear(r);
	return r;
}

/* Free the response and its strings. */
void
response_free(struct response *r)
{
	if (r == NULL)
		return;
	response_clear(r);
	free(r->answers);
	free(r->resp_keys);
	free(r->resp_values);
	free(r->resp_json);
	free(r);
}

/* Reset every field to its default; answers to ANSWER_NONE. */
void
response_clear(struct response *r)
{
	int i;

	free(r->id);
	free(r->unit);
	free(r->stratum);
	free(r->psu);
	r->id = r->unit = r->stratum = r->psu = NULL;
	for (i = 0; i < r->nresp; i++) {
		free(r->resp_keys[i]);
		free(r->resp_values[i]);
	}
	r->nresp = 0;
	r->resp_object = 0;
	r->submitted_at = 0;
	r->tz_minutes = RESPONSE_TZ_DEFAULT;
	r->has_time = 0;
	r->channel = CHANNEL_PAPER;
	r->weight = 1;
	for (i = 0; i < r->nanswers; i++)
		r->answers[i] = ANSWER_NONE;
}

/* Add one respondent.<key> demographic, a string (json 0) or JSON text. */
static void
response_respondent_put(struct response *r, const char *key, const char *value,
    int json)
{
	if (r->nresp == r->resp_alloc) {
		r->resp_alloc = r->resp_alloc == 0 ? 4 : r->resp_alloc * 2;
		r->resp_keys = xreallocarray(r->resp_keys, r->resp_alloc,
		    sizeof *r->resp_keys);
		r->resp_values = xreallocarray(r->resp_values, r->resp_alloc,
		    sizeof *r->resp_values);
		r->resp_json = xreallocarray(r->resp_json, r->resp_alloc,
		    sizeof *r->resp_json);
	}
	r->resp_keys[r->nresp] = xstrdup(key);
	r->resp_values[r->nresp] = xstrdup(value);
	r->resp_json[r->nresp] = json != 0;
	r->nresp++;
}

/* Add one respondent.<key> demographic. */
void
response_respondent_add(struct response *r, const char *key, const char *value)
{
	response_respondent_put(r, key, value, 0);
}

/* Add one demographic given as a JSON number, true, false or null. */
void
response_respondent_add_json(struct response *r, const char *key,
    const char *value)
{
	response_respondent_put(r, key, value, 1);
}

/* A deep copy. */
struct response *
response_copy(const struct response *r)
{
	struct response *c = xcalloc(1, sizeof *c);
	int i;

	c->id = r->id != NULL ? xstrdup(r->id) : NULL;
	c->unit = r->unit != NULL ? xstrdup(r->unit) : NULL;
	c->stratum = r->stratum != NULL ? xstrdup(r->stratum) : NULL;
	c->psu = r->psu != NULL ? xstrdup(r->psu) : NULL;
	c->submitted_at = r->submitted_at;
	c->tz_minutes = r->tz_minutes;
	c->has_time = r->has_time;
	c->channel = r->channel;
	c->weight = r->weight;
	c->nanswers = r->nanswers;
	c->answers = xreallocarray(NULL, r->nanswers > 0 ? r->nanswers : 1,
	    sizeof *c->answers);
	if (r->nanswers > 0)
		memcpy(c->answers, r->answers, (size_t)r->nanswers *
		    sizeof *c->answers);
	for (i = 0; i < r->nresp; i++)
		response_respondent_put(c, r->resp_keys[i], r->resp_values[i],
		    r->resp_json[i]);
	c->resp_object = r->resp_object;
	return c;
}

/* The answered items as a JSON object of item code to integer. */
static json_t *
response_answers_object(const struct response *r, const struct survey *s)
{
	json_t *o = json_object();
	int i;

	for (i = 0; i < s->nitems && i < r->nanswers; i++) {
		if (r->answers[i] != ANSWER_NONE)
			json_object_set_new(o, s->items[i].code,
			    json_integer(r->answers[i]));
	}
	return o;
}

/*
 * The respondent as a JSON object (values typed as given), or NULL when the
 * response has none. A value that is not valid UTF-8 or JSON text is kept as
 * the bytes' string where it can be; validation refuses such values first.
 */
static json_t *
response_respondent_object(const struct response *r)
{
	json_t *o, *v;
	int i;

	if (r->nresp == 0 && !r->resp_object)
		return NULL;
	o = json_object();
	for (i = 0; i < r->nresp; i++) {
		v = NULL;
		if (r->resp_json[i])
			v = json_loads(r->resp_values[i], JSON_DECODE_ANY |
			    JSON_REJECT_DUPLICATES, NULL);
		if (v == NULL)
			v = json_string(r->resp_values[i]);
		if (v == NULL)
			v = json_null();
		json_object_set_new(o, r->resp_keys[i], v);
	}
	return o;
}

/* The answers as stored: see response.h. */
char *
response_answers_text(const struct response *r, const struct survey *s)
{
	json_t *o = response_answers_object(r, s);
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(o);
	ASSERT(text != NULL);
	return text;
}

/* The respondent as stored, or NULL: see response.h. */
char *
response_respondent_text(const struct response *r)
{
	json_t *o = response_respondent_object(r);
	char *text;

	if (o == NULL)
		return NULL;
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	ASSERT(text != NULL);
	return text;
}

/* The hash of the canonical text over the objects answers and rd (or NULL). */
static void
response_hash_objects(const struct response *r, const struct survey *s,
    json_t *answers, json_t *rd, char out[TOKEN_HASH_LEN + 1])
{
	json_t *canon;
	char *text;

	canon = json_pack("{s:s,s:s,s:s,s:o,s:O,s:O,s:f,s:s?,s:s?}",
	    "survey", s->code, "unit", r->unit != NULL ? r->unit : "",
	    "channel", channel_name(r->channel), "t", r->has_time ?
	    json_integer(r->submitted_at) : json_null(), "answers", answers,
	    "respondent", rd != NULL ? rd : json_null(), "weight", r->weight,
	    "stratum", r->stratum, "psu", r->psu);
	ASSERT(canon != NULL);
	text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_REAL_PRECISION(17));
	ASSERT(text != NULL);
	token_hash(text, strlen(text), out);
	free(text);
	json_decref(canon);
}

/* The content hash: see response.h. */
void
response_hash(const struct response *r, const struct survey *s,
    char out[TOKEN_HASH_LEN + 1])
{
	json_t *answers = response_answers_object(r, s);
	json_t *rd = response_respondent_object(r);

	response_hash_objects(r, s, answers, rd, out);
	json_decref(answers);
	json_decref(rd);
}

/*
 * The answers as JSON text, written directly: item codes with their values,
 * answered items only, in survey order (sorted = 0, as stored) or in the
 * byte order of the codes (sorted = 1, as in the canonical text).
 */
static void
response_answers_write(struct textbuf *t, const struct response *r,
    const struct survey *s, int sorted)
{
	const struct item *it;
	int k, i, n = 0, digit;
	char *p;

	textbuf_addc(t, '{');
	for (k = 0; k < s->nitems; k++) {
		i = sorted ? s->by_code[k] : k;
		if (i >= r->nanswers || r->answers[i] == ANSWER_NONE)
			continue;
		it = &s->items[i];
		digit = r->answers[i] >= 0 && r->answers[i] <= 9;
		/* [,]"CODE": in one step, and a one-digit value with it. */
		textbuf_grow(t, it->json_key_len + 2);
		p = t->buf + t->len;
		if (n++ > 0)
			*p++ = ',';
		memcpy(p, it->json_key, it->json_key_len);
		p += it->json_key_len;
		if (digit)
			*p++ = (char)('0' + r->answers[i]);
		*p = '\0';
		t->len = (size_t)(p - t->buf);
		if (!digit)
			textbuf_int(t, r->answers[i]);
	}
	textbuf_addc(t, '}');
}

/* A string member of the canonical text, or null. */
static void
response_canon_string(struct textbuf *t, const char *key, const char *v)
{
	textbuf_puts(t, key);
	if (v != NULL)
		textbuf_json_string(t, v);
	else
		textbuf_puts(t, "null");
}

/*
 * The stored texts and the hash (see response.h), on every stored response's
 * path, so written without Jansson where that is simple: the answers (flat
 * item codes and integers) and the canonical text around them are written
 * directly, byte for byte what response_hash_objects has Jansson write (its
 * keys in byte order, compact, reals of 17 digits: test_response compares
 * the two). Only a respondent, whose values keep the JSON type they were
 * given, still goes through Jansson.
 */
void
response_store_texts(const struct response *r, const struct survey *s,
    char **answers_text, char **respondent_text, char out[TOKEN_HASH_LEN + 1])
{
	struct textbuf t = { NULL, 0, 0 };
	json_t *rd = response_respondent_object(r);
	char *canon_rd = NULL;

	response_answers_write(&t, r, s, 0);
	*answers_text = textbuf_take(&t);
	*respondent_text = NULL;
	if (rd != NULL) {
		*respondent_text = json_dumps(rd, JSON_COMPACT |
		    JSON_PRESERVE_ORDER);
		canon_rd = json_dumps(rd, JSON_COMPACT | JSON_SORT_KEYS |
		    JSON_REAL_PRECISION(17));
		ASSERT(*respondent_text != NULL && canon_rd != NULL);
		json_decref(rd);
	}

	/* Keys in byte order: answers channel psu respondent stratum survey t
	 * unit weight. */
	textbuf_puts(&t, "{\"answers\":");
	response_answers_write(&t, r, s, 1);
	response_canon_string(&t, ",\"channel\":", channel_name(r->channel));
	response_canon_string(&t, ",\"psu\":", r->psu);
	textbuf_puts(&t, ",\"respondent\":");
	textbuf_puts(&t, canon_rd != NULL ? canon_rd : "null");
	response_canon_string(&t, ",\"stratum\":", r->stratum);
	response_canon_string(&t, ",\"survey\":", s->code);
	textbuf_puts(&t, ",\"t\":");
	if (r->has_time)
		textbuf_int(&t, r->submitted_at);
	else
		textbuf_puts(&t, "null");
	response_canon_string(&t, ",\"unit\":", r->unit != NULL ? r->unit :
	    "");
	textbuf_puts(&t, ",\"weight\":");
	textbuf_json_real(&t, r->weight);
	textbuf_addc(&t, '}');
	token_hash(t.buf, t.len, out);
	textbuf_free(&t);
	free(canon_rd);
}

/* Item code -> index + 1. */
struct strmap *
response_item_index(const struct survey *s)
{
	struct strmap *m = strmap_create();
	int i;

	for (i = 0; i < s->nitems; i++)
		strmap_put(m, s->items[i].code, (void *)(intptr_t)(i + 1));
	return m;
}

/* Store value v for item code (ignored when unknown or off the scale). */
static void
response_answer_set(const struct survey *s, const struct strmap *index, const char *code,
    int v, int *answers)
{
	intptr_t idx = (intptr_t)strmap_get(index, code);

	if (idx > 0 && scale_has(s->items[idx - 1].scale, v))
		answers[idx - 1] = v;
}

/* The slow, general path: any JSON. */
static int
response_answers_json(const struct survey *s, const struct strmap *index, const char *text,
    size_t len, int *answers)
{
	json_t *obj, *v;
	json_error_t jerr;
	const char *key;
	double d;

	if ((obj = json_loadb(text, len, 0, &jerr)) == NULL || !json_is_object(obj)) {
		json_decref(obj);
		return -1;
	}
	json_object_foreach(obj, key, v) {
		d = json_is_real(v) ? json_real_value(v) : NAN;
		if (json_is_integer(v))
			response_answer_set(s, index, key, (int)json_integer_value(v), answers);
		else if (json_is_real(v) && d == floor(d) && fabs(d) < 1e6)
			response_answer_set(s, index, key, (int)d, answers);
		else if (json_is_string(v) && json_string_length(v) > 0)
			response_answer_set(s, index, key, atoi(json_string_value(v)), answers);
	}
	json_decref(obj);
	return 0;
}

/*
 * Decode a flat object of short keys and integer, numeric-string or null
 * values (what the stores write) without building a JSON tree: a million rows
 * are read per report. Anything else (escapes, reals, nesting) goes to
 * jansson, so the result is the same either way.
 */
int
response_answers_decode(const struct survey *s, const struct strmap *index, const char *text,
    size_t len, int *answers)
{
	const char *p = text, *end = text + len, *k;
	char key[64];
	size_t klen;
	int i, v, neg, digits, quoted;

	for (i = 0; i < s->nitems; i++)
		answers[i] = ANSWER_NONE;
#define SKIP_WS() while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++
	SKIP_WS();
	if (p == end || *p++ != '{')
		goto slow;
	SKIP_WS();
	if (p < end && *p == '}')
		return 0;
	for (;;) {
		SKIP_WS();
		if (p == end || *p++ != '"')
			goto slow;
		for (k = p; p < end && *p != '"' && *p != '\\'; p++)
			;
		if (p == end || *p == '\\' || (klen = (size_t)(p - k)) >= sizeof key)
			goto slow;
		memcpy(key, k, klen);
		key[klen] = '\0';
		p++;
		SKIP_WS();
		if (p == end || *p++ != ':')
			goto slow;
		SKIP_WS();
		if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
			p += 4;
		} else {
			quoted = p < end && *p == '"';
			if (quoted)
				p++;
			neg = p < end && *p == '-';
			if (neg)
				p++;
			for (v = 0, digits = 0; p < end && *p >= '0' && *p <= '9' && digits < 7; p++, digits++)
				v = v * 10 + (*p - '0');
			if (quoted && digits == 0 && p < end && *p == '"') {
				p++; /* "": no answer */
			} else {
				if (digits == 0 || digits == 7)
					goto slow;
				if (quoted) {
					if (p == end || *p++ != '"')
						goto slow;
				} else if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
					goto slow;
				response_answer_set(s, index, key, neg ? -v : v, answers);
			}
		}
		SKIP_WS();
		if (p == end)
			goto slow;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p++ != '}')
			goto slow;
		SKIP_WS();
		if (p != end)
			goto slow;
		return 0;
	}
#undef SKIP_WS
slow:
	for (i = 0; i < s->nitems; i++)
		answers[i] = ANSWER_NONE;
	return response_answers_json(s, index, text, len, answers);
}

/* 1 if s is a date YYYY-MM-DD that exists, RESPONSE_DATE_MIN..MAX. */
int
response_date_valid(const char *s)
{
	int64_t y, yy;
	int m, d, mm, dd, i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++) {
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	}
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return 0;
	/* A day that does not exist comes back as another one. */
	time_day_civil(time_day_number(y, m, d), &yy, &mm, &dd);
	return yy == y && mm == m && dd == d &&
	    strcmp(s, RESPONSE_DATE_MIN) >= 0 && strcmp(s, RESPONSE_DATE_MAX) <= 0;
}

/* --- the rules every channel enforces --- */

/*
 * Prefixes of the ids the channels make for themselves: the SMS gateway
 * (sms-<message row>), the web form (web-<nonce>), the kiosk (kiosk-<nonce>)
 * and the spool (spool-<random>). Nobody else may write them, so a guessed
 * id can never take the place of a channel's next response.
 */
static const char *const response_channel_prefixes[] = {
	"sms-", "web-", "kiosk-", "spool-", NULL
};

/* The respondent fields a response may carry (docs/daemon.md). */
static const char *const response_respondent_fields[] = {
	"gender", "age_band", "age", "education", "occupation", "ethnicity",
	"residence", "disability", "comment", NULL
};

/* The defaults: RESPONSE_WEIGHT_MAX, the clock, no channel ids. */
void
response_rules_default(struct response_rules *rules)
{
	memset(rules, 0, sizeof *rules);
	rules->weight_max = RESPONSE_WEIGHT_MAX;
}

/* A copy of s for a message, at most RESPONSE_QUOTE_MAX characters. */
char *
response_quote_dup(const char *s)
{
	return response_quote(s, strlen(s));
}

/* A unit code: 1 to 64 of letters, digits, '-', '_' and '.'. */
int
response_unit_check(const char *code, char **cause)
{
	size_t i, len = strlen(code);
	char *q;

	for (i = 0; i < len; i++) {
		if (!(code[i] >= 'a' && code[i] <= 'z') &&
		    !(code[i] >= 'A' && code[i] <= 'Z') &&
		    !(code[i] >= '0' && code[i] <= '9') && code[i] != '-' &&
		    code[i] != '_' && code[i] != '.')
			break;
	}
	if (len > 0 && len <= RESPONSE_UNIT_MAX && i == len)
		return 0;
	q = response_quote(code, len);
	xasprintf(cause, "unit code \"%s\" must be 1 to %d letters, digits, "
	    "'-', '_' or '.'", q, RESPONSE_UNIT_MAX);
	free(q);
	return -1;
}

/* A source id: printable ASCII, at most 64, no channel prefix unless allowed. */
int
response_id_check(const char *id, int channel_ids, char **cause)
{
	const char *const *p;
	size_t i, len = strlen(id);
	char *q;

	for (i = 0; i < len; i++) {
		if (id[i] < 0x20 || id[i] > 0x7e)
			break;
	}
	if (len == 0 || len > RESPONSE_ID_MAX || i != len) {
		q = response_quote(id, len);
		xasprintf(cause, "id \"%s\" must be 1 to %d printable ASCII "
		    "characters", q, RESPONSE_ID_MAX);
		free(q);
		return -1;
	}
	for (p = response_channel_prefixes; !channel_ids && *p != NULL; p++) {
		if (strncasecmp(id, *p, strlen(*p)) == 0) {
			q = response_quote(id, len);
			xasprintf(cause, "id \"%s\": ids beginning with \"%s\" "
			    "are kept for the %.*s channel", q, *p,
			    (int)strlen(*p) - 1, *p);
			free(q);
			return -1;
		}
	}
	return 0;
}

/* Characters (UTF-8 code points) of len bytes at s. */
static size_t
response_utf8_chars(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* A respondent field: one of the fixed list, its value short enough. */
int
response_respondent_check(const char *key, const char *value, size_t len,
    char **cause)
{
	const char *const *f;
	char *q;

	for (f = response_respondent_fields; *f != NULL; f++) {
		if (strcmp(key, *f) == 0)
			break;
	}
	if (*f == NULL) {
		q = response_quote_dup(key);
		xasprintf(cause, "unknown respondent field \"%s\" (gender, "
		    "age_band, age, education, occupation, ethnicity, residence, "
		    "disability, comment)", q);
		free(q);
		return -1;
	}
	if (strcmp(key, "comment") == 0) {
		if (len <= RESPONSE_COMMENT_MAX)
			return 0;
		xasprintf(cause, "respondent.comment is longer than %d bytes",
		    RESPONSE_COMMENT_MAX);
		return -1;
	}
	if (response_utf8_chars(value, len) <= RESPONSE_RESPONDENT_VALUE_MAX)
		return 0;
	q = response_quote(value, len);
	xasprintf(cause, "respondent.%s \"%s\" is longer than %d characters",
	    key, q, RESPONSE_RESPONDENT_VALUE_MAX);
	free(q);
	return -1;
}

/* Check a parsed response against every rule (see response.h). */
int
response_validate(const struct response *r, const struct response_rules *rules,
    char **field, char **cause)
{
	int64_t now = rules->now != 0 ? rules->now : (int64_t)time(NULL);
	char when[32], *q;
	int i;

	*field = NULL;
	if (r->unit == NULL || response_unit_check(r->unit, cause) != 0) {
		if (r->unit == NULL)
			xasprintf(cause, "unit is required");
		*field = xstrdup("unit");
		return -1;
	}
	if (r->id != NULL && response_id_check(r->id, rules->channel_ids,
	    cause) != 0) {
		*field = xstrdup("id");
		return -1;
	}
	if (!(r->weight <= rules->weight_max)) {
		xasprintf(cause, "weight %g is above the largest allowed, %g "
		    "(weight_max)", r->weight, rules->weight_max);
		*field = xstrdup("weight");
		return -1;
	}
	if (r->has_time && r->submitted_at > now + RESPONSE_FUTURE_MAX) {
		time_format_iso8601(r->submitted_at, r->tz_minutes, when);
		xasprintf(cause, "submitted_at %s is more than a day in the "
		    "future", when);
		*field = xstrdup("submitted_at");
		return -1;
	}
	for (i = 0; i < r->nanswers; i++) {
		if (r->answers[i] != ANSWER_NONE)
			break;
	}
	if (i == r->nanswers) {
		xasprintf(cause, "no item is answered");
		*field = xstrdup("answers");
		return -1;
	}
	for (i = 0; i < r->nresp; i++) {
		if (response_respondent_check(r->resp_keys[i],
		    r->resp_values[i], strlen(r->resp_values[i]), cause) != 0) {
			q = response_quote_dup(r->resp_keys[i]);
			xasprintf(field, "respondent.%s", q);
			free(q);
			return -1;
		}
	}
	if (r->nresp > RESPONSE_RESPONDENT_MAX) {
		xasprintf(cause, "more than %d respondent fields",
		    RESPONSE_RESPONDENT_MAX);
		*field = xstrdup("respondent");
		return -1;
	}
	return 0;
}
