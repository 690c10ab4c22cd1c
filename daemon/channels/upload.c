/*
 * upload.c: POST /api/v1/uploads?survey=CODE (docs/interfaces.md, "HTTP
 * API"): a responses CSV from a survey team, checked row by row.
 *
 * The body is read in slices through the streaming CSV reader (csvin.c). A
 * good row is a struct response that goes through ingest_submit_response,
 * so it is validated again (unit known, unit inside the
 * token's scope, id length) and stored by the same queue and batched
 * transactions as every other response: 201 stored, 200 duplicate, 409
 * conflict. At most batch_max rows are in the queue at a time; the next slice
 * is read when they are all answered, so memory beyond the body is bounded.
 * A bad row is never submitted, so nothing of it is stored. The answer goes
 * out once every submitted row has committed and the audit row is written.
 *
 * The body is streamed (bodystream.c) when it was sent with a Content-Length
 * on its own: it is read as it arrives, up to upload_max bytes, and the
 * client is held back while rows wait for their commit, so memory does not
 * grow with the file. Otherwise evhttp has read it whole (max_body, http.c).
 *
 * An XLSX workbook (its first bytes are a zip's, or its Content-Type says
 * spreadsheetml) needs random access: its body is written, as it arrives, to
 * a nameless temporary file (O_TMPFILE in spool_dir, or TMPDIR, or /tmp:
 * nothing to remove, even after a crash), then read by xlsxin.c one slice of
 * the sheet at a time, its rows pushed into the same CSV row logic
 * (csvin_push_fields). A zip bomb is refused with 413 (xlsx_inflated_max,
 * xlsx_ratio_max).
 *
 * Must not contain SQL (store.c) nor validate fields itself (csvin, ingest).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "daemon/channels/bodystream.h"
#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "daemon/formdata.h"
#include "sipas/csvin.h"
#include "sipas/csvout.h"
#include "daemon/log.h"
#include "sipas/problems.h"
#include "sipas/response.h"
#include "daemon/sipasd.h"
#include "daemon/request.h"
#include "daemon/channels/ingest.h"
#include "daemon/store/store.h"
#include "sipas/survey.h"
#include "sipas/token.h"
#include "daemon/channels/upload.h"
#include "sipas/util.h"
#include "sipas/xlsxin.h"

/* Bytes of the body handed to the CSV reader at a time. */
#define UPLOAD_SLICE 16384

/* A good row waiting to be submitted. */
struct upload_row {
	long row;
	char *id;
	struct response *resp; /* the row read, for ingest_submit_response */
	char *raw; /* the row as sent, when rejected rows are kept */
};

struct upload {
	struct request *r;
	struct cache *cache; /* held: the survey lives in it */
	const struct survey *survey;
	struct csvin *csv;
	struct bodystream *body; /* the request's, or NULL: evhttp read it */
	int magic;		 /* leading bytes matching an XLSX (zip) */
	int cut;		 /* the client stopped sending */
	struct response_rules rules;
	int tmp_fd;		 /* an XLSX body being written, or -1 */
	uint64_t spooled;	 /* its bytes so far */
	struct xlsxin *xin;	 /* the XLSX being read */
	char *sheet;		 /* sheet=NAME, or NULL */
	json_t *format;		 /* "format" of the report (an XLSX's) */
	struct upload_row *pending;
	size_t npending, pendalloc, next;
	long outstanding; /* submitted, not yet answered */
	int pumping;
	int input_done;
	int unavailable;  /* a row got 503: stop, answer 503 */
	char *fatal;	  /* the file cannot be read on */
	int fatal_status; /* its HTTP status, 0: 422 */
	const char *fatal_code;
	char *fatal_vi;	  /* the same in Vietnamese */
	const char *lang; /* of the messages: "vi" or "en" (form_lang_api) */
	long rows_seen;
	long stored, duplicates, conflicts;
	long progress_next;
	struct problems problems; /* and the rows rejected */
	char token_hash[80];	/* the token's hash, or "user:LOGIN" */
	int have_hash;
	upload_read_cb read;	/* NULL: the request's body */
	void *read_arg;
	upload_done_cb done;	/* NULL: answer the JSON report */
	void *done_arg;
	int keep_rejects;
	struct upload_reject *rejects;
	size_t nrejects, rejalloc, rejbytes;
	long rejects_omitted;
};

/* A row's answer from ingest_submit_response. */
struct upload_wait {
	struct upload *u;
	long row;
	char *id;
	char *raw;
};

static void upload_pump(struct upload *);

