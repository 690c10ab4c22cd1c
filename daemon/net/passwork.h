/*
 * passwork.h: Argon2id work off the event loop (passwork.c). A hash or a
 * verification takes tens of milliseconds by design (sipas/password.h), far
 * too long to run on the loop that serves every request, so it runs on a
 * small pool of threads and the answer comes back on the loop.
 */
#ifndef SIPAS_PASSWORK_H
#define SIPAS_PASSWORK_H

struct event_base;

/*
 * Called on the loop: ok is 1 when the password matched (verify) or was
 * hashed (hash, into encoded), else 0; encoded is borrowed.
 */
typedef void (*passwork_cb)(int ok, const char *encoded, void *arg);

/* Verify pw against encoded (NULL: a hash that matches nothing, same cost). */
void passwork_verify(struct event_base *, const char *encoded, const char *pw,
    passwork_cb, void *arg);
/* Hash pw with a fresh salt. */
void passwork_hash(struct event_base *, const char *pw, passwork_cb,
    void *arg);

#endif
