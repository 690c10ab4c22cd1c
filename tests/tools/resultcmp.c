/*
 * resultcmp.c: compares two analysis results (docs/interfaces.md, "Result
 * JSON"), typically R's reference from tests/tools/oracle.R against sipasctl
 * analyze.
 *
 *	resultcmp [-N] [-m MAX] EXPECTED.json ACTUAL.json [TOL]
 *
 * Same survey and confidence, same set of units; per unit the same design and
 * respondents; overall, groups, items and expectations matched by code, with
 * value, ci_low and ci_high equal within TOL (absolute, percentage points,
 * default 1e-6; null only matches null) and n equal exactly. Prints every
 * mismatch (the first MAX of them, default 200), the largest absolute
 * difference seen and a summary. Exit 0 if all match, 1 if not, 2 on a usage
 * or file error. With -N, R's degenerate interval (jsonlite writes NaN as the
 * string "NaN") also matches null.
 *
 * A test tool: standalone, links Jansson only, no project code.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

/* What one JSON field holds, for comparison. */
enum cmp_kind {
	CMP_ABSENT,
	CMP_NULL,
	CMP_NUMBER,
	CMP_STRING,
	CMP_OTHER
};

/* The running state of one comparison. */
struct cmp {
	double		 tol;
	int		 nan_is_null;
	long		 max_print;
	long		 mismatches;
	long		 compared;
	double		 max_diff;	/* -1 until a number is compared */
	char		 max_where[256];
};

/* Print one mismatch, unless too many have been printed already. */
static void __attribute__((format(printf, 2, 3)))
cmp_report(struct cmp *c, const char *fmt, ...)
{
	va_list ap;

	c->mismatches++;
	if (c->mismatches > c->max_print)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Classify a field of an object (NULL object: absent). */
static enum cmp_kind
cmp_kind_of(json_t *v)
{
	if (v == NULL)
		return CMP_ABSENT;
	if (json_is_null(v))
		return CMP_NULL;
	if (json_is_number(v))
		return CMP_NUMBER;
	if (json_is_string(v))
		return CMP_STRING;
	return CMP_OTHER;
}

/* Render a field for a message into buf. */
static const char *
cmp_show(json_t *v, char *buf, size_t len)
{
	switch (cmp_kind_of(v)) {
	case CMP_ABSENT:
		snprintf(buf, len, "(absent)");
		break;
	case CMP_NULL:
		snprintf(buf, len, "null");
		break;
	case CMP_NUMBER:
		snprintf(buf, len, "%.15g", json_number_value(v));
		break;
	case CMP_STRING:
		snprintf(buf, len, "\"%s\"", json_string_value(v));
		break;
	default:
		snprintf(buf, len, "(not a number)");
		break;
	}
	return buf;
}

/* Whether v is R's NaN/NA as jsonlite writes it: a string. */
static int
cmp_is_r_nan(json_t *v)
{
	const char *s;

	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	return strcmp(s, "NaN") == 0 || strcmp(s, "NA") == 0;
}

/* Compare one percentage field (value, ci_low, ci_high) of an estimate. */
static void
cmp_percent(struct cmp *c, const char *where, const char *field, json_t *e,
    json_t *a)
{
	enum cmp_kind	ke = cmp_kind_of(e), ka = cmp_kind_of(a);
	char		bufe[64], bufa[64];
	double		d;

	c->compared++;
	if (ke == CMP_NUMBER && ka == CMP_NUMBER) {
		d = fabs(json_number_value(e) - json_number_value(a));
		if (c->max_diff < 0 || !isfinite(d) || d > c->max_diff) {
			c->max_diff = isfinite(d) ? d : INFINITY;
			snprintf(c->max_where, sizeof c->max_where, "%s %s",
			    where, field);
		}
		if (!(d <= c->tol))
			cmp_report(c, "%s %s: expected %s got %s (diff %.3g)",
			    where, field, cmp_show(e, bufe, sizeof bufe),
			    cmp_show(a, bufa, sizeof bufa), d);
		return;
	}
	if (ke == CMP_NULL && ka == CMP_NULL)
		return;
	if (ke == CMP_STRING && ka == CMP_STRING &&
	    strcmp(json_string_value(e), json_string_value(a)) == 0)
		return;
	if (c->nan_is_null && cmp_is_r_nan(e) && ka == CMP_NULL)
		return;
	cmp_report(c, "%s %s: expected %s got %s", where, field,
	    cmp_show(e, bufe, sizeof bufe), cmp_show(a, bufa, sizeof bufa));
}

/* Compare a count field (n, respondents): equal numbers. */
static void
cmp_count(struct cmp *c, const char *where, const char *field, json_t *e,
    json_t *a)
{
	char	bufe[64], bufa[64];

	c->compared++;
	if (json_is_number(e) && json_is_number(a) &&
	    json_number_value(e) == json_number_value(a))
		return;
	cmp_report(c, "%s %s: expected %s got %s", where, field,
	    cmp_show(e, bufe, sizeof bufe), cmp_show(a, bufa, sizeof bufa));
}

/* Compare one estimate object; where names it ("unit U003 item Q9_4"). */
static void
cmp_estimate(struct cmp *c, const char *where, json_t *e, json_t *a)
{
	static const char *const fields[] = { "value", "ci_low", "ci_high" };
	size_t	i;

	if (!json_is_object(e) || !json_is_object(a)) {
		cmp_report(c, "%s: %s is not an object", where,
		    json_is_object(e) ? "actual" : "expected");
		return;
	}
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
		cmp_percent(c, where, fields[i], json_object_get(e, fields[i]),
		    json_object_get(a, fields[i]));
	cmp_count(c, where, "n", json_object_get(e, "n"),
	    json_object_get(a, "n"));
}

/* The code of an estimate, or NULL. */
static const char *
cmp_code(json_t *est)
{
	return json_string_value(json_object_get(est, "code"));
}

/* Find the element of array arr whose key field equals code. */
static json_t *
cmp_find(json_t *arr, const char *key, const char *code)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(json_object_get(v, key));

		if (s != NULL && strcmp(s, code) == 0)
			return v;
	}
	return NULL;
}

