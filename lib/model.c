/*
 * System AI models: the catalogue and its JSON documents (see aiplat/model.h).
 *
 * Writes go through jsonb_populate_record with the whole document as one
 * bound parameter, restricted to the columns the document names; the column
 * names come from the field table below, never from input.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/buf.h"
#include "aiplat/config.h"
#include "aiplat/error.h"
#include "aiplat/model.h"
#include "aiplat/rules.h"
#include "access.h"
#include "codes.h"
#include "util/text.h"

enum ftype { FT_READONLY, FT_TEXT, FT_INT, FT_BOOL, FT_NUMBER, FT_STRINGS, FT_TASKS, FT_KEY };

struct field {
	const char *key;        /* in the document */
	const char *column;     /* in aiplat.ai_models_system (NULL: not a plain column) */
	enum ftype type;
	bool required;          /* must be present and non-empty on create */
	bool nullable;
	bool int32;             /* FT_INT stored in an `integer` column */
};

static const struct field fields[] = {
	{ "id", NULL, FT_READONLY, false, false, false },
	{ "name", "name", FT_TEXT, true, false, false },
	{ "role", "role", FT_TEXT, true, false, false },
	{ "description", "description", FT_TEXT, false, true, false },
	{ "icon", "icon", FT_TEXT, false, true, false },
	{ "provider", "provider_kind", FT_TEXT, false, false, false },
	{ "provider_model", "provider_model", FT_TEXT, true, false, false },
	{ "endpoint", "endpoint", FT_TEXT, false, true, false },
	{ "api_key", NULL, FT_KEY, false, true, false },
	{ "max_tokens", "max_tokens", FT_INT, false, false, true },
	{ "system_message", "system_message", FT_TEXT, false, true, false },
	{ "tasks", "tasks", FT_TASKS, false, true, false },
	{ "organization_types", "organization_types", FT_STRINGS, false, false, false },
	{ "required_plan", "required_plan", FT_TEXT, false, false, false },
	{ "token_limit_period", "token_limit_period", FT_TEXT, false, true, false },
	{ "token_limit_amount", "token_limit_amount", FT_INT, false, true, false },
	{ "is_free", "is_free", FT_BOOL, false, false, false },
	{ "is_trial", "is_trial", FT_BOOL, false, false, false },
	{ "trial_expires_days", "trial_expires_days", FT_INT, false, true, true },
	{ "is_active", "is_active", FT_BOOL, false, false, false },
	{ "is_featured", "is_featured", FT_BOOL, false, false, false },
	{ "tags", "tags", FT_STRINGS, false, false, false },
	{ "sort_order", "sort_order", FT_INT, false, false, true },
	{ "price_input_per_mtok", "price_input_per_mtok", FT_NUMBER, false, false, false },
	{ "price_output_per_mtok", "price_output_per_mtok", FT_NUMBER, false, false, false },
	{ "created_at", NULL, FT_READONLY, false, false, false },
	{ "updated_at", NULL, FT_READONLY, false, false, false },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

const char *const aiplat_model_fields[] = {
	"id", "name", "role", "description", "icon", "provider", "provider_model", "endpoint",
	"api_key", "max_tokens", "system_message", "tasks", "organization_types", "required_plan",
	"token_limit_period", "token_limit_amount", "is_free", "is_trial", "trial_expires_days",
	"is_active", "is_featured", "tags", "sort_order", "price_input_per_mtok",
	"price_output_per_mtok", "created_at", "updated_at", NULL
};

/* The document's columns, as `model show` prints them. */
#define MODEL_DOC_COLUMNS \
	"m.id, m.name, m.role, m.description, m.icon, m.provider_kind AS provider, m.provider_model," \
	" m.endpoint, coalesce(m.api_key_ref, m.api_key_hint) AS api_key, m.max_tokens," \
	" m.system_message, m.tasks, to_jsonb(m.organization_types) AS organization_types," \
	" m.required_plan, m.token_limit_period, m.token_limit_amount, m.is_free, m.is_trial," \
	" m.trial_expires_days, m.is_active, m.is_featured, to_jsonb(m.tags) AS tags, m.sort_order," \
	" m.price_input_per_mtok, m.price_output_per_mtok, m.created_at, m.updated_at"

static const struct field *find_field(const char *key)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (!strcmp(fields[i].key, key))
			return &fields[i];
	return NULL;
}

