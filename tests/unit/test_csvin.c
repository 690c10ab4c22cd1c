/*
 * test_csvin.c: the responses CSV reader and the field parsers of response.c,
 * table-driven from tests/data/csv/:
 *
 *   cases.tsv   FILE SURVEY RC ROWS BAD DUMP: what csvin_finish (or the
 *               failing csvin_push) returns, rows seen, bad rows, and the file
 *               the good rows must dump to ("-" for none)
 *   errors.tsv  FILE ROW COLUMN REASON: every error of FILE, in order; REASON
 *               is a substring of the reported reason
 *   times.tsv   TEXT UTC TZ FORMATTED, or TEXT - CAUSE: time_parse_iso8601
 *   weights.tsv TEXT VALUE, or TEXT - CAUSE: response_weight_parse
 *
 * Every case is read whole, one byte at a time and in random chunk sizes; the
 * transcripts (rows, errors, result) must all be the same.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "sipas/csvin.h"
#include "sipas/csvout.h"
#include "sipas/response.h"
#include "sipas/survey.h"
#include "sipas/util.h"

#include "tap.h"

/* A growing string. */
struct buf {
	char *s;
	size_t len;
	size_t cap;
};

/* Append formatted text to b. */
static void __attribute__((format(printf, 2, 3)))
buf_add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
	free(s);
}

/* Append s with newlines, tabs and backslashes escaped. */
static void
buf_add_escaped(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			buf_add(b, "\\n");
		else if (*s == '\r')
			buf_add(b, "\\r");
		else if (*s == '\t')
			buf_add(b, "\\t");
		else if (*s == '\\')
			buf_add(b, "\\\\");
		else
			buf_add(b, "%c", *s);
	}
}

/* The text of b ("" when empty). */
static const char *
buf_str(const struct buf *b)
{
	return b->s == NULL ? "" : b->s;
}

/* What one read of a case produced. */
struct run {
	struct buf dump;   /* one line per good row */
	struct buf errors; /* ROW\tCOLUMN\tNAME\tREASON per error */
	int rc;
	long rows;
	long bad;
	long good;
	long stop_after; /* row callback says stop after this many rows (0: never) */
	int stop_on_error; /* error callback says stop */
};

/* Path of a file in tests/data/csv. */
static char *
data_path(const char *name)
{
	const char *dir = getenv("SIPAS_TEST_DATA");
	char *p;

	xasprintf(&p, "%s/csv/%s", dir != NULL ? dir : "tests/data", name);
	return p;
}

/* A file of tests/data/csv, or NULL. */
static char *
data_read(const char *name, size_t *len)
{
	char *p = data_path(name), *cause = NULL, *text;

	text = util_file_read(p, len, &cause);
	free(cause);
	free(p);
	return text;
}

/* qsort comparison of two strings. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Row callback: dump the response. */
static int
on_row(const struct response *r, long row, void *arg)
{
	struct run *run = arg;
	char when[32], **pairs;
	int i;

	run->good++;
	buf_add(&run->dump, "%ld\tunit=", row);
	buf_add_escaped(&run->dump, r->unit);
	buf_add(&run->dump, "\tid=");
	buf_add_escaped(&run->dump, r->id != NULL ? r->id : "-");
	if (r->has_time)
		time_format_iso8601(r->submitted_at, r->tz_minutes, when);
	else
		strcpy(when, "-");
	buf_add(&run->dump, "\tat=%s\tchannel=%s\tweight=%g\tstratum=%s\tpsu=%s\tanswers=",
	    when, channel_name(r->channel), r->weight,
	    r->stratum != NULL ? r->stratum : "-", r->psu != NULL ? r->psu : "-");
	for (i = 0; i < r->nanswers; i++) {
		if (r->answers[i] == ANSWER_NONE)
			buf_add(&run->dump, "%s-", i == 0 ? "" : ",");
		else
			buf_add(&run->dump, "%s%d", i == 0 ? "" : ",", r->answers[i]);
	}
	/* Respondent fields sorted, so that column order does not matter. */
	pairs = xcalloc(r->nresp + 1, sizeof *pairs);
	for (i = 0; i < r->nresp; i++)
		xasprintf(&pairs[i], "%s:%s", r->resp_keys[i], r->resp_values[i]);
	qsort(pairs, r->nresp, sizeof *pairs, cmp_str);
	buf_add(&run->dump, "\tresp=");
	for (i = 0; i < r->nresp; i++) {
		if (i > 0)
			buf_add(&run->dump, ";");
		buf_add_escaped(&run->dump, pairs[i]);
		free(pairs[i]);
	}
	free(pairs);
	buf_add(&run->dump, "\n");
	if (run->stop_after > 0 && run->good >= run->stop_after)
		return -1;
	return 0;
}

