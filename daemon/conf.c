/*
 * conf.c: the table of sipasd's configuration keys and the file parser.
 *
 * Owns struct config values (each is independent: a reload builds a new one
 * and swaps it in). Must not apply anything: callers decide what a changed
 * value means at run time.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf.h"
#include "daemon/log.h"
#include "sipas/sms.h"
#include "sipas/util.h"

enum config_type {
	CONFIG_STRING,
	CONFIG_INT,
	CONFIG_DOUBLE,
	CONFIG_LEVEL,
	CONFIG_PERIOD, /* none, day, week, month, quarter, year (enum config_period) */
};

/* The names of CONFIG_PERIOD values, in the order of enum config_period. */
static const char *const config_periods[] = { "none", "day", "week", "month",
	"quarter", "year", NULL };

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	const char *def;
	double min; /* range of numbers */
	double max;
	int reloadable;
	int secret;
	const char *help;
};

#define CONFIG_OFF(f) offsetof(struct config, f)

/* Every key sipasd knows. */
static const struct config_key config_keys[] = {
	{ "listen", CONFIG_STRING, CONFIG_OFF(listen), "127.0.0.1:8080", 0, 0,
	    0, 0, "address and port of the HTTP listener (ADDR:PORT)" },
	{ "db", CONFIG_STRING, CONFIG_OFF(db), "", 0, 0, 0, 1,
	    "libpq connection string; empty: the PG* environment" },
	{ "db_read", CONFIG_STRING, CONFIG_OFF(db_read), "", 0, 0, 1, 1,
	    "libpq connection string of the reads (indices, dashboard, reports, "
	    "export), e.g. the standbys; empty or unreachable: db" },
	{ "max_body", CONFIG_INT, CONFIG_OFF(max_body), "65536", 1024,
	    64.0 * 1024 * 1024, 1, 0,
	    "largest request body in bytes; larger gets 413" },
	{ "queue_max", CONFIG_INT, CONFIG_OFF(queue_max), "10000", 1, 1000000,
	    1, 0, "responses waiting for a commit; beyond it ingest answers 503" },
	{ "batch_max", CONFIG_INT, CONFIG_OFF(batch_max), "500", 1, 10000, 1, 0,
	    "most responses committed in one transaction" },
	{ "batch_delay_ms", CONFIG_INT, CONFIG_OFF(batch_delay_ms), "0", 0,
	    1000, 1, 0,
	    "wait this long for more responses before a commit (0: none)" },
	{ "aggregate_interval_ms", CONFIG_INT,
	    CONFIG_OFF(aggregate_interval_ms), "1000", 0, 3600000, 1, 0,
	    "fold new responses into the aggregates this often (0: never; "
	    "sipasctl aggregate does it)" },
	{ "aggregate_batch", CONFIG_INT, CONFIG_OFF(aggregate_batch), "20000",
	    100, 10000000, 1, 0,
	    "most pending responses folded in one transaction" },
	{ "reconnect_min_ms", CONFIG_INT, CONFIG_OFF(reconnect_min_ms), "200",
	    10, 60000, 1, 0, "first delay before reconnecting to PostgreSQL" },
	{ "reconnect_max_ms", CONFIG_INT, CONFIG_OFF(reconnect_max_ms), "5000",
	    10, 600000, 1, 0, "longest delay between reconnection attempts" },
	{ "retry_after", CONFIG_INT, CONFIG_OFF(retry_after), "5", 1, 3600, 1, 0,
	    "seconds in the Retry-After header of a 503" },
	{ "drain_timeout", CONFIG_INT, CONFIG_OFF(drain_timeout), "10", 0, 600,
	    1, 0, "seconds SIGTERM waits for in-flight work before exiting" },
	{ "cache_refresh", CONFIG_INT, CONFIG_OFF(cache_refresh), "30", 1,
	    86400, 1, 0,
	    "seconds between reloads of the unit tree and survey definitions" },
	{ "token_ttl", CONFIG_INT, CONFIG_OFF(token_ttl), "10", 0, 3600, 1, 0,
	    "seconds a checked token is trusted before it is looked up again" },
	{ "http_timeout", CONFIG_INT, CONFIG_OFF(http_timeout), "30", 1, 3600,
	    1, 0, "seconds a client may stay silent" },
	{ "log_level", CONFIG_LEVEL, CONFIG_OFF(log_level), "info", 0, 0, 1, 0,
	    "debug, info, warn or error" },
	{ "confidence", CONFIG_DOUBLE, CONFIG_OFF(confidence), "0.95", 0.5,
	    0.999, 1, 0, "confidence level of the intervals the API reports" },
	{ "upload_max", CONFIG_INT, CONFIG_OFF(upload_max), "1073741824", 1024,
	    64.0 * 1024 * 1024 * 1024, 1, 0,
	    "largest CSV body of POST /api/v1/uploads in bytes (streamed)" },
	{ "weight_max", CONFIG_DOUBLE, CONFIG_OFF(weight_max), "1000", 1,
	    1e9, 1, 0, "largest sampling weight of a response; larger gets 422" },
	{ "xlsx_inflated_max", CONFIG_INT, CONFIG_OFF(xlsx_inflated_max),
	    "268435456", 65536, 64.0 * 1024 * 1024 * 1024, 1, 0,
	    "bytes an uploaded XLSX may inflate to; more (a zip bomb) gets 413" },
	{ "xlsx_ratio_max", CONFIG_INT, CONFIG_OFF(xlsx_ratio_max), "100", 10,
	    100000, 1, 0, "most an XLSX entry over 1 MiB may inflate per "
	    "compressed byte; more gets 413" },
	/* The citizen web form and the kiosk (docs/form.md). */
	{ "form_secret", CONFIG_STRING, CONFIG_OFF(form_secret), "", 0, 0, 1, 1,
	    "HMAC key of the form tokens (CSRF); empty: random at each start" },
	{ "public_url", CONFIG_STRING, CONFIG_OFF(public_url), "", 0, 0, 1, 0,
	    "public base URL of the forms; when set, a form post's Origin must match" },
	{ "form_token_ttl", CONFIG_INT, CONFIG_OFF(form_token_ttl), "86400", 60,
	    604800, 1, 0, "seconds a served form (its token) stays valid" },
	{ "form_honeypot", CONFIG_INT, CONFIG_OFF(form_honeypot), "1", 0, 1, 1,
	    0, "1: refuse form posts that fill the hidden honeypot field" },
	{ "form_rate_limit", CONFIG_INT, CONFIG_OFF(form_rate_limit), "20", 0,
	    1000000, 1, 0, "form posts per client address per window; 0: no limit" },
	{ "kiosk_rate_limit", CONFIG_INT, CONFIG_OFF(kiosk_rate_limit), "600", 0,
	    1000000, 1, 0, "kiosk posts per client address per window; 0: no limit" },
	{ "form_rate_window", CONFIG_INT, CONFIG_OFF(form_rate_window), "600", 1,
	    86400, 1, 0, "seconds of the rate limit window" },
	{ "form_one_per_day", CONFIG_INT, CONFIG_OFF(form_one_per_day), "0", 0,
	    1, 1, 0, "1: a cookie allows one form response per device, unit and day" },
	{ "form_require_all", CONFIG_INT, CONFIG_OFF(form_require_all), "1", 0,
	    1, 1, 0, "1: every satisfaction item of the form must be answered" },
	{ "kiosk_reset", CONFIG_INT, CONFIG_OFF(kiosk_reset), "5", 1, 300, 1, 0,
	    "seconds the kiosk shows its thanks before the next person" },
	/* The SMS channel (daemon/channels/sms_http.c; docs/sms.md). */
	{ "sms_phone_secret", CONFIG_STRING, CONFIG_OFF(sms_phone_secret), "", 0,
	    0, 0, 1, "HMAC key of the stored sender hashes; empty: SMS disabled" },
	{ "sms_kannel_key", CONFIG_STRING, CONFIG_OFF(sms_kannel_key), "", 0, 0,
	    1, 1, "key=... that Kannel's get-url must carry; empty: /sms/kannel off" },
	{ "sms_external_key", CONFIG_STRING, CONFIG_OFF(sms_external_key), "", 0,
	    0, 1, 1, "key=... of /sms/external; empty: /sms/external off" },
	{ "sms_twilio_token", CONFIG_STRING, CONFIG_OFF(sms_twilio_token), "", 0,
	    0, 1, 1, "Twilio auth token (signature key); empty: /sms/twilio off" },
	{ "sms_twilio_url", CONFIG_STRING, CONFIG_OFF(sms_twilio_url), "", 0, 0,
	    1, 0, "the exact public URL Twilio posts to (signed by Twilio)" },
	{ "sms_dialogue_ttl", CONFIG_INT, CONFIG_OFF(sms_dialogue_ttl), "3600",
	    60, 604800, 1, 0, "seconds an SMS dialogue waits for the next answer" },
	{ "sms_limit_period", CONFIG_PERIOD, CONFIG_OFF(sms_limit_period),
	    "month", 0, 0, 1, 0, "one SMS response per number, survey and unit per "
	    "none, day, week, month, quarter or year (Vietnam time)" },
	{ "sms_diacritics", CONFIG_INT, CONFIG_OFF(sms_diacritics), "0", 0, 1, 1,
	    0, "1: Kannel replies in Vietnamese with diacritics (UCS-2, 70 chars)" },
	{ "sms_number", CONFIG_STRING, CONFIG_OFF(sms_number), "", 0, 0, 1, 0,
	    "the number citizens text answers to, printed on posters (sipasctl "
	    "poster --sms-number); empty: none" },
	/* Periodic reports (daemon/present/reports.c; docs/reports.md). */
	{ "report_monthly", CONFIG_STRING, CONFIG_OFF(report_monthly), "", 0, 0, 1, 0,
	    "monthly reports: \"survey=CODE units=A,B formats=pdf,xlsx dir=/PATH\"; empty: none" },
	{ "report_quarterly", CONFIG_STRING, CONFIG_OFF(report_quarterly), "", 0, 0, 1,
	    0, "quarterly reports, as report_monthly" },
	{ "report_yearly", CONFIG_STRING, CONFIG_OFF(report_yearly), "", 0, 0, 1, 0,
	    "yearly reports, as report_monthly" },
	{ "report_check", CONFIG_INT, CONFIG_OFF(report_check), "600", 1, 86400, 1,
	    0, "seconds between checks for a closed period to report" },
	{ "report_today", CONFIG_STRING, CONFIG_OFF(report_today), "", 0, 0, 1, 0,
	    "YYYY-MM-DD the schedule takes as today (tests); empty: the clock" },
	{ "report_min_n", CONFIG_INT, CONFIG_OFF(report_min_n), "30", 0, 1000000,
	    1, 0, "respondents a child unit needs to be ranked in a report" },
	{ "report_trend", CONFIG_INT, CONFIG_OFF(report_trend), "6", 1, 60, 1, 0,
	    "periods in a report's trend of the overall index, the report's own included" },
	/* The leadership dashboard (daemon/present/dashboard.c, daemon/net/session.c; docs/dashboard.md). */
	{ "session_lifetime", CONFIG_INT, CONFIG_OFF(session_lifetime), "28800", 60,
	    30.0 * 86400, 1, 0, "seconds a dashboard login stays valid" },
	{ "session_cookie_secure", CONFIG_INT, CONFIG_OFF(session_cookie_secure), "1",
	    0, 1, 1, 0, "0: cookies without Secure, only when listen is a loopback "
	    "address (plain HTTP on this machine); ignored otherwise" },
	{ "dashboard_min_n", CONFIG_INT, CONFIG_OFF(dashboard_min_n), "30", 0,
	    1000000, 1, 0, "respondents a child unit needs to be ranked on the dashboard" },
	/* Limits and /metrics (daemon/net/limits.c, daemon/metrics.c; docs/operations.md). */
	{ "metrics_token", CONFIG_STRING, CONFIG_OFF(metrics_token), "", 0, 0, 1,
	    1, "Bearer token GET /metrics requires; empty: /metrics is open" },
	{ "max_connections", CONFIG_INT, CONFIG_OFF(max_connections), "1024", 0,
	    1000000, 1, 0, "open client connections; beyond it 503 (0: no limit)" },
	{ "request_timeout", CONFIG_INT, CONFIG_OFF(request_timeout), "120", 1,
	    3600, 1, 0, "seconds a client may take to send one whole request; "
	    "then 408 and the connection is closed (slowloris)" },
	{ "rate_ip", CONFIG_DOUBLE, CONFIG_OFF(rate_ip), "0", 0, 1000000, 1, 0,
	    "requests per second per client address; beyond it 429 (0: no limit)" },
	{ "rate_ip_burst", CONFIG_INT, CONFIG_OFF(rate_ip_burst), "50", 1,
	    1000000, 1, 0, "requests a client address may send at once" },
	{ "rate_token", CONFIG_DOUBLE, CONFIG_OFF(rate_token), "0", 0, 1000000,
	    1, 0, "requests per second per bearer token; beyond it 429 (0: no limit)" },
	{ "rate_token_burst", CONFIG_INT, CONFIG_OFF(rate_token_burst), "200", 1,
	    1000000, 1, 0, "requests a bearer token may send at once" },
	/* The spool (daemon/store/spool.c; docs/daemon.md). */
	{ "spool_dir", CONFIG_STRING, CONFIG_OFF(spool_dir), "", 0, 0, 0, 0,
	    "directory of responses accepted while PostgreSQL is away (202, "
	    "replayed later); empty: off (503)" },
	{ "spool_max_mb", CONFIG_INT, CONFIG_OFF(spool_max_mb), "256", 1,
	    1048576, 1, 0, "most MiB of spool files; beyond it 503" },
};

