/*
 * response.h: the one validated response type every channel produces (web
 * form, API JSON, SMS, CSV upload) and the store and analysis consume.
 */
#ifndef SIPAS_RESPONSE_H
#define SIPAS_RESPONSE_H

#include <stdint.h>

#include "sipas/survey.h"

enum channel {
	CHANNEL_PAPER,
	CHANNEL_WEB,
	CHANNEL_SMS,
	CHANNEL_KIOSK,
};

struct response {
	char *id;	/* the source's id, or NULL */
	char *unit;
	int64_t submitted_at; /* Unix seconds, UTC; 0 when not given */
	int tz_minutes;	      /* offset the time was given in */
	int has_time;
	enum channel channel;
	double weight;
	char *stratum; /* or NULL */
	char *psu;     /* or NULL */
	int *answers;  /* survey->nitems, ANSWER_NONE for no answer */
	int nanswers;
	char **resp_keys; /* respondent.<field> demographics */
	char **resp_values;
	int nresp;
};

const char *channel_name(enum channel);
/* Channel by name; -1 if unknown. */
int channel_parse(const char *);

/* ISO 8601: a date (midnight, +07:00) or date-time with Z or an offset. */
int time_parse_iso8601(const char *, int64_t *utc, int *tz_minutes);
/* Format as 2025-04-23T13:59:00+07:00 into buf (at least 32 bytes). */
void time_format_iso8601(int64_t utc, int tz_minutes, char *buf);

/* Parse an answer cell for item: 0 and *v, or -1 with *cause (not on the scale). */
int response_answer_parse(const struct item *, const char *text, int *v, char **cause);
/* Parse a weight: finite and > 0. */
int response_weight_parse(const char *text, double *w, char **cause);

struct response *response_create(const struct survey *);
void response_free(struct response *);
void response_clear(struct response *);

#endif