static int invalid(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int invalid(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	aiplat_error_vset(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, fmt, ap);
	va_end(ap);
	return AIPLAT_EINVALID;
}

/* ---- validation ------------------------------------------------------------ */

static int check_type(const struct field *f, const json_t *v)
{
	if (json_is_null(v)) {
		if (f->nullable || f->type == FT_READONLY)
			return 0;
		return invalid("%s: may not be null", f->key);
	}
	switch (f->type) {
	case FT_TEXT:
	case FT_KEY:
		if (!json_is_string(v))
			return invalid("%s: must be a string", f->key);
		break;
	case FT_INT:
		if (!json_is_integer(v))
			return invalid("%s: must be a whole number", f->key);
		if (f->int32 && (json_integer_value(v) > 2147483647LL || json_integer_value(v) < -2147483648LL))
			return invalid("%s: %lld is too large (at most 2147483647)", f->key,
			               (long long)json_integer_value(v));
		break;
	case FT_BOOL:
		if (!json_is_boolean(v))
			return invalid("%s: must be true or false", f->key);
		break;
	case FT_NUMBER:
		if (!json_is_number(v) || json_number_value(v) < 0)
			return invalid("%s: must be a number, zero or more", f->key);
		break;
	case FT_STRINGS: {
		if (!json_is_array(v))
			return invalid("%s: must be a list of strings", f->key);
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item) {
			if (!json_is_string(item) || !json_string_length(item))
				return invalid("%s: item %zu must be a non-empty string", f->key, i + 1);
		}
		break;
	}
	case FT_TASKS: {
		if (!json_is_array(v))
			return invalid("tasks: must be a JSON array of objects with \"name\" and \"prompt\"");
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item) {
			if (!json_is_object(item))
				return invalid("tasks: item %zu is not an object with \"name\" and \"prompt\"",
				               i + 1);
			const char *need[] = { "name", "prompt" };
			for (int k = 0; k < 2; k++) {
				json_t *s = json_object_get(item, need[k]);
				if (!json_is_string(s) || !json_string_length(s))
					return invalid("tasks: item %zu has no \"%s\" (each task needs a non-empty "
					               "\"name\" and \"prompt\")", i + 1, need[k]);
			}
		}
		break;
	}
	case FT_READONLY:
		break;
	}
	return 0;
}

static bool get_bool(const json_t *doc, const char *key, bool dflt)
{
	json_t *v = json_object_get(doc, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static bool present(const json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);
	return v && !json_is_null(v);
}

static size_t utf8_length(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xC0) != 0x80;
	return n;
}

