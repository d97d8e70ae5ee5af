/*
 * System AI models: the superadmin's catalogue (create, update, delete,
 * list, show, switches), the organisation admin's view (available, enable,
 * disable, per-user limits) and the user's view (enabled models with usage).
 *
 * A model travels as a JSON document whose keys are the fields below; it is
 * what `--from-file` reads and `model show --format json` prints, so models
 * can be scripted and round-tripped. API keys never leave the database: a
 * document carries "env:NAME" (a reference) or the masked hint "sk-...abcd",
 * which on input means "keep the stored key".
 */
#ifndef AIPLAT_MODEL_H
#define AIPLAT_MODEL_H

#include <stdbool.h>
#include <jansson.h>
#include "aiplat/db.h"
#include "aiplat/table.h"

/* Field names of the document, in display order (NULL-terminated). */
extern const char *const aiplat_model_fields[];

/*
 * Checks a complete document (for create, or the merged result of an
 * update) against the catalogue's rules. plans/types are the known plan and
 * organisation type codes. AIPLAT_EINVALID with a message naming the field.
 */
int aiplat_model_validate(const json_t *doc, const char *const *plans, size_t nplans,
                          const char *const *types, size_t ntypes);

/* Creates a model; *id gets its id. */
int aiplat_model_create(aiplat_db *db, const json_t *doc, long long *id);
/*
 * Updates the fields present in `changes` of the model named by `ident` (an
 * id or a name); with ident NULL the document's own "id" (or "name") says
 * which. Fields "id", "created_at" and "updated_at" are ignored.
 */
int aiplat_model_update(aiplat_db *db, const char *ident, const json_t *changes, long long *id);
/* Deletes; refuses (AIPLAT_ENEGATIVE, saying how many) while organisations
 * have it enabled, unless force. */
int aiplat_model_delete(aiplat_db *db, const char *ident, bool force);
/* Sets is_active or is_featured. */
int aiplat_model_set_switch(aiplat_db *db, const char *ident, const char *field, bool on);

/* The document of one model as a one-row table (JSON columns for lists). */
int aiplat_model_show(aiplat_db *db, const char *ident, aiplat_table **out);

typedef struct aiplat_model_filter {
	const char *type;       /* targets this organisation type (or every type) */
	const char *plan;       /* requires exactly this plan */
	int active;             /* -1 any, 0 inactive only, 1 active only */
	bool featured;          /* featured only */
	const char *search;     /* substring of name, role or a tag (case-insensitive) */
	const char *sort;       /* name | created | sort_order (default) */
} aiplat_model_filter;
#define AIPLAT_MODEL_FILTER_INIT { NULL, NULL, -1, false, NULL, NULL }

int aiplat_model_list(aiplat_db *db, const aiplat_model_filter *f, aiplat_table **out);
/* A model by id or name (case-insensitive), as the current identity sees it. */
int aiplat_model_find(aiplat_db *db, const char *ident, long long *id);

#endif
