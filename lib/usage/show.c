/*
 * `aiplat usage show --user U`: a person's usage per model in the current
 * periods, with the warning levels of seed 000 5.4. Anyone may see their
 * own; seeing someone else's needs usage:read_all in the organisation.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "aiplat/error.h"
#include "aiplat/usage.h"
#include "access.h"
#include "usage/person_view.h"

int aiplat_usage_show(aiplat_db *db, const char *user, bool bar, aiplat_table **out)
{
	const aiplat_identity *who = aiplat_db_identity(db);
	const char *org = NULL;
	int rc = aiplat_access_require_org(db, &org);
	if (rc)
		return rc;
	if (!user && !who->acting) {
		aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT, "whose usage?");
		return aiplat_error_set_field("user", NULL);
	}
	if ((rc = aiplat_db_begin(db)) != 0)
		return rc;
	char *user_id = NULL;
	if (user) {
		const char *params[2] = { user, org };
		/* Members only: a person outside the organisation has no usage in it. */
		rc = aiplat_db_query_value(db, &user_id, "SELECT aiplat.member_user_id($2::uuid, $1)", 2,
		                           params);
		if (!rc && !user_id && who->acting && !who->is_superadmin && strcasecmp(user, who->email))
			rc = aiplat_access_require_permission(db, "usage", "read_all", "see other people's usage");
		if (!rc && !user_id)
			rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
			                      "no member \"%s\" in %s", user, who->org_slug);
	} else {
		user_id = strdup(who->user_id);
	}
	if (!rc && who->acting && strcmp(user_id, who->user_id) != 0)
		rc = aiplat_access_require_permission(db, "usage", "read_all", "see other people's usage");
	if (!rc)
		rc = aiplat_usage_person_models(db, org, user_id, bar, out);
	free(user_id);
	aiplat_db_rollback(db);   /* read only */
	return rc;
}
