/* Roles and their permissions (see aiplat/role.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/buf.h"
#include "aiplat/error.h"
#include "aiplat/role.h"
#include "access.h"

int aiplat_role_list(aiplat_db *db, aiplat_table **out)
{
	int rc = aiplat_db_begin(db);
	if (rc)
		return rc;
	const char *params[1] = { aiplat_db_identity(db)->org_id[0] ? aiplat_db_identity(db)->org_id
	                                                            : NULL };
	rc = aiplat_db_query_table(db, out,
		"SELECT r.name AS role, coalesce(o.slug, 'system') AS scope, r.description,"
		"       (SELECT to_jsonb(coalesce(array_agg(rp.resource || ':' || rp.action"
		"                                           ORDER BY rp.resource, rp.action), '{}'))"
		"          FROM aiplat.role_permissions rp WHERE rp.role_id = r.id) AS permissions"
		"  FROM aiplat.roles r LEFT JOIN aiplat.organizations o ON o.id = r.organization_id"
		" WHERE r.organization_id IS NULL OR $1::uuid IS NULL OR r.organization_id = $1::uuid"
		" ORDER BY r.organization_id NULLS FIRST, r.name", 1, params);
	aiplat_db_rollback(db);
	return rc;
}

int aiplat_role_permissions(aiplat_db *db, aiplat_table **out)
{
	int rc = aiplat_db_begin(db);
	if (rc)
		return rc;
	rc = aiplat_db_query_table(db, out,
		"SELECT resource || ':' || action AS permission, description"
		"  FROM aiplat.permissions ORDER BY resource, action", 0, NULL);
	aiplat_db_rollback(db);
	return rc;
}

/* Checks "resource:action" strings against the permissions table; builds a
 * JSON array of [resource, action] pairs for one bound parameter. */
static int parse_permissions(aiplat_db *db, const char *const *perms, int n, aiplat_buf *json)
{
	aiplat_buf_puts(json, "[");
	for (int i = 0; i < n; i++) {
		const char *colon = strchr(perms[i], ':');
		if (!colon || colon == perms[i] || !colon[1])
			return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
			                        "permission \"%s\" must look like resource:action (e.g. "
			                        "models:manage)", perms[i]);
		char resource[64], action[64];
		snprintf(resource, sizeof(resource), "%.*s", (int)(colon - perms[i]), perms[i]);
		snprintf(action, sizeof(action), "%s", colon + 1);
		const char *params[2] = { resource, action };
		char *ok = NULL;
		int rc = aiplat_db_query_value(db, &ok,
			"SELECT 1 FROM aiplat.permissions WHERE resource = $1 AND action = $2", 2, params);
		free(ok);
		if (rc)
			return rc;
		if (!ok) {
			aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "no permission \"%s\"",
			                 perms[i]);
			return aiplat_error_set_field("permission", perms[i]);
		}
		for (const char *p = perms[i]; *p; p++)
			if (!(islower((unsigned char)*p) || *p == '_' || *p == ':'))
				return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
				                        "bad permission \"%s\"", perms[i]);
		aiplat_buf_printf(json, "%s[\"%s\",\"%s\"]", i ? "," : "", resource, action);
	}
	aiplat_buf_puts(json, "]");
	return 0;
}

/* The role called `name` in the current organisation (custom first), or a system role. */
static int find_role_id(aiplat_db *db, const char *name, char id[37], bool *is_system)
{
	const aiplat_identity *who = aiplat_db_identity(db);
	const char *params[2] = { who->org_id[0] ? who->org_id : NULL, name };
	PGresult *res;
	int rc = aiplat_db_query(db, &res,
		"SELECT id, organization_id IS NULL AS is_system FROM aiplat.roles"
		" WHERE name = $2 AND (organization_id IS NULL OR organization_id = $1::uuid)"
		" ORDER BY organization_id NULLS LAST LIMIT 1", 2, params);
	if (rc)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "no role \"%s\"%s%s", name,
		                        who->org_slug[0] ? " in " : "", who->org_slug);
	}
	snprintf(id, 37, "%s", aiplat_db_field(res, 0, "id"));
	*is_system = !strcmp(aiplat_db_field(res, 0, "is_system"), "t");
	PQclear(res);
	return 0;
}

