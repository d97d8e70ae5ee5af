/* Organisations and their members (see aiplat/tenant.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/error.h"
#include "aiplat/tenant.h"
#include "access.h"
#include "codes.h"

int aiplat_db_use_org(aiplat_db *db, const char *slug)
{
	const aiplat_identity *cur = aiplat_db_identity(db);
	if (!strcmp(cur->org_slug, slug))
		return 0;
	aiplat_identity who;
	int rc = aiplat_identity_resolve(db, &who, cur->acting ? cur->email : NULL, slug);
	if (!rc)
		aiplat_db_set_identity(db, &who);
	return rc;
}

static bool valid_slug(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return false;
	for (const char *p = s; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-'))
			return false;
	return true;
}

static int check_time_zone(aiplat_db *db, const char *tz)
{
	const char *params[1] = { tz };
	char *ok = NULL;
	int rc = aiplat_db_query_value(db, &ok, "SELECT aiplat.is_valid_time_zone($1)", 1, params);
	bool valid = ok && !strcmp(ok, "t");
	free(ok);
	if (rc)
		return rc;
	if (!valid) {
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "unknown time zone \"%s\"", tz);
		return aiplat_error_hint("use an IANA name such as Europe/London or UTC");
	}
	return 0;
}

/* The id of `email` (case-insensitive), if the current identity may look it up. */
static int find_user(aiplat_db *db, const char *email, char id[37])
{
	const char *params[1] = { email };
	char *v = NULL;
	int rc = aiplat_db_query_value(db, &v, "SELECT aiplat.find_user_id($1)", 1, params);
	if (rc)
		return rc;
	if (!v)
		return aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "no user with email %s",
		                        email);
	snprintf(id, 37, "%s", v);
	free(v);
	return 0;
}

/* A role for the organisation: its own custom role of that name, else the system role. */
static int find_role(aiplat_db *db, const char *org, const char *role, char id[37])
{
	const char *params[2] = { org, role };
	char *v = NULL;
	int rc = aiplat_db_query_value(db, &v,
		"SELECT id FROM aiplat.roles WHERE name = $2"
		"   AND (organization_id = $1::uuid OR organization_id IS NULL)"
		" ORDER BY organization_id NULLS LAST LIMIT 1", 2, params);
	if (rc)
		return rc;
	if (!v) {
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "no role \"%s\"", role);
		return aiplat_error_set_field("role", role);
	}
	snprintf(id, 37, "%s", v);
	free(v);
	return 0;
}

int aiplat_tenant_create(aiplat_db *db, const aiplat_tenant_spec *s)
{
	if (!s->slug || !valid_slug(s->slug))
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                        "organization slug \"%s\" must be lower-case letters, digits and "
		                        "dashes (at most 63)", s->slug ? s->slug : "");
	if (s->quota < 0)
	{
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                 "quota must be a positive number of tokens");
		return aiplat_error_set_field("quota", NULL);
	}
	int rc = aiplat_db_begin_audited(db, "tenant.create");
	if (rc)
		return rc;
	const char *type = s->type ? s->type : "general", *plan = s->plan ? s->plan : "free";
	const char *tz = s->time_zone ? s->time_zone : "UTC";
	if ((rc = aiplat_access_require_superadmin(db, "create organizations")) ||
	    (rc = aiplat_codes_check_plan(db, plan, "plan")) ||
	    (rc = aiplat_codes_check_type(db, type, "type")) || (rc = check_time_zone(db, tz)))
		return aiplat_db_end(db, rc);
	char quota[32];
	snprintf(quota, sizeof(quota), "%lld", s->quota);
	const char *params[6] = { s->slug, s->name ? s->name : s->slug, type, plan, tz,
	                          s->quota > 0 ? quota : NULL };
	char *id = NULL;
	rc = aiplat_db_query_value(db, &id,
		"INSERT INTO aiplat.organizations (slug, name, type, pricing_plan, time_zone,"
		"                                  token_quota_monthly)"
		" VALUES ($1, $2, $3, $4, $5, $6::bigint) RETURNING id", 6, params);
	if (rc == AIPLAT_EEXISTS)
		rc = aiplat_error_set(AIPLAT_EEXISTS, AIPLAT_ERRCLASS_INPUT,
		                      "an organization \"%s\" already exists", s->slug);
	if (!rc && s->admin) {
		char user[37], role[37];
		if (!(rc = find_user(db, s->admin, user)) && !(rc = find_role(db, id, "admin", role))) {
			const char *p[3] = { id, user, role };
			rc = aiplat_db_exec(db,
				"INSERT INTO aiplat.organization_members (organization_id, user_id, role_id)"
				" VALUES ($1::uuid, $2::uuid, $3::uuid)", 3, p);
		}
	}
	free(id);
	return aiplat_db_end(db, rc);
}

/* The monthly counter as the next admission would see it: a period that
 * ended counts nothing, and the next one ends a month on. */
