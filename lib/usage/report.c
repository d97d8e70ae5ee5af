/*
 * `aiplat usage report`: totals over the daily rollups, never the raw
 * events (DESIGN.md section 5). Reports that neither split nor filter by
 * person read usage_daily_models (organisation, day, model); the rest read
 * usage_daily (the same per person). Days are local days in each
 * organisation's time zone, so windows are whole days: --period is the
 * current day, ISO week or month of each organisation, --since/--until take
 * dates or ages in days.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "aiplat/buf.h"
#include "aiplat/error.h"
#include "aiplat/usage.h"

enum dim { DIM_ORG, DIM_MODEL, DIM_USER, DIM_DAY, DIM_COUNT };
static const char *const dim_names[DIM_COUNT] = { "org", "model", "user", "day" };
/* Grouping column in the rollup, and the column shown for it. */
static const char *const dim_group[DIM_COUNT] = { "d.organization_id", "d.model_id", "d.user_id",
                                                  "d.day" };
/* The column shown for a grouping (%1$d: its position), and the join that
 * names it: joins, not correlated subqueries, which Citus cannot plan. */
static const char *const dim_label[DIM_COUNT] = {
	"n%1$d.slug AS org",
	"aiplat.model_name(a.k%1$d) AS model",
	"coalesce(n%1$d.email, a.k%1$d::text) AS user",
	"a.k%1$d AS day",
};
static const char *const dim_join[DIM_COUNT] = {
	" LEFT JOIN aiplat.organizations n%1$d ON n%1$d.id = a.k%1$d",
	"",
	" LEFT JOIN aiplat.users n%1$d ON n%1$d.id = a.k%1$d",
	"",
};

static int parse_dims(const char *by, enum dim *dims, int *n)
{
	*n = 0;
	const char *s = by && *by ? by : "model";
	while (*s) {
		size_t len = strcspn(s, ",");
		int found = -1;
		for (int d = 0; d < DIM_COUNT; d++)
			if (strlen(dim_names[d]) == len && !strncmp(s, dim_names[d], len))
				found = d;
		for (int i = 0; found >= 0 && i < *n; i++)
			if (dims[i] == (enum dim)found)
				found = -2;
		if (found < 0) {
			aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT, "by: %s \"%.*s\"",
			                 found == -2 ? "repeated" : "unknown grouping", (int)len, s);
			aiplat_error_hint("group by org, model, user or day, or several: day,model");
			return aiplat_error_set_field("by", NULL);
		}
		dims[(*n)++] = (enum dim)found;
		s += len;
		if (*s == ',')
			s++;
	}
	return 0;
}

/*
 * A window bound: a date (YYYY-MM-DD), "today", "yesterday", or an age in
 * days or weeks (7d, 2w) counted back from each organisation's today.
 * Exactly one of date/days_ago comes back set.
 */
static int parse_bound(const char *s, const char *what, char date[16], char days_ago[16])
{
	date[0] = days_ago[0] = '\0';
	int y, m, d;
	char tail;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && strlen(s) == 10) {
		snprintf(date, 16, "%s", s);   /* the server checks the calendar */
		return 0;
	}
	if (!strcmp(s, "today") || !strcmp(s, "yesterday")) {
		snprintf(days_ago, 16, "%d", s[0] == 't' ? 0 : 1);
		return 0;
	}
	size_t n = strlen(s);
	if (n >= 2 && n <= 6 && (s[n - 1] == 'd' || s[n - 1] == 'w')) {
		bool digits = true;
		for (size_t i = 0; i + 1 < n; i++)
			digits = digits && isdigit((unsigned char)s[i]);
		if (digits) {
			snprintf(days_ago, 16, "%ld", atol(s) * (s[n - 1] == 'w' ? 7 : 1));
			return 0;
		}
	}
	aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT, "%s \"%s\" is not a day", what, s);
	aiplat_error_hint("reports count whole local days: give YYYY-MM-DD, today, yesterday "
	                  "or an age such as 7d or 2w");
	return aiplat_error_set_field(what, s);
}

/* An organisation's or person's id, or AIPLAT_EINVALID when unknown. */
static int lookup(aiplat_db *db, const char *sql, const char *value, const char *what,
                  char id[40])
{
	char *found = NULL;
	const char *params[1] = { value };
	int rc = aiplat_db_query_value(db, &found, sql, 1, params);
	if (rc)
		return rc;
	if (!found)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "no %s \"%s\"", what, value);
	snprintf(id, 40, "%s", found);
	free(found);
	return 0;
}