static bool env_reference(const char *s)
{
	if (strncmp(s, "env:", 4) != 0 || !(isalpha((unsigned char)s[4]) || s[4] == '_'))
		return false;
	for (const char *p = s + 5; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_'))
			return false;
	return true;
}

int aiplat_model_validate(const json_t *doc, const char *const *plans, size_t nplans,
                          const char *const *types, size_t ntypes)
{
	if (!json_is_object(doc))
		return invalid("a model must be a JSON object");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)doc, key, v) {
		const struct field *f = find_field(key);
		if (!f)
			return invalid("unknown field \"%s\"", key);
		int rc = check_type(f, v);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < NFIELDS; i++) {
		const json_t *s = json_object_get(doc, fields[i].key);
		if (fields[i].required && (!json_is_string(s) || !json_string_length(s)))
			return invalid("%s: required", fields[i].key);
	}
	/* Lengths in characters, as PostgreSQL's length() counts them. */
	if (utf8_length(json_string_value(json_object_get(doc, "name"))) > 200)
		return invalid("name: at most 200 characters");
	if (utf8_length(json_string_value(json_object_get(doc, "provider_model"))) > 200)
		return invalid("provider_model: at most 200 characters");
	const char *role = json_string_value(json_object_get(doc, "role"));
	bool role_ok = islower((unsigned char)role[0]) && strlen(role) <= 100;
	for (const char *p = role; role_ok && *p; p++)
		role_ok = islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_';
	if (!role_ok)
		return invalid("role: \"%s\" must be lower-case letters, digits and _, starting with a "
		               "letter (e.g. blog_content_writer)", role);
	if (present(doc, "provider")) {
		const char *p = json_string_value(json_object_get(doc, "provider"));
		if (strcmp(p, "openai") && strcmp(p, "anthropic"))
			return invalid("provider: must be openai (OpenAI-compatible APIs) or anthropic, not \"%s\"",
			               p);
	}
	if (present(doc, "endpoint")) {
		const char *e = json_string_value(json_object_get(doc, "endpoint"));
		if (strncmp(e, "https://", 8) && strncmp(e, "http://", 7))
			return invalid("endpoint: \"%s\" must be an http:// or https:// URL", e);
	}
	if (present(doc, "max_tokens") && json_integer_value(json_object_get(doc, "max_tokens")) <= 0)
		return invalid("max_tokens: must be positive");
	if (present(doc, "required_plan")) {
		const char *plan = json_string_value(json_object_get(doc, "required_plan"));
		if (!aiplat_in_list(plan, plans, nplans)) {
			char known[256];
			aiplat_join_list(known, sizeof(known), plans, nplans);
			return invalid("required_plan: unknown plan \"%s\" (plans: %s)", plan, known);
		}
	}
	json_t *otypes = json_object_get(doc, "organization_types");
	if (json_is_array(otypes)) {
		size_t i;
		json_t *t;
		json_array_foreach(otypes, i, t) {
			if (!aiplat_in_list(json_string_value(t), types, ntypes))
				return invalid("organization_types: unknown organization type \"%s\"",
				               json_string_value(t));
		}
	}
	bool has_period = present(doc, "token_limit_period");
	bool has_amount = present(doc, "token_limit_amount");
	if (has_period) {
		const char *p = json_string_value(json_object_get(doc, "token_limit_period"));
		if (strcmp(p, "daily") && strcmp(p, "weekly") && strcmp(p, "monthly"))
			return invalid("token_limit_period: must be daily, weekly or monthly, not \"%s\"", p);
	}
	if (has_amount && json_integer_value(json_object_get(doc, "token_limit_amount")) <= 0)
		return invalid("token_limit_amount: must be a positive number of tokens");
	if (has_period && !has_amount)
		return invalid("token_limit_period is set but token_limit_amount is not: a limit needs both");
	if (has_amount && !has_period)
		return invalid("token_limit_amount is set but token_limit_period is not: a limit needs both");
	if (present(doc, "trial_expires_days") &&
	    json_integer_value(json_object_get(doc, "trial_expires_days")) <= 0)
		return invalid("trial_expires_days: must be a positive number of days");
	if (get_bool(doc, "is_trial", false) && !present(doc, "trial_expires_days"))
		return invalid("is_trial: a trial model needs trial_expires_days");
	if (present(doc, "api_key")) {
		const char *k = json_string_value(json_object_get(doc, "api_key"));
		if (!strncmp(k, "env:", 4) && !env_reference(k))
			return invalid("api_key: \"%s\" is not a valid env:NAME reference", k);
		if (!*k)
			return invalid("api_key: empty (use null for no key)");
	}
	return 0;
}

/* ---- helpers on the database ---------------------------------------------- */

static int validate_with_db(aiplat_db *db, const json_t *doc)
{
	aiplat_codes c;
	int rc = aiplat_codes_load(db, &c);
	if (rc)
		return rc;
	rc = aiplat_model_validate(doc, (const char *const *)c.plans, c.nplans,
	                           (const char *const *)c.types, c.ntypes);
	aiplat_codes_dispose(&c);
	return rc;
}

/* The API key part of a write: which columns change and how. */
typedef struct key_change {
	bool change;            /* touch the key columns at all */
	const char *ref;        /* env:NAME */
	const char *literal;    /* a secret to encrypt */
	char hint[32];
} key_change;

