/*
 * ctl_report.c: sipasctl report --survey CODE --unit CODE --from DATE --to DATE
 * --format xlsx|pdf|csv|html -o FILE [--lang vi|en] [--min-n N]
 * [--level 0.95] [--trend N] [--raw]: the periodic statistical report of a unit and its
 * children (docs/reports.md).
 *
 * One read-only transaction: the survey, the unit and its direct children
 * with their names, then through one cursor (SQL_AGG_REPORT) the aggregate
 * states of the unit's subtree for every whole month of every period, and
 * the responses of the other days and of the months not folded yet (with
 * --raw: every response), each tagged with its month or Vietnam day and the
 * direct child it lies under. The states and rows are folded by report/run.c
 * (into their period; the period and the previous one keyed by child, the
 * unit from its children by analysis_merge; older periods by the unit
 * alone) and rendered by report/.
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
#include "sipas/sql_agg.h"
#include "sipas/sql_subtree.h"
#include "sipas/survey.h"
#include "sipas/util.h"

/* Rows per FETCH (a state is tens of kilobytes). */
#define CTL_REPORT_FETCH "FETCH 1000 FROM report_rows"

/* Default minimum respondents of a ranked child unit (docs/reports.md). */
#define CTL_REPORT_MIN_N 30

/* Options of the verb. */
struct ctl_report_opts {
	const char *survey, *unit, *from, *to, *format, *output;
	enum report_lang lang;
	long min_n;
	double level;
	int trend;
	int raw;
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
	{ "raw", 'R', 0, NULL, "read every response instead of the aggregate "
	    "states (slower; the same figures)" },
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
		case 'R':
			o->raw = 1;
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

/*
 * What the periods need, through one cursor: the states of their whole months
 * and the other days' responses (SQL_AGG_REPORT), or with raw every response.
 * Fetched in binary format (a state is tens of kilobytes).
 */
static int
ctl_report_fetch(PGconn *conn, const struct ctl_report_opts *o, struct report_run *rr)
{
	struct report_ranges g;
	const char *params[7];
	PGresult *res;
	int i, n, st = -1;

	report_run_ranges(rr, o->raw, &g);
	params[0] = o->survey;
	params[1] = o->unit;
	params[2] = g.months;
	params[3] = g.t0;
	params[4] = g.t1;
	params[5] = g.lo;
	params[6] = g.hi;
	if (g.nraw > 0)
		res = ctl_db_exec(conn, "DECLARE report_rows NO SCROLL CURSOR "
		    "FOR " SQL_AGG_REPORT_RAW, 7, params);
	else
		res = ctl_db_exec(conn, "DECLARE report_rows NO SCROLL CURSOR "
		    "FOR " SQL_AGG_REPORT, 5, params);
	report_ranges_clear(&g);
	if (res == NULL)
		return -1;
	PQclear(res);
	for (;;) {
		res = PQexecParams(conn, CTL_REPORT_FETCH, 0, NULL, NULL, NULL, NULL, 1);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			ctl_warnx("%s", PQresultErrorMessage(res));
			goto out;
		}
		if ((n = PQntuples(res)) == 0)
			break;
		for (i = 0; i < n; i++) {
			if (*PQgetvalue(res, i, 0) == 'S') {
				report_run_state(rr, PQgetvalue(res, i, 2),
				    PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
				    strtol(PQgetvalue(res, i, 3), NULL, 10), PQgetvalue(res, i, 8),
				    (size_t)PQgetlength(res, i, 8));
				continue;
			}
			report_run_add(rr, PQgetvalue(res, i, 2),
			    PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
			    strtod(PQgetvalue(res, i, 4), NULL),
			    PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5),
			    PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6),
			    PQgetvalue(res, i, 7), (size_t)PQgetlength(res, i, 7));
		}
		PQclear(res);
	}
	st = 0;
out:
	PQclear(res);
	return st;
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
	long rows, skipped, bad, states, state_rows;
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
	report_run_states(rr, NULL, &bad);
	if (bad > 0) {
		ctl_warnx("%ld aggregate state(s) could not be read (another survey shape or "
		    "machine): run sipasctl aggregate --rebuild, or report with --raw", bad);
		goto out;
	}
	rows = report_run_rows(rr, &skipped);
	states = report_run_states(rr, &state_rows, NULL);
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
	fprintf(stderr, "%s: %s report of %s, %s to %s: %ld response(s) over %d period(s), "
	    "%ld of them from %ld aggregate state(s)%s\n", o->output, o->format, o->unit,
	    o->from, o->to, rows, report_run_periods(rr), state_rows, states,
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