/* Compare two arrays of estimates (groups, items, expectations) by code. */
static void
cmp_list(struct cmp *c, const char *unit, const char *what, json_t *e,
    json_t *a)
{
	char	 where[256];
	json_t	*v, *other;
	size_t	 i;

	if (!json_is_array(e) || !json_is_array(a)) {
		cmp_report(c, "unit %s %s: %s is not an array", unit, what,
		    json_is_array(e) ? "actual" : "expected");
		return;
	}
	json_array_foreach(e, i, v) {
		const char *code = cmp_code(v);

		if (code == NULL) {
			cmp_report(c, "unit %s %s[%zu]: expected has no code",
			    unit, what, i);
			continue;
		}
		snprintf(where, sizeof where, "unit %s %s %s", unit, what,
		    code);
		if ((other = cmp_find(a, "code", code)) == NULL)
			cmp_report(c, "%s: missing in actual", where);
		else
			cmp_estimate(c, where, v, other);
	}
	json_array_foreach(a, i, v) {
		const char *code = cmp_code(v);

		if (code == NULL)
			cmp_report(c, "unit %s %s[%zu]: actual has no code",
			    unit, what, i);
		else if (cmp_find(e, "code", code) == NULL)
			cmp_report(c, "unit %s %s %s: not in expected", unit,
			    what, code);
	}
}

/* Compare one unit of the result. */
static void
cmp_unit(struct cmp *c, const char *unit, json_t *e, json_t *a)
{
	static const struct {
		const char *key, *what;
	} lists[] = {
		{ "groups", "group" },
		{ "items", "item" },
		{ "expectations", "expectation" },
	};
	const char	*de, *da;
	char		 where[256];
	size_t		 i;

	snprintf(where, sizeof where, "unit %s", unit);
	de = json_string_value(json_object_get(e, "design"));
	da = json_string_value(json_object_get(a, "design"));
	c->compared++;
	if (de == NULL || da == NULL || strcmp(de, da) != 0)
		cmp_report(c, "%s design: expected %s got %s", where,
		    de ? de : "(none)", da ? da : "(none)");
	cmp_count(c, where, "respondents", json_object_get(e, "respondents"),
	    json_object_get(a, "respondents"));

	de = cmp_code(json_object_get(e, "overall"));
	da = cmp_code(json_object_get(a, "overall"));
	snprintf(where, sizeof where, "unit %s overall %s", unit,
	    de ? de : "?");
	if (de == NULL || da == NULL || strcmp(de, da) != 0)
		cmp_report(c, "%s: code expected %s got %s", where,
		    de ? de : "(none)", da ? da : "(none)");
	else
		cmp_estimate(c, where, json_object_get(e, "overall"),
		    json_object_get(a, "overall"));

	for (i = 0; i < sizeof lists / sizeof lists[0]; i++)
		cmp_list(c, unit, lists[i].what,
		    json_object_get(e, lists[i].key),
		    json_object_get(a, lists[i].key));
}

