/* People: users, superadmins and login-role mapping (see aiplat/user.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/buf.h"
#include "aiplat/error.h"
#include "aiplat/user.h"
#include "access.h"

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
	if ((rc = aiplat_access_require_superadmin(db, "create people")) != 0)
		return aiplat_db_end(db, rc);
	const char *params[3] = { email, display_name, superadmin ? "true" : "false" };
	rc = aiplat_db_exec(db,
		"INSERT INTO aiplat.users (email, display_name, is_superadmin) VALUES ($1, $2, $3::boolean)",
		3, params);
	if (rc == AIPLAT_EEXISTS)
		rc = aiplat_error_set(AIPLAT_EEXISTS, AIPLAT_ERRCLASS_INPUT, "a user %s already exists",
		                      email);
	return aiplat_db_end(db, rc);
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
	if ((rc = aiplat_access_require_superadmin(db, "grant or revoke superadmin")) != 0)
		return aiplat_db_end(db, rc);
	char what[300];
	snprintf(what, sizeof(what), "no user with email %s", email);
	const char *params[2] = { email, on ? "true" : "false" };
	rc = affected_one(db, "UPDATE aiplat.users SET is_superadmin = $2::boolean"
	                      " WHERE lower(email) = lower($1)", 2, params, what);
	return aiplat_db_end(db, rc);
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
		return aiplat_db_end(db, rc);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return aiplat_db_end(db, aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT,
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
	return aiplat_db_end(db, rc);
}
