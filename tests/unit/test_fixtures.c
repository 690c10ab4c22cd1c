/*
 * test_fixtures.c: every case of tests/data/fixtures/index.json (R's survey
 * package references) reproduced to 1e-6: value, ci_low, ci_high, n, design
 * and respondents of every unit, overall, group, item and expectation. Also
 * checks that the result does not depend on row order or on how the rows are
 * split into chunks, and that the JSON output carries the same numbers.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <jansson.h>

#include "sipas/analysis.h"
#include "sipas/csvin.h"
#include "sipas/response.h"
#include "sipas/util.h"
#include "tap.h"

#define TOL 1e-6

struct load {
	const struct survey *s;
	struct analysis *a;
	int errors;
	int pooled; /* add every row under "ALL" instead of its unit */
	int split;  /* add every row under "unit|month|channel" (the states of sql/0004) */
	int ones;   /* every other row gets weight 1 (3) or the next double above 1 (4) */
};

/* Rows read with a weight other than 1, since last reset. */
static long weighted_rows;

/* Row callback: fold the response into the analysis. */
static int
row_cb(const struct response *r, long row, void *arg)
{
	struct load *l = arg;
	struct analysis_row ar = { r->weight, r->stratum, r->psu, r->answers };

	char key[256];
	int64_t y;
	int m, d;

	if (l->split) {
		/* Vietnam's month of the response, as the aggregates key it. */
		time_day_civil((r->submitted_at + 7 * 3600) / 86400, &y, &m, &d);
		snprintf(key, sizeof key, "%s|%04d-%02d|%s", r->unit, (int)y, m, channel_name(r->channel));
		analysis_add(l->a, key, &ar);
		return 0;
	}
	if (r->weight != 1)
		weighted_rows++;
	if (l->ones && row % 2 == 1)
		ar.weight = l->ones == 3 ? 1.0 : nextafter(1.0, 2.0);
	analysis_add(l->a, l->pooled ? "ALL" : r->unit, &ar);
	return 0;
}

/* Error callback: a fixture has no bad rows. */
static int
error_cb(const struct csvin_error *e, void *arg)
{
	struct load *l = arg;

	tap_diag("row %ld column %d: %s", e->row, e->column, e->reason);
	l->errors++;
	return 0;
}

/* Read a CSV file through csvin in chunks of size chunk into an analysis. */
static struct analysis *
load_csv(const struct survey *s, const char *path, size_t chunk, int pooled, int *errors)
{
	struct load l = { s, analysis_create(s, 0.95), 0, pooled == 1, pooled == 2,
	    pooled >= 3 ? pooled : 0 };
	struct csvin *in = csvin_create(s, row_cb, error_cb, &l);
	char *cause = NULL, *text;
	size_t len, off;

	text = util_file_read(path, &len, &cause);
	if (text == NULL) {
		tap_diag("%s", cause);
		free(cause);
		*errors = 1;
		csvin_free(in);
		return l.a;
	}
	for (off = 0; off < len; off += chunk)
		csvin_push(in, text + off, len - off < chunk ? len - off : chunk);
	if (csvin_finish(in) != 0)
		l.errors++;
	csvin_free(in);
	free(text);
	*errors = l.errors;
	return l.a;
}

/* Compare one estimate with its expected JSON object; counts mismatches. */
static int
check_estimate(const char *unit, const char *code, const struct estimate *e, json_t *x, double *maxdiff)
{
	static const char *keys[] = { "value", "ci_low", "ci_high" };
	double got[3] = { e->value, e->ci_low, e->ci_high };
	int bad = 0, k;

	for (k = 0; k < 3; k++) {
		json_t *v = json_object_get(x, keys[k]);
		double want = json_is_number(v) ? json_number_value(v) : NAN;

		if (!tap_close(got[k], want, TOL)) {
			tap_diag("%s %s %s: expected %.12g got %.12g", unit, code, keys[k], want, got[k]);
			bad++;
		} else if (!isnan(want) && fabs(got[k] - want) > *maxdiff)
			*maxdiff = fabs(got[k] - want);
	}
	if (json_integer_value(json_object_get(x, "n")) != e->n) {
		tap_diag("%s %s n: expected %lld got %ld", unit, code,
		    (long long)json_integer_value(json_object_get(x, "n")), e->n);
		bad++;
	}
	return bad;
}

