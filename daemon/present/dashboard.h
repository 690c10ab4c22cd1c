/*
 * dashboard.h: the leadership page of sipasd (docs/dashboard.md), behind
 * the cookie session of net/session.h: the server-rendered dashboard
 * (dashboard.c): a unit's indices with intervals,
 * the change from the previous period, the ranking of its child units, the
 * trend per quarter and the item detail, drawn as inline SVG.
 *
 * Sessions live in memory only (a restart logs everybody out). The pages
 * read the same numbers as GET /api/v1/indices (indices_compute).
 */
#ifndef SIPAS_DASHBOARD_H
#define SIPAS_DASHBOARD_H

#include "daemon/request.h"

/*
 * GET /dashboard?survey=&unit=&from=&to=&channel=[&respondent.FIELD=VALUE]
 * &lang=, once net/session.c has checked the session (viewer or admin).
 */
void dashboard_handle(struct request *);

#endif
