/*
 * ctl_db.c: sipasctl's database verbs: init (migrations and built-in surveys),
 * unit import, survey load, token create/list/revoke and export.
 *
 * This is the only SQL text in sipasctl, and it is always sent with
 * parameters. It uses blocking libpq (a command-line tool has no event loop).
 * It must not compute statistics: export streams rows, the analysis lives in
 * analysis/.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <csv.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "ctl.h"
#include "ctl_db.h"
#include "sipas/csvout.h"
#include "sipas/pgconn.h"
#include "sipas/response.h"
#include "sipas/strmap.h"
#include "sipas/survey.h"
#include "sipas/token.h"
#include "sipas/sql_export.h"
#include "sipas/util.h"

/* Rows fetched per round trip by export. */
#define CTL_DB_FETCH 1000

/* Connect or print why not; NULL on failure. */
PGconn *
ctl_db_connect(const char *dsn)
{
	struct pgconn_params p;
	PGconn *conn;

	pgconn_params(&p, dsn, "sipasctl");
	conn = PQconnectdbParams(p.keys, p.values, 1);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "sipasctl: cannot connect to the database: %s",
		    PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	PQsetClientEncoding(conn, "UTF8");
	return conn;
}

/* Run a statement with text parameters; the result if it succeeded, else NULL (printed). */
PGresult *
ctl_db_exec(PGconn *conn, const char *sql, int n, const char *const *params)
{
	PGresult *res;
	ExecStatusType st;

	res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	fprintf(stderr, "sipasctl: %s", PQresultErrorMessage(res));
	PQclear(res);
	return NULL;
}

