/*
 * test_intervals.c: Wilson intervals, t quantiles, change between periods
 * and the WLS trend against R (tests/data/intervals-ref.json, made by
 * tests/tools/gen_compare_ref.R).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <jansson.h>

#include "sipas/analysis.h"
#include "sipas/util.h"
#include "tap.h"

/* A member as a double. */
static double
num(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

int
main(void)
{
	const char *data = getenv("SIPAS_TEST_DATA");
	json_t *ref, *c, *tr;
	json_error_t err;
	char *path;
	size_t i;

	util_jansson_init();
	gsl_set_error_handler_off();
	xasprintf(&path, "%s/intervals-ref.json", data ? data : "tests/data");
	ref = json_load_file(path, 0, &err);
	free(path);
	if (!tap_ok(ref != NULL, "reference loads"))
		return tap_done();

	json_array_foreach(json_object_get(ref, "wilson"), i, c) {
		double lo, hi;

		stats_wilson(num(c, "x"), num(c, "n"), num(c, "level"), &lo, &hi);
		tap_ok(tap_close(lo, num(c, "lo"), 1e-12) && tap_close(hi, num(c, "hi"), 1e-12),
		    "Wilson %g of %g at %g: [%.12f, %.12f]", num(c, "x"), num(c, "n"), num(c, "level"), lo, hi);
	}
	json_array_foreach(json_object_get(ref, "t"), i, c) {
		json_t *df = json_object_get(c, "df");
		double d = json_is_string(df) ? INFINITY : json_number_value(df);
		double q = stats_t_quantile(num(c, "level"), d);

		tap_ok(tap_close(q, num(c, "q"), 1e-10), "t quantile df %g level %g: %.12f", d, num(c, "level"), q);
	}
	tap_ok(isnan(stats_t_quantile(0.95, 0)), "t quantile on 0 df is undefined");

	json_array_foreach(json_object_get(ref, "change"), i, c) {
		struct estimate a = { num(c, "v1"), NAN, NAN, num(c, "se1"), INFINITY, 100 };
		struct estimate b = { num(c, "v2"), NAN, NAN, num(c, "se2"), INFINITY, 100 };
		struct change ch;

		tap_ok(stats_change(&a, &b, &ch) == 0 && tap_close(ch.diff, num(c, "diff"), 1e-12) &&
		    tap_close(ch.se, num(c, "se"), 1e-12) && tap_close(ch.p, num(c, "p"), 1e-12) &&
		    ch.significant == (num(c, "p") < 0.05),
		    "change %g -> %g: diff %.3f, p %.6f", a.value, b.value, ch.diff, ch.p);
	}
	{
		struct estimate a = { NAN, NAN, NAN, NAN, INFINITY, 0 }, b = { 80, 70, 90, 5, 10, 50 };
		struct change ch;

		tap_ok(stats_change(&a, &b, &ch) == -1, "no change without an earlier value");
	}

	tr = json_object_get(ref, "trend");
	{
		double x[6], y[6], se[6], slope, sse;

		for (i = 0; i < 6; i++) {
			x[i] = json_number_value(json_array_get(json_object_get(tr, "x"), i));
			y[i] = json_number_value(json_array_get(json_object_get(tr, "y"), i));
			se[i] = json_number_value(json_array_get(json_object_get(tr, "se"), i));
		}
		tap_ok(stats_trend(x, y, se, 6, &slope, &sse) == 0 && tap_close(slope, num(tr, "slope"), 1e-10) &&
		    tap_close(sse, num(tr, "slope_se"), 1e-10), "WLS trend slope %.6f (SE %.6f) equals R's lm",
		    slope, sse);
		tap_ok(stats_trend(x, y, se, 1, &slope, &sse) == -1, "no trend from one period");
		tap_ok(stats_trend(x, y, se, 2, &slope, &sse) == -1, "no trend from two periods");
		tap_ok(stats_trend(x, y, se, 3, &slope, &sse) == 0, "a trend from three periods");
	}

	{
		struct estimate e = { 85, 82, 88, 1.5, 100, 200 };

		tap_ok(stats_rank_flag(&e, 80) == RANK_ABOVE, "interval above the parent's value: above");
		tap_ok(stats_rank_flag(&e, 90) == RANK_BELOW, "interval below the parent's value: below");
		tap_ok(stats_rank_flag(&e, 85) == RANK_WITHIN, "interval around the parent's value: within");
		e.ci_low = NAN;
		tap_ok(stats_rank_flag(&e, 85) == RANK_NONE, "no interval: not ranked");
		tap_ok(strcmp(stats_rank_flag_name(RANK_BELOW), "below") == 0, "flag names");
	}
	json_decref(ref);
	return tap_done();
}
