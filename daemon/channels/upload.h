/*
 * upload.h: POST /api/v1/uploads?survey=CODE (daemon/channels/upload.c): a responses
 * CSV (docs/interfaces.md) checked row by row and stored through the
 * ingest queue (ingest_submit), answered with totals and the rejected rows.
 * docs/uploads.md describes the answer.
 */
#ifndef SIPAS_UPLOAD_H
#define SIPAS_UPLOAD_H

struct request;

/* Most problems listed in an answer; the rest are counted. */
#define UPLOAD_PROBLEMS_MAX 1000
/* A progress line in the log every this many rows. */
#define UPLOAD_PROGRESS_ROWS 10000

/* POST /api/v1/uploads, after authentication (roles uploader, admin). */
void upload_handle(struct request *);

#endif
