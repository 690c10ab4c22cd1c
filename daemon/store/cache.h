/*
 * cache.h: sipasd's in-memory copy of the unit tree and the survey
 * definitions, so that validating a response needs no database round trip.
 *
 * A cache is an immutable snapshot built from a store_catalog; a refresh
 * builds a new one and swaps it in. Users that keep a snapshot across an
 * asynchronous step hold a reference (cache_ref/cache_unref).
 */
#ifndef SIPAS_CACHE_H
#define SIPAS_CACHE_H

#include <stddef.h>

struct store_catalog;
struct survey;

struct cache_unit {
	char *code;
	char *name;
	char *level;
	struct cache_unit *parent; /* NULL for a root */
};

struct cache;

/* A snapshot of catalog (which stays the caller's); surveys that do not parse are skipped with a warning. */
struct cache *cache_create(const struct store_catalog *);
struct cache *cache_ref(struct cache *);
/* Drop a reference; the last one frees. NULL-safe. */
void cache_unref(struct cache *);
const struct cache_unit *cache_unit_get(const struct cache *, const char *code);
const struct survey *cache_survey_get(const struct cache *, const char *code);
/* 1 if unit is ancestor or lies below it. */
int cache_unit_within(const struct cache *, const char *unit, const char *ancestor);
size_t cache_unit_count(const struct cache *);
/* Unit i (0 <= i < cache_unit_count), in catalog order. */
const struct cache_unit *cache_unit_nth(const struct cache *, size_t i);
/* The direct children of unit, sorted by code (array owned by the caller, units borrowed). */
const struct cache_unit **cache_unit_children(const struct cache *, const char *unit, size_t *n);
/* Every unit, in catalog order (an array borrowed from the snapshot). */
const struct cache_unit *cache_units(const struct cache *, size_t *n);
/* SMS: a unit by its code folded by sms_text_fold (SMS_FOLD_UPPER), or NULL. */
const struct cache_unit *cache_unit_folded_get(const struct cache *,
    const char *folded);
/* Every survey, in catalog order (borrowed from the snapshot). */
const struct survey *const *cache_surveys(const struct cache *, size_t *n);
size_t cache_survey_count(const struct cache *);
/* The survey shown when none is asked for: sipas-2023 if loaded, else the
 * first in catalog order, else NULL. */
const struct survey *cache_default_survey(const struct cache *);

#endif
