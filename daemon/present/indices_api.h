/*
 * indices_api.h: GET /api/v1/indices (indices_api.c) and the same
 * computation for the other presenters (the dashboard).
 */
#ifndef SIPAS_INDICES_API_H
#define SIPAS_INDICES_API_H

#include "daemon/request.h"

struct sipasd;

/* GET /api/v1/indices. */
void indices_handle(struct request *);
/*
 * For the other presenters (dashboard.c): the result of a survey for
 * unit's subtree (and each direct child with children) over from..to (NULL:
 * open), only channel's responses unless channel is NULL, only the
 * respondents matching filter (store_agg.h; NULL or empty: all; read from the
 * raw rows, borrowed until done). done gets the result (the callee's to free)
 * or NULL, sqlstate and message when the read failed. The caller checks
 * sipasd_read_ready first.
 */
struct result;
struct survey;
struct store_agg_filter;
typedef void (*indices_result_cb)(struct result *, const char *sqlstate,
    const char *message, void *arg);
struct cache;
void indices_compute(struct sipasd *, unsigned long reqid, struct cache *,
    const struct survey *,
    const char *unit, const char *from, const char *to, const char *channel,
    const struct store_agg_filter *filter, int children, double confidence,
    indices_result_cb done, void *arg);

#endif
