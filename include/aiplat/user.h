/* People (users), superadmins and the mapping of login roles to people. */
#ifndef AIPLAT_USER_H
#define AIPLAT_USER_H

#include <stdbool.h>
#include "aiplat/db.h"
#include "aiplat/table.h"

int aiplat_user_create(aiplat_db *db, const char *email, const char *display_name, bool superadmin);
int aiplat_user_list(aiplat_db *db, aiplat_table **out);
int aiplat_user_show(aiplat_db *db, const char *email, aiplat_table **out);
int aiplat_user_set_superadmin(aiplat_db *db, const char *email, bool on);
/*
 * Binds a PostgreSQL login role to a person (role NULL: unbind): the role is
 * granted aiplat_app and a connection as it acts as that person. With
 * create, a missing role is created (LOGIN, no password: authentication is
 * pg_hba's business). Only the platform itself may do this.
 */
int aiplat_user_map_login(aiplat_db *db, const char *email, const char *role, bool create);

#endif