#define WITH_USAGE " LEFT JOIN aiplat.org_usage u ON u.organization_id = o.id"
#define USED_THIS_MONTH " CASE WHEN u.resets_at > aiplat.clock() THEN u.tokens_used ELSE 0 END"
#define RESETS_AT \
	" CASE WHEN u.resets_at > aiplat.clock() THEN u.resets_at" \
	"      ELSE aiplat.period_end('monthly', o.time_zone, aiplat.clock()) END"

int aiplat_tenant_list(aiplat_db *db, aiplat_table **out)
{
	int rc = aiplat_db_begin(db);
	if (rc)
		return rc;
	rc = aiplat_db_query_table(db, out,
		"SELECT o.slug, o.name, o.type, o.pricing_plan AS plan,"
		"       aiplat.effective_quota(o.id) AS quota_monthly," USED_THIS_MONTH " AS used,"
		"       aiplat.member_count(o.id) AS members, o.time_zone"
		"  FROM aiplat.organizations o" WITH_USAGE " ORDER BY o.slug", 0, NULL);
	aiplat_db_rollback(db);
	return rc;
}

int aiplat_tenant_show(aiplat_db *db, const char *slug, aiplat_table **out)
{
	/* Work in it, so counts follow its policies; to outsiders it does not exist. */
	int rc = aiplat_db_use_org(db, slug);
	if (rc == AIPLAT_EPERM || rc == AIPLAT_ENOTFOUND)
		return aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "no organization %s", slug);
	if (rc)
		return rc;
	if ((rc = aiplat_db_begin(db)) != 0)
		return rc;
	const char *params[1] = { slug };
	rc = aiplat_db_query_table(db, out,
		"SELECT o.slug, o.name, o.type, o.pricing_plan AS plan,"
		"       aiplat.effective_quota(o.id) AS quota_monthly,"
		"       CASE WHEN o.token_quota_monthly IS NULL THEN 'plan' ELSE 'organization' END"
		"         AS quota_source,"
		"      " USED_THIS_MONTH " AS used_this_month," RESETS_AT " AS resets_at,"
		"       o.time_zone,"
		"       aiplat.member_count(o.id) AS members,"
		"       (SELECT count(*) FROM aiplat.org_system_model_config c"
		"         WHERE c.organization_id = o.id AND c.is_enabled_for_users) AS models_enabled,"
		"       o.id, o.created_at"
		"  FROM aiplat.organizations o" WITH_USAGE " WHERE o.slug = $1", 1, params);
	aiplat_db_rollback(db);
	if (!rc && aiplat_table_nrows(*out) == 0) {
		aiplat_table_free(*out);
		*out = NULL;
		rc = aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "no organization %s", slug);
	}
	return rc;
}

int aiplat_tenant_set(aiplat_db *db, const char *slug, const char *field, const char *value)
{
	char action[64];
	snprintf(action, sizeof(action), "tenant.set_%s", field);
	/* Work in that organisation: identity settings are fixed when the transaction begins. */
	int rc = aiplat_db_use_org(db, slug);
	if (rc)
		return rc;
	if ((rc = aiplat_db_begin_audited(db, action)) != 0)
		return rc;
	const char *sql = NULL;
	const char *v = value;
	/* Type, plan and quota are the platform's decisions; name and time zone the admins'. */
	bool platform_field = !strcmp(field, "plan") || !strcmp(field, "type") || !strcmp(field, "quota");
	if (platform_field)
		rc = aiplat_access_require_superadmin(db, "change an organization's type, plan or quota");
	else
		rc = aiplat_access_require_permission(db, "organization", "manage", "change the organization");
	if (rc)
		return aiplat_db_end(db, rc);
	if (!strcmp(field, "plan")) {
		rc = aiplat_codes_check_plan(db, value, "plan");
		sql = "UPDATE aiplat.organizations SET pricing_plan = $2 WHERE slug = $1";
	} else if (!strcmp(field, "type")) {
		rc = aiplat_codes_check_type(db, value, "type");
		sql = "UPDATE aiplat.organizations SET type = $2 WHERE slug = $1";
	} else if (!strcmp(field, "time_zone")) {
		rc = check_time_zone(db, value);
		sql = "UPDATE aiplat.organizations SET time_zone = $2 WHERE slug = $1";
	} else if (!strcmp(field, "name")) {
		if (!*value || strlen(value) > 200)
			rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
			                      "a name has 1 to 200 characters");
		sql = "UPDATE aiplat.organizations SET name = $2 WHERE slug = $1";
	} else if (!strcmp(field, "quota")) {
		char *end;
		long long q = strtoll(value, &end, 10);
		if (!strcmp(value, "default"))
			v = NULL;
		else if (*end || end == value || q <= 0)
			rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
			                      "quota \"%s\" must be a positive number of tokens, or \"default\"",
			                      value);
		sql = "UPDATE aiplat.organizations SET token_quota_monthly = $2::bigint WHERE slug = $1";
	} else {
		rc = aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INTERNAL, "no setting %s", field);
	}
	if (!rc) {
		const char *params[2] = { slug, v };
		PGresult *res;
		if ((rc = aiplat_db_query(db, &res, sql, 2, params)) == 0) {
			if (!strcmp(PQcmdTuples(res), "0"))
				rc = aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT,
				                      "no organization %s", slug);
			PQclear(res);
		}
	}
	return aiplat_db_end(db, rc);
}