/* Decides what a document's "api_key" means; `current` is the stored
 * reference or hint (NULL when none or creating). */
static int plan_key_change(const json_t *doc, const char *current, key_change *k)
{
	memset(k, 0, sizeof(*k));
	json_t *v = json_object_get(doc, "api_key");
	if (!v)
		return 0;
	if (json_is_null(v)) {
		k->change = current != NULL;
		return 0;
	}
	const char *s = json_string_value(v);
	if (current && !strcmp(s, current))
		return 0;                 /* the masked hint (or same reference): keep */
	k->change = true;
	if (!strncmp(s, "env:", 4)) {
		k->ref = s;
		return 0;
	}
	if (strstr(s, "...")) {
		return invalid("api_key: \"%s\" looks like a masked key, but not this model's; give the key "
		               "itself, an env:NAME reference or null", s);
	}
	const char *secret = aiplat_config_get()->secret_key;
	if (!secret || !*secret) {
		invalid("api_key: storing a literal key needs the secret key to encrypt it");
		aiplat_error_hint("store a reference such as env:OPENAI_API_KEY instead");
		return aiplat_error_set_field("secret_key", NULL);
	}
	k->literal = s;
	aiplat_key_hint(k->hint, sizeof(k->hint), s);
	return 0;
}

/* "name, role, ..." for the columns the document sets. */
static void document_columns(const json_t *doc, aiplat_buf *cols)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].column && json_object_get(doc, fields[i].key))
			aiplat_buf_printf(cols, "%s%s", cols->len ? ", " : "", fields[i].column);
}

/* The document keyed by column names, for jsonb_populate_record. */
static json_t *by_columns(const json_t *doc)
{
	json_t *out = json_object();
	for (size_t i = 0; out && i < NFIELDS; i++) {
		json_t *v = json_object_get(doc, fields[i].key);
		if (fields[i].column && v)
			json_object_set(out, fields[i].column, v);
	}
	return out;
}

static int friendly_duplicate(const json_t *doc, int rc)
{
	const aiplat_error *e = aiplat_error_last();
	if (rc == AIPLAT_EEXISTS && strstr(e->message, "ai_models_system_name_key"))
		return aiplat_error_set(AIPLAT_EEXISTS, AIPLAT_ERRCLASS_INPUT,
		                        "a model named \"%s\" already exists",
		                        json_string_value(json_object_get(doc, "name")));
	return rc;
}

/* ---- create / update / delete ----------------------------------------------- */

int aiplat_model_create(aiplat_db *db, const json_t *doc, long long *id)
{
	int rc = aiplat_db_begin_audited(db, "model.create");
	if (rc)
		return rc;
	key_change k;
	if ((rc = aiplat_access_require_superadmin(db, "change the model catalogue")) != 0 ||
	    (rc = validate_with_db(db, doc)) != 0 || (rc = plan_key_change(doc, NULL, &k)) != 0)
		goto fail;

	aiplat_buf sql = AIPLAT_BUF_INIT, cols = AIPLAT_BUF_INIT;
	document_columns(doc, &cols);
	aiplat_buf_printf(&sql,
		"INSERT INTO aiplat.ai_models_system (%s, api_key_ref, api_key_ciphertext, api_key_hint,"
		" created_by)"
		" SELECT %s, $2, CASE WHEN $3::text IS NULL THEN NULL ELSE aiplat.encrypt_secret($3, $4) END,"
		"        $5, aiplat.current_user_id()"
		"   FROM jsonb_populate_record(NULL::aiplat.ai_models_system, $1::jsonb)"
		" RETURNING id", cols.ptr, cols.ptr);
	json_t *rowdoc = by_columns(doc);
	char *json = json_dumps(rowdoc, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(rowdoc);
	const char *params[5] = { json, k.ref, k.literal, k.literal ? aiplat_config_get()->secret_key : NULL,
	                          k.literal ? k.hint : NULL };
	char *newid = NULL;
	rc = aiplat_db_query_value(db, &newid, sql.ptr, 5, params);
	free(json);
	aiplat_buf_dispose(&sql);
	aiplat_buf_dispose(&cols);
	if (rc) {
		rc = friendly_duplicate(doc, rc);
		goto fail;
	}
	*id = atoll(newid);
	free(newid);
	return aiplat_db_commit(db);
fail:
	aiplat_db_rollback(db);
	return rc;
}

/* The stored document of model `id` (caller json_decref's it). */
static int load_document(aiplat_db *db, long long id, json_t **out)
{
	char idbuf[32];
	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	const char *params[1] = { idbuf };
	char *text = NULL;
	int rc = aiplat_db_query_value(db, &text,
		"SELECT to_jsonb(d) FROM (SELECT " MODEL_DOC_COLUMNS
		" FROM aiplat.ai_models_system m WHERE m.id = $1::bigint) d", 1, params);
	if (rc)
		return rc;
	if (!text)
		return aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "no model %lld", id);
	*out = json_loads(text, 0, NULL);
	free(text);
	return *out ? 0 : aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_INTERNAL,
	                                   "cannot read model %lld", id);
}

