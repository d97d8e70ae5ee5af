/* Shared lookups for the catalogue, tenant and people modules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/error.h"
#include "catalog.h"

bool aiplat_in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

void aiplat_join_list(char *buf, size_t size, const char *const *list, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", list[i]);
}

int aiplat_require_superadmin(aiplat_db *db, const char *doing)
{
	const aiplat_identity *who = aiplat_db_identity(db);
	if (!who->acting || who->is_superadmin)
		return 0;
	return aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
	                        "only superadmins may %s (%s is not one)", doing, who->email);
}

int aiplat_require_permission(aiplat_db *db, const char *resource, const char *action,
                              const char *doing)
{
	const aiplat_identity *who = aiplat_db_identity(db);
	if (!who->acting || who->is_superadmin)
		return 0;
	const char *params[2] = { resource, action };
	char *ok = NULL;
	int rc = aiplat_db_query_value(db, &ok, "SELECT aiplat.has_current_permission($1, $2)", 2,
	                               params);
	bool allowed = ok && !strcmp(ok, "t");
	free(ok);
	if (rc)
		return rc;
	if (!allowed) {
		aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
		                 "%s may not %s in %s: that needs the %s:%s permission", who->email, doing,
		                 who->org_slug[0] ? who->org_slug : "this organization", resource, action);
		return aiplat_error_hint("ask an admin of %s", who->org_slug[0] ? who->org_slug : "it");
	}
	return 0;
}

void aiplat_catalog_codes_dispose(aiplat_codes *c)
{
	for (size_t i = 0; i < c->nplans; i++)
		free(c->plans[i]);
	for (size_t i = 0; i < c->ntypes; i++)
		free(c->types[i]);
	free(c->plans);
	free(c->types);
	memset(c, 0, sizeof(*c));
}

static int load_column(aiplat_db *db, const char *sql, char ***out, size_t *n)
{
	PGresult *res;
	int rc = aiplat_db_query(db, &res, sql, 0, NULL);
	if (rc)
		return rc;
	*n = (size_t)PQntuples(res);
	*out = calloc(*n + 1, sizeof(char *));
	for (size_t i = 0; *out && i < *n; i++)
		(*out)[i] = strdup(PQgetvalue(res, (int)i, 0));
	PQclear(res);
	return *out ? 0 : aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
}

int aiplat_catalog_codes(aiplat_db *db, aiplat_codes *c)
{
	memset(c, 0, sizeof(*c));
	int rc = load_column(db, "SELECT code FROM aiplat.plans ORDER BY level", &c->plans, &c->nplans);
	if (!rc)
		rc = load_column(db, "SELECT code FROM aiplat.organization_types ORDER BY code", &c->types,
		                 &c->ntypes);
	if (rc)
		aiplat_catalog_codes_dispose(c);
	return rc;
}

int aiplat_catalog_check_plan(aiplat_db *db, const char *plan, const char *what)
{
	aiplat_codes c;
	int rc = aiplat_catalog_codes(db, &c);
	if (rc)
		return rc;
	if (!aiplat_in_list(plan, (const char *const *)c.plans, c.nplans)) {
		char known[256];
		aiplat_join_list(known, sizeof(known), (const char *const *)c.plans, c.nplans);
		rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                      "%s: unknown plan \"%s\" (plans: %s)", what, plan, known);
		aiplat_error_set_field(what, plan);
	}
	aiplat_catalog_codes_dispose(&c);
	return rc;
}

int aiplat_catalog_check_type(aiplat_db *db, const char *type, const char *what)
{
	aiplat_codes c;
	int rc = aiplat_catalog_codes(db, &c);
	if (rc)
		return rc;
	if (!aiplat_in_list(type, (const char *const *)c.types, c.ntypes)) {
		rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                      "%s: unknown organization type \"%s\"", what, type);
		aiplat_error_set_field(what, type);
	}
	aiplat_catalog_codes_dispose(&c);
	return rc;
}

int aiplat_catalog_find_model(aiplat_db *db, const char *ident, long long *id)
{
	const char *params[1] = { ident };
	char *v = NULL;
	int rc = aiplat_db_query_value(db, &v,
		"SELECT id FROM aiplat.ai_models_system"
		" WHERE CASE WHEN $1 ~ '^[0-9]{1,18}$' THEN id = $1::bigint ELSE lower(name) = lower($1) END",
		1, params);
	if (rc)
		return rc;
	if (!v) {
		aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "no model \"%s\"", ident);
		return aiplat_error_set_field("model", ident);
	}
	*id = atoll(v);
	free(v);
	return 0;
}