/* Free everything but the request. */
static void
upload_free(struct upload *u)
{
	size_t i;

	for (i = u->next; i < u->npending; i++) {
		free(u->pending[i].id);
		response_free(u->pending[i].resp);
		free(u->pending[i].raw);
	}
	free(u->pending);
	if (u->tmp_fd >= 0)
		close(u->tmp_fd);
	xlsxin_free(u->xin);
	free(u->sheet);
	json_decref(u->format);
	for (i = 0; i < u->nrejects; i++) {
		free(u->rejects[i].line);
		free(u->rejects[i].column);
		free(u->rejects[i].reason);
	}
	free(u->rejects);
	csvin_free(u->csv);
	cache_unref(u->cache);
	problems_free(&u->problems);
	free(u->fatal);
	free(u->fatal_vi);
	free(u);
}

/* One of two texts by the reply's language (English when vi is NULL). */
static const char *
upload_text(const char *lang, const char *vi, const char *en)
{
	return strcmp(lang, "vi") == 0 && vi != NULL ? vi : en;
}

/* The file cannot be read on: the first reason why, in both languages. */
static void
upload_fatal(struct upload *u, const char *vi, const char *en)
{
	if (u->fatal != NULL)
		return;
	u->fatal = xstrdup(en);
	u->fatal_vi = xstrdup(vi);
}

/*
 * Add a problem to the list (or count it past the cap): reason in English,
 * message in the reply's language (vi: the Vietnamese text).
 */
static void
upload_problem(struct upload *u, long row, const char *status,
    const char *column, int colno, const char *reason, const char *vi)
{
	problems_add(&u->problems, row, status, column, colno, reason,
	    upload_text(u->lang, vi, reason));
}

/* Keep a rejected row as it was sent (its first problem names the reason). */
static void
upload_reject_keep(struct upload *u, long row, const char *line,
    const char *column, int colno, const char *reason)
{
	struct upload_reject *k;
	size_t len = strlen(line) + strlen(reason) + 64;

	if (!u->keep_rejects || row <= 0 ||
	    problems_row_rejected(&u->problems, row))
		return;
	if (u->nrejects >= UPLOAD_REJECTS_MAX ||
	    u->rejbytes + len > UPLOAD_REJECTS_BYTES) {
		u->rejects_omitted++;
		return;
	}
	if (u->nrejects == u->rejalloc) {
		u->rejalloc = u->rejalloc == 0 ? 64 : u->rejalloc * 2;
		u->rejects = xreallocarray(u->rejects, u->rejalloc,
		    sizeof *u->rejects);
	}
	k = &u->rejects[u->nrejects++];
	k->row = row;
	k->line = xstrdup(line);
	k->column = column != NULL ? xstrdup(column) : NULL;
	k->colno = colno;
	k->reason = xstrdup(reason);
	u->rejbytes += len;
}

/* The row csvin is reading, as a CSV line (owned). */
static char *
upload_row_line(const struct upload *u)
{
	struct csvout out;
	char *line;

	csvout_init(&out, "\n");
	csvin_row_write(u->csv, &out);
	line = xstrndup(out.data != NULL ? out.data : "", out.len);
	csvout_free(&out);
	return line;
}

/* csvin: a bad field, row or header. */
static int
upload_csv_error(const struct csvin_error *e, void *arg)
{
	struct upload *u = arg;

	upload_problem(u, e->row, "rejected", e->column_name, e->column,
	    e->reason, e->reason_vi);
	if (u->keep_rejects && e->row > 0 &&
	    !problems_row_rejected(&u->problems, e->row)) {
		char *line = upload_row_line(u);

		upload_reject_keep(u, e->row, line, e->column_name, e->column,
		    e->reason);
		free(line);
	}
	problems_reject_row(&u->problems, e->row);
	if (e->row == 0)
		upload_fatal(u, e->reason_vi, e->reason);
	return 0;
}

/* csvin: a good row; keep it for the next window. */
static int
upload_csv_row(const struct response *resp, long row, void *arg)
{
	struct upload *u = arg;
	struct upload_row *p;

	if (u->npending == u->pendalloc) {
		u->pendalloc = u->pendalloc == 0 ? 256 : u->pendalloc * 2;
		u->pending = xreallocarray(u->pending, u->pendalloc,
		    sizeof *u->pending);
	}
	p = &u->pending[u->npending++];
	p->row = row;
	p->id = resp->id != NULL ? xstrdup(resp->id) : NULL;
	p->resp = response_copy(resp);
	p->raw = u->keep_rejects ? upload_row_line(u) : NULL;
	return 0;
}

