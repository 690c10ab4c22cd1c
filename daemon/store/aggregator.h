/*
 * aggregator.h: sipasd's folder of the incremental aggregates
 * (daemon/store/aggregator.c).
 */
#ifndef SIPAS_AGGREGATOR_H
#define SIPAS_AGGREGATOR_H

struct sipasd;
struct aggregator;

/* Starts its own connection and timer (none when aggregate_interval_ms is 0). */
struct aggregator *aggregator_create(struct sipasd *);
void aggregator_free(struct aggregator *);

#endif
