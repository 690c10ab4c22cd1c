/*
 * ctl_db.h: the sipasctl verbs that work on the database (docs/interfaces.md,
 * "Programs"), all in ctl/ctl_db.c: init, unit import, survey load, token
 * create/list/revoke, export. Each has the ctl_verb signature of ctl.h.
 */
#ifndef SIPAS_CTL_DB_H
#define SIPAS_CTL_DB_H

struct ctl;
struct pg_conn;
struct pg_result;

/* Shared by the verbs that talk to PostgreSQL (ctl/ctl_db.c). */
/* Connect (UTF8) or print why not; NULL on failure. */
struct pg_conn *ctl_db_connect(const char *dsn);
/* Run a statement with text parameters: its result, or NULL (printed). */
struct pg_result *ctl_db_exec(struct pg_conn *, const char *sql, int n,
    const char *const *params);
/* The SQLSTATE of a failed result, or "". */
const char *ctl_db_sqlstate(const struct pg_result *);
/* Run a statement whose result is not needed; 0 or -1 (printed). */
int ctl_db_do(struct pg_conn *, const char *sql, int n, const char *const *params);
/*
 * The options that grant access (sipasctl token create, user add): --role
 * ('r'), --unit ('u'), --name ('n', "" if not given) and --password-stdin
 * ('p') as opts has them. 0, or -1 for an option opts does not know.
 */
struct ctl_opt;
struct ctl_grant {
	const char *role, *unit, *name;
	int password_stdin;
};
int ctl_db_grant_opts(int argc, char **argv, const struct ctl_opt *,
    struct ctl_grant *);
/* Append an audit_log row by actor sipasctl; 0 or -1 (printed). */
int ctl_db_audit(struct pg_conn *, const char *action, const char *detail);

int ctl_init_run(struct ctl *, int argc, char **argv);
int ctl_unit_run(struct ctl *, int argc, char **argv);
int ctl_survey_run(struct ctl *, int argc, char **argv);
int ctl_token_run(struct ctl *, int argc, char **argv);
int ctl_export_run(struct ctl *, int argc, char **argv);
/* sipasctl import (ctl/import.c). */
int ctl_import_run(struct ctl *, int argc, char **argv);

/* The embedded migrations (sql/NNNN_*.sql, generated), ending with NULLs. */
struct sql_migration {
	const char *code; /* the file name, e.g. 0001_init.sql */
	const char *text;
};
extern const struct sql_migration sql_migrations[];

#endif