/* The column number of an ingest field ("answers.Q9_1" -> Q9_1's column). */
static int
upload_field_column(const struct upload *u, const char *field, const char **name)
{
	*name = field;
	if (field == NULL)
		return 0;
	if (strncmp(field, "answers.", 8) == 0)
		*name = field + 8;
	return csvin_column_index(u->csv, *name);
}

/*
 * ingest_submit_response answered one row: count it; the pump goes on when
 * all are in.
 */
static void
upload_row_done(struct request *r, int status, const char *field,
    const char *message, void *arg)
{
	struct upload_wait *w = arg;
	struct upload *u = w->u;
	const char *name;
	char *reason, *vi;
	int colno;

	switch (status) {
	case 201:
		u->stored++;
		break;
	case 200:
		u->duplicates++;
		break;
	case 409:
		u->conflicts++;
		xasprintf(&reason, "another response with id '%s' and other "
		    "content is already stored for survey %s", w->id != NULL ?
		    w->id : "", u->survey->code);
		xasprintf(&vi, "Khảo sát %s đã có một phiếu khác mang mã '%s': "
		    "đổi mã (cột id) của hàng này hoặc bỏ hàng này",
		    u->survey->code, w->id != NULL ? w->id : "");
		colno = upload_field_column(u, "id", &name);
		upload_problem(u, w->row, "conflict", "id", colno, reason, vi);
		free(vi);
		free(reason);
		break;
	case 503:
		if (!u->unavailable)
			log_msg(LOG_LEVEL_WARN, r->id, "upload: row %ld not "
			    "stored: %s", w->row, message);
		u->unavailable = 1;
		break;
	default:
		colno = upload_field_column(u, field, &name);
		xasprintf(&vi, "Hàng bị từ chối (%s): sửa giá trị rồi tải lên "
		    "lại", message != NULL ? message : "rejected");
		upload_problem(u, w->row, "rejected", name, colno,
		    message != NULL ? message : "rejected", vi);
		free(vi);
		if (w->raw != NULL)
			upload_reject_keep(u, w->row, w->raw, name, colno,
			    message != NULL ? message : "rejected");
		problems_reject_row(&u->problems, w->row);
		break;
	}
	free(w->id);
	free(w->raw);
	free(w);
	u->outstanding--;
	if (u->outstanding == 0 && !u->pumping)
		upload_pump(u);
}

/* The report of an upload (counts, problems). */
static json_t *
upload_report(struct upload *u)
{
	struct csvin_format f;
	char delim[2];
	json_t *rep;

	/* Rows checked by ingest come back later. */
	problems_sort(&u->problems);
	csvin_format_get(u->csv, &f);
	delim[0] = f.delimiter;
	delim[1] = '\0';

	rep = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:b,s:O,s:I}",
	    "survey", u->survey->code,
	    "rows", (json_int_t)csvin_rows(u->csv),
	    "stored", (json_int_t)u->stored,
	    "duplicates", (json_int_t)u->duplicates,
	    "conflicts", (json_int_t)u->conflicts,
	    "rejected", (json_int_t)u->problems.rejected,
	    "complete", u->fatal == NULL && !u->unavailable && !u->cut,
	    "problems", u->problems.list,
	    "problems_omitted", (json_int_t)u->problems.omitted);
	ASSERT(rep != NULL);
	if (u->format != NULL)
		json_object_set(rep, "format", u->format);
	else
		json_object_set_new(rep, "format", json_pack("{s:s,s:s,s:s}",
		    "encoding", f.encoding, "delimiter", delim, "dates",
		    f.dates));
	return rep;
}

/* Order of kept rejected rows: by row. */
static int
upload_reject_cmp(const void *a, const void *b)
{
	const struct upload_reject *x = a, *y = b;

	return x->row < y->row ? -1 : x->row > y->row;
}

/* Free an upload's outcome; NULL-safe. */
void
upload_result_free(struct upload_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	json_decref(res->report);
	free(res->header);
	for (i = 0; i < res->nrejects; i++) {
		free(res->rejects[i].line);
		free(res->rejects[i].column);
		free(res->rejects[i].reason);
	}
	free(res->rejects);
	free(res);
}

