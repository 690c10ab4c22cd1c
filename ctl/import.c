/*
 * import.c: sipasctl import --survey CODE FILE.csv: the bulk load of
 * POST /api/v1/uploads from a file (or standard input), with the same
 * semantics and the same report (docs/uploads.md).
 *
 * The file is read in slices through the streaming CSV reader (csvin.c), so
 * memory is bounded by one slice and one chunk of rows whatever the file's
 * size. An XLSX workbook (told by its first bytes; --sheet NAME picks a
 * sheet other than the first) is read by xlsxin.c, one row at a time, and
 * its rows go through the same reader (csvin_push_fields). Good rows are inserted CTL_IMPORT_CHUNK at a time, one transaction per
 * chunk holding one statement for the whole chunk, the batch statement of
 * daemon/store/store.c: stored, duplicate (same id and
 * content hash) or conflict (same id, other content). The content hash is the
 * one sipasd computes for a response (daemon/channels/ingest.c), so a file uploaded
 * through the daemon and imported here is a duplicate, not a conflict. If a
 * chunk fails on one row, its rows are retried one per transaction and the
 * failing row is rejected. Owns its SQL (blocking libpq, parameters only).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "ctl.h"
#include "ctl_db.h"
#include "sipas/csvin.h"
#include "sipas/pgarray.h"
#include "sipas/problems.h"
#include "sipas/response.h"
#include "sipas/sql_insert.h"
#include "sipas/strmap.h"
#include "sipas/survey.h"
#include "sipas/token.h"
#include "sipas/util.h"
#include "sipas/xlsxin.h"

/* Rows per transaction. */
#define CTL_IMPORT_CHUNK 500
/* Problems listed in the report; the rest are counted. */
#define CTL_IMPORT_PROBLEMS_MAX 1000
/* Longest id, stratum and psu (as sipasd). */
#define CTL_IMPORT_TEXT_MAX 200
/* A progress line on stderr every this many rows. */
#define CTL_IMPORT_PROGRESS 100000

/* The batch insert of daemon/store/store.c: inserted, duplicate or conflict. */
static const char ctl_import_sql[] = SQL_RESPONSE_BATCH;

/* One good row ready to insert; every string owned. */
struct ctl_import_row {
	long row;
	char *p[11]; /* the statement's parameters */
};

struct ctl_import {
	PGconn *conn;
	const char *path;
	const struct survey *survey;
	struct strmap *units;
	struct csvin *csv;
	struct ctl_import_row chunk[CTL_IMPORT_CHUNK];
	int nchunk;
	int dbfail;	 /* a connection or transaction failure: stop */
	long stored, duplicates, conflicts;
	struct problems problems; /* and the rows rejected */
	char *fatal;
	long progress_next;
	json_t *format; /* "format" of the report: an XLSX's sheet, dates */
};

/* Record a problem: on stderr as FILE:ROW:COLUMN: NAME: reason, and in the report. */
static void
ctl_import_problem(struct ctl_import *im, long row, const char *status,
    const char *column, int colno, const char *reason)
{
	fprintf(stderr, "%s:%ld:%d: %s: %s%s\n", im->path, row, colno,
	    column != NULL ? column : "-", strcmp(status, "conflict") == 0 ?
	    "conflict: " : "", reason);
	problems_add(&im->problems, row, status, column, colno, reason, NULL);
}

/* csvin: a bad field, row or header. */
static int
ctl_import_csv_error(const struct csvin_error *e, void *arg)
{
	struct ctl_import *im = arg;

	ctl_import_problem(im, e->row, "rejected", e->column_name, e->column,
	    e->reason);
	problems_reject_row(&im->problems, e->row);
	if (e->row == 0 && im->fatal == NULL)
		im->fatal = xstrdup(e->reason);
	return 0;
}

/* Free a row's strings. */
static void
ctl_import_row_clear(struct ctl_import_row *ir)
{
	int i;

	for (i = 0; i < 11; i++) {
		free(ir->p[i]);
		ir->p[i] = NULL;
	}
}