/* Which model an update addresses: the argument, else the document's id or name. */
static int update_target(aiplat_db *db, const char *ident, const json_t *changes, long long *id)
{
	if (ident)
		return aiplat_model_find(db, ident, id);
	json_t *v = json_object_get(changes, "id");
	if (json_is_integer(v)) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return aiplat_model_find(db, buf, id);
	}
	v = json_object_get(changes, "name");
	if (json_is_string(v))
		return aiplat_model_find(db, json_string_value(v), id);
	return aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT,
	                        "which model? give MODEL, or an \"id\" in the document");
}

int aiplat_model_update(aiplat_db *db, const char *ident, const json_t *changes, long long *id)
{
	if (!json_is_object(changes))
		return invalid("a model must be a JSON object");
	int rc = aiplat_db_begin_audited(db, "model.update");
	if (rc)
		return rc;
	json_t *doc = NULL, *edit = json_deep_copy(changes);
	if ((rc = aiplat_access_require_superadmin(db, "change the model catalogue")) != 0 ||
	    (rc = update_target(db, ident, changes, id)) != 0 || (rc = load_document(db, *id, &doc)) != 0)
		goto out;
	/* Read-only fields travel in documents from `model show`; ignore them. */
	json_object_del(edit, "id");
	json_object_del(edit, "created_at");
	json_object_del(edit, "updated_at");
	const char *current_key = json_string_value(json_object_get(doc, "api_key"));
	key_change k;
	if ((rc = plan_key_change(edit, current_key, &k)) != 0)
		goto out;
	/* Validate the model as it will be. */
	json_t *merged = json_deep_copy(doc);
	json_object_update(merged, edit);
	json_object_del(merged, "id");
	json_object_del(merged, "created_at");
	json_object_del(merged, "updated_at");
	rc = validate_with_db(db, merged);
	json_decref(merged);
	if (rc)
		goto out;

	aiplat_buf sql = AIPLAT_BUF_INIT, cols = AIPLAT_BUF_INIT;
	document_columns(edit, &cols);
	aiplat_buf_puts(&sql, "UPDATE aiplat.ai_models_system SET ");
	if (cols.len)
		aiplat_buf_printf(&sql, "(%s) = (SELECT %s FROM jsonb_populate_record(NULL::aiplat.ai_models_system,"
		                        " $1::jsonb))", cols.ptr, cols.ptr);
	if (k.change)
		aiplat_buf_printf(&sql, "%sapi_key_ref = $3, api_key_ciphertext = CASE WHEN $4::text IS NULL"
		                        " THEN NULL ELSE aiplat.encrypt_secret($4, $5) END, api_key_hint = $6",
		                  cols.len ? ", " : "");
	if (!cols.len && !k.change)
		aiplat_buf_puts(&sql, "updated_at = updated_at");
	aiplat_buf_puts(&sql, " WHERE id = $2::bigint AND $1::jsonb IS NOT NULL");
	json_t *rowdoc = by_columns(edit);
	char *json = json_dumps(rowdoc, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(rowdoc);
	char idbuf[32];
	snprintf(idbuf, sizeof(idbuf), "%lld", *id);
	const char *params[6] = { json, idbuf, k.ref, k.literal,
	                          k.literal ? aiplat_config_get()->secret_key : NULL,
	                          k.literal ? k.hint : NULL };
	/* Unused parameters still need a type: keep the statement's numbering fixed. */
	rc = aiplat_db_exec(db, sql.ptr, k.change ? 6 : 2, params);
	free(json);
	aiplat_buf_dispose(&sql);
	aiplat_buf_dispose(&cols);
	if (rc)
		rc = friendly_duplicate(edit, rc);
out:
	json_decref(doc);
	json_decref(edit);
	return aiplat_db_end(db, rc);
}

int aiplat_model_delete(aiplat_db *db, const char *ident, bool force)
{
	int rc = aiplat_db_begin_audited(db, "model.delete");
	if (rc)
		return rc;
	long long id;
	if ((rc = aiplat_access_require_superadmin(db, "change the model catalogue")) != 0 ||
	    (rc = aiplat_model_find(db, ident, &id)) != 0)
		goto fail;
	char idbuf[32];
	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	const char *params[1] = { idbuf };
	if (!force) {
		char *n = NULL;
		rc = aiplat_db_query_value(db, &n,
			"SELECT count(*) FROM aiplat.org_system_model_config"
			" WHERE system_model_id = $1::bigint AND is_enabled_for_users", 1, params);
		long enabled = n ? atol(n) : 0;
		free(n);
		if (!rc && enabled > 0) {
			aiplat_error_set(AIPLAT_ENEGATIVE, AIPLAT_ERRCLASS_INPUT,
			                 "model \"%s\" is enabled in %ld organization%s", ident, enabled,
			                 enabled == 1 ? "" : "s");
			aiplat_error_hint("deactivate it instead");
			rc = aiplat_error_set_field("force", NULL);
		}
		if (rc)
			goto fail;
	}
	if ((rc = aiplat_db_exec(db, "DELETE FROM aiplat.ai_models_system WHERE id = $1::bigint", 1,
	                         params)) != 0)
		goto fail;
	return aiplat_db_commit(db);
fail:
	aiplat_db_rollback(db);
	return rc;
}

int aiplat_model_set_switch(aiplat_db *db, const char *ident, const char *field, bool on)
{
	const char *sql;
	const char *action;
	if (!strcmp(field, "is_active")) {
		sql = "UPDATE aiplat.ai_models_system SET is_active = $2::boolean WHERE id = $1::bigint";
		action = on ? "model.activate" : "model.deactivate";
	} else if (!strcmp(field, "is_featured")) {
		sql = "UPDATE aiplat.ai_models_system SET is_featured = $2::boolean WHERE id = $1::bigint";
		action = on ? "model.feature" : "model.unfeature";
	} else {
		return aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INTERNAL, "no switch %s", field);
	}
	int rc = aiplat_db_begin_audited(db, action);
	if (rc)
		return rc;
	long long id;
	if ((rc = aiplat_access_require_superadmin(db, "change the model catalogue")) == 0 &&
	    (rc = aiplat_model_find(db, ident, &id)) == 0) {
		char idbuf[32];
		snprintf(idbuf, sizeof(idbuf), "%lld", id);
		const char *params[2] = { idbuf, on ? "true" : "false" };
		rc = aiplat_db_exec(db, sql, 2, params);
	}
	return aiplat_db_end(db, rc);
}

