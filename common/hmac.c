/*
 * hmac.c: HMAC-SHA1 (Base64) and HMAC-SHA256 (hex) over OpenSSL's one-shot
 * HMAC(), and a constant-time string comparison.
 *
 * Owns nothing and keeps no state. Must not log, print or keep a key: the
 * callers pass secrets (Twilio auth tokens, the phone-hash key) through here.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sipas/hmac.h"
#include "sipas/util.h"

/* HMAC of data under key with md into mac; 0, or -1 with *cause. */
static int
hmac_compute(const EVP_MD *md, const void *key, size_t keylen,
    const void *data, size_t len, unsigned char *mac, unsigned int *maclen,
    char **cause)
{
	static const unsigned char empty[1];

	if (keylen > INT_MAX) {
		*cause = xstrdup("HMAC key too long");
		return -1;
	}
	/* OpenSSL wants a non-NULL pointer even for an empty message. */
	if (data == NULL || len == 0) {
		data = empty;
		len = 0;
	}
	if (key == NULL || keylen == 0)
		key = empty;
	if (HMAC(md, key, (int)keylen, data, len, mac, maclen) == NULL) {
		*cause = xstrdup("HMAC failed in libcrypto");
		return -1;
	}
	return 0;
}

/* Base64 of HMAC-SHA1(key, data). */
int
hmac_sha1_base64(const void *key, size_t keylen, const void *data,
    size_t len, char out[HMAC_SHA1_BASE64_SIZE], char **cause)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (hmac_compute(EVP_sha1(), key, keylen, data, len, mac, &maclen,
	    cause) != 0)
		return -1;
	ASSERT(maclen == 20);
	/* 20 bytes give 28 Base64 characters and a NUL. */
	EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
	return 0;
}

/* Lower-case hex of HMAC-SHA256(key, data). */
int
hmac_sha256_hex(const void *key, size_t keylen, const void *data,
    size_t len, char out[HMAC_SHA256_HEX_SIZE], char **cause)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, i;

	if (hmac_compute(EVP_sha256(), key, keylen, data, len, mac, &maclen,
	    cause) != 0)
		return -1;
	ASSERT(maclen == 32);
	for (i = 0; i < maclen; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 0xf];
	}
	out[2 * maclen] = '\0';
	return 0;
}

/* 1 if a and b are equal; the time depends on the lengths, not the bytes. */
int
hmac_equal(const char *a, const char *b)
{
	size_t alen, blen;

	if (a == NULL || b == NULL)
		return 0;
	alen = strlen(a);
	blen = strlen(b);
	if (alen != blen)
		return 0;
	return CRYPTO_memcmp(a, b, alen) == 0;
}
