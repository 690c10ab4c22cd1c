/*
 * sipasctl.c: main() of the operator's tool: library set-up, the global
 * options (before or after the command), every command's help and manual
 * entry from the ctl_verbs table and the verbs' option tables (ctl.h), and
 * the dispatch to a verb. It does no work of its own.
 */
#include "config.h"

#include <ctype.h>
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

/* The verbs, in the order sipasctl --help lists them: one row each. */
const struct ctl_verb ctl_verbs[] = {
	{ "analyze",
	    "--survey SURVEY --input FILE.csv [--level 0.95] [--format json|csv]",
	    "compute the indices of a responses CSV (no database)", CTL_DB_NONE,
	    ctl_analyze_opts, ctl_analyze_run },
	{ "init", "[--surveys DIR]",
	    "create or upgrade the schema, load or upgrade the built-in surveys",
	    CTL_DB_NEEDS, ctl_init_opts, ctl_init_run },
	{ "unit", "import UNITS.csv", "add or update units (code,name,level,parent)",
	    CTL_DB_NEEDS, NULL, ctl_unit_run },
	{ "survey", "load FILE.json", "store a custom survey definition",
	    CTL_DB_NEEDS, NULL, ctl_survey_run },
	{ "token", "create --role ROLE [--unit CODE] [--name TEXT] | list | revoke ID|NAME",
	    "manage API tokens", CTL_DB_NEEDS, ctl_token_opts, ctl_token_run },
	{ "user", "add LOGIN --role viewer|uploader|admin [--unit CODE] [--name TEXT] --password-stdin | passwd LOGIN --password-stdin | disable LOGIN | list",
	    "manage people's accounts (passwords read from standard input)",
	    CTL_DB_NEEDS, ctl_user_opts, ctl_user_run },
	{ "export", "--survey CODE [--unit CODE] [--from DATE] [--to DATE] [--channel CHANNEL]",
	    "stream stored responses as a responses CSV", CTL_DB_NEEDS,
	    ctl_export_opts, ctl_export_run },
	{ "poster", "--survey CODE --unit CODE [--name TEXT] [--url BASE] [--sms-number NUMBER] -o FILE.pdf|.svg|.png",
	    "print an A4 poster with the form's QR code and the SMS syntax",
	    CTL_DB_MAY, ctl_poster_opts, ctl_poster_run },
	{ "import", "--survey CODE [--weight-max N] [--channel-ids] [--encoding CHARSET] [--sheet NAME] FILE.csv|FILE.xlsx|-",
	    "store a responses CSV or XLSX (as POST /api/v1/uploads); exit 2 if a row was rejected",
	    CTL_DB_NEEDS, ctl_import_opts, ctl_import_run },
	{ "purge", "--texts --older-than DAYS | --survey CODE --unit CODE [--from DATE] [--to DATE] [--dry-run]",
	    "blank old free text, or delete a unit's responses (audited)",
	    CTL_DB_NEEDS, ctl_purge_opts, ctl_purge_run },
	{ "aggregate", "[--survey CODE] [--batch N] [--rebuild]",
	    "fold pending responses into the aggregates (sipasd does it too)",
	    CTL_DB_NEEDS, ctl_aggregate_opts, ctl_aggregate_run },
	{ "report", "--survey CODE --unit CODE --from DATE --to DATE [--format xlsx|pdf|csv|html] -o FILE [--lang vi|en] [--min-n N] [--level 0.95] [--trend N] [--raw]",
	    "the periodic statistical report of a unit and its children",
	    CTL_DB_NEEDS, ctl_report_opts, ctl_report_run },
	{ "template", "--survey CODE [--format xlsx|csv] [--unit CODE] -o FILE",
	    "the sheet a survey team fills for an upload (as GET /uploads/template)",
	    CTL_DB_NEEDS, ctl_template_opts, ctl_template_run },
	{ NULL, NULL, NULL, CTL_DB_NONE, NULL, NULL },
};

/* getopt_long()'s values of the global options; no verb's val may be one. */
#define CTL_OPT_DB 0x7f01
#define CTL_OPT_MAN 0x7f02
/* Options a verb may have, the global ones included. */
#define CTL_OPTS_MAX 32

/* The global options, as the verbs' help and sipasctl(1) list them. */
static const struct ctl_opt ctl_global_opts[] = {
	{ "db", CTL_OPT_DB, 0, "CONNINFO", "libpq connection string (before "
	    "or after the command; default: the PG* environment)" },
	{ "help", 'h', 'h', NULL, "print the usage and every option, then exit" },
	{ NULL, 0, 0, NULL, NULL },
};

/* Fill getopt_long()'s tables from up to two option tables. */
static void
ctl_getopt_tables(const struct ctl_opt *a, const struct ctl_opt *b,
    struct option *lo, char *so, const char *prefix)
{
	const struct ctl_opt *t[2] = { a, b }, *o;
	size_t n = 0, i;

