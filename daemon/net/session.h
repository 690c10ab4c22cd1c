/*
 * session.h: the dashboard's login (session.c): GET/POST /login, /logout and
 * the cookie sessions that the route table checks before a leadership page.
 *
 * Sessions live in memory only (a restart logs everybody out).
 */
#ifndef SIPAS_SESSION_H
#define SIPAS_SESSION_H

#include "daemon/net/auth.h"

/* The session cookie's name. */
#define SESSION_COOKIE "sipas_session"

/* GET /login (the form) and POST /login (token=...: opens a session). */
void session_login_handle(struct request *);
/*
 * POST /logout (csrf=the session's token, which session routes put in
 * r->csrf, from this site's page): forgets the session and clears the cookie.
 */
void session_logout_handle(struct request *);
/*
 * Check the request's session cookie for one of roles, then call next with
 * r->role, r->scope and r->csrf set. Without a valid session: 303 to /login (with
 * next= the page asked for); a session of another role: a 403 page. The
 * token behind a session is looked up again every token_ttl seconds, so a
 * revoked token ends its sessions.
 */
void session_check(struct request *, unsigned roles, auth_next_cb next);
/* The login page (status, an error line or NULL; next: a checked path or NULL). */
void session_login_page(struct request *, int status, const char *lang,
    const char *next, const char *error);
/*
 * Open the session of a person whose password was checked (account.c):
 * cookie, then 303 to next or the dashboard; a 503 login page when no
 * session can be opened.
 */
void session_open_user(struct request *, int role, const char *scope,
    const char *user, const char *lang, const char *next);
/*
 * 1 if a POST comes from this site's own page: Sec-Fetch-Site same-origin,
 * or an Origin that is this host.
 */
int session_post_ok(const struct request *);
/* End every session of login (disabled, or a new password). */
void session_end_user(const char *login);

/* Reply 303 See Other to location (a path made by the caller). */
void session_redirect(struct request *, const char *location);

#endif
