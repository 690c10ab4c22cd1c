/*
 * uploadpage.c: the survey teams' upload page (uploadpage.h, docs/uploads.md).
 *
 * GET /uploads shows a plain form (survey, file; the session's CSRF token;
 * no script) and the team's recent uploads from the audit log. The form
 * posts multipart/form-data to POST /uploads, whose body is streamed like
 * the API's (bodystream.c). The parts are read in order: the small fields
 * (csrf, survey) first, then the file part, whose bytes go as they arrive
 * into upload_run (upload.c): the same CSV reader, checks, scope, queue,
 * batches, size limit and audit row as POST /api/v1/uploads. The result page
 * shows the counts and the rejected rows; those rows, as they were sent with
 * a last column "reason", are kept in memory for an hour for this session
 * only (GET /uploads/rejected?id=...): at most UPLOADPAGE_KEPT_MAX files of
 * about UPLOAD_REJECTS_BYTES each, UPLOADPAGE_KEPT_BYTES in all.
 *
 * GET /uploads/template writes the survey's sheet (report/template.c) with
 * the units of the caller's scope as the unit list.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <csv.h>
#include <jansson.h>

#include "daemon/channels/bodystream.h"
#include "daemon/channels/upload.h"
#include "daemon/channels/uploadpage.h"
#include "daemon/conf.h"
#include "daemon/formdata.h"
#include "daemon/html.h"
#include "daemon/log.h"
#include "daemon/request.h"
#include "daemon/sipasd.h"
#include "daemon/store/cache.h"
#include "daemon/store/store.h"
#include "sipas/csvout.h"
#include "sipas/hmac.h"
#include "sipas/survey.h"
#include "sipas/template.h"
#include "sipas/token.h"
#include "sipas/util.h"

#define UTR(lang, vi, en) (strcmp((lang), "en") == 0 ? (en) : (vi))

/* Bytes read from the body at a time, and the most held unparsed. */
#define UPLOADPAGE_SLICE 16384
/* The longest head of a part, and the longest value of a small field. */
#define UPLOADPAGE_HEAD_MAX 8192
#define UPLOADPAGE_FIELD_MAX 1024
/* The longest multipart boundary (RFC 2046). */
#define UPLOADPAGE_BOUNDARY_MAX 70

/* --- the rejected rows kept for download --- */

struct uploadpage_kept {
	char id[TOKEN_LEN + 1];
	char owner[TOKEN_LEN + 1]; /* the session's CSRF token */
	char *name;		   /* the download's file name */
	char *csv;
	size_t len;
	time_t expires;
};

/* Newest last; one event loop, so no lock. Reachable until exit. */
static struct uploadpage_kept *uploadpage_kept[UPLOADPAGE_KEPT_MAX];
static size_t uploadpage_nkept;

/* Free one kept file. */
static void
uploadpage_kept_free(struct uploadpage_kept *k)
{
	if (k == NULL)
		return;
	free(k->name);
	free(k->csv);
	free(k);
}

/* Drop expired files, then the oldest until room more bytes and a slot fit. */
static void
uploadpage_kept_sweep(size_t room)
{
	time_t now = time(NULL);
	size_t i, j = 0, bytes = 0;

	for (i = 0; i < uploadpage_nkept; i++) {
		if (uploadpage_kept[i]->expires <= now)
			uploadpage_kept_free(uploadpage_kept[i]);
		else {
			bytes += uploadpage_kept[i]->len;
			uploadpage_kept[j++] = uploadpage_kept[i];
		}
	}
	uploadpage_nkept = j;
	while (room > 0 && uploadpage_nkept > 0 &&
	    (uploadpage_nkept == UPLOADPAGE_KEPT_MAX ||
	    bytes + room > UPLOADPAGE_KEPT_BYTES)) {
		bytes -= uploadpage_kept[0]->len;
		uploadpage_kept_free(uploadpage_kept[0]);
		memmove(uploadpage_kept, uploadpage_kept + 1,
		    (uploadpage_nkept - 1) * sizeof uploadpage_kept[0]);
		uploadpage_nkept--;
	}
}

/* --- Vietnamese reasons --- */

/* The reasons of csvin.c, response.c and ingest.c, by a part of their text. */
static const struct {
	const char *match;
	const char *vi;
} uploadpage_reasons[] = {
	{ "is not on scale", "Giá trị không có trong thang đo của câu hỏi; "
	    "chọn một giá trị trong danh sách của mẫu." },
	{ "may not post to this unit", "Đơn vị nằm ngoài phạm vi của tài "
	    "khoản; chỉ gửi phiếu của các đơn vị mình phụ trách." },
	{ "unknown unit", "Mã đơn vị không có trong danh mục." },
	{ "unit is required", "Thiếu mã đơn vị." },
	{ "empty unit", "Thiếu mã đơn vị." },
	{ "unit code", "Mã đơn vị không hợp lệ." },
	{ "no such date", "Ngày không có thật." },
	{ "no such time", "Giờ không có thật." },
	{ "is not an ISO 8601 date", "Ngày không đúng định dạng." },
	{ "more than a day in the", "Ngày trả lời nằm ở tương lai." },
	{ "time zone offset", "Múi giờ không hợp lệ." },
	{ "weight", "Trọng số phải là một số lớn hơn 0 và không quá giới "
	    "hạn." },
	{ "row has", "Số ô của dòng khác số cột của dòng tiêu đề." },
	{ "quoting", "Dấu ngoặc kép (\") đặt sai chỗ trong một ô; hãy lưu lại "
	    "tệp từ bảng tính dạng \"CSV UTF-8\"." },
	{ "no item is answered", "Phiếu không có câu trả lời nào." },
	{ "invalid UTF-8", "Văn bản không phải UTF-8; hãy lưu tệp dạng "
	    "\"CSV UTF-8\"." },
	{ "unknown respondent field", "Cột thông tin người trả lời không "
	    "được biết." },
	{ "respondent", "Thông tin người trả lời không hợp lệ." },
	{ "channel", "Kênh không hợp lệ (paper, web, sms, kiosk)." },
	{ "id ", "Mã phiếu (id) không hợp lệ." },
};

