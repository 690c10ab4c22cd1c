/*
 * reports.c: reports from sipasd (docs/reports.md).
 *
 * GET /api/v1/reports builds one report on demand; the schedule (config keys
 * report_monthly, report_quarterly, report_yearly) produces the reports of
 * every period that has closed, once, into a directory whose reports.tsv
 * lists what was produced; GET /api/v1/reports/list and
 * /api/v1/reports/files/NAME serve that list and the files.
 *
 * The numbers come from the read connection in single-row mode, in one fetch
 * (store_agg_report_fetch): the aggregate states of every whole month of
 * every period, the responses of the other days and those not folded yet,
 * folded by report/run.c into their period as they arrive, so the event
 * loop never waits for the database and memory does not grow with rows; only the model and the
 * rendering (tens of milliseconds) run in one go on the loop. Scheduled
 * reports run one at a time. The child units listed are every direct child
 * in the unit cache (and any other child a row names, should the cache lag).
 * Must not contain SQL (store.c) or statistics.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "daemon/store/db.h"
#include "daemon/log.h"
#include "sipas/report.h"
#include "sipas/report_run.h"
#include "daemon/present/reports.h"
#include "daemon/sipasd.h"
#include "daemon/formdata.h"
#include "daemon/request.h"
#include "daemon/store/store.h"
#include "daemon/store/store_agg.h"
#include "sipas/response.h"
#include "sipas/survey.h"
#include "sipas/util.h"

/* The list file in each output directory. */
#define REPORTS_LIST "reports.tsv"

/* One report being built: on demand (r set) or scheduled. */
struct reports_job {
	struct sipasd *sd;
	struct request *r;     /* NULL: scheduled */
	struct cache *cache;   /* held while the rows arrive */
	const struct survey *survey;
	struct report_run *rr;
	char *unit;
	char from[REPORT_DAY_LEN], to[REPORT_DAY_LEN];
	char pfrom[REPORT_DAY_LEN], pto[REPORT_DAY_LEN];
	int ntrend; /* periods in the trend */
	enum report_lang lang;
	long min_n;
	char *format;	    /* on demand */
	/* scheduled */
	char *survey_code;  /* until the job starts */
	char *dir, *label, *kind;
	char **formats;
	size_t nformats;
	TAILQ_ENTRY(reports_job) entry;
};
TAILQ_HEAD(reports_queue, reports_job);

/* The schedule's state (one daemon, one schedule). */
static struct {
	struct sipasd *sd;
	struct event *ev;
	struct reports_queue queue;
	struct reports_job *running;
	int started;
} reports;

static void reports_job_next(void);

/* --- a job --- */

/* Free a job; NULL-safe. */
static void
reports_job_free(struct reports_job *job)
{
	size_t i;

	if (job == NULL)
		return;
	report_run_free(job->rr);
	cache_unref(job->cache);
	free(job->unit);
	free(job->format);
	free(job->survey_code);
	free(job->dir);
	free(job->label);
	free(job->kind);
	for (i = 0; i < job->nformats; i++)
		free(job->formats[i]);
	free(job->formats);
	free(job);
}

/* One state of a whole month or one stored row: fold it into its period. */
static void
reports_job_row(const struct store_agg_row *row, void *arg)
{
	struct reports_job *job = arg;

	if (row->kind == 'S')
		report_run_state(job->rr, row->month, row->child, 0, row->state,
		    row->state_len);
	else
		report_run_add(job->rr, row->month, row->child, row->weight,
		    row->stratum, row->psu, row->answers, strlen(row->answers));
}

