/*
 * ctl.h: sipasctl, the operator's tool. sipasctl.c parses the global options
 * (--db, --help, --version) and hands the rest of argv to one verb of the
 * ctl_verbs table; each verb lives in its own file (ctl/analyze.c, later
 * ctl/init.c, ctl/unit.c, ctl/token.c, ctl/import.c, ctl/export.c,
 * ctl/ctl_report.c) and returns the process's exit status.
 *
 * Adding a verb: write int ctl_VERB_run(struct ctl *, int, char **) in
 * ctl/VERB.c, declare it (below, or in the file's own header such as db.h)
 * and add a line to ctl_verbs in sipasctl.c.
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

struct ctl_verb {
	const char *name;
	const char *usage; /* the arguments after the verb's name */
	const char *help;  /* one line for sipasctl --help */
	int needs_db;	   /* 1 if the verb talks to PostgreSQL */
	/* argv[0] is the verb's name; returns an exit status (CTL_EXIT_*). */
	int (*run)(struct ctl *, int argc, char **argv);
};

/* Every verb, ending with a NULL name. */
extern const struct ctl_verb ctl_verbs[];

/* A verb by name, or NULL. */
const struct ctl_verb *ctl_verb_find(const char *name);
/* Print "usage: sipasctl VERB USAGE" for one verb. */
void ctl_verb_usage(FILE *, const struct ctl_verb *);
/* Print a message prefixed with "sipasctl: " to stderr. */
void ctl_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * --from and --to of a period, either may be NULL: 0 if each is a day of
 * RESPONSE_DATE_MIN..MAX and from <= to, else -1 after a message naming the
 * option (the verb then exits CTL_EXIT_USAGE).
 */
int ctl_check_dates(const char *from, const char *to);

/* The verbs of analyze.c; the database verbs are declared in db.h. */
int ctl_analyze_run(struct ctl *, int argc, char **argv);
/* purge.c: blank old free text or delete responses, audited. */
int ctl_purge_run(struct ctl *, int argc, char **argv);
/* aggregate.c: fold pending responses into the incremental aggregates. */
int ctl_aggregate_run(struct ctl *, int argc, char **argv);
/* user.c: people's accounts (Argon2id passwords). */
int ctl_user_run(struct ctl *, int argc, char **argv);
/* poster.c: the A4 QR poster of a unit's web form. */
int ctl_poster_run(struct ctl *, int argc, char **argv);

#endif
