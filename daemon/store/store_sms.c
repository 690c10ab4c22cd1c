/*
 * store_sms.c: the SQL of the SMS channel (store_sms.h), always sent with
 * parameters. Part of the store module, kept in its own file so that the SMS
 * statements stay together.
 *
 * Must not decide replies or HTTP statuses, nor keep a PGresult past a db
 * callback.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "daemon/store/db.h"
#include "daemon/store/store_sms.h"
#include "sipas/util.h"

/* --- begin: log the message, read the dialogue --- */

/*
 * Insert the message unless the gateway sent this id before; either way
 * return its row. A row another transaction is inserting right now is not
 * seen: no row comes back, and the caller answers "busy".
 */
static const char store_sms_insert_sql[] =
    "WITH ins AS ("
    " INSERT INTO sms_messages (gateway, external_id, sender_hash,"
    "  sender_masked, recipient, text, sent_at)"
    " VALUES ($1, $2, $3, $4, $5, $6,"
    "  CASE WHEN $7::bigint > 0 THEN to_timestamp($7::double precision) END)"
    " ON CONFLICT (gateway, external_id) DO NOTHING RETURNING id)"
    " SELECT id, true, NULL, NULL FROM ins"
    " UNION ALL"
    " SELECT m.id, false, m.outcome, m.reply FROM sms_messages m"
    " WHERE $2::text IS NOT NULL AND m.gateway = $1 AND m.external_id = $2"
    "  AND NOT EXISTS (SELECT 1 FROM ins)";

static const char store_sms_dialogue_sql[] =
    "SELECT survey, unit, array_to_string(answers, ','), expires_at <= now()"
    " FROM sms_dialogues WHERE sender_hash = $1";

struct store_sms_begin_ctx {
	store_sms_begin_cb cb;
	void *arg;
	struct store_sms_begin b;
	int found;
	char *outcome;
	char *reply;
	char *survey;
	char *unit;
};

/* The message row (statement 0) or the dialogue (statement 1). */
static void
store_sms_begin_result(const PGresult *res, int stmt, void *arg)
{
	struct store_sms_begin_ctx *ctx = arg;
	const char *p;
	char *end;
	long v;

	if (PQntuples(res) != 1)
		return;
	if (stmt == 0) {
		ctx->found = 1;
		ctx->b.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		ctx->b.is_new = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		if (!PQgetisnull(res, 0, 2))
			ctx->outcome = xstrdup(PQgetvalue(res, 0, 2));
		if (!PQgetisnull(res, 0, 3))
			ctx->reply = xstrdup(PQgetvalue(res, 0, 3));
		return;
	}
	ctx->b.has_dialogue = 1;
	ctx->survey = xstrdup(PQgetvalue(res, 0, 0));
	ctx->unit = xstrdup(PQgetvalue(res, 0, 1));
	ctx->b.dialogue_expired = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	for (p = PQgetvalue(res, 0, 2); *p != '\0' &&
	    ctx->b.dialogue_n < SMS_ANSWERS_MAX; p = end) {
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		ctx->b.dialogue_answers[ctx->b.dialogue_n++] = (int)v;
		if (*end == ',')
			end++;
	}
}

/* Report the message row and the dialogue. */
static void
store_sms_begin_done(int ok, const char *sqlstate, const char *message,
    void *arg)
{
	struct store_sms_begin_ctx *ctx = arg;

	if (!ok)
		ctx->cb(NULL, sqlstate, message, ctx->arg);
	else if (!ctx->found)
		ctx->cb(NULL, "55000", "the message is being handled", ctx->arg);
	else {
		ctx->b.outcome = ctx->outcome;
		ctx->b.reply = ctx->reply;
		ctx->b.dialogue_survey = ctx->survey;
		ctx->b.dialogue_unit = ctx->unit;
		ctx->cb(&ctx->b, NULL, NULL, ctx->arg);
	}
	free(ctx->outcome);
	free(ctx->reply);
	free(ctx->survey);
	free(ctx->unit);
	free(ctx);
}

/* Log a message and read its sender's dialogue. */
void
store_sms_begin(struct db *db, const struct store_sms_message *m,
    store_sms_begin_cb cb, void *arg)
{
	struct store_sms_begin_ctx *ctx = xcalloc(1, sizeof *ctx);
	struct db_job *job;
	char sent[32];
	const char *params[7];

	ctx->cb = cb;
	ctx->arg = arg;
	snprintf(sent, sizeof sent, "%" PRId64, m->sent_at);
	params[0] = m->gateway;
	params[1] = m->external_id;
	params[2] = m->sender_hash;
	params[3] = m->sender_masked;
	params[4] = m->recipient;
	params[5] = m->text;
	params[6] = sent;
	job = db_job_create(1, store_sms_begin_result, store_sms_begin_done, ctx);
	db_job_add(job, store_sms_insert_sql, 7, params);
	db_job_add(job, store_sms_dialogue_sql, 1, params + 2);
	db_submit(db, job);
}

/* --- the one response per period --- */

struct store_sms_quota_ctx {
	store_sms_quota_cb cb;
	void *arg;
	long long owner;
};