/* Error callback: record it. */
static int
on_error(const struct csvin_error *e, void *arg)
{
	struct run *run = arg;

	buf_add(&run->errors, "%ld\t%d\t%s\t", e->row, e->column,
	    e->column_name != NULL ? e->column_name : "-");
	buf_add_escaped(&run->errors, e->reason);
	buf_add(&run->errors, "\n");
	return run->stop_on_error ? -1 : 0;
}

/* A small deterministic generator for chunk sizes. */
static uint32_t
rng_next(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

/*
 * Read data through a csvin. mode 0: one push; 1: one byte at a time; 2 and
 * up: random chunks of 1..max bytes (seeded by mode).
 */
static void
run_case(const struct survey *s, const char *data, size_t len, int mode, size_t max,
    struct run *run)
{
	struct csvin *in = csvin_create(s, on_row, on_error, run);
	uint32_t state = 2463534242u + (uint32_t)mode * 7919u;
	size_t off = 0, n;

	run->rc = 0;
	while (off < len) {
		if (mode == 0)
			n = len;
		else if (mode == 1)
			n = 1;
		else
			n = 1 + rng_next(&state) % max;
		if (n > len - off)
			n = len - off;
		if (csvin_push(in, data + off, n) != 0) {
			run->rc = -1;
			break;
		}
		off += n;
	}
	if (run->rc == 0)
		run->rc = csvin_finish(in);
	run->rows = csvin_rows(in);
	run->bad = csvin_bad_rows(in);
	csvin_free(in);
}

/* Free a run's buffers. */
static void
run_clear(struct run *run)
{
	free(run->dump.s);
	free(run->errors.s);
	memset(run, 0, sizeof *run);
}

/* Split a line into at most n tab-separated fields (in place); the count. */
static int
split_tabs(char *line, char **f, int n)
{
	int k = 0;

	f[k++] = line;
	while (k < n && (line = strchr(line, '\t')) != NULL) {
		*line++ = '\0';
		f[k++] = line;
	}
	return k;
}

/* The next line of text (in place), or NULL; skips # comments and blank lines. */
static char *
next_line(char **pos)
{
	char *line, *nl;

	while (**pos != '\0') {
		line = *pos;
		if ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			*pos = nl + 1;
		} else
			*pos = line + strlen(line);
		if (*line != '\0' && *line != '#')
			return line;
	}
	return NULL;
}

/* The survey of a case: mini = mini.survey.json, else a built-in code. */
static struct survey *
case_survey(const char *name)
{
	char *text, *cause = NULL, *file;
	struct survey *s;
	size_t len;

	if (survey_builtin_text(name) != NULL)
		return survey_builtin_create(name);
	xasprintf(&file, "%s.survey.json", name);
	text = data_read(file, &len);
	free(file);
	if (text == NULL)
		return NULL;
	s = survey_create(text, len, &cause);
	if (s == NULL)
		tap_diag("%s: %s", name, cause);
	free(cause);
	free(text);
	return s;
}

