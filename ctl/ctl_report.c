/*
 * ctl_report.c: sipasctl report --survey CODE --unit CODE --from DATE --to DATE
 * --format xlsx|pdf|csv|html -o FILE [--lang vi|en] [--min-n N]
 * [--level 0.95] [--trend N]: the periodic statistical report of a unit and its children
 * (docs/reports.md).
 *
 * One read-only transaction: the survey, the unit and its direct children
 * with their names, then the responses of the unit's subtree from the start
 * of the oldest trend period to the end of the period through one cursor,
 * each row tagged with its Vietnam day and the direct child it lies under.
 * The rows are folded by report/run.c (into their period by day; the period
 * and the previous one keyed by child, the unit from its children by
 * analysis_merge; older periods by the unit alone) and rendered by report/.
 * Memory does not grow with rows. Must not compute statistics itself.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ctl.h"
#include "ctl_db.h"
#include "ctl_report.h"
#include "sipas/report.h"
#include "sipas/report_run.h"
#include "sipas/response.h"
#include "sipas/survey.h"
#include "sipas/util.h"

/* Rows per FETCH. */
#define CTL_REPORT_FETCH "FETCH 20000 FROM report_rows"

/* Default minimum respondents of a ranked child unit (docs/reports.md). */
#define CTL_REPORT_MIN_N 30

/* Options of the verb. */
struct ctl_report_opts {
	const char *survey, *unit, *from, *to, *format, *output;
	enum report_lang lang;
	long min_n;
	double level;
	int trend;
};

/* The options of sipasctl report. */
const struct ctl_opt ctl_report_opts[] = {
	{ "survey", 's', 0, "CODE", "the stored survey" },
	{ "unit", 'u', 0, "CODE", "the unit; its children are compared" },
	{ "from", 'f', 0, "DATE", "first day of the period (YYYY-MM-DD)" },
	{ "to", 't', 0, "DATE", "last day of the period" },
	{ "format", 'F', 0, "FORMAT", "xlsx, pdf, csv or html (default: the "
	    "output's extension)" },
	{ "output", 'o', 'o', "FILE", "the report file" },
	{ "lang", 'L', 0, "LANG", "vi (default) or en" },
	{ "min-n", 'n', 0, "N", "respondents a child unit needs to be ranked "
	    "(default 30)" },
	{ "level", 'l', 0, "LEVEL", "confidence level, 0.5 to 0.999 (default "
	    "0.95)" },
	{ "trend", 'T', 0, "N", "periods in the trend of the overall index, "
	    "the report's own included (default 6)" },
	{ NULL, 0, 0, NULL, NULL },
};

