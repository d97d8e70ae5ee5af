/* Feature flags, global and per organisation (the organisation's own wins); the AI calls and the quota engine read them. */
#ifndef AIPLAT_FLAG_H
#define AIPLAT_FLAG_H

#include <stdbool.h>
#include "aiplat/db.h"
#include "aiplat/table.h"

/* value: JSON text or NULL. global: the global row, else the organisation's. */
int aiplat_flag_set(aiplat_db *db, const char *name, bool enabled, const char *value, bool global,
                    aiplat_table **out);
int aiplat_flag_get(aiplat_db *db, const char *name, aiplat_table **out);
int aiplat_flag_list(aiplat_db *db, aiplat_table **out);

#endif