/* Run a statement whose result is not needed; 0 or -1 (printed). */
int
ctl_db_do(PGconn *conn, const char *sql, int n, const char *const *params)
{
	PGresult *res;

	if ((res = ctl_db_exec(conn, sql, n, params)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* The SQLSTATE of a failed result, or "". */
const char *
ctl_db_sqlstate(const PGresult *res)
{
	const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return s != NULL ? s : "";
}

/* Version number of an embedded migration (its name's numeric prefix). */
static int
ctl_db_migration_version(const struct sql_migration *m)
{
	return atoi(m->code);
}

/* The schema version the database has (0 for an empty one); -1 on error. */
static int
ctl_db_schema_version(PGconn *conn)
{
	PGresult *res;
	int v = 0;

	res = ctl_db_exec(conn,
	    "SELECT to_regclass('schema_version') IS NOT NULL", 0, NULL);
	if (res == NULL)
		return -1;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		return 0;
	}
	PQclear(res);
	res = ctl_db_exec(conn,
	    "SELECT coalesce(max(version), 0) FROM schema_version", 0, NULL);
	if (res == NULL)
		return -1;
	v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/*
 * Whether the stored answers of old keep their meaning under s: every item of
 * both keeps its scale (values and satisfied_min). Items may be added,
 * removed or reworded. 0 with the counts of added and removed items, or -1
 * with *cause naming the item.
 */
static int
ctl_db_survey_compatible(const struct survey *old, const struct survey *s,
    int *added, int *removed, char **cause)
{
	const struct scale *a, *b;
	int i, j;

	*added = *removed = 0;
	for (i = 0; i < s->nitems; i++) {
		if ((j = survey_item_find(old, s->items[i].code)) < 0) {
			(*added)++;
			continue;
		}
		a = old->items[j].scale;
		b = s->items[i].scale;
		if (a->nvalues != b->nvalues || a->satisfied_min !=
		    b->satisfied_min || memcmp(a->values, b->values,
		    (size_t)a->nvalues * sizeof *a->values) != 0) {
			xasprintf(cause, "item %s changes its scale",
			    s->items[i].code);
			return -1;
		}
	}
	for (j = 0; j < old->nitems; j++) {
		if (survey_item_find(s, old->items[j].code) < 0)
			(*removed)++;
	}
	return 0;
}

/*
 * Store one survey definition. A definition that differs from the stored one
 * replaces it while no response uses the survey. Once responses exist, a
 * custom definition is immutable (docs/methodology.md section 1); a built-in
 * one (sipasctl init) is upgraded when every stored answer keeps its meaning
 * (ctl_db_survey_compatible): the trigger surveys_agg_update then drops the
 * survey's aggregate states and queues its responses to be folded again.
 * Returns 2 if such an upgrade was written, 1 if otherwise written, 0 if
 * unchanged, -2 if the definition is refused, -1 on another error (each
 * printed).
 */
static int
ctl_db_survey_put(PGconn *conn, const char *text, int builtin)
{
	struct survey *s, *old = NULL;
	char *cause = NULL, version[32];
	const char *params[4], *cmp[2];
	PGresult *res;
	int r = -1, upgrade = 0, added, removed;

	if ((s = survey_create(text, strlen(text), &cause)) == NULL) {
		fprintf(stderr, "sipasctl: invalid survey definition: %s\n",
		    cause);
		free(cause);
		return -2;
	}
	snprintf(version, sizeof version, "%d", s->version);
	params[0] = s->code;
	params[1] = version;
	params[2] = s->json != NULL ? s->json : text;
	params[3] = builtin ? "t" : "f";
	cmp[0] = params[0];
	cmp[1] = params[2];
	res = ctl_db_exec(conn,
	    "SELECT definition = $2::jsonb, "
	    "EXISTS (SELECT 1 FROM responses WHERE survey = $1), "
	    "definition::text FROM surveys WHERE code = $1", 2, cmp);
	if (res == NULL)
		goto out;
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		PQclear(res);
		r = 0;
		goto out;
	}
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
		if (!builtin) {
			fprintf(stderr, "sipasctl: survey %s has stored "
			    "responses and a different definition; give the new "
			    "one another code\n", s->code);
			PQclear(res);
			r = -2;
			goto out;
		}
		old = survey_create(PQgetvalue(res, 0, 2),
		    (size_t)PQgetlength(res, 0, 2), &cause);
		if (old == NULL || ctl_db_survey_compatible(old, s, &added,
		    &removed, &cause) != 0) {
			fprintf(stderr, "sipasctl: survey %s has stored "
			    "responses and the new definition cannot replace the "
			    "stored one (%s): give it another code\n", s->code,
			    cause);
			free(cause);
			PQclear(res);
			r = -2;
			goto out;
		}
		upgrade = 1;
	}
	PQclear(res);
	if (ctl_db_do(conn,
	    "INSERT INTO surveys (code, version, definition, builtin) "
	    "VALUES ($1, $2, $3::jsonb, $4) ON CONFLICT (code) DO UPDATE SET "
	    "version = EXCLUDED.version, definition = EXCLUDED.definition, "
	    "builtin = EXCLUDED.builtin, loaded_at = now()", 4, params) != 0)
		goto out;
	r = 1;
	if (upgrade) {
		printf("survey %s upgraded (%d item(s) added, %d removed); its "
		    "aggregates are rebuilt\n", s->code, added, removed);
		r = 2;
	}
out:
	survey_free(old);
	survey_free(s);
	return r;
}

/* Append a row to the audit log. */
int
ctl_db_audit(PGconn *conn, const char *action, const char *detail)
{
	const char *params[2] = { action, detail };

	return ctl_db_do(conn,
	    "INSERT INTO audit_log (actor, action, detail) "
	    "VALUES ('sipasctl', $1, $2::jsonb)", 2, params);
}

/*
 * The text of built-in survey code: DIR/CODE.json with --surveys DIR, else
 * the copy compiled in. NULL on error (printed); caller frees.
 */
static char *
ctl_db_builtin_text(const char *dir, const char *code)
{
	char *path, *text, *cause = NULL;
	size_t len;

	if (dir == NULL)
		return xstrdup(survey_builtin_text(code));
	xasprintf(&path, "%s/%s.json", dir, code);
	if ((text = util_file_read(path, &len, &cause)) == NULL) {
		fprintf(stderr, "sipasctl: %s: %s\n", path, cause);
		free(cause);
	}
	free(path);
	return text;
}

/* The options of sipasctl init. */
const struct ctl_opt ctl_init_opts[] = {
	{ "surveys", 's', 0, "DIR", "read the built-in definitions from "
	    "DIR/CODE.json instead of those compiled in" },
	{ NULL, 0, 0, NULL, NULL },
};

/*
 * sipasctl init [--surveys DIR]: apply the migrations not yet applied, load
 * (or upgrade) the built-in surveys, then fold again the responses of every
 * survey whose upgrade dropped its aggregate states.
 */
static int
ctl_db_init(PGconn *conn, int argc, char **argv)
{
	const struct sql_migration *m;
	const char *const *codes, *dir = NULL, *rebuild[16];
	const char *params[2];
	char version[16], *text;
	PGresult *res;
	int have, latest = 0, n, written = 0, nrebuild = 0, c, i;

	optind = 0;
	while ((c = ctl_getopt(argc, argv, ctl_init_opts)) != -1) {
		if (c != 's')
			goto usage;
		dir = optarg;
	}
	if (optind != argc)
		goto usage;
	for (m = sql_migrations; m->code != NULL; m++)
		latest = ctl_db_migration_version(m);
	if (ctl_db_do(conn, "BEGIN", 0, NULL) != 0)
		return 1;
	/* One init at a time: the lock ends with the transaction. */
	if (ctl_db_do(conn, "SELECT pg_advisory_xact_lock(7492001)", 0,
	    NULL) != 0)
		goto fail;
	if ((have = ctl_db_schema_version(conn)) < 0)
		goto fail;
	if (have > latest) {
		fprintf(stderr, "sipasctl: the database has schema version %d, "
		    "newer than this sipasctl knows (%d)\n", have, latest);
		goto fail;
	}
	for (m = sql_migrations; m->code != NULL; m++) {
		if (ctl_db_migration_version(m) <= have)
			continue;
		/* A migration file is fixed SQL text with no parameters. */
		res = PQexec(conn, m->text);
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		    PQresultStatus(res) != PGRES_TUPLES_OK) {
			fprintf(stderr, "sipasctl: migration %s failed: %s",
			    m->code, PQresultErrorMessage(res));
			PQclear(res);
			goto fail;
		}
		PQclear(res);
		snprintf(version, sizeof version, "%d",
		    ctl_db_migration_version(m));
		params[0] = version;
		params[1] = m->code;
		if (ctl_db_do(conn, "INSERT INTO schema_version (version, name) "
		    "VALUES ($1, $2)", 2, params) != 0)
			goto fail;
		printf("applied %s\n", m->code);
	}
	for (codes = survey_builtin_codes(); *codes != NULL; codes++) {
		if ((text = ctl_db_builtin_text(dir, *codes)) == NULL)
			goto fail;
		n = ctl_db_survey_put(conn, text, 1);
		free(text);
		if (n < 0)
			goto fail;
		if (n == 2 && nrebuild < (int)(sizeof rebuild / sizeof *rebuild))
			rebuild[nrebuild++] = *codes;
		written += n > 0;
	}
	if (have < latest || written > 0)
		ctl_db_audit(conn, "init", "{}");
	if (ctl_db_do(conn, "COMMIT", 0, NULL) != 0)
		return 1;
	printf("schema version %d, %d built-in survey(s) loaded or updated\n",
	    latest, written);
	/* Committed: a failed fold leaves the responses pending (still read). */
	for (i = 0; i < nrebuild; i++) {
		if (ctl_aggregate_survey(conn, rebuild[i]) != 0)
			return 1;
	}
	return 0;
fail:
	ctl_db_do(conn, "ROLLBACK", 0, NULL);
	return 1;
usage:
	ctl_verb_usage(stderr, ctl_verb_find("init"));
	return CTL_EXIT_USAGE;
}

