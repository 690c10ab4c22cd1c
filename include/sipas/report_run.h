/*
 * report_run.h: what `sipasctl report` and sipasd's reports share between
 * the stored rows and report_create (report.h): the period arithmetic, the
 * decoding of a stored answers object, the fold of each row under the child
 * unit it belongs to, and the parent computed from its children with
 * analysis_merge (each row is folded once, never twice).
 *
 * No I/O, no libpq, no libevent: callers fetch the rows their own way (a
 * cursor in sipasctl, single-row mode on the event loop in sipasd) and hand
 * them over one by one.
 */
#ifndef SIPAS_REPORT_RUN_H
#define SIPAS_REPORT_RUN_H

#include <stddef.h>

#include "sipas/report.h"

/* A day as YYYY-MM-DD plus its NUL. */
#define REPORT_DAY_LEN 11

/* Scheduled report periods. */
enum report_period {
	REPORT_PERIOD_MONTH,
	REPORT_PERIOD_QUARTER,
	REPORT_PERIOD_YEAR,
};

/* 1 if s is a valid YYYY-MM-DD day. */
int report_day_valid(const char *s);
/*
 * The previous period of equal length: when from..to is whole calendar months
 * (from the 1st to a month's last day) the same number of months just before,
 * else the same number of days just before. 0, or -1 on bad days, to < from,
 * or a previous period that would start before RESPONSE_DATE_MIN.
 */
int report_period_previous(const char *from, const char *to, char *pfrom, char *pto);
/*
 * The last period of kind that closed before day today (the period holding
 * today's day is still open): e.g. month, 2025-03-10 -> 2025-02-01..2025-02-28.
 * label gets "2025-02", "2025-Q1" or "2025" (at least 16 bytes). 0 or -1.
 */
int report_period_closed(enum report_period kind, const char *today, char *from, char *to,
    char *label, size_t len);
/* Today in Vietnam time (+07:00) as YYYY-MM-DD. */
void report_day_today(char *day);

struct report_run;

/* Periods in the trend by default, and at most (sipasctl --trend, report_trend). */
#define REPORT_TREND_DEFAULT 6
#define REPORT_TREND_MAX 60

/*
 * Start the analyses of unit for the period from..to, its previous period
 * and the periods before them: ntrend periods of equal length ending with
 * from..to (at least the two), stepped as report_period_previous steps. The
 * period and the previous one keep an analysis keyed by child unit; an older
 * period one analysis keyed by unit alone (the trend needs only its overall
 * index). survey borrowed; from/to valid days (report_day_valid), to >= from.
 * Periods that would start before RESPONSE_DATE_MIN are left out: the trend
 * shortens to the periods that remain, and without a previous period the
 * report has no comparison (callers refuse such a period: docs/reports.md).
 */
struct report_run *report_run_create(const struct survey *, double level, const char *unit,
    const char *from, const char *to, int ntrend);
void report_run_free(struct report_run *);
/* The first day of the oldest period: fetch rows from it to the period's end. */
const char *report_run_start(const struct report_run *);
/* The periods kept: 1 (the period alone) up to max(ntrend, 2). */
int report_run_periods(const struct report_run *);
/*
 * Fold one stored row given on day (YYYY-MM-DD, Vietnam time) into its
 * period: child is the direct child of the report's unit whose subtree holds
 * the row's unit, or NULL/"" for a row of the unit itself; answers the stored
 * JSON object. A row outside every period is ignored (0). -1 if the answers
 * cannot be read (the row is skipped).
 */
int report_run_add(struct report_run *, const char *day, const char *child, double weight,
    const char *stratum, const char *psu, const char *answers, size_t len);
/*
 * Merge the stored state of one whole month (month: its first day, the month
 * wholly inside one period) of the subtree of child (NULL/"" for the unit
 * itself), rows responses, as if its rows had been added one by one. -1 if
 * the state cannot be read (another survey shape or machine): nothing is
 * merged and the caller must not publish the report.
 */
int report_run_state(struct report_run *, const char *month, const char *child, long rows,
    const void *state, size_t len);
/* States merged; *rows the responses they hold, *bad the states refused (each may be NULL). */
long report_run_states(const struct report_run *, long *rows, long *bad);
/* The parameters of SQL_AGG_REPORT and SQL_AGG_REPORT_RAW (sql_agg.h). */
struct report_ranges {
	char *months;	 /* the first days of the months wholly inside one period */
	char t0[32], t1[32]; /* the first and the last instant of all the periods */
	char *lo, *hi;	 /* the bounds [lo, hi) of the other days */
	int nraw;	 /* ranges in lo and hi: 0 for SQL_AGG_REPORT */
};
/*
 * What to read for the run (PostgreSQL array and timestamptz literals):
 * the whole months as states, the other days raw. raw: every day raw, no
 * state.
 */
void report_run_ranges(const struct report_run *, int raw, struct report_ranges *);
/* Free what report_run_ranges made. */
void report_ranges_clear(struct report_ranges *);
/* Responses folded (rows added, and the rows of merged states) and rows skipped (unreadable answers). */
long report_run_rows(const struct report_run *, long *skipped);
/* The child codes seen in the period or the previous one, sorted (array owned by the caller, codes borrowed). */
const char **report_run_children(const struct report_run *, size_t *n);
/*
 * Merge the children into the unit in both periods, compute, and build the
 * report. p->unit must be the run's unit; p->from/to/prev_from/prev_to the
 * periods. When p has no trend, the run's periods become its points, oldest
 * first: from the oldest period with data to the period, a period without
 * data inside that span a gap (NAN estimate). NULL and *cause on failure.
 */
struct report *report_run_finish(struct report_run *, const struct report_params *, char **cause);

/*
 * A report schedule of sipasd's config (report_monthly, report_quarterly,
 * report_yearly): "survey=CODE units=CODE,CODE formats=pdf,xlsx dir=PATH",
 * words in any order. "" is no schedule.
 */
struct report_schedule {
	char *survey;
	char **units;
	size_t nunits;
	char **formats;
	size_t nformats;
	char *dir;
};
/* 0 with *out (NULL for ""), or -1 and *cause. */
int report_schedule_parse(const char *text, struct report_schedule **out, char **cause);
void report_schedule_free(struct report_schedule *);


#endif
