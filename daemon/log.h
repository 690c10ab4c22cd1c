/*
 * log.h: sipasd's log lines on stderr: time, level, request id, message.
 *
 * Never log a secret (token, password in a conninfo) or a full phone number.
 * The writer escapes control bytes, so a message is always one line.
 */
#ifndef SIPAS_LOG_H
#define SIPAS_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/* Only messages at or above level are written. */
void log_level_set(enum log_level);
/* Whether a message at level would be written. */
int log_enabled(enum log_level);
/* Level by name (debug, info, warn, error); -1 if unknown. */
int log_level_parse(const char *);
/* One log line; reqid is 0 when the line is about no request. */
void log_msg(enum log_level, unsigned long reqid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* s in double quotes with its quotes and backslashes escaped, written into
 * buf (len bytes, cut if longer); returns buf. For paths and parameters. */
const char *log_quote(char *buf, size_t len, const char *s);
/* Cannot start: log and exit(1). Only during start-up (docs/style.md). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, 0, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, 0, __VA_ARGS__)

#endif