/* A reason in the page's language (borrowed: the table's or reason itself). */
static const char *
uploadpage_reason(const char *lang, const char *reason)
{
	size_t i;

	if (strcmp(lang, "en") == 0 || reason == NULL)
		return reason != NULL ? reason : "";
	for (i = 0; i < sizeof uploadpage_reasons /
	    sizeof uploadpage_reasons[0]; i++) {
		if (strstr(reason, uploadpage_reasons[i].match) != NULL)
			return uploadpage_reasons[i].vi;
	}
	return "Dòng không hợp lệ.";
}

/* --- a CSV line's fields (for the value of a bad cell) --- */

struct uploadpage_split {
	int want; /* 1-based column */
	int at;
	char *value;
};

static void
uploadpage_split_field(void *s, size_t len, void *arg)
{
	struct uploadpage_split *sp = arg;

	if (++sp->at == sp->want && sp->value == NULL)
		sp->value = xstrndup(s != NULL ? s : "", len);
}

/* Field colno (1-based) of a CSV line, owned; NULL if none. */
static char *
uploadpage_line_field(const char *line, int colno)
{
	struct csv_parser p;
	struct uploadpage_split sp = { colno, 0, NULL };

	if (colno <= 0 || csv_init(&p, 0) != 0)
		return NULL;
	csv_parse(&p, line, strlen(line), uploadpage_split_field, NULL, &sp);
	csv_fini(&p, uploadpage_split_field, NULL, &sp);
	csv_free(&p);
	return sp.value;
}

/* --- the page's frame --- */

/* <head>, the top bar (language, sign out) and <main>. */
static void
uploadpage_begin(struct evbuffer *b, const struct request *r, const char *lang,
    const char *title, const char *other_lang_href)
{
	html_raw(b, "<!doctype html>\n<html lang=\"%s\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n<title>", lang);
	html_text(b, title);
	html_raw(b, "</title>\n<link rel=\"stylesheet\" "
	    "href=\"/static/dashboard.css?v=%s\">\n<link rel=\"stylesheet\" "
	    "href=\"/static/uploads.css?v=%s\">\n</head>\n<body class=\"uploads\">"
	    "\n<header class=\"top\">\n<p class=\"brand\">%s</p>\n"
	    "<nav class=\"tools\"><a id=\"lang\" href=\"",
	    static_version("dashboard.css"), static_version("uploads.css"),
	    UTR(lang, "SIPAS – Tải phiếu lên", "SIPAS – Uploads"));
	html_text(b, other_lang_href);
	html_raw(b, "\">%s</a> ", UTR(lang, "English", "Tiếng Việt"));
	html_logout_form(b, r, lang);
	html_raw(b, "</nav>\n</header>\n<main>\n");
}

static void
uploadpage_end(struct evbuffer *b)
{
	html_raw(b, "</main>\n</body>\n</html>\n");
}

/* A whole page with one message (and a link back to the form). */
static void
uploadpage_message(struct request *r, int status, const char *lang,
    const char *text)
{
	struct evbuffer *b = evbuffer_new();

	uploadpage_begin(b, r, lang, UTR(lang, "Tải phiếu lên", "Upload"),
	    UTR(lang, "/uploads?lang=en", "/uploads"));
	html_raw(b, "<h1>%s</h1>\n<p class=\"error\" id=\"message\">",
	    UTR(lang, "Chưa tải lên được", "The file was not uploaded"));
	html_text(b, text);
	html_raw(b, "</p>\n<p><a href=\"%s\">%s</a></p>\n",
	    UTR(lang, "/uploads", "/uploads?lang=en"),
	    UTR(lang, "Quay lại trang tải lên", "Back to the upload page"));
	uploadpage_end(b);
	html_reply(r, status, b);
	evbuffer_free(b);
}

/* --- GET /uploads: the form and the recent uploads --- */

struct uploadpage_list {
	struct request *r;
	const char *lang;
	struct evbuffer *b;
	int n;
};

