/*
 * response.h: the one validated response type every channel produces (web
 * form, API JSON, SMS, CSV upload) and the store and analysis consume, with
 * the parsers of its fields (channel, ISO 8601 time, answer, weight).
 *
 * A response owns every string and array it points to; response_free frees
 * them. Answers are indexed like survey->items; ANSWER_NONE (survey.h) is
 * "no answer", never 0.
 */
#ifndef SIPAS_RESPONSE_H
#define SIPAS_RESPONSE_H

#include <stdint.h>

#include "sipas/survey.h"
#include "sipas/token.h"

/* The offset assumed when a time has none: Vietnam, +07:00. */
#define RESPONSE_TZ_DEFAULT (7 * 60)

enum channel {
	CHANNEL_PAPER,
	CHANNEL_WEB,
	CHANNEL_SMS,
	CHANNEL_KIOSK,
};

struct response {
	char *id;	      /* the source's id, or NULL */
	char *unit;	      /* unit code, never NULL once validated */
	int64_t submitted_at; /* Unix seconds, UTC; 0 when not given */
	int tz_minutes;	      /* offset the time was given in (east of UTC) */
	int has_time;	      /* 1 when submitted_at was given */
	enum channel channel; /* CHANNEL_PAPER by default */
	double weight;	      /* > 0, 1 by default */
	char *stratum;	      /* or NULL */
	char *psu;	      /* or NULL */
	int *answers;	      /* survey->nitems, ANSWER_NONE for no answer */
	int nanswers;
	char **resp_keys;     /* respondent.<field> demographics: field names */
	char **resp_values;   /* and their values */
	unsigned char *resp_json; /* 1: the value is JSON text (a number,
				     true, false or null), 0: a string */
	int nresp;
	int resp_alloc;	      /* slots allocated in resp_keys/resp_values */
	int resp_object;      /* 1: respondent was given, maybe as {} */
};

/*
 * Limits every channel enforces (response_validate). Unit codes and ids are
 * short and printable; weights are bounded so that one response cannot
 * outweigh a unit's others; respondent fields come from a fixed list so that
 * an export has a known set of columns.
 */
#define RESPONSE_UNIT_MAX 64	      /* unit code: letters, digits, - _ . */
#define RESPONSE_ID_MAX 64	      /* source id: printable ASCII */
#define RESPONSE_WEIGHT_MAX 1000      /* default weight_max */
#define RESPONSE_FUTURE_MAX 86400     /* seconds submitted_at may lie ahead */
#define RESPONSE_RESPONDENT_MAX 16    /* respondent fields of one response */
#define RESPONSE_RESPONDENT_VALUE_MAX 200 /* characters of a demographic */
#define RESPONSE_COMMENT_MAX 1000     /* bytes of respondent.comment */

/* What response_validate allows beyond the fixed limits. */
struct response_rules {
	double weight_max;  /* largest weight (weight_max of sipasd.conf) */
	int64_t now;	    /* the clock, Unix seconds; 0 = time(NULL) */
	int channel_ids;    /* 1: ids of the channels' own prefixes are allowed */
};

/* The rules with their defaults: RESPONSE_WEIGHT_MAX, the clock, no channel ids. */
void response_rules_default(struct response_rules *);
/*
 * Check a parsed response against every rule: unit code, id, weight, time,
 * at least one answer, respondent fields. 0, or -1 with *field (the name of
 * the field, "respondent.gender" for a demographic) and *cause, both owned.
 */
int response_validate(const struct response *, const struct response_rules *,
    char **field, char **cause);
/* A unit code of letters, digits, -, _ and . (at most 64): 0, or -1 with *cause. */
int response_unit_check(const char *code, char **cause);
/* A source id (see response_validate): 0, or -1 with *cause. */
int response_id_check(const char *id, int channel_ids, char **cause);
/* One respondent field and its value (length in bytes): 0, or -1 with *cause. */
int response_respondent_check(const char *key, const char *value, size_t len,
    char **cause);
/* A copy of s for a message: at most 40 characters, then "...". */
char *response_quote_dup(const char *s);

/* The channel's name: paper, web, sms, kiosk. */
const char *channel_name(enum channel);
/* Channel by name (case-insensitive); -1 if unknown. */
int channel_parse(const char *);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t time_day_number(int64_t y, int m, int d);
void time_day_civil(int64_t days, int64_t *y, int *m, int *d);
/*
 * Midnight in Vietnam (+07:00) at the start of a day number, as a
 * timestamptz literal "YYYY-MM-DD 00:00:00+07" into out (at least 32 bytes).
 */
