/*
 * fuzz_report_run.c: libFuzzer target for a report's periods (report/run.c):
 * the input picks a period (its first day anywhere from 1900-01-01 to
 * 9999-12-30, a length in days or whole months, so that periods and trends
 * reach past either end of the supported days), a trend length (also out of
 * range: report_run_create clamps it) and rows on days around the periods,
 * then report_run_create, report_run_add, report_run_finish and
 * report_create run as sipasd runs them. Besides sanitizer reports it traps
 * when the trend holds more points than periods kept or the oldest period
 * starts before RESPONSE_DATE_MIN.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sipas/report.h"
#include "sipas/report_run.h"
#include "sipas/response.h"
#include "sipas/survey.h"
#include "sipas/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct survey *fuzz_s;
static char *fuzz_answers;

/* Next n bytes of input as an unsigned number (0 once the input is used up). */
static unsigned long
fuzz_take(const uint8_t **p, const uint8_t *end, int n)
{
	unsigned long v = 0;

	while (n-- > 0 && *p < end)
		v = v << 8 | *(*p)++;
	return v;
}

/* The day z days after 1900-01-01 as YYYY-MM-DD; 0 if it is not supported. */
static int
fuzz_day(long z, char *out)
{
	int64_t y;
	int m, d;

	time_day_civil(time_day_number(1900, 1, 1) + z, &y, &m, &d);
	if (y < 1900 || y > 9999)
		return 0;
	snprintf(out, REPORT_DAY_LEN, "%04d-%02d-%02d", (int)y, m, d);
	return response_date_valid(out);
}

/* The built-in survey and one stored answers object, once. */
static void
fuzz_init(void)
{
	json_t *o;
	int i;

	if (fuzz_s != NULL)
		return;
	fuzz_s = survey_builtin_create("sipas-2017");
	o = json_object();
	for (i = 0; i < fuzz_s->nitems; i++)
		json_object_set_new(o, fuzz_s->items[i].code,
		    json_integer(fuzz_s->items[i].scale->values[i % fuzz_s->items[i].scale->nvalues]));
	fuzz_answers = json_dumps(o, JSON_COMPACT);
	json_decref(o);
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	const long last = (long)(time_day_number(9999, 12, 30) - time_day_number(1900, 1, 1));
	char from[REPORT_DAY_LEN], to[REPORT_DAY_LEN], day[REPORT_DAY_LEN];
	char pfrom[REPORT_DAY_LEN], pto[REPORT_DAY_LEN], *cause = NULL;
	struct report_run *rr;
	struct report_params rp;
	struct report *r;
	unsigned long mode;
	long a, len, z;
	int ntrend, y, m, rows, kept, i;

	fuzz_init();
	mode = fuzz_take(&p, end, 1);
	a = (long)(fuzz_take(&p, end, 3) % (unsigned long)(last + 1));
	len = (long)fuzz_take(&p, end, 3);
	ntrend = (int)(signed char)fuzz_take(&p, end, 1);
	if (!fuzz_day(a, from))
		return 0;
	if (mode & 1) {
		/* Whole months: from the 1st of from's month, len % 1200 + 1 months. */
		y = atoi(from);
		m = atoi(from + 5);
		snprintf(from, sizeof from, "%04d-%02d-01", y, m);
		m = y * 12 + m - 1 + (int)(len % 1200); /* the last month, from year 0 */
		if (m / 12 > 9999)
			return 0;
		z = time_day_number((m + 1) / 12, (m + 1) % 12 + 1, 1) -
		    time_day_number(m / 12, m % 12 + 1, 1);
		snprintf(to, sizeof to, "%04d-%02d-%02d", m / 12, m % 12 + 1, (int)z);
		if (!report_day_valid(to))
			return 0; /* 9999-12-31 */
	} else if (!fuzz_day(a + len % 40000, to))
		return 0;
	if (!report_day_valid(from) || !report_day_valid(to) || strcmp(from, to) > 0)
		__builtin_trap();

	rr = report_run_create(fuzz_s, 0.95, "U001", from, to, ntrend);
	kept = report_run_periods(rr);
	if (kept < 1 || kept > (ntrend < 2 ? 2 : ntrend > REPORT_TREND_MAX ? REPORT_TREND_MAX : ntrend) ||
	    strcmp(report_run_start(rr), RESPONSE_DATE_MIN) < 0)
		__builtin_trap();
	/* Rows on days around the periods, some under a child. */
	for (rows = 0; p < end && rows < 64; rows++) {
		z = a - (long)fuzz_take(&p, end, 3) % 200000 + 100000;
		if (fuzz_day(z, day))
			report_run_add(rr, day, (rows & 1) ? "C011" : NULL, 1, NULL, NULL, fuzz_answers,
			    strlen(fuzz_answers));
	}
	memset(&rp, 0, sizeof rp);
	rp.unit = "U001";
	rp.from = from;
	rp.to = to;
	if (report_period_previous(from, to, pfrom, pto) == 0) {
		rp.prev_from = pfrom;
		rp.prev_to = pto;
	} else if (kept > 1)
		__builtin_trap(); /* the run kept a previous period the callers refuse */
	rp.lang = (mode & 2) ? REPORT_LANG_EN : REPORT_LANG_VI;
	r = report_run_finish(rr, &rp, &cause);
	if (r != NULL && (int)r->ntrend > kept)
		__builtin_trap();
	report_free(r);
	free(cause);
	report_run_free(rr);
	return 0;
}
