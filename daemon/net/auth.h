/*
 * auth.h: the bearer tokens of the API (auth.c): check the token, then call
 * next with r->role and r->scope set. The request-level queries
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
/* Replies 401/403/503 itself; otherwise calls next. */
void auth_check(struct request *, unsigned roles, auth_next_cb next);

#endif