/* The form of the page. */
static void
uploadpage_form(struct evbuffer *b, const struct request *r, const char *lang)
{
	const struct survey *const *all = NULL;
	size_t n = 0, i;

	html_raw(b, "<h1>%s</h1>\n<p class=\"note\">%s</p>\n",
	    UTR(lang, "Tải phiếu khảo sát lên", "Upload survey responses"),
	    UTR(lang, "Chọn đợt khảo sát và tệp CSV (lưu từ bảng tính dạng "
	    "\"CSV UTF-8\"), rồi bấm Tải lên. Dòng hợp lệ được lưu; dòng sai "
	    "được liệt kê để sửa và gửi lại.", "Choose the survey and the CSV "
	    "file (saved from the spreadsheet as \"CSV UTF-8\"), then press "
	    "Upload. Good rows are stored; bad rows are listed to fix and send "
	    "again."));
	if (r->sd->cache != NULL)
		all = cache_surveys(r->sd->cache, &n);
	html_raw(b, "<section>\n<form id=\"upload\" method=\"post\" action=\"%s\" "
	    "enctype=\"multipart/form-data\">\n<input type=\"hidden\" "
	    "name=\"csrf\" value=\"", UTR(lang, "/uploads", "/uploads?lang=en"));
	html_text(b, r->csrf != NULL ? r->csrf : "");
	html_raw(b, "\">\n<p><label>%s<br><select name=\"survey\" id=\"survey\" "
	    "required>\n", UTR(lang, "Đợt khảo sát", "Survey"));
	for (i = 0; i < n; i++) {
		html_raw(b, "<option value=\"");
		html_text(b, all[i]->code);
		html_raw(b, "\">");
		html_text(b, strcmp(lang, "en") == 0 && all[i]->title_en !=
		    NULL ? all[i]->title_en : all[i]->title_vi != NULL ?
		    all[i]->title_vi : all[i]->code);
		html_raw(b, " (");
		html_text(b, all[i]->code);
		html_raw(b, ")</option>\n");
	}
	html_raw(b, "</select></label></p>\n<p><label>%s<br><input type=\"file\" "
	    "name=\"file\" id=\"file\" accept=\".csv,text/csv\" required>"
	    "</label></p>\n<p><button type=\"submit\" id=\"send\">%s</button>"
	    "</p>\n</form>\n<p class=\"note\">%s</p>\n<ul class=\"templates\">\n",
	    UTR(lang, "Tệp CSV", "CSV file"), UTR(lang, "Tải lên", "Upload"),
	    UTR(lang, "Mẫu để nhập phiếu (dòng tiêu đề đúng như trang này "
	    "nhận; bản XLSX có danh sách chọn giá trị):", "Templates to type "
	    "the responses into (the header this page accepts; the XLSX has "
	    "drop-down lists of the values):"));
	for (i = 0; i < n; i++) {
		html_raw(b, "<li>");
		html_text(b, all[i]->code);
		html_raw(b, ": <a href=\"/uploads/template?survey=");
		html_text(b, all[i]->code);
		html_raw(b, "&amp;format=xlsx\">XLSX</a> · "
		    "<a href=\"/uploads/template?survey=");
		html_text(b, all[i]->code);
		html_raw(b, "&amp;format=csv\">CSV</a></li>\n");
	}
	html_raw(b, "</ul>\n</section>\n");
}

/* One recent upload, or the end of the list. */
static void
uploadpage_list_row(const struct store_upload *up, int ok, const char *message,
    void *arg)
{
	struct uploadpage_list *l = arg;
	struct evbuffer *b = l->b;
	const char *lang = l->lang;

	if (up != NULL) {
		if (l->n++ == 0)
			html_raw(b, "<table id=\"recent\">\n<thead><tr><th>%s</th>"
			    "<th>%s</th><th>%s</th><th>%s</th><th class=\"n\">%s"
			    "</th><th class=\"n\">%s</th><th class=\"n\">%s</th>"
			    "<th class=\"n\">%s</th><th class=\"n\">%s</th></tr>"
			    "</thead>\n<tbody>\n", UTR(lang, "Thời gian", "Time"),
			    UTR(lang, "Người gửi", "By"), UTR(lang,
			    "Đợt khảo sát", "Survey"), UTR(lang, "Đơn vị",
			    "Unit"), UTR(lang, "Dòng", "Rows"), UTR(lang,
			    "Đã lưu", "Stored"), UTR(lang, "Trùng", "Duplicates"),
			    UTR(lang, "Xung đột", "Conflicts"), UTR(lang,
			    "Bị từ chối", "Rejected"));
		html_raw(b, "<tr><td>");
		html_text(b, up->at);
		html_raw(b, "</td><td>");
		html_text(b, up->actor);
		html_raw(b, "</td><td>");
		html_text(b, up->survey);
		html_raw(b, "</td><td>");
		html_text(b, up->scope != NULL ? up->scope : "");
		html_raw(b, "</td><td class=\"n\">%ld%s</td><td class=\"n\">%ld"
		    "</td><td class=\"n\">%ld</td><td class=\"n\">%ld</td>"
		    "<td class=\"n\">%ld</td></tr>\n", up->rows, up->complete ?
		    "" : "*", up->stored, up->duplicates, up->conflicts,
		    up->rejected);
		return;
	}
	if (!ok) {
		log_msg(LOG_LEVEL_WARN, l->r->id, "uploads page: the list "
		    "failed: %s", message);
		html_raw(b, "<p class=\"error\">%s</p>\n", UTR(lang,
		    "Không đọc được danh sách lúc này.",
		    "The list cannot be read now."));
	} else if (l->n == 0)
		html_raw(b, "<p class=\"note\" id=\"recent-none\">%s</p>\n",
		    UTR(lang, "Chưa có lần tải lên nào.", "No uploads yet."));
	else
		html_raw(b, "</tbody>\n</table>\n<p class=\"note\">%s</p>\n",
		    UTR(lang, "* tệp không đọc hết (xem số dòng đã đọc).",
		    "* the file was not read to its end."));
	html_raw(b, "</section>\n");
	uploadpage_end(b);
	html_reply(l->r, 200, b);
	evbuffer_free(b);
	free(l);
}

/* GET /uploads. */
static void
uploadpage_get(struct request *r)
{
	const char *lang = form_lang(r, NULL);
	struct uploadpage_list *l;
	struct evbuffer *b = evbuffer_new();

	uploadpage_begin(b, r, lang, UTR(lang, "Tải phiếu lên", "Upload"),
	    UTR(lang, "/uploads?lang=en", "/uploads"));
	uploadpage_form(b, r, lang);
	html_raw(b, "<section>\n<h2>%s</h2>\n", r->scope != NULL ?
	    UTR(lang, "Các lần tải lên gần đây của đơn vị",
	    "Recent uploads of your units") : UTR(lang,
	    "Các lần tải lên gần đây", "Recent uploads"));
	l = xcalloc(1, sizeof *l);
	l->r = r;
	l->lang = lang;
	l->b = b;
	if (!sipasd_ready(r->sd)) {
		uploadpage_list_row(NULL, 0, "database unavailable", l);
		return;
	}
	store_uploads_recent(r->sd->rdb != NULL ? r->sd->rdb : r->sd->db,
	    r->scope, UPLOADPAGE_RECENT, uploadpage_list_row, l);
}