/* The audit row is written (or could not be): answer. */
static void
upload_audited(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct upload *u = arg;
	struct request *r = u->r;
	struct upload_result *res;
	struct csvout out;
	json_t *rep;
	int status = 200;

	if (!ok)
		log_msg(LOG_LEVEL_WARN, r->id, "upload: audit log not written: "
		    "%s", message);
	rep = upload_report(u);
	if (u->unavailable) {
		char secs[16];

		snprintf(secs, sizeof secs, "%ld", r->sd->config->retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", secs);
		json_object_set_new(rep, "error", json_pack("{s:s,s:s}", "code",
		    "unavailable", "message", upload_text(u->lang, "Một số hàng "
		    "chưa lưu được lúc này: tải tệp lên lại sau (hàng có mã id "
		    "không bị lưu hai lần)", "some rows could not be stored "
		    "now; upload the file again (rows with an id are not "
		    "stored twice)")));
		status = 503;
	} else if (u->cut) {
		/* Seldom read: the client has usually gone. */
		json_object_set_new(rep, "error", json_pack("{s:s,s:s}", "code",
		    "incomplete", "message", upload_text(u->lang, "Tệp bị cắt "
		    "ngang khi tải lên; các hàng trước chỗ cắt đã được lưu: tải "
		    "tệp lên lại", "the body ended before its "
		    "Content-Length; the rows before the break are stored")));
		status = 400;
	} else if (u->fatal != NULL) {
		json_object_set_new(rep, "error", json_pack("{s:s,s:s}", "code",
		    u->fatal_code != NULL ? u->fatal_code : "bad_file",
		    "message", upload_text(u->lang, u->fatal_vi, u->fatal)));
		status = u->fatal_status != 0 ? u->fatal_status : 422;
	}
	if (u->done == NULL) {
		upload_free(u);
		http_reply_json(r, status, rep);
		return;
	}
	res = xcalloc(1, sizeof *res);
	res->status = status;
	res->report = rep;
	if (u->keep_rejects) {
		csvout_init(&out, "\n");
		csvin_header_write(u->csv, &out);
		res->header = xstrndup(out.data != NULL ? out.data : "",
		    out.len);
		csvout_free(&out);
		if (u->nrejects > 1)
			qsort(u->rejects, u->nrejects, sizeof *u->rejects,
			    upload_reject_cmp);
		res->rejects = u->rejects;
		res->nrejects = u->nrejects;
		res->rejects_omitted = u->rejects_omitted;
		u->rejects = NULL;
		u->nrejects = 0;
	}
	u->done(r, res, u->done_arg);
	upload_free(u);
}

/* Everything read and answered: log, audit, then reply. */
static void
upload_finish(struct upload *u)
{
	json_t *detail;
	char *text;

	log_msg(LOG_LEVEL_INFO, u->r->id, "upload %s: %ld rows, %ld stored, "
	    "%ld duplicates, %ld conflicts, %ld rejected%s", u->survey->code,
	    csvin_rows(u->csv), u->stored, u->duplicates, u->conflicts,
	    u->problems.rejected, u->unavailable ?
	    " (stopped: database unavailable)" :
	    u->cut ? " (stopped: the body was cut off)" :
	    u->fatal != NULL ? " (stopped: bad file)" : "");
	if (!u->have_hash || !sipasd_ready(u->r->sd)) {
		upload_audited(0, NULL, "database unavailable", u);
		return;
	}
	detail = json_pack("{s:s,s:s?,s:I,s:I,s:I,s:I,s:I,s:b}", "survey",
	    u->survey->code, "scope", u->r->scope, "rows", (json_int_t)csvin_rows(u->csv), "stored",
	    (json_int_t)u->stored, "duplicates", (json_int_t)u->duplicates,
	    "conflicts", (json_int_t)u->conflicts, "rejected",
	    (json_int_t)u->problems.rejected, "complete", u->fatal == NULL &&
	    !u->unavailable && !u->cut);
	text = json_dumps(detail, JSON_COMPACT);
	json_decref(detail);
	store_audit_append(u->r->sd->db, u->token_hash, "upload", text,
	    upload_audited, u);
	free(text);
}

/* Submit the next window of pending rows (at most batch_max). */
static void
upload_submit_window(struct upload *u)
{
	struct upload_row *p;
	struct upload_wait *w;
	long max = u->r->sd->config->batch_max, n = 0;

	while (u->next < u->npending && n < max && !u->unavailable) {
		p = &u->pending[u->next++];
		w = xcalloc(1, sizeof *w);
		w->u = u;
		w->row = p->row;
		w->id = p->id;
		p->id = NULL;
		w->raw = p->raw;
		p->raw = NULL;
		u->outstanding++;
		n++;
		ingest_submit_response(u->r, u->survey, p->resp,
		    upload_row_done, w);
		p->resp = NULL;
	}
	if (u->next == u->npending)
		u->next = u->npending = 0;
}

/* A streamed body had more to read: go on. */
static void
upload_ready(void *arg)
{
	struct upload *u = arg;

	if (!u->pumping && u->outstanding == 0)
		upload_pump(u);
}

/*
 * Does a body start like an XLSX (a zip)? *matched counts the leading bytes
 * seen to match so far (-1: they do not), so a streamed body is checked as
 * its first bytes come: no row can be whole within them, so nothing was
 * submitted yet.
 */
static int
upload_magic(int *matched, const char *buf, size_t n)
{
	static const char zip[4] = { 'P', 'K', '\003', '\004' };
	size_t i;

	for (i = 0; i < n && *matched >= 0 && *matched < 4; i++)
		*matched = buf[i] == zip[*matched] ? *matched + 1 : -1;
	return *matched == 4;
}

/* Up to n bytes of the body; BODYSTREAM_WAIT or _GONE when streamed. */
static ssize_t
upload_read(struct upload *u, char *buf, size_t n)
{
	if (u->read != NULL)
		return u->read(u->read_arg, buf, n);
	if (u->body != NULL)
		return bodystream_read(u->body, buf, n);
	return evbuffer_remove(evhttp_request_get_input_buffer(u->r->req), buf,
	    n);
}

/* The workbook cannot be read on: status and code of the answer, and why. */
static void
upload_fatal_code(struct upload *u, int status, const char *code,
    const char *why)
{
	if (u->fatal != NULL)
		return;
	u->fatal = xstrdup(why);
	u->fatal_status = status;
	u->fatal_code = code;
}

/* A progress line every UPLOAD_PROGRESS_ROWS rows. */
static void
upload_progress(struct upload *u)
{
	u->rows_seen = csvin_rows(u->csv);
	if (u->rows_seen >= u->progress_next) {
		log_msg(LOG_LEVEL_INFO, u->r->id, "upload %s: %ld rows "
		    "read, %ld stored, %ld duplicates, %ld rejected",
		    u->survey->code, u->rows_seen, u->stored,
		    u->duplicates, u->problems.rejected);
		u->progress_next += UPLOAD_PROGRESS_ROWS;
	}
}

/*
 * The body is an XLSX: write it to a nameless temporary file, starting with
 * the first held bytes of the zip signature already read (and fed to the CSV
 * reader, which starts over). 0, or -1 with u->fatal.
 */
static int
upload_xlsx_start(struct upload *u, int held)
{
	const char *dir = u->r->sd->config->spool_dir;
	char path[4096];
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = getenv("TMPDIR");
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		/* No O_TMPFILE here: a named file, removed at once. */
		snprintf(path, sizeof path, "%s/sipasd-upload.XXXXXX", dir);
		if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
			unlink(path);
	}
	if (fd < 0) {
		log_msg(LOG_LEVEL_WARN, u->r->id, "upload: no temporary file "
		    "in %s: %s", dir, strerror(errno));
		upload_fatal_code(u, 503, "unavailable", "the workbook cannot be "
		    "stored for reading now; try again later, or upload CSV");
		return -1;
	}
	u->tmp_fd = fd;
	u->spooled = 0;
	csvin_free(u->csv);
	u->csv = csvin_create(u->survey, upload_csv_row, upload_csv_error, u);
	csvin_rules_set(u->csv, &u->rules);
	if (held > 0 && write(fd, "PK\003\004", (size_t)held) != held) {
		upload_fatal_code(u, 503, "unavailable", "the workbook cannot be "
		    "stored for reading now; try again later, or upload CSV");
		return -1;
	}
	u->spooled = (uint64_t)held;
	return 0;
}

