/* Quota decisions through the database's admission step (see aiplat/quota.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/error.h"
#include "aiplat/quota.h"

#include "locks.h"
#include "util/text.h"

/* The decision as a record: names rather than ids where people read them
 * (the function returns them, so that the call is all there is to it: on a
 * Citus cluster the statement then runs on the worker holding the
 * organisation). */
#define DECISION_COLUMNS \
	"allowed, reason, organization, user_email AS user, model_name AS model," \
	" used, lim AS limit, resets_at, user_used, user_limit, user_period," \
	" user_resets_at, org_used, org_quota, org_resets_at, requests_today," \
	" request_limit, requests_reset_at, event_id, reservation_id," \
	" round(cost_micro_usd / 1e6, 6) AS cost_usd"

static bool looks_like_uuid(const char *s)
{
	uint8_t bytes[16];
	return strlen(s) == 36 && aiplat_parse_uuid(s, 36, bytes);
}

/* An organisation named by slug, as the caller may see it: its id into out. */
static int org_id_of(aiplat_db *db, const char *slug, char out[37])
{
	const char *params[1] = { slug };
	char *id = NULL;
	int rc = aiplat_db_query_value_as(db, &id, "SELECT id FROM aiplat.organizations WHERE slug = $1", 1,
	                                  params);
	if (!rc && !id)
		rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "no organization %s", slug);
	if (!rc)
		snprintf(out, 37, "%s", id);
	free(id);
	return rc;
}

static const char *num(char *buf, size_t size, long long v)
{
	if (v < 0)
		return NULL;
	snprintf(buf, size, "%lld", v);
	return buf;
}

const char *aiplat_quota_mode_name(aiplat_quota_mode mode)
{
	switch (mode) {
	case AIPLAT_QUOTA_CHECK:   return "check";
	case AIPLAT_QUOTA_CONSUME: return "consume";
	case AIPLAT_QUOTA_RESERVE: return "reserve";
	case AIPLAT_QUOTA_RECORD:  return "record";
	}
	return "check";
}

void aiplat_quota_decision_dispose(aiplat_quota_decision *d)
{
	aiplat_table_free(d->table);
	memset(d, 0, sizeof(*d));
}

/* The named cell of row 0, copied into buf ("" for NULL or a missing column). */
static void copy_cell(char *buf, size_t size, const aiplat_table *t, const char *column)
{
	const char *v = aiplat_table_get(t, 0, column);
	snprintf(buf, size, "%s", v ? v : "");
}

int aiplat_quota_admit(aiplat_db *db, aiplat_quota_mode mode, const aiplat_quota_request *r,
                       aiplat_quota_decision *out)
{
	memset(out, 0, sizeof(*out));
	const aiplat_identity *who = aiplat_db_identity(db);
	const char *org = r->org ? r->org : (who->org_id[0] ? who->org_id : NULL);
	char org_id[37];
	const char *user = r->user ? r->user : (who->acting ? who->user_id : NULL);
	if (!org) {
		aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT, "which organization?");
		return aiplat_error_set_field("org", NULL);
	}
	if (!user) {
		aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT, "whose usage?");
		return aiplat_error_set_field("user", NULL);
	}
	if (!r->model) {
		aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT, "which model?");
		return aiplat_error_set_field("model", NULL);
	}
	if (!looks_like_uuid(org)) {
		int rc = org_id_of(db, org, org_id);
		if (rc)
			return rc;
		org = org_id;
	}
	char tokens[32], tin[32], tout[32], lat[32], ttl[48];
	snprintf(tokens, sizeof(tokens), "%lld", r->tokens);
	if (r->ttl_s > 0)
		snprintf(ttl, sizeof(ttl), "%.3f seconds", r->ttl_s);
	const char *params[13] = {
		org, user, r->model, tokens, aiplat_quota_mode_name(mode), r->event_id,
		num(tin, sizeof(tin), r->tokens_in),
		num(tout, sizeof(tout), r->tokens_out), num(lat, sizeof(lat), r->latency_ms), r->request_id,
		r->ttl_s > 0 ? ttl : NULL, r->at, r->force ? "true" : "false"
	};
	aiplat_table *t = NULL;
	int rc = aiplat_db_query_table_as(db, &t,
		"SELECT " DECISION_COLUMNS
		"  FROM aiplat.quota_admit($1::uuid, $2, $3, $4::bigint, $5, $6::uuid, $7::bigint, $8::bigint,"
		"                          $9::integer, $10, $11::interval, $12::timestamptz, $13::boolean)",
		13, params);
	if (rc)
		return rc;
	if (aiplat_table_nrows(t) != 1) {
		aiplat_table_free(t);
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_QUOTA,
		                        "the admission step returned no decision");
	}
	const char *allowed = aiplat_table_get(t, 0, "allowed");
	out->allowed = allowed && !strcmp(allowed, "t");
	copy_cell(out->reason, sizeof(out->reason), t, "reason");
	copy_cell(out->event_id, sizeof(out->event_id), t, "event_id");
	copy_cell(out->reservation_id, sizeof(out->reservation_id), t, "reservation_id");
	out->table = t;
	return 0;
}

int aiplat_quota_finish(aiplat_db *db, const char *reservation, bool settle, long long tokens_in,
                        long long tokens_out, int latency_ms, const char *request_id,
                        aiplat_table **out)
{
	char tin[32], tout[32], lat[32];
	const char *params[7] = { reservation, settle ? "true" : "false",
	                          num(tin, sizeof(tin), tokens_in), num(tout, sizeof(tout), tokens_out),
	                          num(lat, sizeof(lat), latency_ms), request_id, "settle" };
	return aiplat_db_query_table_as(db, out,
		"SELECT allowed, reason, organization, user_email AS user, model_name AS model,"
		"       reservation_id, event_id,"
		"       CASE WHEN $2::boolean THEN $3::bigint + coalesce($4::bigint, 0) END AS tokens,"
		"       round(cost_micro_usd / 1e6, 6) AS cost_usd, used AS limit_used, lim AS limit,"
		"       resets_at"
		"  FROM aiplat.quota_finish($1::uuid, $2::boolean, $3::bigint, $4::bigint, $5::integer, $6, $7)",
		7, params);
}

int aiplat_quota_reset(aiplat_db *db, bool dry_run, double lock_timeout_s, aiplat_table **out)
{
	if (aiplat_db_identity(db)->acting)
	{
		aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
		                 "quota reset is the platform's housekeeping, not a person's");
		return aiplat_error_set_field("identity", NULL);
	}
	int rc = aiplat_lock_acquire(db, AIPLAT_LOCK_QUOTA_RESET, lock_timeout_s, "quota reset", NULL,
	                             NULL);
	if (rc)
		return rc;
	if ((rc = aiplat_db_begin(db)) == 0) {
		rc = aiplat_db_query_table(db, out,
			"SELECT rolled_over, reservations_expired, counters_pruned, event_ids_pruned,"
			"       partitions_dropped, partitions_created, $1::boolean AS dry_run,"
			"       aiplat.clock() AS at"
			"  FROM aiplat_internal.quota_housekeeping()", 1,
			(const char *const[]){ dry_run ? "true" : "false" });
		if (rc || dry_run)
			aiplat_db_rollback(db);
		else if ((rc = aiplat_db_commit(db)) != 0) {
			aiplat_table_free(*out);
			*out = NULL;
		}
	}
	aiplat_lock_release(db, AIPLAT_LOCK_QUOTA_RESET);
	return rc;
}