/* Compare two whole results; returns the number of units compared. */
static size_t
cmp_result(struct cmp *c, json_t *e, json_t *a)
{
	const char	*se, *sa;
	json_t		*ue, *ua, *v, *other;
	size_t		 i, units = 0;

	se = json_string_value(json_object_get(e, "survey"));
	sa = json_string_value(json_object_get(a, "survey"));
	c->compared++;
	if (se == NULL || sa == NULL || strcmp(se, sa) != 0)
		cmp_report(c, "survey: expected %s got %s", se ? se : "(none)",
		    sa ? sa : "(none)");
	c->compared++;
	if (!json_is_number(json_object_get(a, "confidence")) ||
	    fabs(json_number_value(json_object_get(e, "confidence")) -
	    json_number_value(json_object_get(a, "confidence"))) > 1e-12)
		cmp_report(c, "confidence: expected %g got %g",
		    json_number_value(json_object_get(e, "confidence")),
		    json_number_value(json_object_get(a, "confidence")));

	ue = json_object_get(e, "units");
	ua = json_object_get(a, "units");
	if (!json_is_array(ue) || !json_is_array(ua)) {
		cmp_report(c, "units: %s has no units array",
		    json_is_array(ue) ? "actual" : "expected");
		return 0;
	}
	json_array_foreach(ue, i, v) {
		const char *code = json_string_value(json_object_get(v,
		    "unit"));

		if (code == NULL) {
			cmp_report(c, "units[%zu]: expected has no unit code",
			    i);
			continue;
		}
		if ((other = cmp_find(ua, "unit", code)) == NULL) {
			cmp_report(c, "unit %s: missing in actual", code);
			continue;
		}
		cmp_unit(c, code, v, other);
		units++;
	}
	json_array_foreach(ua, i, v) {
		const char *code = json_string_value(json_object_get(v,
		    "unit"));

		if (code == NULL)
			cmp_report(c, "units[%zu]: actual has no unit code", i);
		else if (cmp_find(ue, "unit", code) == NULL)
			cmp_report(c, "unit %s: not in expected", code);
	}
	return units;
}

/* Load a JSON file or explain why not. */
static json_t *
cmp_load(const char *path)
{
	json_error_t	 err;
	json_t		*j;

	j = json_load_file(path, JSON_DECODE_ANY, &err);
	if (j == NULL)
		fprintf(stderr, "resultcmp: %s:%d:%d: %s\n", path, err.line,
		    err.column, err.text);
	else if (!json_is_object(j)) {
		fprintf(stderr, "resultcmp: %s: not a JSON object\n", path);
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* Print how to call. */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: resultcmp [-N] [-m MAX] EXPECTED.json "
	    "ACTUAL.json [TOL]\n");
	exit(2);
}

/* resultcmp [-N] [-m MAX] EXPECTED ACTUAL [TOL]: see the top of the file. */
int
main(int argc, char **argv)
{
	struct cmp	 c;
	json_t		*e, *a;
	char		*end;
	size_t		 units;
	int		 ch;

	memset(&c, 0, sizeof c);
	c.tol = 1e-6;
	c.max_print = 200;
	c.max_diff = -1;
	while ((ch = getopt(argc, argv, "Nm:")) != -1) {
		switch (ch) {
		case 'N':
			c.nan_is_null = 1;
			break;
		case 'm':
			errno = 0;
			c.max_print = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || c.max_print < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 && argc != 3)
		usage();
	if (argc == 3) {
		errno = 0;
		c.tol = strtod(argv[2], &end);
		if (errno != 0 || *end != '\0' || !(c.tol >= 0))
			usage();
	}

	if ((e = cmp_load(argv[0])) == NULL)
		return 2;
	if ((a = cmp_load(argv[1])) == NULL) {
		json_decref(e);
		return 2;
	}
	units = cmp_result(&c, e, a);
	json_decref(e);
	json_decref(a);

	if (c.mismatches > c.max_print)
		printf("... and %ld more mismatches\n",
		    c.mismatches - c.max_print);
	if (c.max_diff < 0)
		printf("max abs diff: no numbers compared\n");
	else
		printf("max abs diff %.3g at %s\n", c.max_diff, c.max_where);
	printf("%s: %zu units, %ld fields compared, %ld mismatches "
	    "(tolerance %g)\n", c.mismatches == 0 ? "MATCH" : "DIFFER",
	    units, c.compared, c.mismatches, c.tol);
	return c.mismatches == 0 ? 0 : 1;
}