/* --- POST /uploads: the multipart form --- */

enum uploadpage_state {
	MP_PREAMBLE,	/* before the first boundary */
	MP_AFTER,	/* after a boundary: "--" ends, CRLF starts a part */
	MP_HEAD,	/* a part's head */
	MP_FIELD,	/* a small field's value */
	MP_FILE,	/* the file's bytes */
	MP_END,		/* after the last boundary */
};

struct uploadpage_post {
	struct request *r;
	const char *lang;
	struct bodystream *body;    /* or NULL: evhttp read the body whole */
	struct evbuffer *in;	    /* bytes not yet parsed */
	char delim[UPLOADPAGE_BOUNDARY_MAX + 5]; /* CRLF "--" boundary */
	size_t dlen;
	enum uploadpage_state state;
	int eof;		    /* the body has ended */
	int gone;		    /* the client left */
	char *part;		    /* the current part's name */
	int part_is_file;
	char *filename;
	struct evbuffer *value;	    /* the current small field */
	char *csrf;
	char *survey;
	struct upload *upload;	    /* once the file part started */
};

static void uploadpage_post_pump(struct uploadpage_post *);

static void
uploadpage_post_free(struct uploadpage_post *p)
{
	evbuffer_free(p->in);
	if (p->value != NULL)
		evbuffer_free(p->value);
	free(p->part);
	free(p->filename);
	free(p->csrf);
	free(p->survey);
	free(p);
}

/* Read more of the body into p->in: 1 got some, 0 end, WAIT, or GONE. */
static int
uploadpage_fill(struct uploadpage_post *p)
{
	char buf[UPLOADPAGE_SLICE];
	struct evbuffer *src;
	ssize_t n;

	if (p->eof)
		return 0;
	if (p->body == NULL) {
		src = evhttp_request_get_input_buffer(p->r->req);
		if (evbuffer_get_length(src) == 0) {
			p->eof = 1;
			return 0;
		}
		evbuffer_remove_buffer(src, p->in, UPLOADPAGE_SLICE);
		return 1;
	}
	n = bodystream_read(p->body, buf, sizeof buf);
	if (n == BODYSTREAM_WAIT || n == BODYSTREAM_GONE) {
		if (n == BODYSTREAM_GONE)
			p->gone = 1;
		return (int)n;
	}
	if (n == 0) {
		p->eof = 1;
		return 0;
	}
	evbuffer_add(p->in, buf, (size_t)n);
	return 1;
}

/* The value of parameter name= in a Content-Disposition (owned), or NULL. */
static char *
uploadpage_param(const char *head, const char *name)
{
	const char *p = head, *end;
	size_t nlen = strlen(name);

	while ((p = strcasestr(p, name)) != NULL) {
		if ((p == head || p[-1] == ' ' || p[-1] == ';') &&
		    p[nlen] == '=') {
			p += nlen + 1;
			if (*p == '"') {
				p++;
				end = strchr(p, '"');
			} else
				end = p + strcspn(p, "; \r\n");
			return end != NULL ? xstrndup(p, (size_t)(end - p)) :
			    NULL;
		}
		p += nlen;
	}
	return NULL;
}

