/*
 * test_daemon_config.c: sipasd's configuration parser (daemon/conf.c),
 * table-driven from tests/data/daemon/configs.txt, the reload rule, and the
 * token helpers (common/token.c): SHA-256 vectors, token shape, roles.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "sipas/token.h"
#include "sipas/util.h"

#include "tap.h"

/* Write text to a new temporary file; its path (caller frees). */
static char *
write_tmp(const char *text)
{
	char *path = xstrdup("/tmp/sipas-test-config.XXXXXX");
	int fd = mkstemp(path);
	FILE *f;

	if (fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* Run one block of configs.txt. */
static void
run_case(int n, const char *want, const char *text)
{
	struct config *c;
	char *path = write_tmp(text), *cause = NULL;

	c = config_load(path, &cause);
	if (strcmp(want, "ok") == 0)
		tap_ok(c != NULL, "config case %d loads (%s)", n,
		    cause != NULL ? cause : "ok");
	else
		tap_ok(c == NULL && cause != NULL && strstr(cause, want + 6) !=
		    NULL, "config case %d rejected with '%s' (%s)", n, want + 6,
		    cause != NULL ? cause : "accepted");
	if (n == 2 && c != NULL) {
		tap_ok(strcmp(c->listen, "0.0.0.0:9000") == 0 &&
		    strcmp(c->db, "host=/tmp dbname=x") == 0 &&
		    c->max_body == 1048576 && c->batch_delay_ms == 5 &&
		    c->log_level == 2 && c->confidence == 0.9,
		    "config case 2 values (quotes, comments, blanks)");
	}
	config_free(c);
	free(cause);
	unlink(path);
	free(path);
}

/* The table of configs.txt. */
static void
test_files(const char *dir)
{
	char *path, *text, *cause = NULL, *p, *line, *next, want[256];
	char body[8192];
	size_t len;
	int n = 0, in = 0;

	xasprintf(&path, "%s/daemon/configs.txt", dir);
	if ((text = util_file_read(path, &len, &cause)) == NULL) {
		tap_ok(0, "read %s: %s", path, cause);
		free(path);
		return;
	}
	body[0] = '\0';
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "== ", 3) == 0 || next == NULL) {
			if (in)
				run_case(n, want, body);
			if (next == NULL && strncmp(line, "== ", 3) != 0)
				break;
			n++;
			in = 1;
			snprintf(want, sizeof want, "%s", line + 3);
			body[0] = '\0';
			continue;
		}
		if (!in)
			continue;
		p = body + strlen(body);
		snprintf(p, sizeof body - (size_t)(p - body), "%s\n", line);
	}
	tap_ok(n >= 10, "configs.txt has %d cases", n);
	free(text);
	free(path);
}

/* SIGHUP may not change listen or db. */
static void
test_reload(void)
{
	struct config *a = config_create(), *b = config_create();
	char *cause = NULL;

	config_set(b, "max_body", "2048", &cause);
	tap_ok(config_reload_check(a, b, &cause) == 0,
	    "a reload may change max_body");
	config_set(b, "listen", "127.0.0.1:9999", &cause);
	tap_ok(config_reload_check(a, b, &cause) != 0 && strstr(cause,
	    "listen") != NULL, "a reload may not change listen");
	free(cause);
	config_free(a);
	config_free(b);
}

/* SHA-256 vectors, the token's shape, roles. */
static void
test_token(void)
{
	char hash[TOKEN_HASH_LEN + 1], t1[TOKEN_LEN + 1], t2[TOKEN_LEN + 1];
	char *cause = NULL;
	size_t i;
	int good = 1;

	token_hash("abc", 3, hash);
	tap_ok(strcmp(hash, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad") == 0, "SHA-256 of abc");
	token_hash("", 0, hash);
	tap_ok(strcmp(hash, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855") == 0, "SHA-256 of nothing");
	tap_ok(token_generate(t1, sizeof t1, &cause) == 0 &&
	    token_generate(t2, sizeof t2, &cause) == 0, "token_generate");
	tap_ok(strlen(t1) == TOKEN_LEN && strncmp(t1, "sip_", 4) == 0,
	    "a token is sip_ and 43 characters");
	for (i = 4; i < strlen(t1); i++) {
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_", t1[i]) == NULL)
			good = 0;
	}
	tap_ok(good, "a token is base64url");
	tap_ok(strcmp(t1, t2) != 0, "two tokens differ");
	tap_ok(role_parse("collector") == ROLE_COLLECTOR &&
	    role_parse("admin") == ROLE_ADMIN && role_parse("root") == -1,
	    "role names");
	tap_ok(strcmp(role_name(ROLE_VIEWER), "viewer") == 0, "role_name");
}

/* Secure cookies: off only when asked for and listening on loopback. */
static void
test_cookie_secure(void)
{
	static const struct {
		const char *listen;
		long secure;
		int want;
	} cases[] = {
		{ "127.0.0.1:8080", 1, 1 },
		{ "127.0.0.1:8080", 0, 0 },
		{ "127.1.2.3:80", 0, 0 },
		{ "[::1]:8080", 0, 0 },
		{ "localhost:8080", 0, 0 },
		{ "0.0.0.0:8080", 0, 1 },
		{ "10.0.0.1:8080", 0, 1 },
		{ "[::]:8080", 0, 1 },
		{ "127.0.0.1.example.com:80", 0, 1 },
		{ "localhost.example.com:80", 0, 1 },
	};
	struct config *c = config_create();
	char *cause = NULL;
	size_t i;

	tap_ok(c->session_cookie_secure == 1, "session_cookie_secure is 1 by default");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (config_set(c, "listen", cases[i].listen, &cause) != 0) {
			tap_ok(0, "listen %s: %s", cases[i].listen, cause);
			free(cause);
			cause = NULL;
			continue;
		}
		c->session_cookie_secure = cases[i].secure;
		tap_ok(config_cookie_secure(c) == cases[i].want,
		    "listen %s, session_cookie_secure %ld: Secure %d",
		    cases[i].listen, cases[i].secure, cases[i].want);
	}
	config_free(c);
}

int
main(void)
{
	const char *dir = getenv("SIPAS_TEST_DATA");

	test_files(dir != NULL ? dir : "tests/data");
	test_reload();
	test_token();
	test_cookie_secure();
	return tap_done();
}
