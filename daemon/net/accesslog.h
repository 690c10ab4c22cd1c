/*
 * accesslog.h: what sipasd logs about the requests it answered
 * (daemon/net/accesslog.c).
 */
#ifndef SIPAS_ACCESSLOG_H
#define SIPAS_ACCESSLOG_H

struct sipasd;
struct request;

/* Start the summary's timer. */
void accesslog_start(struct sipasd *);
/* Write the last summary and stop the timer. */
void accesslog_stop(void);
/* A reply with status was sent to r, ms after it arrived, on route (a label). */
void accesslog_request(const struct request *r, const char *route,
    int status, double ms);

#endif