/* Parse argv; 0 or -1 (usage printed). */
static int
ctl_report_args(int argc, char **argv, struct ctl_report_opts *o)
{
	const char *dot;
	char *end, pfrom[REPORT_DAY_LEN], pto[REPORT_DAY_LEN];
	long n;
	int c;

	memset(o, 0, sizeof *o);
	o->lang = REPORT_LANG_VI;
	o->min_n = CTL_REPORT_MIN_N;
	o->level = 0.95;
	o->trend = REPORT_TREND_DEFAULT;
	optind = 0;
	while ((c = ctl_getopt(argc, argv, ctl_report_opts)) != -1) {
		switch (c) {
		case 's':
			o->survey = optarg;
			break;
		case 'u':
			o->unit = optarg;
			break;
		case 'f':
			o->from = optarg;
			break;
		case 't':
			o->to = optarg;
			break;
		case 'F':
			o->format = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'L':
			if (strcmp(optarg, "vi") == 0)
				o->lang = REPORT_LANG_VI;
			else if (strcmp(optarg, "en") == 0)
				o->lang = REPORT_LANG_EN;
			else {
				ctl_warnx("--lang must be vi or en");
				return -1;
			}
			break;
		case 'n':
			o->min_n = strtol(optarg, &end, 10);
			if (*end != '\0' || end == optarg || o->min_n < 0) {
				ctl_warnx("--min-n must be an integer >= 0");
				return -1;
			}
			break;
		case 'l':
			o->level = strtod(optarg, &end);
			if (*end != '\0' || !(o->level >= 0.5 && o->level <= 0.999)) {
				ctl_warnx("--level must be a number from 0.5 to 0.999");
				return -1;
			}
			break;
		case 'T':
			n = strtol(optarg, &end, 10);
			if (*end != '\0' || end == optarg || n < 1 || n > REPORT_TREND_MAX) {
				ctl_warnx("--trend must be an integer from 1 to %d", REPORT_TREND_MAX);
				return -1;
			}
			o->trend = (int)n;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || o->survey == NULL || o->unit == NULL || o->from == NULL ||
	    o->to == NULL || o->output == NULL)
		return -1;
	/* The format defaults to the output's extension. */
	if (o->format == NULL && (dot = strrchr(o->output, '.')) != NULL)
		o->format = dot + 1;
	if (report_format_mime(o->format) == NULL) {
		ctl_warnx("--format must be xlsx, pdf, csv or html");
		return -1;
	}
	if (ctl_check_dates(o->from, o->to) != 0)
		return -1;
	if (report_period_previous(o->from, o->to, pfrom, pto) != 0) {
		ctl_warnx("--from: the previous period of equal length would start before %s",
		    RESPONSE_DATE_MIN);
		return -1;
	}
	return 0;
}

/* The responses of the subtree over every period, through one cursor. */
static int
ctl_report_fetch(PGconn *conn, const struct ctl_report_opts *o, struct report_run *rr)
{
	const char *params[4] = { o->survey, o->unit, report_run_start(rr), o->to };
	PGresult *res;
	int i, n;

	if ((res = ctl_db_exec(conn,
	    "DECLARE report_rows NO SCROLL CURSOR FOR "
	    "WITH RECURSIVE sub (code, child) AS ("
	    " SELECT code, NULL::text FROM units WHERE code = $2"
	    " UNION ALL"
	    " SELECT u.code, coalesce(sub.child, u.code)"
	    " FROM units u JOIN sub ON u.parent = sub.code)"
	    " SELECT ((r.submitted_at AT TIME ZONE 'UTC') + interval '7 hours')::date::text,"
	    "  sub.child, r.weight, r.stratum, r.psu, r.answers::text"
	    " FROM responses r JOIN sub ON r.unit = sub.code"
	    " WHERE r.survey = $1"
	    " AND r.submitted_at >= ($3::date::text || ' 00:00:00+07')::timestamptz"
	    " AND r.submitted_at < (($4::date + 1)::text || ' 00:00:00+07')::timestamptz",
	    4, params)) == NULL)
		return -1;
	PQclear(res);
	for (;;) {
		if ((res = ctl_db_exec(conn, CTL_REPORT_FETCH, 0, NULL)) == NULL)
			return -1;
		if ((n = PQntuples(res)) == 0)
			break;
		for (i = 0; i < n; i++)
			report_run_add(rr, PQgetvalue(res, i, 0),
			    PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
			    strtod(PQgetvalue(res, i, 2), NULL),
			    PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3),
			    PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4),
			    PQgetvalue(res, i, 5), (size_t)PQgetlength(res, i, 5));
		PQclear(res);
	}
	PQclear(res);
	return 0;
}

