/*
 * auth.c: bearer tokens for the API: look-up by SHA-256, roles, unit scope.
 *
 * Owns a small cache of checked tokens (hash -> role, scope), each trusted
 * for token_ttl seconds, so that a busy collector costs one look-up per TTL
 * and a revocation takes effect within it. With a spool (spool_dir), a token
 * checked before stays trusted while the database is away, so that its
 * responses can be spooled. Never logs a token or its hash. Must not reply:
 * auth_check gives a verdict and http.c answers it.
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/http.h>

#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "daemon/formdata.h"
#include "daemon/log.h"
#include "daemon/sipasd.h"
#include "daemon/request.h"
#include "daemon/net/auth.h"
#include "daemon/store/store.h"
#include "sipas/strmap.h"
#include "sipas/token.h"
#include "sipas/util.h"

/* Forget everything when the cache grows past this many tokens. */
#define AUTH_CACHE_MAX 10000

struct auth_entry {
	int role;
	char *scope;
	time_t checked;
};

struct auth {
	struct sipasd *sd;
	struct strmap *tokens;
};

/* A request waiting for its token's look-up. */
struct auth_wait {
	struct request *r;
	unsigned roles;
	auth_verdict_cb done;
	void *arg;
	char hash[TOKEN_HASH_LEN + 1];
};

/* A new, empty token cache. */
struct auth *
auth_create(struct sipasd *sd)
{
	struct auth *a = xcalloc(1, sizeof *a);

	a->sd = sd;
	a->tokens = strmap_create();
	return a;
}

/* Forget every checked token. */
void
auth_flush(struct auth *a)
{
	const char *key;
	void *value;
	struct auth_entry *e;
	size_t pos = 0;

	while (strmap_next(a->tokens, &pos, &key, &value)) {
		e = value;
		free(e->scope);
		free(e);
	}
	strmap_free(a->tokens);
	a->tokens = strmap_create();
}

/* Free the cache. */
void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	auth_flush(a);
	strmap_free(a->tokens);
	free(a);
}

/* 1 if the request's token may see unit. */
int
auth_scope_allows(const struct request *r, const char *unit)
{
	if (r->scope == NULL)
		return 1;
	if (r->sd->cache == NULL)
		return 0;
	return cache_unit_within(r->sd->cache, unit, r->scope);
}

/* Decide with a known token. */
static void
auth_decide(struct request *r, const struct auth_entry *e, unsigned roles,
    auth_verdict_cb done, void *arg)
{
	r->role = e->role;
	if (!(roles & AUTH_ROLE(e->role))) {
		done(r, AUTH_FORBIDDEN, LANG_TEXT(form_lang_api(r), "vai trò "
		    "của mã thông báo này không được làm việc này: dùng mã "
		    "của vai trò được phép", "this token's role may not do "
		    "this"), arg);
		return;
	}
	r->scope = e->scope != NULL ? xstrdup(e->scope) : NULL;
	done(r, AUTH_ALLOW, NULL, arg);
}

