/*
 * Quota decisions and their recording (seed 000 6.3, DESIGN.md section 5),
 * all through the database's atomic admission step aiplat.quota_admit:
 * check (decide only), consume (decide and record), reserve (decide and
 * hold), record (usage that already happened); settle and release finish
 * a reservation; reset is the cron housekeeping.
 */
#ifndef AIPLAT_QUOTA_H
#define AIPLAT_QUOTA_H

#include <stdbool.h>
#include "aiplat/db.h"
#include "aiplat/table.h"

typedef struct aiplat_quota_request {
	const char *org;          /* slug or id; NULL: the connection's organisation */
	const char *user;         /* email or id; NULL: the acting person */
	const char *model;        /* name or id */
	long long tokens;         /* total tokens asked for (consume: used) */
	long long tokens_in;      /* -1: not given */
	long long tokens_out;     /* -1: not given */
	const char *event_id;     /* uuid, for idempotent consume/record; NULL: generated */
	int latency_ms;           /* -1: not given */
	const char *request_id;
	double ttl_s;             /* reserve: seconds (0: the platform default) */
	const char *at;           /* record: when it happened (timestamp); NULL: now */
	bool force;               /* record (the platform only): skip the membership and model
	                           * checks; audited */
} aiplat_quota_request;

#define AIPLAT_QUOTA_REQUEST_INIT { NULL, NULL, NULL, 0, -1, -1, NULL, -1, NULL, 0, NULL, false }

/*
 * mode is "check", "consume", "reserve" or "record". *out is a one-row
 * table with every field of the decision (allowed, reason, used, limit,
 * resets_at, the person's and the organisation's figures, event or
 * reservation id); *allowed says which way it went.
 */
int aiplat_quota_admit(aiplat_db *db, const char *mode, const aiplat_quota_request *req,
                       aiplat_table **out, bool *allowed);
/* Settles (settle=true, tokens used) or releases a reservation. */
int aiplat_quota_finish(aiplat_db *db, const char *reservation, bool settle, long long tokens_in,
                        long long tokens_out, int latency_ms, const char *request_id,
                        aiplat_table **out);
/* Housekeeping; busy (AIPLAT_EBUSY) when another run holds the lock past
 * lock_timeout_s. With dry_run everything is counted and rolled back. */
int aiplat_quota_reset(aiplat_db *db, bool dry_run, double lock_timeout_s, aiplat_table **out);

#endif