	so += strlen(strcpy(so, prefix));
	for (i = 0; i < 2; i++) {
		for (o = t[i]; o != NULL && o->name != NULL; o++) {
			ASSERT(n < CTL_OPTS_MAX);
			lo[n].name = o->name;
			lo[n].has_arg = o->arg != NULL ? required_argument :
			    no_argument;
			lo[n].flag = NULL;
			lo[n].val = o->val;
			n++;
			if (o->letter != 0) {
				*so++ = (char)o->letter;
				if (o->arg != NULL)
					*so++ = ':';
			}
		}
	}
	memset(&lo[n], 0, sizeof lo[n]);
	*so = '\0';
}

/* getopt_long() over a verb's option table. */
int
ctl_getopt(int argc, char **argv, const struct ctl_opt *opts)
{
	struct option lo[CTL_OPTS_MAX + 1];
	char so[2 * CTL_OPTS_MAX + 2];

	ctl_getopt_tables(opts, NULL, lo, so, "");
	return getopt_long(argc, argv, so, lo, NULL);
}

/*
 * Take the global options out of a verb's argv (argv[0] is the verb): --db
 * sets ctl->db and is removed, --help or -h sets *help. The verb's own
 * options are recognised so that their arguments are not taken for options;
 * the rest is left to the verb's parser. 0, or -1 after a message.
 */
static int
ctl_verb_globals(struct ctl *ctl, const struct ctl_verb *v, int *argcp,
    char **argv, int *help)
{
	struct option lo[CTL_OPTS_MAX + 1];
	char so[2 * CTL_OPTS_MAX + 4];
	int argc = *argcp, c, i, n, prev = 1, r = 0;
	char *drop;

	drop = xcalloc((size_t)argc + 1, 1);
	/* "-": every argument in order, no permutation; ":": quiet. */
	ctl_getopt_tables(v->opts, ctl_global_opts, lo, so, "-:");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (c == CTL_OPT_DB) {
			ctl->db = optarg;
			for (i = prev; i < optind; i++)
				drop[i] = 1;
		} else if (c == 'h')
			*help = 1;
		else if (c == ':' && optopt == CTL_OPT_DB) {
			ctl_warnx("option '--db' requires an argument");
			r = -1;
		}
		if (optind > prev)
			prev = optind;
	}
	for (i = n = 0; i < argc; i++) {
		if (!drop[i])
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	*argcp = n;
	free(drop);
	opterr = 1;
	optind = 0;
	return r;
}

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
	fprintf(f, "usage: sipasctl %s%s%s%s\n", v->db != CTL_DB_NONE ?
	    "[--db CONNINFO] " : "", v->name, *v->usage != '\0' ? " " : "",
	    v->usage);
}

/* Print the options of a table, one a line. */
static void
ctl_opts_print(FILE *f, const struct ctl_opt *o)
{
	char left[64];

	for (; o != NULL && o->name != NULL; o++) {
		snprintf(left, sizeof left, "%c%c%c --%s%s%s", o->letter != 0 ?
		    '-' : ' ', o->letter != 0 ? o->letter : ' ', o->letter != 0 ?
		    ',' : ' ', o->name, o->arg != NULL ? " " : "",
		    o->arg != NULL ? o->arg : "");
		fprintf(f, "  %-24s %s\n", left, o->help);
	}
}

/* A verb's whole help: usage, what it does, every option. */
static void
ctl_verb_help(FILE *f, const struct ctl_verb *v)
{
	ctl_verb_usage(f, v);
	fprintf(f, "\n%s\n", v->help);
	if (v->opts != NULL && v->opts->name != NULL) {
		fprintf(f, "\noptions:\n");
		ctl_opts_print(f, v->opts);
	}
	fprintf(f, "\nglobal options:\n");
	ctl_opts_print(f, v->db != CTL_DB_NONE ? ctl_global_opts :
	    ctl_global_opts + 1);
	fprintf(f, "\nExit status: 0 done, 1 run-time failure (database, I/O), "
	    "2 bad usage or bad input.\n");
}

/* The options of a table as roff tagged paragraphs. */
static void
ctl_roff_opts(FILE *f, const struct ctl_opt *o)
{
	for (; o != NULL && o->name != NULL; o++) {
		fputs(".TP\n", f);
		if (o->letter != 0)
			fprintf(f, "\\fB\\-%c\\fR, ", o->letter);
		fputs("\\fB\\-\\-", f);
		util_roff_puts(f, o->name);
		fputs("\\fR", f);
		if (o->arg != NULL) {
			fputs(" \\fI", f);
			util_roff_puts(f, o->arg);
			fputs("\\fR", f);
		}
		fputc('\n', f);
		util_roff_puts(f, o->help);
		fputc('\n', f);
	}
}

