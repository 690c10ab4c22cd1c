/*
 * landing.h: where a signed-in person lands (landing.c, docs/dashboard.md,
 * "Landing"): the dashboard of their unit for the latest period with data,
 * or, for an account that sees every unit, a unit picker.
 */
#ifndef SIPAS_LANDING_H
#define SIPAS_LANDING_H

#include "daemon/request.h"

/* The cookie that remembers the unit last chosen in the picker. */
#define LANDING_COOKIE "sipas_unit"

/*
 * GET /start[?unit=CODE][&pick=1][&q=TEXT][&lang=en], once the session is
 * checked: 303 to the dashboard of the unit (the one asked for, else the
 * account's scope, else the unit last chosen) for the latest period with
 * data; without any, the picker.
 */
void landing_handle(struct request *);
/* The unit picker page (q= searches codes and names, without JavaScript). */
void landing_picker(struct request *);

#endif