/* Find the estimate for code among a unit's groups or items. */
static const struct estimate *
find_estimate(const struct survey *s, const struct unit_result *ur, const char *code)
{
	const struct group *g = survey_group_find(s, code);
	int i;

	if (g != NULL)
		return &ur->groups[g->index];
	if ((i = survey_item_find(s, code)) >= 0)
		return &ur->items[i];
	return NULL;
}

/* Compare every figure of a result with the expected JSON; returns mismatches. */
static int
check_result(const struct survey *s, const struct result *r, json_t *exp, double *maxdiff, int *checked)
{
	static const char *lists[] = { "groups", "items", "expectations" };
	json_t *units = json_object_get(exp, "units"), *u, *x;
	size_t i, j, k;
	int bad = 0;

	if (json_array_size(units) != r->nunits) {
		tap_diag("expected %zu units, got %zu", json_array_size(units), r->nunits);
		return 1;
	}
	json_array_foreach(units, i, u) {
		const char *code = json_string_value(json_object_get(u, "unit"));
		const struct unit_result *ur = result_unit_find(r, code);
		int complex;

		if (ur == NULL) {
			tap_diag("unit %s missing", code);
			bad++;
			continue;
		}
		complex = strcmp(json_string_value(json_object_get(u, "design")), "complex") == 0;
		if (complex != ur->complex || json_integer_value(json_object_get(u, "respondents")) != ur->respondents) {
			tap_diag("unit %s: design or respondents differ", code);
			bad++;
		}
		bad += check_estimate(code, "overall", &ur->groups[s->ngroups - 1], json_object_get(u, "overall"), maxdiff);
		(*checked)++;
		for (k = 0; k < 3; k++) {
			json_array_foreach(json_object_get(u, lists[k]), j, x) {
				const char *c = json_string_value(json_object_get(x, "code"));
				const struct estimate *e = c ? find_estimate(s, ur, c) : NULL;

				if (e == NULL) {
					tap_diag("unit %s: unknown code %s", code, c ? c : "?");
					bad++;
					continue;
				}
				bad += check_estimate(code, c, e, x, maxdiff);
				(*checked)++;
			}
		}
	}
	return bad;
}

/* The same result twice: every figure identical within tol. */
static int
same_result(const struct survey *s, const struct result *a, const struct result *b, double tol)
{
	size_t i;
	int j;

	if (a->nunits != b->nunits)
		return 0;
	for (i = 0; i < a->nunits; i++) {
		for (j = 0; j < s->ngroups; j++) {
			if (!tap_close(a->units[i].groups[j].ci_low, b->units[i].groups[j].ci_low, tol) ||
			    !tap_close(a->units[i].groups[j].value, b->units[i].groups[j].value, tol))
				return 0;
		}
		for (j = 0; j < s->nitems; j++) {
			if (!tap_close(a->units[i].items[j].ci_high, b->units[i].items[j].ci_high, tol))
				return 0;
		}
	}
	return 1;
}

struct state_ctx {
	struct analysis *from, *into;
	int bad, nstates;
	size_t bytes;
};

/*
 * Save unit key ("unit|month|channel") of from as bytes and merge them into
 * its unit in into; also check that damaged bytes are refused.
 */
static void
state_roundtrip(const char *key, void *arg)
{
	struct state_ctx *c = arg;
	char unit[128];
	size_t len, n = strcspn(key, "|");
	unsigned char *st = analysis_state_save(c->from, key, &len);
	struct analysis *scratch = analysis_create(analysis_survey(c->from), 0.95);

	snprintf(unit, sizeof unit, "%.*s", (int)n, key);
	if (st == NULL || analysis_state_merge(c->into, unit, st, len) != 0)
		c->bad++;
	/* Truncated, extended or with a flipped magic: refused, nothing merged. */
	if (analysis_state_merge(scratch, "X", st, len - 1) != -1 || analysis_unit_count(scratch) != 0)
		c->bad++;
	st[0] ^= 1;
	if (analysis_state_merge(scratch, "X", st, len) != -1 || analysis_unit_count(scratch) != 0)
		c->bad++;
	analysis_free(scratch);
	c->nstates++;
	c->bytes += len;
	free(st);
}