/* Compare a run's errors with the lines of errors.tsv for file. */
static void
check_errors(const char *file, const struct run *run, const char *table)
{
	char *copy = xstrdup(table), *pos = copy, *line, *f[4];
	char *got = xstrdup(buf_str(&run->errors)), *gpos = got, *g[4], *gl;
	int nexp = 0, ok, ng;

	while ((line = next_line(&pos)) != NULL) {
		if (split_tabs(line, f, 4) != 4 || strcmp(f[0], file) != 0)
			continue;
		nexp++;
		gl = next_line(&gpos);
		if (gl == NULL) {
			tap_ok(0, "%s: error %d (%s:%s: %s) reported", file, nexp,
			    f[1], f[2], f[3]);
			continue;
		}
		ng = split_tabs(gl, g, 4);
		ok = ng == 4 && atol(g[0]) == atol(f[1]) && atoi(g[1]) == atoi(f[2]) &&
		    strstr(g[3], f[3]) != NULL;
		tap_ok(ok, "%s: error %d is %s:%s: ...%s...", file, nexp, f[1], f[2], f[3]);
		if (!ok && ng == 4)
			tap_diag("got %s:%s: %s: %s", g[0], g[1], g[2], g[3]);
	}
	ok = next_line(&gpos) == NULL;
	tap_ok(ok, "%s: no other errors than the %d expected", file, nexp);
	if (!ok)
		tap_diag("errors:\n%s", buf_str(&run->errors));
	free(copy);
	free(got);
}

/* One line of cases.tsv: every chunking gives the same, expected result. */
static void
check_case(char **f, const char *errors_table)
{
	static const size_t maxes[] = { 2, 7, 64, 1000 };
	const char *file = f[0];
	struct run first, run;
	struct survey *s;
	char *data, *dump;
	size_t len, dlen;
	int mode, same;

	memset(&first, 0, sizeof first);
	if ((s = case_survey(f[1])) == NULL) {
		tap_ok(0, "%s: survey %s loads", file, f[1]);
		return;
	}
	if ((data = data_read(file, &len)) == NULL) {
		tap_ok(0, "%s: readable", file);
		survey_free(s);
		return;
	}
	run_case(s, data, len, 0, 0, &first);
	tap_ok(first.rc == atoi(f[2]), "%s: result %d (got %d)", file, atoi(f[2]), first.rc);
	tap_ok(first.rows == atol(f[3]) && first.bad == atol(f[4]),
	    "%s: %s rows, %s bad (got %ld, %ld)", file, f[3], f[4], first.rows, first.bad);
	tap_ok(first.good == first.rows - first.bad || first.rc != 0,
	    "%s: every row that is not bad reaches the callback", file);
	if (strcmp(f[5], "-") != 0) {
		dump = data_read(f[5], &dlen);
		tap_ok(dump != NULL && strcmp(dump, buf_str(&first.dump)) == 0,
		    "%s: rows as in %s", file, f[5]);
		if (dump == NULL || strcmp(dump, buf_str(&first.dump)) != 0)
			tap_diag("got:\n%s", buf_str(&first.dump));
		free(dump);
	} else
		tap_ok(first.good == 0, "%s: no good rows", file);
	check_errors(file, &first, errors_table);

	/* The same in any chunks: one byte at a time, then random sizes. */
	same = 1;
	for (mode = 1; mode < 2 + 4 * 3; mode++) {
		memset(&run, 0, sizeof run);
		run_case(s, data, len, mode, maxes[mode % 4], &run);
		if (run.rc != first.rc || run.rows != first.rows || run.bad != first.bad ||
		    strcmp(buf_str(&run.dump), buf_str(&first.dump)) != 0 ||
		    strcmp(buf_str(&run.errors), buf_str(&first.errors)) != 0) {
			same = 0;
			tap_diag("mode %d differs: rc %d rows %ld bad %ld\n%s%s", mode,
			    run.rc, run.rows, run.bad, buf_str(&run.dump),
			    buf_str(&run.errors));
		}
		run_clear(&run);
	}
	tap_ok(same, "%s: same result one byte at a time and in random chunks", file);

	run_clear(&first);
	free(data);
	survey_free(s);
}

/* Every line of cases.tsv. */
static void
test_cases(void)
{
	char *cases, *errors, *pos, *line, *f[6];
	size_t len;

	cases = data_read("cases.tsv", &len);
	errors = data_read("errors.tsv", &len);
	if (!tap_ok(cases != NULL && errors != NULL, "cases.tsv and errors.tsv readable")) {
		free(cases);
		free(errors);
		return;
	}
	pos = cases;
	while ((line = next_line(&pos)) != NULL) {
		if (split_tabs(line, f, 6) != 6) {
			tap_ok(0, "cases.tsv: a line with 6 fields: %s", line);
			continue;
		}
		check_case(f, errors);
	}
	free(cases);
	free(errors);
}

