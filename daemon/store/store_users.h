/*
 * store_users.h: the statements of people's accounts (sql/0006_users.sql)
 * for sign-in, the session re-check and the admin page, the audit rows
 * whose actor is a person, and the latest day with data that the landing
 * page starts from. The SQL text lives in store_users.c only.
 */
#ifndef SIPAS_STORE_USERS_H
#define SIPAS_STORE_USERS_H

#include <stddef.h>
#include <time.h>

#include "daemon/store/store.h"

struct db;

/* One account. hash is set only by a look-up of one login. */
struct store_user {
	char *login;
	char *name;
	char *role;
	char *unit;	/* NULL: every unit */
	char *hash;	/* the encoded Argon2id hash, or NULL */
	int disabled;
	time_t changed; /* the password's last change */
};
/* users is NULL when the query failed (message says why); borrowed. */
typedef void (*store_users_cb)(const struct store_user *users, size_t n,
    const char *message, void *arg);
/* The account of login (n = 0 when there is none), with its hash. */
void store_user_find(struct db *, const char *login, store_users_cb, void *arg);
/* Every account by login, without hashes. */
void store_users_list(struct db *, store_users_cb, void *arg);

/* Insert an account (unit and name may be NULL); 23505: the login exists. */
void store_user_insert(struct db *, const char *login, const char *name,
    const char *role, const char *unit, const char *hash, store_done_cb,
    void *arg);
/* n accounts changed (0: no such login), or n = -1 and message. */
typedef void (*store_count_cb)(long n, const char *message, void *arg);
/* Disable login (its sessions end at their next check). */
void store_user_disable(struct db *, const char *login, store_count_cb,
    void *arg);
/* Give login a new password hash (and the time of the change). */
void store_user_set_hash(struct db *, const char *login, const char *hash,
    store_count_cb, void *arg);

/* Append to audit_log with a named actor (e.g. "user:LOGIN", "sipasd"). */
void store_audit_actor(struct db *, const char *actor, const char *action,
    const char *detail, store_done_cb, void *arg);

/*
 * The Vietnam day of the latest stored response of survey in unit's subtree
 * ("YYYY-MM-DD", NULL when there is none) and how many responses that
 * subtree has in the calendar quarter and in the year holding that day.
 */
typedef void (*store_latest_cb)(const char *day, long quarter_n,
    long year_n, const char *message, void *arg);
void store_latest_day(struct db *, const char *survey, const char *unit,
    store_latest_cb, void *arg);

#endif