/* A part's head is in: its name and whether it is the file. */
static int
uploadpage_part_head(struct uploadpage_post *p, const char *head)
{
	const char *cd = NULL, *line;

	for (line = head; line != NULL && *line != '\0';) {
		if (strncasecmp(line, "Content-Disposition:", 20) == 0)
			cd = line + 20;
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	free(p->part);
	free(p->filename);
	p->part = cd != NULL ? uploadpage_param(cd, "name") : NULL;
	p->filename = cd != NULL ? uploadpage_param(cd, "filename") : NULL;
	if (p->part == NULL)
		return -1;
	p->part_is_file = strcmp(p->part, "file") == 0;
	return 0;
}

/*
 * Parse what p->in holds, up to the start of the file's bytes or the end.
 * 0: go on reading (or the file starts: p->state MP_FILE); -1: malformed.
 */
static int
uploadpage_parse(struct uploadpage_post *p)
{
	struct evbuffer_ptr at;
	size_t len, take;
	char *head, two[2];

	for (;;) {
		len = evbuffer_get_length(p->in);
		switch (p->state) {
		case MP_PREAMBLE:
		case MP_FIELD:
			at = evbuffer_search(p->in, p->delim, p->dlen, NULL);
			if (at.pos < 0) {
				/* Keep what could start a boundary. */
				take = len > p->dlen ? len - p->dlen : 0;
				if (p->state == MP_FIELD) {
					if (evbuffer_get_length(p->value) +
					    take > UPLOADPAGE_FIELD_MAX)
						return -1;
					evbuffer_remove_buffer(p->in, p->value,
					    take);
				} else
					evbuffer_drain(p->in, take);
				return 0;
			}
			if (p->state == MP_FIELD) {
				if (evbuffer_get_length(p->value) +
				    (size_t)at.pos > UPLOADPAGE_FIELD_MAX)
					return -1;
				evbuffer_remove_buffer(p->in, p->value,
				    (size_t)at.pos);
				evbuffer_add(p->value, "", 1);
				if (strcmp(p->part, "csrf") == 0) {
					free(p->csrf);
					p->csrf = xstrdup((char *)
					    evbuffer_pullup(p->value, -1));
				} else if (strcmp(p->part, "survey") == 0) {
					free(p->survey);
					p->survey = xstrdup((char *)
					    evbuffer_pullup(p->value, -1));
				}
				evbuffer_free(p->value);
				p->value = NULL;
			} else
				evbuffer_drain(p->in, (size_t)at.pos);
			evbuffer_drain(p->in, p->dlen);
			p->state = MP_AFTER;
			break;
		case MP_AFTER:
			if (len < 2)
				return 0;
			evbuffer_remove(p->in, two, 2);
			if (two[0] == '-' && two[1] == '-') {
				p->state = MP_END;
				return 0;
			}
			if (two[0] != '\r' || two[1] != '\n')
				return -1;
			p->state = MP_HEAD;
			break;
		case MP_HEAD:
			at = evbuffer_search(p->in, "\r\n\r\n", 4, NULL);
			if (at.pos < 0)
				return len > UPLOADPAGE_HEAD_MAX ? -1 : 0;
			if ((size_t)at.pos > UPLOADPAGE_HEAD_MAX)
				return -1;
			head = xcalloc(1, (size_t)at.pos + 1);
			evbuffer_remove(p->in, head, (size_t)at.pos);
			evbuffer_drain(p->in, 4);
			if (uploadpage_part_head(p, head) != 0) {
				free(head);
				return -1;
			}
			free(head);
			if (p->part_is_file) {
				p->state = MP_FILE;
				return 0;
			}
			p->value = evbuffer_new();
			p->state = MP_FIELD;
			break;
		case MP_FILE:
		case MP_END:
			return 0;
		}
	}
}

/* upload.c reads the file part through here. */
static ssize_t
uploadpage_file_read(void *arg, char *buf, size_t n)
{
	struct uploadpage_post *p = arg;
	struct evbuffer_ptr at;
	size_t len, take;
	int rc;

	for (;;) {
		if (p->state != MP_FILE)
			return 0;
		len = evbuffer_get_length(p->in);
		at = evbuffer_search(p->in, p->delim, p->dlen, NULL);
		if (at.pos == 0) {
			/* The file's end; the parts after it are not read. */
			evbuffer_drain(p->in, p->dlen);
			p->state = MP_AFTER;
			return 0;
		}
		take = at.pos > 0 ? (size_t)at.pos :
		    len > p->dlen ? len - p->dlen : 0;
		if (take > 0) {
			if (take > n)
				take = n;
			return evbuffer_remove(p->in, buf, take);
		}
		rc = uploadpage_fill(p);
		if (rc == BODYSTREAM_WAIT || rc == BODYSTREAM_GONE)
			return rc;
		if (rc == 0) {
			/* The body ended inside the file part. */
			p->state = MP_END;
			return BODYSTREAM_GONE;
		}
	}
}

/* --- the result page --- */

/* Keep the rejected rows for download; its id into id. */
static int
uploadpage_keep(struct uploadpage_post *p, const struct upload_result *res,
    char id[TOKEN_LEN + 1])
{
	struct uploadpage_kept *k;
	struct csvout out;
	struct evbuffer *csv;
	char *cause = NULL;
	size_t i;

	if (res->nrejects == 0 || p->r->csrf == NULL ||
	    token_generate(id, TOKEN_LEN + 1, &cause) != 0) {
		free(cause);
		return -1;
	}
	/* The header and each row as sent, then the reason. */
	csv = evbuffer_new();
	csvout_init(&out, "\r\n");
	for (i = 0; i <= res->nrejects; i++) {
		const char *line = i == 0 ? res->header : res->rejects[i - 1].line;

		csvout_clear(&out);
		csvout_field(&out, i == 0 ? "reason" : uploadpage_reason(p->lang,
		    res->rejects[i - 1].reason));
		csvout_row_end(&out);
		if (line != NULL && *line != '\0')
			evbuffer_add_printf(csv, "%s,", line);
		evbuffer_add(csv, out.data, out.len);
	}
	csvout_free(&out);
	uploadpage_kept_sweep(evbuffer_get_length(csv));
	k = xcalloc(1, sizeof *k);
	memcpy(k->id, id, TOKEN_LEN + 1);
	snprintf(k->owner, sizeof k->owner, "%s", p->r->csrf);
	xasprintf(&k->name, "%s-rejected.csv", p->survey);
	k->len = evbuffer_get_length(csv);
	k->csv = xmalloc(k->len + 1);
	evbuffer_remove(csv, k->csv, k->len);
	k->csv[k->len] = '\0';
	k->expires = time(NULL) + UPLOADPAGE_KEPT_TTL;
	evbuffer_free(csv);
	uploadpage_kept[uploadpage_nkept++] = k;
	return 0;
}

/* A count of the result. */
static void
uploadpage_count(struct evbuffer *b, const char *id, const char *label,
    json_t *rep, const char *key)
{
	html_raw(b, "<div><dt>%s</dt><dd id=\"%s\">%lld</dd></div>\n", label, id,
	    (long long)json_integer_value(json_object_get(rep, key)));
}

/* upload.c is done: the result page. */
static void
uploadpage_done(struct request *r, struct upload_result *res, void *arg)
{
	struct uploadpage_post *p = arg;
	const char *lang = p->lang, *msg;
	json_t *rep = res->report, *err = json_object_get(rep, "error");
	struct evbuffer *b;
	char id[TOKEN_LEN + 1], *value;
	size_t i;

	b = evbuffer_new();
	uploadpage_begin(b, r, lang, UTR(lang, "Kết quả tải lên",
	    "Upload result"), UTR(lang, "/uploads?lang=en", "/uploads"));
	html_raw(b, "<h1>%s</h1>\n<p class=\"note\">", UTR(lang,
	    "Kết quả tải lên", "Upload result"));
	html_text(b, p->filename);
	html_raw(b, " · ");
	html_text(b, p->survey);
	html_raw(b, "</p>\n");
	if (err != NULL) {
		msg = json_string_value(json_object_get(err, "message"));
		html_raw(b, "<p class=\"error\" id=\"message\">");
		if (res->status == 415)
			html_text(b, UTR(lang, "Tệp là bảng tính XLSX: hãy lưu "
			    "dạng \"CSV UTF-8\" rồi gửi lại.", msg));
		else if (res->status == 503)
			html_text(b, UTR(lang, "Cơ sở dữ liệu tạm thời không sẵn "
			    "sàng; một số dòng chưa được lưu. Hãy gửi lại tệp "
			    "sau ít phút (dòng có mã phiếu không bị lưu hai "
			    "lần).", msg));
		else if (res->status == 400)
			html_text(b, UTR(lang, "Tệp bị ngắt giữa chừng; các dòng "
			    "trước chỗ ngắt đã được lưu. Hãy gửi lại.", msg));
		else {
			html_text(b, UTR(lang, "Không đọc tiếp được tệp: ",
			    "The file cannot be read on: "));
			html_text(b, msg);
		}
		html_raw(b, "</p>\n");
	}
	html_raw(b, "<section>\n<dl class=\"counts\">\n");
	uploadpage_count(b, "rows", UTR(lang, "Số dòng", "Rows"), rep, "rows");
	uploadpage_count(b, "stored", UTR(lang, "Đã lưu", "Stored"), rep,
	    "stored");
	uploadpage_count(b, "duplicates", UTR(lang, "Trùng (đã có)",
	    "Duplicates"), rep, "duplicates");
	uploadpage_count(b, "conflicts", UTR(lang, "Xung đột", "Conflicts"),
	    rep, "conflicts");
	uploadpage_count(b, "rejected", UTR(lang, "Bị từ chối", "Rejected"),
	    rep, "rejected");
	html_raw(b, "</dl>\n</section>\n");

	if (res->nrejects > 0) {
		html_raw(b, "<section>\n<h2>%s</h2>\n", UTR(lang,
		    "Các dòng bị từ chối", "Rejected rows"));
		if (uploadpage_keep(p, res, id) == 0) {
			html_raw(b, "<p><a id=\"rejected-csv\" "
			    "href=\"/uploads/rejected?id=");
			html_text(b, id);
			html_raw(b, "\">%s</a> <span class=\"note\">%s</span>"
			    "</p>\n", UTR(lang, "Tải các dòng bị từ chối (CSV)",
			    "Download the rejected rows (CSV)"), UTR(lang,
			    "Sửa các dòng này, xóa cột cuối \"reason\" rồi "
			    "tải tệp lên lại.", "Fix these rows and upload "
			    "them again; delete the last column \"reason\" "
			    "first."));
		}
		html_raw(b, "<table id=\"rejects\">\n<thead><tr><th class=\"n\">%s"
		    "</th><th>%s</th><th>%s</th><th>%s</th></tr></thead>\n"
		    "<tbody>\n", UTR(lang, "Dòng", "Row"), UTR(lang, "Cột",
		    "Column"), UTR(lang, "Giá trị", "Value"), UTR(lang,
		    "Lý do", "Reason"));
		for (i = 0; i < res->nrejects; i++) {
			const struct upload_reject *k = &res->rejects[i];

			value = uploadpage_line_field(k->line, k->colno);
			html_raw(b, "<tr><td class=\"n\">%ld</td><td>", k->row);
			html_text(b, k->column);
			html_raw(b, "</td><td>");
			html_text(b, value);
			html_raw(b, "</td><td>");
			html_text(b, uploadpage_reason(lang, k->reason));
			if (strcmp(lang, "en") != 0) {
				html_raw(b, " <span class=\"detail\" lang=\"en\">");
				html_text(b, k->reason);
				html_raw(b, "</span>");
			}
			html_raw(b, "</td></tr>\n");
			free(value);
		}
		html_raw(b, "</tbody>\n</table>\n");
		if (res->rejects_omitted > 0)
			html_raw(b, "<p class=\"note\">%s %ld</p>\n", UTR(lang,
			    "Số dòng bị từ chối không liệt kê:",
			    "Rejected rows not listed:"), res->rejects_omitted);
		html_raw(b, "</section>\n");
	}
	html_raw(b, "<p><a href=\"%s\" id=\"again\">%s</a></p>\n",
	    UTR(lang, "/uploads", "/uploads?lang=en"), UTR(lang,
	    "Tải tệp khác lên", "Upload another file"));
	uploadpage_end(b);
	upload_result_free(res);
	uploadpage_post_free(p);
	html_reply(r, 200, b);
	evbuffer_free(b);
}

/* Refuse the post with a message page. */
static void
uploadpage_refuse(struct uploadpage_post *p, int status, const char *vi,
    const char *en)
{
	struct request *r = p->r;
	const char *lang = p->lang;

	log_msg(LOG_LEVEL_INFO, r->id, "uploads page: refused (%d): %s", status,
	    en);
	uploadpage_post_free(p);
	uploadpage_message(r, status, lang, UTR(lang, vi, en));
}

/* The fields are in and the file starts: check them, then upload. */
static void
uploadpage_post_start(struct uploadpage_post *p)
{
	struct request *r = p->r;
	const struct survey *s;

	if (p->csrf == NULL || r->csrf == NULL || !hmac_equal(p->csrf, r->csrf)) {
		uploadpage_refuse(p, 403, "Biểu mẫu đã hết hạn hoặc không đến "
		    "từ trang này; hãy mở lại trang tải lên và gửi lại.",
		    "The form has expired or did not come from this site; open "
		    "the upload page again and send the file again.");
		return;
	}
	if (p->survey == NULL || *p->survey == '\0') {
		uploadpage_refuse(p, 400, "Hãy chọn đợt khảo sát.",
		    "Choose the survey.");
		return;
	}
	if (!sipasd_ready(r->sd) || r->sd->cache == NULL) {
		uploadpage_refuse(p, 503, "Cơ sở dữ liệu tạm thời không sẵn "
		    "sàng; hãy thử lại sau ít phút.", "The database is not "
		    "available; try again in a few minutes.");
		return;
	}
	if ((s = cache_survey_get(r->sd->cache, p->survey)) == NULL) {
		uploadpage_refuse(p, 422, "Không có đợt khảo sát này.",
		    "There is no such survey.");
		return;
	}
	log_msg(LOG_LEVEL_INFO, r->id, "uploads page: %s, file %s, form of "
	    "%llu bytes%s", s->code, p->filename != NULL ? p->filename : "",
	    p->body != NULL ? (unsigned long long)bodystream_length(p->body) :
	    (unsigned long long)evbuffer_get_length(
	    evhttp_request_get_input_buffer(r->req)), p->body != NULL ?
	    ", streamed" : "");
	p->upload = upload_run(r, s, uploadpage_file_read, p, 1,
	    uploadpage_done, p);
	/* May answer at once and free p. */
	upload_input_ready(p->upload);
}

/* Read and parse until the file part starts (or the form is bad). */
static void
uploadpage_post_pump(struct uploadpage_post *p)
{
	int rc;

	for (;;) {
		if (uploadpage_parse(p) != 0) {
			uploadpage_refuse(p, 400, "Biểu mẫu gửi lên không đọc "
			    "được; hãy gửi lại từ trang tải lên.", "The form "
			    "cannot be read; send it again from the upload "
			    "page.");
			return;
		}
		if (p->state == MP_FILE) {
			uploadpage_post_start(p);
			return;
		}
		if (p->state == MP_END) {
			uploadpage_refuse(p, 400, "Chưa chọn tệp để tải lên.",
			    "No file was chosen.");
			return;
		}
		rc = uploadpage_fill(p);
		if (rc == BODYSTREAM_WAIT)
			return;
		if (rc == BODYSTREAM_GONE || rc == 0) {
			if (rc == 0 && p->state == MP_AFTER &&
			    evbuffer_get_length(p->in) >= 2)
				continue;
			uploadpage_refuse(p, 400, "Biểu mẫu bị ngắt giữa chừng.",
			    "The form ended too early.");
			return;
		}
	}
}

/* The body has more: the form's parser or the upload goes on. */
static void
uploadpage_post_ready(void *arg)
{
	struct uploadpage_post *p = arg;

	if (p->upload != NULL)
		upload_input_ready(p->upload);
	else
		uploadpage_post_pump(p);
}

/* The boundary of a multipart/form-data Content-Type into p: 0, or -1. */
static int
uploadpage_boundary(struct uploadpage_post *p, const char *ctype)
{
	char *b;
	size_t len;

	if (ctype == NULL || strncasecmp(ctype, "multipart/form-data", 19) != 0 ||
	    (b = uploadpage_param(ctype, "boundary")) == NULL)
		return -1;
	len = strlen(b);
	if (len == 0 || len > UPLOADPAGE_BOUNDARY_MAX) {
		free(b);
		return -1;
	}
	snprintf(p->delim, sizeof p->delim, "\r\n--%s", b);
	p->dlen = len + 4;
	free(b);
	return 0;
}

/* POST /uploads. */
static void
uploadpage_post(struct request *r)
{
	struct uploadpage_post *p;
	const char *ctype;
	char lim[32];

	p = xcalloc(1, sizeof *p);
	p->r = r;
	p->lang = form_lang(r, NULL);
	p->body = r->body;
	p->in = evbuffer_new();
	/* The first boundary has no CRLF before it: give it one. */
	evbuffer_add(p->in, "\r\n", 2);
	ctype = evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    "Content-Type");
	if (uploadpage_boundary(p, ctype) != 0) {
		uploadpage_refuse(p, 415, "Biểu mẫu phải gửi dạng "
		    "multipart/form-data (nút Tải lên của trang).", "The form "
		    "must be sent as multipart/form-data (the page's Upload "
		    "button).");
		return;
	}
	if (p->body != NULL && bodystream_length(p->body) >
	    (uint64_t)r->sd->config->upload_max) {
		char vi[160], en[160];

		if (r->sd->config->upload_max >= 1048576)
			snprintf(lim, sizeof lim, "%ld MiB",
			    r->sd->config->upload_max / 1048576);
		else
			snprintf(lim, sizeof lim, "%ld KiB",
			    r->sd->config->upload_max / 1024);
		snprintf(vi, sizeof vi, "Tệp quá lớn: tối đa %s. Hãy chia tệp "
		    "thành nhiều phần rồi tải lên từng phần.", lim);
		snprintf(en, sizeof en, "The file is too large: at most %s. "
		    "Split it and upload the parts one by one.", lim);
		uploadpage_refuse(p, 413, vi, en);
		return;
	}
	if (p->body != NULL)
		bodystream_start(p->body, uploadpage_post_ready, p);
	uploadpage_post_pump(p);
}