/*
 * Rows [from, from + n) of the chunk in one transaction: BEGIN, the batch
 * statement, COMMIT. 0 committed, with each row's outcome in what[] (0
 * inserted, 1 duplicate, 2 conflict); 1 the statement failed (its SQLSTATE
 * in state, the message in msg, rolled back); -1 the connection failed.
 */
static int
ctl_import_batch(struct ctl_import *im, int from, int n, int *what,
    char *state, char *msg, size_t msglen)
{
	struct pgarray cols[SQL_RESPONSE_BATCH_NPARAMS];
	const char *params[SQL_RESPONSE_BATCH_NPARAMS];
	PGresult *res;
	const char *w;
	int i, j, rc = 0;

	if (ctl_db_do(im->conn, "BEGIN", 0, NULL) != 0)
		return -1;
	memset(cols, 0, sizeof cols);
	for (i = from; i < from + n; i++) {
		for (j = 0; j < SQL_RESPONSE_BATCH_NPARAMS; j++)
			pgarray_add(&cols[j], im->chunk[i].p[j]);
	}
	for (j = 0; j < SQL_RESPONSE_BATCH_NPARAMS; j++)
		params[j] = pgarray_text(&cols[j]);
	res = PQexecPrepared(im->conn, "import_batch",
	    SQL_RESPONSE_BATCH_NPARAMS, params, NULL, NULL, 0);
	for (j = 0; j < SQL_RESPONSE_BATCH_NPARAMS; j++)
		pgarray_free(&cols[j]);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(state, 6, "%s", ctl_db_sqlstate(res));
		snprintf(msg, msglen, "%s", PQresultErrorMessage(res));
		rc = 1;
	} else if (PQntuples(res) != n) {
		snprintf(state, 6, "XX000");
		snprintf(msg, msglen, "%d outcomes for %d rows", PQntuples(res),
		    n);
		rc = 1;
	}
	for (i = 0; rc == 0 && i < n; i++) {
		if (PQgetisnull(res, i, 0)) {
			/* Its id was claimed by a concurrent commit. */
			snprintf(state, 6, "40001");
			snprintf(msg, msglen, "concurrent insert of the same id");
			rc = 1;
			break;
		}
		w = PQgetvalue(res, i, 0);
		what[i] = strcmp(w, "inserted") == 0 ? 0 :
		    strcmp(w, "duplicate") == 0 ? 1 : 2;
	}
	PQclear(res);
	if (rc != 0) {
		msg[strcspn(msg, "\n")] = '\0';
		if (ctl_db_do(im->conn, "ROLLBACK", 0, NULL) != 0)
			return -1;
		return 1;
	}
	return ctl_db_do(im->conn, "COMMIT", 0, NULL) != 0 ? -1 : 0;
}

/* Count one row's outcome. */
static void
ctl_import_outcome(struct ctl_import *im, const struct ctl_import_row *ir,
    int what)
{
	char *reason;

	if (what == 0)
		im->stored++;
	else if (what == 1)
		im->duplicates++;
	else {
		im->conflicts++;
		xasprintf(&reason, "another response with id '%s' and other "
		    "content is already stored for survey %s", ir->p[2],
		    im->survey->code);
		ctl_import_problem(im, ir->row, "conflict", "id",
		    csvin_column_index(im->csv, "id"), reason);
		free(reason);
	}
}

/* 1 if a SQLSTATE says the connection, not the row, failed. */
static int
ctl_import_state_is_connection(const char *s)
{
	return *s == '\0' || strncmp(s, "08", 2) == 0 ||
	    strncmp(s, "57", 2) == 0 || strncmp(s, "53", 2) == 0;
}