/* sipasctl survey load FILE.json: store a custom survey definition. */
static int
ctl_db_survey(PGconn *conn, int argc, char **argv)
{
	char *text, *cause = NULL;
	size_t len;
	int n;

	if (argc != 3 || strcmp(argv[1], "load") != 0) {
		fprintf(stderr, "usage: sipasctl survey load FILE.json\n");
		return 2;
	}
	if ((text = util_file_read(argv[2], &len, &cause)) == NULL) {
		fprintf(stderr, "sipasctl: %s\n", cause);
		free(cause);
		return CTL_EXIT_USAGE;
	}
	n = ctl_db_survey_put(conn, text, 0);
	free(text);
	if (n < 0)
		return n == -2 ? CTL_EXIT_USAGE : CTL_EXIT_FAIL;
	if (n > 0)
		ctl_db_audit(conn, "survey load", "{}");
	printf("%s: %s\n", argv[2], n > 0 ? "loaded" : "unchanged");
	return 0;
}

/* The state of a units CSV import. */
struct ctl_db_units {
	PGconn *conn;
	const char *path;
	int col[4];	 /* code, name, level, parent: column index or -1 */
	char *field[4];
	int ncol;	 /* columns in the header */
	int fieldno;
	long row;	 /* 0 = header */
	long changed;
	long total;
	int failed;
	int bad;	 /* the file is wrong (not the database): exit 2 */
	struct strmap *lines; /* code -> its line in the file */
};

static const char *const ctl_db_unit_cols[4] = { "code", "name", "level",
	"parent" };

