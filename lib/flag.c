/*
 * Feature flags (seed 003 1.2.6): a global row per name, which an
 * organisation's own row overrides. Flags that matter to aiplat itself:
 *   ai                  off: the organisation's AI calls are refused
 *   ai.daily_requests   on with a number ({"limit": N} or N): requests per
 *                       person and day, instead of the plan's limit
 * Global flags are the superadmins'; an organisation's need flags:manage.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/flag.h"
#include "aiplat/error.h"
#include "access.h"

int aiplat_flag_set(aiplat_db *db, const char *name, bool enabled, const char *value, bool global,
                    aiplat_table **out)
{
	*out = NULL;
	const aiplat_identity *who = aiplat_db_identity(db);
	const char *org = !global && who->org_id[0] ? who->org_id : NULL;
	if (value) {
		json_error_t err;
		json_t *doc = json_loads(value, JSON_DECODE_ANY, &err);
		json_decref(doc);
		if (!doc)
		{
			aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "value is not JSON: %s",
			                 err.text);
			return aiplat_error_set_field("value", NULL);
		}
	}
	int rc = aiplat_db_begin_audited(db, org ? "flag.set" : "flag.set_global");
	if (rc)
		return rc;
	rc = org ? aiplat_access_require_permission(db, "flags", "manage", "set feature flags")
	         : aiplat_access_require_superadmin(db, "set global feature flags");
	const char *params[4] = { org, name, enabled ? "true" : "false", value };
	if (!rc && org)
		rc = aiplat_db_query_table(db, out,
			"INSERT INTO aiplat.feature_flags AS f (organization_id, name, enabled, value, updated_by)"
			" VALUES ($1::uuid, $2, $3::boolean, $4::jsonb, aiplat.current_user_id())"
			" ON CONFLICT (organization_id, name) DO UPDATE"
			"   SET enabled = EXCLUDED.enabled, value = EXCLUDED.value, updated_by = EXCLUDED.updated_by"
			" RETURNING name, enabled, value, 'tenant' AS scope, updated_at", 4, params);
	else if (!rc)
		rc = aiplat_db_query_table(db, out,
			"INSERT INTO aiplat.global_flags AS f (name, enabled, value, updated_by)"
			" SELECT $2, $3::boolean, $4::jsonb, aiplat.current_user_id() WHERE $1::uuid IS NULL"
			" ON CONFLICT (name) DO UPDATE"
			"   SET enabled = EXCLUDED.enabled, value = EXCLUDED.value, updated_by = EXCLUDED.updated_by"
			" RETURNING name, enabled, value, 'global' AS scope, updated_at", 4, params);
	if ((rc = aiplat_db_end(db, rc)) != 0) {
		aiplat_table_free(*out);
		*out = NULL;
	}
	return rc;
}

int aiplat_flag_get(aiplat_db *db, const char *name, aiplat_table **out)
{
	const aiplat_identity *who = aiplat_db_identity(db);
	const char *params[2] = { who->org_id[0] ? who->org_id : NULL, name };
	int rc = aiplat_db_query_table_as(db, out,
		"SELECT $2 AS name, f.enabled, f.value,"
		"       CASE WHEN f.organization_id IS NOT NULL THEN 'tenant'"
		"            WHEN f.name IS NOT NULL THEN 'global' END AS scope,"
		"       f.updated_at"
		"  FROM (SELECT 1) AS one"
		"  LEFT JOIN LATERAL (SELECT * FROM aiplat.all_flags x"
		"                      WHERE x.name = $2 AND (x.organization_id = $1::uuid"
		"                                             OR x.organization_id IS NULL)"
		"                      ORDER BY x.organization_id NULLS LAST LIMIT 1) f ON true", 2, params);
	if (!rc && !aiplat_table_get(*out, 0, "scope")) {
		aiplat_table_free(*out);
		*out = NULL;
		return aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "no flag %s%s%s", name,
		                        who->org_slug[0] ? " for " : "", who->org_slug);
	}
	return rc;
}

int aiplat_flag_list(aiplat_db *db, aiplat_table **out)
{
	const aiplat_identity *who = aiplat_db_identity(db);
	const char *params[1] = { who->org_id[0] ? who->org_id : NULL };
	return aiplat_db_query_table_as(db, out,
		"SELECT n.name, coalesce(t.enabled, g.enabled) AS enabled,"
		"       CASE WHEN t.name IS NOT NULL THEN t.value ELSE g.value END AS value,"
		"       CASE WHEN t.name IS NOT NULL THEN 'tenant' ELSE 'global' END AS scope,"
		"       g.enabled AS global_enabled, t.enabled AS tenant_enabled"
		"  FROM (SELECT name FROM aiplat.global_flags"
		"         UNION SELECT name FROM aiplat.feature_flags WHERE organization_id = $1::uuid) n"
		"  LEFT JOIN aiplat.global_flags g ON g.name = n.name"
		"  LEFT JOIN aiplat.feature_flags t ON t.organization_id = $1::uuid AND t.name = n.name"
		" ORDER BY n.name", 1, params);
}
