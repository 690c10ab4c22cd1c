/*
 * pgconn.c: the parameters of every connection to PostgreSQL (pgconn.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "sipas/pgconn.h"

/* Fill p: options, then the conninfo (whose values win), then the name. */
void
pgconn_params(struct pgconn_params *p, const char *conninfo,
    const char *appname)
{
	const char *env = getenv("PGOPTIONS");
	int n;

	n = snprintf(p->options, sizeof p->options, "-c jit=off "
	    "-c DateStyle=ISO -c extra_float_digits=3%s%s",
	    env != NULL && *env != '\0' ? " " : "", env != NULL ? env : "");
	/* Too long to follow: empty, so libpq reads PGOPTIONS itself. */
	if (n < 0 || (size_t)n >= sizeof p->options)
		p->options[0] = '\0';
	p->keys[0] = "options";
	p->values[0] = p->options;
	p->keys[1] = "dbname";
	p->values[1] = conninfo != NULL ? conninfo : "";
	p->keys[2] = "fallback_application_name";
	p->values[2] = appname;
	p->keys[3] = NULL;
	p->values[3] = NULL;
}
