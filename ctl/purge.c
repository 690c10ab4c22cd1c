/*
 * purge.c: sipasctl purge, the data-protection verb (docs/operations.md).
 *
 *	sipasctl purge --texts --older-than DAYS [--dry-run]
 *	sipasctl purge --survey CODE --unit CODE [--from DATE] [--to DATE] [--dry-run]
 *
 * --texts blanks what citizens wrote in their own words once it is older than
 * DAYS: the raw text and comment of SMS messages and the comment kept in a
 * response's respondent object. Answers, units, times and the aggregates
 * stay, so every index is unchanged. Meant for a daily timer
 * (etc/sipas-retention.timer).
 *
 * --survey/--unit deletes the responses of a unit's subtree (in a period):
 * SMS messages that produced them keep their row (a gateway's retry must
 * still get its reply) but lose their text, comment and link. The
 * aggregates follow by themselves: the delete trigger of sql/0004 drops
 * the states concerned and queues the rest of their months again.
 *
 * Either runs in one transaction and records what it did, with counts, in
 * the audit log; --dry-run counts and rolls back.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "sipas/util.h"

#include "ctl.h"
#include "ctl_db.h"

/* The subtree of $2 (or every unit), days $3..$4, survey $1. */
#define PURGE_WHERE \
	" survey = $1 AND unit IN (WITH RECURSIVE sub (code) AS (" \
	"  SELECT code FROM units WHERE code = $2" \
	"  UNION SELECT u.code FROM units u JOIN sub ON u.parent = sub.code)" \
	"  SELECT code FROM sub)" \
	" AND ($3::date IS NULL OR submitted_at >=" \
	"  ($3::date::text || ' 00:00:00+07')::timestamptz)" \
	" AND ($4::date IS NULL OR submitted_at <" \
	"  (($4::date + 1)::text || ' 00:00:00+07')::timestamptz)"

/* Run a statement and return how many rows it touched, or -1 (printed). */
static long
purge_count(PGconn *conn, const char *sql, int n, const char *const *params)
{
	PGresult *res = ctl_db_exec(conn, sql, n, params);
	long count;

	if (res == NULL)
		return -1;
	count = atol(PQcmdTuples(res));
	PQclear(res);
	return count;
}

/* Blank free text older than days. */
static int
purge_texts(PGconn *conn, long days, json_t *detail)
{
	char d[32];
	const char *params[1] = { d };
	long sms, resp;

	snprintf(d, sizeof d, "%ld", days);
	sms = purge_count(conn, "UPDATE sms_messages SET text = '', comment = NULL"
	    " WHERE received_at < now() - $1::integer * interval '1 day'"
	    " AND (text <> '' OR comment IS NOT NULL)", 1, params);
	if (sms < 0)
		return -1;
	resp = purge_count(conn, "UPDATE responses"
	    " SET respondent = respondent - 'comment'"
	    " WHERE received_at < now() - $1::integer * interval '1 day'"
	    " AND jsonb_typeof(respondent) = 'object' AND respondent ? 'comment'",
	    1, params);
	if (resp < 0)
		return -1;
	json_object_set_new(detail, "older_than_days", json_integer(days));
	json_object_set_new(detail, "sms_texts", json_integer(sms));
	json_object_set_new(detail, "response_comments", json_integer(resp));
	printf("%ld SMS texts and %ld response comments older than %ld days "
	    "blanked\n", sms, resp, days);
	return 0;
}

/* Delete a subtree's responses in a period. */
static int
purge_responses(PGconn *conn, const char *survey, const char *unit,
    const char *from, const char *to, json_t *detail)
{
	const char *params[4] = { survey, unit, from, to };
	long sms, resp;

	sms = purge_count(conn, "UPDATE sms_messages SET text = '',"
	    " comment = NULL, response_id = NULL WHERE response_id IN"
	    " (SELECT id FROM responses WHERE" PURGE_WHERE ")", 4, params);
	if (sms < 0)
		return -1;
	resp = purge_count(conn, "DELETE FROM responses WHERE" PURGE_WHERE, 4,
	    params);
	if (resp < 0)
		return -1;
	json_object_set_new(detail, "survey", json_string(survey));
	json_object_set_new(detail, "unit", json_string(unit));
	json_object_set_new(detail, "from", from ? json_string(from) : json_null());
	json_object_set_new(detail, "to", to ? json_string(to) : json_null());
	json_object_set_new(detail, "responses", json_integer(resp));
	json_object_set_new(detail, "sms_messages", json_integer(sms));
	printf("%ld responses of %s in %s's subtree deleted (%s to %s); %ld SMS "
	    "messages unlinked and blanked\n", resp, survey, unit,
	    from ? from : "the start", to ? to : "today", sms);
	return 0;
}

