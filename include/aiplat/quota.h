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

typedef enum aiplat_quota_mode {
	AIPLAT_QUOTA_CHECK = 0,   /* decide only */
	AIPLAT_QUOTA_CONSUME,     /* decide and record the usage */
	AIPLAT_QUOTA_RESERVE,     /* decide and hold the tokens until settled or expired */
	AIPLAT_QUOTA_RECORD,      /* usage that already happened (the platform's records) */
} aiplat_quota_mode;

/* "check", "consume", "reserve", "record" (the SQL function's words). */
const char *aiplat_quota_mode_name(aiplat_quota_mode mode);

typedef struct aiplat_quota_decision {
	bool allowed;
	char reason[48];          /* "ok", "model_free", "duplicate"; or why not: "user_limit", ... */
	char event_id[40];        /* consume/record: the event recorded (or found), else "" */
	char reservation_id[40];  /* reserve, when allowed, else "" */
	/* Every field of the decision in one row (used, limit, resets_at, the
	 * person's and the organisation's figures, cost), for display. */
	aiplat_table *table;
} aiplat_quota_decision;

void aiplat_quota_decision_dispose(aiplat_quota_decision *d);

/* Decides (and with consume/reserve/record, records) in one atomic step. */
int aiplat_quota_admit(aiplat_db *db, aiplat_quota_mode mode, const aiplat_quota_request *req,
                       aiplat_quota_decision *out);
/* Settles (settle=true, tokens used) or releases a reservation. */
int aiplat_quota_finish(aiplat_db *db, const char *reservation, bool settle, long long tokens_in,
                        long long tokens_out, int latency_ms, const char *request_id,
                        aiplat_table **out);
/* Housekeeping; busy (AIPLAT_EBUSY) when another run holds the lock past
 * lock_timeout_s. With dry_run everything is counted and rolled back. */
int aiplat_quota_reset(aiplat_db *db, bool dry_run, double lock_timeout_s, aiplat_table **out);

#endif
