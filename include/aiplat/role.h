/* Roles and permissions (seed 003 3.2.6-3.2.8). */
#ifndef AIPLAT_ROLE_H
#define AIPLAT_ROLE_H

#include <stdbool.h>
#include "aiplat/db.h"
#include "aiplat/table.h"

int aiplat_role_list(aiplat_db *db, aiplat_table **out);
int aiplat_role_permissions(aiplat_db *db, aiplat_table **out);
/* In the current organisation; without one (platform or superadmin) a system role. */
int aiplat_role_create(aiplat_db *db, const char *name, const char *description,
                       const char *const *perms, int nperms);
/* perms are "resource:action". */
int aiplat_role_grant(aiplat_db *db, const char *role, const char *const *perms, int nperms,
                      bool grant);

#endif