/* times.tsv: TEXT UTC TZ FORMATTED, or TEXT - CAUSE. */
static void
test_times(void)
{
	char *text, *pos, *line, *f[4], *cause, when[32];
	int64_t utc;
	size_t len;
	int tz, rc, n;

	if (!tap_ok((text = data_read("times.tsv", &len)) != NULL, "times.tsv readable"))
		return;
	pos = text;
	while ((line = next_line(&pos)) != NULL) {
		n = split_tabs(line, f, 4);
		cause = NULL;
		utc = 0;
		tz = 0;
		rc = time_parse_iso8601(f[0], &utc, &tz, &cause);
		if (n == 3 && strcmp(f[1], "-") == 0) {
			tap_ok(rc == -1 && cause != NULL && strstr(cause, f[2]) != NULL,
			    "time \"%s\" rejected: ...%s... (got %s)", f[0], f[2],
			    cause != NULL ? cause : "no error");
		} else if (n == 4) {
			if (rc == 0)
				time_format_iso8601(utc, tz, when);
			else
				strcpy(when, "?");
			tap_ok(rc == 0 && utc == strtoll(f[1], NULL, 10) &&
			    tz == atoi(f[2]) && strcmp(when, f[3]) == 0,
			    "time \"%s\" is %s %s %s (got %lld %d %s%s%s)", f[0], f[1],
			    f[2], f[3], (long long)utc, tz, when, cause ? ": " : "",
			    cause ? cause : "");
		} else
			tap_ok(0, "times.tsv: bad line %s", line);
		free(cause);
	}
	free(text);
}

/* weights.tsv: TEXT VALUE, or TEXT - CAUSE. */
static void
test_weights(void)
{
	char *text, *pos, *line, *f[3], *cause;
	double w;
	size_t len;
	int rc, n;

	if (!tap_ok((text = data_read("weights.tsv", &len)) != NULL,
	    "weights.tsv readable"))
		return;
	pos = text;
	while ((line = next_line(&pos)) != NULL) {
		n = split_tabs(line, f, 3);
		cause = NULL;
		w = NAN;
		rc = response_weight_parse(f[0], &w, &cause);
		if (n == 3 && strcmp(f[1], "-") == 0) {
			tap_ok(rc == -1 && cause != NULL && strstr(cause, f[2]) != NULL,
			    "weight \"%s\" rejected: ...%s... (got %s)", f[0], f[2],
			    cause != NULL ? cause : "no error");
		} else if (n == 2) {
			tap_ok(rc == 0 && tap_close(w, strtod(f[1], NULL), 1e-12),
			    "weight \"%s\" is %s (got %g%s%s)", f[0], f[1], w,
			    cause ? ": " : "", cause ? cause : "");
		} else
			tap_ok(0, "weights.tsv: bad line %s", line);
		free(cause);
	}
	free(text);
}

/* Channels by name and back. */
static void
test_channels(void)
{
	static const char *names[] = { "paper", "web", "sms", "kiosk" };
	int i, ok = 1;

	for (i = 0; i < 4; i++) {
		if (channel_parse(names[i]) != i || strcmp(channel_name(i), names[i]) != 0)
			ok = 0;
	}
	tap_ok(ok, "channel names parse and print");
	tap_ok(channel_parse("Kiosk") == CHANNEL_KIOSK, "channel names ignore case");
	tap_ok(channel_parse("fax") == -1 && channel_parse("") == -1,
	    "unknown channels are rejected");
}

