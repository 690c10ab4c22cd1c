/*
 * user.c: sipasctl user add|passwd|disable|list, the accounts of people
 * (docs/security.md, "Accounts").
 *
 * A password is read from standard input (--password-stdin, one line), never
 * from argv, checked by password_check and stored only as its Argon2id hash.
 * Every change goes to the audit log without the password or its hash.
 * Exit 2 on bad usage or bad input (login, role, unit, password), 1 on a
 * run-time failure (database, an unknown or already existing login).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "ctl/ctl.h"
#include "ctl/ctl_db.h"
#include "sipas/password.h"
#include "sipas/token.h"
#include "sipas/util.h"

#define USER_USAGE "add LOGIN --role viewer|uploader|admin [--unit CODE] " \
	"[--name TEXT] --password-stdin | passwd LOGIN --password-stdin | " \
	"disable LOGIN | list"

/*
 * Read one line of standard input as the new password, check it and hash it
 * into out: 0, or the exit status after a message.
 */
static int
user_password_read(char *out, size_t len)
{
	char *line = NULL, *cause = NULL;
	size_t cap = 0;
	ssize_t n;
	const char *why;
	int r = CTL_EXIT_OK;

	if ((n = getline(&line, &cap, stdin)) <= 0) {
		fprintf(stderr, "sipasctl: no password on standard input\n");
		free(line);
		return CTL_EXIT_USAGE;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if ((why = password_check(line)) != NULL) {
		fprintf(stderr, "sipasctl: %s\n", why);
		r = CTL_EXIT_USAGE;
	} else if (password_hash(line, out, len, &cause) != 0) {
		fprintf(stderr, "sipasctl: %s\n", cause);
		free(cause);
		r = CTL_EXIT_FAIL;
	}
	explicit_bzero(line, cap);
	free(line);
	return r;
}

/* Audit action with {"login": login, ...more}. */
static void
user_audit(PGconn *conn, const char *action, json_t *detail)
{
	char *text = json_dumps(detail, JSON_COMPACT);

	ctl_db_audit(conn, action, text);
	free(text);
	json_decref(detail);
}

/* 1 if unit exists, 0 if not, -1 on failure (printed). */
static int
user_unit_exists(PGconn *conn, const char *unit)
{
	const char *params[1] = { unit };
	PGresult *res;
	int r;

	if ((res = ctl_db_exec(conn, "SELECT 1 FROM units WHERE code = $1", 1,
	    params)) == NULL)
		return -1;
	r = PQntuples(res) == 1;
	PQclear(res);
	return r;
}

/* The options of sipasctl user. */
const struct ctl_opt ctl_user_opts[] = {
	{ "role", 'r', 0, "ROLE", "add: viewer, uploader or admin" },
	{ "unit", 'u', 0, "CODE", "add: the unit (and its subtree) the person "
	    "sees; none: every unit" },
	{ "name", 'n', 0, "TEXT", "add: the person's name as pages show it" },
	{ "password-stdin", 'p', 0, NULL, "add, passwd: read the password from "
	    "standard input (one line, at least 10 characters)" },
	{ NULL, 0, 0, NULL, NULL },
};

/* sipasctl user add LOGIN --role ROLE [--unit CODE] [--name TEXT] --password-stdin. */
static int
user_add(PGconn *conn, int argc, char **argv)
{
	struct ctl_grant g;
	const char *role, *unit, *name, *login, *params[5];
	char hash[PASSWORD_ENCODED_MAX];
	PGresult *res;
	int r;

	if (ctl_db_grant_opts(argc, argv, ctl_user_opts, &g) != 0 ||
	    optind != argc - 1 || g.role == NULL || !g.password_stdin)
		goto usage;
	role = g.role;
	unit = g.unit;
	name = g.name;
	login = argv[optind];
	if (!password_login_ok(login)) {
		fprintf(stderr, "sipasctl: login '%s': use 1 to 63 of a-z, 0-9, "
		    ". _ -, starting with a letter or digit\n", login);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(role, "viewer") != 0 && strcmp(role, "uploader") != 0 &&
	    strcmp(role, "admin") != 0) {
		fprintf(stderr, "sipasctl: --role '%s': a person is a viewer, "
		    "an uploader or an admin\n", role);
		return CTL_EXIT_USAGE;
	}
	if (strlen(name) > 200 || !utf8_valid(name, strlen(name))) {
		fprintf(stderr, "sipasctl: --name: at most 200 bytes of UTF-8\n");
		return CTL_EXIT_USAGE;
	}
	if (unit != NULL && (r = user_unit_exists(conn, unit)) != 1) {
		if (r == 0)
			fprintf(stderr, "sipasctl: --unit: unknown unit '%s'\n",
			    unit);
		return r == 0 ? CTL_EXIT_USAGE : CTL_EXIT_FAIL;
	}
	if ((r = user_password_read(hash, sizeof hash)) != CTL_EXIT_OK)
		return r;
	params[0] = login;
	params[1] = name;
	params[2] = role;
	params[3] = unit;
	params[4] = hash;
	res = PQexecParams(conn, "INSERT INTO users (login, display_name, role, "
	    "unit, password_hash) VALUES ($1, $2, $3, $4, $5)", 5, NULL, params,
	    NULL, NULL, 0);
	explicit_bzero(hash, sizeof hash);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		if (strcmp(ctl_db_sqlstate(res), "23505") == 0)
			fprintf(stderr, "sipasctl: user '%s' exists already\n",
			    login);
		else
			fprintf(stderr, "sipasctl: %s", PQresultErrorMessage(res));
		PQclear(res);
		return CTL_EXIT_FAIL;
	}
	PQclear(res);
	user_audit(conn, "user add", json_pack("{s:s,s:s,s:s?,s:s}", "login",
	    login, "role", role, "unit", unit, "name", name));
	printf("user %s added (role %s%s%s)\n", login, role, unit != NULL ?
	    ", unit " : "", unit != NULL ? unit : "");
	return CTL_EXIT_OK;
usage:
	fprintf(stderr, "usage: sipasctl user add LOGIN --role "
	    "viewer|uploader|admin [--unit CODE] [--name TEXT] "
	    "--password-stdin\n");
	return CTL_EXIT_USAGE;
}

