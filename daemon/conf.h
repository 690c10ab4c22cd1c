/*
 * conf.h: sipasd's configuration: one table of keys (config.c) with name,
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
	char *db_read;	    /* conninfo of the reads; "" = db */
	long max_body;	    /* bytes of a request body */
	long queue_max;	    /* validated responses waiting for a commit */
	long batch_max;	    /* responses in one transaction */
	long batch_delay_ms; /* wait this long for more before a commit */
	long aggregate_interval_ms; /* fold pending responses this often; 0 off */
	long aggregate_batch;	    /* most responses in one fold */
	long reconnect_min_ms;
	long reconnect_max_ms;
	long retry_after;   /* seconds, in 503 replies */
	long drain_timeout; /* seconds SIGTERM waits for in-flight work */
	long cache_refresh; /* seconds between reloads of units and surveys */
	long token_ttl;	    /* seconds a checked token is trusted */
	long http_timeout;  /* seconds of client inactivity */
	long log_level;	    /* enum log_level */
	double confidence;  /* level of the intervals of the indices */
	long upload_max;    /* bytes of a POST /api/v1/uploads body (upload.c) */
	double weight_max;  /* largest weight of a response (response.h) */
	long xlsx_inflated_max; /* bytes an uploaded XLSX may inflate to (xlsxin.h) */
	long xlsx_ratio_max;	/* inflated : compressed, per entry of an XLSX */
	/* the citizen web form and the kiosk (form.c, kiosk.c; docs/form.md) */
	char *form_secret;     /* HMAC key of the form tokens; "" = random per start */
	char *public_url;      /* public base URL of the forms (posters, Origin check) */
	long form_token_ttl;   /* seconds a served form stays valid */
	long form_honeypot;    /* 1: refuse posts that fill the hidden field */
	long form_rate_limit;  /* form posts per client address per window; 0 = off */
	long kiosk_rate_limit; /* kiosk posts per client address per window; 0 = off */
	long form_rate_window; /* seconds */
	long form_one_per_day; /* 1: a cookie allows one response per device, unit and day */
	long form_require_all; /* 1: every satisfaction item must be answered */
	long kiosk_reset;      /* seconds the kiosk thanks before the next person */
	/* the SMS channel (daemon/channels/sms_http.c; docs/sms.md) */
	char *sms_phone_secret; /* HMAC key of sender hashes; "" = SMS off */
	char *sms_kannel_key;	/* key= of /sms/kannel; "" = off */
	char *sms_external_key; /* key= of /sms/external; "" = off */
	char *sms_twilio_token; /* Twilio auth token; "" = /sms/twilio off */
	char *sms_twilio_url;	/* the public URL Twilio signs */
	long sms_dialogue_ttl;	/* seconds a dialogue waits for an answer */
	long sms_limit_period;	/* enum config_period: one response per period */
	long sms_diacritics;	/* 1: Kannel replies in UCS-2 with diacritics */
	char *sms_number;	/* the number citizens text, for posters */
	/* periodic reports (daemon/present/reports.c; docs/reports.md) */
	char *report_monthly;	/* a schedule (report_run.h), "" = none */
	char *report_quarterly;
	char *report_yearly;
	long report_check;	/* seconds between checks for closed periods */
	char *report_today;	/* YYYY-MM-DD taken as today (tests); "" = the clock */
	long report_min_n;	/* respondents a child unit needs to be ranked */
	long report_trend;	/* periods in a report's trend, its own included */
	/* the leadership dashboard (daemon/present/dashboard.c, daemon/net/session.c) */
	long session_lifetime;	    /* seconds a login stays valid */
	long session_cookie_secure; /* 0: no Secure on loopback (config_cookie_secure) */
	long dashboard_min_n;	    /* respondents a child unit needs to be ranked */
	/* limits and /metrics (daemon/net/limits.c, daemon/metrics.c; docs/operations.md) */
	char *metrics_token;   /* Bearer token of GET /metrics; "" = open */
	long max_connections;  /* open client connections; 0 = no limit */
	long request_timeout;  /* seconds to send one whole request */
	double rate_ip;	       /* requests per second per address; 0 = off */
	long rate_ip_burst;
	double rate_token;     /* requests per second per bearer token; 0 = off */
	long rate_token_burst;
	/* the spool (daemon/store/spool.c; docs/daemon.md) */
	char *spool_dir;   /* responses that cannot be committed now; "" = off */
	long spool_max_mb; /* most MiB of spool files */
};

/* Values of sms_limit_period. */
enum config_period {
	CONFIG_PERIOD_NONE,
	CONFIG_PERIOD_DAY,
	CONFIG_PERIOD_WEEK,
	CONFIG_PERIOD_MONTH,
	CONFIG_PERIOD_QUARTER,
	CONFIG_PERIOD_YEAR,
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
/* Print every key with its type, default and help as roff, for sipasd.conf(5). */
void config_man(FILE *);
/* Cross-key check of the report_* keys for config_validate (conf_reports.c);
 * 0 or -1 and *cause. */
int reports_config_check(const struct config *, char **cause);
/* 1 if listen (ADDR:PORT) is a loopback address: 127.0.0.0/8, [::1], localhost. */
int config_listen_loopback(const char *listen);
/*
 * 1 if the dashboard's cookies carry Secure: always, unless
 * session_cookie_secure = 0 and sipasd listens on a loopback address.
 */
int config_cookie_secure(const struct config *);

#endif
