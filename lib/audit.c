/* Reading the audit log (see aiplat/audit.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/buf.h"
#include "aiplat/error.h"
#include "aiplat/audit.h"
#include "access.h"

int aiplat_audit_list(aiplat_db *db, const aiplat_audit_filter *f, aiplat_table **out)
{
	aiplat_audit_filter none = { NULL, NULL, NULL, NULL, NULL, NULL, 0 };
	if (!f)
		f = &none;
	if (f->limit < 0)
	{
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "limit must be a positive number");
		return aiplat_error_set_field("limit", NULL);
	}
	char limit[32];
	snprintf(limit, sizeof(limit), "%ld", f->limit ? f->limit : 100);
	int rc = aiplat_db_begin(db);
	if (rc)
		return rc;
	/* Ages like 7d, 12h or 30m count back from now; anything else is a timestamp. */
	const char *params[7] = { f->org, f->actor, f->action, f->resource, f->since, f->until, limit };
	rc = aiplat_db_query_table(db, out,
		"SELECT a.id, a.created_at, a.org_slug AS org,"
		"       coalesce(a.actor_email, a.db_role) AS actor, a.acting_as_email AS acting_as,"
		"       a.action, a.resource_type || coalesce(':' || a.resource_id, '') AS resource,"
		"       CASE WHEN a.old_values IS NULL AND a.new_values IS NULL THEN NULL"
		"            WHEN a.old_values IS NULL THEN 'created'"
		"            WHEN a.new_values IS NULL THEN 'deleted'"
		"            ELSE (SELECT string_agg(format('%s: %s -> %s', k,"
		"                                           coalesce(a.old_values ->> k, 'null'),"
		"                                           coalesce(a.new_values ->> k, 'null')), '; '"
		"                                    ORDER BY k)"
		"                    FROM jsonb_object_keys(a.old_values || a.new_values) AS k"
		"                   WHERE k <> 'updated_at'"
		"                     AND a.old_values -> k IS DISTINCT FROM a.new_values -> k) END"
		"         AS changes,"
		"       a.old_values, a.new_values"
		"  FROM aiplat.audit_logs a"
		" WHERE ($1::text IS NULL OR a.org_slug = $1)"
		"   AND ($2::text IS NULL OR lower(a.actor_email) = lower($2)"
		"        OR lower(a.acting_as_email) = lower($2))"
		"   AND ($3::text IS NULL OR a.action = $3"
		"        OR (right($3, 1) IN ('.', '*') AND starts_with(a.action, rtrim($3, '*'))))"
		"   AND ($4::text IS NULL OR a.resource_type = $4"
		"        OR a.resource_type || ':' || a.resource_id = $4)"
		"   AND ($5::text IS NULL OR a.created_at >= CASE WHEN $5 ~ '^[0-9]+ ?(s|m|h|d|w)$'"
		"        THEN now() - $5::interval ELSE $5::timestamptz END)"
		"   AND ($6::text IS NULL OR a.created_at < CASE WHEN $6 ~ '^[0-9]+ ?(s|m|h|d|w)$'"
		"        THEN now() - $6::interval ELSE $6::timestamptz END)"
		" ORDER BY a.id DESC LIMIT $7::bigint", 7, params);
	aiplat_db_rollback(db);
	return rc;
}
