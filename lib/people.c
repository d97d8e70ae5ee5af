/* People, roles and the audit log (see aiplat/people.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/buf.h"
#include "aiplat/error.h"
#include "aiplat/people.h"
#include "catalog.h"

static int finish(aiplat_db *db, int rc)
{
	if (!rc)
		return aiplat_db_commit(db);
	aiplat_db_rollback(db);
	return rc;
}

static int affected_one(aiplat_db *db, const char *sql, int n, const char *const *params,
                        const char *what)
{
	PGresult *res;
	int rc = aiplat_db_query(db, &res, sql, n, params);
	if (rc)
		return rc;
	if (!strcmp(PQcmdTuples(res), "0"))
		rc = aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "%s", what);
	PQclear(res);
	return rc;
}

/* ---- users ---------------------------------------------------------------------- */

static bool valid_email(const char *e)
{
	const char *at = strchr(e, '@');
	if (!at || at == e || !at[1] || strchr(at + 1, '@') || strlen(e) > 254)
		return false;
	for (const char *p = e; *p; p++)
		if (isspace((unsigned char)*p))
			return false;
	return true;
}

int aiplat_user_create(aiplat_db *db, const char *email, const char *display_name, bool superadmin)
{
	if (!valid_email(email))
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                        "\"%s\" is not an email address", email);
	int rc = aiplat_db_begin_audited(db, "user.create");
	if (rc)
		return rc;
	if ((rc = aiplat_require_superadmin(db, "create people")) != 0)
		return finish(db, rc);
	const char *params[3] = { email, display_name, superadmin ? "true" : "false" };
	rc = aiplat_db_exec(db,
		"INSERT INTO aiplat.users (email, display_name, is_superadmin) VALUES ($1, $2, $3::boolean)",
		3, params);
	if (rc == AIPLAT_EEXISTS)
		rc = aiplat_error_set(AIPLAT_EEXISTS, AIPLAT_ERRCLASS_INPUT, "a user %s already exists",
		                      email);
	return finish(db, rc);
}

int aiplat_user_list(aiplat_db *db, aiplat_table **out)
{
	int rc = aiplat_db_begin(db);
	if (rc)
		return rc;
	rc = aiplat_db_query_table(db, out,
		"SELECT u.email, u.display_name AS name, u.is_superadmin AS superadmin,"
		"       (SELECT to_jsonb(array_agg(o.slug || ':' || r.name ORDER BY o.slug))"
		"          FROM aiplat.organization_members m"
		"          JOIN aiplat.organizations o ON o.id = m.organization_id"
		"          JOIN aiplat.roles r ON r.id = m.role_id"
		"         WHERE m.user_id = u.id) AS memberships,"
		"       u.created_at"
		"  FROM aiplat.users u ORDER BY lower(u.email)", 0, NULL);
	aiplat_db_rollback(db);
	return rc;
}

int aiplat_user_show(aiplat_db *db, const char *email, aiplat_table **out)
{
	int rc = aiplat_db_begin(db);
	if (rc)
		return rc;
	const char *params[1] = { email };
	/* login_role is not granted to people; only the platform sees it. */
	const char *sql = aiplat_db_identity(db)->acting
		? "SELECT u.id, u.email, u.display_name AS name, u.is_superadmin AS superadmin,"
		  "       NULL::text AS login_role,"
		  "       (SELECT to_jsonb(array_agg(o.slug || ':' || r.name ORDER BY o.slug))"
		  "          FROM aiplat.organization_members m"
		  "          JOIN aiplat.organizations o ON o.id = m.organization_id"
		  "          JOIN aiplat.roles r ON r.id = m.role_id"
		  "         WHERE m.user_id = u.id) AS memberships, u.created_at, u.updated_at"
		  "  FROM aiplat.users u WHERE lower(u.email) = lower($1)"
		: "SELECT u.id, u.email, u.display_name AS name, u.is_superadmin AS superadmin,"
		  "       u.login_role,"
		  "       (SELECT to_jsonb(array_agg(o.slug || ':' || r.name ORDER BY o.slug))"
		  "          FROM aiplat.organization_members m"
		  "          JOIN aiplat.organizations o ON o.id = m.organization_id"
		  "          JOIN aiplat.roles r ON r.id = m.role_id"
		  "         WHERE m.user_id = u.id) AS memberships, u.created_at, u.updated_at"
		  "  FROM aiplat.users u WHERE lower(u.email) = lower($1)";
	rc = aiplat_db_query_table(db, out, sql, 1, params);
	aiplat_db_rollback(db);
	if (!rc && aiplat_table_nrows(*out) == 0) {
		aiplat_table_free(*out);
		*out = NULL;
		rc = aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "no user with email %s",
		                      email);
	}
	return rc;
}

int aiplat_user_set_superadmin(aiplat_db *db, const char *email, bool on)
{
	int rc = aiplat_db_begin_audited(db, on ? "user.grant_superadmin" : "user.revoke_superadmin");
	if (rc)
		return rc;
	if ((rc = aiplat_require_superadmin(db, "grant or revoke superadmin")) != 0)
		return finish(db, rc);
	char what[300];
	snprintf(what, sizeof(what), "no user with email %s", email);
	const char *params[2] = { email, on ? "true" : "false" };
	rc = affected_one(db, "UPDATE aiplat.users SET is_superadmin = $2::boolean"
	                      " WHERE lower(email) = lower($1)", 2, params, what);
	return finish(db, rc);
}