/* Run an UPDATE of one user by login ($1); 0, or the exit status (printed). */
static int
user_update(PGconn *conn, const char *sql, int n, const char *const *params)
{
	PGresult *res;
	long rows;

	if ((res = ctl_db_exec(conn, sql, n, params)) == NULL)
		return CTL_EXIT_FAIL;
	rows = atol(PQcmdTuples(res));
	PQclear(res);
	if (rows != 1) {
		fprintf(stderr, "sipasctl: no user '%s'\n", params[0]);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

/* sipasctl user passwd LOGIN --password-stdin. */
static int
user_passwd(PGconn *conn, int argc, char **argv)
{
	char hash[PASSWORD_ENCODED_MAX];
	const char *params[2];
	int r;

	if (argc != 3 || strcmp(argv[2], "--password-stdin") != 0) {
		fprintf(stderr, "usage: sipasctl user passwd LOGIN "
		    "--password-stdin\n");
		return CTL_EXIT_USAGE;
	}
	if ((r = user_password_read(hash, sizeof hash)) != CTL_EXIT_OK)
		return r;
	params[0] = argv[1];
	params[1] = hash;
	r = user_update(conn, "UPDATE users SET password_hash = $2, "
	    "password_changed_at = now() WHERE login = $1", 2, params);
	explicit_bzero(hash, sizeof hash);
	if (r != CTL_EXIT_OK)
		return r;
	user_audit(conn, "user passwd", json_pack("{s:s}", "login", argv[1]));
	printf("password of %s changed\n", argv[1]);
	return CTL_EXIT_OK;
}

/* sipasctl user disable LOGIN. */
static int
user_disable(PGconn *conn, int argc, char **argv)
{
	const char *params[1];
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: sipasctl user disable LOGIN\n");
		return CTL_EXIT_USAGE;
	}
	params[0] = argv[1];
	r = user_update(conn, "UPDATE users SET disabled_at = "
	    "coalesce(disabled_at, now()) WHERE login = $1", 1, params);
	if (r != CTL_EXIT_OK)
		return r;
	user_audit(conn, "user disable", json_pack("{s:s}", "login", argv[1]));
	printf("user %s disabled\n", argv[1]);
	return CTL_EXIT_OK;
}

/* sipasctl user list: every account, without its hash. */
static int
user_list(PGconn *conn)
{
	PGresult *res;
	int i;

	if ((res = ctl_db_exec(conn, "SELECT login, role, coalesce(unit, '-'), "
	    "CASE WHEN disabled_at IS NULL THEN 'active' ELSE 'disabled' END, "
	    "to_char(created_at, 'YYYY-MM-DD'), "
	    "to_char(password_changed_at, 'YYYY-MM-DD'), display_name "
	    "FROM users ORDER BY login", 0, NULL)) == NULL)
		return CTL_EXIT_FAIL;
	printf("%-20s %-9s %-12s %-9s %-10s %-10s %s\n", "login", "role",
	    "unit", "state", "created", "password", "name");
	for (i = 0; i < PQntuples(res); i++)
		printf("%-20s %-9s %-12s %-9s %-10s %-10s %s\n",
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		    PQgetvalue(res, i, 4), PQgetvalue(res, i, 5),
		    PQgetvalue(res, i, 6));
	PQclear(res);
	return CTL_EXIT_OK;
}

/* sipasctl user add|passwd|disable|list. */
int
ctl_user_run(struct ctl *ctl, int argc, char **argv)
{
	PGconn *conn;
	int r;

	if (argc < 2 || (strcmp(argv[1], "add") != 0 &&
	    strcmp(argv[1], "passwd") != 0 && strcmp(argv[1], "disable") != 0 &&
	    strcmp(argv[1], "list") != 0) || (strcmp(argv[1], "list") == 0 &&
	    argc != 2)) {
		fprintf(stderr, "usage: sipasctl user %s\n", USER_USAGE);
		return CTL_EXIT_USAGE;
	}
	if ((conn = ctl_db_connect(ctl->db)) == NULL)
		return CTL_EXIT_FAIL;
	if (strcmp(argv[1], "add") == 0)
		r = user_add(conn, argc - 1, argv + 1);
	else if (strcmp(argv[1], "passwd") == 0)
		r = user_passwd(conn, argc - 1, argv + 1);
	else if (strcmp(argv[1], "disable") == 0)
		r = user_disable(conn, argc - 1, argv + 1);
	else
		r = user_list(conn);
	PQfinish(conn);
	return r;
}
