/*
 * The organisation's side of the catalogue: which system models it may use
 * and why (available), which its users may use (enable, disable), per-user
 * limits, and a person's enabled models with this period's usage.
 */
#ifndef AIPLAT_ORG_MODEL_H
#define AIPLAT_ORG_MODEL_H

#include <stdbool.h>
#include "aiplat/db.h"
#include "aiplat/table.h"


/* Admin view: models the current organisation may use, with their status
 * there; with all=true every visible model, with the reason it is not
 * available. Needs an organisation (--org). */
int aiplat_org_model_available(aiplat_db *db, bool all, aiplat_table **out);
/*
 * Enables or disables a model for the current organisation's users.
 * Disabling a model someone used in the current period needs force:
 * without it AIPLAT_ENEGATIVE and *affected_users says how many.
 */
int aiplat_org_model_enable(aiplat_db *db, const char *ident, bool enable, bool force,
                        long *affected_users);
/* per_user > 0: that limit; per_user == 0: back to the model's default. */
int aiplat_org_model_set_limit(aiplat_db *db, const char *ident, long long per_user);

/* User view: the models the acting person may use in the current
 * organisation, with this period's usage. bar: add a text usage bar. */
int aiplat_org_model_enabled(aiplat_db *db, bool bar, aiplat_table **out);

#endif
