/*
 * survey.h: the survey model (docs/interfaces.md, "Survey definition"):
 * scales, the group tree whose leaves are items, expectation items and the
 * SMS form.
 *
 * A survey is loaded from JSON, validated completely, and is immutable after.
 * Items are numbered 0..nitems-1: the satisfaction items in depth-first order
 * of the tree first (0..nsat-1), then the expectation items.
 */
#ifndef SIPAS_SURVEY_H
#define SIPAS_SURVEY_H

#include <limits.h>
#include <stddef.h>

/* The answer slot of an item left unanswered. */
#define ANSWER_NONE INT_MIN

struct json_t;

enum aggregate {
	AGGREGATE_MEAN_ITEMS,
	AGGREGATE_MEAN_CHILDREN,
	AGGREGATE_POOLED,
};

/* How a stratum with a single PSU enters a variance (docs/methodology.md section 5). */
enum lonely_psu {
	LONELY_PSU_ADJUST,    /* its PSU total about zero: R's "adjust" (default) */
	LONELY_PSU_CERTAINTY, /* contributes nothing: R's "certainty" */
};

struct scale {
	char *name;
	int *values;  /* the allowed values, ascending */
	char **labels_vi; /* one per value */
	char **labels_en;
	int nvalues;
	int satisfied_min; /* smallest value that counts as satisfied */
};

struct item {
	char *code;
	char *json_key;	 /* the code as a JSON string and a colon: "A1": */
	size_t json_key_len;
	char *text_vi;
	char *text_en;
	const struct scale *scale;
	int index;	 /* position in survey->items */
	int expectation; /* 1 for an expectation item */
	struct group *group; /* the group that lists it (NULL for expectations) */
};

struct group {
	char *code;
	char *title_vi;
	char *title_en;
	enum aggregate aggregate;
	struct group *parent;
	struct group **groups; /* child groups, or none */
	int ngroups;
	int *items; /* direct items (indices into survey->items), or none */
	int nitems;
	int *desc;  /* every descendant item, in survey order */
	int ndesc;
	int index; /* position in survey->groups (post-order) */
	int leaf;  /* has items: an element, for Cronbach's alpha */
};

struct survey {
	char *code;
	int version;
	char *title_vi;
	char *title_en;
	char *intro_vi; /* what the form says first, or NULL */
	char *intro_en;
	char *basis;
	struct scale *scales;
	int nscales;
	struct item *items;
	int nitems;
	int *by_code; /* item indices in strcmp order of their codes */
	int nsat; /* satisfaction items: items[0..nsat-1] */
	struct group *overall;
	struct group **groups; /* every group, children before parents; overall last */
	int ngroups;
	enum lonely_psu lonely_psu;
	char *sms_keyword;
	int *sms_items;
	int nsms;
	char *json; /* the definition as loaded (compact JSON) */
};

/* Parse and validate a definition; NULL and *cause naming the code on error. */
struct survey *survey_create(const char *text, size_t len, char **cause);
struct survey *survey_create_json(struct json_t *, char **cause);
void survey_free(struct survey *);

/* A built-in survey by code (sipas-2017, sipas-2023, onestop-tt01), or NULL. */
struct survey *survey_builtin_create(const char *code);
/* The built-in codes, NULL-terminated. */
const char *const *survey_builtin_codes(void);
/* The built-in definition text by code, or NULL. */
const char *survey_builtin_text(const char *code);

/* Item index by code, or -1. */
int survey_item_find(const struct survey *, const char *code);
/* Group by code, or NULL. */
const struct group *survey_group_find(const struct survey *, const char *code);
/* 1 if value v is on the scale. */
int scale_has(const struct scale *, int v);

#endif