/* The database answered about a token. */
static void
auth_found(const struct store_token *t, const char *message, void *arg)
{
	struct auth_wait *w = arg;
	struct request *r = w->r;
	struct auth *a = r->sd->auth;
	struct auth_entry *e;
	int role;

	if (t == NULL) {
		log_msg(LOG_LEVEL_WARN, r->id, "token look-up failed: %s",
		    message);
		if (r->sd->spool != NULL &&
		    (e = strmap_get(a->tokens, w->hash)) != NULL) {
			/* Checked before: trusted while the database is away. */
			auth_decide(r, e, w->roles, w->done, w->arg);
			goto out;
		}
		w->done(r, AUTH_UNAVAILABLE, LANG_TEXT(form_lang_api(r),
		    "chưa kiểm tra được mã thông báo lúc này: thử lại sau ít "
		    "phút", "cannot check the token now"), w->arg);
		goto out;
	}
	if (!t->found || t->revoked ||
	    (role = role_parse(t->role)) < 0) {
		w->done(r, AUTH_UNAUTHORIZED, t->found ?
		    LANG_TEXT(form_lang_api(r), "mã thông báo đã bị thu hồi: "
		    "xin quản trị viên cấp mã mới", "the token was revoked") :
		    LANG_TEXT(form_lang_api(r), "mã thông báo không hợp lệ "
		    "hoặc đã hết hạn: đăng nhập lại hoặc xin mã mới",
		    "unknown token"), w->arg);
		goto out;
	}
	if (strmap_count(a->tokens) >= AUTH_CACHE_MAX)
		auth_flush(a);
	if ((e = strmap_get(a->tokens, w->hash)) == NULL) {
		e = xcalloc(1, sizeof *e);
		strmap_put(a->tokens, w->hash, e);
	}
	free(e->scope);
	e->role = role;
	e->scope = t->unit != NULL ? xstrdup(t->unit) : NULL;
	e->checked = time(NULL);
	auth_decide(r, e, w->roles, w->done, w->arg);
out:
	free(w);
}

/*
 * The SHA-256 of the request's bearer token into hash: 0; -1 when there is no
 * Authorization: Bearer header, -2 when the token is empty or too long.
 */
int
auth_token_hash(const struct request *r, char *hash)
{
	const char *h;
	size_t len;

	h = evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return -1;
	h += 7;
	while (*h == ' ')
		h++;
	len = strlen(h);
	while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\t'))
		len--;
	if (len == 0 || len > 512)
		return -2;
	token_hash(h, len, hash);
	return 0;
}

/* Check the bearer token of r for one of roles; done gets the verdict. */
void
auth_check(struct request *r, unsigned roles, auth_verdict_cb done, void *arg)
{
	struct sipasd *sd = r->sd;
	struct auth_entry *e;
	struct auth_wait *w;
	char hash[TOKEN_HASH_LEN + 1];
	int rc;

	if ((rc = auth_token_hash(r, hash)) == -1) {
		done(r, AUTH_UNAUTHORIZED, LANG_TEXT(form_lang_api(r),
		    "thiếu mã thông báo: gửi tiêu đề Authorization: Bearer "
		    "kèm mã được cấp", "an Authorization: Bearer token is "
		    "required"), arg);
		return;
	}
	if (rc != 0) {
		done(r, AUTH_UNAUTHORIZED, LANG_TEXT(form_lang_api(r),
		    "mã thông báo không hợp lệ hoặc đã hết hạn: đăng nhập lại "
		    "hoặc xin mã mới", "unknown token"), arg);
		return;
	}
	e = strmap_get(sd->auth->tokens, hash);
	if (e != NULL && time(NULL) - e->checked < sd->config->token_ttl) {
		auth_decide(r, e, roles, done, arg);
		return;
	}
	if (!sipasd_ready(sd)) {
		/*
		 * With a spool, responses are still accepted while the
		 * database is away: a token checked before stays trusted
		 * until it can be checked again (a revocation then waits for
		 * the database too). A token never seen cannot be checked,
		 * unless a standby (db_read) can look it up.
		 */
		if (e != NULL && sd->spool != NULL) {
			auth_decide(r, e, roles, done, arg);
			return;
		}
		if (sipasd_lookup_db(sd) == NULL) {
			done(r, AUTH_UNAVAILABLE, LANG_TEXT(form_lang_api(r),
			    "cơ sở dữ liệu tạm thời không sẵn sàng: thử lại "
			    "sau ít phút", "the database is not available"),
			    arg);
			return;
		}
	}
	w = xcalloc(1, sizeof *w);
	w->r = r;
	w->roles = roles;
	w->done = done;
	w->arg = arg;
	memcpy(w->hash, hash, sizeof hash);
	store_token_find(sipasd_lookup_db(sd), hash, auth_found, w);
}
