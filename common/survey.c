/*
 * survey.c: loads and validates survey definitions (docs/interfaces.md,
 * "Survey definition").
 *
 * Owns the survey model: scales, the group tree, item numbering (satisfaction
 * items depth-first, items of a group before its child groups, as R's oracle
 * walks them; then expectation items) and the post-order list of groups. It
 * must not read files: callers pass the definition's text or a json_t.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sipas/strmap.h"
#include "sipas/survey.h"
#include "sipas/textbuf.h"
#include "sipas/util.h"

/* Longest intro text of a language, in bytes. */
#define SURVEY_INTRO_MAX 1000

extern const struct builtin {
	const char *code;
	const char *text;
} survey_builtins[];

/* State while loading one definition. */
struct survey_load {
	struct survey *s;
	struct strmap *codes; /* every item and group code seen */
	int items_cap;
	int groups_cap;
	char *cause;
};

/* Record a load error (first one wins). */
static int __attribute__((format(printf, 2, 3)))
survey_load_fail(struct survey_load *l, const char *fmt, ...)
{
	va_list ap;

	if (l->cause == NULL) {
		va_start(ap, fmt);
		if (vasprintf(&l->cause, fmt, ap) < 0)
			l->cause = NULL;
		va_end(ap);
	}
	return -1;
}

/* A required non-empty string member, duplicated; NULL if absent. */
static char *
survey_string_get(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v) || json_string_length(v) == 0)
		return NULL;
	return xstrdup(json_string_value(v));
}

/* A text {vi, en} (or a plain string, taken as vi). */
static int
survey_text_get(json_t *obj, const char *key, char **vi, char **en)
{
	json_t *t = json_object_get(obj, key);

	*vi = *en = NULL;
	if (json_is_string(t)) {
		*vi = xstrdup(json_string_value(t));
		return 0;
	}
	if (!json_is_object(t))
		return -1;
	*vi = survey_string_get(t, "vi");
	*en = survey_string_get(t, "en");
	if (*vi == NULL && *en == NULL)
		return -1;
	if (*vi == NULL)
		*vi = xstrdup(*en);
	return 0;
}

/* Compare ints for qsort. */
static int
survey_int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Load the label array lang of a scale, if present. */
static int
survey_scale_labels(struct survey_load *l, struct scale *sc, json_t *labels,
    const char *lang, char ***out)
{
	json_t *arr = json_object_get(labels, lang), *v;
	size_t i;

	*out = NULL;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || (int)json_array_size(arr) != sc->nvalues)
		return survey_load_fail(l, "scale '%s': labels.%s must list one label per value", sc->name, lang);
	*out = xcalloc(sc->nvalues, sizeof **out);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return survey_load_fail(l, "scale '%s': labels.%s[%zu] is not a string", sc->name, lang, i);
		(*out)[i] = xstrdup(json_string_value(v));
	}
	return 0;
}

/* Load one scale. */
static int
survey_scale_load(struct survey_load *l, struct scale *sc, const char *name, json_t *def)
{
	json_t *values, *v, *labels;
	size_t i;

	sc->name = xstrdup(name);
	if (!json_is_object(def))
		return survey_load_fail(l, "scale '%s': not an object", name);
	values = json_object_get(def, "values");
	if (!json_is_array(values) || json_array_size(values) < 2 || json_array_size(values) > 100)
		return survey_load_fail(l, "scale '%s': values must be an array of 2 to 100 integers", name);
	sc->nvalues = json_array_size(values);
	sc->values = xcalloc(sc->nvalues, sizeof *sc->values);
	json_array_foreach(values, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < -1000 || json_integer_value(v) > 1000)
			return survey_load_fail(l, "scale '%s': values[%zu] is not an integer in -1000..1000", name, i);
		sc->values[i] = json_integer_value(v);
	}
	for (i = 1; i < (size_t)sc->nvalues; i++) {
		if (sc->values[i] <= sc->values[i - 1])
			return survey_load_fail(l, "scale '%s': values must be distinct and ascending", name);
	}
	v = json_object_get(def, "satisfied_min");
	if (!json_is_integer(v))
		return survey_load_fail(l, "scale '%s': satisfied_min must be an integer", name);
	sc->satisfied_min = json_integer_value(v);
	if (sc->satisfied_min <= sc->values[0] || sc->satisfied_min > sc->values[sc->nvalues - 1])
		return survey_load_fail(l, "scale '%s': satisfied_min %d must leave some values below and some at or above it",
		    name, sc->satisfied_min);
	labels = json_object_get(def, "labels");
	if (labels != NULL) {
		if (!json_is_object(labels))
			return survey_load_fail(l, "scale '%s': labels must be an object {vi, en}", name);
		if (survey_scale_labels(l, sc, labels, "vi", &sc->labels_vi) != 0 ||
		    survey_scale_labels(l, sc, labels, "en", &sc->labels_en) != 0)
			return -1;
	}
	return 0;
}

