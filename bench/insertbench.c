/*
 * insertbench.c: the PostgreSQL cost of storing responses, per row, for each
 * way of sending a batch (bench/insert.sh runs it; docs/performance.md has
 * the figures).
 *
 *	insertbench --db DSN --mode rows|array|binary|copy [--batches N] [--size N]
 *	    [--plans]
 *
 * Every batch is one transaction of --size rows (49-answer JSON rows with a
 * unique id, survey sipas-2023, unit B01) sent in one round trip (copy:
 * three, as COPY cannot run in a pipeline):
 *
 *	rows   BEGIN, one prepared single-row insert per row, COMMIT (the
 *	       statement sipasd used before the batch statement);
 *	array  BEGIN, the batch statement of include/sipas/sql_insert.h with one
 *	       text array literal per column, COMMIT;
 *	binary the same with each array in binary form, as sipasd sends them;
 *	copy   BEGIN, COPY FROM STDIN (FORMAT binary) into a temporary table,
 *	       one INSERT ... SELECT from it with the same outcomes, COMMIT.
 *
 * Prints one line: mode, rows, wall µs per row, and CPU µs per row of the
 * backend, of every PostgreSQL process (the postmaster's children: WAL
 * writer, checkpointer...) and of this client, from /proc/PID/stat. With
 * --plans, a second line: how many times PostgreSQL used the prepared
 * statement's generic plan and how many custom plans it made
 * (pg_prepared_statements), which tests/integration/daemon_resilience.sh
 * reads.
 */
#include "config.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <libpq-fe.h>

#include "sipas/pgarray.h"
#include "sipas/sql_insert.h"
#include "sipas/util.h"

/* The single-row statement of earlier versions, for the comparison. */
#define BENCH_ROW_SQL \
    "WITH k AS (" \
    " INSERT INTO response_keys (survey, source_id, response_id, content_hash)" \
    " SELECT $1, $3, nextval('responses_id_seq'), $11" \
    " WHERE $3::text IS NOT NULL" \
    " ON CONFLICT (survey, source_id) DO NOTHING RETURNING response_id)," \
    " ins AS (" \
    " INSERT INTO responses (id, survey, unit, source_id, submitted_at," \
    "  channel, weight, stratum, psu, answers, respondent, content_hash)" \
    " SELECT coalesce((SELECT response_id FROM k)," \
    "  nextval('responses_id_seq')), $1, $2, $3," \
    "  to_timestamp($4::double precision), $5, $6::double precision, $7, $8," \
    "  $9::jsonb, $10::jsonb, $11" \
    " WHERE $3::text IS NULL OR EXISTS (SELECT 1 FROM k)" \
    " RETURNING id)" \
    " SELECT 'inserted', id FROM ins" \
    " UNION ALL" \
    " SELECT CASE WHEN rk.content_hash = $11 THEN 'duplicate'" \
    "  ELSE 'conflict' END, rk.response_id FROM response_keys rk" \
    " WHERE $3::text IS NOT NULL AND rk.survey = $1 AND rk.source_id = $3" \
    "  AND NOT EXISTS (SELECT 1 FROM k)"

#define BENCH_STAGE_SQL \
    "CREATE TEMPORARY TABLE bench_stage (survey text, unit text," \
    " source_id text, at double precision, channel text," \
    " weight double precision, stratum text, psu text, answers text," \
    " respondent text, hash text, n bigint) ON COMMIT DELETE ROWS"

/* The batch statement's logic, reading the staging table. */
#define BENCH_COPY_SQL \
    "WITH b AS MATERIALIZED (" \
    " SELECT s.*, nextval('responses_id_seq') AS id FROM bench_stage s)," \
    SQL_RESPONSE_BATCH_FROM_B

#define NCOL 11

struct bench_row {
	char *p[NCOL];
};

static void
bench_die(PGconn *conn, const char *what)
{
	fprintf(stderr, "insertbench: %s: %s", what, conn != NULL ?
	    PQerrorMessage(conn) : "\n");
	exit(1);
}

