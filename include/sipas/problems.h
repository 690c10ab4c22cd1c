/*
 * problems.h: the problems found in the rows and fields of a file of
 * responses (an upload to sipasd, a sipasctl import), listed in its report
 * the same way by both: each names its row, its column (name and number),
 * a status (rejected, conflict) and the reason.
 */
#ifndef SIPAS_PROBLEMS_H
#define SIPAS_PROBLEMS_H

struct json_t;

struct problems {
	struct json_t *list; /* array of {row, status, column, column_number,
				reason[, message]} */
	long max;	     /* problems listed at most; the rest are counted */
	long omitted;	     /* problems past max */
	long rejected;	     /* rows rejected, each counted once */
	long last_row;	     /* the row last counted as rejected */
};

/* An empty list of at most max problems. */
void problems_init(struct problems *, long max);
void problems_free(struct problems *);
/*
 * Add a problem (or count it past max). column may be NULL, colno 0 when
 * unknown; message, when not NULL, is the reason in the reader's language.
 */
void problems_add(struct problems *, long row, const char *status,
    const char *column, int colno, const char *reason, const char *message);
/* Count row (> 0) as rejected once, however many problems it has: 1 if new. */
int problems_reject_row(struct problems *, long row);
/* 1 if row is the one last counted as rejected. */
int problems_row_rejected(const struct problems *, long row);
/* Order the list by row, keeping the order of each row's problems. */
void problems_sort(struct problems *);

#endif