static bool has_permission(aiplat_db *db, const char *action)
{
	const char *params[1] = { action };
	char *v = NULL;
	aiplat_db_query_value(db, &v, "SELECT aiplat.has_current_permission('usage', $1)", 1, params);
	bool yes = v && !strcmp(v, "t");
	free(v);
	return yes;
}

/*
 * Who may see what: the platform and superadmins everything (one
 * organisation with --org); in an organisation, usage:read_all its whole
 * usage, usage:read one's own. Row-level security says the same; checking
 * first turns "no rows" into a clear refusal.
 */
static int scope(aiplat_db *db, const aiplat_report_opts *o, char org[40], char user[40])
{
	const aiplat_identity *who = aiplat_db_identity(db);
	org[0] = user[0] = '\0';
	const char *org_ref = o->org ? o->org : (who->org_id[0] ? who->org_id : NULL);
	int rc;
	if (org_ref && (rc = lookup(db, "SELECT id FROM aiplat.organizations WHERE slug = $1 OR id::text = $1",
	                            org_ref, "organization", org)) != 0)
		return rc;
	if (!who->acting || who->is_superadmin) {
		if (o->user && (rc = lookup(db, "SELECT id FROM aiplat.users WHERE lower(email) = lower($1)"
		                                "   OR id::text = $1", o->user, "user", user)) != 0)
			return rc;
		return 0;
	}
	if (!org[0]) {
		aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT, "which organization's usage?");
		return aiplat_error_set_field("org", NULL);
	}
	if (strcmp(org, who->org_id) != 0)
		return aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
		                        "%s may see usage of %s only", who->email, who->org_slug);
	if (has_permission(db, "read_all")) {
		/* Anyone in the organisation: found through membership, which
		 * usage:read_all may see without members:manage. */
		if (o->user) {
			const char *params[2] = { o->user, org };
			char *found = NULL;
			rc = aiplat_db_query_value(db, &found,
				"SELECT aiplat.member_user_id($2::uuid, $1)", 2, params);
			if (rc)
				return rc;
			if (!found)
				return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
				                        "no member \"%s\" in %s", o->user, who->org_slug);
			snprintf(user, 40, "%s", found);
			free(found);
		}
		return 0;
	}
	if (!has_permission(db, "read"))
		return aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
		                        "%s may not see usage in %s: that needs the usage:read permission",
		                        who->email, who->org_slug);
	if (o->user && strcasecmp(o->user, who->email) != 0 && strcmp(o->user, who->user_id) != 0) {
		aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
		                 "%s may see only their own usage in %s", who->email, who->org_slug);
		return aiplat_error_hint("seeing everyone's needs the usage:read_all permission");
	}
	snprintf(user, 40, "%s", who->user_id);   /* one's own, implicitly */
	return 0;
}

static int build_sql(aiplat_buf *sql, const aiplat_report_opts *o, const enum dim *dims, int n,
                     bool per_person)
{
	/* Each organisation's window in its local days, worked out once per
	 * organisation (not per rollup row), so the rollup is read by its
	 * primary key (organization_id, day, ...). $4: day|week|month; $5/$6:
	 * since as a date / days ago; $7/$8: until likewise. */
	int rc = aiplat_buf_puts(sql,
		"WITH w AS MATERIALIZED ("   /* not folded into the join: once per organisation */
		"  SELECT o.id,"
		"         coalesce(date_trunc($4, t.local)::date, $5::date, t.local::date - $6::int,"
		"                  '-infinity'::date) AS lo,"
		"         coalesce((date_trunc($4, t.local) + ('1 ' || $4)::interval)::date, $7::date,"
		"                  t.local::date - $8::int, 'infinity'::date) AS hi"
		"    FROM aiplat.organizations o"
		"   CROSS JOIN LATERAL (SELECT (SELECT aiplat.clock()) AT TIME ZONE o.time_zone AS local) t"
		"   WHERE $1::uuid IS NULL OR o.id = $1::uuid),"
		" a AS (SELECT ");
	for (int i = 0; i < n; i++)
		rc |= aiplat_buf_printf(sql, "%s AS k%d, ", dim_group[dims[i]], i);
	rc |= aiplat_buf_printf(sql,
		"sum(d.tokens_in) AS tin, sum(d.tokens_out) AS tout, sum(d.requests) AS req,"
		" sum(d.cost_micro_usd) AS cost"
		" FROM w JOIN aiplat.%s d"
		"   ON d.organization_id = w.id AND d.day >= w.lo AND d.day < w.hi"
		" WHERE ($3::bigint IS NULL OR d.model_id = $3::bigint)",
		per_person ? "usage_daily" : "usage_daily_models");
	if (per_person)
		rc |= aiplat_buf_puts(sql, " AND ($2::uuid IS NULL OR d.user_id = $2::uuid)");
	else
		rc |= aiplat_buf_puts(sql, " AND $2::uuid IS NULL");
	rc |= aiplat_buf_puts(sql, " GROUP BY ");
	for (int i = 0; i < n; i++)
		rc |= aiplat_buf_printf(sql, "%s%d", i ? ", " : "", i + 1);
	rc |= aiplat_buf_puts(sql, ") SELECT ");
	for (int i = 0; i < n; i++) {
		rc |= aiplat_buf_printf(sql, dim_label[dims[i]], i);
		rc |= aiplat_buf_puts(sql, ", ");
	}
	rc |= aiplat_buf_puts(sql,
		"a.tin AS tokens_in, a.tout AS tokens_out, a.tin + a.tout AS tokens, a.req AS requests,"
		" round(a.cost / 1e6, 6) AS cost_usd FROM a");
	for (int i = 0; i < n; i++)
		rc |= aiplat_buf_printf(sql, dim_join[dims[i]], i);
	rc |= aiplat_buf_puts(sql, " ORDER BY ");
	if (o->top > 0)
		rc |= aiplat_buf_puts(sql, "a.tin + a.tout DESC, ");
	for (int i = 0; i < n; i++)
		rc |= aiplat_buf_printf(sql, "%d%s", i + 1, i + 1 < n ? ", " : "");
	rc |= aiplat_buf_puts(sql, " LIMIT nullif($9::bigint, 0)");   /* NULL: all */
	return !rc ? 0 : aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
}

