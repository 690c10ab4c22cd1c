/*
 * run.c: from stored rows to a report (report_run.h): periods, the decoding
 * of stored answers, one analysis per period keyed by child unit (the period
 * and the previous one) or by the unit alone (older trend periods), and the
 * parent from its children by analysis_merge.
 *
 * Owns the analyses of one report: memory grows with periods and child
 * units, never with rows. Must not do I/O or talk to a
 * database: sipasctl and sipasd fetch the rows.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "sipas/analysis.h"
#include "sipas/report_run.h"
#include "sipas/response.h"
#include "sipas/strmap.h"
#include "sipas/survey.h"
#include "sipas/util.h"

struct report_run {
	const struct survey *survey;
	double level;
	char *unit;
	int nper;		 /* periods: [0] the period, [1] the previous, then older */
	int ntrend;		 /* of which the trend shows the last ntrend */
	char (*pfrom)[REPORT_DAY_LEN], (*pto)[REPORT_DAY_LEN];
	struct analysis **a;	 /* [nper]: [0], [1] keyed by child, older by unit */
	struct strmap *kids[2];	 /* child codes seen in the period and the previous */
	struct strmap *index;	 /* item code -> index + 1 */
	int *answers;
	long rows, skipped;
	long states, state_rows, bad_states;
};

/* --- days --- */

/* The day number of a date (common/response.c's arithmetic). */
static long
report_day_number(int y, int m, int d)
{
	return (long)time_day_number(y, m, d);
}

/* The civil date of a day number. */
static void
report_day_civil(long z, int *y, int *m, int *d)
{
	int64_t yy;

	time_day_civil(z, &yy, m, d);
	*y = (int)yy;
}

/* 1 if s is YYYY-MM-DD, a day that exists inside the supported range. */
int
report_day_valid(const char *s)
{
	return s != NULL && response_date_valid(s);
}

/* Write a day. */
static void
report_day_write(char *out, int y, int m, int d)
{
	char buf[48];

	snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
	memcpy(out, buf, REPORT_DAY_LEN - 1);
	out[REPORT_DAY_LEN - 1] = '\0';
}

/* 1 if the day (y, m, d) is on or after the first supported day. */
static int
report_day_supported(int y, int m, int d)
{
	char day[REPORT_DAY_LEN];

	if (y < 0 || y > 9999)
		return 0;
	report_day_write(day, y, m, d);
	return strcmp(day, RESPONSE_DATE_MIN) >= 0;
}

/* The previous period of equal length (months when whole months, else days). */
int
report_period_previous(const char *from, const char *to, char *pfrom, char *pto)
{
	int fy, fm, fd, ty, tm, td, months, y, m;
	long a, b;

	if (!report_day_valid(from) || !report_day_valid(to) || strcmp(from, to) > 0)
		return -1;
	fy = atoi(from), fm = atoi(from + 5), fd = atoi(from + 8);
	ty = atoi(to), tm = atoi(to + 5), td = atoi(to + 8);
	if (fd == 1 && td == util_month_days(ty, tm)) {
		months = (ty * 12 + tm - 1) - (fy * 12 + fm - 1) + 1;
		m = fy * 12 + fm - 1 - months;
		if (m < 0 || !report_day_supported(m / 12, m % 12 + 1, 1))
			return -1;
		y = m / 12;
		report_day_write(pfrom, y, m % 12 + 1, 1);
		m = fy * 12 + fm - 1 - 1;
		report_day_write(pto, m / 12, m % 12 + 1, util_month_days(m / 12, m % 12 + 1));
		return 0;
	}
	a = report_day_number(fy, fm, fd);
	b = report_day_number(ty, tm, td);
	report_day_civil(a - (b - a + 1), &y, &m, &fd);
	if (!report_day_supported(y, m, fd))
		return -1;
	report_day_write(pfrom, y, m, fd);
	report_day_civil(a - 1, &y, &m, &fd);
	report_day_write(pto, y, m, fd);
	return 0;
}

