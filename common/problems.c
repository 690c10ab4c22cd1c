/*
 * problems.c: the list of row and field problems of a file's report, shared
 * by the upload (daemon) and sipasctl import.
 */
#include "config.h"

#include <stdlib.h>

#include <jansson.h>

#include "sipas/problems.h"
#include "sipas/util.h"

void
problems_init(struct problems *p, long max)
{
	p->list = json_array();
	p->max = max;
	p->omitted = 0;
	p->rejected = 0;
	p->last_row = 0;
}

void
problems_free(struct problems *p)
{
	json_decref(p->list);
	p->list = NULL;
}

/* One problem, or one more omitted past max. */
void
problems_add(struct problems *p, long row, const char *status,
    const char *column, int colno, const char *reason, const char *message)
{
	json_t *o;

	if ((long)json_array_size(p->list) >= p->max) {
		p->omitted++;
		return;
	}
	o = json_pack("{s:I,s:s,s:s?,s:s}", "row", (json_int_t)row, "status",
	    status, "column", column, "reason", reason);
	ASSERT(o != NULL);
	json_object_set_new(o, "column_number", colno > 0 ?
	    json_integer(colno) : json_null());
	if (message != NULL)
		json_object_set_new(o, "message", json_string(message));
	json_array_append_new(p->list, o);
}

int
problems_reject_row(struct problems *p, long row)
{
	if (row <= 0 || row == p->last_row)
		return 0;
	p->rejected++;
	p->last_row = row;
	return 1;
}

int
problems_row_rejected(const struct problems *p, long row)
{
	return row == p->last_row;
}

/* A problem and where it was in the list, for a stable sort. */
struct problems_pos {
	json_t *o;
	json_int_t row;
	size_t seq;
};

static int
problems_cmp(const void *a, const void *b)
{
	const struct problems_pos *x = a, *y = b;

	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
problems_sort(struct problems *p)
{
	size_t i, n = json_array_size(p->list);
	struct problems_pos *v = xcalloc(n + 1, sizeof *v);
	json_t *sorted = json_array();

	for (i = 0; i < n; i++) {
		v[i].o = json_array_get(p->list, i);
		v[i].row = json_integer_value(json_object_get(v[i].o, "row"));
		v[i].seq = i;
	}
	qsort(v, n, sizeof *v, problems_cmp);
	for (i = 0; i < n; i++)
		json_array_append(sorted, v[i].o);
	free(v);
	json_decref(p->list);
	p->list = sorted;
}
