/*
 * upload.h: POST /api/v1/uploads?survey=CODE (daemon/channels/upload.c): a responses
 * CSV (docs/interfaces.md) checked row by row and stored through the
 * ingest queue (ingest_submit_response), answered with totals and the
 * rejected rows.
 * docs/uploads.md describes the answer.
 */
#ifndef SIPAS_UPLOAD_H
#define SIPAS_UPLOAD_H

#include <sys/types.h>

struct request;
struct survey;
struct json_t;

/* Most problems listed in an answer; the rest are counted. */
#define UPLOAD_PROBLEMS_MAX 1000
/* A progress line in the log every this many rows. */
#define UPLOAD_PROGRESS_ROWS 10000

/* Most rejected rows kept for the rejected-rows CSV, and their bytes. */
#define UPLOAD_REJECTS_MAX 1000
#define UPLOAD_REJECTS_BYTES (1024 * 1024)

/* POST /api/v1/uploads, after authentication (roles uploader, admin). */
void upload_handle(struct request *);

/* A rejected row as it was sent (its fields as one CSV line, no end). */
struct upload_reject {
	long row;
	char *line;
	char *column; /* the first bad field's column, or NULL */
	int colno;    /* its 1-based number, 0 when not one column */
	char *reason; /* the first bad field's reason */
};
/*
 * The outcome of upload_run: the HTTP status POST /api/v1/uploads would
 * answer, its JSON report, and (when asked for) the header line and the
 * rejected rows in row order: at most UPLOAD_REJECTS_MAX rows or
 * UPLOAD_REJECTS_BYTES bytes, the rest counted in rejects_omitted.
 * upload_result_free frees it.
 */
struct upload_result {
	int status;
	struct json_t *report;
	char *header;	  /* the header's names as a CSV line, or NULL */
	struct upload_reject *rejects;
	size_t nrejects;
	long rejects_omitted;
};
void upload_result_free(struct upload_result *);
/* Up to n bytes of the CSV: > 0, 0 at its end, BODYSTREAM_WAIT (call
 * upload_input_ready when more came) or BODYSTREAM_GONE. */
typedef ssize_t (*upload_read_cb)(void *arg, char *buf, size_t n);
/* The upload is done; r is still to be answered by the callee. */
typedef void (*upload_done_cb)(struct request *, struct upload_result *,
    void *arg);
struct upload;
/*
 * Check and store a responses CSV of survey s (from r->sd's cache) read
 * through read, with the request's scope and audit actor, as POST
 * /api/v1/uploads does; done is called once at the end, after the audit row.
 * keep_rejects: collect the rejected rows. Returns the upload, valid until
 * done is called; upload_input_ready starts it (done may be called before
 * that returns).
 */
struct upload *upload_run(struct request *r, const struct survey *s,
    upload_read_cb read, void *read_arg, int keep_rejects,
    upload_done_cb done, void *done_arg);
/* Start an upload, or go on after its read said BODYSTREAM_WAIT. */
void upload_input_ready(struct upload *);

#endif
