/*
 * http.h: the HTTP listener of sipasd and its route table (http.c). The
 * replies a route's module sends are declared in request.h.
 */
#ifndef SIPAS_HTTP_H
#define SIPAS_HTTP_H

struct sipasd;

/* Start listening on config listen (or --listen); -1 and *cause. */
int http_start(struct sipasd *, char **cause);
/* Stop accepting new connections (drain). */
void http_stop_accepting(struct sipasd *);
void http_free(struct sipasd *);
/* Apply reloadable HTTP settings (body size, timeout). */
void http_configure(struct sipasd *);

#endif