/* libcsv field callback: remember the fields we want. */
static void
ctl_db_units_field(void *data, size_t len, void *arg)
{
	struct ctl_db_units *u = arg;
	int i;

	if (u->failed)
		return;
	if (u->row == 0) {
		/* Header: skip a UTF-8 BOM on the first name. */
		if (u->fieldno == 0 && len >= 3 &&
		    memcmp(data, "\xef\xbb\xbf", 3) == 0) {
			data = (char *)data + 3;
			len -= 3;
		}
		for (i = 0; i < 4; i++) {
			if (strlen(ctl_db_unit_cols[i]) == len &&
			    memcmp(ctl_db_unit_cols[i], data, len) == 0)
				break;
		}
		if (i == 4) {
			fprintf(stderr, "sipasctl: %s: unknown column '%.*s' "
			    "(expected code,name,level,parent)\n", u->path,
			    (int)len, (char *)data);
			u->failed = u->bad = 1;
		} else
			u->col[i] = u->fieldno;
		u->fieldno++;
		return;
	}
	for (i = 0; i < 4; i++) {
		if (u->col[i] == u->fieldno) {
			free(u->field[i]);
			u->field[i] = xstrndup(data, len);
		}
	}
	u->fieldno++;
}

/* libcsv row callback: check the header or upsert one unit. */
static void
ctl_db_units_row(int c, void *arg)
{
	struct ctl_db_units *u = arg;
	const char *params[4];
	PGresult *res;
	char *cause;
	int i;

	if (u->failed)
		goto next;
	if (u->row == 0) {
		for (i = 0; i < 3; i++) {
			if (u->col[i] < 0) {
				fprintf(stderr, "sipasctl: %s: missing column "
				    "'%s'\n", u->path, ctl_db_unit_cols[i]);
				u->failed = u->bad = 1;
			}
		}
		u->ncol = u->fieldno;
		goto next;
	}
	if (u->fieldno == 1 && (u->field[0] == NULL || *u->field[0] == '\0'))
		goto next; /* a blank line */
	for (i = 0; i < 3; i++) {
		if (u->field[i] == NULL || *u->field[i] == '\0') {
			fprintf(stderr, "sipasctl: %s: row %ld: empty '%s'\n",
			    u->path, u->row, ctl_db_unit_cols[i]);
			u->failed = u->bad = 1;
			goto next;
		}
	}
	for (i = 0; i < 4; i += 3) {
		if (u->field[i] != NULL && *u->field[i] != '\0' &&
		    response_unit_check(u->field[i], &cause) != 0) {
			fprintf(stderr, "sipasctl: %s: row %ld: %s: %s\n",
			    u->path, u->row, ctl_db_unit_cols[i], cause);
			free(cause);
			u->failed = u->bad = 1;
			goto next;
		}
	}
	for (i = 0; i < 4; i++)
		params[i] = u->field[i] != NULL && *u->field[i] != '\0' ?
		    u->field[i] : NULL;
	res = PQexecParams(u->conn,
	    "INSERT INTO units (code, name, level, parent) "
	    "VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO UPDATE SET "
	    "name = EXCLUDED.name, level = EXCLUDED.level, "
	    "parent = EXCLUDED.parent, updated_at = now() "
	    "WHERE (units.name, units.level, units.parent) IS DISTINCT FROM "
	    "(EXCLUDED.name, EXCLUDED.level, EXCLUDED.parent)",
	    4, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "sipasctl: %s: row %ld (%s): %s", u->path,
		    u->row, u->field[0], PQresultErrorMessage(res));
		u->failed = 1;
		/* Classes 22 (data exception) and 23 (constraint): the row. */
		if (strncmp(ctl_db_sqlstate(res), "22", 2) == 0 ||
		    strncmp(ctl_db_sqlstate(res), "23", 2) == 0)
			u->bad = 1;
	} else {
		u->changed += atol(PQcmdTuples(res));
		u->total++;
		strmap_put(u->lines, u->field[0], (void *)(intptr_t)(u->row + 1));
	}
	PQclear(res);
next:
	for (i = 0; i < 4; i++) {
		free(u->field[i]);
		u->field[i] = NULL;
	}
	u->fieldno = 0;
	u->row++;
}

/* "line N: " of a unit of the imported file, or "" for one already stored. */
static const char *
ctl_db_units_line(const struct ctl_db_units *u, const char *code, char *buf,
    size_t len)
{
	intptr_t line = (intptr_t)strmap_get(u->lines, code);

	if (line <= 0)
		return "";
	snprintf(buf, len, "line %ld: ", (long)line);
	return buf;
}

/*
 * Report every unknown parent and every unit on a parent cycle after an
 * import, with its line in the file (the header is line 1); 0 if none, -2 if
 * some, -1 on a database error.
 */