/* Answers on a scale, straight from response_answer_parse. */
static void
test_answers(void)
{
	struct survey *s = case_survey("mini");
	char *cause = NULL;
	int v = 0, rc;

	if (!tap_ok(s != NULL, "mini survey loads"))
		return;
	tap_ok(response_answer_parse(&s->items[0], " 4 ", &v, &cause) == 0 && v == 4,
	    "answer \" 4 \" is 4");
	tap_ok(response_answer_parse(&s->items[0], "", &v, &cause) == 0 &&
	    v == ANSWER_NONE, "an empty answer is no answer");
	tap_ok(response_answer_parse(&s->items[1], "0", &v, &cause) == 0 && v == 0,
	    "0 is an answer on a scale that has it");
	rc = response_answer_parse(&s->items[0], "9", &v, &cause);
	tap_ok(rc == -1 && cause != NULL &&
	    strcmp(cause, "value 9 is not on scale SAT5 (1, 2, 3, 4, 5)") == 0,
	    "9 is not on SAT5, said in full (%s)", cause != NULL ? cause : "");
	free(cause);
	cause = NULL;
	tap_ok(response_answer_parse(&s->items[0], "0", &v, &cause) == -1,
	    "0 is not on SAT5: never 'no answer'");
	free(cause);
	cause = NULL;
	tap_ok(response_answer_parse(&s->items[0], "12345678901234567890", &v, &cause) == -1,
	    "a huge number is rejected, not overflowed");
	free(cause);
	survey_free(s);
}

/* csvin_row_write: a bad row handed back as it was sent, trimmed. */
struct row_write {
	struct csvin *c;
	struct csvout out;
	long row;
};

static int
test_row_write_error(const struct csvin_error *e, void *arg)
{
	struct row_write *w = arg;

	if (e->row > 0 && w->row == 0) {
		w->row = e->row;
		csvin_row_write(w->c, &w->out);
	}
	return 0;
}

static void
test_row_write(void)
{
	struct survey *s = case_survey("mini");
	struct row_write w;
	struct csvout head;
	const char *text = "unit, id ,Q1\nU001,a,4\n U001 ,\"b,\"\"x\"\"\",9\n";
	const char *want = "U001,\"b,\"\"x\"\"\",9";

	if (!tap_ok(s != NULL, "mini survey loads"))
		return;
	memset(&w, 0, sizeof w);
	csvout_init(&w.out, "\n");
	csvout_init(&head, "\n");
	w.c = csvin_create(s, NULL, test_row_write_error, &w);
	csvin_push(w.c, text, strlen(text));
	csvin_finish(w.c);
	tap_ok(w.row == 2 && w.out.len == strlen(want) &&
	    memcmp(w.out.data, want, w.out.len) == 0,
	    "the bad row 2 written back as CSV, trimmed and quoted (%.*s)",
	    (int)w.out.len, w.out.data != NULL ? w.out.data : "");
	csvin_header_write(w.c, &head);
	tap_ok(head.len == 10 && memcmp(head.data, "unit,id,Q1", 10) == 0,
	    "the header's names written back (%.*s)", (int)head.len,
	    head.data != NULL ? head.data : "");
	csvin_free(w.c);
	csvout_free(&w.out);
	csvout_free(&head);
	survey_free(s);
}

/* Callbacks that say stop: reading stops there, with -1. */
static void
test_stop(void)
{
	struct survey *s = case_survey("mini");
	struct run run;
	char *data;
	size_t len;

	data = data_read("good-basic.csv", &len);
	if (!tap_ok(s != NULL && data != NULL, "good-basic.csv and mini survey load")) {
		free(data);
		survey_free(s);
		return;
	}
	memset(&run, 0, sizeof run);
	run.stop_after = 2;
	run_case(s, data, len, 0, 0, &run);
	tap_ok(run.rc == -1 && run.good == 2, "a row callback returning -1 stops (%d, %ld)",
	    run.rc, run.good);
	run_clear(&run);
	run.stop_after = 2;
	run_case(s, data, len, 1, 0, &run);
	tap_ok(run.rc == -1 && run.good == 2, "... also one byte at a time");
	run_clear(&run);
	free(data);

	data = data_read("bad-scale.csv", &len);
	run.stop_on_error = 1;
	run_case(s, data, len, 0, 0, &run);
	tap_ok(run.rc == -1 && run.good == 0 && run.rows == 1,
	    "an error callback returning -1 stops (%d, %ld rows)", run.rc, run.rows);
	run_clear(&run);
	free(data);
	survey_free(s);
}

