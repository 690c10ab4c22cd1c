/*
 * spool.c: the durable spool (spool.h, docs/daemon.md "Spool").
 *
 * Owns the files of spool_dir. Appends go to the newest segment (a new one at
 * each start and after a segment reaches SPOOL_SEGMENT_MAX); replay reads the
 * oldest segment from the saved position, one batch at a time, through
 * store_batch_insert on the write connection. After each committed batch the
 * position is saved (written to position.tmp, fsync()ed, renamed over
 * position); a segment replayed to its end is unlinked (renamed to .damaged
 * when it ended in a bad record, for an operator to look at). Losing the last
 * position update only means replaying a batch twice, which the UNIQUE
 * (survey, source_id) turns into "already stored".
 *
 * A record the database rejects on its own (a constraint, e.g. a unit deleted
 * meanwhile) is appended to spool_dir/rejected and skipped.
 *
 * Must not contain SQL (store.c) nor answer requests (ingest.c does).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/conf.h"
#include "daemon/store/db.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/sipasd.h"
#include "daemon/store/spool.h"
#include "daemon/store/store.h"
#include "sipas/util.h"

/* Start a new segment for appends beyond this size. */
#define SPOOL_SEGMENT_MAX (16L * 1024 * 1024)
/* Header: "SR1 " 8 hex " " 8 hex "\n". */
#define SPOOL_HEADER_LEN 22
/* Longest payload a reader accepts (far above max_body). */
#define SPOOL_PAYLOAD_MAX (64L * 1024 * 1024)

/* One segment file. */
struct spool_segment {
	uint64_t seq;
	off_t end;    /* end of its last good record */
	off_t size;   /* bytes on disk */
	long nrecords; /* good records after the replay position */
	int damaged;  /* ended in a bad record */
};

/* One record of the replay batch. */
struct spool_record {
	json_t *json;	      /* owns the strings row points to */
	struct store_row row;
	off_t end;	      /* offset after the record */
};

struct spool {
	struct sipasd *sd;
	char *dir;
	struct spool_segment *segs; /* oldest first; the last takes appends */
	size_t nsegs;
	int fd;			    /* the last segment, open for appends; -1 */
	uint64_t next_seq;
	off_t pos;		    /* replay position in segs[0] */
	long depth;
	/* replay */
	struct event *ev_kick;
	int busy;		    /* a batch is waiting for the database */
	int solo;		    /* a batch failed on a row: one by one */
	struct spool_record *batch;
	struct store_row **rows;
	int nbatch;
};

static void spool_replay(evutil_socket_t, short, void *);
static void spool_advance(struct spool *, off_t, int);

