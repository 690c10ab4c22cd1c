/*
 * account.h: a person's sign-in with login and password (account.c), called
 * by session.c's POST /login once the form's origin and token are checked.
 */
#ifndef SIPAS_ACCOUNT_H
#define SIPAS_ACCOUNT_H

struct form_fields;
struct request;

/* Wrong passwords in ACCOUNT_WINDOW seconds that lock a login for ACCOUNT_LOCK. */
#define ACCOUNT_FAILS 5
#define ACCOUNT_WINDOW (15 * 60)
#define ACCOUNT_LOCK (15 * 60)

/* Check login= and password= of f; open a session or answer the login page. */
void account_login(struct request *, const struct form_fields *f,
    const char *lang, const char *next);

#endif
