/*
 * aggregate.c: sipasctl aggregate [--survey CODE] [--batch N] [--rebuild]
 *
 * Folds every pending response into the incremental aggregates
 * (sql/0004_aggregates.sql) until none is left, with the same statements as
 * sipasd's folder (include/sipas/sql_agg.h) and the same fold lock, so it
 * may run while sipasd runs. --rebuild first drops the states (of one survey
 * or all) and queues every response again, recorded in the audit log: for a
 * database moved to another kind of machine (states are native bytes), or
 * after a survey's definition was changed by hand.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "sipas/aggfold.h"
#include "sipas/sql_agg.h"
#include "sipas/survey.h"
#include "sipas/util.h"

#include "ctl.h"
#include "ctl_db.h"

struct ctl_agg_write {
	PGconn *conn;
	const char *survey;
	int failed;
};

/* Write one new state (binary parameter) or queue a stale month again. */
static void
ctl_agg_write(const char *unit, const char *month, const char *channel,
    long rows, const void *state, size_t len, void *arg)
{
	struct ctl_agg_write *w = arg;
	char nrows[32];
	const char *params[6] = { w->survey, unit, month, channel, nrows, state };
	int lengths[6] = { 0, 0, 0, 0, 0, (int)len };
	int formats[6] = { 0, 0, 0, 0, 0, 1 };
	PGresult *res;

	if (w->failed)
		return;
	snprintf(nrows, sizeof nrows, "%ld", rows);
	if (state != NULL)
		res = PQexecParams(w->conn, SQL_AGG_UPSERT, 6, NULL, params,
		    lengths, formats, 0);
	else
		res = PQexecParams(w->conn, SQL_AGG_REQUEUE, 4, NULL, params,
		    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		ctl_warnx("writing the state of %s %s %s: %s", unit, month,
		    channel, PQerrorMessage(w->conn));
		w->failed = 1;
	}
	PQclear(res);
}

/* One fold of survey s: 1 if it took batch responses (more may wait), 0 if fewer, -1 on error. */
static int
ctl_agg_fold(PGconn *conn, const struct survey *s, long batch, long *folded)
{
	char lim[32];
	const char *params[2] = { s->code, lim };
	struct aggfold *f = aggfold_create(s);
	struct ctl_agg_write w = { conn, s->code, 0 };
	PGresult *res;
	long bad = 0, rows;
	int ok = 1, i;

	snprintf(lim, sizeof lim, "%ld", batch);
	if (ctl_db_do(conn, "BEGIN", 0, NULL) != 0 ||
	    ctl_db_do(conn, SQL_AGG_LOCK, 1, params) != 0) {
		aggfold_free(f);
		return -1;
	}
	if (PQsendQueryParams(conn, SQL_AGG_TAKE, 2, NULL, params, NULL, NULL,
	    1) != 1 || PQsetSingleRowMode(conn) != 1) {
		ctl_warnx("%s", PQerrorMessage(conn));
		aggfold_free(f);
		return -1;
	}
	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK) {
			ctl_warnx("taking pending responses: %s",
			    PQresultErrorMessage(res));
			ok = 0;
		}
		for (i = 0; ok && i < PQntuples(res); i++) {
			const char *unit = PQgetvalue(res, i, 1);
			const char *month = PQgetvalue(res, i, 2);
			const char *channel = PQgetvalue(res, i, 3);

			if (PQgetvalue(res, i, 0)[0] == 'S')
				aggfold_state(f, unit, month, channel,
				    PQgetvalue(res, i, 8), (size_t)PQgetlength(res, i, 8));
			else if (aggfold_row(f, unit, month, channel,
			    strtod(PQgetvalue(res, i, 4), NULL),
			    PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5),
			    PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6),
			    PQgetvalue(res, i, 7)) != 0)
				bad++;
		}
		PQclear(res);
	}
	rows = aggfold_rows(f);
	if (ok && rows > 0)
		aggfold_each(f, ctl_agg_write, &w);
	if (!ok || w.failed) {
		ctl_db_do(conn, "ROLLBACK", 0, NULL);
		aggfold_free(f);
		return -1;
	}
	if (ctl_db_do(conn, "COMMIT", 0, NULL) != 0) {
		aggfold_free(f);
		return -1;
	}
	if (rows > 0)
		fprintf(stderr, "sipasctl: %s: %ld responses folded into %zu "
		    "states%s\n", s->code, rows, aggfold_count(f),
		    bad > 0 ? " (some with unreadable answers left out)" : "");
	*folded += rows;
	aggfold_free(f);
	return rows >= batch;
}