/* n more bytes of the workbook into its file: 0, or -1 with u->fatal. */
static int
upload_xlsx_write(struct upload *u, const char *buf, size_t n)
{
	ssize_t w;

	u->spooled += n;
	if (u->spooled > (uint64_t)u->r->sd->config->upload_max) {
		upload_fatal_code(u, 413, "too_large", "the workbook is larger than "
		    "upload_max; split it or use sipasctl import");
		return -1;
	}
	while (n > 0) {
		if ((w = write(u->tmp_fd, buf, n)) < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_LEVEL_WARN, u->r->id, "upload: temporary "
			    "file: %s", strerror(errno));
			upload_fatal_code(u, 503, "unavailable", "the workbook cannot "
			    "be stored for reading now; try again later, or "
			    "upload CSV");
			return -1;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The whole workbook is in its file: open it and pick the sheet. */
static void
upload_xlsx_open(struct upload *u)
{
	struct xlsxin_limits lim;
	enum xlsxin_fail fail = XLSXIN_BAD;
	char *cause = NULL;
	int fd = u->tmp_fd;

	u->tmp_fd = -1;
	xlsxin_limits_default(&lim);
	lim.inflated_max = (uint64_t)u->r->sd->config->xlsx_inflated_max;
	lim.ratio_max = (uint64_t)u->r->sd->config->xlsx_ratio_max;
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		upload_fatal_code(u, 503, "unavailable", "the workbook cannot be "
		    "read back now; try again later");
		return;
	}
	if ((u->xin = xlsxin_open_fd(fd, u->sheet, &lim, &fail,
	    &cause)) == NULL) {
		log_msg(LOG_LEVEL_INFO, u->r->id, "upload %s: XLSX of %llu "
		    "bytes refused: %s", u->survey->code, (unsigned long long)
		    u->spooled, cause);
		if (fail == XLSXIN_TOO_LARGE)
			upload_fatal_code(u, 413, "too_large", cause);
		else if (fail == XLSXIN_NO_SHEET)
			upload_fatal_code(u, 422, "unknown_sheet", cause);
		else
			upload_fatal_code(u, 422, "bad_file", cause);
		free(cause);
		return;
	}
	log_msg(LOG_LEVEL_INFO, u->r->id, "upload %s: XLSX of %llu bytes, "
	    "sheet \"%s\"", u->survey->code, (unsigned long long)u->spooled,
	    xlsxin_sheet(u->xin));
}

/* xlsxin: a row of the sheet into the CSV row logic. */
static int
upload_xlsx_row(const char *const *fields, const size_t *lens, int n,
    long sheet_row, void *arg)
{
	struct upload *u = arg;

	return csvin_push_fields(u->csv, fields, lens, n);
}

/* One slice of the sheet: rows into pending; at its end, the end of input. */
static void
upload_xlsx_step(struct upload *u)
{
	struct xlsxin *x = u->xin;
	int rc;

	rc = xlsxin_step(x, upload_xlsx_row, u);
	if (rc > 0)
		return;
	if (rc < 0 && xlsxin_failed(x) == XLSXIN_TOO_LARGE)
		upload_fatal_code(u, 413, "too_large", xlsxin_cause(x));
	else if (rc < 0 && xlsxin_failed(x) != XLSXIN_STOPPED)
		upload_fatal_code(u, 422, "bad_file", xlsxin_cause(x));
	else if (rc == 0 && csvin_finish(u->csv) != 0)
		upload_fatal_code(u, 422, "bad_file", csvin_rows(u->csv) == 0 ?
		    "empty sheet: no header row" : "the sheet cannot be read on");
	u->format = json_pack("{s:s,s:s,s:s}", "container", "xlsx", "sheet",
	    xlsxin_sheet(x), "dates", xlsxin_dates(x) > 0 ? "excel-serial" :
	    "text");
	u->input_done = 1;
}

/* Read, check and submit until rows are waiting for a commit or all is done. */
static void
upload_pump(struct upload *u)
{
	char buf[UPLOAD_SLICE];
	ssize_t n;
	int held;

	u->pumping = 1;
	while (u->outstanding == 0) {
		if (u->unavailable)
			break;
		if (u->next < u->npending) {
			upload_submit_window(u);
			continue;
		}
		if (u->input_done)
			break;
		if (u->fatal != NULL) {
			u->input_done = 1;
			break;
		}
		if (u->xin != NULL) {
			upload_xlsx_step(u);
			upload_progress(u);
			continue;
		}
		n = upload_read(u, buf, sizeof buf);
		if (n == BODYSTREAM_WAIT)
			break; /* upload_ready goes on */
		if (n == BODYSTREAM_GONE) {
			if (u->body != NULL)
				log_msg(LOG_LEVEL_WARN, u->r->id, "upload %s: "
				    "the client stopped sending after %llu of "
				    "%llu bytes", u->survey->code,
				    (unsigned long long)bodystream_received(
				    u->body), (unsigned long long)
				    bodystream_length(u->body));
			u->cut = 1;
			u->input_done = 1;
			break;
		}
		held = u->magic;
		if (n > 0 && u->tmp_fd < 0 && u->magic >= 0 &&
		    upload_magic(&u->magic, buf, (size_t)n) &&
		    upload_xlsx_start(u, held) != 0)
			continue;
		if (u->tmp_fd >= 0) {
			if (n > 0)
				upload_xlsx_write(u, buf, (size_t)n);
			else
				upload_xlsx_open(u);
			continue;
		}
		if (n > 0) {
			if (csvin_push(u->csv, buf, (size_t)n) != 0)
				upload_fatal(u, "Không đọc tiếp được tệp (dấu "
				    "ngoặc kép sai hoặc một hàng quá dài): sửa "
				    "hàng được nêu rồi tải lên lại", "the file "
				    "cannot be read on (broken quoting or a row "
				    "too long)");
		} else {
			if (csvin_finish(u->csv) != 0) {
				if (csvin_rows(u->csv) == 0 && u->rows_seen == 0)
					upload_fatal(u, "Tệp trống: dòng đầu "
					    "tiên phải là dòng tiêu đề",
					    "empty file: no header row");
				else
					upload_fatal(u, "Tệp kết thúc giữa một ô "
					    "có ngoặc kép: thêm dấu ngoặc kép "
					    "đóng", "the file ends inside a "
					    "quoted field");
			}
			u->input_done = 1;
		}
		upload_progress(u);
	}
	u->pumping = 0;
	if (u->outstanding == 0 && (u->input_done || u->unavailable))
		upload_finish(u);
}

/* The charset parameter of a Content-Type, into buf (empty when none). */
static void
upload_charset(const char *ctype, char *buf, size_t size)
{
	const char *p;
	size_t n;

	buf[0] = '\0';
	for (p = ctype; p != NULL && (p = strchr(p, ';')) != NULL; ) {
		p++;
		p += strspn(p, " \t");
		if (strncasecmp(p, "charset=", 8) != 0)
			continue;
		p += 8;
		p += *p == '"';
		n = strcspn(p, "\"; \t");
		snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), p);
		return;
	}
}