#define CONFIG_NKEYS (sizeof config_keys / sizeof config_keys[0])

/* The field of c that key k describes. */
static void *
config_field(struct config *c, const struct config_key *k)
{
	return (char *)c + k->offset;
}

/* A key by name, or NULL. */
static const struct config_key *
config_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	}
	return NULL;
}

/* Set key k of c from text, checking type and range. */
static int
config_key_set(struct config *c, const struct config_key *k, const char *v,
    char **cause)
{
	char *end;
	long l;
	double d;
	int level;

	switch (k->type) {
	case CONFIG_STRING:
		free(*(char **)config_field(c, k));
		*(char **)config_field(c, k) = xstrdup(v);
		return 0;
	case CONFIG_INT:
		errno = 0;
		l = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || l < k->min ||
		    l > k->max) {
			xasprintf(cause, "%s: '%s' is not an integer from %.0f "
			    "to %.0f", k->name, v, k->min, k->max);
			return -1;
		}
		*(long *)config_field(c, k) = l;
		return 0;
	case CONFIG_DOUBLE:
		errno = 0;
		d = strtod(v, &end);
		if (errno != 0 || end == v || *end != '\0' || !isfinite(d) ||
		    d < k->min || d > k->max) {
			xasprintf(cause, "%s: '%s' is not a number from %g to %g",
			    k->name, v, k->min, k->max);
			return -1;
		}
		*(double *)config_field(c, k) = d;
		return 0;
	case CONFIG_LEVEL:
		if ((level = log_level_parse(v)) < 0) {
			xasprintf(cause, "%s: '%s' is not debug, info, warn or "
			    "error", k->name, v);
			return -1;
		}
		*(long *)config_field(c, k) = level;
		return 0;
	case CONFIG_PERIOD:
		for (level = 0; config_periods[level] != NULL; level++) {
			if (strcmp(config_periods[level], v) == 0) {
				*(long *)config_field(c, k) = level;
				return 0;
			}
		}
		xasprintf(cause, "%s: '%s' is not none, day, week, month, quarter "
		    "or year", k->name, v);
		return -1;
	}
	ASSERT(0);
	return -1;
}