/* utime + stime of a process, in clock ticks (0 if gone). */
static long long
bench_ticks(int pid)
{
	char path[64], buf[1024], *p;
	long long ut = 0, st = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof buf, f) == NULL) {
		fclose(f);
		return 0;
	}
	fclose(f);
	/* Fields after the command's closing parenthesis; utime is 14th. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	p += 2;
	for (i = 3; i < 14 && p != NULL; i++) {
		p = strchr(p, ' ');
		if (p != NULL)
			p++;
	}
	if (p == NULL || sscanf(p, "%lld %lld", &ut, &st) != 2)
		return 0;
	return ut + st;
}

/* The parent of a process. */
static int
bench_ppid(int pid)
{
	char path[64], buf[1024], *p;
	int ppid = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof buf, f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 2, "%*c %d", &ppid);
	fclose(f);
	return ppid;
}

/* Ticks of the postmaster and every child of it. */
static long long
bench_cluster_ticks(int postmaster)
{
	struct dirent *de;
	long long t;
	DIR *d;
	int pid;

	t = bench_ticks(postmaster);
	if ((d = opendir("/proc")) == NULL)
		return t;
	while ((de = readdir(d)) != NULL) {
		pid = atoi(de->d_name);
		if (pid > 0 && bench_ppid(pid) == postmaster)
			t += bench_ticks(pid);
	}
	closedir(d);
	return t;
}

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
bench_self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* A row like a sipas-2023 response: 49 answers, a unique id. */
static void
bench_row_make(struct bench_row *r, const char *tag, long i)
{
	char buf[1024];
	size_t len = 0;
	int q;

	len += (size_t)snprintf(buf, sizeof buf, "{");
	for (q = 1; q <= 49; q++)
		len += (size_t)snprintf(buf + len, sizeof buf - len,
		    "%s\"Q%02d\": %ld", q > 1 ? ", " : "", q, 1 + (i + q) % 5);
	snprintf(buf + len, sizeof buf - len, "}");
	r->p[0] = xstrdup("sipas-2023");
	r->p[1] = xstrdup("B01");
	xasprintf(&r->p[2], "bench-%s-%ld", tag, i);
	xasprintf(&r->p[3], "%ld", 1764547200L + i);
	r->p[4] = xstrdup("web");
	r->p[5] = xstrdup("1");
	r->p[6] = NULL;
	r->p[7] = NULL;
	r->p[8] = xstrdup(buf);
	r->p[9] = xstrdup("{\"sex\": \"f\", \"age\": 34}");
	xasprintf(&r->p[10], "%064lx", (unsigned long)i * 2654435761u);
}

/* Read every result up to the pipeline's sync; exit on any failure. */
static void
bench_results(PGconn *conn, int nstmt, int expect_rows)
{
	PGresult *res;
	ExecStatusType st;
	int i, tuples = 0;

	for (i = 0; i < nstmt; i++) {
		while ((res = PQgetResult(conn)) != NULL) {
			st = PQresultStatus(res);
			if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
			    st != PGRES_COPY_IN) {
				fprintf(stderr, "insertbench: %s",
				    PQresultErrorMessage(res));
				exit(1);
			}
			if (st == PGRES_TUPLES_OK)
				tuples += PQntuples(res);
			PQclear(res);
		}
	}
	res = PQgetResult(conn);
	if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		bench_die(conn, "no sync");
	PQclear(res);
	if (tuples != expect_rows) {
		fprintf(stderr, "insertbench: %d outcomes for %d rows\n", tuples,
		    expect_rows);
		exit(1);
	}
}

/* Append a big-endian integer or a field to a COPY binary buffer. */
static void
bench_put(char **buf, size_t *len, size_t *size, const void *p, size_t n)
{
	while (*len + n > *size) {
		*size = *size != 0 ? *size * 2 : 65536;
		*buf = xreallocarray(*buf, *size, 1);
	}
	memcpy(*buf + *len, p, n);
	*len += n;
}