/* A row beyond CSVIN_ROW_MAX is refused before it is all in memory. */
static void
test_long_row(void)
{
	struct survey *s = case_survey("mini");
	struct csvin *in;
	struct run run;
	char *chunk;
	size_t i, pushed = 0;
	int rc = 0;

	if (s == NULL)
		return;
	memset(&run, 0, sizeof run);
	chunk = xmalloc(65536);
	memset(chunk, 'x', 65536);
	in = csvin_create(s, on_row, on_error, &run);
	rc = csvin_push(in, "unit,respondent.note\nU1,\"", 25);
	/* An unterminated quote: the rest of the input would be one field. */
	for (i = 0; rc == 0 && i < 64; i++) {
		rc = csvin_push(in, chunk, 65536);
		pushed += 65536;
	}
	tap_ok(rc == -1 && pushed <= CSVIN_ROW_MAX + 2 * 65536,
	    "an endless field stops the reader after %zu bytes", pushed);
	tap_ok(strstr(buf_str(&run.errors), "row is longer than") != NULL,
	    "... saying the row is too long");
	tap_ok(csvin_push(in, "x", 1) == -1 && csvin_finish(in) == -1,
	    "a stopped reader stays stopped");
	csvin_free(in);
	run_clear(&run);
	free(chunk);
	survey_free(s);
}

/* "x*N" is N letters x; anything else is itself. Owned. */
static char *
rules_text(const char *s)
{
	const char *star = strchr(s, '*');
	char *out;
	int n;

	if (star == NULL || star - s != 1)
		return xstrdup(s);
	n = atoi(star + 1);
	out = xmalloc((size_t)n + 1);
	memset(out, s[0], (size_t)n);
	out[n] = '\0';
	return out;
}

/* rules.tsv: response_validate accepts a response or names the field. */
static void
test_rules(void)
{
	struct survey *s = case_survey("mini");
	struct response_rules rules;
	struct response *r;
	char *data, *text, *pos, *line, *f[9], *field, *cause, *eq, *key;
	size_t len;
	int rc;

	if (s == NULL || !tap_ok((data = data_read("rules.tsv", &len)) != NULL,
	    "rules.tsv readable")) {
		survey_free(s);
		return;
	}
	pos = data;
	while ((line = next_line(&pos)) != NULL) {
		if (split_tabs(line, f, 9) != 9) {
			tap_ok(0, "rules.tsv: a line with 9 fields: %s", line);
			continue;
		}
		r = response_create(s);
		r->unit = rules_text(f[0]);
		r->id = rules_text(f[1]);
		r->weight = strtod(f[2], NULL);
		response_rules_default(&rules);
		rules.now = 1750000000;
		rules.channel_ids = atoi(f[6]);
		if (strcmp(f[3], "-") != 0) {
			r->has_time = 1;
			r->submitted_at = rules.now + atoll(f[3]);
		}
		if (atoi(f[4]))
			r->answers[0] = 1;
		if ((eq = strchr(f[5], '=')) != NULL) {
			*eq = '\0';
			key = rules_text(f[5]);
			text = rules_text(eq + 1);
			response_respondent_add(r, key, text);
			free(key);
			free(text);
			*eq = '=';
		}
		field = cause = NULL;
		rc = response_validate(r, &rules, &field, &cause);
		if (strcmp(f[7], "-") == 0)
			tap_ok(rc == 0, "rules: %.40s %.40s %s %s %s %.20s accepted (%s)",
			    f[0], f[1], f[2], f[3], f[4], f[5],
			    cause != NULL ? cause : "ok");
		else
			tap_ok(rc == -1 && field != NULL && cause != NULL &&
			    strcmp(field, f[7]) == 0 && strstr(cause, f[8]) != NULL &&
			    strlen(cause) < 200,
			    "rules: %.40s %.40s %s %s %s %.20s refused, %s: ...%s... "
			    "(got %s: %s)", f[0], f[1], f[2], f[3], f[4], f[5], f[7],
			    f[8], field != NULL ? field : "-",
			    cause != NULL ? cause : "accepted");
		free(field);
		free(cause);
		response_free(r);
	}
	free(data);
	survey_free(s);
}

