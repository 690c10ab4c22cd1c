/*
 * cache.c: immutable, reference-counted snapshots of the unit tree and the
 * survey definitions.
 *
 * Owns the parsed struct survey objects of a snapshot. Must not talk to the
 * database: main.c loads a store_catalog and hands it over.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/store/cache.h"
#include "daemon/log.h"
#include "sipas/sms.h"
#include "daemon/store/store.h"
#include "sipas/strmap.h"
#include "sipas/survey.h"
#include "sipas/util.h"

struct cache {
	int refs;
	struct cache_unit *units;
	size_t nunits;
	struct strmap *unit_map;
	struct strmap *unit_folded; /* SMS: folded code to unit (sms.h) */
	struct survey **surveys;
	size_t nsurveys;
	struct strmap *survey_map;
};

/* Build a snapshot from a catalog. */
struct cache *
cache_create(const struct store_catalog *cat)
{
	struct cache *c = xcalloc(1, sizeof *c);
	const struct store_unit *su;
	struct survey *s;
	char *cause = NULL;
	size_t i;

	c->refs = 1;
	c->unit_map = strmap_create();
	c->survey_map = strmap_create();
	c->units = xcalloc(cat->nunits + 1, sizeof *c->units);
	for (i = 0; i < cat->nunits; i++) {
		su = &cat->units[i];
		c->units[i].code = xstrdup(su->code);
		c->units[i].name = xstrdup(su->name != NULL ? su->name : "");
		c->units[i].level = xstrdup(su->level != NULL ? su->level : "");
		strmap_put(c->unit_map, su->code, &c->units[i]);
	}
	/* SMS: codes folded as the grammar folds them; the first code wins. */
	c->unit_folded = strmap_create();
	for (i = 0; i < cat->nunits; i++) {
		char folded[SMS_UNIT_SIZE];

		if (sms_text_fold(cat->units[i].code, strlen(cat->units[i].code), folded,
		    sizeof folded, SMS_FOLD_UPPER) < sizeof folded &&
		    strmap_get(c->unit_folded, folded) == NULL)
			strmap_put(c->unit_folded, folded, &c->units[i]);
	}
	c->nunits = cat->nunits;
	for (i = 0; i < cat->nunits; i++) {
		su = &cat->units[i];
		if (su->parent != NULL)
			c->units[i].parent = strmap_get(c->unit_map, su->parent);
	}
	c->surveys = xcalloc(cat->nsurveys + 1, sizeof *c->surveys);
	for (i = 0; i < cat->nsurveys; i++) {
		s = survey_create(cat->surveys[i].definition,
		    strlen(cat->surveys[i].definition), &cause);
		if (s == NULL) {
			log_warn("survey %s: stored definition rejected: %s",
			    cat->surveys[i].code, cause);
			free(cause);
			cause = NULL;
			continue;
		}
		c->surveys[c->nsurveys++] = s;
		strmap_put(c->survey_map, cat->surveys[i].code, s);
	}
	return c;
}

/* Take a reference. */
struct cache *
cache_ref(struct cache *c)
{
	c->refs++;
	return c;
}

/* Drop a reference. */
void
cache_unref(struct cache *c)
{
	size_t i;

	if (c == NULL || --c->refs > 0)
		return;
	for (i = 0; i < c->nunits; i++) {
		free(c->units[i].code);
		free(c->units[i].name);
		free(c->units[i].level);
	}
	for (i = 0; i < c->nsurveys; i++)
		survey_free(c->surveys[i]);
	free(c->units);
	free(c->surveys);
	strmap_free(c->unit_map);
	strmap_free(c->unit_folded);
	strmap_free(c->survey_map);
	free(c);
}

/* A unit by code, or NULL. */
const struct cache_unit *
cache_unit_get(const struct cache *c, const char *code)
{
	return strmap_get(c->unit_map, code);
}

/* A survey by code, or NULL. */
const struct survey *
cache_survey_get(const struct cache *c, const char *code)
{
	return strmap_get(c->survey_map, code);
}

/* 1 if unit is ancestor or one of its descendants. */
int
cache_unit_within(const struct cache *c, const char *unit, const char *ancestor)
{
	const struct cache_unit *u = cache_unit_get(c, unit);
	int depth = 0;

	for (; u != NULL && depth < 64; u = u->parent, depth++) {
		if (strcmp(u->code, ancestor) == 0)
			return 1;
	}
	return 0;
}

/* Number of units. */
size_t
cache_unit_count(const struct cache *c)
{
	return c->nunits;
}

/* qsort: units by code. */
static int
cache_unit_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct cache_unit *const *)a)->code,
	    (*(const struct cache_unit *const *)b)->code);
}

/* The direct children of a unit, sorted by code. */
const struct cache_unit **
cache_unit_children(const struct cache *c, const char *unit, size_t *n)
{
	const struct cache_unit *u = strmap_get(c->unit_map, unit), **v;
	size_t i, k = 0;

	v = xcalloc(c->nunits + 1, sizeof *v);
	for (i = 0; i < c->nunits && u != NULL; i++) {
		if (c->units[i].parent == u)
			v[k++] = &c->units[i];
	}
	qsort(v, k, sizeof *v, cache_unit_cmp);
	*n = k;
	return v;
}

/* Unit i, in catalog order. */
const struct cache_unit *
cache_unit_nth(const struct cache *c, size_t i)
{
	ASSERT(i < c->nunits);
	return &c->units[i];
}

/* Every unit, in catalog order. */
const struct cache_unit *
cache_units(const struct cache *c, size_t *n)
{
	*n = c->nunits;
	return c->units;
}

/* Number of surveys. */
size_t
cache_survey_count(const struct cache *c)
{
	return c->nsurveys;
}

/* A unit by its code folded for SMS (sms_text_fold, upper-case), or NULL. */
const struct cache_unit *
cache_unit_folded_get(const struct cache *c, const char *folded)
{
	return strmap_get(c->unit_folded, folded);
}

/* Every survey, in catalog order; *n is set to their number. */
const struct survey *const *
cache_surveys(const struct cache *c, size_t *n)
{
	*n = c->nsurveys;
	return (const struct survey *const *)c->surveys;
}

/* The default survey: sipas-2023 when loaded, else the first. */
const struct survey *
cache_default_survey(const struct cache *c)
{
	const struct survey *s;

	if ((s = cache_survey_get(c, "sipas-2023")) != NULL)
		return s;
	return c->nsurveys > 0 ? c->surveys[0] : NULL;
}