/* Claim a code; duplicates are an error. */
static int
survey_code_claim(struct survey_load *l, const char *what, const char *code)
{
	if (strmap_get(l->codes, code) != NULL)
		return survey_load_fail(l, "%s '%s': duplicate code", what, code);
	strmap_put(l->codes, code, (void *)what);
	return 0;
}

/* Load one item into the next slot of survey->items. */
static int
survey_item_load(struct survey_load *l, json_t *def, int expectation, struct group *g)
{
	struct survey *s = l->s;
	struct item *it;
	char *code, *scale;
	int i;

	if (!json_is_object(def) || (code = survey_string_get(def, "code")) == NULL)
		return survey_load_fail(l, "an item%s%s has no code", g ? " of group " : "", g ? g->code : "");
	if (survey_code_claim(l, "item", code) != 0) {
		free(code);
		return -1;
	}
	if (s->nitems == l->items_cap) {
		/* Items are referenced by index, never by pointer, while loading. */
		l->items_cap = l->items_cap ? l->items_cap * 2 : 64;
		s->items = xreallocarray(s->items, l->items_cap, sizeof *s->items);
	}
	it = &s->items[s->nitems];
	memset(it, 0, sizeof *it);
	it->code = code;
	it->index = s->nitems++;
	it->expectation = expectation;
	it->group = g;
	scale = survey_string_get(def, "scale");
	if (scale == NULL)
		return survey_load_fail(l, "item '%s': no scale", code);
	for (i = 0; i < s->nscales; i++) {
		if (strcmp(s->scales[i].name, scale) == 0)
			it->scale = &s->scales[i];
	}
	if (it->scale == NULL) {
		survey_load_fail(l, "item '%s': unknown scale '%s'", code, scale);
		free(scale);
		return -1;
	}
	free(scale);
	if (json_object_get(def, "text") != NULL && survey_text_get(def, "text", &it->text_vi, &it->text_en) != 0)
		return survey_load_fail(l, "item '%s': text must be {vi, en}", code);
	if (it->text_vi == NULL)
		it->text_vi = xstrdup(code);
	return 0;
}

/* Append a group to the post-order list. */
static void
survey_group_push(struct survey_load *l, struct group *g)
{
	struct survey *s = l->s;

	if (s->ngroups == l->groups_cap) {
		l->groups_cap = l->groups_cap ? l->groups_cap * 2 : 16;
		s->groups = xreallocarray(s->groups, l->groups_cap, sizeof *s->groups);
	}
	g->index = s->ngroups;
	s->groups[s->ngroups++] = g;
}