/* The COMMANDS and GLOBAL OPTIONS sections of sipasctl(1), from the tables. */
static void
ctl_roff(FILE *f)
{
	const struct ctl_verb *v;

	fputs(".SH COMMANDS\n", f);
	for (v = ctl_verbs; v->name != NULL; v++) {
		fprintf(f, ".SS %s\n.B sipasctl\n", v->name);
		if (v->db != CTL_DB_NONE)
			fputs(".RB [ \\-\\-db\n.IR CONNINFO ]\n", f);
		fprintf(f, ".B %s\n", v->name);
		if (*v->usage != '\0') {
			util_roff_puts(f, v->usage);
			fputc('\n', f);
		}
		/* The one-line help as a sentence. */
		fprintf(f, ".PP\n%c", toupper((unsigned char)*v->help));
		util_roff_puts(f, v->help + 1);
		fputs(v->db == CTL_DB_MAY ? ". It reads the database only for "
		    "what its options do not give.\n" : ".\n", f);
		ctl_roff_opts(f, v->opts);
	}
	fputs(".SH GLOBAL OPTIONS\n"
	    "These may come before or after the command.\n", f);
	ctl_roff_opts(f, ctl_global_opts);
	fputs(".TP\n\\fB\\-\\-version\\fR\n"
	    "print the version and exit (before the command only)\n"
	    ".TP\n\\fB\\-\\-man\\fR\n"
	    "print the COMMANDS section of this page in roff (the build "
	    "uses it; before the command only)\n", f);
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
		   "       sipasctl --help | --version | help [COMMAND]\n"
		   "       sipasctl COMMAND --help\n\n"
		   "commands:\n");
	for (v = ctl_verbs; v->name != NULL; v++)
		fprintf(f, "  %-10s %s\n", v->name, v->help);
	fprintf(f, "  %-10s %s\n", "help", "print the usage of every command, "
	    "or the whole usage of one");
	fprintf(f, "\nglobal options (before or after the command):\n");
	ctl_opts_print(f, ctl_global_opts);
	fprintf(f, "  %-24s %s\n", "    --version", "print the version and exit");
	fprintf(f, "  %-24s %s\n", "    --man", "print the commands as the roff "
	    "text of sipasctl(1) and exit");
	fprintf(f, "\nExit status: 0 done, 1 run-time failure (database, I/O), "
	    "2 bad usage or bad input.\n");
}

/* An unknown command: the message, the exit status. */
static int
ctl_unknown(const char *name)
{
	ctl_warnx("unknown command '%s'; 'sipasctl help' lists the commands",
	    name);
	return CTL_EXIT_USAGE;
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
	if (argc > 2) {
		ctl_warnx("usage: sipasctl help [COMMAND]");
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0) {
		printf("usage: sipasctl help [COMMAND]\n");
		return CTL_EXIT_OK;
	}
	if ((v = ctl_verb_find(argv[1])) == NULL)
		return ctl_unknown(argv[1]);
	ctl_verb_help(stdout, v);
	return CTL_EXIT_OK;
}

/* Global options, then the verb. */
int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "db", required_argument, NULL, CTL_OPT_DB },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "man", no_argument, NULL, CTL_OPT_MAN },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { NULL };
	const struct ctl_verb *v;
	int ch, help = 0;

	util_jansson_init();
	gsl_set_error_handler_off();

	/* "+": stop at the verb, whose options are its own. */
	while ((ch = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
		switch (ch) {
		case CTL_OPT_DB:
			ctl.db = optarg;
			break;
		case 'h':
			help = 1;
			break;
		case 'V':
			printf("sipasctl %s\n", PACKAGE_VERSION);
			return CTL_EXIT_OK;
		case CTL_OPT_MAN:
			ctl_roff(stdout);
			return CTL_EXIT_OK;
		default:
			ctl_warnx("'sipasctl help' lists the commands and options");
			return CTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		if (help) {
			ctl_usage(stdout);
			return CTL_EXIT_OK;
		}
		ctl_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[0], "help") == 0)
		return ctl_help(argc, argv);
	if ((v = ctl_verb_find(argv[0])) == NULL)
		return ctl_unknown(argv[0]);
	if (ctl_verb_globals(&ctl, v, &argc, argv, &help) != 0)
		return CTL_EXIT_USAGE;
	if (help) {
		ctl_verb_help(stdout, v);
		return CTL_EXIT_OK;
	}
	if (ctl.db != NULL && v->db == CTL_DB_NONE) {
		ctl_warnx("%s reads no database: --db is not an option of it",
		    v->name);
		return CTL_EXIT_USAGE;
	}
	/* The verb parses its own argv with getopt_long from the start. */
	optind = 0;
	return v->run(&ctl, argc, argv);
}