static int
ctl_db_units_check(PGconn *conn, const struct ctl_db_units *u)
{
	PGresult *res;
	char buf[48];
	int i, r = 0;

	res = ctl_db_exec(conn,
	    "SELECT u.code, u.parent FROM units u "
	    "WHERE u.parent IS NOT NULL AND NOT EXISTS "
	    "(SELECT 1 FROM units p WHERE p.code = u.parent) "
	    "ORDER BY u.code LIMIT 50", 0, NULL);
	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		fprintf(stderr, "sipasctl: %s: %sunit %s: unknown parent %s\n",
		    u->path, ctl_db_units_line(u, PQgetvalue(res, i, 0), buf,
		    sizeof buf), PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		r = -2;
	}
	PQclear(res);
	if (r != 0)
		return r;
	res = ctl_db_exec(conn,
	    "WITH RECURSIVE walk (code, parent, depth) AS ("
	    " SELECT code, parent, 0 FROM units"
	    " UNION ALL SELECT w.code, u.parent, w.depth + 1"
	    " FROM walk w JOIN units u ON u.code = w.parent WHERE w.depth < 64)"
	    " SELECT DISTINCT code FROM walk WHERE depth >= 64 ORDER BY code"
	    " LIMIT 50", 0, NULL);
	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		fprintf(stderr, "sipasctl: %s: %sunit %s: its parents form a "
		    "cycle (or the tree is deeper than 64)\n", u->path,
		    ctl_db_units_line(u, PQgetvalue(res, i, 0), buf, sizeof buf),
		    PQgetvalue(res, i, 0));
		r = -2;
	}
	PQclear(res);
	return r;
}

/* sipasctl unit import UNITS.csv: upsert units in one transaction. */
static int
ctl_db_unit(PGconn *conn, int argc, char **argv)
{
	struct ctl_db_units u;
	struct csv_parser p;
	char buf[65536], detail[64];
	size_t n;
	FILE *f;
	int i, r = 1;

	if (argc != 3 || strcmp(argv[1], "import") != 0) {
		fprintf(stderr, "usage: sipasctl unit import UNITS.csv\n");
		return 2;
	}
	memset(&u, 0, sizeof u);
	u.conn = conn;
	u.path = argv[2];
	u.lines = strmap_create();
	for (i = 0; i < 4; i++)
		u.col[i] = -1;
	if ((f = fopen(u.path, "r")) == NULL) {
		fprintf(stderr, "sipasctl: %s: %s\n", u.path, strerror(errno));
		strmap_free(u.lines);
		return CTL_EXIT_USAGE;
	}
	if (csv_init(&p, CSV_APPEND_NULL) != 0) {
		strmap_free(u.lines);
		fclose(f);
		return 1;
	}
	if (ctl_db_do(conn, "BEGIN", 0, NULL) != 0)
		goto out;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0 && !u.failed) {
		if (csv_parse(&p, buf, n, ctl_db_units_field, ctl_db_units_row,
		    &u) != n) {
			fprintf(stderr, "sipasctl: %s: %s\n", u.path,
			    csv_strerror(csv_error(&p)));
			u.failed = u.bad = 1;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "sipasctl: %s: %s\n", u.path, strerror(errno));
		u.failed = 1;
	}
	if (!u.failed && csv_fini(&p, ctl_db_units_field, ctl_db_units_row,
	    &u) != 0) {
		fprintf(stderr, "sipasctl: %s: %s\n", u.path,
		    csv_strerror(csv_error(&p)));
		u.failed = u.bad = 1;
	}
	if (!u.failed && u.row == 0) {
		fprintf(stderr, "sipasctl: %s: empty file\n", u.path);
		u.failed = u.bad = 1;
	}
	if (!u.failed && (i = ctl_db_units_check(conn, &u)) != 0) {
		u.failed = 1;
		u.bad = i == -2;
	}
	if (!u.failed) {
		snprintf(detail, sizeof detail, "{\"changed\": %ld}", u.changed);
		if (ctl_db_audit(conn, "unit import", detail) != 0 ||
		    ctl_db_do(conn, "COMMIT", 0, NULL) != 0)
			u.failed = 1;
	}
	if (u.failed) {
		ctl_db_do(conn, "ROLLBACK", 0, NULL);
		fprintf(stderr, "sipasctl: %s: nothing imported\n", u.path);
		if (u.bad)
			r = 2;
		goto out;
	}
	printf("%s: %ld units, %ld new or changed\n", u.path, u.total,
	    u.changed);
	r = 0;
out:
	for (i = 0; i < 4; i++)
		free(u.field[i]);
	strmap_free(u.lines);
	csv_free(&p);
	fclose(f);
	return r;
}

/* The options of sipasctl token create. */
const struct ctl_opt ctl_token_opts[] = {
	{ "role", 'r', 0, "ROLE", "create: collector, uploader, viewer or admin" },
	{ "unit", 'u', 0, "CODE", "create: the unit (and its subtree) the token "
	    "is limited to" },
	{ "name", 'n', 0, "TEXT", "create: a name to revoke it by" },
	{ NULL, 0, 0, NULL, NULL },
};

