/* Advisory lock keys: one class for aiplat, one key per job that must not overlap. */
#ifndef AIPLAT_LOCKS_H
#define AIPLAT_LOCKS_H

#define AIPLAT_LOCK_CLASS 1634299508   /* "aipt" */
#define AIPLAT_LOCK_MIGRATE 1
#define AIPLAT_LOCK_QUOTA_RESET 2

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
