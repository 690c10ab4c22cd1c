/*
 * strmap.h: a string-keyed hash map (open addressing), used for unit, stratum
 * and PSU look-ups. Keys are copied; values are borrowed pointers.
 */
#ifndef SIPAS_STRMAP_H
#define SIPAS_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_create(void);
void strmap_free(struct strmap *);
/* The value for key, or NULL. */
void *strmap_get(const struct strmap *, const char *key);
/* Insert or replace. Returns the stored (copied) key. */
const char *strmap_put(struct strmap *, const char *key, void *value);
size_t strmap_count(const struct strmap *);
/* Iterate: *pos starts at 0; returns 0 at the end. */
int strmap_next(const struct strmap *, size_t *pos, const char **key, void **value);

#endif
