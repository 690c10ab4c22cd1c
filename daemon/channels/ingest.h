/*
 * ingest.h: POST /api/v1/responses, the queue and the batches (ingest.c),
 * and the entry point of every other channel's responses
 * (ingest_submit_response).
 */
#ifndef SIPAS_INGEST_H
#define SIPAS_INGEST_H

#include <stddef.h>

#include "daemon/request.h"

struct ingest;
struct sipasd;

struct ingest *ingest_create(struct sipasd *);
void ingest_free(struct ingest *);
void ingest_handle(struct request *);
/* 1 when nothing is queued or committing. */
int ingest_idle(const struct ingest *);
/* Responses waiting for a batch (metrics.c). */
long ingest_queued(const struct ingest *);
/* The database went away: queued responses are spooled (202) or get 503. */
void ingest_fail_queued(struct ingest *, const char *why);
/* The drain deadline: the queue and the batch out are spooled or get 503. */
void ingest_abandon(struct ingest *, const char *why);
/* Try to start a batch. */
void ingest_kick(struct ingest *);
/*
 * A response from another channel module (the upload, the web form, the
 * kiosk, SMS), built by the channel itself: checked by the same rules as
 * the JSON of POST /api/v1/responses (unit known and in the token's scope,
 * fields, answers on their scales, response_validate) and stored the same
 * way, but done is called exactly once (after COMMIT for 201/200/409, or at
 * once for 4xx/503) instead of a JSON reply, and done must reply to the
 * request. The message is in English. resp belongs to the queue from the
 * call on. The id may carry a channel's own prefix (sms-, web-, kiosk-):
 * callers make their ids themselves, or (the upload) have refused such ids
 * already.
 */
struct response;
struct survey;
typedef void (*ingest_done_cb)(struct request *, int status,
    const char *field, const char *message, void *arg);
void ingest_submit_response(struct request *, const struct survey *,
    struct response *resp, ingest_done_cb done, void *arg);

#endif
