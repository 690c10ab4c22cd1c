/*
 * export.h: GET /api/v1/export?survey=CODE[&unit=U][&from=DATE][&to=DATE]
 * [&channel=CH] (daemon/present/export.c): the stored responses as the responses CSV
 * of docs/interfaces.md ("Responses CSV"), streamed, the same bytes as
 * sipasctl export for the same filters. docs/uploads.md describes it.
 */
#ifndef SIPAS_EXPORT_H
#define SIPAS_EXPORT_H

struct request;

/* Rows per database statement (one page). */
#define EXPORT_PAGE_ROWS 1000
/* Bytes of CSV collected before they are handed to the connection. */
#define EXPORT_CHUNK_BYTES 32768
/* Unsent bytes on the connection above which the next page waits. */
#define EXPORT_HIGH_WATER (256 * 1024)

/* GET /api/v1/export, after authentication (roles uploader, admin). */
void export_handle(struct request *);

#endif