/* ---- reading ------------------------------------------------------------------ */

int aiplat_model_show(aiplat_db *db, const char *ident, aiplat_table **out)
{
	int rc = aiplat_db_begin(db);
	if (rc)
		return rc;
	long long id;
	if ((rc = aiplat_model_find(db, ident, &id)) == 0) {
		char idbuf[32];
		snprintf(idbuf, sizeof(idbuf), "%lld", id);
		const char *params[1] = { idbuf };
		rc = aiplat_db_query_table(db, out, "SELECT " MODEL_DOC_COLUMNS
		                           " FROM aiplat.ai_models_system m WHERE m.id = $1::bigint", 1, params);
	}
	aiplat_db_rollback(db);
	return rc;
}

int aiplat_model_list(aiplat_db *db, const aiplat_model_filter *f, aiplat_table **out)
{
	aiplat_model_filter none = AIPLAT_MODEL_FILTER_INIT;
	if (!f)
		f = &none;
	const char *sort = f->sort ? f->sort : "sort_order";
	if (strcmp(sort, "name") && strcmp(sort, "created") && strcmp(sort, "sort_order"))
	{
		invalid("sort must be name, created or sort_order, not \"%s\"", sort);
		return aiplat_error_set_field("sort", sort);
	}
	int rc = aiplat_db_begin(db);
	if (rc)
		return rc;
	/* Unknown filter values are mistakes, not empty results. */
	if (f->type || f->plan) {
		aiplat_codes c;
		if ((rc = aiplat_codes_load(db, &c)) != 0)
			goto out;
		if (f->type && !aiplat_in_list(f->type, (const char *const *)c.types, c.ntypes)) {
			invalid("type: unknown organization type \"%s\"", f->type);
			rc = aiplat_error_set_field("type", f->type);
		} else if (f->plan && !aiplat_in_list(f->plan, (const char *const *)c.plans, c.nplans)) {
			invalid("plan: unknown plan \"%s\"", f->plan);
			rc = aiplat_error_set_field("plan", f->plan);
		}
		aiplat_codes_dispose(&c);
		if (rc)
			goto out;
	}
	const char *params[6] = { f->type, f->plan,
	                          f->active < 0 ? NULL : f->active ? "true" : "false",
	                          f->featured ? "true" : "false", f->search, sort };
	rc = aiplat_db_query_table(db, out,
		"SELECT m.id, m.name, m.role, m.provider_kind AS provider, m.required_plan AS plan,"
		"       to_jsonb(m.organization_types) AS targets,"
		"       CASE WHEN m.token_limit_amount IS NOT NULL"
		"            THEN m.token_limit_amount || '/' || m.token_limit_period END AS user_limit,"
		"       m.is_free AS free, m.trial_expires_days AS trial_days, m.is_active AS active,"
		"       m.is_featured AS featured, to_jsonb(m.tags) AS tags, m.sort_order"
		"  FROM aiplat.ai_models_system m"
		" WHERE ($1::text IS NULL OR cardinality(m.organization_types) = 0"
		"        OR $1 = ANY (m.organization_types))"
		"   AND ($2::text IS NULL OR m.required_plan = $2)"
		"   AND ($3::boolean IS NULL OR m.is_active = $3)"
		"   AND (NOT $4::boolean OR m.is_featured)"
		"   AND ($5::text IS NULL OR strpos(lower(m.name), lower($5)) > 0"
		"        OR strpos(lower(m.role), lower($5)) > 0"
		"        OR EXISTS (SELECT 1 FROM unnest(m.tags) AS t WHERE strpos(lower(t), lower($5)) > 0))"
		" ORDER BY CASE WHEN $6 = 'name' THEN lower(m.name) END,"
		"          CASE WHEN $6 = 'created' THEN m.created_at END,"
		"          m.sort_order, m.id", 6, params);
out:
	aiplat_db_rollback(db);
	return rc;
}

int aiplat_model_find(aiplat_db *db, const char *ident, long long *id)
{
	const char *params[1] = { ident };
	char *v = NULL;
	int rc = aiplat_db_query_value(db, &v,
		"SELECT id FROM aiplat.ai_models_system"
		" WHERE CASE WHEN $1 ~ '^[0-9]{1,18}$' THEN id = $1::bigint ELSE lower(name) = lower($1) END",
		1, params);
	if (rc)
		return rc;
	if (!v) {
		aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_INPUT, "no model \"%s\"", ident);
		return aiplat_error_set_field("model", ident);
	}
	*id = atoll(v);
	free(v);
	return 0;
}
