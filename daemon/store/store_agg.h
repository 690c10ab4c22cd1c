/*
 * store_agg.h: the SQL of the incremental aggregates in sipasd
 * (sql/0004_aggregates.sql): the indices' fetch of states and raw rows, and
 * the steps of one fold. Like store.c, owns statements and conversions only.
 */
#ifndef SIPAS_STORE_AGG_H
#define SIPAS_STORE_AGG_H

#include <stddef.h>

#include "daemon/store/store.h"

struct db;

/* A stored state ('S') or a response to add ('R'). */
struct store_agg_row {
	char kind;
	const char *unit;
	const char *child;    /* the direct child of the selected unit it is under, or NULL */
	const char *at_level; /* its ancestor-or-self of the asked level, or NULL */
	const char *month;    /* 'S' (and fold rows): YYYY-MM-01 */
	const char *channel;
	double weight;	      /* 'R' */
	const char *stratum;
	const char *psu;
	const char *answers;  /* 'R': JSON object text */
	const void *state;    /* 'S': the state's bytes */
	size_t state_len;
	long long id;	      /* an export row's id; else -1 */
	const char *ids;      /* 'K': the held responses, "id,id,..." */
};
typedef void (*store_agg_row_cb)(const struct store_agg_row *, void *arg);

/* Pairs of a respondent filter at most (respondent.FIELD=VALUE). */
#define STORE_AGG_FILTER_MAX 3
/* Longest FIELD and VALUE of a respondent filter, in bytes. */
#define STORE_AGG_FILTER_KEY_MAX 40
#define STORE_AGG_FILTER_VALUE_MAX 100

/*
 * A respondent (demographic) filter: responses whose respondent ->> key[i]
 * equals value[i] for every i < n. The strings are borrowed.
 */
struct store_agg_filter {
	int n;
	const char *key[STORE_AGG_FILTER_MAX];
	const char *value[STORE_AGG_FILTER_MAX];
};

/*
 * Add key = value to f (borrowed). -1 with *why (static) when the key is not
 * ^[a-z0-9_]{1,40}$, the value is empty, longer than 100 bytes or not UTF-8,
 * the key is given twice, or f is full.
 */
int store_agg_filter_add(struct store_agg_filter *f, const char *key,
    const char *value, const char **why);

/*
 * What the indices of survey for unit's subtree from..to (YYYY-MM-DD, NULL
 * open; Vietnam days) need, in one snapshot: the states of the whole months
 * in the range and the raw responses of the days outside whole months plus
 * those not yet folded. channel (or NULL) filters; level fills at_level.
 * With a respondent filter (f non-NULL, f->n > 0) the states cannot be used:
 * only the raw responses of from..to matching f are read.
 */
void store_agg_fetch(struct db *, const char *survey, const char *unit,
    const char *from, const char *to, const char *level, const char *channel,
    const struct store_agg_filter *f, store_agg_row_cb, store_done_cb,
    void *arg);

/*
 * What a report's periods need (include/sipas/sql_agg.h): the parameters
 * of SQL_AGG_REPORT, or with raw ranges lo and hi (non-NULL) of
 * SQL_AGG_REPORT_RAW, as report_run_ranges writes them; copied. Each row
 * is a state ('S': child, month, state) or a response ('R': child, weight,
 * stratum, psu, answers, and its Vietnam day in month).
 */
void store_agg_report_fetch(struct db *, const char *survey, const char *unit,
    const char *months, const char *t0, const char *t1, const char *lo,
    const char *hi, store_agg_row_cb, store_done_cb, void *arg);

/* Fold steps, on a connection used for nothing else (the transaction spans jobs). */
void store_agg_begin(struct db *, const char *survey, store_done_cb, void *arg);
/*
 * SQL_AGG_TAKE_KNOWN: known holds the array literals (include/sipas/pgarray.h)
 * of the ids, units, months and channels of the responses the folder holds
 * in memory ("{}" each for none).
 */
void store_agg_take(struct db *, const char *survey, long limit,
    const char *const known[4], store_agg_row_cb, store_done_cb, void *arg);
struct store_agg_write;
/*
 * The write of a fold's states, and cb (with arg) once it is committed or
 * failed. Building it (create, add, analyze, discard) needs no connection,
 * so it may run on another thread than the loop's.
 */
struct store_agg_write *store_agg_write_create(const char *survey,
    store_done_cb cb, void *arg);
/* A new state for a key, or (state NULL) a stale key whose month is queued again. */
void store_agg_write_add(struct store_agg_write *, const char *unit,
    const char *month, const char *channel, long rows, const void *state,
    size_t len);
/* Also refresh the planner's statistics of agg_pending (after a large fold). */
void store_agg_write_analyze(struct store_agg_write *);
/* Write everything added and COMMIT; frees w. */
void store_agg_write_commit(struct db *, struct store_agg_write *);
/* Free w without writing anything. */
void store_agg_write_discard(struct store_agg_write *);
void store_agg_rollback(struct db *, store_done_cb, void *arg);

#endif
