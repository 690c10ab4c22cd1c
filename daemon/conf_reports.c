/*
 * conf_reports.c: the check of sipasd's report_* configuration keys, kept
 * apart from present/reports.c so that the configuration needs nothing of
 * the daemon's request code (only report/run.c's schedule parser).
 */
#include "config.h"

#include <stdlib.h>

#include "daemon/conf.h"
#include "sipas/report_run.h"
#include "sipas/util.h"

/* Every report_* key: the schedules parse, report_today is a day. */
int
reports_config_check(const struct config *c, char **cause)
{
	const char *names[3] = { "report_monthly", "report_quarterly", "report_yearly" };
	const char *texts[3] = { c->report_monthly, c->report_quarterly, c->report_yearly };
	struct report_schedule *sc;
	char *why = NULL;
	int i;

	for (i = 0; i < 3; i++) {
		if (report_schedule_parse(texts[i], &sc, &why) != 0) {
			xasprintf(cause, "%s: %s", names[i], why);
			free(why);
			return -1;
		}
		report_schedule_free(sc);
	}
	if (*c->report_today != '\0' && !report_day_valid(c->report_today)) {
		xasprintf(cause, "report_today: '%s' is not a date YYYY-MM-DD", c->report_today);
		return -1;
	}
	return 0;
}