static int apply_grants(aiplat_db *db, const char *role_id, const char *json, bool grant)
{
	const char *params[2] = { role_id, json };
	return aiplat_db_exec(db, grant
		? "INSERT INTO aiplat.role_permissions (role_id, resource, action)"
		  " SELECT $1::uuid, p ->> 0, p ->> 1 FROM jsonb_array_elements($2::jsonb) AS p"
		  " ON CONFLICT DO NOTHING"
		: "DELETE FROM aiplat.role_permissions WHERE role_id = $1::uuid"
		  "   AND (resource, action) IN (SELECT p ->> 0, p ->> 1"
		  "                                FROM jsonb_array_elements($2::jsonb) AS p)", 2, params);
}

int aiplat_role_create(aiplat_db *db, const char *name, const char *description,
                       const char *const *perms, int nperms)
{
	const aiplat_identity *who = aiplat_db_identity(db);
	bool ok = *name && strlen(name) <= 63 && islower((unsigned char)name[0]);
	for (const char *p = name; ok && *p; p++)
		ok = islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' || *p == '-';
	if (!ok)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                        "role name \"%s\" must be lower-case letters, digits, _ and -", name);
	if (!who->org_id[0] && who->acting && !who->is_superadmin)
	{
		aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT,
		                 "give org: custom roles belong to an organization");
		return aiplat_error_set_field("org", NULL);
	}
	int rc = aiplat_db_begin_audited(db, "role.create");
	if (rc)
		return rc;
	aiplat_buf json = AIPLAT_BUF_INIT;
	char *id = NULL;
	rc = who->org_id[0] ? aiplat_access_require_permission(db, "roles", "manage", "create roles")
	                    : aiplat_access_require_superadmin(db, "create system roles");
	if (!rc && (rc = parse_permissions(db, perms, nperms, &json)) == 0) {
		const char *params[3] = { who->org_id[0] ? who->org_id : NULL, name, description };
		rc = aiplat_db_query_value(db, &id,
			"INSERT INTO aiplat.roles (organization_id, name, description)"
			" VALUES ($1::uuid, $2, $3) RETURNING id", 3, params);
		if (rc == AIPLAT_EEXISTS && strstr(aiplat_error_last()->message, "roles_organization_id_name_key"))
			rc = aiplat_error_set(AIPLAT_EEXISTS, AIPLAT_ERRCLASS_INPUT, "a role \"%s\" already exists%s%s",
			                      name, who->org_slug[0] ? " in " : "", who->org_slug);
		if (!rc && nperms)
			rc = apply_grants(db, id, json.ptr, true);
	}
	free(id);
	aiplat_buf_dispose(&json);
	return aiplat_db_end(db, rc);
}

int aiplat_role_grant(aiplat_db *db, const char *role, const char *const *perms, int nperms,
                      bool grant)
{
	int rc = aiplat_db_begin_audited(db, grant ? "role.grant" : "role.revoke");
	if (rc)
		return rc;
	aiplat_buf json = AIPLAT_BUF_INIT;
	char id[37];
	bool is_system = false;
	if ((rc = find_role_id(db, role, id, &is_system)) == 0) {
		const aiplat_identity *who = aiplat_db_identity(db);
		if (is_system && who->acting && !who->is_superadmin)
			rc = aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
			                      "the system role %s is changed by superadmins only; create a "
			                      "custom role instead", role);
		else if (!is_system &&
		         (rc = aiplat_access_require_permission(db, "roles", "manage", "change roles")) != 0)
			;
		else if ((rc = parse_permissions(db, perms, nperms, &json)) == 0)
			rc = apply_grants(db, id, json.ptr, grant);
	}
	aiplat_buf_dispose(&json);
	return aiplat_db_end(db, rc);
}