/* The owner's message id, if any. */
static void
store_sms_quota_result(const PGresult *res, int stmt, void *arg)
{
	struct store_sms_quota_ctx *ctx = arg;

	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		ctx->owner = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}

/* Report the owner. */
static void
store_sms_quota_done(int ok, const char *sqlstate, const char *message,
    void *arg)
{
	struct store_sms_quota_ctx *ctx = arg;

	ctx->cb(ok ? ctx->owner : -1, sqlstate, message, ctx->arg);
	free(ctx);
}

/* Look at or take the claim of a period. */
void
store_sms_quota(struct db *db, int claim, const char *sender_hash,
    const char *survey, const char *unit, const char *period,
    long long message_id, store_sms_quota_cb cb, void *arg)
{
	struct store_sms_quota_ctx *ctx = xcalloc(1, sizeof *ctx);
	struct db_job *job;
	char id[32];
	const char *params[5] = { sender_hash, survey, unit, period, id };

	ctx->cb = cb;
	ctx->arg = arg;
	snprintf(id, sizeof id, "%lld", message_id);
	job = db_job_create(0, store_sms_quota_result, store_sms_quota_done, ctx);
	if (claim) {
		/* DO UPDATE (to itself) so that an existing claim comes back. */
		db_job_add(job, "INSERT INTO sms_quota (sender_hash, survey, unit,"
		    " period, message_id) VALUES ($1, $2, $3, $4, $5::bigint)"
		    " ON CONFLICT (sender_hash, survey, unit, period) DO UPDATE"
		    " SET message_id = sms_quota.message_id RETURNING message_id",
		    5, params);
	} else
		db_job_add(job, "SELECT message_id FROM sms_quota"
		    " WHERE sender_hash = $1 AND survey = $2 AND unit = $3"
		    " AND period = $4 AND message_id <> $5::bigint", 5, params);
	db_submit(db, job);
}

/* Drop a message's claims. */
void
store_sms_quota_release(struct db *db, long long message_id, store_done_cb cb,
    void *arg)
{
	struct db_job *job;
	char id[32];
	const char *params[1] = { id };

	snprintf(id, sizeof id, "%lld", message_id);
	job = db_job_create(0, NULL, cb, arg);
	db_job_add(job, "DELETE FROM sms_quota WHERE message_id = $1::bigint", 1,
	    params);
	db_submit(db, job);
}

/* --- finish: the dialogue and the message's outcome, together --- */

/* Write the end of a message's handling in one transaction. */
void
store_sms_finish(struct db *db, const struct store_sms_finish *f,
    store_done_cb cb, void *arg)
{
	struct db_job *job;
	char id[32], ttl[32], answers[SMS_ANSWERS_MAX * 12 + 3];
	const char *params[8];
	size_t len;
	int i;

	snprintf(id, sizeof id, "%lld", f->id);
	job = db_job_create(1, NULL, cb, arg);
	db_job_add(job, "BEGIN", 0, NULL);
	if (f->dialogue == STORE_SMS_DIALOGUE_SAVE) {
		len = (size_t)snprintf(answers, sizeof answers, "{");
		for (i = 0; i < f->nanswers && i < SMS_ANSWERS_MAX; i++)
			len += (size_t)snprintf(answers + len, sizeof answers - len,
			    "%s%d", i > 0 ? "," : "", f->answers[i]);
		snprintf(answers + len, sizeof answers - len, "}");
		snprintf(ttl, sizeof ttl, "%ld", f->ttl);
		params[0] = f->sender_hash;
		params[1] = f->survey;
		params[2] = f->unit;
		params[3] = answers;
		params[4] = ttl;
		db_job_add(job, "INSERT INTO sms_dialogues (sender_hash, survey,"
		    " unit, answers, expires_at) VALUES ($1, $2, $3,"
		    " $4::integer[], now() + make_interval(secs => $5::bigint))"
		    " ON CONFLICT (sender_hash) DO UPDATE SET"
		    " survey = EXCLUDED.survey, unit = EXCLUDED.unit,"
		    " answers = EXCLUDED.answers, updated_at = now(),"
		    " expires_at = EXCLUDED.expires_at,"
		    " started_at = CASE WHEN cardinality(EXCLUDED.answers) = 0"
		    "  THEN now() ELSE sms_dialogues.started_at END", 5, params);
	} else if (f->dialogue == STORE_SMS_DIALOGUE_DELETE) {
		params[0] = f->sender_hash;
		db_job_add(job, "DELETE FROM sms_dialogues WHERE sender_hash = $1",
		    1, params);
	}
	params[0] = id;
	params[1] = f->outcome;
	params[2] = f->survey;
	params[3] = f->unit;
	params[4] = f->comment;
	params[5] = f->reply;
	params[6] = f->source_id;
	db_job_add(job, "UPDATE sms_messages SET outcome = $2, survey = $3,"
	    " unit = $4, comment = $5, reply = $6,"
	    " replied_at = CASE WHEN $6::text IS NOT NULL THEN now() END,"
	    " response_id = (SELECT r.id FROM responses r"
	    "  WHERE $7::text IS NOT NULL AND r.survey = $3 AND r.source_id = $7)"
	    " WHERE id = $1::bigint", 7, params);
	db_job_add(job, "COMMIT", 0, NULL);
	db_submit(db, job);
}