int aiplat_usage_report(aiplat_db *db, const aiplat_report_opts *o, aiplat_table **out)
{
	enum dim dims[DIM_COUNT];
	int ndims, rc;
	if ((rc = parse_dims(o->by, dims, &ndims)) != 0)
		return rc;
	if (o->period && (o->since || o->until)) {
		aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT,
		                 "period and a since/until range both given");
		aiplat_error_hint("the period is the current day, week or month; pick one way");
		return aiplat_error_set_field("period", NULL);
	}
	const char *period = NULL;
	if (o->period) {
		static const char *const periods[][2] = { { "day", "day" }, { "daily", "day" },
		                                          { "week", "week" }, { "weekly", "week" },
		                                          { "month", "month" }, { "monthly", "month" } };
		for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]); i++)
			if (!strcmp(o->period, periods[i][0]))
				period = periods[i][1];
		if (!period)
			return aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT,
			                        "unknown period \"%s\" (day, week or month)", o->period);
	}
	char since[16] = "", since_ago[16] = "", until[16] = "", until_ago[16] = "";
	if (o->since && (rc = parse_bound(o->since, "since", since, since_ago)) != 0)
		return rc;
	if (o->until && (rc = parse_bound(o->until, "until", until, until_ago)) != 0)
		return rc;
	if (o->top < 0)
	{
		aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT, "top must be positive");
		return aiplat_error_set_field("top", NULL);
	}

	if ((rc = aiplat_db_begin(db)) != 0)
		return rc;
	char org[40], user[40], model[32] = "";
	rc = scope(db, o, org, user);
	if (!rc && o->model) {
		char *id = NULL;
		const char *params[1] = { o->model };
		rc = aiplat_db_query_value(db, &id, "SELECT aiplat.find_model_id($1)", 1, params);
		if (!rc && !id)
			rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "no model \"%s\"", o->model);
		if (id)
			snprintf(model, sizeof(model), "%s", id);
		free(id);
	}
	bool per_person = user[0] != '\0';
	for (int i = 0; i < ndims; i++)
		per_person = per_person || dims[i] == DIM_USER;
	aiplat_buf sql = AIPLAT_BUF_INIT;
	if (!rc)
		rc = build_sql(&sql, o, dims, ndims, per_person);
	if (!rc) {
		char top[32];
		snprintf(top, sizeof(top), "%ld", o->top);
#define OR_NULL(s) ((s)[0] ? (s) : NULL)
		const char *params[9] = { OR_NULL(org), OR_NULL(user), OR_NULL(model), period,
		                          OR_NULL(since), OR_NULL(since_ago), OR_NULL(until),
		                          OR_NULL(until_ago), top };
#undef OR_NULL
		rc = aiplat_db_query_table(db, out, sql.ptr, 9, params);
	}
	aiplat_buf_dispose(&sql);
	aiplat_db_rollback(db);   /* read only */
	return rc;
}