/* A configuration with every default. */
struct config *
config_create(void)
{
	struct config *c = xcalloc(1, sizeof *c);
	char *cause = NULL;
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (config_key_set(c, &config_keys[i], config_keys[i].def,
		    &cause) != 0)
			assert_fail(cause, __FILE__, __LINE__);
	}
	return c;
}

/* Free a configuration; NULL-safe. */
void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (config_keys[i].type == CONFIG_STRING)
			free(*(char **)config_field(c, &config_keys[i]));
	}
	free(c);
}

/* Set one key by name. */
int
config_set(struct config *c, const char *key, const char *value, char **cause)
{
	const struct config_key *k;

	if ((k = config_key_find(key)) == NULL) {
		xasprintf(cause, "unknown key '%s'", key);
		return -1;
	}
	return config_key_set(c, k, value, cause);
}

/* Cross-key checks, after every key is set. */
static int
config_validate(const struct config *c, char **cause)
{
	const char *colon = strrchr(c->listen, ':');
	char *why;

	if (colon == NULL || colon == c->listen || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    atoi(colon + 1) > 65535) {
		xasprintf(cause, "listen: '%s' is not ADDR:PORT", c->listen);
		return -1;
	}
	if (c->reconnect_max_ms < c->reconnect_min_ms) {
		xasprintf(cause, "reconnect_max_ms is below reconnect_min_ms");
		return -1;
	}
	if (c->batch_max > c->queue_max) {
		xasprintf(cause, "batch_max is above queue_max");
		return -1;
	}
	if (reports_config_check(c, cause) != 0)
		return -1;
	if (*c->sms_number != '\0' && sms_number_check(c->sms_number,
	    &why) != 0) {
		xasprintf(cause, "sms_number: %s", why);
		free(why);
		return -1;
	}
	return 0;
}

