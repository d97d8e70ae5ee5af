/* A person's enabled models with this period's usage (see person_view.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/buf.h"
#include "aiplat/error.h"
#include "aiplat/rules.h"
#include "usage/person_view.h"

static bool is_true(const char *v)
{
	return v && !strcmp(v, "t");
}

static void usage_bar(char *buf, size_t size, long long used, long long limit)
{
	const int cells = 12;
	int pct = limit > 0 ? (int)(used * 100 / limit) : 0;
	int full = limit > 0 ? (int)(used * cells / limit) : 0;
	if (full > cells)
		full = cells;
	size_t n = 0;
	for (int i = 0; i < cells && n + 4 < size; i++) {
		const char *glyph = i < full ? "\xe2\x96\x88" : "\xe2\x96\x91";   /* █ ░ */
		memcpy(buf + n, glyph, 3);
		n += 3;
	}
	snprintf(buf + n, size - n, " %d%%", pct);
}

int aiplat_usage_person_models(aiplat_db *db, const char *org, const char *user, bool bar,
                         aiplat_table **out)
{
	int rc;
	PGresult *res = NULL;
	const char *params[2] = { org, user };
	rc = aiplat_db_query(db, &res,
		"WITH cfg AS ("
		"  SELECT m.id, m.name, m.role, coalesce(jsonb_array_length(m.tasks), 0) AS tasks, m.is_free,"
		"         m.is_trial, m.trial_expires_days, c.enabled_at, o.time_zone,"
		"         coalesce(c.token_limit_per_user, m.token_limit_amount) AS lim,"
		"         coalesce(m.token_limit_period,"
		"                  CASE WHEN c.token_limit_per_user IS NOT NULL THEN 'monthly' END) AS period,"
		"         m.sort_order"
		"    FROM aiplat.org_system_model_config c"
		"    JOIN aiplat.ai_models_system m ON m.id = c.system_model_id"
		"    JOIN aiplat.organizations o ON o.id = c.organization_id"
		"   WHERE c.organization_id = $1::uuid AND c.is_enabled_for_users"
		"     AND aiplat.model_availability(m.id, o.id) = 'available')"
		"SELECT cfg.id, cfg.name, cfg.role, cfg.tasks, cfg.is_free, cfg.period, cfg.lim,"
		"       coalesce(u.tokens_used, 0),"
		"       aiplat.period_end(coalesce(cfg.period, 'monthly'), cfg.time_zone, aiplat.clock()),"
		"       extract(epoch FROM aiplat.period_end(coalesce(cfg.period, 'monthly'), cfg.time_zone,"
		"                                            aiplat.clock()) - aiplat.clock())::bigint,"
		"       cfg.is_trial, cfg.trial_expires_days, extract(epoch FROM cfg.enabled_at)::bigint,"
		"       extract(epoch FROM aiplat.clock())::bigint,"
		"       (SELECT coalesce(sum(r.tokens), 0) FROM aiplat.quota_reservations r"
		"         WHERE r.organization_id = $1::uuid AND r.user_id = $2::uuid AND r.model_id = cfg.id"
		"           AND r.status = 'active' AND r.expires_at > aiplat.clock())"
		"  FROM cfg"
		"  LEFT JOIN aiplat.ai_model_usage u"
		"         ON u.organization_id = $1::uuid AND u.user_id = $2::uuid AND u.model_id = cfg.id"
		"        AND u.period_type = coalesce(cfg.period, 'monthly')"
		"        AND u.period_start = aiplat.period_start(coalesce(cfg.period, 'monthly'), cfg.time_zone,"
		"                                                 aiplat.clock())"
		" ORDER BY cfg.sort_order, cfg.id", 2, params);
	if (rc)
		return rc;

	static const struct { const char *name; aiplat_coltype type; } cols[] = {
		{ "id", AIPLAT_COL_INT }, { "model", AIPLAT_COL_TEXT }, { "kind", AIPLAT_COL_TEXT },
		{ "role", AIPLAT_COL_TEXT }, { "tasks", AIPLAT_COL_INT }, { "period", AIPLAT_COL_TEXT },
		{ "used", AIPLAT_COL_INT }, { "reserved", AIPLAT_COL_INT }, { "limit", AIPLAT_COL_INT },
		{ "percent", AIPLAT_COL_NUMBER },
		{ "resets_at", AIPLAT_COL_TIME }, { "resets_in", AIPLAT_COL_TEXT },
		{ "warning", AIPLAT_COL_TEXT }, { "message", AIPLAT_COL_TEXT },
		{ "trial_days_left", AIPLAT_COL_INT }, { "usage", AIPLAT_COL_TEXT },
	};
	size_t ncols = bar ? 16 : 15;
	aiplat_table *t;
	if ((rc = aiplat_table_new(&t, ncols)) != 0) {
		PQclear(res);
		return rc;
	}
	for (size_t c = 0; c < ncols; c++)
		aiplat_table_set_column(t, c, cols[c].name, cols[c].type);
	for (int r = 0; r < PQntuples(res) && !rc; r++) {
		const char *v[15];
		for (int c = 0; c < 15; c++)
			v[c] = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
		bool free_model = is_true(v[4]);
		long long used = atoll(v[7]), limit = (v[6] && !free_model) ? atoll(v[6]) : 0;
		char pct[32] = "", resets_in[64] = "", message[160] = "", days[32] = "", barbuf[96] = "";
		if (limit > 0)
			snprintf(pct, sizeof(pct), "%.1f", (double)used * 100.0 / (double)limit);
		aiplat_duration_phrase(resets_in, sizeof(resets_in), atoll(v[9]));
		aiplat_warning w = aiplat_usage_warning(used, limit);
		aiplat_warning_message(message, sizeof(message), w, used, limit, v[5], resets_in);
		const char *warning = aiplat_warning_name(w);
		if (is_true(v[10]) && v[11] && v[12]) {
			long left = aiplat_trial_days_left((time_t)atoll(v[12]), atoi(v[11]), (time_t)atoll(v[13]));
			snprintf(days, sizeof(days), "%ld", left);
			if (left == 0) {   /* an expired trial cannot be used, whatever the usage */
				warning = "trial_expired";
				snprintf(message, sizeof(message), "Trial expired.");
			}
		}
		if (bar)
			snprintf(barbuf, sizeof(barbuf), "%s", "unlimited");
		if (bar && limit > 0)
			usage_bar(barbuf, sizeof(barbuf), used, limit);
		bool limited = limit > 0;
		const char *cells[16] = {
			v[0], v[1], "SYSTEM", v[2], v[3], limited ? v[5] : NULL, v[7], v[14],
			limited ? v[6] : NULL, pct[0] ? pct : NULL, limited ? v[8] : NULL,
			limited ? resets_in : NULL, warning[0] ? warning : NULL,
			message[0] ? message : NULL, days[0] ? days : NULL, barbuf
		};
		rc = aiplat_table_add_row(t, cells);
	}
	PQclear(res);
	if (rc) {
		aiplat_table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}