/* Run one fixture case. */
static void
run_case(const char *dir, json_t *c)
{
	const char *input = json_string_value(json_object_get(c, "input"));
	const char *survey = json_string_value(json_object_get(c, "survey"));
	const char *expected = json_string_value(json_object_get(c, "expected"));
	char *path, *cause = NULL, *text, *json;
	struct survey *s;
	struct analysis *a, *b, *pooled, *merged, *split, *ones, *nudged;
	struct state_ctx sc;
	struct result *r, *rb, *rm, *rp, *ro, *rn;
	size_t i;
	json_t *exp, *round;
	json_error_t err;
	double maxdiff = 0;
	int errors, checked = 0, bad, k;

	if ((s = survey_builtin_create(survey)) == NULL) {
		xasprintf(&path, "%s/%s", dir, survey);
		text = util_file_read(path, NULL, &cause);
		s = text ? survey_create(text, strlen(text), &cause) : NULL;
		free(text);
		free(path);
	}
	if (!tap_ok(s != NULL, "%s: survey %s loads", input, survey)) {
		tap_diag("%s", cause ? cause : "?");
		free(cause);
		return;
	}
	xasprintf(&path, "%s/%s", dir, input);
	a = load_csv(s, path, 65536, 0, &errors);
	tap_ok(errors == 0, "%s: read with no error", input);
	b = load_csv(s, path, 7, 0, &errors);
	pooled = load_csv(s, path, 65536, 1, &errors);
	free(path);
	r = analysis_result(a);
	rb = analysis_result(b);
	tap_ok(same_result(s, r, rb, 0), "%s: 7-byte chunks give the same result", input);

	/*
	 * Rows of weight 1 are counted in integers (accum.c), the others summed
	 * in long double. Every other row weighted 1, or just above 1 (the
	 * general path), among weighted rows: the same result.
	 */
	xasprintf(&path, "%s/%s", dir, input);
	weighted_rows = 0;
	ones = load_csv(s, path, 65536, 3, &errors);
	nudged = load_csv(s, path, 65536, 4, &errors);
	free(path);
	ro = analysis_result(ones);
	rn = analysis_result(nudged);
	if (weighted_rows == 0)
		tap_skip("%s: rows of weight 1 among weighted ones (no weighted row)", input);
	else
		tap_ok(same_result(s, ro, rn, 1e-9),
		    "%s: rows of weight 1 counted in integers among weighted ones (overall %.12f)",
		    input, ro->units[0].groups[s->ngroups - 1].value);
	result_free(ro);
	result_free(rn);
	analysis_free(ones);
	analysis_free(nudged);

	/* A parent from its children's statistics equals one from all the rows. */
	merged = analysis_create(s, 0.95);
	for (i = 0; i < r->nunits; i++)
		analysis_merge(merged, "ALL", a, r->units[i].unit);
	rm = analysis_result(merged);
	rp = analysis_result(pooled);
	tap_ok(rm->nunits == 1 && same_result(s, rm, rp, 1e-9) && rm->units[0].respondents == rp->units[0].respondents &&
	    rm->units[0].complex == rp->units[0].complex,
	    "%s: merging the units equals pooling their rows (overall %.10f)", input,
	    rm->units[0].groups[s->ngroups - 1].value);
	result_free(rm);
	result_free(rp);
	analysis_free(merged);
	analysis_free(pooled);

	/*
	 * States (analysis/state.c): rows split by unit, month and channel, each
	 * part saved as bytes and merged back per unit, equal the direct result.
	 */
	xasprintf(&path, "%s/%s", dir, input);
	split = load_csv(s, path, 65536, 2, &errors);
	free(path);
	merged = analysis_create(s, 0.95);
	sc.from = split;
	sc.into = merged;
	sc.bad = 0;
	sc.nstates = 0;
	sc.bytes = 0;
	analysis_each_unit(split, state_roundtrip, &sc);
	rm = analysis_result(merged);
	tap_ok(sc.bad == 0 && sc.nstates > (int)r->nunits && same_result(s, r, rm, 1e-9) &&
	    rm->nunits == r->nunits && rm->units[0].respondents == r->units[0].respondents,
	    "%s: %d saved states (%zu bytes) merged per unit give the direct result", input, sc.nstates, sc.bytes);
	result_free(rm);
	analysis_free(merged);
	analysis_free(split);

	xasprintf(&path, "%s/%s", dir, expected);
	exp = json_load_file(path, 0, &err);
	free(path);
	tap_ok(exp != NULL, "%s: expected result loads", expected);
	bad = check_result(s, r, exp, &maxdiff, &checked);
	tap_ok(bad == 0 && checked > 0, "%s: %d estimates agree with R to 1e-6 (max |diff| %.3g)", input,
	    checked, maxdiff);

	/* The JSON output carries the same numbers at full precision. */
	json = result_to_json(r, 0);
	round = json_loads(json, 0, &err);
	tap_ok(round != NULL && json_equal(json_object_get(round, "survey"), json_object_get(exp, "survey")),
	    "%s: JSON output parses and names survey %s", input, s->code);
	if (round != NULL) {
		json_t *u0 = json_array_get(json_object_get(round, "units"), 0);
		json_t *e0 = json_array_get(json_object_get(exp, "units"), 0);
		double v0 = json_number_value(json_object_get(json_object_get(u0, "overall"), "ci_low"));
		double w0 = json_number_value(json_object_get(json_object_get(e0, "overall"), "ci_low"));

		tap_ok(fabs(v0 - w0) <= TOL, "%s: JSON overall ci_low of the first unit agrees (%.15g)", input, v0);
	}
	json_decref(round);
	free(json);
	/* The compact text is written directly; it must be what Jansson writes
	 * (parse and dump again: the same bytes) and hold what the indented
	 * text, built as a Jansson tree, holds. Then again with the numbers of
	 * the last unit withheld. */
	for (k = 0; k < 2; k++) {
		json_t *back, *tree;
		char *pretty, *again;

		if (k == 1)
			result_unit_withhold(s, &r->units[r->nunits - 1], 7);
		json = result_to_json(r, 0);
		pretty = result_to_json(r, 1);
		back = json_loads(json, 0, &err);
		tree = json_loads(pretty, 0, &err);
		again = back != NULL ? json_dumps(back, JSON_PRESERVE_ORDER |
		    JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
		tap_ok(again != NULL && strcmp(again, json) == 0 &&
		    json_equal(back, tree), "%s: the compact JSON%s is Jansson's, "
		    "byte for byte, and equals the indented one", input,
		    k == 1 ? " of a withheld unit" : "");
		json_decref(back);
		json_decref(tree);
		free(again);
		free(pretty);
		free(json);
	}
	json_decref(exp);
	result_free(r);
	result_free(rb);
	analysis_free(a);
	analysis_free(b);
	survey_free(s);
}

int
main(void)
{
	const char *data = getenv("SIPAS_TEST_DATA");
	char *dir, *path;
	json_t *index, *c;
	json_error_t err;
	size_t i;

	util_jansson_init();
	gsl_set_error_handler_off();
	xasprintf(&dir, "%s/fixtures", data ? data : "tests/data");
	xasprintf(&path, "%s/index.json", dir);
	index = json_load_file(path, 0, &err);
	if (!tap_ok(index != NULL, "fixture index %s loads", path))
		return tap_done();
	json_array_foreach(json_object_get(index, "cases"), i, c)
		run_case(dir, c);
	tap_ok(json_array_size(json_object_get(index, "cases")) == 7, "all 7 fixture cases ran");
	json_decref(index);
	free(path);
	free(dir);
	return tap_done();
}
