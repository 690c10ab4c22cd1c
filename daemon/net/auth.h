/*
 * auth.h: the bearer tokens of the API (auth.c): check the token and give a
 * verdict (with r->role and r->scope set when allowed); http.c replies. The request-level queries
 * (auth_scope_allows, auth_token_hash) are in request.h.
 */
#ifndef SIPAS_AUTH_H
#define SIPAS_AUTH_H

#include "daemon/request.h"

struct auth;
struct sipasd;

#define AUTH_ROLE(r) (1u << (r))
typedef void (*auth_next_cb)(struct request *);
struct auth *auth_create(struct sipasd *);
void auth_free(struct auth *);
/* Forget checked tokens (SIGHUP). */
void auth_flush(struct auth *);
/* What auth_check decided; the caller (http.c) replies. */
enum auth_verdict {
	AUTH_ALLOW,	  /* r->role and r->scope are set: go on */
	AUTH_UNAUTHORIZED, /* 401: no token, an unknown or a revoked one */
	AUTH_FORBIDDEN,	  /* 403: r->role may not do this */
	AUTH_UNAVAILABLE, /* 503: the token cannot be checked now */
};
/* The verdict on a request and, when it is not AUTH_ALLOW, why (static text). */
typedef void (*auth_verdict_cb)(struct request *, enum auth_verdict,
    const char *why, void *arg);
/*
 * Check the bearer token of a request for one of roles; done gets the
 * verdict exactly once (at once, or after the token's look-up). Never
 * replies: the request stays the caller's.
 */
void auth_check(struct request *, unsigned roles, auth_verdict_cb done,
    void *arg);

#endif
