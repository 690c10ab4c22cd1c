/*
 * spool.h: the durable spool of sipasd (docs/daemon.md, "Spool"): validated
 * responses that could not be committed because PostgreSQL was unreachable
 * are appended to files in spool_dir, fsync()ed, acknowledged with 202, and
 * replayed through store_batch_insert once the database is back.
 *
 * Files: spool_dir/NNNNNNNNNNNNNNNN.spool segments (append-only, oldest
 * first) and spool_dir/position (the segment and offset replay has reached,
 * replaced atomically). A record is
 *
 *	"SR1 " LLLLLLLL " " CCCCCCCC "\n" PAYLOAD "\n"
 *
 * with LLLLLLLL the payload's length and CCCCCCCC its CRC-32 (hex), PAYLOAD a
 * compact JSON object of the row's fields. A record that is cut short or
 * fails its checksum (a crash in the middle of an append, never acknowledged)
 * ends its segment's replay and is logged.
 *
 * Replay is idempotent: every spooled row has a source id (ingest gives one to
 * a response without an id), so the UNIQUE (survey, source_id) of responses
 * turns a second replay of the same record into "already stored".
 *
 * Runs on the event loop; an append is write() + fsync() (one per call).
 */
#ifndef SIPAS_SPOOL_H
#define SIPAS_SPOOL_H

#include <stddef.h>

struct sipasd;
struct spool;
struct store_row;

/* Length of a generated source id: "spool-" and 32 hex digits. */
#define SPOOL_ID_LEN (6 + 32)

/*
 * Open the spool of sd->config->spool_dir (NULL when it is empty: the spool
 * is off): create the directory, drop finished segments, count the records
 * still to replay. NULL and *cause when the directory cannot be used.
 */
struct spool *spool_open(struct sipasd *, char **cause);
/* Close the files; NULL-safe. Records not replayed stay for the next start. */
void spool_free(struct spool *);

/* A new random source id into buf (SPOOL_ID_LEN + 1 bytes): 0, or -1. */
int spool_id_generate(char *buf);

/*
 * Append n rows (each with a source id) as n records and fsync() them: 0 once
 * they are on disk, or -1 and *cause (spool_max_mb reached, a write or fsync
 * failed: then nothing of this call is in the spool).
 */
int spool_append(struct spool *, struct store_row *const *rows, int n, char **cause);

/* Start replaying if there is something to replay and the database is ready. */
void spool_kick(struct spool *);
/* 1 when no replay batch is waiting for the database. */
int spool_idle(const struct spool *);
/* Records not yet replayed (the sipas_spool_depth gauge). */
long spool_depth(const struct spool *);

#endif