/* GET and POST /uploads. */
void
uploadpage_handle(struct request *r)
{
	if (strcmp(r->method, "POST") == 0)
		uploadpage_post(r);
	else
		uploadpage_get(r);
}

/* --- GET /uploads/rejected --- */

void
uploadpage_rejected_handle(struct request *r)
{
	struct form_fields *q;
	const char *id, *lang = form_lang(r, NULL);
	struct uploadpage_kept *k = NULL;
	size_t i;

	q = r->query != NULL ? form_fields_parse(r->query, strlen(r->query)) :
	    NULL;
	id = q != NULL ? form_fields_get(q, "id") : NULL;
	uploadpage_kept_sweep(0);
	for (i = 0; id != NULL && i < uploadpage_nkept; i++) {
		if (hmac_equal(uploadpage_kept[i]->id, id) &&
		    r->csrf != NULL &&
		    hmac_equal(uploadpage_kept[i]->owner, r->csrf))
			k = uploadpage_kept[i];
	}
	form_fields_free(q);
	if (k == NULL) {
		uploadpage_message(r, 404, lang, UTR(lang, "Không còn tệp các "
		    "dòng bị từ chối này (tệp được giữ một giờ, cho phiên đăng "
		    "nhập đã tải lên); hãy tải tệp lên lại để có danh sách mới.",
		    "This file of rejected rows is gone (it is kept for an hour, "
		    "for the session that uploaded); upload the file again for a "
		    "new list."));
		return;
	}
	http_attachment(r, k->name);
	http_reply(r, 200, "text/csv; charset=utf-8", k->csv, k->len);
}