/* What a reader detects in a file: encoding, delimiter, dates. */
static void
test_formats(void)
{
	static const struct {
		const char *file, *encoding;
		char delimiter;
		const char *dates;
	} cases[] = {
		{ "good-basic.csv", "utf-8", ',', "iso8601" },
		{ "good-bom-crlf.csv", "utf-8", ',', "iso8601" },
		{ "good-cp1258-semicolon.csv", "windows-1258", ';', "dd/mm/yyyy" },
		{ "good-utf16le-tab.csv", "utf-16le", '\t', "dd/mm/yyyy" },
		{ "good-utf16be.csv", "utf-16be", ',', "dd/mm/yyyy" },
		{ "good-utf16le-nobom.csv", "utf-16le", ',', "dd/mm/yyyy" },
		{ "good-utf8-nfd.csv", "utf-8", ';', "dd/mm/yyyy" },
		{ "bad-dmy.csv", "utf-8", ',', "mixed" },
		{ "bad-utf8-header.csv", "windows-1258", ',', "iso8601" },
	};
	struct survey *s = case_survey("mini");
	struct csvin_format f;
	struct csvin *in;
	struct run run;
	char *data;
	size_t i, len;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		data = data_read(cases[i].file, &len);
		memset(&run, 0, sizeof run);
		in = csvin_create(s, on_row, on_error, &run);
		if (data != NULL)
			csvin_push(in, data, len);
		csvin_finish(in);
		csvin_format_get(in, &f);
		tap_ok(data != NULL && strcmp(f.encoding, cases[i].encoding) == 0 &&
		    f.delimiter == cases[i].delimiter &&
		    strcmp(f.dates, cases[i].dates) == 0,
		    "%s: %s, '%c', %s (got %s, '%c', %s)", cases[i].file,
		    cases[i].encoding, cases[i].delimiter == '\t' ? 'T' :
		    cases[i].delimiter, cases[i].dates, f.encoding,
		    f.delimiter == '\t' ? 'T' : f.delimiter, f.dates);
		csvin_free(in);
		run_clear(&run);
		free(data);
	}
	survey_free(s);
}

/* Two pushes cut at every byte read a file as one push does. */
static void
test_split_everywhere(void)
{
	static const char *files[] = { "good-cp1258-semicolon.csv",
	    "good-utf16le-tab.csv", "good-utf16be.csv", "bad-utf16-surrogate.csv",
	    "bad-late-cp1258.csv", "good-utf8-nfd.csv" };
	struct survey *s = case_survey("mini");
	struct run whole, run;
	struct csvin *in;
	char *data;
	size_t i, k, len, bad;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		data = data_read(files[i], &len);
		if (!tap_ok(data != NULL, "%s readable", files[i]))
			continue;
		memset(&whole, 0, sizeof whole);
		run_case(s, data, len, 0, 0, &whole);
		bad = 0;
		for (k = 0; k <= len; k++) {
			memset(&run, 0, sizeof run);
			in = csvin_create(s, on_row, on_error, &run);
			run.rc = csvin_push(in, data, k);
			if (run.rc == 0)
				run.rc = csvin_push(in, data + k, len - k);
			if (run.rc == 0)
				run.rc = csvin_finish(in);
			if (run.rc != whole.rc || strcmp(buf_str(&run.dump),
			    buf_str(&whole.dump)) != 0 || strcmp(buf_str(
			    &run.errors), buf_str(&whole.errors)) != 0) {
				if (bad++ == 0)
					tap_diag("cut at %zu:\n%s%s", k,
					    buf_str(&run.dump), buf_str(&run.errors));
			}
			csvin_free(in);
			run_clear(&run);
		}
		tap_ok(bad == 0, "%s: the same cut at each of its %zu bytes "
		    "(%zu differ)", files[i], len, bad);
		run_clear(&whole);
		free(data);
	}
	survey_free(s);
}