/* Insert the chunk: one transaction, or one per row after a failure. */
static void
ctl_import_flush(struct ctl_import *im)
{
	char state[6], msg[256], *reason;
	int i, what[CTL_IMPORT_CHUNK], failed = 0;

	if (im->nchunk == 0 || im->dbfail)
		goto out;
	failed = ctl_import_batch(im, 0, im->nchunk, what, state, msg,
	    sizeof msg);
	if (failed < 0) {
		im->dbfail = 1;
		goto out;
	}
	if (!failed) {
		for (i = 0; i < im->nchunk; i++)
			ctl_import_outcome(im, &im->chunk[i], what[i]);
		goto out;
	}
	if (ctl_import_state_is_connection(state)) {
		fprintf(stderr, "sipasctl: %s\n", msg);
		im->dbfail = 1;
		goto out;
	}
	/* One row spoilt the transaction: each row alone. */
	for (i = 0; i < im->nchunk && !im->dbfail; i++) {
		failed = ctl_import_batch(im, i, 1, &what[i], state, msg,
		    sizeof msg);
		if (failed < 0) {
			im->dbfail = 1;
			break;
		}
		if (!failed) {
			ctl_import_outcome(im, &im->chunk[i], what[i]);
			continue;
		}
		if (ctl_import_state_is_connection(state)) {
			fprintf(stderr, "sipasctl: %s\n", msg);
			im->dbfail = 1;
			break;
		}
		xasprintf(&reason, "the database rejected the row (SQLSTATE "
		    "%s): %s", state, msg);
		ctl_import_problem(im, im->chunk[i].row, "rejected", NULL, 0,
		    reason);
		problems_reject_row(&im->problems, im->chunk[i].row);
		free(reason);
	}
out:
	for (i = 0; i < im->nchunk; i++)
		ctl_import_row_clear(&im->chunk[i]);
	im->nchunk = 0;
}

/* A text field longer than sipasd accepts: reject the row; 1 if so. */
static int
ctl_import_too_long(struct ctl_import *im, long row, const char *name,
    const char *v)
{
	char *reason;

	if (v == NULL || strlen(v) <= CTL_IMPORT_TEXT_MAX)
		return 0;
	xasprintf(&reason, "%s must be a string of at most %d bytes", name,
	    CTL_IMPORT_TEXT_MAX);
	ctl_import_problem(im, row, "rejected", name, csvin_column_index(im->csv,
	    name), reason);
	problems_reject_row(&im->problems, row);
	free(reason);
	return 1;
}

/* csvin: a good row; check its unit and texts, then queue it. */
static int
ctl_import_csv_row(const struct response *resp, long row, void *arg)
{
	struct ctl_import *im = arg;
	struct ctl_import_row *ir;
	const struct survey *s = im->survey;
	char hash[TOKEN_HASH_LEN + 1], buf[64], *reason;

	if (strmap_get(im->units, resp->unit) == NULL) {
		xasprintf(&reason, "unknown unit '%s'", resp->unit);
		ctl_import_problem(im, row, "rejected", "unit",
		    csvin_column_index(im->csv, "unit"), reason);
		problems_reject_row(&im->problems, row);
		free(reason);
		return 0;
	}
	if (ctl_import_too_long(im, row, "id", resp->id) ||
	    ctl_import_too_long(im, row, "stratum", resp->stratum) ||
	    ctl_import_too_long(im, row, "psu", resp->psu))
		return 0;
	ir = &im->chunk[im->nchunk++];
	/* sipasd's texts and hash: a replay through any channel is a duplicate. */
	response_store_texts(resp, s, &ir->p[8], &ir->p[9], hash);
	ir->row = row;
	ir->p[0] = xstrdup(s->code);
	ir->p[1] = xstrdup(resp->unit);
	ir->p[2] = resp->id != NULL ? xstrdup(resp->id) : NULL;
	xasprintf(&ir->p[3], "%" PRId64, resp->has_time ? resp->submitted_at :
	    (int64_t)time(NULL));
	ir->p[4] = xstrdup(channel_name(resp->channel));
	snprintf(buf, sizeof buf, "%.17g", resp->weight);
	ir->p[5] = xstrdup(buf);
	ir->p[6] = resp->stratum != NULL ? xstrdup(resp->stratum) : NULL;
	ir->p[7] = resp->psu != NULL ? xstrdup(resp->psu) : NULL;
	ir->p[10] = xstrdup(hash);
	if (im->nchunk == CTL_IMPORT_CHUNK)
		ctl_import_flush(im);
	return im->dbfail ? -1 : 0;
}

