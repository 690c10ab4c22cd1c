/*
 * log.c: sipasd's logging to stderr, one line per event, with a request id.
 *
 * Owns the current level. Must not allocate (it runs on out-of-memory and
 * error paths) or know anything about requests beyond their id.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "daemon/log.h"

static enum log_level log_level = LOG_LEVEL_INFO;

static const char *const log_names[] = { "debug", "info", "warn", "error" };

/* Set the lowest level written. */
void
log_level_set(enum log_level level)
{
	log_level = level;
}

/* Level by name; -1 if unknown. */
int
log_level_parse(const char *s)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(s, log_names[i]) == 0)
			return i;
	}
	return -1;
}

/* Write one line: UTC time with milliseconds, level, request id, text. */
static void
log_vwrite(enum log_level level, unsigned long reqid, const char *fmt,
    va_list ap)
{
	char line[2048], ts[32];
	struct timeval tv;
	struct tm tm;
	size_t off;
	int n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	if (reqid != 0)
		n = snprintf(line, sizeof line, "%s.%03dZ %-5s [r%lu] ", ts,
		    (int)(tv.tv_usec / 1000), log_names[level], reqid);
	else
		n = snprintf(line, sizeof line, "%s.%03dZ %-5s ", ts,
		    (int)(tv.tv_usec / 1000), log_names[level]);
	off = n > 0 ? (size_t)n : 0;
	if (off < sizeof line)
		vsnprintf(line + off, sizeof line - off, fmt, ap);
	/* libpq messages end with a newline: one line per event. */
	off = strlen(line);
	while (off > 0 && line[off - 1] == '\n')
		line[--off] = '\0';
	fprintf(stderr, "%s\n", line);
}

/* Log a message at level for request reqid (0: none). */
void
log_msg(enum log_level level, unsigned long reqid, const char *fmt, ...)
{
	va_list ap;

	if (level < log_level)
		return;
	va_start(ap, fmt);
	log_vwrite(level, reqid, fmt, ap);
	va_end(ap);
}

/* Log and exit: only while starting. */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
