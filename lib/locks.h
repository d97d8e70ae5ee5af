/* Advisory lock keys: one class for aiplat, one key per job that must not overlap. */
#ifndef AIPLAT_LOCKS_H
#define AIPLAT_LOCKS_H

/* Every key aiplat takes, here and in SQL: a new job takes the next number. */
#define AIPLAT_LOCK_CLASS 1634299508   /* "aipt" */
#define AIPLAT_LOCK_MIGRATE 1          /* migrate up/down/redo, cluster distribute */
#define AIPLAT_LOCK_QUOTA_RESET 2      /* quota reset */
#define AIPLAT_LOCK_SEED 3             /* seed */
#define AIPLAT_LOCK_PARTITION 4        /* a new month's partition, taken in SQL (0002, 0009) */
#define AIPLAT_LOCK_USAGE_IMPORT 5     /* usage import */

/* "SELECT pg_advisory_xact_lock(1634299508, 3)" for a key, as a literal:
 * the statement text stays constant (and preparable). */
#define AIPLAT_LOCK_STR_(x) #x
#define AIPLAT_LOCK_STR(x) AIPLAT_LOCK_STR_(x)
#define AIPLAT_LOCK_XACT_SQL(key) \
	"pg_advisory_xact_lock(" AIPLAT_LOCK_STR(AIPLAT_LOCK_CLASS) ", " AIPLAT_LOCK_STR(key) ")"

#include "aiplat/db.h"

/*
 * Takes a session-level advisory lock with a try-lock loop, sleeping on the
 * client between attempts, so a waiting runner never sits inside a
 * transaction (a blocking pg_advisory_lock would, and could deadlock with
 * CREATE INDEX CONCURRENTLY run by the holder). AIPLAT_EBUSY after
 * timeout_s seconds. on_wait runs once, when the first attempt fails.
 */
int aiplat_lock_acquire(aiplat_db *db, int key, double timeout_s, const char *what,
                        void (*on_wait)(void *ctx), void *ctx);
void aiplat_lock_release(aiplat_db *db, int key);

#endif
