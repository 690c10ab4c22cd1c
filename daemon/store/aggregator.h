/*
 * aggregator.h: sipasd's folder of the incremental aggregates
 * (daemon/store/aggregator.c).
 */
#ifndef SIPAS_AGGREGATOR_H
#define SIPAS_AGGREGATOR_H

#include <stdint.h>

struct sipasd;
struct aggregator;

/* Starts its own connection and timer (none when aggregate_interval_ms is 0). */
struct aggregator *aggregator_create(struct sipasd *);
void aggregator_free(struct aggregator *);

struct cache;
struct response;
struct survey;
/*
 * Hold resp, just stored as response id (committed, submitted_at as
 * stored), to fold it from memory: 1 when taken (the aggregator frees it),
 * 0 when not (the folder is off, too many are held, or s is not of cache:
 * the caller keeps it, and the fold reads the row).
 */
int aggregator_keep(struct aggregator *, long long id, struct response *resp,
    const struct survey *s, struct cache *cache, int64_t submitted_at);

#endif
