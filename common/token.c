/*
 * token.c: token generation and hashing, and role names.
 *
 * Owns no state. Uses the kernel's random source (getrandom) and OpenSSL's
 * SHA-256; must not touch the database or log anything.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "sipas/token.h"
#include "sipas/util.h"

static const char *const token_roles[] = {
	[ROLE_COLLECTOR] = "collector",
	[ROLE_UPLOADER] = "uploader",
	[ROLE_VIEWER] = "viewer",
	[ROLE_ADMIN] = "admin",
};

/* Role by name; -1 if unknown. */
int
role_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof token_roles / sizeof token_roles[0]; i++) {
		if (strcmp(s, token_roles[i]) == 0)
			return (int)i;
	}
	return -1;
}

/* The name of a role. */
const char *
role_name(enum role r)
{
	ASSERT((size_t)r < sizeof token_roles / sizeof token_roles[0]);
	return token_roles[r];
}

/* A new token: "sip_" and 32 random bytes in unpadded base64url. */
int
token_generate(char *buf, size_t len, char **cause)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[33];
	size_t i, o;

	ASSERT(len >= TOKEN_LEN + 1);
	if (util_random_bytes(raw, 32) != 0) {
		xasprintf(cause, "getrandom: %s", strerror(errno));
		return -1;
	}
	raw[32] = 0;
	memcpy(buf, "sip_", 4);
	o = 4;
	/* 33 bytes (the last is padding) make 44 characters; keep 43. */
	for (i = 0; i < 33; i += 3) {
		unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 |
		    raw[i + 2];
		buf[o++] = b64[(v >> 18) & 63];
		buf[o++] = b64[(v >> 12) & 63];
		buf[o++] = b64[(v >> 6) & 63];
		buf[o++] = b64[v & 63];
	}
	o--;
	buf[o] = '\0';
	ASSERT(o == TOKEN_LEN);
	return 0;
}

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
static EVP_MD *token_sha256;
#else
static const EVP_MD *token_sha256;
#endif
static pthread_once_t token_sha256_once = PTHREAD_ONCE_INIT;

/*
 * SHA-256 fetched once: with OpenSSL 3, EVP_sha256() makes EVP_Digest look
 * the algorithm up in the provider on every call, and every stored
 * response is hashed.
 */
static void
token_sha256_fetch(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	token_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
	token_sha256 = EVP_sha256();
#endif
	ASSERT(token_sha256 != NULL);
}

/* SHA-256 of s as lowercase hex. */
void
token_hash(const char *s, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	int ok;

	pthread_once(&token_sha256_once, token_sha256_fetch);
	ok = EVP_Digest(s, len, md, &mdlen, token_sha256, NULL);
	ASSERT(ok == 1 && mdlen == 32);
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}
