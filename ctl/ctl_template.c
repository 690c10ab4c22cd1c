/*
 * ctl_template.c: sipasctl template --survey CODE [--format xlsx|csv]
 * [--unit CODE] -o FILE: the sheet a survey team fills for an upload, the
 * same as GET /uploads/template (report/template.c). The unit list is every
 * unit, or --unit's subtree.
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
#include "sipas/csvout.h"
#include "sipas/sql_subtree.h"
#include "sipas/survey.h"
#include "sipas/template.h"
#include "sipas/util.h"

/* The survey of code, or NULL and the exit status in *rc. */
static struct survey *
ctl_template_survey(PGconn *conn, const char *code, int *rc)
{
	const char *params[1] = { code };
	struct survey *s;
	PGresult *res;
	char *cause = NULL;

	if ((res = ctl_db_exec(conn, "SELECT definition::text FROM surveys "
	    "WHERE code = $1", 1, params)) == NULL) {
		*rc = CTL_EXIT_FAIL;
		return NULL;
	}
	if (PQntuples(res) != 1) {
		ctl_warnx("unknown survey '%s'", code);
		PQclear(res);
		*rc = CTL_EXIT_USAGE;
		return NULL;
	}
	s = survey_create(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0,
	    0), &cause);
	PQclear(res);
	if (s == NULL) {
		ctl_warnx("stored survey %s: %s", code, cause);
		free(cause);
		*rc = CTL_EXIT_FAIL;
	}
	return s;
}

/* Write the template; an exit status. */
static int
ctl_template_write(PGconn *conn, const struct survey *s, const char *unit,
    const char *format, const char *path)
{
	const char *params[2] = { unit, "" };
	struct template_unit *units = NULL;
	struct csvout out;
	PGresult *res = NULL;
	char *cause = NULL;
	FILE *f;
	int i, n = 0, rc = CTL_EXIT_OK;

	if (strcmp(format, "csv") == 0) {
		if ((f = fopen(path, "w")) == NULL) {
			ctl_warnx("%s: %s", path, strerror(errno));
			return CTL_EXIT_FAIL;
		}
		csvout_init(&out, "\r\n");
		template_csv(&out, s);
		if (csvout_write(&out, f) != 0 || fclose(f) != 0) {
			ctl_warnx("%s: %s", path, strerror(errno));
			rc = CTL_EXIT_FAIL;
		}
		csvout_free(&out);
		return rc;
	}
	if (unit != NULL)
		res = ctl_db_exec(conn, SQL_SUBTREE("$1", "$2")
		    " SELECT u.code, u.name FROM sub JOIN units u USING (code)"
		    " ORDER BY u.code", 2, params);
	else
		res = ctl_db_exec(conn, "SELECT code, name FROM units ORDER BY "
		    "code", 0, NULL);
	if (res == NULL)
		return CTL_EXIT_FAIL;
	if (unit != NULL && PQntuples(res) == 0) {
		ctl_warnx("--unit: unknown unit '%s'", unit);
		PQclear(res);
		return CTL_EXIT_USAGE;
	}
	n = PQntuples(res);
	units = xcalloc((size_t)n + 1, sizeof *units);
	for (i = 0; i < n; i++) {
		units[i].code = PQgetvalue(res, i, 0);
		units[i].name = PQgetisnull(res, i, 1) ? NULL :
		    PQgetvalue(res, i, 1);
	}
	if (template_write_xlsx(path, s, units, (size_t)n, &cause) != 0) {
		ctl_warnx("%s", cause);
		free(cause);
		rc = CTL_EXIT_FAIL;
	}
	free(units);
	PQclear(res);
	return rc;
}

/* The options of sipasctl template. */
const struct ctl_opt ctl_template_opts[] = {
	{ "survey", 's', 0, "CODE", "the survey whose sheet to write" },
	{ "format", 'f', 0, "FORMAT", "xlsx (default: validation lists, "
	    "instructions, the units) or csv (the header row)" },
	{ "unit", 'u', 0, "CODE", "list only this unit and its subtree" },
	{ "output", 'o', 'o', "FILE", "where to write the sheet" },
	{ NULL, 0, 0, NULL, NULL },
};

/* sipasctl template --survey CODE [--format xlsx|csv] [--unit CODE] -o FILE. */
int
ctl_template_run(struct ctl *ctl, int argc, char **argv)
{
	const char *code = NULL, *format = "xlsx", *unit = NULL, *path = NULL;
	struct survey *s;
	PGconn *conn;
	int c, rc = CTL_EXIT_USAGE;

	optind = 0;
	while ((c = ctl_getopt(argc, argv, ctl_template_opts)) != -1) {
		switch (c) {
		case 's':
			code = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'u':
			unit = optarg;
			break;
		case 'o':
			path = optarg;
			break;
		default:
			ctl_verb_usage(stderr, ctl_verb_find("template"));
			return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc || code == NULL || path == NULL) {
		ctl_verb_usage(stderr, ctl_verb_find("template"));
		return CTL_EXIT_USAGE;
	}
	if (strcmp(format, "xlsx") != 0 && strcmp(format, "csv") != 0) {
		ctl_warnx("--format must be xlsx or csv, not '%s'", format);
		return CTL_EXIT_USAGE;
	}
	if ((conn = ctl_db_connect(ctl->db)) == NULL)
		return CTL_EXIT_FAIL;
	if ((s = ctl_template_survey(conn, code, &rc)) != NULL) {
		rc = ctl_template_write(conn, s, unit, format, path);
		survey_free(s);
	}
	PQfinish(conn);
	return rc;
}
