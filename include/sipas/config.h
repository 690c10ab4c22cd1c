/*
 * config.h: sipasd's configuration: one table of keys (config.c) with name,
 * type, default, range, whether SIGHUP may change it, whether it is secret,
 * and a help line.
 *
 * File format: "key = value" lines; '#' starts a comment; blank lines are
 * ignored; a value may be double-quoted. A file is parsed and every key
 * validated into a new struct config before anything uses it (all or nothing).
 */
#ifndef SIPAS_CONFIG_H
#define SIPAS_CONFIG_H

#include <stdio.h>

struct config {
	char *listen;	    /* ADDR:PORT */
	char *db;	    /* libpq conninfo ("" = PG* environment) */
	long max_body;	    /* bytes of a request body */
	long queue_max;	    /* validated responses waiting for a commit */
	long batch_max;	    /* responses in one transaction */
	long batch_delay_ms; /* wait this long for more before a commit */
	long reconnect_min_ms;
	long reconnect_max_ms;
	long retry_after;   /* seconds, in 503 replies */
	long drain_timeout; /* seconds SIGTERM waits for in-flight work */
	long cache_refresh; /* seconds between reloads of units and surveys */
	long token_ttl;	    /* seconds a checked token is trusted */
	long http_timeout;  /* seconds of client inactivity */
	long log_level;	    /* enum log_level */
	double confidence;  /* level of the intervals of the indices */
};

/* A configuration with every default. */
struct config *config_create(void);
void config_free(struct config *);
/* Set one key from text; -1 and *cause naming the key. */
int config_set(struct config *, const char *key, const char *value, char **cause);
/* Read a file into a fresh config; NULL and *cause (file:line: ...) on error. */
struct config *config_load(const char *path, char **cause);
/* -1 and *cause if next changes a key SIGHUP cannot change. */
int config_reload_check(const struct config *cur, const struct config *next, char **cause);
/* Print every key and its value (secrets masked), for --check-config. */
void config_print(const struct config *, FILE *);
/* Print the documented keys, for --help. */
void config_help(FILE *);

#endif