/* The options of sipasctl purge. */
const struct ctl_opt ctl_purge_opts[] = {
	{ "texts", 't', 0, NULL, "blank the free-text answers of old responses" },
	{ "older-than", 'o', 0, "DAYS", "with --texts: responses submitted more "
	    "than DAYS days ago" },
	{ "survey", 's', 0, "CODE", "with --unit: delete this survey's "
	    "responses of the unit" },
	{ "unit", 'u', 0, "CODE", "with --survey: the unit whose responses "
	    "are deleted" },
	{ "from", 'f', 0, "DATE", "first day (YYYY-MM-DD, Vietnam time) of the "
	    "responses to delete" },
	{ "to", 'T', 0, "DATE", "last day of the responses to delete" },
	{ "dry-run", 'n', 0, NULL, "count what would change, change nothing" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
purge(PGconn *conn, int argc, char **argv)
{
	const char *survey = NULL, *unit = NULL, *from = NULL, *to = NULL;
	int c, texts = 0, dry = 0, r;
	long days = -1;
	char *end, *text;
	json_t *detail;

	optind = 0;
	while ((c = ctl_getopt(argc, argv, ctl_purge_opts)) != -1) {
		switch (c) {
		case 't':
			texts = 1;
			break;
		case 'o':
			days = strtol(optarg, &end, 10);
			if (*end != '\0' || days < 0 || days > 36500) {
				ctl_warnx("--older-than must be a number of days");
				return CTL_EXIT_USAGE;
			}
			break;
		case 's':
			survey = optarg;
			break;
		case 'u':
			unit = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 'T':
			to = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc || texts == (survey != NULL || unit != NULL)) {
		ctl_warnx("give either --texts --older-than DAYS or --survey "
		    "CODE --unit CODE [--from DATE] [--to DATE]");
		return CTL_EXIT_USAGE;
	}
	if (texts && days < 0) {
		ctl_warnx("--texts needs --older-than DAYS");
		return CTL_EXIT_USAGE;
	}
	if (!texts && (survey == NULL || unit == NULL)) {
		ctl_warnx("--survey and --unit are both required");
		return CTL_EXIT_USAGE;
	}
	if (ctl_check_dates(from, to) != 0)
		return CTL_EXIT_USAGE;
	if (!texts) {
		const char *p1[1] = { survey }, *p2[1] = { unit };
		PGresult *a = PQexecParams(conn, "SELECT 1 FROM surveys WHERE "
		    "code = $1", 1, NULL, p1, NULL, NULL, 0);
		PGresult *b = PQexecParams(conn, "SELECT 1 FROM units WHERE "
		    "code = $1", 1, NULL, p2, NULL, NULL, 0);
		int ok_s = PQresultStatus(a) == PGRES_TUPLES_OK && PQntuples(a) == 1;
		int ok_u = PQresultStatus(b) == PGRES_TUPLES_OK && PQntuples(b) == 1;
		int failed = PQresultStatus(a) != PGRES_TUPLES_OK ||
		    PQresultStatus(b) != PGRES_TUPLES_OK;

		PQclear(a);
		PQclear(b);
		if (failed) {
			/* Not an unknown code: say what the database said. */
			ctl_warnx("%s", PQerrorMessage(conn));
			return CTL_EXIT_FAIL;
		}
		if (!ok_s || !ok_u) {
			ctl_warnx("unknown %s '%s'", !ok_s ? "survey" : "unit",
			    !ok_s ? survey : unit);
			return CTL_EXIT_USAGE;
		}
	}
	detail = json_object();
	if (ctl_db_do(conn, "BEGIN", 0, NULL) != 0) {
		json_decref(detail);
		return CTL_EXIT_FAIL;
	}
	r = texts ? purge_texts(conn, days, detail) :
	    purge_responses(conn, survey, unit, from, to, detail);
	if (r == 0 && !dry) {
		text = json_dumps(detail, JSON_COMPACT);
		r = ctl_db_audit(conn, texts ? "purge texts" : "purge responses",
		    text);
		free(text);
	}
	json_decref(detail);
	if (r != 0 || dry) {
		ctl_db_do(conn, "ROLLBACK", 0, NULL);
		if (dry && r == 0)
			printf("dry run: nothing changed\n");
		return r == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
	}
	return ctl_db_do(conn, "COMMIT", 0, NULL) == 0 ? CTL_EXIT_OK :
	    CTL_EXIT_FAIL;
}

/* purge: delete or blank stored data (data protection), audited. */
int
ctl_purge_run(struct ctl *ctl, int argc, char **argv)
{
	PGconn *conn;
	int r;

	if ((conn = ctl_db_connect(ctl->db)) == NULL)
		return CTL_EXIT_FAIL;
	r = purge(conn, argc, argv);
	PQfinish(conn);
	return r;
}