/* Begins a member change in organisation `slug` and finds the person. */
static int member_begin(aiplat_db *db, const char *slug, const char *email, const char *action,
                        char user[37])
{
	int rc = aiplat_db_use_org(db, slug);
	if (rc)
		return rc;
	if ((rc = aiplat_db_begin_audited(db, action)) != 0)
		return rc;
	if ((rc = aiplat_access_require_permission(db, "members", "manage", "change its members")) != 0 ||
	    (rc = find_user(db, email, user)) != 0)
		aiplat_db_rollback(db);
	return rc;
}

int aiplat_tenant_add_member(aiplat_db *db, const char *slug, const char *email, const char *role)
{
	char user[37], role_id[37];
	int rc = member_begin(db, slug, email, "tenant.add_member", user);
	if (rc)
		return rc;
	const char *org = aiplat_db_identity(db)->org_id;
	if ((rc = find_role(db, org, role ? role : "user", role_id)) == 0) {
		const char *params[3] = { org, user, role_id };
		rc = aiplat_db_exec(db,
			"INSERT INTO aiplat.organization_members (organization_id, user_id, role_id)"
			" VALUES ($1::uuid, $2::uuid, $3::uuid)", 3, params);
		if (rc == AIPLAT_EEXISTS)
			rc = aiplat_error_set(AIPLAT_EEXISTS, AIPLAT_ERRCLASS_INPUT,
			                      "%s is already a member of %s", email, slug);
	}
	return aiplat_db_end(db, rc);
}

/* Runs a member statement and reports a non-member as not found. */
static int member_change(aiplat_db *db, const char *sql, int n, const char *const *params,
                         const char *email, const char *slug)
{
	PGresult *res;
	int rc = aiplat_db_query(db, &res, sql, n, params);
	if (rc)
		return rc;
	if (!strcmp(PQcmdTuples(res), "0"))
		rc = aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "%s is not a member of %s",
		                      email, slug);
	PQclear(res);
	/* The last-admin rule is checked at commit; check it now for a clear message. */
	if (!rc)
		rc = aiplat_db_exec(db, "SET CONSTRAINTS aiplat.organization_members_last_admin IMMEDIATE",
		                    0, NULL);
	return rc;
}

int aiplat_tenant_remove_member(aiplat_db *db, const char *slug, const char *email)
{
	char user[37];
	int rc = member_begin(db, slug, email, "tenant.remove_member", user);
	if (rc)
		return rc;
	const char *params[2] = { aiplat_db_identity(db)->org_id, user };
	rc = member_change(db, "DELETE FROM aiplat.organization_members"
	                       " WHERE organization_id = $1::uuid AND user_id = $2::uuid",
	                   2, params, email, slug);
	return aiplat_db_end(db, rc);
}

int aiplat_tenant_set_role(aiplat_db *db, const char *slug, const char *email, const char *role)
{
	char user[37], role_id[37];
	int rc = member_begin(db, slug, email, "tenant.set_role", user);
	if (rc)
		return rc;
	const char *org = aiplat_db_identity(db)->org_id;
	if ((rc = find_role(db, org, role, role_id)) == 0) {
		const char *params[3] = { org, user, role_id };
		rc = member_change(db, "UPDATE aiplat.organization_members SET role_id = $3::uuid"
		                       " WHERE organization_id = $1::uuid AND user_id = $2::uuid",
		                   3, params, email, slug);
	}
	return aiplat_db_end(db, rc);
}

int aiplat_tenant_members(aiplat_db *db, const char *slug, aiplat_table **out)
{
	int rc = aiplat_db_use_org(db, slug);
	if (rc)
		return rc;
	if ((rc = aiplat_db_begin(db)) != 0)
		return rc;
	const char *params[1] = { aiplat_db_identity(db)->org_id };
	rc = aiplat_db_query_table(db, out,
		"SELECT u.email, u.display_name AS name, r.name AS role,"
		"       CASE WHEN r.organization_id IS NULL THEN 'system' ELSE 'custom' END AS role_kind,"
		"       m.created_at AS member_since"
		"  FROM aiplat.organization_members m"
		"  JOIN aiplat.users u ON u.id = m.user_id"
		"  JOIN aiplat.roles r ON r.id = m.role_id"
		" WHERE m.organization_id = $1::uuid"
		" ORDER BY r.name = 'admin' DESC, lower(u.email)", 1, params);
	aiplat_db_rollback(db);
	return rc;
}