/* Build the model from the folded rows; NULL and *cause. */
static struct report *
reports_job_model(struct reports_job *job, char **cause)
{
	const struct cache_unit *cu = cache_unit_get(job->cache, job->unit);
	const struct cache_unit **units;
	const char **codes;
	struct report_unit *kids;
	struct report_params p;
	struct report *rep;
	char today[REPORT_DAY_LEN];
	size_t n, nunits, i, j;

	/* Every child in the cache, then any other child the rows named. */
	units = cache_unit_children(job->cache, job->unit, &nunits);
	codes = report_run_children(job->rr, &n);
	kids = xcalloc(nunits + n + 1, sizeof *kids);
	for (i = 0; i < nunits; i++) {
		kids[i].code = units[i]->code;
		kids[i].name = units[i]->name;
	}
	for (j = 0; j < n; j++) {
		const struct cache_unit *k = cache_unit_get(job->cache, codes[j]);

		if (k != NULL && k->parent == cu)
			continue;
		kids[i].code = codes[j];
		kids[i++].name = k != NULL ? k->name : NULL;
	}
	n = i;
	report_day_today(today);
	memset(&p, 0, sizeof p);
	p.unit = job->unit;
	p.unit_name = cu != NULL ? cu->name : NULL;
	p.children = kids;
	p.nchildren = n;
	p.from = job->from;
	p.to = job->to;
	p.prev_from = job->pfrom;
	p.prev_to = job->pto;
	p.min_n = job->min_n;
	p.lang = job->lang;
	p.generated = today;
	rep = report_run_finish(job->rr, &p, cause);
	free(kids);
	free(codes);
	free(units);
	return rep;
}

/* The file name of a report: SURVEY_UNIT_LABEL.FORMAT (unsafe bytes as '-'). */
static char *
reports_file_name(const char *survey, const char *unit, const char *label, const char *format)
{
	char *s, *p;

	xasprintf(&s, "%s_%s_%s.%s", survey, unit, label, format);
	for (p = s; *p != '\0'; p++) {
		if (*p == '/' || *p == '\\' || *p == '\t' || *p == '\n' || *p == ' ' ||
		    (unsigned char)*p < 0x20)
			*p = '-';
	}
	return s;
}

/*
 * Send a report file as a download; an HTML one under its own policy, which
 * lets nothing load or run (report_html_policy).
 */
static void
reports_send(struct request *r, const char *name, const char *format, const char *body,
    size_t len)
{
	char *csp;

	http_attachment(r, name);
	if (strcmp(format, "html") == 0) {
		xasprintf(&csp, "%s; frame-ancestors 'none'", report_html_policy());
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Content-Security-Policy", csp);
		free(csp);
	}
	http_reply(r, 200, report_format_mime(format), body, len);
}

/* On demand: render into a temporary file and send it. */
static void
reports_job_reply(struct reports_job *job, struct report *rep)
{
	struct request *r = job->r;
	const char *tmpdir = getenv("TMPDIR");
	char *path = NULL, *cause = NULL, *body = NULL, *name;
	size_t len;
	int fd;

	xasprintf(&path, "%s/sipasd-report-XXXXXX", tmpdir != NULL && *tmpdir != '\0' ?
	    tmpdir : "/tmp");
	if ((fd = mkstemp(path)) < 0) {
		log_msg(LOG_LEVEL_ERROR, r->id, "report: %s: %s", path, strerror(errno));
		http_reply_error(r, 500, "internal", NULL, LANG_TEXT(form_lang_api(r),
		    "không ghi được báo cáo: thử lại; nếu vẫn lỗi, báo quản trị viên",
		    "the report could not be written"));
		free(path);
		return;
	}
	close(fd);
	if (report_write(rep, job->format, path, &cause) != 0 ||
	    (body = util_file_read(path, &len, &cause)) == NULL) {
		log_msg(LOG_LEVEL_ERROR, r->id, "report: %s", cause);
		http_reply_error(r, 500, "internal", NULL, LANG_TEXT(form_lang_api(r),
		    "không ghi được báo cáo: thử lại; nếu vẫn lỗi, báo quản trị viên",
		    "the report could not be written"));
		goto out;
	}
	name = reports_file_name(job->survey->code, job->unit, job->from, job->format);
	reports_send(r, name, job->format, body, len);
	free(name);
out:
	unlink(path);
	free(path);
	free(body);
	free(cause);
}

