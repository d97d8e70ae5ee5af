/*
 * Versioned prompts (seed 003 1.2.5): every `prompt set` adds a version;
 * an organisation's own key overrides the global one for it. Global
 * prompts are the superadmins'; an organisation's need prompts:manage
 * there. Row-level security enforces the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/prompt.h"
#include "aiplat/error.h"
#include "access.h"

/* The organisation the command works in, or NULL for the global scope. */
static const char *org_of(aiplat_db *db, bool global)
{
	const aiplat_identity *who = aiplat_db_identity(db);
	return !global && who->org_id[0] ? who->org_id : NULL;
}

int aiplat_prompt_set(aiplat_db *db, const char *key, const char *body, const char *description,
                      bool global, aiplat_table **out)
{
	*out = NULL;
	const char *org = org_of(db, global);
	if (!body || !*body)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "the prompt is empty");
	int rc = aiplat_db_begin_audited(db, org ? "prompt.set" : "prompt.set_global");
	if (rc)
		return rc;
	rc = org ? aiplat_access_require_permission(db, "prompts", "manage", "change prompts")
	         : aiplat_access_require_superadmin(db, "change global prompts");
	const char *params[4] = { org, key, body, description };
	/* Versions of one key are numbered in turn: one writer at a time. */
	if (!rc)
		rc = aiplat_db_exec(db, "SELECT pg_advisory_xact_lock(hashtext(coalesce($1, '') || '/' || $2))", 2,
		                    params);
	/* An organisation's versions and the global ones live in tables of their own. */
	if (!rc && org)
		rc = aiplat_db_query_table(db, out,
			"INSERT INTO aiplat.prompts (organization_id, key, version, body, description, created_by)"
			" SELECT $1::uuid, $2, coalesce(max(p.version), 0) + 1, $3, $4, aiplat.current_user_id()"
			"   FROM aiplat.prompts p WHERE p.organization_id = $1::uuid AND p.key = $2"
			" RETURNING key, version, 'tenant' AS scope, length(body) AS chars, created_at", 4, params);
	else if (!rc)
		rc = aiplat_db_query_table(db, out,
			"INSERT INTO aiplat.global_prompts (key, version, body, description, created_by)"
			" SELECT $2, coalesce(max(p.version), 0) + 1, $3, $4, aiplat.current_user_id()"
			"   FROM aiplat.global_prompts p WHERE $1::uuid IS NULL AND p.key = $2"
			" RETURNING key, version, 'global' AS scope, length(body) AS chars, created_at", 4, params);
	if ((rc = aiplat_db_end(db, rc)) != 0) {
		aiplat_table_free(*out);
		*out = NULL;
	}
	return rc;
}

int aiplat_prompt_get(aiplat_db *db, const char *key, int version, bool global, aiplat_table **out)
{
	char v[16];
	snprintf(v, sizeof(v), "%d", version);
	const char *params[3] = { org_of(db, global), key, v };
	int rc = aiplat_db_query_table_as(db, out,
		"SELECT p.key, p.version,"
		"       CASE WHEN p.organization_id IS NULL THEN 'global' ELSE 'tenant' END AS scope,"
		"       p.description, u.email AS created_by, p.created_at, p.body"
		"  FROM aiplat.all_prompts p LEFT JOIN aiplat.users u ON u.id = p.created_by"
		" WHERE p.key = $2 AND (p.organization_id = $1::uuid OR p.organization_id IS NULL)"
		"   AND ($3::int = 0 OR p.version = $3::int)"
		"   AND (p.organization_id IS NOT NULL OR NOT EXISTS ("
		"        SELECT 1 FROM aiplat.prompts t WHERE t.organization_id = $1::uuid AND t.key = $2"
		"           AND ($3::int = 0 OR t.version = $3::int)))"
		" ORDER BY p.organization_id NULLS LAST, p.version DESC LIMIT 1", 3, params);
	if (!rc && aiplat_table_nrows(*out) == 0) {
		aiplat_table_free(*out);
		*out = NULL;
		if (version)
			return aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "no version %d of prompt %s",
			                        version, key);
		return aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "no prompt %s", key);
	}
	return rc;
}

int aiplat_prompt_list(aiplat_db *db, aiplat_table **out)
{
	const char *params[1] = { org_of(db, false) };
	return aiplat_db_query_table_as(db, out,
		"SELECT DISTINCT ON (p.key) p.key, p.version,"
		"       CASE WHEN p.organization_id IS NULL THEN 'global' ELSE 'tenant' END AS scope,"
		"       p.organization_id IS NOT NULL AND EXISTS (SELECT 1 FROM aiplat.global_prompts g"
		"         WHERE g.key = p.key) AS overrides_global,"
		"       p.description, p.created_at AS updated_at, length(p.body) AS chars"
		"  FROM aiplat.all_prompts p"
		" WHERE p.organization_id = $1::uuid OR p.organization_id IS NULL"
		" ORDER BY p.key, p.organization_id NULLS LAST, p.version DESC", 1, params);
}

int aiplat_prompt_history(aiplat_db *db, const char *key, aiplat_table **out)
{
	const char *params[2] = { org_of(db, false), key };
	int rc = aiplat_db_query_table_as(db, out,
		"SELECT CASE WHEN p.organization_id IS NULL THEN 'global' ELSE 'tenant' END AS scope,"
		"       p.version, p.created_at, u.email AS created_by, p.description, length(p.body) AS chars"
		"  FROM aiplat.all_prompts p LEFT JOIN aiplat.users u ON u.id = p.created_by"
		" WHERE p.key = $2 AND (p.organization_id = $1::uuid OR p.organization_id IS NULL)"
		" ORDER BY p.organization_id NULLS FIRST, p.version", 2, params);
	if (!rc && aiplat_table_nrows(*out) == 0) {
		aiplat_table_free(*out);
		*out = NULL;
		return aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "no prompt %s", key);
	}
	return rc;
}
