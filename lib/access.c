/* Up-front permission checks and the organisation a command works in (see access.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/error.h"
#include "access.h"

int aiplat_access_require_superadmin(aiplat_db *db, const char *doing)
{
	const aiplat_identity *who = aiplat_db_identity(db);
	if (!who->acting || who->is_superadmin)
		return 0;
	return aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
	                        "only superadmins may %s (%s is not one)", doing, who->email);
}

int aiplat_access_require_permission(aiplat_db *db, const char *resource, const char *action,
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

int aiplat_access_require_org(aiplat_db *db, const char **org_id)
{
	const aiplat_identity *who = aiplat_db_identity(db);
	if (!who->org_id[0]) {
		aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT,
		                 "this command works in one organization");
		return aiplat_error_set_field("org", NULL);
	}
	*org_id = who->org_id;
	return 0;
}