/* Scheduled: write every format into the directory and list it. */
static void
reports_job_write(struct reports_job *job, struct report *rep)
{
	char *list, *path, *name, *cause = NULL, stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;
	FILE *f;

	if (mkdir(job->dir, 0755) != 0 && errno != EEXIST) {
		log_msg(LOG_LEVEL_ERROR, 0, "report: %s: %s", job->dir, strerror(errno));
		return;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	xasprintf(&list, "%s/%s", job->dir, REPORTS_LIST);
	for (i = 0; i < job->nformats; i++) {
		name = reports_file_name(job->survey->code, job->unit, job->label, job->formats[i]);
		xasprintf(&path, "%s/%s", job->dir, name);
		if (report_write(rep, job->formats[i], path, &cause) != 0) {
			log_msg(LOG_LEVEL_ERROR, 0, "report: %s", cause);
			free(cause);
			cause = NULL;
		} else if ((f = fopen(list, "a")) == NULL || fprintf(f,
		    "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", job->kind, job->label,
		    job->survey->code, job->unit, job->from, job->to, job->formats[i], name,
		    stamp) < 0 || fclose(f) != 0) {
			log_msg(LOG_LEVEL_ERROR, 0, "report: %s: %s", list, strerror(errno));
			f = NULL;
		} else
			log_info("report: produced %s (%s %s of %s)", path, job->kind, job->label,
			    job->unit);
		free(path);
		free(name);
	}
	free(list);
}

/* The fetch finished: the report. */
static void
reports_job_done(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct reports_job *job = arg;
	struct report *rep;
	char *cause = NULL;
	long skipped, bad;

	report_run_states(job->rr, NULL, &bad);
	if (ok && bad > 0) {
		/* A state of another survey shape or machine: never guess. */
		log_msg(LOG_LEVEL_WARN, job->r != NULL ? job->r->id : 0, "report: %ld "
		    "aggregate states could not be read; run sipasctl aggregate --rebuild",
		    bad);
		if (job->r != NULL)
			http_reply_error(job->r, 500, "stale_aggregates", NULL, "aggregate "
			    "states could not be read (sipasctl aggregate --rebuild rebuilds "
			    "them)");
		goto out;
	}
	if (!ok) {
		log_msg(LOG_LEVEL_WARN, job->r != NULL ? job->r->id : 0,
		    "report: fetch failed (%s): %s", sqlstate != NULL ? sqlstate : "?", message);
		if (job->r != NULL && db_sqlstate_is_connection(sqlstate))
			http_reply_unavailable(job->r, LANG_TEXT(form_lang_api(job->r),
			    "cơ sở dữ liệu tạm thời không sẵn sàng: thử lại sau ít phút", "the database is not available"));
		else if (job->r != NULL)
			http_reply_error(job->r, 500, "internal", NULL,
			    LANG_TEXT(form_lang_api(job->r), "không đọc được các câu trả lời "
			    "(SQLSTATE %s): thử lại; nếu vẫn lỗi, báo quản trị viên",
			    "the responses could not be read (SQLSTATE %s)"),
			    sqlstate != NULL ? sqlstate : "?");
		goto out;
	}
	report_run_rows(job->rr, &skipped);
	if (skipped > 0)
		log_msg(LOG_LEVEL_WARN, job->r != NULL ? job->r->id : 0,
		    "report: %ld stored rows with unreadable answers skipped", skipped);
	if ((rep = reports_job_model(job, &cause)) == NULL) {
		log_msg(LOG_LEVEL_ERROR, job->r != NULL ? job->r->id : 0, "report: %s", cause);
		if (job->r != NULL)
			http_reply_error(job->r, 500, "internal", NULL,
			    LANG_TEXT(form_lang_api(job->r), "không lập được báo cáo (%s): "
			    "kiểm tra các tham số rồi thử lại", "%s"), cause);
		free(cause);
		goto out;
	}
	if (job->r != NULL)
		reports_job_reply(job, rep);
	else
		reports_job_write(job, rep);
	report_free(rep);
out:
	if (job->r == NULL) {
		ASSERT(reports.running == job);
		reports.running = NULL;
		reports_job_free(job);
		reports_job_next();
		return;
	}
	reports_job_free(job);
}

/* Start a job's fetch: the states of every period's whole months, the other days raw. */
static void
reports_job_start(struct reports_job *job, const struct survey *s, double level)
{
	struct report_ranges g;

	job->survey = s;
	job->rr = report_run_create(s, level, job->unit, job->from, job->to, job->ntrend);
	report_period_previous(job->from, job->to, job->pfrom, job->pto);
	report_run_ranges(job->rr, 0, &g);
	store_agg_report_fetch(sipasd_reader(job->sd), s->code, job->unit, g.months, g.t0,
	    g.t1, g.nraw > 0 ? g.lo : NULL, g.nraw > 0 ? g.hi : NULL, reports_job_row,
	    reports_job_done, job);
	report_ranges_clear(&g);
}

/* --- on demand --- */

/* GET /api/v1/reports, after authentication. */
void
reports_handle(struct request *r)
{
	struct sipasd *sd = r->sd;
	struct evkeyvalq q;
	struct reports_job *job;
	const char *survey, *unit, *from, *to, *format, *lang, *min_n, *trend;
	const char *ml = form_lang_api(r); /* the language of the messages */
	const struct survey *s;
	long n = sd->config->report_min_n, nt = sd->config->report_trend;
	char *end, pfrom[REPORT_DAY_LEN], pto[REPORT_DAY_LEN];

	TAILQ_INIT(&q);
	if (r->query != NULL && evhttp_parse_query_str(r->query, &q) != 0) {
		http_reply_error(r, 400, "bad_query", NULL, LANG_TEXT(ml, "chuỗi truy vấn "
		    "sai cú pháp: mã hoá lại các tham số (ví dụ %%20 cho dấu cách)",
		    "the query string is malformed"));
		return;
	}
	if (!sipasd_read_ready(sd)) {
		http_reply_unavailable(r, LANG_TEXT(ml, "cơ sở dữ liệu tạm thời không sẵn sàng: thử lại sau ít phút",
		    "the database is not available"));
		goto out;
	}
	survey = http_query_get(&q, "survey");
	unit = http_query_get(&q, "unit");
	from = http_query_get(&q, "from");
	to = http_query_get(&q, "to");
	format = http_query_get(&q, "format");
	lang = http_query_get(&q, "lang");
	min_n = http_query_get(&q, "min_n");
	trend = http_query_get(&q, "trend");
	if (survey == NULL || unit == NULL || from == NULL || to == NULL || format == NULL) {
		http_reply_error(r, 400, "missing_parameter", survey == NULL ? "survey" :
		    unit == NULL ? "unit" : from == NULL ? "from" : to == NULL ? "to" : "format",
		    LANG_TEXT(ml, "thiếu tham số: cần đủ survey, unit, from, to và format, ví "
		    "dụ ?survey=MÃ_KHẢO_SÁT&unit=MÃ_ĐƠN_VỊ&from=2025-01-01&to=2025-03-31"
		    "&format=xlsx", "survey, unit, from, to and format are required"));
		goto out;
	}
	if ((s = http_check_survey_unit(r, survey, unit)) == NULL)
		goto out;
	if (http_check_dates(r, from, to) != 0)
		goto out;
	if (report_period_previous(from, to, pfrom, pto) != 0) {
		http_reply_error(r, 422, "invalid_date", "from", LANG_TEXT(ml, "kỳ trước có "
		    "cùng độ dài sẽ bắt đầu trước %s: chọn from muộn hơn",
		    "the previous period of equal length would start before %s"),
		    RESPONSE_DATE_MIN);
		goto out;
	}
	if (report_format_mime(format) == NULL) {
		http_reply_error(r, 422, "invalid", "format", LANG_TEXT(ml, "định dạng không "
		    "hợp lệ: ghi format=xlsx, pdf, csv hoặc html",
		    "format must be xlsx, pdf, csv or html"));
		goto out;
	}
	if (lang != NULL && strcmp(lang, "vi") != 0 && strcmp(lang, "en") != 0) {
		http_reply_error(r, 422, "invalid", "lang", LANG_TEXT(ml, "ngôn ngữ không "
		    "hợp lệ: ghi lang=vi hoặc lang=en", "lang must be vi or en"));
		goto out;
	}
	if (min_n != NULL && ((n = strtol(min_n, &end, 10)) < 0 || *end != '\0')) {
		http_reply_error(r, 422, "invalid", "min_n", LANG_TEXT(ml, "min_n không hợp "
		    "lệ: ghi một số nguyên từ 0 trở lên", "min_n must be an integer >= 0"));
		goto out;
	}
	if (trend != NULL && ((nt = strtol(trend, &end, 10)) < 1 || nt > REPORT_TREND_MAX ||
	    *end != '\0')) {
		http_reply_error(r, 422, "invalid", "trend", LANG_TEXT(ml, "trend không hợp "
		    "lệ: ghi một số nguyên từ 1 đến %d", "trend must be an integer from 1 "
		    "to %d"), REPORT_TREND_MAX);
		goto out;
	}
	job = xcalloc(1, sizeof *job);
	job->sd = sd;
	job->r = r;
	job->cache = cache_ref(sd->cache);
	job->unit = xstrdup(unit);
	snprintf(job->from, sizeof job->from, "%s", from);
	snprintf(job->to, sizeof job->to, "%s", to);
	job->format = xstrdup(format);
	job->lang = lang != NULL && strcmp(lang, "en") == 0 ? REPORT_LANG_EN : REPORT_LANG_VI;
	job->min_n = n;
	job->ntrend = (int)nt;
	reports_job_start(job, s, sd->config->confidence);
out:
	evhttp_clear_headers(&q);
}

/* --- the list of produced reports --- */

/* Call fn for each line of each configured directory's list; stop when fn returns 1. */
static int
reports_list_each(const struct config *c, int (*fn)(char **fields, const char *dir, void *),
    void *arg)
{
	const char *texts[3] = { c->report_monthly, c->report_quarterly, c->report_yearly };
	struct report_schedule *sc;
	char *list, *text, *line, *next, *fields[9], *cause = NULL, *dirs[3];
	size_t len;
	int i, j, k, done = 0, ndirs = 0;

	for (i = 0; i < 3 && !done; i++) {
		if (report_schedule_parse(texts[i], &sc, &cause) != 0 || sc == NULL) {
			free(cause);
			cause = NULL;
			continue;
		}
		/* Schedules may share a directory: read its list once. */
		for (j = 0; j < ndirs && strcmp(dirs[j], sc->dir) != 0; j++)
			;
		if (j < ndirs) {
			report_schedule_free(sc);
			continue;
		}
		dirs[ndirs++] = xstrdup(sc->dir);
		xasprintf(&list, "%s/%s", sc->dir, REPORTS_LIST);
		text = util_file_read(list, &len, &cause);
		free(cause);
		cause = NULL;
		for (line = text; line != NULL && *line != '\0' && !done; line = next) {
			if ((next = strchr(line, '\n')) != NULL)
				*next++ = '\0';
			fields[0] = line;
			for (k = 1; k < 9 && fields[k - 1] != NULL; k++) {
				fields[k] = strchr(fields[k - 1], '\t');
				if (fields[k] != NULL)
					*fields[k]++ = '\0';
			}
			if (k == 9 && fields[8] != NULL)
				done = fn(fields, sc->dir, arg);
		}
		free(text);
		free(list);
		report_schedule_free(sc);
	}
	while (ndirs > 0)
		free(dirs[--ndirs]);
	return done;
}

struct reports_list_ctx {
	struct request *r;
	const char *survey, *unit;
	json_t *arr;
	const char *want; /* files: the name looked for */
	char *dir;	  /* files: its directory */
	char *unit_found;
	char *format;
	/* the schedule: is this file listed in this directory? */
	const char *sdir;
};

/* One listed report for the list endpoint. */
static int
reports_list_one(char **f, const char *dir, void *arg)
{
	struct reports_list_ctx *ctx = arg;
	char *url;

	if ((ctx->survey != NULL && strcmp(ctx->survey, f[2]) != 0) ||
	    (ctx->unit != NULL && strcmp(ctx->unit, f[3]) != 0) ||
	    !auth_scope_allows(ctx->r, f[3]))
		return 0;
	xasprintf(&url, "/api/v1/reports/files/%s", f[7]);
	json_array_append_new(ctx->arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
	    "period", f[0], "label", f[1], "survey", f[2], "unit", f[3], "from", f[4], "to",
	    f[5], "format", f[6], "file", f[7], "produced_at", f[8], "url", url));
	free(url);
	return 0;
}

