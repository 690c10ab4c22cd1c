/*
 * analyze.c: sipasctl analyze, the offline analysis of a responses CSV
 * (docs/interfaces.md, "Programs"): no database, no daemon.
 *
 * Streams the file in 64 KiB chunks through csvin into the analysis, so memory
 * is bounded by units, items, PSUs and distinct weights (analysis.h), not rows. Any bad row means no result: every
 * problem goes to stderr as FILE:ROW:COLUMN: NAME: reason (at most
 * ANALYZE_ERRORS_MAX of them), nothing to stdout, exit status 2.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sipas/analysis.h"
#include "sipas/csvin.h"
#include "sipas/survey.h"
#include "sipas/util.h"

#include "ctl.h"

#define ANALYZE_CHUNK 65536
#define ANALYZE_ERRORS_MAX 50

struct analyze {
	const char *file; /* the input's name in messages */
	struct analysis *analysis;
	long errors;
};

/* A good row: into the analysis, unless the input is already known bad. */
static int
analyze_row(const struct response *r, long row, void *arg)
{
	struct analyze *an = arg;
	struct analysis_row ar;

	if (an->errors > 0)
		return 0;
	ar.weight = r->weight;
	ar.stratum = r->stratum;
	ar.psu = r->psu;
	ar.answers = r->answers;
	analysis_add(an->analysis, r->unit, &ar);
	return 0;
}

/* A problem: print the first ANALYZE_ERRORS_MAX, count them all. */
static int
analyze_error(const struct csvin_error *e, void *arg)
{
	struct analyze *an = arg;

	if (++an->errors > ANALYZE_ERRORS_MAX)
		return 0;
	if (e->column_name != NULL) {
		fprintf(stderr, "%s:%ld:%d: %s: %s\n", an->file, e->row, e->column,
		    e->column_name, e->reason);
	} else
		fprintf(stderr, "%s:%ld:%d: %s\n", an->file, e->row, e->column, e->reason);
	return 0;
}

/* The verb's usage, to stderr; the exit status of bad usage. */
static int
analyze_usage(void)
{
	ctl_verb_usage(stderr, ctl_verb_find("analyze"));
	return CTL_EXIT_USAGE;
}

/* A built-in survey by code, or a definition file; NULL after a message. */
static struct survey *
analyze_survey_load(const char *arg)
{
	const char *const *codes;
	struct survey *s;
	struct stat sb;
	char *text, *cause = NULL, *list = NULL, *tmp;
	size_t len;

	if ((s = survey_builtin_create(arg)) != NULL)
		return s;
	if (stat(arg, &sb) != 0) {
		for (codes = survey_builtin_codes(); *codes != NULL; codes++) {
			xasprintf(&tmp, "%s%s%s", list == NULL ? "" : list,
			    list == NULL ? "" : ", ", *codes);
			free(list);
			list = tmp;
		}
		ctl_warnx("unknown survey '%s' (built-in: %s, or a definition file)",
		    arg, list == NULL ? "none" : list);
		free(list);
		return NULL;
	}
	if ((text = util_file_read(arg, &len, &cause)) == NULL) {
		ctl_warnx("%s", cause);
		free(cause);
		return NULL;
	}
	s = survey_create(text, len, &cause);
	free(text);
	if (s == NULL) {
		ctl_warnx("%s: %s", arg, cause);
		free(cause);
	}
	return s;
}

/* Stream f through a csvin into an->analysis; 0, or -1 after a message. */
static int
analyze_stream(struct analyze *an, const struct survey *survey, FILE *f)
{
	struct csvin *in;
	char *buf = xmalloc(ANALYZE_CHUNK);
	size_t n;
	int rc = 0;

	in = csvin_create(survey, analyze_row, analyze_error, an);
	for (;;) {
		n = fread(buf, 1, ANALYZE_CHUNK, f);
		if (n > 0 && csvin_push(in, buf, n) != 0) {
			rc = -1;
			break;
		}
		if (n < ANALYZE_CHUNK)
			break;
	}
	if (ferror(f)) {
		ctl_warnx("%s: %s", an->file, strerror(errno));
		rc = -1;
	} else if (rc == 0 && csvin_finish(in) != 0)
		rc = -1;
	if (an->errors > ANALYZE_ERRORS_MAX)
		fprintf(stderr, "... and %ld more\n", an->errors - ANALYZE_ERRORS_MAX);
	if (an->errors > 0 && csvin_bad_rows(in) > 0) {
		ctl_warnx("%s: %ld bad row%s of %ld; no result", an->file,
		    csvin_bad_rows(in), csvin_bad_rows(in) == 1 ? "" : "s",
		    csvin_rows(in));
		rc = -1;
	} else if (an->errors > 0) {
		ctl_warnx("%s: no result", an->file);
		rc = -1;
	}
	csvin_free(in);
	free(buf);
	return rc;
}

