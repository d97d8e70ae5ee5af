/* Internal helpers shared by the catalogue, tenant and people modules. */
#ifndef AIPLAT_CATALOG_H
#define AIPLAT_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include "aiplat/db.h"
#include "aiplat/table.h"

/* Known plan codes (by level) and organisation type codes. */
typedef struct aiplat_codes {
	char **plans;
	size_t nplans;
	char **types;
	size_t ntypes;
} aiplat_codes;

int aiplat_catalog_codes(aiplat_db *db, aiplat_codes *c);
void aiplat_catalog_codes_dispose(aiplat_codes *c);
/* AIPLAT_EINVALID naming the known values when plan/type is unknown. */
int aiplat_catalog_check_plan(aiplat_db *db, const char *plan, const char *what);
int aiplat_catalog_check_type(aiplat_db *db, const char *type, const char *what);

/*
 * Up-front permission checks for people (the platform always passes), so a
 * refused change exits 6 with a clear message. Row-level security enforces
 * the same rules; it is checked first because a policy that hides a row
 * from UPDATE or DELETE makes the statement silently change nothing.
 */
int aiplat_require_permission(aiplat_db *db, const char *resource, const char *action,
                              const char *doing);
int aiplat_require_superadmin(aiplat_db *db, const char *doing);

bool aiplat_in_list(const char *s, const char *const *list, size_t n);
void aiplat_join_list(char *buf, size_t size, const char *const *list, size_t n);

/* A model by id or name (case-insensitive), as the current identity sees it. */
int aiplat_catalog_find_model(aiplat_db *db, const char *ident, long long *id);
/* The organisation the command works in (--org), or AIPLAT_EUSAGE. */
int aiplat_catalog_require_org(aiplat_db *db, const char **org_id);

/*
 * The user view (`model enabled`, `usage show`): the models a person may use
 * in an organisation with used, reserved and limit for the current period,
 * reset time, warning level and trial days; bar adds a usage bar column.
 * Runs in the caller's transaction.
 */
int aiplat_person_models(aiplat_db *db, const char *org_id, const char *user_id, bool bar,
                         aiplat_table **out);

#endif