/* GET /api/v1/reports/list, after authentication. */
void
reports_list_handle(struct request *r)
{
	struct reports_list_ctx ctx;
	struct evkeyvalq q;

	TAILQ_INIT(&q);
	if (r->query != NULL && evhttp_parse_query_str(r->query, &q) != 0) {
		http_reply_error(r, 400, "bad_query", NULL, LANG_TEXT(form_lang_api(r),
		    "chuỗi truy vấn sai cú pháp: mã hoá lại các tham số (ví dụ %%20 cho "
		    "dấu cách)", "the query string is malformed"));
		return;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.r = r;
	ctx.survey = http_query_get(&q, "survey");
	ctx.unit = http_query_get(&q, "unit");
	ctx.arr = json_array();
	reports_list_each(r->sd->config, reports_list_one, &ctx);
	http_reply_json(r, 200, json_pack("{s:o}", "reports", ctx.arr));
	evhttp_clear_headers(&q);
}

/* Find a listed file by name. */
static int
reports_file_find(char **f, const char *dir, void *arg)
{
	struct reports_list_ctx *ctx = arg;

	if (strcmp(f[7], ctx->want) != 0)
		return 0;
	ctx->dir = xstrdup(dir);
	ctx->unit_found = xstrdup(f[3]);
	ctx->format = xstrdup(f[6]);
	return 1;
}

/* GET /api/v1/reports/files/NAME, after authentication. */
void
reports_file_handle(struct request *r)
{
	static const char prefix[] = "/api/v1/reports/files/";
	struct reports_list_ctx ctx;
	char *path = NULL, *body = NULL, *cause = NULL;
	size_t len;

	memset(&ctx, 0, sizeof ctx);
	ctx.want = r->path + sizeof prefix - 1;
	/* A file outside the token's scope is as absent as in its list. */
	if (*ctx.want == '\0' || strchr(ctx.want, '/') != NULL ||
	    !reports_list_each(r->sd->config, reports_file_find, &ctx) ||
	    !auth_scope_allows(r, ctx.unit_found)) {
		http_reply_error(r, 404, "not_found", NULL, LANG_TEXT(form_lang_api(r),
		    "không có báo cáo này: xem danh sách ở /api/v1/reports/list",
		    "no such report"));
		goto out;
	}
	xasprintf(&path, "%s/%s", ctx.dir, ctx.want);
	if ((body = util_file_read(path, &len, &cause)) == NULL) {
		log_msg(LOG_LEVEL_WARN, r->id, "report file: %s", cause);
		http_reply_error(r, 404, "not_found", NULL, LANG_TEXT(form_lang_api(r),
		    "tệp báo cáo không còn: xem lại danh sách ở /api/v1/reports/list hoặc "
		    "báo quản trị viên", "the report file is missing"));
		goto out;
	}
	reports_send(r, ctx.want, ctx.format, body, len);
out:
	free(path);
	free(body);
	free(cause);
	free(ctx.dir);
	free(ctx.unit_found);
	free(ctx.format);
}

/* --- the schedule --- */

/* Is file already listed in dir? */
static int
reports_listed_one(char **f, const char *dir, void *arg)
{
	struct reports_list_ctx *ctx = arg;

	return strcmp(dir, ctx->sdir) == 0 && strcmp(f[7], ctx->want) == 0;
}

/* Start the next queued job, if the read connection can take it. */
static void
reports_job_next(void)
{
	struct reports_job *job;
	struct sipasd *sd = reports.sd;
	const struct survey *s;

	while (reports.running == NULL && (job = TAILQ_FIRST(&reports.queue)) != NULL) {
		if (sd->draining || !sipasd_read_ready(sd))
			return;
		TAILQ_REMOVE(&reports.queue, job, entry);
		cache_unref(job->cache);
		job->cache = cache_ref(sd->cache);
		if ((s = cache_survey_get(sd->cache, job->survey_code)) == NULL) {
			log_warn("report: unknown survey '%s' in the %s schedule", job->survey_code,
			    job->kind);
			reports_job_free(job);
			continue;
		}
		reports.running = job;
		reports_job_start(job, s, sd->config->confidence);
	}
}

/* Queue the reports of one schedule's closed period that are not listed yet. */
static void
reports_schedule_check(struct sipasd *sd, const char *kind, enum report_period period,
    const char *text, const char *today)
{
	struct report_schedule *sc;
	struct reports_job *job;
	struct reports_list_ctx ctx;
	char from[REPORT_DAY_LEN], to[REPORT_DAY_LEN], label[32], *cause = NULL, *name;
	size_t u, f;

	if (report_schedule_parse(text, &sc, &cause) != 0 || sc == NULL) {
		free(cause);
		return;
	}
	report_period_closed(period, today, from, to, label, sizeof label);
	for (u = 0; u < sc->nunits; u++) {
		if (cache_unit_get(sd->cache, sc->units[u]) == NULL) {
			log_warn("report: unknown unit '%s' in the %s schedule", sc->units[u], kind);
			continue;
		}
		job = NULL;
		for (f = 0; f < sc->nformats; f++) {
			memset(&ctx, 0, sizeof ctx);
			name = reports_file_name(sc->survey, sc->units[u], label, sc->formats[f]);
			ctx.want = name;
			ctx.sdir = sc->dir;
			if (!reports_list_each(sd->config, reports_listed_one, &ctx)) {
				if (job == NULL) {
					job = xcalloc(1, sizeof *job);
					job->sd = sd;
					job->unit = xstrdup(sc->units[u]);
					snprintf(job->from, sizeof job->from, "%s", from);
					snprintf(job->to, sizeof job->to, "%s", to);
					job->survey_code = xstrdup(sc->survey);
					job->dir = xstrdup(sc->dir);
					job->label = xstrdup(label);
					job->kind = xstrdup(kind);
					job->lang = REPORT_LANG_VI;
					job->min_n = sd->config->report_min_n;
					job->ntrend = (int)sd->config->report_trend;
				}
				job->formats = xreallocarray(job->formats, job->nformats + 1,
				    sizeof *job->formats);
				job->formats[job->nformats++] = xstrdup(sc->formats[f]);
			}
			free(name);
		}
		if (job != NULL) {
			log_info("report: %s %s of %s due (%zu format(s))", kind, label, job->unit,
			    job->nformats);
			TAILQ_INSERT_TAIL(&reports.queue, job, entry);
		}
	}
	report_schedule_free(sc);
}

/* The timer: queue what is due unless work is still queued or running. */
static void
reports_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sipasd *sd = arg;
	struct timeval tv = { sd->config->report_check, 0 };
	char today[REPORT_DAY_LEN];

	evtimer_add(reports.ev, &tv);
	if (sd->draining || !sipasd_read_ready(sd) || reports.running != NULL ||
	    !TAILQ_EMPTY(&reports.queue))
		return;
	if (*sd->config->report_today != '\0')
		snprintf(today, sizeof today, "%s", sd->config->report_today);
	else
		report_day_today(today);
	reports_schedule_check(sd, "monthly", REPORT_PERIOD_MONTH, sd->config->report_monthly,
	    today);
	reports_schedule_check(sd, "quarterly", REPORT_PERIOD_QUARTER,
	    sd->config->report_quarterly, today);
	reports_schedule_check(sd, "yearly", REPORT_PERIOD_YEAR, sd->config->report_yearly,
	    today);
	reports_job_next();
}

/* Start the timer: a first check one second after start. */
void
reports_start(struct sipasd *sd)
{
	struct timeval tv = { 1, 0 };

	reports.sd = sd;
	TAILQ_INIT(&reports.queue);
	reports.ev = evtimer_new(sd->base, reports_timer, sd);
	evtimer_add(reports.ev, &tv);
	reports.started = 1;
}

/* Stop the timer and drop what is queued. */
void
reports_stop(struct sipasd *sd)
{
	struct reports_job *job;

	if (!reports.started)
		return;
	while ((job = TAILQ_FIRST(&reports.queue)) != NULL) {
		TAILQ_REMOVE(&reports.queue, job, entry);
		reports_job_free(job);
	}
	if (reports.ev != NULL)
		event_free(reports.ev);
	reports.ev = NULL;
	reports.started = 0;
	/* The font caches cairo and fontconfig keep after a PDF. */
	report_fonts_free();
}