void time_midnight_vn(int64_t days, char *out);
/*
 * The days a query may name: the store turns a day's end into the next day's
 * midnight at +07:00, and PostgreSQL reads no five-digit year there.
 */
#define RESPONSE_DATE_MIN "1900-01-01"
#define RESPONSE_DATE_MAX "9999-12-30"
/* 1 if s is a date YYYY-MM-DD that exists, RESPONSE_DATE_MIN..MAX. */
int response_date_valid(const char *s);

/*
 * ISO 8601: a date alone (midnight), or a date-time (T or a space between)
 * with optional seconds and fraction (truncated), then Z, +HH:MM, +HHMM, +HH
 * or nothing; no offset means +07:00. 0, or -1 with *cause.
 */
int time_parse_iso8601(const char *, int64_t *utc, int *tz_minutes, char **cause);
/*
 * A date dd/mm/yyyy (day first, never month first; one or two digits for day
 * and month), optionally with a time HH:MM or HH:MM:SS after a space, in
 * Vietnam time (+07:00). 0, or -1 with *cause naming the format expected.
 */
int time_parse_dmy(const char *, int64_t *utc, int *tz_minutes, char **cause);
/* Format as 2025-04-23T13:59:00+07:00 into buf (at least 32 bytes). */
void time_format_iso8601(int64_t utc, int tz_minutes, char *buf);

/* Parse an answer cell for item: 0 and *v, or -1 with *cause (not on the scale). */
int response_answer_parse(const struct item *, const char *text, int *v, char **cause);
/* Parse a weight: a finite decimal number > 0; 0, or -1 with *cause. */
int response_weight_parse(const char *text, double *w, char **cause);

/* A new empty response for survey: every answer ANSWER_NONE, weight 1. */
/*
 * Decode a stored answers object into answers[survey->nitems] (ANSWER_NONE
 * for no answer; off-scale values and unknown codes are ignored). index maps
 * item codes to index + 1 (response_item_index). 0 or -1.
 */
struct strmap;
struct strmap *response_item_index(const struct survey *);
int response_answers_decode(const struct survey *, const struct strmap *index,
    const char *text, size_t len, int *answers);

struct response *response_create(const struct survey *);
/* Free a response and everything it owns; NULL-safe. */
void response_free(struct response *);
/* Back to the state response_create gave, keeping the allocations. */
void response_clear(struct response *);
/* Add a respondent.<key> demographic (both copied). */
void response_respondent_add(struct response *, const char *key, const char *value);
/*
 * Add a demographic the JSON API gave as a number, true, false or null:
 * value is its JSON text (a string value goes to response_respondent_add).
 * The content hash and the stored respondent object keep it with its type.
 */
void response_respondent_add_json(struct response *, const char *key,
    const char *value);
/* A deep copy of a response of survey. */
struct response *response_copy(const struct response *);

/*
 * What is stored of a response (both owned by the caller): the answers as a
 * JSON object of item code to integer, unanswered items left out, in the
 * survey's order; the respondent as a JSON object in the order given, or
 * NULL when there is none (see resp_object).
 */
char *response_answers_text(const struct response *, const struct survey *);
char *response_respondent_text(const struct response *);
/*
 * The content hash that tells a replay (same id, same content: a duplicate)
 * from a conflict (same id, other content), the same for every channel and
 * for sipasctl import: SHA-256 (hex) of the compact JSON, keys sorted, of
 * survey, unit, channel, t (the instant in Unix seconds, or null when no
 * time was given), answers (item code to integer, answered items only),
 * respondent (the object with each value as typed, or null), weight (a real
 * printed with 17 significant digits), stratum and psu (or null). The id is
 * not part of it. Stored rows keep their hash: this text must never change.
 * This one builds it with Jansson, the reference that test_response and
 * fuzz_json_response compare response_store_texts with.
 */
void response_hash(const struct response *, const struct survey *,
    char out[TOKEN_HASH_LEN + 1]);
/*
 * response_answers_text, response_respondent_text and response_hash at once
 * (what a store row needs), the same bytes written directly: only a
 * respondent goes through Jansson.
 */
void response_store_texts(const struct response *, const struct survey *,
    char **answers_text, char **respondent_text, char out[TOKEN_HASH_LEN + 1]);

#endif