/* Strip blanks at both ends of s in place. */
static char *
config_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Read and validate a whole file into a new configuration. */
struct config *
config_load(const char *path, char **cause)
{
	struct config *c;
	char *text, *line, *next, *eq, *key, *value, *why = NULL;
	size_t len, vlen;
	int lineno = 0;

	if ((text = util_file_read(path, &len, &why)) == NULL) {
		xasprintf(cause, "%s: %s", path, why);
		free(why);
		return NULL;
	}
	c = config_create();
	for (line = text; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '#' || line[strspn(line, " \t\r")] == '\0' ||
		    line[strspn(line, " \t")] == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			xasprintf(cause, "%s:%d: expected key = value", path,
			    lineno);
			goto fail;
		}
		*eq = '\0';
		key = config_trim(line);
		value = config_trim(eq + 1);
		vlen = strlen(value);
		if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
			value[vlen - 1] = '\0';
			value++;
		} else if ((eq = strstr(value, " #")) != NULL) {
			*eq = '\0';
			value = config_trim(value);
		}
		if (config_set(c, key, value, &why) != 0) {
			xasprintf(cause, "%s:%d: %s", path, lineno, why);
			free(why);
			goto fail;
		}
	}
	if (config_validate(c, &why) != 0) {
		xasprintf(cause, "%s: %s", path, why);
		free(why);
		goto fail;
	}
	free(text);
	return c;
