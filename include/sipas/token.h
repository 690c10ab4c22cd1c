/*
 * token.h: API tokens and roles, shared by sipasd (checking) and sipasctl
 * (creating).
 *
 * A token is "sip_" followed by 43 base64url characters (256 random bits). It
 * is shown once; only its SHA-256 (lowercase hex) is stored.
 */
#ifndef SIPAS_TOKEN_H
#define SIPAS_TOKEN_H

#include <stddef.h>

#define TOKEN_LEN 47	  /* "sip_" + 43 */
#define TOKEN_HASH_LEN 64 /* hex SHA-256 */

enum role {
	ROLE_COLLECTOR,
	ROLE_UPLOADER,
	ROLE_VIEWER,
	ROLE_ADMIN,
};

/* Role by name; -1 if unknown. */
int role_parse(const char *);
const char *role_name(enum role);

/* A new random token into buf (at least TOKEN_LEN + 1 bytes); -1 and *cause. */
int token_generate(char *buf, size_t len, char **cause);
/* SHA-256 of s as lowercase hex into out (TOKEN_HASH_LEN + 1 bytes). */
void token_hash(const char *s, size_t len, char *out);

#endif
