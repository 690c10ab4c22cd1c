/*
 * passwork.c: a pool of PASSWORK_THREADS threads that hash and verify
 * passwords (passwork.h).
 *
 * The loop queues a job under a mutex; a thread takes it, does the Argon2id
 * work and writes the job's pointer to a pipe, whose read end is an event of
 * the loop; the loop then calls the job's callback and wipes and frees it.
 * The threads touch nothing but their job, the queue and the pipe. They are
 * started on first use and live until the process exits.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/log.h"
#include "daemon/net/passwork.h"
#include "sipas/password.h"
#include "sipas/token.h"
#include "sipas/util.h"

#define PASSWORK_THREADS 2

struct passwork_job {
	struct passwork_job *next;
	int hash;  /* 1: hash pw; 0: verify pw against encoded */
	char *pw;
	char encoded[PASSWORD_ENCODED_MAX];
	int ok;
	passwork_cb cb;
	void *arg;
};

static pthread_mutex_t passwork_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t passwork_wake = PTHREAD_COND_INITIALIZER;
static struct passwork_job *passwork_head, *passwork_tail;
static int passwork_pipe[2] = { -1, -1 };
static struct event *passwork_event;
/* A hash of a random password: what an unknown login is verified against. */
static char passwork_dummy[PASSWORD_ENCODED_MAX];

/* Wipe and free a job. */
static void
passwork_job_free(struct passwork_job *j)
{
	explicit_bzero(j->pw, strlen(j->pw));
	free(j->pw);
	explicit_bzero(j->encoded, sizeof j->encoded);
	free(j);
}

/* A thread: take jobs, do them, hand them back through the pipe. */
static void *
passwork_thread(void *unused)
{
	struct passwork_job *j;
	char *cause = NULL;

	(void)unused;
	for (;;) {
		pthread_mutex_lock(&passwork_lock);
		while (passwork_head == NULL)
			pthread_cond_wait(&passwork_wake, &passwork_lock);
		j = passwork_head;
		if ((passwork_head = j->next) == NULL)
			passwork_tail = NULL;
		pthread_mutex_unlock(&passwork_lock);
		if (j->hash) {
			j->ok = password_hash(j->pw, j->encoded,
			    sizeof j->encoded, &cause) == 0;
			free(cause);
			cause = NULL;
		} else
			j->ok = password_verify(j->encoded, j->pw);
		while (write(passwork_pipe[1], &j, sizeof j) != sizeof j) {
			if (errno != EINTR)
				abort();
		}
	}
	return NULL;
}

/* Finished jobs on the loop: call back, free. */
static void
passwork_read(evutil_socket_t fd, short what, void *unused)
{
	struct passwork_job *j;
	ssize_t n;

	(void)what;
	(void)unused;
	while ((n = read(fd, &j, sizeof j)) == sizeof j) {
		j->cb(j->ok, j->encoded, j->arg);
		passwork_job_free(j);
	}
}

/* Start the pipe, its event and the threads (once). */
static void
passwork_start(struct event_base *base)
{
	pthread_t t;
	char pw[TOKEN_LEN + 1], *cause = NULL;
	int i;

	if (passwork_event != NULL)
		return;
	if (pipe2(passwork_pipe, O_CLOEXEC) != 0)
		fatal("passwork: pipe: %s", strerror(errno));
	if (fcntl(passwork_pipe[0], F_SETFL, O_NONBLOCK) != 0)
		fatal("passwork: fcntl: %s", strerror(errno));
	passwork_event = event_new(base, passwork_pipe[0], EV_READ | EV_PERSIST,
	    passwork_read, NULL);
	event_add(passwork_event, NULL);
	if (token_generate(pw, sizeof pw, &cause) != 0 ||
	    password_hash(pw, passwork_dummy, sizeof passwork_dummy,
	    &cause) != 0)
		fatal("passwork: %s", cause);
	explicit_bzero(pw, sizeof pw);
	for (i = 0; i < PASSWORK_THREADS; i++) {
		if (pthread_create(&t, NULL, passwork_thread, NULL) != 0)
			fatal("passwork: cannot start a thread");
		/* Apart from the event loop in top -H and bench/ingest.sh. */
		pthread_setname_np(t, "sipasd-pass");
		pthread_detach(t);
	}
}

/* Queue a job. */
static void
passwork_queue(struct event_base *base, int hash, const char *encoded,
    const char *pw, passwork_cb cb, void *arg)
{
	struct passwork_job *j = xcalloc(1, sizeof *j);

	passwork_start(base);
	j->hash = hash;
	j->pw = xstrdup(pw);
	if (!hash)
		snprintf(j->encoded, sizeof j->encoded, "%s", encoded != NULL ?
		    encoded : passwork_dummy);
	j->cb = cb;
	j->arg = arg;
	pthread_mutex_lock(&passwork_lock);
	if (passwork_tail != NULL)
		passwork_tail->next = j;
	else
		passwork_head = j;
	passwork_tail = j;
	pthread_cond_signal(&passwork_wake);
	pthread_mutex_unlock(&passwork_lock);
}

/* Verify pw against encoded off the loop. */
void
passwork_verify(struct event_base *base, const char *encoded, const char *pw,
    passwork_cb cb, void *arg)
{
	passwork_queue(base, 0, encoded, pw, cb, arg);
}

/* Hash pw off the loop. */
void
passwork_hash(struct event_base *base, const char *pw, passwork_cb cb,
    void *arg)
{
	passwork_queue(base, 1, NULL, pw, cb, arg);
}