/* --- GET /uploads/template --- */

/* Order of units: by code. */
static int
uploadpage_unit_cmp(const void *a, const void *b)
{
	const struct template_unit *x = a, *y = b;

	return strcmp(x->code, y->code);
}

/* The units of the caller's scope (all when unscoped) by code, borrowed from the cache. */
static struct template_unit *
uploadpage_units(const struct request *r, size_t *n)
{
	const struct cache *c = r->sd->cache;
	const struct cache_unit *u;
	struct template_unit *units;
	size_t i, count = cache_unit_count(c);

	units = xcalloc(count + 1, sizeof *units);
	*n = 0;
	for (i = 0; i < count; i++) {
		u = cache_unit_nth(c, i);
		if (r->scope != NULL && !cache_unit_within(c, u->code, r->scope))
			continue;
		units[*n].code = u->code;
		units[(*n)++].name = u->name;
	}
	if (*n > 1)
		qsort(units, *n, sizeof *units, uploadpage_unit_cmp);
	return units;
}

/* The XLSX template of s into body: 0, or -1 (logged). */
static int
uploadpage_xlsx(struct request *r, const struct survey *s,
    struct evbuffer *body)
{
	struct template_unit *units;
	const char *tmpdir = getenv("TMPDIR");
	char *path, *cause = NULL;
	size_t n;
	int fd, rc = -1;

