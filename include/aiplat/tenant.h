/*
 * Organisations (tenants) and their members. Commands that name an
 * organisation work in it: for a person that means being a member (or a
 * superadmin), and row-level security decides the rest.
 */
#ifndef AIPLAT_TENANT_H
#define AIPLAT_TENANT_H

#include "aiplat/db.h"
#include "aiplat/table.h"

typedef struct aiplat_tenant_spec {
	const char *slug;       /* lower-case letters, digits, dashes */
	const char *name;       /* default: the slug */
	const char *type;       /* default: general */
	const char *plan;       /* default: free */
	const char *time_zone;  /* default: UTC */
	long long quota;        /* monthly tokens; 0: the plan's default */
	const char *admin;      /* email of a first admin, or NULL */
} aiplat_tenant_spec;

int aiplat_tenant_create(aiplat_db *db, const aiplat_tenant_spec *spec);
int aiplat_tenant_list(aiplat_db *db, aiplat_table **out);
int aiplat_tenant_show(aiplat_db *db, const char *slug, aiplat_table **out);
/* field: name, type, plan, quota ("default" or a positive number), time_zone. */
int aiplat_tenant_set(aiplat_db *db, const char *slug, const char *field, const char *value);

int aiplat_tenant_add_member(aiplat_db *db, const char *slug, const char *email, const char *role);
int aiplat_tenant_remove_member(aiplat_db *db, const char *slug, const char *email);
int aiplat_tenant_set_role(aiplat_db *db, const char *slug, const char *email, const char *role);
int aiplat_tenant_members(aiplat_db *db, const char *slug, aiplat_table **out);

/* Makes the connection work in organisation `slug` (membership checked). */
int aiplat_db_use_org(aiplat_db *db, const char *slug);

#endif