/* The report: survey, units, rows, model, file. */
static int
ctl_report_make(PGconn *conn, const struct ctl_report_opts *o)
{
	const char *params[1];
	char pfrom[REPORT_DAY_LEN], pto[REPORT_DAY_LEN], today[REPORT_DAY_LEN];
	char *cause = NULL, *unit_name = NULL;
	struct survey *s = NULL;
	struct report_unit *kids = NULL;
	struct report_params p;
	struct report_run *rr = NULL;
	struct report *r = NULL;
	PGresult *res = NULL, *kres = NULL;
	long rows, skipped;
	int i, nkids = 0, st = CTL_EXIT_FAIL;

	report_period_previous(o->from, o->to, pfrom, pto); /* checked by ctl_report_args */
	if (ctl_db_do(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    0, NULL) != 0)
		return CTL_EXIT_FAIL;
	params[0] = o->survey;
	if ((res = ctl_db_exec(conn, "SELECT definition::text FROM surveys WHERE code = $1",
	    1, params)) == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		ctl_warnx("unknown survey '%s'", o->survey);
		st = CTL_EXIT_USAGE;
		goto out;
	}
	if ((s = survey_create(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0),
	    &cause)) == NULL) {
		ctl_warnx("stored survey %s: %s", o->survey, cause);
		goto out;
	}
	PQclear(res);
	params[0] = o->unit;
	if ((res = ctl_db_exec(conn, "SELECT name FROM units WHERE code = $1", 1,
	    params)) == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		ctl_warnx("unknown unit '%s'", o->unit);
		st = CTL_EXIT_USAGE;
		goto out;
	}
	unit_name = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;
	if ((kres = ctl_db_exec(conn, "SELECT code, name FROM units WHERE parent = $1 "
	    "ORDER BY code", 1, params)) == NULL)
		goto out;
	nkids = PQntuples(kres);
	kids = xcalloc((size_t)nkids + 1, sizeof *kids);
	for (i = 0; i < nkids; i++) {
		kids[i].code = PQgetvalue(kres, i, 0);
		kids[i].name = PQgetvalue(kres, i, 1);
	}

	rr = report_run_create(s, o->level, o->unit, o->from, o->to, o->trend);
	if (ctl_report_fetch(conn, o, rr) != 0)
		goto out;
	rows = report_run_rows(rr, &skipped);
	if (skipped > 0)
		ctl_warnx("%ld stored row(s) with unreadable answers skipped", skipped);

	report_day_today(today);
	memset(&p, 0, sizeof p);
	p.unit = o->unit;
	p.unit_name = unit_name;
	p.children = kids;
	p.nchildren = (size_t)nkids;
	p.from = o->from;
	p.to = o->to;
	p.prev_from = pfrom;
	p.prev_to = pto;
	p.min_n = o->min_n;
	p.lang = o->lang;
	p.generated = today;
	if ((r = report_run_finish(rr, &p, &cause)) == NULL) {
		ctl_warnx("report: %s", cause);
		goto out;
	}
	if (report_write(r, o->format, o->output, &cause) != 0) {
		ctl_warnx("%s: %s", o->output, cause);
		goto out;
	}
	fprintf(stderr, "%s: %s report of %s, %s to %s: %ld response(s) over %d period(s)%s\n",
	    o->output, o->format, o->unit, o->from, o->to, rows, report_run_periods(rr),
	    r->nodata ? " (no data in the period)" : "");
	st = CTL_EXIT_OK;
out:
	if (res != NULL)
		PQclear(res);
	res = PQexec(conn, "ROLLBACK");
	PQclear(res);
	if (kres != NULL)
		PQclear(kres);
	report_free(r);
	report_run_free(rr);
	free(kids);
	free(unit_name);
	free(cause);
	survey_free(s);
	return st;
}

/* sipasctl report. */
int
ctl_report_run(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_report_opts o;
	PGconn *conn;
	int st;

	if (ctl_report_args(argc, argv, &o) != 0) {
		ctl_verb_usage(stderr, ctl_verb_find("report"));
		return CTL_EXIT_USAGE;
	}
	if ((conn = ctl_db_connect(ctl->db)) == NULL)
		return CTL_EXIT_FAIL;
	st = ctl_report_make(conn, &o);
	PQfinish(conn);
	if (strcmp(o.format, "pdf") == 0)
		report_fonts_free();
	return st;
}
