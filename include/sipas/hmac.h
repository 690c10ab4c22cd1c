/*
 * hmac.h: the keyed hashes sipas needs (HMAC-SHA1 for Twilio's request
 * signature, HMAC-SHA256 for phone numbers), encoded as text, and a
 * constant-time comparison. A thin layer over OpenSSL's libcrypto.
 *
 * No state, no I/O; keys and data are borrowed.
 */
#ifndef SIPAS_HMAC_H
#define SIPAS_HMAC_H

#include <stddef.h>

/* Bytes for a Base64 HMAC-SHA1 with its NUL: 28 characters. */
#define HMAC_SHA1_BASE64_SIZE 29
/* Bytes for a hexadecimal HMAC-SHA256 with its NUL: 64 characters. */
#define HMAC_SHA256_HEX_SIZE 65

/* Base64 of HMAC-SHA1(key, data) into out; 0, or -1 with *cause. */
int hmac_sha1_base64(const void *key, size_t keylen, const void *data,
    size_t len, char out[HMAC_SHA1_BASE64_SIZE], char **cause);
/* Lower-case hex of HMAC-SHA256(key, data) into out; 0, or -1 with *cause. */
int hmac_sha256_hex(const void *key, size_t keylen, const void *data,
    size_t len, char out[HMAC_SHA256_HEX_SIZE], char **cause);
/* 1 if the two strings are equal, in time that depends only on their lengths. */
int hmac_equal(const char *a, const char *b);

#endif