/* Load a group and its subtree; *out is set as soon as it exists (for freeing). */
static int
survey_group_load(struct survey_load *l, json_t *def, struct group *parent, struct group **out, int depth)
{
	struct group *g;
	json_t *items, *groups, *v;
	const char *agg;
	size_t i;
	int first;

	*out = NULL;
	if (depth > 16)
		return survey_load_fail(l, "groups nested deeper than 16 levels");
	if (!json_is_object(def))
		return survey_load_fail(l, "a group%s%s is not an object", parent ? " of " : "", parent ? parent->code : "");
	g = *out = xcalloc(1, sizeof *g);
	g->parent = parent;
	if ((g->code = survey_string_get(def, "code")) == NULL)
		return survey_load_fail(l, "a group%s%s has no code", parent ? " of " : "", parent ? parent->code : "");
	if (survey_code_claim(l, "group", g->code) != 0)
		return -1;
	if (json_object_get(def, "title") != NULL && survey_text_get(def, "title", &g->title_vi, &g->title_en) != 0)
		return survey_load_fail(l, "group '%s': title must be {vi, en}", g->code);
	if (g->title_vi == NULL)
		g->title_vi = xstrdup(g->code);
	v = json_object_get(def, "aggregate");
	agg = v == NULL ? "mean_items" : json_string_value(v);
	if (agg == NULL)
		return survey_load_fail(l, "group '%s': aggregate must be a string", g->code);
	if (strcmp(agg, "mean_items") == 0)
		g->aggregate = AGGREGATE_MEAN_ITEMS;
	else if (strcmp(agg, "mean_children") == 0)
		g->aggregate = AGGREGATE_MEAN_CHILDREN;
	else if (strcmp(agg, "pooled") == 0)
		g->aggregate = AGGREGATE_POOLED;
	else
		return survey_load_fail(l, "group '%s': unknown aggregate '%s' (mean_items, mean_children or pooled)", g->code, agg);

	items = json_object_get(def, "items");
	groups = json_object_get(def, "groups");
	if ((items != NULL && !json_is_array(items)) || (groups != NULL && !json_is_array(groups)))
		return survey_load_fail(l, "group '%s': items and groups must be arrays", g->code);
	if (json_array_size(items) == 0 && json_array_size(groups) == 0)
		return survey_load_fail(l, "group '%s': has neither items nor groups", g->code);

	/* Items before child groups: the order of R's oracle. */
	first = l->s->nitems;
	g->nitems = json_array_size(items);
	g->items = xcalloc(g->nitems, sizeof *g->items);
	json_array_foreach(items, i, v) {
		if (survey_item_load(l, v, 0, g) != 0)
			return -1;
		g->items[i] = first + i;
	}
	g->leaf = g->nitems > 0;
	g->ngroups = json_array_size(groups);
	g->groups = xcalloc(g->ngroups, sizeof *g->groups);
	json_array_foreach(groups, i, v) {
		if (survey_group_load(l, v, g, &g->groups[i], depth + 1) != 0)
			return -1;
	}
	/* Descendant items are contiguous in depth-first numbering. */
	g->ndesc = l->s->nitems - first;
	g->desc = xcalloc(g->ndesc, sizeof *g->desc);
	for (i = 0; i < (size_t)g->ndesc; i++)
		g->desc[i] = first + i;
	survey_group_push(l, g);
	return 0;
}

/* Load the SMS form. */
static int
survey_sms_load(struct survey_load *l, json_t *sms)
{
	struct survey *s = l->s;
	json_t *items, *v;
	size_t i;

	if (sms == NULL)
		return 0;
	if (!json_is_object(sms))
		return survey_load_fail(l, "sms must be an object {keyword, items}");
	s->sms_keyword = survey_string_get(sms, "keyword");
	items = json_object_get(sms, "items");
	if (items != NULL && !json_is_array(items))
		return survey_load_fail(l, "sms.items must be an array of item codes");
	s->nsms = json_array_size(items);
	s->sms_items = xcalloc(s->nsms, sizeof *s->sms_items);
	json_array_foreach(items, i, v) {
		const char *code = json_string_value(v);

		if (code == NULL || (s->sms_items[i] = survey_item_find(s, code)) < 0)
			return survey_load_fail(l, "sms.items: unknown item '%s'", code ? code : "(not a string)");
	}
	return 0;
}

