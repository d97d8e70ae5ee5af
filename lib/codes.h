/* The reference codes the catalogue and organisations are checked against. */
#ifndef AIPLAT_CODES_H
#define AIPLAT_CODES_H

#include <stddef.h>
#include "aiplat/db.h"

/* Known plan codes (by level) and organisation type codes. */
typedef struct aiplat_codes {
	char **plans;
	size_t nplans;
	char **types;
	size_t ntypes;
} aiplat_codes;

int aiplat_codes_load(aiplat_db *db, aiplat_codes *c);
void aiplat_codes_dispose(aiplat_codes *c);
/* AIPLAT_EINVALID naming the known values when plan/type is unknown; what
 * names the field ("plan", "type"). */
int aiplat_codes_check_plan(aiplat_db *db, const char *plan, const char *what);
int aiplat_codes_check_type(aiplat_db *db, const char *type, const char *what);

#endif
