/*
 * password.h: the passwords of people's accounts, shared by sipasd
 * (verifying at sign-in, setting from the admin page) and sipasctl (user
 * add, user passwd).
 *
 * A password is stored only as an Argon2id hash in the encoded form of
 * libargon2 ("$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH"), with a random
 * 16-byte salt; the parameters below are the ones new hashes get, and
 * verification reads them from the stored string. Both calls take tens of
 * milliseconds on purpose: sipasd runs them off its event loop.
 */
#ifndef SIPAS_PASSWORD_H
#define SIPAS_PASSWORD_H

#include <stddef.h>

#define PASSWORD_T_COST 2	 /* passes over memory */
#define PASSWORD_M_COST 19456	 /* KiB of memory (19 MiB) */
#define PASSWORD_PARALLELISM 1
#define PASSWORD_SALT_LEN 16
#define PASSWORD_HASH_LEN 32
#define PASSWORD_ENCODED_MAX 128 /* room for the encoded string and its NUL */
#define PASSWORD_MIN 10		 /* characters (Unicode code points) */
#define PASSWORD_MAX 256	 /* bytes */

/* 1 if login is a valid login: 1 to 63 of a-z 0-9 . _ -, the first a letter or digit. */
int password_login_ok(const char *login);
/*
 * NULL if pw is acceptable as a new password (valid UTF-8, PASSWORD_MIN
 * characters or more, at most PASSWORD_MAX bytes, no control characters),
 * else why not (static English text).
 */
const char *password_check(const char *pw);
/* Hash pw with a fresh salt into out (PASSWORD_ENCODED_MAX): 0, or -1 and *cause. */
int password_hash(const char *pw, char *out, size_t len, char **cause);
/* 1 if pw matches the encoded hash, 0 if not (or the hash is malformed). */
int password_verify(const char *encoded, const char *pw);

#endif