/* Read the options of a grant (--role, --unit, --name, --password-stdin). */
int
ctl_db_grant_opts(int argc, char **argv, const struct ctl_opt *opts,
    struct ctl_grant *g)
{
	int c;

	memset(g, 0, sizeof *g);
	g->name = "";
	optind = 0;
	while ((c = ctl_getopt(argc, argv, opts)) != -1) {
		switch (c) {
		case 'r':
			g->role = optarg;
			break;
		case 'u':
			g->unit = optarg;
			break;
		case 'n':
			g->name = optarg;
			break;
		case 'p':
			g->password_stdin = 1;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* sipasctl token create --role ROLE [--unit CODE] [--name TEXT]. */
static int
ctl_db_token_create(PGconn *conn, int argc, char **argv)
{
	struct ctl_grant g;
	const char *role, *unit, *name, *params[4];
	char token[TOKEN_LEN + 1], hash[TOKEN_HASH_LEN + 1], *cause = NULL;
	char *text;
	json_t *detail;
	PGresult *res;
	int r;

	if (ctl_db_grant_opts(argc, argv, ctl_token_opts, &g) != 0 ||
	    optind != argc || g.role == NULL)
		goto usage;
	role = g.role;
	unit = g.unit;
	name = g.name;
	if (role_parse(role) < 0) {
		fprintf(stderr, "sipasctl: unknown role '%s' (collector, "
		    "uploader, viewer, admin)\n", role);
		return 2;
	}
	if (token_generate(token, sizeof token, &cause) != 0) {
		fprintf(stderr, "sipasctl: %s\n", cause);
		free(cause);
		return 1;
	}
	token_hash(token, strlen(token), hash);
	params[0] = name;
	params[1] = hash;
	params[2] = role;
	params[3] = unit;
	res = PQexecParams(conn, "INSERT INTO tokens (name, hash, role, unit) "
	    "VALUES ($1, $2, $3, $4) RETURNING id", 4, NULL, params, NULL, NULL,
	    0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		/* foreign_key_violation: the unit does not exist. */
		r = strcmp(ctl_db_sqlstate(res), "23503") == 0 ?
		    CTL_EXIT_USAGE : CTL_EXIT_FAIL;
		if (r == CTL_EXIT_USAGE)
			fprintf(stderr, "sipasctl: unknown unit '%s'\n", unit);
		else
			fprintf(stderr, "sipasctl: %s",
			    PQresultErrorMessage(res));
		PQclear(res);
		return r;
	}
	fprintf(stderr, "token %s created (role %s%s%s); it is shown only "
	    "once:\n", PQgetvalue(res, 0, 0), role, unit != NULL ? ", unit " :
	    "", unit != NULL ? unit : "");
	detail = json_pack("{s:s,s:s,s:s?,s:s}", "id", PQgetvalue(res, 0, 0),
	    "role", role, "unit", unit, "name", name);
	PQclear(res);
	printf("%s\n", token);
	text = json_dumps(detail, JSON_COMPACT);
	ctl_db_audit(conn, "token create", text);
	free(text);
	json_decref(detail);
	return 0;
usage:
	ctl_verb_usage(stderr, ctl_verb_find("token"));
	return CTL_EXIT_USAGE;
}

/* sipasctl token list: every token without its secret. */
static int
ctl_db_token_list(PGconn *conn)
{
	PGresult *res;
	int i;

	res = ctl_db_exec(conn, "SELECT id, role, coalesce(unit, '-'), "
	    "to_char(created_at, 'YYYY-MM-DD'), "
	    "coalesce(to_char(revoked_at, 'YYYY-MM-DD'), '-'), name "
	    "FROM tokens ORDER BY id", 0, NULL);
	if (res == NULL)
		return 1;
	printf("%-6s %-10s %-12s %-10s %-10s %s\n", "id", "role", "unit",
	    "created", "revoked", "name");
	for (i = 0; i < PQntuples(res); i++)
		printf("%-6s %-10s %-12s %-10s %-10s %s\n", PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		    PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
		    PQgetvalue(res, i, 5));
	PQclear(res);
	return 0;
}

/* sipasctl token revoke ID|NAME. */
static int
ctl_db_token_revoke(PGconn *conn, const char *which)
{
	const char *params[1] = { which };
	json_t *detail;
	PGresult *res;
	char *text;
	long n;

	res = ctl_db_exec(conn, "UPDATE tokens SET revoked_at = now() "
	    "WHERE (id::text = $1 OR name = $1) AND revoked_at IS NULL", 1,
	    params);
	if (res == NULL)
		return 1;
	n = atol(PQcmdTuples(res));
	PQclear(res);
	if (n == 0) {
		fprintf(stderr, "sipasctl: no active token '%s'\n", which);
		return CTL_EXIT_USAGE;
	}
	detail = json_pack("{s:s,s:I}", "token", which, "revoked",
	    (json_int_t)n);
	text = json_dumps(detail, JSON_COMPACT);
	ctl_db_audit(conn, "token revoke", text);
	free(text);
	json_decref(detail);
	printf("%ld token(s) revoked\n", n);
	return 0;
}

/* sipasctl token create|list|revoke. */
static int
ctl_db_token(PGconn *conn, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return ctl_db_token_create(conn, argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return ctl_db_token_list(conn);
	if (argc == 3 && strcmp(argv[1], "revoke") == 0)
		return ctl_db_token_revoke(conn, argv[2]);
	ctl_verb_usage(stderr, ctl_verb_find("token"));
	return CTL_EXIT_USAGE;
}

/*
 * sipasctl export --survey CODE [--unit CODE] [--from DATE] [--to DATE]
 * [--channel CHANNEL]: stream the responses CSV (docs/interfaces.md)
 * through a cursor, so memory does not grow with the number of rows. Dates
 * are days in Vietnam time, both inclusive. The rows are written by
 * common/csvout.c, as GET /api/v1/export writes them.
 */
const struct ctl_opt ctl_export_opts[] = {
	{ "survey", 's', 0, "CODE", "the stored survey" },
	{ "unit", 'u', 0, "CODE", "only this unit and the units under it" },
	{ "from", 'f', 0, "DATE", "first day (YYYY-MM-DD, Vietnam time)" },
	{ "to", 't', 0, "DATE", "last day, included" },
	{ "channel", 'c', 0, "CHANNEL", "only paper, web, sms or kiosk responses" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
ctl_db_export(PGconn *conn, int argc, char **argv)
{
	const char *params[5] = { NULL, NULL, NULL, NULL, NULL };
	struct survey *s = NULL;
	struct csvout o;
	struct csvout_response row;
	char **rkeys = NULL, *cause = NULL;
	PGresult *res = NULL;
	int c, i, j, nrkeys = 0, r = 1, nrows, ch;
	long exported = 0;
	FILE *out = stdout;

	csvout_init(&o, "\r\n");
	optind = 0;
	while ((c = ctl_getopt(argc, argv, ctl_export_opts)) != -1) {
		switch (c) {
		case 's':
			params[0] = optarg;
			break;
		case 'u':
			params[1] = optarg;
			break;
		case 'f':
			params[2] = optarg;
			break;
		case 't':
			params[3] = optarg;
			break;
		case 'c':
			params[4] = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || params[0] == NULL)
		goto usage;
	if (ctl_check_dates(params[2], params[3]) != 0)
		return CTL_EXIT_USAGE;
	if (params[4] != NULL) {
		if ((ch = channel_parse(params[4])) < 0) {
			fprintf(stderr, "sipasctl: unknown channel '%s' (paper, "
			    "web, sms, kiosk)\n", params[4]);
			return 2;
		}
		params[4] = channel_name((enum channel)ch);
	}
	if (ctl_db_do(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    0, NULL) != 0)
		return 1;
	if (params[1] != NULL) {
		res = ctl_db_exec(conn, "SELECT 1 FROM units WHERE code = $1", 1,
		    params + 1);
		if (res == NULL)
			goto out;
		if (PQntuples(res) != 1) {
			fprintf(stderr, "sipasctl: unknown unit '%s'\n",
			    params[1]);
			r = CTL_EXIT_USAGE;
			goto out;
		}
		PQclear(res);
	}
	res = ctl_db_exec(conn, "SELECT definition::text FROM surveys "
	    "WHERE code = $1", 1, params);
	if (res == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		fprintf(stderr, "sipasctl: unknown survey '%s'\n", params[0]);
		r = CTL_EXIT_USAGE;
		goto out;
	}
	s = survey_create(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0,
	    0), &cause);
	if (s == NULL) {
		fprintf(stderr, "sipasctl: stored survey %s: %s\n", params[0],
		    cause);
		goto out;
	}
	PQclear(res);
	res = NULL;

	/*
	 * The selection, shared by the demographics query and the cursor
	 * (daemon/store/store.c has the same for GET /api/v1/export).
	 */

	res = ctl_db_exec(conn, "SELECT DISTINCT k FROM (SELECT "
	    "jsonb_object_keys(r.respondent) AS k" SQL_EXPORT_WHERE
	    " AND jsonb_typeof(r.respondent) = 'object') x ORDER BY k", 5,
	    params);
	if (res == NULL)
		goto out;
	nrkeys = PQntuples(res);
	rkeys = xcalloc((size_t)nrkeys + 1, sizeof *rkeys);
	for (i = 0; i < nrkeys; i++)
		rkeys[i] = xstrdup(PQgetvalue(res, i, 0));
	PQclear(res);
	res = NULL;
	if (ctl_db_do(conn, "DECLARE export NO SCROLL CURSOR FOR SELECT "
	    "r.source_id, r.unit, extract(epoch FROM r.submitted_at)::bigint, "
	    "r.channel, r.weight, r.stratum, r.psu, r.answers::text, "
	    "r.respondent::text" SQL_EXPORT_WHERE " ORDER BY r.id", 5,
	    params) != 0)
		goto out;

	csvout_responses_header(&o, s, rkeys, (size_t)nrkeys);
	if (csvout_write(&o, out) != 0)
		goto write_error;
	for (;;) {
		res = ctl_db_exec(conn, "FETCH 1000 FROM export", 0, NULL);
		if (res == NULL)
			goto out;
		if ((nrows = PQntuples(res)) == 0)
			break;
		exported += nrows;
		for (j = 0; j < nrows; j++) {
			row.id = PQgetisnull(res, j, 0) ? NULL :
			    PQgetvalue(res, j, 0);
			row.unit = PQgetvalue(res, j, 1);
			row.submitted_at = strtoll(PQgetvalue(res, j, 2), NULL,
			    10);
			row.channel = PQgetvalue(res, j, 3);
			row.weight = strtod(PQgetvalue(res, j, 4), NULL);
			row.stratum = PQgetvalue(res, j, 5);
			row.psu = PQgetvalue(res, j, 6);
			row.answers = PQgetvalue(res, j, 7);
			row.respondent = PQgetisnull(res, j, 8) ? NULL :
			    PQgetvalue(res, j, 8);
			csvout_responses_row(&o, s, rkeys, (size_t)nrkeys, &row);
			if (csvout_write(&o, out) != 0)
				goto write_error;
		}
		PQclear(res);
		res = NULL;
	}
	if (fflush(out) != 0 || ferror(out))
		goto write_error;
	r = 0;
	goto out;
write_error:
	fprintf(stderr, "sipasctl: write error: %s\n", strerror(errno));
out:
	if (res != NULL)
		PQclear(res);
	ctl_db_do(conn, "ROLLBACK", 0, NULL);
	if (r == 0) {
		json_t *detail = json_pack("{s:s,s:s?,s:s?,s:s?,s:s?,s:I}",
		    "survey", params[0], "unit", params[1], "from", params[2],
		    "to", params[3], "channel", params[4], "rows",
		    (json_int_t)exported);
		char *text = json_dumps(detail, JSON_COMPACT);

		ctl_db_audit(conn, "export", text);
		free(text);
		json_decref(detail);
	}
	for (i = 0; i < nrkeys; i++)
		free(rkeys[i]);
	free(rkeys);
	free(cause);
	csvout_free(&o);
	survey_free(s);
	return r;
usage:
	ctl_verb_usage(stderr, ctl_verb_find("export"));
	return CTL_EXIT_USAGE;
}

/* Connect, run one verb body, disconnect. */
static int
ctl_db_run(struct ctl *ctl, int (*fn)(PGconn *, int, char **), int argc,
    char **argv)
{
	PGconn *conn;
	int r;

	if ((conn = ctl_db_connect(ctl->db)) == NULL)
		return CTL_EXIT_FAIL;
	r = fn(conn, argc, argv);
	PQfinish(conn);
	return r;
}

/* sipasctl init. */
int
ctl_init_run(struct ctl *ctl, int argc, char **argv)
{
	return ctl_db_run(ctl, ctl_db_init, argc, argv);
}

/* sipasctl unit import. */
int
ctl_unit_run(struct ctl *ctl, int argc, char **argv)
{
	return ctl_db_run(ctl, ctl_db_unit, argc, argv);
}

/* sipasctl survey load. */
int
ctl_survey_run(struct ctl *ctl, int argc, char **argv)
{
	return ctl_db_run(ctl, ctl_db_survey, argc, argv);
}

/* sipasctl token create|list|revoke. */
int
ctl_token_run(struct ctl *ctl, int argc, char **argv)
{
	return ctl_db_run(ctl, ctl_db_token, argc, argv);
}

/* sipasctl export. */
int
ctl_export_run(struct ctl *ctl, int argc, char **argv)
{
	return ctl_db_run(ctl, ctl_db_export, argc, argv);
}
