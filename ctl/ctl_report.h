/*
 * ctl_report.h: sipasctl report (ctl/ctl_report.c), the periodic statistical report
 * of a unit and its children; the ctl_verb signature of ctl.h.
 */
#ifndef SIPAS_CTL_REPORT_H
#define SIPAS_CTL_REPORT_H

struct ctl;

int ctl_report_run(struct ctl *, int argc, char **argv);

#endif
