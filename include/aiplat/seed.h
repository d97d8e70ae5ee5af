/* Reference and demonstration data; idempotent (a second run changes nothing). */
#ifndef AIPLAT_SEED_H
#define AIPLAT_SEED_H

#include <stdbool.h>
#include "aiplat/db.h"
#include "aiplat/table.h"

/*
 * Loads the base data (plans, organisation types, roles and permissions, the
 * sample system models) and with demo=true the demonstration organisations
 * and people, in one transaction. *summary lists rows inserted per table.
 */
int aiplat_seed(aiplat_db *db, bool demo, aiplat_table **summary);

#endif