/*
 * A new upload of survey s for r (the cache held while it runs), its
 * messages in lang ("vi" or "en").
 */
static struct upload *
upload_create(struct request *r, const struct survey *s, const char *lang)
{
	struct sipasd *sd = r->sd;
	struct response_rules rules;
	struct upload *u;

	u = xcalloc(1, sizeof *u);
	u->r = r;
	u->tmp_fd = -1;
	u->cache = cache_ref(sd->cache);
	u->survey = s;
	u->lang = lang;
	u->csv = csvin_create(s, upload_csv_row, upload_csv_error, u);
	response_rules_default(&rules);
	rules.weight_max = sd->config->weight_max;
	u->rules = rules;
	csvin_rules_set(u->csv, &rules);
	problems_init(&u->problems, UPLOAD_PROBLEMS_MAX);
	u->progress_next = UPLOAD_PROGRESS_ROWS;
	if (auth_token_hash(r, u->token_hash) == 0)
		u->have_hash = 1;
	else if (r->actor != NULL && strlen(r->actor) == TOKEN_HASH_LEN) {
		memcpy(u->token_hash, r->actor, TOKEN_HASH_LEN + 1);
		u->have_hash = 1;
	} else if (r->user != NULL) {
		/* A person's session: the audit names the account. */
		snprintf(u->token_hash, sizeof u->token_hash, "user:%s",
		    r->user);
		u->have_hash = 1;
	}
	u->body = r->body;
	return u;
}

