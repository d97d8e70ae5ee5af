/*
 * Up-front permission checks for people (the platform always passes), so a
 * refused change exits 6 with a clear message. Row-level security enforces
 * the same rules; it is checked first because a policy that hides a row
 * from UPDATE or DELETE makes the statement silently change nothing.
 */
#ifndef AIPLAT_ACCESS_H
#define AIPLAT_ACCESS_H

#include "aiplat/db.h"

int aiplat_access_require_permission(aiplat_db *db, const char *resource, const char *action,
                                     const char *doing);
int aiplat_access_require_superadmin(aiplat_db *db, const char *doing);
/* The organisation the identity works in, or AIPLAT_EUSAGE (field "org"). */
int aiplat_access_require_org(aiplat_db *db, const char **org_id);

#endif