/* Load the survey definition and the unit codes; exit status or -1 to go on. */
static int
ctl_import_catalog(struct ctl_import *im, const char *code, struct survey **sp)
{
	const char *params[1] = { code };
	PGresult *res;
	char *cause = NULL;
	int i;

	if ((res = ctl_db_exec(im->conn, "SELECT definition::text FROM "
	    "surveys WHERE code = $1", 1, params)) == NULL)
		return CTL_EXIT_FAIL;
	if (PQntuples(res) != 1) {
		fprintf(stderr, "sipasctl: unknown survey '%s'\n", code);
		PQclear(res);
		return CTL_EXIT_USAGE;
	}
	*sp = survey_create(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0,
	    0), &cause);
	PQclear(res);
	if (*sp == NULL) {
		fprintf(stderr, "sipasctl: stored survey %s: %s\n", code, cause);
		free(cause);
		return CTL_EXIT_FAIL;
	}
	if ((res = ctl_db_exec(im->conn, "SELECT code FROM units", 0,
	    NULL)) == NULL)
		return CTL_EXIT_FAIL;
	for (i = 0; i < PQntuples(res); i++)
		strmap_put(im->units, PQgetvalue(res, i, 0), im);
	PQclear(res);
	res = PQprepare(im->conn, "import_batch", ctl_import_sql,
	    SQL_RESPONSE_BATCH_NPARAMS, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "sipasctl: %s", PQresultErrorMessage(res));
		PQclear(res);
		return CTL_EXIT_FAIL;
	}
	PQclear(res);
	return -1;
}

/* Read the file through csvin, flushing chunks as they fill. */
static void
ctl_import_read(struct ctl_import *im, FILE *f)
{
	char buf[65536];
	size_t n;

	while (!im->dbfail && im->fatal == NULL &&
	    (n = fread(buf, 1, sizeof buf, f)) > 0) {
		if (csvin_push(im->csv, buf, n) != 0 && im->fatal == NULL &&
		    !im->dbfail)
			im->fatal = xstrdup("the file cannot be read on "
			    "(broken quoting or a row too long)");
		if (csvin_rows(im->csv) >= im->progress_next) {
			fprintf(stderr, "sipasctl: %s: %ld rows read, %ld "
			    "stored, %ld duplicates, %ld rejected\n", im->path,
			    csvin_rows(im->csv), im->stored, im->duplicates,
			    im->problems.rejected);
			im->progress_next += CTL_IMPORT_PROGRESS;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "sipasctl: %s: %s\n", im->path, strerror(errno));
		im->dbfail = 1;
		return;
	}
	if (!im->dbfail && im->fatal == NULL && csvin_finish(im->csv) != 0 &&
	    im->fatal == NULL && !im->dbfail)
		im->fatal = xstrdup(csvin_rows(im->csv) == 0 ?
		    "empty file: no header row" :
		    "the file ends inside a quoted field");
	ctl_import_flush(im);
}

/* A progress line every CTL_IMPORT_PROGRESS rows. */
static void
ctl_import_progress(struct ctl_import *im)
{
	if (csvin_rows(im->csv) >= im->progress_next) {
		fprintf(stderr, "sipasctl: %s: %ld rows read, %ld stored, %ld "
		    "duplicates, %ld rejected\n", im->path, csvin_rows(im->csv),
		    im->stored, im->duplicates, im->problems.rejected);
		im->progress_next += CTL_IMPORT_PROGRESS;
	}
}

/* xlsxin: a row of the sheet into csvin. */
static int
ctl_import_xlsx_row(const char *const *fields, const size_t *lens, int n,
    long sheet_row, void *arg)
{
	struct ctl_import *im = arg;

	if (csvin_push_fields(im->csv, fields, lens, n) != 0 || im->dbfail)
		return -1;
	ctl_import_progress(im);
	return 0;
}

