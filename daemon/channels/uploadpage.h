/*
 * uploadpage.h: the survey teams' upload page (daemon/channels/uploadpage.c):
 * GET /uploads (the form and the team's recent uploads), POST /uploads (a
 * multipart/form-data form whose file part goes through the same upload
 * path as POST /api/v1/uploads, answered with a result page),
 * GET /uploads/rejected (the rejected rows of an upload as a CSV) and
 * GET /uploads/template (the survey's sheet to fill). docs/uploads.md
 * describes them.
 */
#ifndef SIPAS_UPLOADPAGE_H
#define SIPAS_UPLOADPAGE_H

struct request;

/* Uploads listed on the page. */
#define UPLOADPAGE_RECENT 20
/* Rejected-rows files kept for download: how many, their bytes in all,
 * and for how long (seconds). The oldest go first. */
#define UPLOADPAGE_KEPT_MAX 64
#define UPLOADPAGE_KEPT_BYTES (32 * 1024 * 1024)
#define UPLOADPAGE_KEPT_TTL 3600

/* GET and POST /uploads, after the session check (r->role, r->scope, r->csrf). */
void uploadpage_handle(struct request *);
/* GET /uploads/rejected?id=ID: the rejected rows of this session's upload. */
void uploadpage_rejected_handle(struct request *);
/* GET /uploads/template?survey=CODE&format=xlsx|csv (session or token). */
void uploadpage_template_handle(struct request *);

#endif