/* Compute and print the result; an exit status. */
static int
analyze_print(struct analysis *a, int csv)
{
	struct result *r;
	char *out;
	size_t len;

	r = analysis_result(a);
	if (r == NULL) {
		ctl_warnx("the analysis failed");
		return CTL_EXIT_FAIL;
	}
	out = csv ? result_to_csv(r) : result_to_json(r, 1);
	result_free(r);
	if (out == NULL) {
		ctl_warnx("cannot format the result");
		return CTL_EXIT_FAIL;
	}
	len = strlen(out);
	fputs(out, stdout);
	if (len == 0 || out[len - 1] != '\n')
		fputc('\n', stdout);
	free(out);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_warnx("stdout: %s", strerror(errno));
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

/* The options of sipasctl analyze. */
const struct ctl_opt ctl_analyze_opts[] = {
	{ "survey", 's', 's', "SURVEY", "a built-in survey's code or a survey "
	    "definition file (JSON)" },
	{ "input", 'i', 'i', "FILE", "the responses CSV; - reads standard input" },
	{ "level", 'l', 'l', "LEVEL", "confidence level of the intervals, "
	    "between 0 and 1 (default 0.95)" },
	{ "format", 'f', 'f', "FORMAT", "json (default) or csv" },
	{ NULL, 0, 0, NULL, NULL },
};

/* sipasctl analyze --survey SURVEY --input FILE [--level L] [--format F]. */
int
ctl_analyze_run(struct ctl *ctl, int argc, char **argv)
{
	const char *survey_arg = NULL, *input = NULL;
	struct analyze an = { NULL, NULL, 0 };
	struct survey *survey = NULL;
	double level = 0.95;
	char *end;
	FILE *f = NULL;
	int ch, csv = 0, rc;

	while ((ch = ctl_getopt(argc, argv, ctl_analyze_opts)) != -1) {
		switch (ch) {
		case 's':
			survey_arg = optarg;
			break;
		case 'i':
			input = optarg;
			break;
		case 'l':
			errno = 0;
			level = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    !isfinite(level) || level <= 0 || level >= 1) {
				ctl_warnx("--level must be a number between 0 and 1 "
					  "(exclusive), got '%s'", optarg);
				return analyze_usage();
			}
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				csv = 0;
			else if (strcmp(optarg, "csv") == 0)
				csv = 1;
			else {
				ctl_warnx("--format must be json or csv, got '%s'", optarg);
				return analyze_usage();
			}
			break;
		default:
			return analyze_usage();
		}
	}
	if (optind != argc) {
		ctl_warnx("analyze: unexpected argument '%s'", argv[optind]);
		return analyze_usage();
	}
	if (survey_arg == NULL || input == NULL) {
		ctl_warnx("analyze: --survey and --input are required");
		return analyze_usage();
	}

	if ((survey = analyze_survey_load(survey_arg)) == NULL)
		return CTL_EXIT_USAGE;
	if (strcmp(input, "-") == 0) {
		f = stdin;
		an.file = "<stdin>";
	} else if ((f = fopen(input, "rb")) == NULL) {
		ctl_warnx("%s: %s", input, strerror(errno));
		survey_free(survey);
		return CTL_EXIT_USAGE;
	} else
		an.file = input;

	an.analysis = analysis_create(survey, level);
	if (analyze_stream(&an, survey, f) != 0)
		rc = CTL_EXIT_USAGE;
	else
		rc = analyze_print(an.analysis, csv);
	if (f != stdin)
		fclose(f);
	analysis_free(an.analysis);
	survey_free(survey);
	return rc;
}