/* The options of sipasctl aggregate. */
const struct ctl_opt ctl_aggregate_opts[] = {
	{ "survey", 's', 0, "CODE", "only this survey (default: every survey)" },
	{ "batch", 'b', 0, "N", "most responses folded in one transaction "
	    "(default 1000000)" },
	{ "rebuild", 'r', 0, NULL, "drop the aggregates and fold every stored "
	    "response again" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
ctl_aggregate(PGconn *conn, int argc, char **argv)
{
	const char *only = NULL, *params[1];
	long batch = 1000000, folded = 0;
	int c, rebuild = 0, i, r = CTL_EXIT_OK;
	PGresult *res;
	char *end, *detail;

	optind = 0;
	while ((c = ctl_getopt(argc, argv, ctl_aggregate_opts)) != -1) {
		switch (c) {
		case 's':
			only = optarg;
			break;
		case 'b':
			batch = strtol(optarg, &end, 10);
			if (*end != '\0' || batch < 1) {
				ctl_warnx("--batch must be a positive number");
				return CTL_EXIT_USAGE;
			}
			break;
		case 'r':
			rebuild = 1;
			break;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		ctl_warnx("aggregate takes no file");
		return CTL_EXIT_USAGE;
	}
	params[0] = only;
	if (rebuild) {
		xasprintf(&detail, "{\"survey\": %s%s%s}", only ? "\"" : "",
		    only ? only : "null", only ? "\"" : "");
		/* The folders' lock first, as the triggers that drop states
		 * take it: a fold running meanwhile would otherwise write back
		 * states the DELETE did not see, of rows queued again below.
		 * The responses still in agg_fresh stay there (one queue each,
		 * sql/0009_fresh_batches.sql). */
		if (ctl_db_do(conn, "BEGIN", 0, NULL) != 0 ||
		    ctl_db_do(conn, "SELECT agg_lock_surveys(CASE WHEN $1::text IS"
		    " NULL THEN ARRAY(SELECT code FROM surveys) ELSE ARRAY[$1]"
		    " END)", 1, params) != 0 ||
		    ctl_db_do(conn, "DELETE FROM agg_states WHERE $1::text IS NULL"
		    " OR survey = $1", 1, params) != 0 ||
		    ctl_db_do(conn, "INSERT INTO agg_pending (id, survey,"
		    " submitted_at) SELECT id, survey, submitted_at FROM responses"
		    " WHERE ($1::text IS NULL OR survey = $1)"
		    " AND" SQL_AGG_NOT_FRESH("$1::text IS NULL OR f.survey = $1")
		    " ON CONFLICT (id) DO NOTHING", 1, params) != 0 ||
		    ctl_db_audit(conn, "aggregate rebuild", detail) != 0 ||
		    ctl_db_do(conn, "COMMIT", 0, NULL) != 0) {
			free(detail);
			return CTL_EXIT_FAIL;
		}
		free(detail);
	}
	res = PQexecParams(conn, "SELECT code, definition::text FROM surveys"
	    " WHERE $1::text IS NULL OR code = $1 ORDER BY code", 1, NULL, params,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		ctl_warnx("reading the surveys: %s", PQerrorMessage(conn));
		PQclear(res);
		return CTL_EXIT_FAIL;
	}
	if (only != NULL && PQntuples(res) == 0) {
		ctl_warnx("unknown survey '%s'", only);
		PQclear(res);
		return CTL_EXIT_USAGE;
	}
	for (i = 0; i < PQntuples(res) && r == CTL_EXIT_OK; i++) {
		char *cause = NULL;
		const char *text = PQgetvalue(res, i, 1);
		struct survey *s = survey_create(text, strlen(text), &cause);
		int more;

		if (s == NULL) {
			ctl_warnx("survey %s does not load (%s); its responses "
			    "stay pending", PQgetvalue(res, i, 0), cause);
			free(cause);
			continue;
		}
		while ((more = ctl_agg_fold(conn, s, batch, &folded)) == 1)
			;
		if (more < 0)
			r = CTL_EXIT_FAIL;
		survey_free(s);
	}
	PQclear(res);
	/* The planner would still count the folded responses as pending. */
	if (folded > 0 && r == CTL_EXIT_OK &&
	    ctl_db_do(conn, "ANALYZE agg_pending, agg_fresh", 0, NULL) != 0)
		r = CTL_EXIT_FAIL;
	printf("%ld responses folded\n", folded);
	return r;
}

int
ctl_aggregate_survey(PGconn *conn, const char *survey)
{
	char *argv[] = { (char *)"aggregate", (char *)"--survey",
		(char *)survey, NULL };

	return ctl_aggregate(conn, 3, argv) == CTL_EXIT_OK ? 0 : -1;
}

/* aggregate: fold pending responses into the aggregates. */
int
ctl_aggregate_run(struct ctl *ctl, int argc, char **argv)
{
	PGconn *conn;
	int r;

	if ((conn = ctl_db_connect(ctl->db)) == NULL)
		return CTL_EXIT_FAIL;
	r = ctl_aggregate(conn, argc, argv);
	PQfinish(conn);
	return r;
}
