/*
 * aggfold.h: one fold of the incremental aggregates (sql/0004_aggregates.sql,
 * include/sipas/sql_agg.h), without I/O: the stored states that SQL_AGG_TAKE
 * returned and the pending responses are merged per (unit, month, channel)
 * into new states to write back. Used by sipasd (daemon/store/aggregator.c) and by
 * `sipasctl aggregate`.
 */
#ifndef SIPAS_AGGFOLD_H
#define SIPAS_AGGFOLD_H

#include <stddef.h>

struct survey;
struct aggfold;

/*
 * The channel of a month's roll-up state: every response of the unit and
 * month whatever its channel, kept beside the per-channel states so that a
 * query without a channel filter reads one state per unit and month.
 */
#define AGGFOLD_ALL_CHANNELS "*"

struct aggfold *aggfold_create(const struct survey *);
void aggfold_free(struct aggfold *);
/*
 * A stored state of (unit, month, channel). A state that cannot be read (a
 * survey of another shape, another machine's bytes) marks the key stale:
 * aggfold_each reports it with state NULL and the caller has the month
 * queued again (SQL_AGG_REQUEUE) instead of writing a state.
 */
void aggfold_state(struct aggfold *, const char *unit, const char *month,
    const char *channel, const void *state, size_t len);
/* A pending response (answers: the stored JSON text), folded into its channel's
 * state and the roll-up's; -1 if unreadable (skipped). */
int aggfold_row(struct aggfold *, const char *unit, const char *month,
    const char *channel, double weight, const char *stratum, const char *psu,
    const char *answers);
/*
 * The same for a response already decoded: answers holds one value per item
 * of the survey (ANSWER_NONE for none), as response_answers_decode gives.
 */
void aggfold_row_answers(struct aggfold *, const char *unit,
    const char *month, const char *channel, double weight,
    const char *stratum, const char *psu, const int *answers);
/* Keys touched. */
size_t aggfold_count(struct aggfold *);
/* Pending responses seen (aggfold_row and aggfold_row_answers calls). */
long aggfold_rows(const struct aggfold *);
/* Every key: its new state (len bytes, rows responses), or state NULL if stale. */
typedef void (*aggfold_cb)(const char *unit, const char *month, const char *channel,
    long rows, const void *state, size_t len, void *arg);
void aggfold_each(struct aggfold *, aggfold_cb, void *arg);

#endif
