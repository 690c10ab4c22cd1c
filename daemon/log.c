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

/* Whether a message at level would be written. */
int
log_enabled(enum log_level level)
{
	return level >= log_level;
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

/*
 * Copy src into dst (size len, at least 1) with every control byte escaped:
 * \n, \r and \t by name, other C0 bytes and DEL as \xNN. A message can then
 * never start a second line or send a terminal escape, whatever text it
 * carries. An escape that does not fit is left out whole.
 */
static void
log_escape(char *dst, size_t len, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	char esc[5];
	size_t off = 0, n;

	for (; *s != '\0'; s++) {
		if (*s >= 0x20 && *s != 0x7f) {
			esc[0] = (char)*s;
			n = 1;
		} else if (*s == '\n' || *s == '\r' || *s == '\t') {
			esc[0] = '\\';
			esc[1] = *s == '\n' ? 'n' : *s == '\r' ? 'r' : 't';
			n = 2;
		} else {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[*s >> 4];
			esc[3] = hex[*s & 0xf];
			n = 4;
		}
		if (off + n >= len)
			break;
		memcpy(dst + off, esc, n);
		off += n;
	}
	dst[off] = '\0';
}

/* Write one line: UTC time with milliseconds, level, request id, text. */
static void
log_vwrite(enum log_level level, unsigned long reqid, const char *fmt,
    va_list ap)
{
	char line[2048], msg[2048], ts[32];
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
	vsnprintf(msg, sizeof msg, fmt, ap);
	/* libpq messages end with a newline: one line per event. */
	n = (int)strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (off < sizeof line)
		log_escape(line + off, sizeof line - off, msg);
	fprintf(stderr, "%s\n", line);
}

/*
 * Put s in double quotes in buf (size len), with its quotes and backslashes
 * escaped, so that a logged path or parameter shows where it ends; control
 * bytes are escaped by the writer. Returns buf.
 */
const char *
log_quote(char *buf, size_t len, const char *s)
{
	size_t off = 0;

	if (len < 3) {
		if (len > 0)
			buf[0] = '\0';
		return buf;
	}
	buf[off++] = '"';
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			if (off + 3 >= len)
				break;
			buf[off++] = '\\';
		} else if (off + 2 >= len)
			break;
		buf[off++] = *s;
	}
	buf[off++] = '"';
	buf[off] = '\0';
	return buf;
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
