/* Versioned prompts, global and per organisation; `ai complete --task` reads them. */
#ifndef AIPLAT_PROMPT_H
#define AIPLAT_PROMPT_H

#include <stdbool.h>
#include "aiplat/db.h"
#include "aiplat/table.h"

/* A new version of a prompt: the organisation's override with org, else the global one. */
int aiplat_prompt_set(aiplat_db *db, const char *key, const char *body, const char *description,
                      bool global, aiplat_table **out);
/* The prompt as the organisation sees it (version 0: the latest). */
int aiplat_prompt_get(aiplat_db *db, const char *key, int version, bool global, aiplat_table **out);
int aiplat_prompt_list(aiplat_db *db, aiplat_table **out);
int aiplat_prompt_history(aiplat_db *db, const char *key, aiplat_table **out);

#endif