/* Load every part of a definition into l->s. */
static int
survey_load(struct survey_load *l, json_t *root)
{
	struct survey *s = l->s;
	json_t *scales, *v, *exp;
	const char *name;
	size_t i;

	if (!json_is_object(root))
		return survey_load_fail(l, "a survey definition must be a JSON object");
	if ((s->code = survey_string_get(root, "code")) == NULL)
		return survey_load_fail(l, "code: missing or empty");
	v = json_object_get(root, "version");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1))
		return survey_load_fail(l, "version: must be a positive integer");
	s->version = v != NULL ? json_integer_value(v) : 1;
	if (json_object_get(root, "title") != NULL && survey_text_get(root, "title", &s->title_vi, &s->title_en) != 0)
		return survey_load_fail(l, "title: must be {vi, en}");
	if (s->title_vi == NULL)
		s->title_vi = xstrdup(s->code);
	if (json_object_get(root, "intro") != NULL &&
	    (survey_text_get(root, "intro", &s->intro_vi, &s->intro_en) != 0 ||
	    strlen(s->intro_vi) > SURVEY_INTRO_MAX ||
	    (s->intro_en != NULL && strlen(s->intro_en) > SURVEY_INTRO_MAX)))
		return survey_load_fail(l, "intro: must be {vi, en} of at most %d bytes each", SURVEY_INTRO_MAX);
	s->basis = survey_string_get(root, "basis");
	v = json_object_get(root, "lonely_psu");
	if (v == NULL || (json_is_string(v) && strcmp(json_string_value(v), "adjust") == 0))
		s->lonely_psu = LONELY_PSU_ADJUST;
	else if (json_is_string(v) && strcmp(json_string_value(v), "certainty") == 0)
		s->lonely_psu = LONELY_PSU_CERTAINTY;
	else
		return survey_load_fail(l, "lonely_psu: must be \"adjust\" or \"certainty\"");

	scales = json_object_get(root, "scales");
	if (!json_is_object(scales) || json_object_size(scales) == 0)
		return survey_load_fail(l, "scales: must be an object of at least one scale");
	s->scales = xcalloc(json_object_size(scales), sizeof *s->scales);
	json_object_foreach(scales, name, v) {
		if (survey_scale_load(l, &s->scales[s->nscales++], name, v) != 0)
			return -1;
	}

	if (json_object_get(root, "overall") == NULL)
		return survey_load_fail(l, "overall: missing");
	if (survey_group_load(l, json_object_get(root, "overall"), NULL, &s->overall, 0) != 0)
		return -1;
	s->nsat = s->nitems;

	exp = json_object_get(root, "expectations");
	if (exp != NULL && !json_is_array(exp))
		return survey_load_fail(l, "expectations: must be an array of items");
	json_array_foreach(exp, i, v) {
		if (survey_item_load(l, v, 1, NULL) != 0)
			return -1;
	}
	return survey_sms_load(l, json_object_get(root, "sms"));
}

/*
 * by_code: the items in the byte order of their codes, for survey_item_find
 * (every answer of every response is looked up by code) and for writing
 * answers with sorted keys.
 */
static void
survey_index_codes(struct survey *s)
{
	int i, j, k;

	/* An insertion sort: a survey has tens of items, and qsort would need
	 * the survey in a global to compare two indices. */
	s->by_code = xreallocarray(NULL, (size_t)s->nitems + 1,
	    sizeof *s->by_code);
	for (i = 0; i < s->nitems; i++) {
		k = i;
		for (j = i; j > 0 && strcmp(s->items[s->by_code[j - 1]].code,
		    s->items[k].code) > 0; j--)
			s->by_code[j] = s->by_code[j - 1];
		s->by_code[j] = k;
	}
	/* Each code as the key of a JSON answers object, escaped once. */
	for (i = 0; i < s->nitems; i++) {
		struct textbuf t = { NULL, 0, 0 };

		textbuf_json_string(&t, s->items[i].code);
		textbuf_addc(&t, ':');
		s->items[i].json_key_len = t.len;
		s->items[i].json_key = textbuf_take(&t);
	}
}

/* Parse and validate a definition from a json_t (borrowed). */
struct survey *
survey_create_json(json_t *root, char **cause)
{
	struct survey_load l;

	memset(&l, 0, sizeof l);
	l.s = xcalloc(1, sizeof *l.s);
	l.codes = strmap_create();
	if (survey_load(&l, root) != 0) {
		strmap_free(l.codes);
		survey_free(l.s);
		*cause = l.cause != NULL ? l.cause : xstrdup("invalid survey definition");
		return NULL;
	}
	strmap_free(l.codes);
	survey_index_codes(l.s);
	l.s->json = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	return l.s;
}