/* CRC-32 (IEEE 802.3, as zlib's crc32) of buf. */
static uint32_t
spool_crc32(const void *buf, size_t len)
{
	static uint32_t table[256];
	const unsigned char *p = buf;
	uint32_t c;
	size_t i;
	int k;

	if (table[1] == 0) {
		for (i = 0; i < 256; i++) {
			c = (uint32_t)i;
			for (k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	c = 0xffffffffu;
	for (i = 0; i < len; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* The path of a file of the spool, as a new string. */
static char *
spool_path(const struct spool *sp, const char *name)
{
	char *path;

	xasprintf(&path, "%s/%s", sp->dir, name);
	return path;
}

/* The path of segment seq. */
static char *
spool_segment_path(const struct spool *sp, uint64_t seq)
{
	char *path;

	xasprintf(&path, "%s/%016" PRIu64 ".spool", sp->dir, seq);
	return path;
}

/* fsync() the directory, so that a created or renamed file stays. */
static int
spool_dir_sync(const struct spool *sp)
{
	int fd, rv;

	if ((fd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rv = fsync(fd);
	close(fd);
	return rv;
}

/* A new random source id: "spool-" and 128 random bits in hex. */
int
spool_id_generate(char *buf)
{
	unsigned char raw[16];
	size_t i;

	if (util_random_bytes(raw, sizeof raw) != 0)
		return -1;
	memcpy(buf, "spool-", 6);
	for (i = 0; i < sizeof raw; i++)
		snprintf(buf + 6 + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/*
 * Read the record at off of fd (size bytes long): its payload (owned) and
 * the offset after it; NULL when there is no whole, intact record there.
 */
static char *
spool_record_read(int fd, off_t off, off_t size, size_t *lenp, off_t *next)
{
	char head[SPOOL_HEADER_LEN + 1], *payload;
	unsigned long len, crc;
	char *end;

	if (size - off < SPOOL_HEADER_LEN + 1)
		return NULL;
	if (pread(fd, head, SPOOL_HEADER_LEN, off) != SPOOL_HEADER_LEN)
		return NULL;
	head[SPOOL_HEADER_LEN] = '\0';
	if (memcmp(head, "SR1 ", 4) != 0 || head[12] != ' ' ||
	    head[21] != '\n')
		return NULL;
	head[12] = head[21] = '\0';
	len = strtoul(head + 4, &end, 16);
	if (*end != '\0' || len > SPOOL_PAYLOAD_MAX)
		return NULL;
	crc = strtoul(head + 13, &end, 16);
	if (*end != '\0')
		return NULL;
	if ((off_t)len + 1 > size - off - SPOOL_HEADER_LEN)
		return NULL;
	payload = xmalloc(len + 1);
	if (pread(fd, payload, len + 1, off + SPOOL_HEADER_LEN) !=
	    (ssize_t)len + 1 || payload[len] != '\n' ||
	    spool_crc32(payload, len) != (uint32_t)crc) {
		free(payload);
		return NULL;
	}
	payload[len] = '\0';
	*lenp = len;
	*next = off + SPOOL_HEADER_LEN + (off_t)len + 1;
	return payload;
}

/*
 * Count the good records of a segment at or after from; set its end, size
 * and damaged, and *start to the first record at or after from.
 */
static int
spool_segment_scan(struct spool *sp, struct spool_segment *seg, off_t from,
    off_t *start)
{
	struct stat st;
	char *path = spool_segment_path(sp, seg->seq), *p;
	off_t off = 0, next;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		log_error("spool: cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return -1;
	}
	seg->size = st.st_size;
	seg->nrecords = 0;
	*start = -1;
	while ((p = spool_record_read(fd, off, st.st_size, &len, &next)) !=
	    NULL) {
		free(p);
		if (off >= from) {
			if (*start < 0)
				*start = off;
			seg->nrecords++;
		}
		off = next;
	}
	seg->end = off;
	if (*start < 0)
		*start = off;
	if (off < st.st_size) {
		seg->damaged = 1;
		log_warn("spool: %s: ignoring %lld byte(s) from offset %lld "
		    "(a record cut short or corrupt, never acknowledged)", path,
		    (long long)(st.st_size - off), (long long)off);
	}
	close(fd);
	free(path);
	return 0;
}

/* Save the replay position (segs[0] at pos) durably enough: see the top. */
static int
spool_position_save(struct spool *sp, uint64_t seq, off_t pos)
{
	char *path = spool_path(sp, "position"), *tmp = spool_path(sp,
	    "position.tmp"), line[64];
	int fd, len, rv = -1;

	len = snprintf(line, sizeof line, "%" PRIu64 " %lld\n", seq,
	    (long long)pos);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	    0)
		goto out;
	if (write(fd, line, (size_t)len) != len || fsync(fd) != 0) {
		close(fd);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) != 0)
		goto out;
	rv = 0;
out:
	if (rv != 0)
		log_error("spool: cannot save the replay position in %s: %s",
		    path, strerror(errno));
	free(path);
	free(tmp);
	return rv;
}

/* Compare segment numbers, for qsort. */
static int
spool_seq_cmp(const void *a, const void *b)
{
	const struct spool_segment *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Drop segs[0] (replayed to its end): unlink it, or keep it as .damaged. */
static void
spool_segment_drop(struct spool *sp)
{
	struct spool_segment *seg = &sp->segs[0];
	char *path = spool_segment_path(sp, seg->seq), *bad;

	if (seg->damaged) {
		xasprintf(&bad, "%s.damaged", path);
		if (rename(path, bad) != 0)
			log_error("spool: cannot rename %s: %s", path,
			    strerror(errno));
		else
			log_warn("spool: kept %s for inspection", bad);
		free(bad);
	} else if (unlink(path) != 0 && errno != ENOENT)
		log_error("spool: cannot remove %s: %s", path, strerror(errno));
	free(path);
	memmove(sp->segs, sp->segs + 1, (sp->nsegs - 1) * sizeof *sp->segs);
	sp->nsegs--;
	sp->pos = 0;
}

/* Open the spool directory. */
struct spool *
spool_open(struct sipasd *sd, char **cause)
{
	struct spool *sp;
	struct spool_segment *seg;
	struct dirent *de;
	DIR *d;
	char *path, *text, *end, *why = NULL;
	uint64_t pos_seq = 0, seq;
	long long pos_off = 0;
	off_t start;
	size_t i, len;

	if (sd->config->spool_dir == NULL || *sd->config->spool_dir == '\0')
		return NULL;
	sp = xcalloc(1, sizeof *sp);
	sp->sd = sd;
	sp->dir = xstrdup(sd->config->spool_dir);
	sp->fd = -1;
	if (mkdir(sp->dir, 0700) != 0 && errno != EEXIST) {
		xasprintf(cause, "spool_dir %s: %s", sp->dir, strerror(errno));
		goto fail;
	}
	if ((d = opendir(sp->dir)) == NULL) {
		xasprintf(cause, "spool_dir %s: %s", sp->dir, strerror(errno));
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len != 16 + 6 || strcmp(de->d_name + 16, ".spool") != 0 ||
		    strspn(de->d_name, "0123456789") != 16)
			continue;
		seq = strtoull(de->d_name, NULL, 10);
		sp->segs = xreallocarray(sp->segs, sp->nsegs + 1,
		    sizeof *sp->segs);
		memset(&sp->segs[sp->nsegs], 0, sizeof *sp->segs);
		sp->segs[sp->nsegs++].seq = seq;
	}
	closedir(d);
	if (sp->nsegs > 1)
		qsort(sp->segs, sp->nsegs, sizeof *sp->segs, spool_seq_cmp);

	path = spool_path(sp, "position");
	if ((text = util_file_read(path, &len, &why)) != NULL) {
		pos_seq = strtoull(text, &end, 10);
		pos_off = strtoll(end, &end, 10);
		if (pos_off < 0)
			pos_off = 0;
		free(text);
	}
	free(why);
	free(path);

	/* Segments before the position were replayed: a crash kept them. */
	while (sp->nsegs > 0 && sp->segs[0].seq < pos_seq)
		spool_segment_drop(sp);
	for (i = 0; i < sp->nsegs; i++) {
		seg = &sp->segs[i];
		if (spool_segment_scan(sp, seg, i == 0 && seg->seq == pos_seq ?
		    (off_t)pos_off : 0, &start) != 0) {
			xasprintf(cause, "spool_dir %s: cannot read segment "
			    "%016" PRIu64, sp->dir, seg->seq);
			goto fail;
		}
		sp->depth += seg->nrecords;
		if (i == 0)
			sp->pos = start;
	}
	sp->next_seq = sp->nsegs > 0 ? sp->segs[sp->nsegs - 1].seq + 1 : 1;
	if (sp->next_seq <= pos_seq)
		sp->next_seq = pos_seq + 1;
	sp->ev_kick = evtimer_new(sd->base, spool_replay, sp);
	/* Nothing is appended to an old segment: drop the finished ones. */
	while (sp->nsegs > 0 && sp->segs[0].nrecords == 0)
		spool_advance(sp, sp->segs[0].end, 0);
	log_info("spool: %s: %ld record(s) to replay in %zu segment(s)",
	    sp->dir, sp->depth, sp->nsegs);
	return sp;
fail:
	free(sp->segs);
	free(sp->dir);
	free(sp);
	return NULL;
}

/* Free the batch being replayed. */
static void
spool_batch_clear(struct spool *sp)
{
	int i;

	for (i = 0; i < sp->nbatch; i++)
		json_decref(sp->batch[i].json);
	sp->nbatch = 0;
}

/* Close the spool. */
void
spool_free(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	/* A batch still busy failed in db_free (main.c frees the db first). */
	spool_batch_clear(sp);
	if (sp->ev_kick != NULL)
		event_free(sp->ev_kick);
	free(sp->batch);
	free(sp->rows);
	free(sp->segs);
	free(sp->dir);
	free(sp);
}

/* One row as a record: header and payload, into a new string. */
static char *
spool_record_format(const struct store_row *r, size_t *lenp)
{
	json_t *o;
	char *payload, *rec;
	size_t len;

	ASSERT(r->source_id != NULL);
	o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:f,s:s?,s:s?,s:s,s:s?,s:s}",
	    "survey", r->survey, "unit", r->unit, "id", r->source_id,
	    "submitted_at", (json_int_t)r->submitted_at, "channel", r->channel,
	    "weight", r->weight, "stratum", r->stratum, "psu", r->psu,
	    "answers", r->answers, "respondent", r->respondent, "hash",
	    r->hash);
	ASSERT(o != NULL);
	payload = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(o);
	ASSERT(payload != NULL);
	len = strlen(payload);
	xasprintf(&rec, "SR1 %08lx %08lx\n%s\n", (unsigned long)len,
	    (unsigned long)spool_crc32(payload, len), payload);
	free(payload);
	*lenp = SPOOL_HEADER_LEN + len + 1;
	return rec;
}

/* Bytes the segments take on disk. */
static off_t
spool_bytes(const struct spool *sp)
{
	off_t n = 0;
	size_t i;

	for (i = 0; i < sp->nsegs; i++)
		n += sp->segs[i].size;
	return n;
}

/* Open a new segment for appends (and make its name durable). */
static int
spool_segment_create(struct spool *sp, char **cause)
{
	char *path = spool_segment_path(sp, sp->next_seq);
	struct spool_segment *seg;

	sp->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
	    0600);
	if (sp->fd < 0 || spool_dir_sync(sp) != 0) {
		xasprintf(cause, "cannot create %s: %s", path, strerror(errno));
		if (sp->fd >= 0) {
			close(sp->fd);
			sp->fd = -1;
			unlink(path);
		}
		free(path);
		return -1;
	}
	free(path);
	sp->segs = xreallocarray(sp->segs, sp->nsegs + 1, sizeof *sp->segs);
	seg = &sp->segs[sp->nsegs++];
	memset(seg, 0, sizeof *seg);
	seg->seq = sp->next_seq++;
	return 0;
}

/* Append rows and fsync. */
int
spool_append(struct spool *sp, struct store_row *const *rows, int n,
    char **cause)
{
	struct spool_segment *seg;
	char *buf = NULL, *rec;
	size_t len = 0, rlen, done = 0;
	ssize_t w;
	int i, rv = -1;

	for (i = 0; i < n; i++) {
		rec = spool_record_format(rows[i], &rlen);
		buf = xreallocarray(buf, len + rlen + 1, 1);
		memcpy(buf + len, rec, rlen);
		len += rlen;
		free(rec);
	}
	if (spool_bytes(sp) + (off_t)len > (off_t)sp->sd->config->spool_max_mb *
	    1024 * 1024) {
		xasprintf(cause, "the spool is full (spool_max_mb = %ld)",
		    sp->sd->config->spool_max_mb);
		metrics_spool_full();
		goto out;
	}
	if (sp->fd < 0 && spool_segment_create(sp, cause) != 0)
		goto out;
	seg = &sp->segs[sp->nsegs - 1];
	while (done < len) {
		w = write(sp->fd, buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (done < len || fsync(sp->fd) != 0) {
		xasprintf(cause, "cannot write segment %016" PRIu64 ": %s",
		    seg->seq, strerror(errno));
		/* Cut what was written; appends go to a new segment from now. */
		if (ftruncate(sp->fd, seg->size) != 0 || fsync(sp->fd) != 0)
			seg->damaged = 1;
		close(sp->fd);
		sp->fd = -1;
		goto out;
	}
	seg->size += (off_t)len;
	seg->end = seg->size;
	seg->nrecords += n;
	sp->depth += n;
	metrics_spool_appended(n);
	if (seg->size >= SPOOL_SEGMENT_MAX) {
		close(sp->fd);
		sp->fd = -1;
	}
	rv = 0;
out:
	free(buf);
	return rv;
}

/* Records not yet replayed. */
long
spool_depth(const struct spool *sp)
{
	return sp != NULL ? sp->depth : 0;
}

/* 1 when no replay batch is out. */
int
spool_idle(const struct spool *sp)
{
	return sp == NULL || !sp->busy;
}

/* Replay soon: after delay_ms. */
static void
spool_kick_after(struct spool *sp, long delay_ms)
{
	struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };

	if (sp->busy || evtimer_pending(sp->ev_kick, NULL))
		return;
	evtimer_add(sp->ev_kick, &tv);
}

/* Start replaying if there is something to replay. */
void
spool_kick(struct spool *sp)
{
	if (sp != NULL && sp->depth > 0)
		spool_kick_after(sp, 0);
}

/* Parse a payload into a record of the batch; -1 if it is not a row. */
static int
spool_record_parse(struct spool_record *rec, const char *payload, size_t len)
{
	struct store_row *r = &rec->row;
	json_t *o, *v;
	json_int_t t;

	memset(rec, 0, sizeof *rec);
	if ((o = json_loadb(payload, len, 0, NULL)) == NULL)
		return -1;
	if (json_unpack(o, "{s:s,s:s,s:s,s:I,s:s,s:F,s:s,s:s}", "survey",
	    &r->survey, "unit", &r->unit, "id", &r->source_id, "submitted_at",
	    &t, "channel", &r->channel, "weight", &r->weight, "answers",
	    &r->answers, "hash", &r->hash) != 0) {
		json_decref(o);
		return -1;
	}
	r->submitted_at = (int64_t)t;
	if (json_is_string(v = json_object_get(o, "stratum")))
		r->stratum = json_string_value(v);
	if (json_is_string(v = json_object_get(o, "psu")))
		r->psu = json_string_value(v);
	if (json_is_string(v = json_object_get(o, "respondent")))
		r->respondent = json_string_value(v);
	r->outcome = STORE_PENDING;
	rec->json = o;
	return 0;
}

/* Keep a record the database refuses in spool_dir/rejected. */
static void
spool_reject(struct spool *sp, const struct store_row *r, const char *sqlstate,
    const char *message)
{
	char *path = spool_path(sp, "rejected"), *rec;
	size_t len;
	int fd;

	log_error("spool: the database rejects the spooled response %s (%s: "
	    "%s); kept in %s", r->source_id, sqlstate != NULL ? sqlstate : "?",
	    message, path);
	rec = spool_record_format(r, &len);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) < 0 || write(fd, rec, len) != (ssize_t)len || fsync(fd) != 0)
		log_error("spool: cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	metrics_spool_replayed("rejected", 1);
	free(rec);
	free(path);
}

/*
 * Move the replay position to off in segs[0] (n records replayed). A segment
 * replayed to its end is dropped; when it was the one taking appends, the
 * next append starts a new segment.
 */
static void
spool_advance(struct spool *sp, off_t off, int n)
{
	struct spool_segment *seg = &sp->segs[0];
	uint64_t next;

	sp->pos = off;
	seg->nrecords -= n;
	sp->depth -= n;
	ASSERT(seg->nrecords >= 0 && sp->depth >= 0);
	if (sp->pos < seg->end) {
		spool_position_save(sp, seg->seq, sp->pos);
		return;
	}
	if (sp->nsegs == 1 && sp->fd >= 0) {
		close(sp->fd);
		sp->fd = -1;
	}
	/* Even unsaved, the position is safe: a start scans what is left. */
	next = sp->nsegs > 1 ? sp->segs[1].seq : sp->next_seq;
	spool_position_save(sp, next, 0);
	spool_segment_drop(sp);
}

/* The replay batch committed or failed. */
static void
spool_replay_done(int ok, const char *sqlstate, const char *message,
    void *arg)
{
	struct spool *sp = arg;
	int i, n = sp->nbatch, ins = 0, dup = 0, conf = 0;
	off_t end = n > 0 ? sp->batch[n - 1].end : sp->pos;

	sp->busy = 0;
	if (ok) {
		for (i = 0; i < n; i++) {
			switch (sp->batch[i].row.outcome) {
			case STORE_INSERTED:
				ins++;
				break;
			case STORE_DUPLICATE:
				dup++;
				break;
			default:
				conf++;
				log_warn("spool: response %s: another response "
				    "with this id is already stored for survey "
				    "%s; the spooled one is dropped",
				    sp->batch[i].row.source_id,
				    sp->batch[i].row.survey);
				break;
			}
		}
		metrics_spool_replayed("stored", ins);
		metrics_spool_replayed("already_stored", dup);
		metrics_spool_replayed("conflict", conf);
		log_info("spool: replayed %d record(s): %d stored, %d already "
		    "stored, %d conflicting; %ld left", n, ins, dup, conf,
		    sp->depth - n);
		sp->solo = 0;
		spool_advance(sp, end, n);
	} else if (db_sqlstate_is_connection(sqlstate) || (sqlstate != NULL &&
	    strncmp(sqlstate, "40", 2) == 0)) {
		log_warn("spool: replay of %d record(s) failed (%s): %s; "
		    "retrying later", n, sqlstate != NULL ? sqlstate : "?",
		    message);
		spool_batch_clear(sp);
		if (!db_sqlstate_is_connection(sqlstate))
			spool_kick_after(sp, 1000);
		sipasd_drain_check(sp->sd); /* a drain need not wait for it */
		return;
	} else if (n > 1) {
		log_warn("spool: replay batch failed (%s), replaying one by "
		    "one: %s", sqlstate != NULL ? sqlstate : "?", message);
		sp->solo = 1;
	} else {
		spool_reject(sp, &sp->batch[0].row, sqlstate, message);
		spool_advance(sp, end, n);
	}
	spool_batch_clear(sp);
	if (!sp->sd->draining)
		spool_kick(sp);
	sipasd_drain_check(sp->sd);
}

/* Send the next batch of records to the database. */
static void
spool_replay(evutil_socket_t fd, short what, void *arg)
{
	struct spool *sp = arg;
	struct spool_segment *seg;
	long max = sp->solo ? 1 : sp->sd->config->batch_max;
	char *path, *payload;
	size_t len;
	off_t off, next;
	int rfd;

	if (sp->busy || sp->depth == 0 || !sipasd_ready(sp->sd) ||
	    sp->sd->draining)
		return;
	/* Skip segments with nothing left (a damaged tail, say). */
	while (sp->nsegs > 0 && sp->segs[0].nrecords == 0 &&
	    (sp->nsegs > 1 || sp->fd < 0))
		spool_advance(sp, sp->segs[0].end, 0);
	ASSERT(sp->nsegs > 0);
	seg = &sp->segs[0];
	path = spool_segment_path(sp, seg->seq);
	if ((rfd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_error("spool: cannot read %s: %s", path, strerror(errno));
		free(path);
		spool_kick_after(sp, 5000);
		return;
	}
	free(path);
	sp->batch = xreallocarray(sp->batch, (size_t)max, sizeof *sp->batch);
	sp->rows = xreallocarray(sp->rows, (size_t)max, sizeof *sp->rows);
	off = sp->pos;
	sp->nbatch = 0;
	while (sp->nbatch < max && off < seg->end) {
		payload = spool_record_read(rfd, off, seg->end, &len, &next);
		ASSERT(payload != NULL); /* scanned or written by us */
		if (spool_record_parse(&sp->batch[sp->nbatch], payload,
		    len) != 0) {
			free(payload);
			if (sp->nbatch > 0)
				break; /* after this batch */
			log_error("spool: segment %016" PRIu64 " offset %lld: "
			    "not a response; skipped", seg->seq,
			    (long long)off);
			close(rfd);
			spool_advance(sp, next, 1);
			spool_kick(sp);
			return;
		}
		free(payload);
		sp->batch[sp->nbatch].end = next;
		sp->rows[sp->nbatch] = &sp->batch[sp->nbatch].row;
		sp->nbatch++;
		off = next;
	}
	close(rfd);
	ASSERT(sp->nbatch > 0);
	sp->busy = 1;
	metrics_batch(sp->nbatch);
	store_batch_insert(sp->sd->db, sp->rows, sp->nbatch, spool_replay_done,
	    sp);
}