static bool valid_role_name(const char *r)
{
	if (!*r || strlen(r) > 63 || !(islower((unsigned char)r[0]) || r[0] == '_'))
		return false;
	for (const char *p = r; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			return false;
	return true;
}

int aiplat_user_map_login(aiplat_db *db, const char *email, const char *role, bool create)
{
	if (aiplat_db_identity(db)->acting)
	{
		aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
		                 "login roles are mapped by the platform itself (connect as the "
		                 "schema owner, acting for nobody)");
		return aiplat_error_set_field("identity", NULL);
	}
	if (role && !valid_role_name(role))
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                        "\"%s\" is not a plain role name (lower-case letters, digits, _)",
		                        role);
	int rc = aiplat_db_begin_audited(db, role ? "user.map_login" : "user.unmap_login");
	if (rc)
		return rc;
	const char *p1[1] = { email };
	char *old = NULL, *exists = NULL;
	PGresult *res = NULL;
	rc = aiplat_db_query(db, &res, "SELECT login_role FROM aiplat.users WHERE lower(email) = lower($1)",
	                     1, p1);
	if (rc)
		return finish(db, rc);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return finish(db, aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT,
		                                   "no user with email %s", email));
	}
	if (!PQgetisnull(res, 0, 0))
		old = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);

	aiplat_buf sql = AIPLAT_BUF_INIT;
	PGconn *pg = aiplat_db_pg(db);
	if (role) {
		const char *p2[1] = { role };
		if ((rc = aiplat_db_query_value(db, &exists,
		        /* Roles that bypass row-level security would make the mapping a
		         * lie: superusers, BYPASSRLS roles, the owner and its members. */
		        "SELECT CASE WHEN r.rolsuper OR r.rolbypassrls OR r.rolname = current_user"
		        "              OR pg_has_role(r.oid, n.nspowner, 'MEMBER') THEN 'owner'"
		        "            ELSE 'yes' END"
		        "  FROM pg_roles r, pg_namespace n WHERE r.rolname = $1 AND n.nspname = 'aiplat'",
		        1, p2)) != 0)
			goto out;
		if (exists && !strcmp(exists, "owner")) {
			rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
			                      "role %s bypasses row-level security (a superuser, BYPASSRLS, or "
			                      "the schema owner or a member of it); mapping it to a person "
			                      "would not restrict it", role);
			goto out;
		}
		char *ident = PQescapeIdentifier(pg, role, strlen(role));
		if (!exists && !create) {
			rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
			                      "there is no PostgreSQL role %s", role);
			aiplat_error_hint("create it (CREATE ROLE %s LOGIN PASSWORD ...)", role);
			aiplat_error_set_field("create", NULL);
			PQfreemem(ident);
			goto out;
		}
		if (!exists)
			aiplat_buf_printf(&sql, "CREATE ROLE %s LOGIN;", ident);
		aiplat_buf_printf(&sql, "GRANT aiplat_app TO %s;", ident);
		PQfreemem(ident);
	}
	if (old && (!role || strcmp(old, role))) {
		char *ident = PQescapeIdentifier(pg, old, strlen(old));
		aiplat_buf_printf(&sql, "REVOKE aiplat_app FROM %s;", ident);
		PQfreemem(ident);
	}
	if (sql.len && (rc = aiplat_db_exec_script(db, sql.ptr)) != 0)
		goto out;
	const char *p3[2] = { email, role };
	rc = aiplat_db_exec(db, "UPDATE aiplat.users SET login_role = $2 WHERE lower(email) = lower($1)",
	                    2, p3);
	if (rc == AIPLAT_EEXISTS)
		rc = aiplat_error_set(AIPLAT_EEXISTS, AIPLAT_ERRCLASS_INPUT,
		                      "role %s is already mapped to another user", role);
out:
	aiplat_buf_dispose(&sql);
	free(old);
	free(exists);
	return finish(db, rc);
}

/* ---- roles and permissions ---------------------------------------------------- */

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
		"SELECT id, organization_id IS NULL FROM aiplat.roles"
		" WHERE name = $2 AND (organization_id IS NULL OR organization_id = $1::uuid)"
		" ORDER BY organization_id NULLS LAST LIMIT 1", 2, params);
	if (rc)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "no role \"%s\"%s%s", name,
		                        who->org_slug[0] ? " in " : "", who->org_slug);
	}
	snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
	*is_system = !strcmp(PQgetvalue(res, 0, 1), "t");
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
	rc = who->org_id[0] ? aiplat_require_permission(db, "roles", "manage", "create roles")
	                    : aiplat_require_superadmin(db, "create system roles");
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
	return finish(db, rc);
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
		         (rc = aiplat_require_permission(db, "roles", "manage", "change roles")) != 0)
			;
		else if ((rc = parse_permissions(db, perms, nperms, &json)) == 0)
			rc = apply_grants(db, id, json.ptr, grant);
	}
	aiplat_buf_dispose(&json);
	return finish(db, rc);
}

/* ---- audit log ------------------------------------------------------------------- */

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