/* Read an XLSX workbook's sheet through csvin; f is at its start. */
static void
ctl_import_read_xlsx(struct ctl_import *im, FILE *f, const char *sheet)
{
	struct xlsxin_limits lim;
	struct xlsxin *x;
	enum xlsxin_fail fail;
	char *cause = NULL;
	int fd, rc;

	xlsxin_limits_default(&lim);
	if ((fd = dup(fileno(f))) < 0) {
		fprintf(stderr, "sipasctl: %s: %s\n", im->path, strerror(errno));
		im->dbfail = 1;
		return;
	}
	if ((x = xlsxin_open_fd(fd, sheet, &lim, &fail, &cause)) == NULL) {
		im->fatal = cause;
		return;
	}
	while ((rc = xlsxin_step(x, ctl_import_xlsx_row, im)) > 0)
		;
	if (rc < 0 && xlsxin_failed(x) != XLSXIN_STOPPED && im->fatal == NULL)
		im->fatal = xstrdup(xlsxin_cause(x));
	im->format = json_pack("{s:s,s:s,s:s}", "container", "xlsx", "sheet",
	    xlsxin_sheet(x), "dates", xlsxin_dates(x) > 0 ? "excel-serial" :
	    "text");
	xlsxin_free(x);
	if (!im->dbfail && im->fatal == NULL && csvin_finish(im->csv) != 0 &&
	    im->fatal == NULL && !im->dbfail)
		im->fatal = xstrdup(csvin_rows(im->csv) == 0 ?
		    "empty sheet: no header row" : "the sheet cannot be read on");
	ctl_import_flush(im);
}

/* 1 if the file f starts like a zip (an XLSX), rewound; -1 on error. */
static int
ctl_import_is_zip(FILE *f)
{
	char head[4];
	size_t n;

	n = fread(head, 1, sizeof head, f);
	if (ferror(f) || fseek(f, 0, SEEK_SET) != 0)
		return -1;
	return xlsxin_magic(head, n);
}
/* The options of sipasctl import. */
const struct ctl_opt ctl_import_opts[] = {
	{ "survey", 's', 0, "CODE", "the stored survey the rows answer" },
	{ "weight-max", 'w', 0, "N", "largest sampling weight a row may have, "
	    "1 to 1e9 (default 1000)" },
	{ "channel-ids", 'c', 0, NULL, "keep the ids of web, SMS and kiosk rows "
	    "(refused by default)" },
	{ "encoding", 'e', 0, "CHARSET", "the CSV's encoding: utf-8, utf-16, "
	    "utf-16le, utf-16be or windows-1258 (default: detected)" },
	{ "sheet", 'S', 0, "NAME", "the sheet of an XLSX workbook to read "
	    "(default: the first)" },
	{ NULL, 0, 0, NULL, NULL },
};

