/*
 * ctl.h: sipasctl, the operator's tool. sipasctl.c takes the global options
 * (--db, --help, before or after the command) and hands the rest of argv to
 * one verb of the ctl_verbs table; each verb lives in its own file and
 * returns the process's exit status (CTL_EXIT_*, one rule for all).
 *
 * Adding a verb: write int ctl_VERB_run(struct ctl *, int, char **) and its
 * option table ctl_VERB_opts (parsed with ctl_getopt()) in ctl/VERB.c,
 * declare both here, and add one row to ctl_verbs in sipasctl.c: its --help,
 * "sipasctl help VERB" and its section of sipasctl(1) come from that row
 * (docs/sipasctl.md).
 */
#ifndef SIPAS_CTL_H
#define SIPAS_CTL_H

#include <stdio.h>

/* Exit statuses shared by every verb. */
#define CTL_EXIT_OK 0
#define CTL_EXIT_FAIL 1	 /* a run-time failure: database down, I/O error */
#define CTL_EXIT_USAGE 2 /* bad usage or bad input (file, survey, option) */

/* What the global options said; borrowed by the verbs. */
struct ctl {
	const char *db; /* --db CONNINFO, or NULL (config file, PG* variables) */
};

/*
 * One option of a verb: the verb parses with ctl_getopt() from this table,
 * and sipasctl VERB --help and the manual page list it, so neither can
 * forget an option the parser takes.
 */
struct ctl_opt {
	const char *name; /* long name without "--" */
	int val;	  /* what ctl_getopt() returns for it */
	int letter;	  /* also -LETTER, or 0 */
	const char *arg;  /* its argument's name, or NULL if it takes none */
	const char *help; /* one line */
};

/* Whether a verb talks to PostgreSQL (and so takes --db). */
enum ctl_db_use {
	CTL_DB_NONE,	/* never: --db is a usage error */
	CTL_DB_MAY,	/* only for what its options leave out */
	CTL_DB_NEEDS,	/* always */
};

/*
 * A row of the command table. Adding a command: write its run function and
 * its ctl_opt table (ending with a NULL name), add one row to ctl_verbs
 * (sipasctl.c); its --help, "sipasctl help VERB" and its entry in sipasctl(1)
 * come from the row.
 */
struct ctl_verb {
	const char *name;
	const char *usage; /* the arguments after the verb's name */
	const char *help;  /* one line for sipasctl --help */
	enum ctl_db_use db;
	const struct ctl_opt *opts; /* its options, or NULL if none */
	/* argv[0] is the verb's name; returns an exit status (CTL_EXIT_*). */
	int (*run)(struct ctl *, int argc, char **argv);
};

/* Every verb, ending with a NULL name. */
extern const struct ctl_verb ctl_verbs[];

/* A verb by name, or NULL. */
const struct ctl_verb *ctl_verb_find(const char *name);
/* Print "usage: sipasctl VERB USAGE" for one verb. */
void ctl_verb_usage(FILE *, const struct ctl_verb *);
/*
 * getopt_long() over a verb's option table: the option's val, '?' for an
 * unknown option or a missing argument (getopt printed it), -1 at the end.
 */
int ctl_getopt(int argc, char **argv, const struct ctl_opt *);
/* Print a message prefixed with "sipasctl: " to stderr. */
void ctl_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * --from and --to of a period, either may be NULL: 0 if each is a day of
 * RESPONSE_DATE_MIN..MAX and from <= to, else -1 after a message naming the
 * option (the verb then exits CTL_EXIT_USAGE).
 */
int ctl_check_dates(const char *from, const char *to);

/* The option tables of the verbs, beside their parsers. */
extern const struct ctl_opt ctl_analyze_opts[], ctl_token_opts[],
    ctl_export_opts[], ctl_poster_opts[], ctl_import_opts[], ctl_purge_opts[],
    ctl_aggregate_opts[], ctl_report_opts[], ctl_init_opts[],
    ctl_template_opts[], ctl_user_opts[];

/* The verbs of analyze.c; the database verbs are declared in ctl_db.h. */
int ctl_analyze_run(struct ctl *, int argc, char **argv);
/* purge.c: blank old free text or delete responses, audited. */
int ctl_purge_run(struct ctl *, int argc, char **argv);
/* aggregate.c: fold pending responses into the incremental aggregates. */
int ctl_aggregate_run(struct ctl *, int argc, char **argv);
/* Fold every pending response of one survey (as aggregate --survey); 0 or -1. */
struct pg_conn;
int ctl_aggregate_survey(struct pg_conn *, const char *survey);
/* ctl_template.c: the sheet to fill for an upload. */
int ctl_template_run(struct ctl *, int argc, char **argv);
/* user.c: people's accounts (Argon2id passwords). */
int ctl_user_run(struct ctl *, int argc, char **argv);
/* poster.c: the A4 QR poster of a unit's web form. */
int ctl_poster_run(struct ctl *, int argc, char **argv);

#endif
