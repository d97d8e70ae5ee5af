/* The reference codes: plans (by level) and organisation types (see codes.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/error.h"
#include "codes.h"
#include "util/text.h"

void aiplat_codes_dispose(aiplat_codes *c)
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

int aiplat_codes_load(aiplat_db *db, aiplat_codes *c)
{
	memset(c, 0, sizeof(*c));
	int rc = load_column(db, "SELECT code FROM aiplat.plans ORDER BY level", &c->plans, &c->nplans);
	if (!rc)
		rc = load_column(db, "SELECT code FROM aiplat.organization_types ORDER BY code", &c->types,
		                 &c->ntypes);
	if (rc)
		aiplat_codes_dispose(c);
	return rc;
}

int aiplat_codes_check_plan(aiplat_db *db, const char *plan, const char *what)
{
	aiplat_codes c;
	int rc = aiplat_codes_load(db, &c);
	if (rc)
		return rc;
	if (!aiplat_in_list(plan, (const char *const *)c.plans, c.nplans)) {
		char known[256];
		aiplat_join_list(known, sizeof(known), (const char *const *)c.plans, c.nplans);
		rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                      "%s: unknown plan \"%s\" (plans: %s)", what, plan, known);
		aiplat_error_set_field(what, plan);
	}
	aiplat_codes_dispose(&c);
	return rc;
}

int aiplat_codes_check_type(aiplat_db *db, const char *type, const char *what)
{
	aiplat_codes c;
	int rc = aiplat_codes_load(db, &c);
	if (rc)
		return rc;
	if (!aiplat_in_list(type, (const char *const *)c.types, c.ntypes)) {
		rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                      "%s: unknown organization type \"%s\"", what, type);
		aiplat_error_set_field(what, type);
	}
	aiplat_codes_dispose(&c);
	return rc;
}
