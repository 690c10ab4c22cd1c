/*
 * reports.h: sipasd's reports (daemon/present/reports.c; docs/reports.md):
 * GET /api/v1/reports (a report on demand), GET /api/v1/reports/list (the
 * produced reports) and GET /api/v1/reports/files/NAME (one of them), and the
 * schedule that produces the reports of each closed period once.
 */
#ifndef SIPAS_REPORTS_H
#define SIPAS_REPORTS_H

struct config;
struct request;
struct sipasd;


/* GET /api/v1/reports?survey=&unit=&from=&to=&format=[&lang=vi|en][&min_n=N]. */
void reports_handle(struct request *);
/* GET /api/v1/reports/list[?survey=&unit=]. */
void reports_list_handle(struct request *);
/* GET /api/v1/reports/files/NAME. */
void reports_file_handle(struct request *);

/* Start the schedule's timer (first check soon after start). */
void reports_start(struct sipasd *);
/* Stop it and drop queued scheduled work; after the db connections are freed. */
void reports_stop(struct sipasd *);

#endif