/* A charset named by the caller wins over detection. */
static void
test_encoding_set(void)
{
	struct survey *s = case_survey("mini");
	struct csvin *in;
	struct run run;
	char *data;
	size_t len;

	in = csvin_create(s, on_row, on_error, &run);
	tap_ok(csvin_encoding_set(in, "latin-9") == -1,
	    "an encoding not read is refused");
	tap_ok(csvin_encoding_set(in, "UTF-8") == 0 &&
	    csvin_encoding_set(in, "Windows-1258") == 0 &&
	    csvin_encoding_set(in, "utf-16") == 0, "charsets match in any case");
	csvin_free(in);

	/* An empty input in an encoding that is decoded: an empty file, no more. */
	memset(&run, 0, sizeof run);
	in = csvin_create(s, on_row, on_error, &run);
	csvin_encoding_set(in, "windows-1258");
	tap_ok(csvin_finish(in) == -1 && run.good == 0,
	    "an empty Windows-1258 input is an empty file");
	csvin_free(in);
	run_clear(&run);
	memset(&run, 0, sizeof run);
	in = csvin_create(s, on_row, on_error, &run);
	tap_ok(csvin_finish(in) == -1 && run.good == 0,
	    "an empty input of no stated encoding is an empty file");
	csvin_free(in);
	run_clear(&run);

	data = data_read("good-cp1258-semicolon.csv", &len);
	memset(&run, 0, sizeof run);
	in = csvin_create(s, on_row, on_error, &run);
	csvin_encoding_set(in, "utf-8");
	csvin_push(in, data, len);
	csvin_finish(in);
	tap_ok(run.good == 0 && strstr(buf_str(&run.errors),
	    "invalid UTF-8: save the file as CSV UTF-8") != NULL,
	    "Windows-1258 read as the UTF-8 it was said to be: row errors");
	csvin_free(in);
	run_clear(&run);
	free(data);

	/* Bytes that detection takes for UTF-8, said to be Windows-1258. */
	data = xstrdup("unit,respondent.name\nU1,\xc3\xa1\n");
	memset(&run, 0, sizeof run);
	in = csvin_create(s, on_row, on_error, &run);
	csvin_encoding_set(in, "cp1258");
	csvin_push(in, data, strlen(data));
	csvin_finish(in);
	tap_ok(run.good == 1 && strstr(buf_str(&run.dump), "name:\xc4\x82\xc2\xa1") !=
	    NULL, "a named charset decodes as told (%s)", buf_str(&run.dump));
	csvin_free(in);
	run_clear(&run);
	free(data);
	survey_free(s);
}

/* dd/mm/yyyy: day first, Vietnam time. */
static void
test_dmy(void)
{
	char *cause = NULL, when[32];
	int64_t utc;
	int tz, rc;

	tap_ok(time_parse_dmy("13/05/2025", &utc, &tz, &cause) == 0 &&
	    (time_format_iso8601(utc, tz, when), strcmp(when,
	    "2025-05-13T00:00:00+07:00") == 0), "13/05/2025 is 13 May, "
	    "midnight in Vietnam");
	tap_ok(time_parse_dmy("05/04/2025 23:59:30", &utc, &tz, &cause) == 0 &&
	    (time_format_iso8601(utc, tz, when), strcmp(when,
	    "2025-04-05T23:59:30+07:00") == 0), "05/04/2025 23:59:30 is 5 April");
	rc = time_parse_dmy("04/13/2025", &utc, &tz, &cause);
	tap_ok(rc == -1 && strstr(cause, "dd/mm/yyyy") != NULL, "04/13/2025 is "
	    "refused, naming the format (%s)", cause);
	free(cause);
}

/* Tests of csvin and response.c. */
int
main(void)
{
	util_jansson_init();
	gsl_set_error_handler_off();

	test_channels();
	test_times();
	test_weights();
	test_answers();
	test_cases();
	test_stop();
	test_long_row();
	test_rules();
	test_formats();
	test_split_everywhere();
	test_encoding_set();
	test_dmy();
	test_row_write();
	return tap_done();
}