static void
bench_put_field(char **buf, size_t *len, size_t *size, const char *s,
    int is_double)
{
	uint32_t n32;
	uint64_t u;
	double d;

	if (s == NULL) {
		n32 = htonl(0xffffffffu);
		bench_put(buf, len, size, &n32, 4);
		return;
	}
	if (is_double) {
		d = strtod(s, NULL);
		memcpy(&u, &d, 8);
		n32 = htonl(8);
		bench_put(buf, len, size, &n32, 4);
		n32 = htonl((uint32_t)(u >> 32));
		bench_put(buf, len, size, &n32, 4);
		n32 = htonl((uint32_t)u);
		bench_put(buf, len, size, &n32, 4);
		return;
	}
	n32 = htonl((uint32_t)strlen(s));
	bench_put(buf, len, size, &n32, 4);
	bench_put(buf, len, size, s, strlen(s));
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "mode", required_argument, NULL, 'm' },
		{ "batches", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "plans", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dsn = NULL, *mode = "array", *params[NCOL];
	int lens[NCOL], fmts[NCOL];
	struct pgarray cols[NCOL];
	struct bench_row *rows;
	PGconn *conn;
	PGresult *res;
	long batches = 200, size = 100, b, i, total;
	long long t0, t1, c0, c1;
	double w0, w1, s0, s1, tick;
	char *copybuf = NULL, tag[32];
	size_t clen, csize = 0;
	uint32_t n32;
	uint16_t n16;
	uint64_t n64;
	int c, j, pm, plans = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dsn = optarg; break;
		case 'm': mode = optarg; break;
		case 'b': batches = atol(optarg); break;
		case 's': size = atol(optarg); break;
		case 'p': plans = 1; break;
		default: return 2;
		}
	}
	if (dsn == NULL || batches < 1 || size < 1 ||
	    (strcmp(mode, "rows") != 0 && strcmp(mode, "array") != 0 &&
	    strcmp(mode, "binary") != 0 && strcmp(mode, "copy") != 0)) {
		fprintf(stderr, "usage: insertbench --db DSN --mode "
		    "rows|array|binary|copy [--batches N] [--size N] "
		    "[--plans]\n");
		return 2;
	}
	conn = PQconnectdb(dsn);
	if (PQstatus(conn) != CONNECTION_OK)
		bench_die(conn, "connect");
	total = batches * size;
	rows = xcalloc((size_t)total, sizeof *rows);
	snprintf(tag, sizeof tag, "%s%ld", mode, (long)getpid());
	for (i = 0; i < total; i++)
		bench_row_make(&rows[i], tag, i);
	if (strcmp(mode, "rows") == 0)
		res = PQprepare(conn, "ins", BENCH_ROW_SQL, NCOL, NULL);
	else if (strcmp(mode, "array") == 0 || strcmp(mode, "binary") == 0)
		res = PQprepare(conn, "ins", SQL_RESPONSE_BATCH, NCOL, NULL);
	else {
		res = PQexec(conn, BENCH_STAGE_SQL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			bench_die(conn, "staging table");
		PQclear(res);
		res = PQprepare(conn, "ins", BENCH_COPY_SQL, 0, NULL);
	}
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		bench_die(conn, "prepare");
	PQclear(res);
	memset(cols, 0, sizeof cols);

	pm = bench_ppid(PQbackendPID(conn));
	t0 = bench_ticks(PQbackendPID(conn));
	c0 = bench_cluster_ticks(pm);
	s0 = bench_self_cpu();
	w0 = bench_now();
	for (b = 0; b < batches; b++) {
		struct bench_row *br = rows + b * size;

		if (strcmp(mode, "copy") == 0) {
			/* COPY is not allowed in a pipeline: three round trips. */
			res = PQexec(conn, "BEGIN");
			PQclear(res);
			res = PQexec(conn, "COPY bench_stage FROM STDIN"
			    " (FORMAT binary)");
			if (PQresultStatus(res) != PGRES_COPY_IN)
				bench_die(conn, "copy");
			PQclear(res);
			clen = 0;
			bench_put(&copybuf, &clen, &csize,
			    "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
			for (i = 0; i < size; i++) {
				n16 = htons(NCOL + 1);
				bench_put(&copybuf, &clen, &csize, &n16, 2);
				for (j = 0; j < NCOL; j++)
					bench_put_field(&copybuf, &clen, &csize,
					    br[i].p[j],
					    SQL_RESPONSE_BATCH_FLOAT(j));
				n32 = htonl(8);
				bench_put(&copybuf, &clen, &csize, &n32, 4);
				n64 = (uint64_t)(i + 1);
				n32 = htonl((uint32_t)(n64 >> 32));
				bench_put(&copybuf, &clen, &csize, &n32, 4);
				n32 = htonl((uint32_t)n64);
				bench_put(&copybuf, &clen, &csize, &n32, 4);
			}
			n16 = htons(0xffff);
			bench_put(&copybuf, &clen, &csize, &n16, 2);
			if (PQputCopyData(conn, copybuf, (int)clen) != 1 ||
			    PQputCopyEnd(conn, NULL) != 1)
				bench_die(conn, "copy data");
			res = PQgetResult(conn);
			if (PQresultStatus(res) != PGRES_COMMAND_OK)
				bench_die(conn, "copy end");
			PQclear(res);
			while ((res = PQgetResult(conn)) != NULL)
				PQclear(res);
			if (PQenterPipelineMode(conn) != 1 ||
			    PQsendQueryPrepared(conn, "ins", 0, NULL, NULL,
			    NULL, 0) != 1 ||
			    PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL,
			    NULL, NULL, 0) != 1 || PQpipelineSync(conn) != 1)
				bench_die(conn, "send");
			bench_results(conn, 2, (int)size);
			PQexitPipelineMode(conn);
			continue;
		}
		if (PQenterPipelineMode(conn) != 1 ||
		    PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL, NULL,
		    0) != 1)
			bench_die(conn, "send");
		if (strcmp(mode, "rows") == 0) {
			for (i = 0; i < size; i++)
				if (PQsendQueryPrepared(conn, "ins", NCOL,
				    (const char *const *)br[i].p, NULL, NULL,
				    0) != 1)
					bench_die(conn, "send");
		} else if (strcmp(mode, "binary") == 0) {
			for (j = 0; j < NCOL; j++) {
				pgarray_reset_binary(&cols[j],
				    SQL_RESPONSE_BATCH_FLOAT(j) ?
				    PGARRAY_FLOAT8 : PGARRAY_TEXT);
				for (i = 0; i < size; i++) {
					if (SQL_RESPONSE_BATCH_FLOAT(j))
						pgarray_add_float8(&cols[j],
						    strtod(br[i].p[j], NULL));
					else
						pgarray_add_text(&cols[j],
						    br[i].p[j]);
				}
				params[j] = pgarray_binary(&cols[j], &lens[j]);
				fmts[j] = 1;
			}
			if (PQsendQueryPrepared(conn, "ins", NCOL, params,
			    lens, fmts, 0) != 1)
				bench_die(conn, "send");
		} else {
			for (i = 0; i < size; i++)
				for (j = 0; j < NCOL; j++) {
					if (i == 0)
						pgarray_reset(&cols[j]);
					pgarray_add(&cols[j], br[i].p[j]);
				}
			for (j = 0; j < NCOL; j++)
				params[j] = pgarray_text(&cols[j]);
			if (PQsendQueryPrepared(conn, "ins", NCOL, params,
			    NULL, NULL, 0) != 1)
				bench_die(conn, "send");
		}
		if (PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL,
		    0) != 1 || PQpipelineSync(conn) != 1)
			bench_die(conn, "send");
		bench_results(conn, strcmp(mode, "rows") == 0 ?
		    (int)size + 2 : 3, (int)size);
		PQexitPipelineMode(conn);
	}
	w1 = bench_now();
	s1 = bench_self_cpu();
	t1 = bench_ticks(PQbackendPID(conn));
	c1 = bench_cluster_ticks(pm);
	tick = 1e6 / (double)sysconf(_SC_CLK_TCK);
	printf("%s %ld rows: wall %.1f us/row, backend CPU %.1f us/row, "
	    "all PostgreSQL %.1f us/row, client %.1f us/row\n", mode, total,
	    (w1 - w0) * 1e6 / (double)total, (double)(t1 - t0) * tick /
	    (double)total, (double)(c1 - c0) * tick / (double)total,
	    (s1 - s0) * 1e6 / (double)total);
	if (plans) {
		res = PQexec(conn, "SELECT generic_plans, custom_plans"
		    " FROM pg_prepared_statements WHERE name = 'ins'");
		if (PQresultStatus(res) != PGRES_TUPLES_OK ||
		    PQntuples(res) != 1)
			bench_die(conn, "plans");
		printf("plans: generic %s custom %s\n", PQgetvalue(res, 0, 0),
		    PQgetvalue(res, 0, 1));
		PQclear(res);
	}
	for (j = 0; j < NCOL; j++)
		pgarray_free(&cols[j]);
	for (i = 0; i < total; i++)
		for (j = 0; j < NCOL; j++)
			free(rows[i].p[j]);
	free(rows);
	free(copybuf);
	PQfinish(conn);
	return 0;
}