fail:
	free(text);
	config_free(c);
	return NULL;
}

/* Refuse a reload that changes a key only a restart can change. */
int
config_reload_check(const struct config *cur, const struct config *next,
    char **cause)
{
	const struct config_key *k;
	size_t i;
	int same;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		if (k->reloadable)
			continue;
		switch (k->type) {
		case CONFIG_STRING:
			same = strcmp(*(char **)config_field((struct config *)cur,
			    k), *(char **)config_field((struct config *)next,
			    k)) == 0;
			break;
		case CONFIG_DOUBLE:
			same = *(double *)config_field((struct config *)cur,
			    k) == *(double *)config_field((struct config *)next,
			    k);
			break;
		default:
			same = *(long *)config_field((struct config *)cur, k) ==
			    *(long *)config_field((struct config *)next, k);
			break;
		}
		if (!same) {
			xasprintf(cause, "%s cannot change on reload; restart "
			    "sipasd", k->name);
			return -1;
		}
	}
	return 0;
}

/* Print every key = value, secrets masked. */
void
config_print(const struct config *c, FILE *f)
{
	const struct config_key *k;
	struct config *cc = (struct config *)c;
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		fprintf(f, "%s = ", k->name);
		switch (k->type) {
		case CONFIG_STRING:
			if (k->secret && **(char **)config_field(cc, k) != '\0')
				fprintf(f, "(set, not shown)\n");
			else
				fprintf(f, "\"%s\"\n",
				    *(char **)config_field(cc, k));
			break;
		case CONFIG_INT:
			fprintf(f, "%ld\n", *(long *)config_field(cc, k));
			break;
		case CONFIG_DOUBLE:
			fprintf(f, "%g\n", *(double *)config_field(cc, k));
			break;
		case CONFIG_LEVEL:
			fprintf(f, "%s\n", (const char *[]){ "debug", "info",
			    "warn", "error" }[*(long *)config_field(cc, k)]);
			break;
		case CONFIG_PERIOD:
			fprintf(f, "%s\n",
			    config_periods[*(long *)config_field(cc, k)]);
			break;
		}
	}
}

