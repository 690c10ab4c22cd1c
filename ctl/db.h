/*
 * db.h: the sipasctl verbs that work on the database (interfaces.md section 1),
 * all in ctl/db.c: init, unit import, survey load, token create/list/revoke,
 * export. Each has the ctl_verb signature of ctl.h.
 */
#ifndef SIPAS_CTL_DB_H
#define SIPAS_CTL_DB_H

struct ctl;

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