/* POST /api/v1/uploads?survey=CODE, after authentication. */
void
upload_handle(struct request *r)
{
	struct sipasd *sd = r->sd;
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	struct bodystream *body = r->body;
	struct evkeyvalq q;
	const struct survey *s;
	const char *code, *ctype, *sheet, *lang = form_lang_api(r);
	char head[4], charset[40];
	ev_ssize_t got;
	int magic, xlsx;
	struct upload *u;

	TAILQ_INIT(&q);
	if (r->query != NULL && evhttp_parse_query_str(r->query, &q) != 0) {
		http_reply_error(r, 400, "bad_query", NULL, "%s",
		    upload_text(lang, "Chuỗi truy vấn sai cú pháp: kiểm tra "
		    "địa chỉ, ví dụ ?survey=sipas-2023", "the query string is "
		    "malformed: check the address, e.g. ?survey=sipas-2023"));
		return;
	}
	code = http_query_get(&q, "survey");
	if (code == NULL) {
		evhttp_clear_headers(&q);
		http_reply_error(r, 400, "missing", "survey", "%s",
		    upload_text(lang, "Thiếu survey=MÃ: thêm mã khảo sát vào "
		    "địa chỉ, ví dụ ?survey=sipas-2023", "survey=CODE is "
		    "required: add the survey's code, e.g. ?survey=sipas-2023"));
		return;
	}
	if (body != NULL && bodystream_length(body) >
	    (uint64_t)sd->config->upload_max) {
		evhttp_clear_headers(&q);
		http_reply_error(r, 413, "too_large", NULL, LANG_TEXT(lang,
		    "Tệp lớn hơn %ld byte (upload_max): chia nhỏ tệp hoặc "
		    "dùng sipasctl import", "the upload is larger than %ld "
		    "bytes (upload_max); split it or use sipasctl import"),
		    sd->config->upload_max);
		return;
	}
	ctype = evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    "Content-Type");
	/*
	 * An XLSX by its first bytes, or by its type (not "excel": Windows
	 * sends application/vnd.ms-excel for a .csv file).
	 */
	magic = 0;
	got = evbuffer_copyout(in, head, sizeof head);
	xlsx = upload_magic(&magic, head, got > 0 ? (size_t)got : 0) ||
	    (ctype != NULL && strstr(ctype, "spreadsheetml") != NULL);
	sheet = http_query_get(&q, "sheet");
	if (sheet != NULL && (*sheet == '\0' || strlen(sheet) > 255)) {
		evhttp_clear_headers(&q);
		http_reply_error(r, 400, "bad_query", "sheet",
		    "sheet=NAME must name a sheet (1 to 255 bytes)");
		return;
	}
	upload_charset(ctype, charset, sizeof charset);
	if (charset[0] != '\0' && csvin_encoding_set(NULL, charset) != 0) {
		evhttp_clear_headers(&q);
		http_reply_error(r, 415, "unsupported_charset", "charset",
		    LANG_TEXT(lang, "Bảng mã \"%s\" không được hỗ trợ: dùng "
		    "utf-8, utf-16, utf-16le, utf-16be hoặc windows-1258, hoặc "
		    "lưu tệp dưới dạng CSV UTF-8", "charset \"%s\" is not "
		    "read: use utf-8, utf-16, utf-16le, utf-16be or "
		    "windows-1258, or save the file as CSV UTF-8"), charset);
		return;
	}
	if (!sipasd_ready(sd) || sd->cache == NULL) {
		evhttp_clear_headers(&q);
		http_reply_unavailable(r, upload_text(lang, "Cơ sở dữ liệu "
		    "đang không sẵn sàng: thử lại sau", "the database is not "
		    "available"));
		return;
	}
	if ((s = cache_survey_get(sd->cache, code)) == NULL) {
		char *quoted = response_quote_dup(code);

		http_reply_error(r, 422, "unknown_survey", "survey",
		    LANG_TEXT(lang, "Không có khảo sát '%s': kiểm tra mã "
		    "khảo sát trong địa chỉ (survey=)", "unknown survey '%s': "
		    "check the survey's code in the address (survey=)"), quoted);
		free(quoted);
		evhttp_clear_headers(&q);
		return;
	}
	u = upload_create(r, s, lang);
	u->sheet = sheet != NULL ? xstrdup(sheet) : NULL;
	evhttp_clear_headers(&q);
	if (charset[0] != '\0')
		csvin_encoding_set(u->csv, charset);
	if (body != NULL) {
		log_msg(LOG_LEVEL_INFO, r->id, "upload %s: %llu bytes, "
		    "streamed", s->code, (unsigned long long)
		    bodystream_length(body));
		bodystream_start(body, upload_ready, u);
	} else {
		u->magic = -1; /* checked above */
		log_msg(LOG_LEVEL_INFO, r->id, "upload %s: %zu bytes", s->code,
		    evbuffer_get_length(in));
	}
	if (xlsx) {
		u->magic = -1;
		upload_xlsx_start(u, 0);
	}
	upload_pump(u);
}

/* Run an upload read through a caller's reader (the upload page). */
struct upload *
upload_run(struct request *r, const struct survey *s, upload_read_cb read,
    void *read_arg, int keep_rejects, upload_done_cb done, void *done_arg)
{
	struct upload *u = upload_create(r, s, form_lang(r, NULL));

	u->read = read;
	u->read_arg = read_arg;
	u->keep_rejects = keep_rejects;
	u->done = done;
	u->done_arg = done_arg;
	return u;
}

/* The caller's reader has more. */
void
upload_input_ready(struct upload *u)
{
	upload_ready(u);
}