/* Print the documented keys. */
void
config_help(FILE *f)
{
	const struct config_key *k;
	size_t i;

	fprintf(f, "configuration keys (key = value; * = SIGHUP reloads it):\n");
	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		fprintf(f, "  %-22s%c %s (default \"%s\")\n", k->name,
		    k->reloadable ? '*' : ' ', k->help, k->def);
	}
}

/* Every key as a roff tagged paragraph: type, default, range, meaning. */
void
config_man(FILE *f)
{
	static const char *const types[] = { "string", "integer", "number",
		"level", "period" };
	const struct config_key *k;
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		fprintf(f, ".TP\n.BR %s \" (%s", k->name, types[k->type]);
		if (k->type == CONFIG_INT || k->type == CONFIG_DOUBLE)
			fprintf(f, ", %.15g to %.15g", k->min, k->max);
		fputs(", default ", f);
		if (*k->def == '\0')
			fputs("empty", f);
		else if (k->type == CONFIG_STRING) {
			fputs("\\(lq", f);
			util_roff_puts(f, k->def);
			fputs("\\(rq", f);
		} else
			util_roff_puts(f, k->def);
		fprintf(f, "%s%s)\"\n", k->reloadable ? "" : ", not reloaded by "
		    "SIGHUP", k->secret ? ", secret" : "");
		util_roff_puts(f, k->help);
		fputc('\n', f);
	}
}

/* 1 if listen (ADDR:PORT) is a loopback address: 127.0.0.0/8, [::1], localhost. */
int
config_listen_loopback(const char *listen)
{
	const char *colon;
	size_t len;

	if (listen == NULL || (colon = strrchr(listen, ':')) == NULL)
		return 0;
	len = (size_t)(colon - listen);
	if (len == 5 && strncmp(listen, "[::1]", 5) == 0)
		return 1;
	if (len == 9 && strncmp(listen, "localhost", 9) == 0)
		return 1;
	return len > 4 && strncmp(listen, "127.", 4) == 0 &&
	    strspn(listen, "0123456789.") == len;
}

/* 1 if the dashboard's cookies carry Secure: unless off and on loopback. */
int
config_cookie_secure(const struct config *c)
{
	return c->session_cookie_secure != 0 || !config_listen_loopback(c->listen);
}
