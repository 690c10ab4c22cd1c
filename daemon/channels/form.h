/*
 * form.h: the citizen channels of sipasd: the web form (form.c,
 * /f/{survey}/{unit}), the one-stop kiosk (kiosk.c, /kiosk/{unit}) and their
 * static assets (static.c, /static/NAME), with the abuse checks they share:
 * a signed form token (CSRF), a honeypot field, a per-address rate limit.
 *
 * Both channels build a struct response and hand it to
 * ingest_submit_response: the same validation and the same durable write
 * path as the API, with the thank-you page sent only after COMMIT. See
 * docs/form.md.
 */
#ifndef SIPAS_FORM_H
#define SIPAS_FORM_H

#include <stddef.h>

#include "daemon/formdata.h"

struct config;
struct request;

/* GET and POST /f/{survey}/{unit}. */
void form_handle(struct request *);
/* GET and POST /kiosk/{unit}. */
void kiosk_handle(struct request *);

/* Bytes of a form token with its NUL; the nonce is 16 hex digits. */
#define FORM_TOKEN_SIZE 128
#define FORM_NONCE_SIZE 17

/* A new token for scope ("f/SURVEY/UNIT", "kiosk/UNIT"): time.nonce.hmac. */
void form_token_create(const struct config *, const char *scope,
    char out[FORM_TOKEN_SIZE]);
/* 0 and the token's nonce if valid for scope now; -1 and *why if not. */
int form_token_check(const struct config *, const char *scope,
    const char *token, char nonce[FORM_NONCE_SIZE], const char **why);

enum form_guard {
	FORM_GUARD_OK,	    /* go on */
	FORM_GUARD_REPLIED, /* refused with a page; the request is gone */
	FORM_GUARD_TOKEN,   /* the token is missing, forged or expired */
};
/*
 * The checks of a post before validation, in order: the per-address rate
 * limit (kind 'f' form, 'k' kiosk; 's', a page of a form in steps that
 * stores nothing, is not counted), the Origin (when public_url is set), the
 * honeypot field "website", the token. Refusals are pages in lang.
 */
enum form_guard form_guard(struct request *, const struct form_fields *,
    char kind, const char *scope, const char *lang,
    char nonce[FORM_NONCE_SIZE]);

#endif
