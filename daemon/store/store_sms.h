/*
 * store_sms.h: the SMS channel's statements (sql/0002_sms.sql): the raw
 * message log, the dialogues and the one-response-per-period claims. Part of
 * the store module: the SQL text lives in daemon/store/store_sms.c only, and
 * nothing here hands out a PGresult. Strings given to a callback are
 * borrowed for the duration of the call.
 */
#ifndef SIPAS_STORE_SMS_H
#define SIPAS_STORE_SMS_H

#include <stdint.h>

#include "sipas/sms.h"
#include "daemon/store/store.h"

struct db;

/* An incoming message as the gateway gave it (text is valid UTF-8). */
struct store_sms_message {
	const char *gateway;	 /* kannel, twilio, external */
	const char *external_id; /* the gateway's id, or NULL: no idempotency */
	const char *sender_hash;
	const char *sender_masked;
	const char *recipient; /* or NULL */
	const char *text;
	int64_t sent_at;       /* Unix seconds, or 0: unknown */
};

/* What store_sms_begin found. */
struct store_sms_begin {
	long long id;	    /* the message's row */
	int is_new;	    /* 1: first time; 0: the gateway sent it before */
	const char *outcome; /* an earlier attempt's (is_new 0) */
	const char *reply;  /* an earlier attempt's reply, or NULL */
	int has_dialogue;   /* the sender has a dialogue row */
	int dialogue_expired;
	const char *dialogue_survey;
	const char *dialogue_unit;
	int dialogue_answers[SMS_ANSWERS_MAX];
	int dialogue_n;
};
/* begin is NULL when the statements failed (sqlstate, message). */
typedef void (*store_sms_begin_cb)(const struct store_sms_begin *,
    const char *sqlstate, const char *message, void *arg);
/*
 * Log the message unless (gateway, external id) is already there, and read
 * the sender's dialogue, in one round trip.
 */
void store_sms_begin(struct db *, const struct store_sms_message *,
    store_sms_begin_cb, void *arg);

/* The message that holds the period's claim (0: none); -1 on failure. */
typedef void (*store_sms_quota_cb)(long long owner, const char *sqlstate,
    const char *message, void *arg);
/*
 * The one-response claim of (sender, survey, unit, period): with claim, take
 * it for message_id unless another message holds it; without, only look.
 */
void store_sms_quota(struct db *, int claim, const char *sender_hash,
    const char *survey, const char *unit, const char *period,
    long long message_id, store_sms_quota_cb, void *arg);
/* Give up message_id's claims (its response could not be stored). */
void store_sms_quota_release(struct db *, long long message_id,
    store_done_cb, void *arg);

enum store_sms_dialogue_op {
	STORE_SMS_DIALOGUE_KEEP,
	STORE_SMS_DIALOGUE_SAVE,   /* insert or replace with survey/unit/answers */
	STORE_SMS_DIALOGUE_DELETE,
};
/* The end of a message's handling, written in one transaction. */
struct store_sms_finish {
	long long id;
	const char *outcome;
	const char *survey;    /* or NULL */
	const char *unit;      /* or NULL */
	const char *comment;   /* or NULL */
	const char *reply;     /* or NULL: not answered (a retry handles it again) */
	const char *source_id; /* the response's source id (links response_id), or NULL */
	enum store_sms_dialogue_op dialogue;
	const char *sender_hash;
	const int *answers;    /* SAVE: the answers so far */
	int nanswers;
	long ttl;	       /* SAVE: seconds until it expires */
};
void store_sms_finish(struct db *, const struct store_sms_finish *,
    store_done_cb, void *arg);

#endif
