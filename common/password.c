/*
 * password.c: Argon2id hashing and verification of account passwords
 * (password.h), on libargon2.
 *
 * Owns no state. Never logs and never keeps a copy of a password: the caller
 * owns the text and wipes it when done.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <argon2.h>

#include "sipas/password.h"
#include "sipas/util.h"

/* 1 if login is a valid login. */
int
password_login_ok(const char *login)
{
	size_t i, len = strlen(login);

	if (len == 0 || len > 63)
		return 0;
	for (i = 0; i < len; i++) {
		if ((login[i] >= 'a' && login[i] <= 'z') ||
		    (login[i] >= '0' && login[i] <= '9'))
			continue;
		if (i > 0 && (login[i] == '.' || login[i] == '_' ||
		    login[i] == '-'))
			continue;
		return 0;
	}
	return 1;
}

/* NULL if pw may become a password, else why not. */
const char *
password_check(const char *pw)
{
	const unsigned char *p = (const unsigned char *)pw, *end;
	size_t len = strlen(pw), n = 0;
	uint32_t c;

	if (len > PASSWORD_MAX)
		return "the password is longer than 256 bytes";
	if (!utf8_valid(pw, len))
		return "the password is not valid UTF-8";
	end = p + len;
	while (p < end) {
		c = utf8_next(&p, end);
		if (c < 0x20 || c == 0x7f)
			return "the password contains a control character";
		n++;
	}
	if (n < PASSWORD_MIN)
		return "the password is shorter than 10 characters";
	return NULL;
}

/* Hash pw with a fresh random salt. */
int
password_hash(const char *pw, char *out, size_t len, char **cause)
{
	unsigned char salt[PASSWORD_SALT_LEN];
	int rc;

	if (getrandom(salt, sizeof salt, 0) != (ssize_t)sizeof salt) {
		xasprintf(cause, "no random salt: %s", strerror(errno));
		return -1;
	}
	rc = argon2id_hash_encoded(PASSWORD_T_COST, PASSWORD_M_COST,
	    PASSWORD_PARALLELISM, pw, strlen(pw), salt, sizeof salt,
	    PASSWORD_HASH_LEN, out, len);
	if (rc != ARGON2_OK) {
		xasprintf(cause, "argon2id: %s", argon2_error_message(rc));
		return -1;
	}
	return 0;
}

/* 1 if pw matches encoded. */
int
password_verify(const char *encoded, const char *pw)
{
	if (strncmp(encoded, "$argon2id$", 10) != 0)
		return 0;
	return argon2id_verify(encoded, pw, strlen(pw)) == ARGON2_OK;
}