	xasprintf(&path, "%s/sipasd-template-XXXXXX", tmpdir != NULL &&
	    *tmpdir != '\0' ? tmpdir : "/tmp");
	if ((fd = mkstemp(path)) < 0) {
		log_msg(LOG_LEVEL_WARN, r->id, "template: %s: %s", path,
		    strerror(errno));
		free(path);
		return -1;
	}
	close(fd);
	units = uploadpage_units(r, &n);
	if (template_write_xlsx(path, s, units, n, &cause) != 0)
		log_msg(LOG_LEVEL_WARN, r->id, "template: %s", cause);
	else if ((fd = open(path, O_RDONLY)) < 0)
		log_msg(LOG_LEVEL_WARN, r->id, "template: %s: %s", path,
		    strerror(errno));
	else {
		while (evbuffer_read(body, fd, 65536) > 0)
			;
		close(fd);
		rc = 0;
	}
	unlink(path);
	free(units);
	free(path);
	free(cause);
	return rc;
}

void
uploadpage_template_handle(struct request *r)
{
	struct form_fields *q;
	const char *code, *format;
	const struct survey *s;
	struct evbuffer *body;
	struct csvout out;
	char *name;

	q = r->query != NULL ? form_fields_parse(r->query, strlen(r->query)) :
	    NULL;
	code = q != NULL ? form_fields_get(q, "survey") : NULL;
	format = q != NULL ? form_fields_get(q, "format") : NULL;
	if (format == NULL || *format == '\0')
		format = "xlsx";
	if (code == NULL || *code == '\0') {
		http_reply_error(r, 400, "missing", "survey",
		    "survey=CODE is required");
		goto out;
	}
	if (strcmp(format, "xlsx") != 0 && strcmp(format, "csv") != 0) {
		http_reply_error(r, 422, "invalid", "format",
		    "format must be xlsx or csv");
		goto out;
	}
	if (r->sd->cache == NULL) {
		http_reply_unavailable(r, "the database is not available");
		goto out;
	}
	if ((s = cache_survey_get(r->sd->cache, code)) == NULL) {
		http_reply_error(r, 422, "unknown_survey", "survey",
		    "unknown survey");
		goto out;
	}
	xasprintf(&name, "%s-template.%s", s->code, format);
	if (strcmp(format, "csv") == 0) {
		csvout_init(&out, "\r\n");
		template_csv(&out, s);
		http_attachment(r, name);
		http_reply(r, 200, "text/csv; charset=utf-8", out.data, out.len);
		csvout_free(&out);
		free(name);
		goto out;
	}
	body = evbuffer_new();
	if (uploadpage_xlsx(r, s, body) != 0)
		http_reply_error(r, 500, "internal", NULL,
		    "cannot write the template");
	else {
		http_attachment(r, name);
		http_reply(r, 200, "application/vnd.openxmlformats-"
		    "officedocument.spreadsheetml.sheet",
		    (const char *)evbuffer_pullup(body, -1),
		    evbuffer_get_length(body));
	}
	evbuffer_free(body);
	free(name);
out:
	form_fields_free(q);
}
