/*
 * store_agg.h: the SQL of the incremental aggregates in sipasd
 * (sql/0004_aggregates.sql): the indices' fetch of states and raw rows, and
 * the steps of one fold. Like store.c, owns statements and conversions only.
 */
#ifndef SIPAS_STORE_AGG_H
#define SIPAS_STORE_AGG_H

#include <stddef.h>

#include "sipas/store.h"

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
};
typedef void (*store_agg_row_cb)(const struct store_agg_row *, void *arg);

/*
 * What the indices of survey for unit's subtree from..to (YYYY-MM-DD, NULL
 * open; Vietnam days) need, in one snapshot: the states of the whole months
 * in the range and the raw responses of the days outside whole months plus
 * those not yet folded. channel (or NULL) filters; level fills at_level.
 */
void store_agg_fetch(struct db *, const char *survey, const char *unit,
    const char *from, const char *to, const char *level, const char *channel,
    store_agg_row_cb, store_done_cb, void *arg);

/* Fold steps, on a connection used for nothing else (the transaction spans jobs). */
void store_agg_begin(struct db *, const char *survey, store_done_cb, void *arg);
void store_agg_take(struct db *, const char *survey, long limit,
    store_agg_row_cb, store_done_cb, void *arg);
struct store_agg_write;
struct store_agg_write *store_agg_write_create(const char *survey);
/* A new state for a key, or (state NULL) a stale key whose month is queued again. */
void store_agg_write_add(struct store_agg_write *, const char *unit,
    const char *month, const char *channel, long rows, const void *state,
    size_t len);
/* Also refresh the planner's statistics of agg_pending (after a large fold). */
void store_agg_write_analyze(struct store_agg_write *);
/* Write everything added and COMMIT; frees w. */
void store_agg_write_commit(struct db *, struct store_agg_write *,
    store_done_cb, void *arg);
void store_agg_rollback(struct db *, store_done_cb, void *arg);

#endif