/* The last closed period of kind before today. */
int
report_period_closed(enum report_period kind, const char *today, char *from, char *to,
    char *label, size_t len)
{
	int y, m, first, months;

	if (!report_day_valid(today))
		return -1;
	y = atoi(today);
	m = atoi(today + 5);
	switch (kind) {
	case REPORT_PERIOD_MONTH:
		first = y * 12 + m - 1 - 1;
		months = 1;
		snprintf(label, len, "%04d-%02d", first / 12, first % 12 + 1);
		break;
	case REPORT_PERIOD_QUARTER:
		first = y * 12 + (m - 1) / 3 * 3 - 3;
		months = 3;
		snprintf(label, len, "%04d-Q%d", first / 12, first % 12 / 3 + 1);
		break;
	case REPORT_PERIOD_YEAR:
		first = (y - 1) * 12;
		months = 12;
		snprintf(label, len, "%04d", y - 1);
		break;
	default:
		return -1;
	}
	report_day_write(from, first / 12, first % 12 + 1, 1);
	first += months - 1;
	report_day_write(to, first / 12, first % 12 + 1,
	    util_month_days(first / 12, first % 12 + 1));
	return 0;
}

/* Today in Vietnam time. */
void
report_day_today(char *day)
{
	time_t t = time(NULL) + 7 * 3600;
	struct tm tm;

	gmtime_r(&t, &tm);
	report_day_write(day, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* --- answers --- */

/* --- the run --- */

/* Start a run: the periods, newest first, and their analyses. */
struct report_run *
report_run_create(const struct survey *s, double level, const char *unit, const char *from,
    const char *to, int ntrend)
{
	struct report_run *rr = xcalloc(1, sizeof *rr);
	int i;

	ASSERT(report_day_valid(from) && report_day_valid(to) && strcmp(from, to) <= 0);
	rr->survey = s;
	rr->level = level;
	rr->unit = xstrdup(unit);
	rr->ntrend = ntrend < 1 ? 1 : ntrend > REPORT_TREND_MAX ? REPORT_TREND_MAX : ntrend;
	rr->nper = rr->ntrend < 2 ? 2 : rr->ntrend;
	rr->pfrom = xcalloc((size_t)rr->nper, sizeof *rr->pfrom);
	rr->pto = xcalloc((size_t)rr->nper, sizeof *rr->pto);
	rr->a = xcalloc((size_t)rr->nper, sizeof *rr->a);
	snprintf(rr->pfrom[0], REPORT_DAY_LEN, "%s", from);
	snprintf(rr->pto[0], REPORT_DAY_LEN, "%s", to);
	for (i = 1; i < rr->nper; i++) {
		if (report_period_previous(rr->pfrom[i - 1], rr->pto[i - 1], rr->pfrom[i],
		    rr->pto[i]) != 0) {
			rr->nper = i; /* no earlier supported days to step to */
			break;
		}
	}
	/* Every loop over periods, the trend's too, stops at nper. */
	if (rr->ntrend > rr->nper)
		rr->ntrend = rr->nper;
	for (i = 0; i < rr->nper; i++)
		rr->a[i] = analysis_create(s, level);
	rr->kids[0] = strmap_create();
	rr->kids[1] = strmap_create();
	rr->index = response_item_index(s);
	rr->answers = xcalloc((size_t)s->nitems + 1, sizeof *rr->answers);
	return rr;
}

/* Free a run; NULL-safe. */
void
report_run_free(struct report_run *rr)
{
	int i;

	if (rr == NULL)
		return;
	for (i = 0; i < rr->nper; i++)
		analysis_free(rr->a[i]);
	free(rr->a);
	free(rr->pfrom);
	free(rr->pto);
	strmap_free(rr->kids[0]);
	strmap_free(rr->kids[1]);
	strmap_free(rr->index);
	free(rr->answers);
	free(rr->unit);
	free(rr);
}

/* The first day of the oldest period. */
const char *
report_run_start(const struct report_run *rr)
{
	return rr->pfrom[rr->nper - 1];
}

/* Periods in the run (the period, the previous one if supported, older ones). */
int
report_run_periods(const struct report_run *rr)
{
	return rr->nper;
}

/* The period holding day (0 the newest), or -1. */
static int
report_run_period(const struct report_run *rr, const char *day)
{
	int i;

	if (day == NULL || strncmp(day, rr->pto[0], 10) > 0)
		return -1;
	for (i = 0; i < rr->nper; i++) {
		if (strncmp(day, rr->pfrom[i], 10) >= 0)
			return i;
	}
	return -1;
}

/* Fold one row into its period, under its child (or the unit itself). */
int
report_run_add(struct report_run *rr, const char *day, const char *child, double weight,
    const char *stratum, const char *psu, const char *answers, size_t len)
{
	struct analysis_row ar;
	int p = report_run_period(rr, day);
	const char *key = child != NULL && *child != '\0' ? child : rr->unit;

	if (p < 0)
		return 0;
	if (response_answers_decode(rr->survey, rr->index, answers, len, rr->answers) != 0) {
		rr->skipped++;
		return -1;
	}
	rr->rows++;
	ar.weight = weight > 0 ? weight : 1;
	ar.stratum = stratum;
	ar.psu = psu;
	ar.answers = rr->answers;
	if (p >= 2)
		key = rr->unit; /* an older period: the unit's overall only */
	else if (key != rr->unit && strmap_get(rr->kids[p], key) == NULL)
		strmap_put(rr->kids[p], key, (void *)1);
	analysis_add(rr->a[p], key, &ar);
	return 0;
}

/*
 * Merge a stored state of a whole month (month its first day) into its
 * period, under child (or the unit itself), as report_run_add would have
 * added its rows. -1 if the state cannot be read (nothing merged).
 */
int
report_run_state(struct report_run *rr, const char *month, const char *child, long rows,
    const void *state, size_t len)
{
	int p = report_run_period(rr, month);
	const char *key = child != NULL && *child != '\0' ? child : rr->unit;

	if (p < 0)
		return 0;
	if (p >= 2)
		key = rr->unit;
	if (analysis_state_merge(rr->a[p], key, state, len) != 0) {
		rr->bad_states++;
		return -1;
	}
	rr->states++;
	rr->state_rows += rows;
	rr->rows += rows;
	if (key != rr->unit && strmap_get(rr->kids[p], key) == NULL)
		strmap_put(rr->kids[p], key, (void *)1);
	return 0;
}

/* States merged, the responses they hold and states that could not be read. */
long
report_run_states(const struct report_run *rr, long *rows, long *bad)
{
	if (rows != NULL)
		*rows = rr->state_rows;
	if (bad != NULL)
		*bad = rr->bad_states;
	return rr->states;
}

/* Append s to a growing buffer. */
static void
report_run_cat(char **buf, size_t *len, const char *s)
{
	size_t n = strlen(s);

	*buf = xreallocarray(*buf, *len + n + 1, 1);
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

/* The day number of a YYYY-MM-DD day. */
static long
report_run_day(const char *s)
{
	return report_day_number(atoi(s), atoi(s + 5), atoi(s + 8));
}


/* Append midnight (+07:00) at day number z to an array literal, quoted. */
static void
report_run_cat_midnight(char **buf, size_t *len, long z)
{
	char t[32], lit[48];

	time_midnight_vn(z, t);
	snprintf(lit, sizeof lit, "%s\"%s\"", *len > 1 ? "," : "", t);
	report_run_cat(buf, len, lit);
}

/* What to read for every period: its whole months as states, the other days raw. */
void
report_run_ranges(const struct report_run *rr, int raw, struct report_ranges *g)
{
	size_t nm = 1, nl = 1, nh = 1;
	long a, b, f0, f1;
	int i, y, m, d, first, last, k;
	char lit[32];

	memset(g, 0, sizeof *g);
	g->months = xstrdup("{");
	g->lo = xstrdup("{");
	g->hi = xstrdup("{");
	time_midnight_vn(report_run_day(rr->pfrom[rr->nper - 1]), g->t0);
	time_midnight_vn(report_run_day(rr->pto[0]) + 1, g->t1);
	for (i = 0; i < rr->nper; i++) {
		a = report_run_day(rr->pfrom[i]);
		b = report_run_day(rr->pto[i]) + 1; /* the day after the period */
		/* Whole months first..last (months since year 0); none if first > last. */
		report_day_civil(a, &y, &m, &d);
		first = y * 12 + m - 1 + (d == 1 ? 0 : 1);
		report_day_civil(b, &y, &m, &d);
		last = y * 12 + m - 1 - 1; /* the month before the one holding b */
		if (raw || first > last) {
			report_run_cat_midnight(&g->lo, &nl, a);
			report_run_cat_midnight(&g->hi, &nh, b);
			g->nraw++;
			continue;
		}
		f0 = report_day_number(first / 12, first % 12 + 1, 1);
		f1 = report_day_number((last + 1) / 12, (last + 1) % 12 + 1, 1);
		for (k = first; k <= last; k++) {
			snprintf(lit, sizeof lit, "%s%04d-%02d-01", nm > 1 ? "," : "", k / 12,
			    k % 12 + 1);
			report_run_cat(&g->months, &nm, lit);
		}
		if (a < f0) {
			report_run_cat_midnight(&g->lo, &nl, a);
			report_run_cat_midnight(&g->hi, &nh, f0);
			g->nraw++;
		}
		if (f1 < b) {
			report_run_cat_midnight(&g->lo, &nl, f1);
			report_run_cat_midnight(&g->hi, &nh, b);
			g->nraw++;
		}
	}
	report_run_cat(&g->months, &nm, "}");
	report_run_cat(&g->lo, &nl, "}");
	report_run_cat(&g->hi, &nh, "}");
}

/* Free the literals of report_run_ranges. */
void
report_ranges_clear(struct report_ranges *g)
{
	free(g->months);
	free(g->lo);
	free(g->hi);
	memset(g, 0, sizeof *g);
}

/* Rows folded and skipped. */
long
report_run_rows(const struct report_run *rr, long *skipped)
{
	if (skipped != NULL)
		*skipped = rr->skipped;
	return rr->rows;
}

/* bsearch/qsort on strings. */
static int
report_run_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The children seen in either period, sorted. */
const char **
report_run_children(const struct report_run *rr, size_t *n)
{
	const char **v, *code;
	size_t pos, cap = strmap_count(rr->kids[0]) + strmap_count(rr->kids[1]), k = 0;
	void *x;
	int p;

	v = xcalloc(cap + 1, sizeof *v);
	for (p = 0; p < 2; p++) {
		pos = 0;
		while (strmap_next(rr->kids[p], &pos, &code, &x)) {
			if (p == 1 && strmap_get(rr->kids[0], code) != NULL)
				continue;
			v[k++] = code;
		}
	}
	qsort(v, k, sizeof *v, report_run_strcmp);
	*n = k;
	return v;
}

/* Merge the children seen in period p into the unit. */
static void
report_run_merge(struct report_run *rr, int p)
{
	const char *code;
	void *v;
	size_t pos = 0;

	while (strmap_next(rr->kids[p], &pos, &code, &v)) {
		if (strcmp(code, rr->unit) != 0)
			analysis_merge(rr->a[p], rr->unit, rr->a[p], code);
	}
}

/* Compute the periods and build the report. */
struct report *
report_run_finish(struct report_run *rr, const struct report_params *params, char **cause)
{
	struct report_params p = *params;
	struct report_point *pts;
	struct result **res;
	const struct unit_result *u;
	struct report *r;
	char buf[128];
	size_t n = 0;
	int i, oldest = -1;

	ASSERT(strcmp(p.unit, rr->unit) == 0);
	ASSERT(rr->ntrend >= 1 && rr->ntrend <= rr->nper);
	report_run_merge(rr, 0);
	if (rr->nper > 1)
		report_run_merge(rr, 1);
	else
		p.prev_from = p.prev_to = NULL; /* no previous period */
	res = xcalloc((size_t)rr->nper, sizeof *res);
	for (i = 0; i < rr->nper; i++)
		res[i] = analysis_result(rr->a[i]);
	pts = xcalloc((size_t)rr->ntrend + 1, sizeof *pts);
	if (p.ntrend == 0) {
		/* From the oldest period with data to the period; the gaps as NAN. */
		for (i = 0; i < rr->ntrend; i++) {
			if ((u = result_unit_find(res[i], rr->unit)) != NULL && u->respondents > 0)
				oldest = i;
		}
		for (i = oldest; i >= 0; i--) {
			pts[n].label = xstrdup(util_period_text(rr->pfrom[i], rr->pto[i],
			    p.lang == REPORT_LANG_EN, buf, sizeof buf));
			if ((u = result_unit_find(res[i], rr->unit)) != NULL && u->respondents > 0)
				pts[n].estimate = u->groups[rr->survey->ngroups - 1];
			else {
				pts[n].estimate.value = pts[n].estimate.se = NAN;
				pts[n].estimate.ci_low = pts[n].estimate.ci_high = NAN;
			}
			n++;
		}
		p.trend = pts;
		p.ntrend = n;
	}
	r = report_create(res[0], p.prev_from != NULL ? res[1] : NULL, &p, cause);
	while (n > 0)
		free(pts[--n].label);
	free(pts);
	for (i = 0; i < rr->nper; i++)
		result_free(res[i]);
	free(res);
	return r;
}

/* --- schedules --- */

/* Free a schedule; NULL-safe. */
void
report_schedule_free(struct report_schedule *sc)
{
	size_t i;

	if (sc == NULL)
		return;
	for (i = 0; i < sc->nunits; i++)
		free(sc->units[i]);
	for (i = 0; i < sc->nformats; i++)
		free(sc->formats[i]);
	free(sc->units);
	free(sc->formats);
	free(sc->survey);
	free(sc->dir);
	free(sc);
}

/* Split a comma list into *v. */
static size_t
report_schedule_list(const char *s, char ***v)
{
	const char *p = s, *c;
	size_t n = 0;

	*v = NULL;
	while (*p != '\0') {
		c = strchr(p, ',');
		if (c == NULL)
			c = p + strlen(p);
		if (c > p) {
			*v = xreallocarray(*v, n + 1, sizeof **v);
			(*v)[n++] = xstrndup(p, (size_t)(c - p));
		}
		p = *c == ',' ? c + 1 : c;
	}
	return n;
}

/* Parse "survey=... units=... formats=... dir=...". */
int
report_schedule_parse(const char *text, struct report_schedule **out, char **cause)
{
	struct report_schedule *sc;
	char *copy, *word, *save = NULL, *eq;
	size_t i;

	*out = NULL;
	if (text == NULL || text[strspn(text, " \t")] == '\0')
		return 0;
	sc = xcalloc(1, sizeof *sc);
	copy = xstrdup(text);
	for (word = strtok_r(copy, " \t", &save); word != NULL; word = strtok_r(NULL, " \t", &save)) {
		if ((eq = strchr(word, '=')) == NULL || eq[1] == '\0') {
			xasprintf(cause, "'%s' is not NAME=VALUE", word);
			goto fail;
		}
		*eq++ = '\0';
		if (strcmp(word, "survey") == 0 && sc->survey == NULL)
			sc->survey = xstrdup(eq);
		else if (strcmp(word, "units") == 0 && sc->units == NULL)
			sc->nunits = report_schedule_list(eq, &sc->units);
		else if (strcmp(word, "formats") == 0 && sc->formats == NULL)
			sc->nformats = report_schedule_list(eq, &sc->formats);
		else if (strcmp(word, "dir") == 0 && sc->dir == NULL)
			sc->dir = xstrdup(eq);
		else {
			xasprintf(cause, "unknown or repeated '%s' (survey, units, formats, dir)", word);
			goto fail;
		}
	}
	if (sc->survey == NULL || sc->nunits == 0 || sc->nformats == 0 || sc->dir == NULL) {
		xasprintf(cause, "survey=, units=, formats= and dir= are all required");
		goto fail;
	}
	if (sc->dir[0] != '/') {
		xasprintf(cause, "dir must be an absolute path");
		goto fail;
	}
	for (i = 0; i < sc->nformats; i++) {
		if (report_format_mime(sc->formats[i]) == NULL) {
			xasprintf(cause, "unknown format '%s' (xlsx, pdf, csv, html)", sc->formats[i]);
			goto fail;
		}
	}
	free(copy);
	*out = sc;
	return 0;
fail:
	free(copy);
	report_schedule_free(sc);
	return -1;
}
