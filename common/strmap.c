/*
 * strmap.c: string-keyed open-addressing hash map (FNV-1a, linear probing).
 * Owns its copied keys; values are the caller's.
 */
#include <stdint.h>
#include <string.h>

#include "sipas/strmap.h"
#include "sipas/util.h"

struct strmap_slot {
	char *key;
	void *value;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap; /* a power of two */
	size_t count;
};

/* FNV-1a of a string. */
static uint64_t
strmap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

/* A new empty map. */
struct strmap *
strmap_create(void)
{
	struct strmap *m = xcalloc(1, sizeof *m);

	m->cap = 16;
	m->slots = xcalloc(m->cap, sizeof *m->slots);
	return m;
}

/* Free the map and its keys (NULL-safe). */
void
strmap_free(struct strmap *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	free(m);
}

/* The slot of key, or the empty slot where it would go. */
static struct strmap_slot *
strmap_slot_find(const struct strmap *m, const char *key)
{
	size_t i = strmap_hash(key) & (m->cap - 1);

	while (m->slots[i].key != NULL && strcmp(m->slots[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

/* Double the table. */
static void
strmap_grow(struct strmap *m)
{
	struct strmap_slot *old = m->slots;
	size_t oldcap = m->cap, i;

	m->cap *= 2;
	m->slots = xcalloc(m->cap, sizeof *m->slots);
	for (i = 0; i < oldcap; i++) {
		if (old[i].key != NULL)
			*strmap_slot_find(m, old[i].key) = old[i];
	}
	free(old);
}

/* The value stored for key, or NULL. */
void *
strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_slot *s = strmap_slot_find(m, key);

	return s->key != NULL ? s->value : NULL;
}

/* Insert or replace key's value; returns the map's copy of the key. */
const char *
strmap_put(struct strmap *m, const char *key, void *value)
{
	struct strmap_slot *s;

	if ((m->count + 1) * 4 > m->cap * 3)
		strmap_grow(m);
	s = strmap_slot_find(m, key);
	if (s->key == NULL) {
		s->key = xstrdup(key);
		m->count++;
	}
	s->value = value;
	return s->key;
}

/* Number of keys. */
size_t
strmap_count(const struct strmap *m)
{
	return m->count;
}

/* Next key and value from *pos; 0 at the end. */
int
strmap_next(const struct strmap *m, size_t *pos, const char **key, void **value)
{
	while (*pos < m->cap) {
		struct strmap_slot *s = &m->slots[(*pos)++];

		if (s->key != NULL) {
			*key = s->key;
			*value = s->value;
			return 1;
		}
	}
	return 0;
}