/* sipasctl import --survey CODE FILE.csv. */
static int
ctl_import(PGconn *conn, int argc, char **argv)
{
	struct ctl_import im;
	struct response_rules rules;
	struct survey *s = NULL;
	const char *code = NULL, *sheet = NULL, *encoding = NULL;
	struct csvin_format fmt;
	char delim[2];
	json_t *rep;
	char *text;
	FILE *f = NULL;
	char *end;
	int c, rc, zip = 0;

	response_rules_default(&rules);
	optind = 0;
	while ((c = ctl_getopt(argc, argv, ctl_import_opts)) != -1) {
		switch (c) {
		case 's':
			code = optarg;
			break;
		case 'w':
			errno = 0;
			rules.weight_max = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || errno != 0 ||
			    !(rules.weight_max >= 1 && rules.weight_max <= 1e9)) {
				fprintf(stderr, "sipasctl: --weight-max must be "
				    "a number from 1 to 1e9\n");
				return CTL_EXIT_USAGE;
			}
			break;
		case 'c':
			rules.channel_ids = 1;
			break;
		case 'S':
			sheet = optarg;
			break;
		case 'e':
			if (csvin_encoding_set(NULL, optarg) != 0) {
				fprintf(stderr, "sipasctl: --encoding must be "
				    "utf-8, utf-16, utf-16le, utf-16be or "
				    "windows-1258\n");
				return CTL_EXIT_USAGE;
			}
			encoding = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || code == NULL)
		goto usage;
	memset(&im, 0, sizeof im);
	im.conn = conn;
	im.path = argv[optind];
	im.units = strmap_create();
	problems_init(&im.problems, CTL_IMPORT_PROBLEMS_MAX);
	im.progress_next = CTL_IMPORT_PROGRESS;
	if ((rc = ctl_import_catalog(&im, code, &s)) >= 0)
		goto out;
	im.survey = s;
	if (strcmp(im.path, "-") == 0)
		f = stdin;
	else if ((f = fopen(im.path, "r")) == NULL) {
		fprintf(stderr, "sipasctl: %s: %s\n", im.path, strerror(errno));
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (f != stdin && (zip = ctl_import_is_zip(f)) < 0) {
		fprintf(stderr, "sipasctl: %s: %s\n", im.path, strerror(errno));
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (!zip && sheet != NULL) {
		fprintf(stderr, "sipasctl: --sheet is for an XLSX file, and %s "
		    "is not one\n", f == stdin ? "standard input" : im.path);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	im.csv = csvin_create(s, ctl_import_csv_row, ctl_import_csv_error, &im);
	csvin_rules_set(im.csv, &rules);
	memset(&fmt, 0, sizeof fmt);
	if (zip)
		ctl_import_read_xlsx(&im, f, sheet);
	else {
		if (encoding != NULL)
			csvin_encoding_set(im.csv, encoding);
		ctl_import_read(&im, f);
		csvin_format_get(im.csv, &fmt);
	}
	delim[0] = fmt.delimiter;
	delim[1] = '\0';

	rep = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:b,s:O,s:I}",
	    "survey", s->code, "file", im.path,
	    "rows", (json_int_t)csvin_rows(im.csv),
	    "stored", (json_int_t)im.stored,
	    "duplicates", (json_int_t)im.duplicates,
	    "conflicts", (json_int_t)im.conflicts,
	    "rejected", (json_int_t)im.problems.rejected,
	    "complete", im.fatal == NULL && !im.dbfail,
	    "problems", im.problems.list,
	    "problems_omitted", (json_int_t)im.problems.omitted);
	if (im.format != NULL)
		json_object_set(rep, "format", im.format);
	else
		json_object_set_new(rep, "format", json_pack("{s:s,s:s,s:s}",
		    "encoding", fmt.encoding, "delimiter", delim, "dates",
		    fmt.dates));
	if (im.fatal != NULL)
		json_object_set_new(rep, "error", json_pack("{s:s,s:s}", "code",
		    "bad_file", "message", im.fatal));
	text = json_dumps(rep, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	printf("%s\n", text);
	free(text);
	/* The audit row: what was imported, not the problems. */
	json_object_del(rep, "problems");
	json_object_del(rep, "problems_omitted");
	text = json_dumps(rep, JSON_COMPACT);
	if (!im.dbfail)
		ctl_db_audit(conn, "import", text);
	free(text);
	json_decref(rep);
	if (!zip)
		fprintf(stderr, "sipasctl: %s: %s, delimiter %s, dates %s\n",
		    im.path, fmt.encoding, fmt.delimiter == '\t' ? "tab" : delim,
		    fmt.dates);
	fprintf(stderr, "sipasctl: %s: %ld rows, %ld stored, %ld duplicates, "
	    "%ld conflicts, %ld rejected%s\n", im.path, csvin_rows(im.csv),
	    im.stored, im.duplicates, im.conflicts, im.problems.rejected,
	    im.dbfail ? " (stopped: database failure)" : im.fatal != NULL ?
	    " (stopped: bad file)" : "");
	if (im.dbfail)
		rc = CTL_EXIT_FAIL;
	else if (im.fatal != NULL || im.problems.rejected > 0)
		rc = CTL_EXIT_USAGE;
	else
		rc = CTL_EXIT_OK;
out:
	if (f != NULL && f != stdin)
		fclose(f);
	csvin_free(im.csv);
	survey_free(s);
	strmap_free(im.units);
	problems_free(&im.problems);
	json_decref(im.format);
	free(im.fatal);
	return rc;
usage:
	ctl_verb_usage(stderr, ctl_verb_find("import"));
	return CTL_EXIT_USAGE;
}

/* sipasctl import. */
int
ctl_import_run(struct ctl *ctl, int argc, char **argv)
{
	PGconn *conn;
	int r;

	if ((conn = ctl_db_connect(ctl->db)) == NULL)
		return CTL_EXIT_FAIL;
	r = ctl_import(conn, argc, argv);
	PQfinish(conn);
	return r;
}
