/*
 * The organisation admin's and the user's views of the catalogue:
 * `model available|enable|disable|set-limit` and `model enabled`.
 *
 * Availability is enforced by the database (policies and the enable
 * trigger); here it is computed again with aiplat/rules.h to explain it,
 * with the reason and the trial clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/buf.h"
#include "aiplat/error.h"
#include "aiplat/model.h"
#include "aiplat/org_model.h"
#include "aiplat/rules.h"
#include "access.h"
#include "codes.h"
#include "usage/person_view.h"
#include "util/text.h"

/* Changing an organisation's configuration needs (models, manage). */
static int require_manage(aiplat_db *db)
{
	return aiplat_access_require_permission(db, "models", "manage", "change which models are enabled");
}

static bool is_true(const char *v)
{
	return v && !strcmp(v, "t");
}

/* ---- available ---------------------------------------------------------------- */

int aiplat_org_model_available(aiplat_db *db, bool all, aiplat_table **out)
{
	const char *org = NULL;
	int rc = aiplat_access_require_org(db, &org);
	if (rc)
		return rc;
	if ((rc = aiplat_db_begin(db)) != 0)
		return rc;
	PGresult *res = NULL;
	const char *params[1] = { org };
	rc = aiplat_db_query(db, &res,
		"SELECT m.id, m.name, m.role, m.required_plan, mp.level AS model_level,"
		"       array_to_string(m.organization_types, ',') AS targets, m.is_active, m.is_free,"
		"       m.is_trial, m.trial_expires_days, m.token_limit_period, m.token_limit_amount,"
		"       c.is_enabled_for_users, c.token_limit_per_user,"
		"       extract(epoch FROM c.enabled_at)::bigint AS enabled_at, o.type AS org_type,"
		"       op.level AS org_level, extract(epoch FROM aiplat.clock())::bigint AS now"
		"  FROM aiplat.organizations o"
		"  JOIN aiplat.plans op ON op.code = o.pricing_plan"
		" CROSS JOIN aiplat.ai_models_system m"
		"  JOIN aiplat.plans mp ON mp.code = m.required_plan"
		"  LEFT JOIN aiplat.org_system_model_config c"
		"         ON c.organization_id = o.id AND c.system_model_id = m.id"
		" WHERE o.id = $1::uuid"
		" ORDER BY m.sort_order, m.id", 1, params);
	aiplat_db_rollback(db);
	if (rc)
		return rc;

	aiplat_table *t;
	int ncols = all ? 11 : 10;
	if ((rc = aiplat_table_new(&t, (size_t)ncols)) != 0) {
		PQclear(res);
		return rc;
	}
	static const struct { const char *name; aiplat_coltype type; } cols[] = {
		{ "id", AIPLAT_COL_INT }, { "name", AIPLAT_COL_TEXT }, { "role", AIPLAT_COL_TEXT },
		{ "plan", AIPLAT_COL_TEXT }, { "status", AIPLAT_COL_TEXT },
		{ "enabled", AIPLAT_COL_BOOL }, { "per_user_limit", AIPLAT_COL_INT },
		{ "period", AIPLAT_COL_TEXT }, { "limit_source", AIPLAT_COL_TEXT },
		{ "trial_days_left", AIPLAT_COL_INT }, { "availability", AIPLAT_COL_TEXT },
	};
	for (int c = 0; c < ncols; c++)
		aiplat_table_set_column(t, (size_t)c, cols[c].name, cols[c].type);

	for (int r = 0; r < PQntuples(res) && !rc; r++) {
#define F(column) aiplat_db_field(res, r, #column)
		/* Targets arrive as "a,b,c" (type codes have no commas). */
		char *targets = strdup(F(targets) ? F(targets) : "");
		const char *types[64];
		size_t ntypes = 0;
		char *save = NULL;
		for (char *tok = strtok_r(targets, ",", &save); tok && ntypes < 64;
		     tok = strtok_r(NULL, ",", &save))
			types[ntypes++] = tok;
		aiplat_availability a = aiplat_model_availability(is_true(F(is_active)), types, ntypes, F(org_type),
		                                                  atoi(F(model_level)), atoi(F(org_level)));
		free(targets);
		if (a != AIPLAT_AVAILABLE && !all)
			continue;

		bool enabled = is_true(F(is_enabled_for_users));
		bool trial = is_true(F(is_trial));
		char limit[32] = "", days[32] = "";
		const char *period = F(token_limit_period), *source = NULL;
		if (is_true(F(is_free))) {
			source = "free";
			period = NULL;
		} else if (F(token_limit_per_user)) {
			snprintf(limit, sizeof(limit), "%s", F(token_limit_per_user));
			source = "org";
			if (!period)
				period = "monthly";
		} else if (F(token_limit_amount)) {
			snprintf(limit, sizeof(limit), "%s", F(token_limit_amount));
			source = "model";
		}
		bool expired = false;
		if (trial && F(trial_expires_days)) {
			long left = F(enabled_at) ? aiplat_trial_days_left((time_t)atoll(F(enabled_at)), atoi(F(trial_expires_days)),
			                                           (time_t)atoll(F(now)))
			                  : atol(F(trial_expires_days));
			expired = left == 0;
			snprintf(days, sizeof(days), "%ld", left);
		}
		const char *status = a != AIPLAT_AVAILABLE ? "unavailable"
		                   : expired ? "trial_expired"
		                   : enabled ? "enabled" : "not_enabled";
		const char *cells[11] = { F(id), F(name), F(role), F(required_plan), status, enabled ? "t" : "f",
		                          limit[0] ? limit : NULL, source && strcmp(source, "free") ? period : NULL,
		                          source, days[0] ? days : NULL, aiplat_availability_name(a) };
		rc = aiplat_table_add_row(t, cells);
#undef F
	}
	PQclear(res);
	if (rc) {
		aiplat_table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

/* ---- enable / disable / set-limit ------------------------------------------------ */

/* "it requires the pro plan (acme is on starter)" */
static int explain_unavailable(aiplat_db *db, const char *org, const char *model_id,
                               const char *model_name)
{
	const char *params[2] = { model_id, org };
	PGresult *res;
	int rc = aiplat_db_query(db, &res,
		"SELECT availability, required_plan, org_plan, org_type, org_slug"
		"  FROM aiplat.model_availability_facts($1::bigint, $2::uuid)", 2, params);
	if (rc)
		return rc;
	const char *why = aiplat_db_field(res, 0, "availability");
	if (PQntuples(res) != 1 || !why || !strcmp(why, "available")) {
		PQclear(res);
		return 0;
	}
	const char *org_slug = aiplat_db_field(res, 0, "org_slug");
	char reason[256];
	if (!strcmp(why, "model_inactive"))
		snprintf(reason, sizeof(reason), "it is inactive");
	else if (!strcmp(why, "type_not_targeted"))
		snprintf(reason, sizeof(reason), "it does not target organizations of type %s",
		         aiplat_db_field(res, 0, "org_type"));
	else
		snprintf(reason, sizeof(reason), "it requires the %s plan (%s is on %s)",
		         aiplat_db_field(res, 0, "required_plan"), org_slug,
		         aiplat_db_field(res, 0, "org_plan"));
	aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
	                 "model \"%s\" is not available to %s: %s", model_name, org_slug, reason);
	PQclear(res);
	return AIPLAT_EINVALID;
}

/* Distinct people who used the model in its current period in this organisation. */
static int users_this_period(aiplat_db *db, const char *org, const char *model_id, long *n)
{
	const char *params[2] = { org, model_id };
	char *v = NULL;
	int rc = aiplat_db_query_value(db, &v,
		"SELECT count(DISTINCT u.user_id)"
		"  FROM aiplat.ai_models_system m"
		"  JOIN aiplat.organizations o ON o.id = $1::uuid"
		"  JOIN aiplat.ai_model_usage u ON u.organization_id = o.id AND u.model_id = m.id"
		"   AND u.period_type = coalesce(m.token_limit_period, 'monthly')"
		"   AND u.period_start = aiplat.period_start(coalesce(m.token_limit_period, 'monthly'),"
		"                                            o.time_zone, aiplat.clock())"
		" WHERE m.id = $2::bigint AND (u.tokens_used > 0 OR u.requests_count > 0)", 2, params);
	*n = v ? atol(v) : 0;
	free(v);
	return rc;
}

int aiplat_org_model_enable(aiplat_db *db, const char *ident, bool enable, bool force,
                        long *affected_users)
{
	const char *org = NULL;
	int rc = aiplat_access_require_org(db, &org);
	if (rc)
		return rc;
	if (affected_users)
		*affected_users = 0;
	if ((rc = aiplat_db_begin_audited(db, enable ? "model.enable" : "model.disable")) != 0)
		return rc;
	long long id;
	char idbuf[32];
	if ((rc = require_manage(db)) != 0)
		goto out;
	if (enable) {
		/* Unavailable models are invisible to admins; say why instead of "no model". */
		const char *p[1] = { ident };
		char *any = NULL;
		if ((rc = aiplat_db_query_value(db, &any, "SELECT aiplat.find_model_id($1)", 1, p)) != 0)
			goto out;
		if (any && (rc = explain_unavailable(db, org, any, ident)) != 0) {
			free(any);
			goto out;
		}
		free(any);
	}
	if ((rc = aiplat_model_find(db, ident, &id)) != 0)
		goto out;
	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	const char *params[2] = { org, idbuf };
	if (enable) {
		rc = aiplat_db_exec(db,
			"INSERT INTO aiplat.org_system_model_config AS c"
			"       (organization_id, system_model_id, is_enabled_for_users, enabled_by)"
			" VALUES ($1::uuid, $2::bigint, true, aiplat.current_user_id())"
			" ON CONFLICT (organization_id, system_model_id) DO UPDATE"
			"   SET is_enabled_for_users = true,"
			"       enabled_by = coalesce(EXCLUDED.enabled_by, c.enabled_by)", 2, params);
	} else {
		long n = 0;
		if ((rc = users_this_period(db, org, idbuf, &n)) != 0)
			goto out;
		if (affected_users)
			*affected_users = n;
		if (n > 0 && !force) {
			aiplat_error_set(AIPLAT_ENEGATIVE, AIPLAT_ERRCLASS_INPUT,
			                 "%ld user%s used \"%s\" in the current period; disabling it stops %s",
			                 n, n == 1 ? "" : "s", ident, n == 1 ? "them" : "them all");
			rc = aiplat_error_set_field("force", NULL);
			goto out;
		}
		rc = aiplat_db_exec(db,
			"UPDATE aiplat.org_system_model_config SET is_enabled_for_users = false"
			" WHERE organization_id = $1::uuid AND system_model_id = $2::bigint", 2, params);
	}
out:
	return aiplat_db_end(db, rc);
}

int aiplat_org_model_set_limit(aiplat_db *db, const char *ident, long long per_user)
{
	const char *org = NULL;
	int rc = aiplat_access_require_org(db, &org);
	if (rc)
		return rc;
	if (per_user < 0)
	{
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                 "per_user must be a positive number of tokens");
		return aiplat_error_set_field("per_user", NULL);
	}
	if ((rc = aiplat_db_begin_audited(db, "model.set_limit")) != 0)
		return rc;
	long long id;
	char idbuf[32], limit[32];
	if ((rc = require_manage(db)) != 0 || (rc = aiplat_model_find(db, ident, &id)) != 0)
		goto out;
	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	snprintf(limit, sizeof(limit), "%lld", per_user);
	if (per_user > 0) {
		const char *p[1] = { org };
		char *quota = NULL;
		if ((rc = aiplat_db_query_value(db, &quota, "SELECT aiplat.effective_quota($1::uuid)", 1, p)))
			goto out;
		if (quota && per_user > atoll(quota)) {
			rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
			                      "a per-user limit of %lld exceeds the organization's monthly "
			                      "quota of %s tokens", per_user, quota);
			free(quota);
			goto out;
		}
		free(quota);
	}
	const char *params[3] = { org, idbuf, per_user > 0 ? limit : NULL };
	rc = aiplat_db_exec(db,
		"INSERT INTO aiplat.org_system_model_config"
		"       (organization_id, system_model_id, is_enabled_for_users, token_limit_per_user)"
		" VALUES ($1::uuid, $2::bigint, false, $3::bigint)"
		" ON CONFLICT (organization_id, system_model_id) DO UPDATE"
		"   SET token_limit_per_user = EXCLUDED.token_limit_per_user", 3, params);
out:
	return aiplat_db_end(db, rc);
}

/* ---- the user's view ------------------------------------------------------------- */

int aiplat_org_model_enabled(aiplat_db *db, bool bar, aiplat_table **out)
{
	const aiplat_identity *who = aiplat_db_identity(db);
	const char *org = NULL;
	int rc = aiplat_access_require_org(db, &org);
	if (rc)
		return rc;
	if (!who->acting) {
		aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT,
		                 "the enabled models are a person's view: say whose");
		return aiplat_error_set_field("user", NULL);
	}
	if ((rc = aiplat_db_begin(db)) != 0)
		return rc;
	rc = aiplat_usage_person_models(db, org, who->user_id, bar, out);
	aiplat_db_rollback(db);   /* read only */
	return rc;
}
