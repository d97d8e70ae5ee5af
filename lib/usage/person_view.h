/*
 * The user view (`model enabled`, `usage show`): the models a person may use
 * in an organisation with used, reserved and limit for the current period,
 * reset time, warning level and trial days; bar adds a usage bar column.
 * Runs in the caller's transaction.
 */
#ifndef AIPLAT_USAGE_PERSON_VIEW_H
#define AIPLAT_USAGE_PERSON_VIEW_H

#include <stdbool.h>
#include "aiplat/db.h"
#include "aiplat/table.h"

int aiplat_usage_person_models(aiplat_db *db, const char *org_id, const char *user_id, bool bar,
                               aiplat_table **out);

#endif
