/* People (users), superadmins and the mapping of login roles to people. */
#ifndef AIPLAT_PEOPLE_H
#define AIPLAT_PEOPLE_H

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

/* Roles and permissions (seed 003 3.2.6-3.2.8). */
int aiplat_role_list(aiplat_db *db, aiplat_table **out);
int aiplat_role_permissions(aiplat_db *db, aiplat_table **out);
/* In the current organisation; without one (platform or superadmin) a system role. */
int aiplat_role_create(aiplat_db *db, const char *name, const char *description,
                       const char *const *perms, int nperms);
/* perms are "resource:action". */
int aiplat_role_grant(aiplat_db *db, const char *role, const char *const *perms, int nperms,
                      bool grant);

typedef struct aiplat_audit_filter {
	const char *org;        /* slug */
	const char *actor;      /* email of the actor or of whom they acted as */
	const char *action;     /* exact, or a prefix ending in "." or "*" */
	const char *resource;   /* resource type, or type:id */
	const char *since;      /* timestamp, or an age such as 7d, 12h */
	const char *until;
	long limit;             /* newest first; 0: 100 */
} aiplat_audit_filter;

int aiplat_audit_list(aiplat_db *db, const aiplat_audit_filter *f, aiplat_table **out);

#endif