/* Parse and validate a definition from its JSON text. */
struct survey *
survey_create(const char *text, size_t len, char **cause)
{
	json_error_t err;
	json_t *root;
	struct survey *s;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		xasprintf(cause, "line %d, column %d: %s", err.line, err.column, err.text);
		return NULL;
	}
	s = survey_create_json(root, cause);
	json_decref(root);
	return s;
}

/* Free a group subtree. */
static void
survey_group_free(struct group *g)
{
	int i;

	if (g == NULL)
		return;
	for (i = 0; i < g->ngroups; i++)
		survey_group_free(g->groups[i]);
	free(g->groups);
	free(g->items);
	free(g->desc);
	free(g->code);
	free(g->title_vi);
	free(g->title_en);
	free(g);
}

/* Free a survey (NULL-safe). */
void
survey_free(struct survey *s)
{
	int i, j;

	if (s == NULL)
		return;
	for (i = 0; i < s->nscales; i++) {
		for (j = 0; j < s->scales[i].nvalues; j++) {
			if (s->scales[i].labels_vi != NULL)
				free(s->scales[i].labels_vi[j]);
			if (s->scales[i].labels_en != NULL)
				free(s->scales[i].labels_en[j]);
		}
		free(s->scales[i].labels_vi);
		free(s->scales[i].labels_en);
		free(s->scales[i].values);
		free(s->scales[i].name);
	}
	free(s->scales);
	free(s->by_code);
	for (i = 0; i < s->nitems; i++) {
		free(s->items[i].code);
		free(s->items[i].json_key);
		free(s->items[i].text_vi);
		free(s->items[i].text_en);
	}
	free(s->items);
	survey_group_free(s->overall);
	free(s->groups);
	free(s->code);
	free(s->title_vi);
	free(s->title_en);
	free(s->intro_vi);
	free(s->intro_en);
	free(s->basis);
	free(s->sms_keyword);
	free(s->sms_items);
	free(s->json);
	free(s);
}

/* Index of the item with code, or -1. */
int
survey_item_find(const struct survey *s, const char *code)
{
	int lo = 0, hi = s->nitems - 1, mid, c, i;

	if (s->by_code == NULL) {	/* still loading */
		for (i = 0; i < s->nitems; i++) {
			if (strcmp(s->items[i].code, code) == 0)
				return i;
		}
		return -1;
	}
	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(s->items[s->by_code[mid]].code, code);
		if (c == 0)
			return s->by_code[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* The group with code, or NULL. */
const struct group *
survey_group_find(const struct survey *s, const char *code)
{
	int i;

	for (i = 0; i < s->ngroups; i++) {
		if (strcmp(s->groups[i]->code, code) == 0)
			return s->groups[i];
	}
	return NULL;
}

/* 1 if v is one of the scale's values. */
int
scale_has(const struct scale *sc, int v)
{
	return bsearch(&v, sc->values, sc->nvalues, sizeof v, survey_int_cmp) != NULL;
}

/* The built-in definition text, or NULL. */
const char *
survey_builtin_text(const char *code)
{
	int i;

	for (i = 0; survey_builtins[i].code != NULL; i++) {
		if (strcmp(survey_builtins[i].code, code) == 0)
			return survey_builtins[i].text;
	}
	return NULL;
}

/* The built-in codes, NULL-terminated. */
const char *const *
survey_builtin_codes(void)
{
	static const char *codes[8];
	int i;

	for (i = 0; survey_builtins[i].code != NULL && i < 7; i++)
		codes[i] = survey_builtins[i].code;
	codes[i] = NULL;
	return codes;
}

/* Load a built-in survey; NULL if the code is unknown. */
struct survey *
survey_builtin_create(const char *code)
{
	const char *text = survey_builtin_text(code);
	struct survey *s;
	char *cause = NULL;

	if (text == NULL)
		return NULL;
	s = survey_create(text, strlen(text), &cause);
	ASSERT(s != NULL); /* the built-ins are tested */
	return s;
}
