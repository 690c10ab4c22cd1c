/*
 * sipasctl.c: main() of the operator's tool: library set-up, the global
 * options and the dispatch to a verb of the ctl_verbs table (ctl.h). It knows
 * no verb's options and does no work of its own.
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "sipas/response.h"
#include "sipas/util.h"

#include "ctl.h"
#include "ctl_db.h"
#include "ctl_report.h"

/* The verbs, in the order sipasctl --help lists them. */
const struct ctl_verb ctl_verbs[] = {
	{ "analyze",
	    "--survey SURVEY --input FILE.csv [--level 0.95] [--format json|csv]",
	    "compute the indices of a responses CSV (no database)", 0,
	    ctl_analyze_run },
	{ "init", "", "create or upgrade the schema, load the built-in surveys",
	    1, ctl_init_run },
	{ "unit", "import UNITS.csv", "add or update units (code,name,level,parent)",
	    1, ctl_unit_run },
	{ "survey", "load FILE.json", "store a custom survey definition", 1,
	    ctl_survey_run },
	{ "token", "create --role ROLE [--unit CODE] [--name TEXT] | list | revoke ID|NAME",
	    "manage API tokens", 1, ctl_token_run },
	{ "user", "add LOGIN --role viewer|uploader|admin [--unit CODE] [--name TEXT] --password-stdin | passwd LOGIN --password-stdin | disable LOGIN | list",
	    "manage people's accounts (passwords read from standard input)", 1,
	    ctl_user_run },
	{ "export", "--survey CODE [--unit CODE] [--from DATE] [--to DATE]",
	    "stream stored responses as a responses CSV", 1, ctl_export_run },
	{ "poster", "--survey CODE --unit CODE [--name TEXT] [--url BASE] -o FILE.pdf|.svg|.png",
	    "print an A4 poster with the form's QR code and the SMS syntax", 0,
	    ctl_poster_run },
	{ "import", "--survey CODE [--weight-max N] [--channel-ids] FILE.csv",
	    "store a responses CSV (as POST /api/v1/uploads); exit 2 if a row was rejected",
	    1, ctl_import_run },
	{ "purge", "--texts --older-than DAYS | --survey CODE --unit CODE [--from DATE] [--to DATE] [--dry-run]",
	    "blank old free text, or delete a unit's responses (audited)", 1,
	    ctl_purge_run },
	{ "aggregate", "[--survey CODE] [--batch N] [--rebuild]",
	    "fold pending responses into the aggregates (sipasd does it too)",
	    1, ctl_aggregate_run },
	{ "report", "--survey CODE --unit CODE --from DATE --to DATE --format xlsx|pdf|csv|html -o FILE [--lang vi|en] [--min-n N]",
	    "the periodic statistical report of a unit and its children", 1, ctl_report_run },
	{ NULL, NULL, NULL, 0, NULL },
};

/* A verb by name, or NULL. */
const struct ctl_verb *
ctl_verb_find(const char *name)
{
	const struct ctl_verb *v;

	for (v = ctl_verbs; v->name != NULL; v++) {
		if (strcmp(v->name, name) == 0)
			return v;
	}
	return NULL;
}

/* One verb's usage line. */
void
ctl_verb_usage(FILE *f, const struct ctl_verb *v)
{
	fprintf(f, "usage: sipasctl %s%s%s%s\n", v->needs_db ? "[--db CONNINFO] " : "",
	    v->name, *v->usage != '\0' ? " " : "", v->usage);
}

/* A message to stderr, prefixed with the program's name. */
void
ctl_warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("sipasctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The days of a period's options. */
int
ctl_check_dates(const char *from, const char *to)
{
	const char *bad = from != NULL && !response_date_valid(from) ? "from" :
	    to != NULL && !response_date_valid(to) ? "to" : NULL;

	if (bad != NULL) {
		ctl_warnx("--%s must be a date YYYY-MM-DD from %s to %s", bad,
		    RESPONSE_DATE_MIN, RESPONSE_DATE_MAX);
		return -1;
	}
	if (from != NULL && to != NULL && strcmp(from, to) > 0) {
		ctl_warnx("--to %s is before --from %s", to, from);
		return -1;
	}
	return 0;
}

/* The global usage: options and every verb. */
static void
ctl_usage(FILE *f)
{
	const struct ctl_verb *v;

	fprintf(f, "usage: sipasctl [--db CONNINFO] COMMAND [ARGS]\n"
		   "       sipasctl --help | --version | help COMMAND\n\n"
		   "commands:\n");
	for (v = ctl_verbs; v->name != NULL; v++)
		fprintf(f, "  %-10s %s\n", v->name, v->help);
	fprintf(f, "\nExit status: 0 done, 1 run-time failure, 2 bad usage or input.\n");
}

/* sipasctl help [COMMAND]. */
static int
ctl_help(int argc, char **argv)
{
	const struct ctl_verb *v;

	if (argc < 2) {
		ctl_usage(stdout);
		return CTL_EXIT_OK;
	}
	if ((v = ctl_verb_find(argv[1])) == NULL) {
		ctl_warnx("unknown command '%s'", argv[1]);
		ctl_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	ctl_verb_usage(stdout, v);
	printf("%s\n", v->help);
	return CTL_EXIT_OK;
}

/* Global options, then the verb. */
int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { NULL };
	const struct ctl_verb *v;
	int ch;

	util_jansson_init();
	gsl_set_error_handler_off();

	/* "+": stop at the verb, whose options are its own. */
	while ((ch = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
		switch (ch) {
		case 'd':
			ctl.db = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_EXIT_OK;
		case 'V':
			printf("sipasctl %s\n", PACKAGE_VERSION);
			return CTL_EXIT_OK;
		default:
			ctl_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		ctl_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[0], "help") == 0)
		return ctl_help(argc, argv);
	if ((v = ctl_verb_find(argv[0])) == NULL) {
		ctl_warnx("unknown command '%s'", argv[0]);
		ctl_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	/* The verb parses its own argv with getopt_long from the start. */
	optind = 0;
	return v->run(&ctl, argc, argv);
}
