/*
 * `aiplat usage import` through the binary: JSON lines and CSV load what the
 * file says (events, daily rollups, per-period counters, the organisation's
 * monthly counter), a bad line writes nothing and is named, --skip-invalid
 * loads the rest, importing twice adds nothing, events recorded live are
 * recognised, a killed import leaves nothing behind, stdin works, --as is
 * refused and --org fills in a missing organisation.
 *
 * Every expectation is computed here from the events as written into the
 * file (local days worked out by hand for each organisation's time zone),
 * never read back from the program's own output.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "runproc.h"
#include "testdb.h"

/* The test clock: every run of the binary sees this instant as "now". */
#define TEST_NOW "2026-03-31T12:00:00Z"
#define CURRENT_MONTH "2026-03"   /* the local month of TEST_NOW in every demo time zone */

static testdb db;
static PGconn *owner;
static char *tmp;
static const char *const clock_env[] = { "PGOPTIONS=-c aiplat.test_now=" TEST_NOW, "AIPLAT_AS=",
                                         "AIPLAT_ORG=", NULL };

/* ---- fixtures ------------------------------------------------------------------------ */

static int setup(void **state)
{
	(void)state;
	testdb_create(&db, true);
	testdb_seed(&db, true);
	owner = testdb_connect(&db);
	testdb_exec(owner, "INSERT INTO aiplat.settings (key, value) VALUES ('test_clock', 'on')");
	/* Each organisation's monthly counter runs for the month of the test clock. */
	testdb_exec(owner, "UPDATE aiplat.org_usage u SET tokens_used = 0,"
	                   " resets_at = aiplat.period_end('monthly', o.time_zone, '" TEST_NOW "')"
	                   " FROM aiplat.organizations o WHERE o.id = u.organization_id");
	/* Per-user counters of every period length: one model counts per day, one per ISO week. */
	testdb_exec(owner, "UPDATE aiplat.ai_models_system SET token_limit_period = 'daily'"
	                   " WHERE name = 'Property Listing Writer'");
	testdb_exec(owner, "UPDATE aiplat.ai_models_system SET token_limit_period = 'weekly'"
	                   " WHERE name = 'Education Tutor (Trial)'");
	assert_int_equal(testdb_long(owner, "SELECT count(*) FROM aiplat.usage_events", 0, NULL), 0);
	tmp = make_temp_dir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	PQfinish(owner);
	owner = NULL;
	testdb_drop(&db);
	rm_rf(tmp);
	free(tmp);
	tmp = NULL;
	return 0;
}

/* Runs aiplat --db URL ARGS... with the test clock, `input` on stdin. */
static void run_in(run_result *r, const char *input, const char *const *args)
{
	run_aiplat_db(r, db.url, input, clock_env, args);
}

#define RUN(r, ...) run_in((r), NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_IN(r, input, ...) run_in((r), (input), (const char *const[]){ __VA_ARGS__, NULL })

static long count(const char *sql)
{
	return testdb_long(owner, sql, 0, NULL);
}

static char *path_of(const char *name)
{
	char *p = malloc(strlen(tmp) + strlen(name) + 2);
	assert_non_null(p);
	sprintf(p, "%s/%s", tmp, name);
	return p;
}

/* Everything an import may change, as one comparable string. */
static char *snapshot(void)
{
	return testdb_value(owner,
		"SELECT concat_ws(' | ',"
		" (SELECT concat_ws(',', count(*), sum(tokens_in), sum(tokens_out), sum(cost_micro_usd))"
		"    FROM aiplat.usage_events),"
		" (SELECT concat_ws(',', count(*), sum(tokens_in), sum(tokens_out), sum(requests),"
		"                   sum(cost_micro_usd)) FROM aiplat.usage_daily),"
		" (SELECT concat_ws(',', count(*), sum(tokens_in), sum(tokens_out), sum(requests),"
		"                   sum(cost_micro_usd)) FROM aiplat.usage_daily_models),"
		" (SELECT concat_ws(',', count(*), sum(tokens_used), sum(requests_count))"
		"    FROM aiplat.ai_model_usage),"
		" (SELECT string_agg(o.slug || '=' || u.tokens_used, ',' ORDER BY o.slug)"
		"    FROM aiplat.organizations o JOIN aiplat.org_usage u ON u.organization_id = o.id),"
		" (SELECT count(*) FROM aiplat.usage_event_ids))", 0, NULL);
}

static void expect_unchanged(const char *before, const char *what)
{
	char *after = snapshot();
	if (strcmp(before, after) != 0) {
		char msg[2048];
		snprintf(msg, sizeof(msg), "%s changed the database:\nbefore: %s\nafter:  %s", what, before,
		         after);
		free(after);
		fail_msg("%s", msg);
	}
	free(after);
}

/* The import summary (--format json). */
static json_int_t summary_field(const run_result *r, const char *field)
{
	json_error_t err;
	json_t *o = json_loads(r->out, 0, &err);
	if (!json_is_object(o))
		fail_msg("the summary is not a JSON object: %s\n%s", err.text, r->out);
	json_t *v = json_object_get(o, field);
	if (!json_is_integer(v)) {
		json_decref(o);
		fail_msg("summary has no integer %s:\n%s", field, r->out);
	}
	json_int_t n = json_integer_value(v);
	json_decref(o);
	return n;
}

static void expect_in(const char *haystack, const char *needle, const char *what)
{
	if (!strstr(haystack, needle))
		fail_msg("%s: \"%s\" not found in:\n%s", what, needle, haystack);
}

static void expect_not_in(const char *haystack, const char *needle, const char *what)
{
	if (strstr(haystack, needle))
		fail_msg("%s: \"%s\" unexpectedly found in:\n%s", what, needle, haystack);
}

/* The rollups agree with a GROUP BY over the raw events (local days by time zone). */
static void expect_rollups_match_events(void)
{
	assert_int_equal(count(
		"WITH e AS (SELECT e.organization_id, (e.occurred_at AT TIME ZONE o.time_zone)::date AS day,"
		"                  e.model_id, e.user_id, e.tokens_in, e.tokens_out, e.cost_micro_usd"
		"             FROM aiplat.usage_events e JOIN aiplat.organizations o ON o.id = e.organization_id),"
		" x AS (SELECT organization_id, day, model_id, user_id, sum(tokens_in) AS tin,"
		"              sum(tokens_out) AS tout, count(*) AS req, sum(cost_micro_usd) AS cost"
		"         FROM e GROUP BY 1, 2, 3, 4),"
		" d AS (SELECT organization_id, day, model_id, user_id, tokens_in::numeric AS tin,"
		"              tokens_out::numeric AS tout, requests AS req, cost_micro_usd::numeric AS cost"
		"         FROM aiplat.usage_daily)"
		" SELECT count(*) FROM ((SELECT * FROM x EXCEPT SELECT * FROM d)"
		"                       UNION ALL (SELECT * FROM d EXCEPT SELECT * FROM x)) diff"), 0);
	assert_int_equal(count(
		"WITH x AS (SELECT organization_id, day, model_id, sum(tokens_in) AS tin, sum(tokens_out) AS tout,"
		"                  sum(requests) AS req, sum(cost_micro_usd) AS cost"
		"             FROM aiplat.usage_daily GROUP BY 1, 2, 3),"
		" d AS (SELECT organization_id, day, model_id, tokens_in::numeric, tokens_out::numeric,"
		"              requests::numeric, cost_micro_usd::numeric FROM aiplat.usage_daily_models)"
		" SELECT count(*) FROM ((SELECT * FROM x EXCEPT SELECT * FROM d)"
		"                       UNION ALL (SELECT * FROM d EXCEPT SELECT * FROM x)) diff"), 0);
}

/* ---- the events of the files ---------------------------------------------------------- */

typedef struct ev {
	const char *id;
	const char *at;          /* as written in the file */
	const char *org;         /* NULL: left out of the line */
	const char *user;
	const char *model;       /* as written; the catalogue name is `model_name` */
	long tin, tout;          /* tout < 0: left out (means 0) */
	int latency;             /* < 0: left out */
	const char *request;     /* NULL: left out */
	const char *day;         /* the local day in the organisation's time zone, by hand */
	const char *org_slug;    /* where it belongs (org, or the --org default) */
	const char *model_name;
} ev;

typedef struct model_info {
	const char *name;
	long price_in, price_out;   /* USD per 1M tokens, in cents */
	const char *period;
	bool is_free;
} model_info;

static const model_info models[] = {
	{ "Blog Content Writer Pro", 15, 60, "monthly", false },
	{ "Legal Document Analyst", 300, 1500, "monthly", false },
	{ "Healthcare Information Assistant", 15, 60, "monthly", false },
	{ "Property Listing Writer", 30, 90, "daily", false },     /* set in setup */
	{ "Basic Assistant", 15, 60, "monthly", true },
	{ "Education Tutor (Trial)", 80, 400, "weekly", false },   /* set in setup */
};

static const model_info *model_of(const char *name)
{
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (!strcmp(models[i].name, name))
			return &models[i];
	fail_msg("no model %s in the test's table", name);
	return NULL;
}

/* Millionths of a dollar: tokens x (USD per 1M tokens), rounded half up. */
static long cost_of(const ev *e)
{
	const model_info *m = model_of(e->model_name);
	long tout = e->tout < 0 ? 0 : e->tout;
	return (e->tin * m->price_in + tout * m->price_out + 50) / 100;
}

#define LEGAL "Legal Document Analyst"
#define BLOG "Blog Content Writer Pro"
#define PROPERTY "Property Listing Writer"
#define BASIC "Basic Assistant"
#define TUTOR "Education Tutor (Trial)"

/*
 * Organisations' zones: acme-legal Europe/London (GMT, BST from 2026-03-29
 * 01:00Z), brightpath America/New_York (EST, EDT from 2026-03-08 07:00Z),
 * harbor-realty America/Los_Angeles (PST, PDT from 2026-03-08 10:00Z),
 * northside-clinic and pixel-forge UTC, little-learners Asia/Tokyo (+9).
 */
static const ev dataset[] = {
	{ "6a1e0001-0000-4000-8000-000000000001", "2026-03-10T09:00:00Z", "acme-legal", "aaron@acme-legal.test",
	  LEGAL, 1000, 200, 350, "req-1", "2026-03-10", "acme-legal", LEGAL },
	{ "6a1e0001-0000-4000-8000-000000000002", "2026-03-10T23:30:00Z", "acme-legal", "alice@acme-legal.test",
	  LEGAL, 500, 50, 120, NULL, "2026-03-10", "acme-legal", LEGAL },
	{ "6a1e0001-0000-4000-8000-000000000003", "2026-03-12T10:00:00Z", "acme-legal", "aaron@acme-legal.test",
	  BASIC, 300, 30, -1, NULL, "2026-03-12", "acme-legal", BASIC },
	/* After the clocks went forward: 00:30 BST on the 30th. */
	{ "6a1e0001-0000-4000-8000-000000000004", "2026-03-29T23:30:00Z", "acme-legal", "aaron@acme-legal.test",
	  LEGAL, 700, 70, 99, "req \"quoted\", \xc3\xbc", "2026-03-30", "acme-legal", LEGAL },
	/* The previous month. */
	{ "6a1e0001-0000-4000-8000-000000000005", "2026-02-28T23:59:00Z", "acme-legal", "ava@acme-legal.test",
	  LEGAL, 400, -1, -1, NULL, "2026-02-28", "acme-legal", LEGAL },
	/* 22:00 EST on 28 February, though 1 March in UTC. */
	{ "6a1e0001-0000-4000-8000-000000000006", "2026-03-01T03:00:00Z", "brightpath", "ben@brightpath.test",
	  BLOG, 2000, 500, 800, "r6", "2026-02-28", "brightpath", BLOG },
	{ "6a1e0001-0000-4000-8000-000000000007", "2026-03-01T05:30:00Z", "brightpath", "bella@brightpath.test",
	  BLOG, 100, 100, 10, NULL, "2026-03-01", "brightpath", BLOG },
	/* 23:30 EDT on Sunday 8 March (Monday in UTC); the cost rounds 13.5 up. */
	{ "6a1e0001-0000-4000-8000-000000000008", "2026-03-09T03:30:00-00:00", "brightpath", "ben@brightpath.test",
	  BLOG, 10, 20, -1, NULL, "2026-03-08", "brightpath", BLOG },
	/* A daily model around Los Angeles midnight (PDT). */
	{ "6a1e0001-0000-4000-8000-000000000009", "2026-03-20T06:59:00Z", "harbor-realty", "hugo@harbor-realty.test",
	  PROPERTY, 123, 45, 1, NULL, "2026-03-19", "harbor-realty", PROPERTY },
	{ "6a1e0001-0000-4000-8000-000000000010", "2026-03-20T07:01:00Z", "harbor-realty", "hugo@harbor-realty.test",
	  PROPERTY, 77, 0, 2, NULL, "2026-03-20", "harbor-realty", PROPERTY },
	{ "6a1e0001-0000-4000-8000-000000000011", "2026-03-20T01:00:00-07:00", "harbor-realty", "hana@harbor-realty.test",
	  PROPERTY, 1, 1, 3, NULL, "2026-03-20", "harbor-realty", PROPERTY },
	{ "6a1e0001-0000-4000-8000-000000000012", "2026-03-05T00:00:00Z", "northside-clinic", "noah@northside-clinic.test",
	  "basic assistant", 50, 5, -1, NULL, "2026-03-05", "northside-clinic", BASIC },
	/* A weekly model around Tokyo midnight: Monday 16 March 00:30 local. */
	{ "6a1e0001-0000-4000-8000-000000000013", "2026-03-15T15:30:00Z", "little-learners", "leo@little-learners.test",
	  TUTOR, 600, 60, -1, NULL, "2026-03-16", "little-learners", TUTOR },
	/* Sunday 15 March 23:30 in Tokyo: the week before. */
	{ "6a1e0001-0000-4000-8000-000000000014", "2026-03-15T14:30:00Z", "little-learners", "leo@little-learners.test",
	  TUTOR, 40, 4, -1, NULL, "2026-03-15", "little-learners", TUTOR },
	/* 1 March in Tokyo, 28 February in UTC: this month's. */
	{ "6a1e0001-0000-4000-8000-000000000015", "2026-02-28T15:00:00Z", "little-learners", "lily@little-learners.test",
	  TUTOR, 9, 1, -1, NULL, "2026-03-01", "little-learners", TUTOR },
	{ "6a1e0001-0000-4000-8000-000000000016", "2026-03-31T11:59:59Z", "pixel-forge", "pete@pixel-forge.test",
	  BASIC, 5, 5, 7, NULL, "2026-03-31", "pixel-forge", BASIC },
	/* Long ago (January: no partition yet). */
	{ "6a1e0001-0000-4000-8000-000000000017", "2026-01-15T12:00:00Z", "acme-legal", "aaron@acme-legal.test",
	  LEGAL, 1, 2, -1, NULL, "2026-01-15", "acme-legal", LEGAL },
	/* Same person, model and day as the first: one rollup row, two requests. */
	{ "6a1e0001-0000-4000-8000-000000000018", "2026-03-10T20:00:00Z", "acme-legal", "aaron@acme-legal.test",
	  LEGAL, 11, 22, -1, NULL, "2026-03-10", "acme-legal", LEGAL },
};
#define NDATASET (sizeof(dataset) / sizeof(dataset[0]))

/* JSON for one event (a line without its newline), malloc'd. */
static char *json_line(const ev *e)
{
	json_t *o = json_object();
	json_object_set_new(o, "event_id", json_string(e->id));
	json_object_set_new(o, "occurred_at", json_string(e->at));
	if (e->org)
		json_object_set_new(o, "org", json_string(e->org));
	json_object_set_new(o, "user", json_string(e->user));
	json_object_set_new(o, "model", json_string(e->model));
	json_object_set_new(o, "tokens_in", json_integer(e->tin));
	if (e->tout >= 0)
		json_object_set_new(o, "tokens_out", json_integer(e->tout));
	if (e->latency >= 0)
		json_object_set_new(o, "latency_ms", json_integer(e->latency));
	if (e->request)
		json_object_set_new(o, "request_id", json_string(e->request));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	assert_non_null(s);
	return s;
}

/* One CSV field (RFC 4180 quoting when needed) appended to f. */
static void csv_field(FILE *f, const char *s, bool last)
{
	if (s && strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else if (s) {
		fputs(s, f);
	}
	fputs(last ? "\n" : ",", f);
}

static const char *csv_header = "event_id,occurred_at,org,user,model,tokens_in,tokens_out,latency_ms,request_id\n";

static void csv_line(FILE *f, const ev *e)
{
	char tin[32], tout[32], lat[32];
	snprintf(tin, sizeof(tin), "%ld", e->tin);
	snprintf(tout, sizeof(tout), "%ld", e->tout);
	snprintf(lat, sizeof(lat), "%d", e->latency);
	csv_field(f, e->id, false);
	csv_field(f, e->at, false);
	csv_field(f, e->org, false);
	csv_field(f, e->user, false);
	csv_field(f, e->model, false);
	csv_field(f, tin, false);
	csv_field(f, e->tout >= 0 ? tout : NULL, false);
	csv_field(f, e->latency >= 0 ? lat : NULL, false);
	csv_field(f, e->request, true);
}

/* The events as JSON lines (malloc'd text). */
static char *jsonl_text(const ev *events, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	for (size_t i = 0; i < n; i++) {
		char *line = json_line(&events[i]);
		fprintf(f, "%s\n", line);
		free(line);
	}
	fclose(f);
	return buf;
}

static char *csv_text(const ev *events, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	fputs(csv_header, f);
	for (size_t i = 0; i < n; i++)
		csv_line(f, &events[i]);
	fclose(f);
	return buf;
}

static char *write_events(const char *name, const ev *events, size_t n, bool csv)
{
	char *path = path_of(name);
	char *text = csv ? csv_text(events, n) : jsonl_text(events, n);
	write_file(path, text);
	free(text);
	return path;
}

/* ---- dates ---------------------------------------------------------------------------- */

static long day_number(const char *ymd)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	assert_int_equal(sscanf(ymd, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday), 3);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long)(timegm(&tm) / 86400);
}

static void day_text(char out[16], long day)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

/* The local dates a period containing `day` starts and ends (exclusive) on. */
static void period_of(const char *period, const char *day, char start[16], char end[16])
{
	long d = day_number(day);
	if (!strcmp(period, "daily")) {
		day_text(start, d);
		day_text(end, d + 1);
	} else if (!strcmp(period, "weekly")) {
		long monday = d - ((d + 3) % 7);   /* 1970-01-01 was a Thursday */
		day_text(start, monday);
		day_text(end, monday + 7);
	} else {
		int y, m;
		assert_int_equal(sscanf(day, "%4d-%2d", &y, &m), 2);
		snprintf(start, 16, "%04d-%02d-01", y, m);
		snprintf(end, 16, "%04d-%02d-01", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
	}
}

/* ---- checking what an import wrote ---------------------------------------------------- */

/* Sums by a text key. */
typedef struct agg {
	char key[256];
	long tin, tout, req, cost, tokens;
} agg;

static agg *agg_find(agg *a, size_t *n, const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(a[i].key, key))
			return &a[i];
	memset(&a[*n], 0, sizeof(agg));
	snprintf(a[*n].key, sizeof(a[*n].key), "%s", key);
	return &a[(*n)++];
}

/* Compares `expected` with the rows of `sql` (key text, then numbers). */
static void expect_rows(const char *what, const char *sql, const agg *expected, size_t n, int nnums)
{
	PGresult *res = PQexec(owner, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", what, PQerrorMessage(owner));
	char msg[1024] = "";
	if ((size_t)PQntuples(res) != n)
		snprintf(msg, sizeof(msg), "%s: %d rows, expected %zu", what, PQntuples(res), n);
	for (int r = 0; r < PQntuples(res) && !msg[0]; r++) {
		const char *key = PQgetvalue(res, r, 0);
		const agg *e = NULL;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(expected[i].key, key))
				e = &expected[i];
		if (!e) {
			snprintf(msg, sizeof(msg), "%s: unexpected row %s", what, key);
			break;
		}
		long want[5] = { e->tin, e->tout, e->req, e->cost, e->tokens };
		for (int c = 0; c < nnums; c++) {
			long got = atol(PQgetvalue(res, r, c + 1));
			if (got != want[c])
				snprintf(msg, sizeof(msg), "%s: %s column %d is %ld, expected %ld", what, key, c + 1,
				         got, want[c]);
		}
	}
	PQclear(res);
	if (msg[0])
		fail_msg("%s", msg);
}

/* The database holds exactly `events` (and what follows from them), nothing else. */
static void expect_imported(const ev *events, size_t n)
{
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"), (long)n);
	/* Each event as written. */
	for (size_t i = 0; i < n; i++) {
		const ev *e = &events[i];
		const char *p[2] = { e->id, e->at };
		PGresult *res = PQexecParams(owner,
			"SELECT o.slug, e.occurred_at = $2::timestamptz, u.email, m.name, e.tokens_in,"
			"       e.tokens_out, coalesce(e.latency_ms, -1), e.request_id, e.request_id IS NULL,"
			"       e.cost_micro_usd, e.source"
			"  FROM aiplat.usage_events e"
			"  JOIN aiplat.organizations o ON o.id = e.organization_id"
			"  JOIN aiplat.users u ON u.id = e.user_id"
			"  JOIN aiplat.ai_models_system m ON m.id = e.model_id"
			" WHERE e.event_id = $1::uuid", 2, NULL, p, NULL, NULL, 0);
		assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
		if (PQntuples(res) != 1) {
			PQclear(res);
			fail_msg("event %s: %d rows", e->id, PQntuples(res));
		}
		char got[1024], want[1024];
		snprintf(got, sizeof(got), "%s %s %s %s %s %s %s [%s] %s %s %s", PQgetvalue(res, 0, 0),
		         PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
		         PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 6),
		         PQgetvalue(res, 0, 7), PQgetvalue(res, 0, 8), PQgetvalue(res, 0, 9),
		         PQgetvalue(res, 0, 10));
		snprintf(want, sizeof(want), "%s t %s %s %ld %ld %d [%s] %s %ld import", e->org_slug, e->user,
		         e->model_name, e->tin, e->tout < 0 ? 0 : e->tout, e->latency,
		         e->request ? e->request : "", e->request ? "f" : "t", cost_of(e));
		PQclear(res);
		if (strcmp(got, want) != 0)
			fail_msg("event %s:\n got  %s\n want %s", e->id, got, want);
	}

	/* Daily rollups, by local day. */
	agg *daily = calloc(n + 1, sizeof(agg)), *by_model = calloc(n + 1, sizeof(agg)),
	    *counters = calloc(n + 1, sizeof(agg)), *orgs = calloc(n + 16, sizeof(agg));
	assert_true(daily && by_model && counters && orgs);
	size_t nd = 0, nm = 0, nc = 0, no = 0;
	for (size_t i = 0; i < n; i++) {
		const ev *e = &events[i];
		const model_info *m = model_of(e->model_name);
		long tout = e->tout < 0 ? 0 : e->tout, cost = cost_of(e);
		char key[256];
		snprintf(key, sizeof(key), "%s|%s|%s|%s", e->org_slug, e->day, e->model_name, e->user);
		agg *a = agg_find(daily, &nd, key);
		a->tin += e->tin, a->tout += tout, a->req++, a->cost += cost;
		snprintf(key, sizeof(key), "%s|%s|%s", e->org_slug, e->day, e->model_name);
		a = agg_find(by_model, &nm, key);
		a->tin += e->tin, a->tout += tout, a->req++, a->cost += cost;
		char start[16], end[16];
		period_of(m->period, e->day, start, end);
		snprintf(key, sizeof(key), "%s|%s|%s|%s|%s|%s", e->org_slug, e->user, e->model_name, m->period,
		         start, end);
		a = agg_find(counters, &nc, key);
		a->tin += e->tin + tout;   /* tokens_used */
		a->tout++;                 /* requests_count */
		a = agg_find(orgs, &no, e->org_slug);
		if (!m->is_free && !strncmp(e->day, CURRENT_MONTH, 7))
			a->tin += e->tin + tout;
	}
	expect_rows("usage_daily",
		"SELECT o.slug || '|' || d.day || '|' || m.name || '|' || u.email,"
		"       d.tokens_in, d.tokens_out, d.requests, d.cost_micro_usd"
		"  FROM aiplat.usage_daily d JOIN aiplat.organizations o ON o.id = d.organization_id"
		"  JOIN aiplat.ai_models_system m ON m.id = d.model_id JOIN aiplat.users u ON u.id = d.user_id",
		daily, nd, 4);
	expect_rows("usage_daily_models",
		"SELECT o.slug || '|' || d.day || '|' || m.name, d.tokens_in, d.tokens_out, d.requests,"
		"       d.cost_micro_usd"
		"  FROM aiplat.usage_daily_models d JOIN aiplat.organizations o ON o.id = d.organization_id"
		"  JOIN aiplat.ai_models_system m ON m.id = d.model_id",
		by_model, nm, 4);
	/* Counters keyed by local midnights: the period's first and next local day. */
	expect_rows("ai_model_usage",
		"SELECT o.slug || '|' || u.email || '|' || c.model_name || '|' || c.period_type || '|'"
		"       || (c.period_start AT TIME ZONE o.time_zone)::date || '|'"
		"       || (c.period_end AT TIME ZONE o.time_zone)::date,"
		"       c.tokens_used, c.requests_count"
		"  FROM aiplat.ai_model_usage c JOIN aiplat.organizations o ON o.id = c.organization_id"
		"  JOIN aiplat.users u ON u.id = c.user_id",
		counters, nc, 2);
	assert_int_equal(count("SELECT count(*) FROM aiplat.ai_model_usage c"
	                       "  JOIN aiplat.organizations o ON o.id = c.organization_id"
	                       " WHERE (c.period_start AT TIME ZONE o.time_zone)::time <> '00:00'"
	                       "    OR (c.period_end AT TIME ZONE o.time_zone)::time <> '00:00'"), 0);
	/* The organisations' monthly counters: this month's events of models that are not free. */
	PGresult *res = PQexec(owner, "SELECT o.slug, u.tokens_used FROM aiplat.organizations o"
	                               " JOIN aiplat.org_usage u ON u.organization_id = o.id ORDER BY o.slug");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	char msg[512] = "";
	assert_true(PQntuples(res) <= 15);
	for (int r = 0; r < PQntuples(res); r++) {
		const agg *a = agg_find(orgs, &no, PQgetvalue(res, r, 0));   /* zero when it has none */
		if (atol(PQgetvalue(res, r, 1)) != a->tin)
			snprintf(msg, sizeof(msg), "%s: tokens used %s, expected %ld", PQgetvalue(res, r, 0),
			         PQgetvalue(res, r, 1), a->tin);
	}
	PQclear(res);
	free(daily);
	free(by_model);
	free(counters);
	free(orgs);
	if (msg[0])
		fail_msg("%s", msg);
	expect_rollups_match_events();
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_jsonl_file(void **state)
{
	(void)state;
	char *path = write_events("usage.jsonl", dataset, NDATASET, false);
	run_result r;
	RUN(&r, "--format", "json", "usage", "import", path);
	expect_exit(&r, 0, "import JSON lines");
	assert_int_equal(summary_field(&r, "lines"), NDATASET);
	assert_int_equal(summary_field(&r, "imported"), NDATASET);
	assert_int_equal(summary_field(&r, "duplicates"), 0);
	assert_int_equal(summary_field(&r, "invalid"), 0);
	run_result_free(&r);
	expect_imported(dataset, NDATASET);
	/* The hand-computed monthly counters, spelled out. */
	assert_int_equal(count(ORG_TOKENS_SQL("acme-legal")),
	                 1200 + 550 + 770 + 33);
	assert_int_equal(count(ORG_TOKENS_SQL("brightpath")),
	                 200 + 30);
	assert_int_equal(count(ORG_TOKENS_SQL("little-learners")),
	                 660 + 44 + 10);
	assert_int_equal(count("SELECT max(u.tokens_used) FROM aiplat.org_usage u"
	                       " JOIN aiplat.organizations o ON o.id = u.organization_id"
	                       " WHERE o.slug IN ('northside-clinic', 'pixel-forge')"), 0);
	free(path);
}

static void test_csv_file(void **state)
{
	(void)state;
	char *path = write_events("usage.csv", dataset, NDATASET, true);
	run_result r;
	RUN(&r, "--format", "json", "usage", "import", path);
	expect_exit(&r, 0, "import CSV");
	assert_int_equal(summary_field(&r, "lines"), NDATASET);
	assert_int_equal(summary_field(&r, "imported"), NDATASET);
	run_result_free(&r);
	expect_imported(dataset, NDATASET);
	free(path);
}

/* One bad line among valid ones: nothing written, exit 5, the line named. */
typedef struct bad_case {
	const char *what;
	const char *line;        /* the bad line (JSON lines or CSV record) */
	const char *message;     /* part of the error expected for it */
} bad_case;

static void expect_rejected(const char *name, const char *text, int bad_line, const char *message,
                            const char *what, const char *batch)
{
	char *path = path_of(name);
	write_file(path, text);
	char *before = snapshot();
	run_result r;
	if (batch)
		RUN(&r, "usage", "import", "--batch-size", batch, path);
	else
		RUN(&r, "usage", "import", path);
	expect_exit(&r, 5, what);
	char where[512];
	snprintf(where, sizeof(where), "%s:%d: ", path, bad_line);
	expect_in(r.err, where, what);
	if (message)
		expect_in(strstr(r.err, where), message, what);
	/* Only the bad line is named. */
	for (int l = 1; l <= 6; l++) {
		if (l == bad_line)
			continue;
		snprintf(where, sizeof(where), "%s:%d:", path, l);
		expect_not_in(r.err, where, what);
	}
	expect_in(r.err, "nothing was imported", what);
	run_result_free(&r);
	expect_unchanged(before, what);
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"), 0);
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_daily"), 0);
	assert_int_equal(count("SELECT count(*) FROM aiplat.ai_model_usage"), 0);
	free(before);
	free(path);
}

static void test_one_bad_line_writes_nothing(void **state)
{
	(void)state;
	/* Valid lines around the bad one. */
	char *good[4];
	for (int i = 0; i < 4; i++)
		good[i] = json_line(&dataset[i]);
	static const bad_case cases[] = {
		{ "a bad UUID",
		  "{\"event_id\":\"6a1e0001-0000-4000-8000-00000000zzzz\",\"occurred_at\":\"2026-03-10T09:00:00Z\","
		  "\"org\":\"acme-legal\",\"user\":\"aaron@acme-legal.test\",\"model\":\"Basic Assistant\",\"tokens_in\":1}",
		  "event_id" },
		{ "a missing field",
		  "{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000b1\",\"occurred_at\":\"2026-03-10T09:00:00Z\","
		  "\"org\":\"acme-legal\",\"model\":\"Basic Assistant\",\"tokens_in\":1}",
		  "user" },
		{ "an unknown user",
		  "{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000b2\",\"occurred_at\":\"2026-03-10T09:00:00Z\","
		  "\"org\":\"acme-legal\",\"user\":\"nobody@nowhere.test\",\"model\":\"Basic Assistant\",\"tokens_in\":1}",
		  "nobody@nowhere.test" },
		{ "a person outside the organisation",
		  "{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000b3\",\"occurred_at\":\"2026-03-10T09:00:00Z\","
		  "\"org\":\"acme-legal\",\"user\":\"ben@brightpath.test\",\"model\":\"Basic Assistant\",\"tokens_in\":1}",
		  "member" },
		{ "a line that is not JSON", "event 6a1e0001 used 12 tokens", "JSON" },
		{ "a truncated JSON object",
		  "{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000b4\",\"occurred_at\":", "JSON" },
		{ "negative tokens",
		  "{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000b5\",\"occurred_at\":\"2026-03-10T09:00:00Z\","
		  "\"org\":\"acme-legal\",\"user\":\"aaron@acme-legal.test\",\"model\":\"Basic Assistant\",\"tokens_in\":-5}",
		  "tokens_in" },
		{ "negative output tokens as text",
		  "{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000b6\",\"occurred_at\":\"2026-03-10T09:00:00Z\","
		  "\"org\":\"acme-legal\",\"user\":\"aaron@acme-legal.test\",\"model\":\"Basic Assistant\","
		  "\"tokens_in\":5,\"tokens_out\":\"-1\"}",
		  "tokens_out" },
		{ "an unknown organisation",
		  "{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000b7\",\"occurred_at\":\"2026-03-10T09:00:00Z\","
		  "\"org\":\"no-such-org\",\"user\":\"aaron@acme-legal.test\",\"model\":\"Basic Assistant\",\"tokens_in\":1}",
		  "no-such-org" },
		{ "an unknown model",
		  "{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000b8\",\"occurred_at\":\"2026-03-10T09:00:00Z\","
		  "\"org\":\"acme-legal\",\"user\":\"aaron@acme-legal.test\",\"model\":\"No Such Model\",\"tokens_in\":1}",
		  "No Such Model" },
		{ "a time without a zone",
		  "{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000b9\",\"occurred_at\":\"2026-03-10 09:00:00\","
		  "\"org\":\"acme-legal\",\"user\":\"aaron@acme-legal.test\",\"model\":\"Basic Assistant\",\"tokens_in\":1}",
		  "occurred_at" },
		{ "no token count at all",
		  "{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000ba\",\"occurred_at\":\"2026-03-10T09:00:00Z\","
		  "\"org\":\"acme-legal\",\"user\":\"aaron@acme-legal.test\",\"model\":\"Basic Assistant\"}",
		  "no token count" },
		{ "a model not for the organisation's type",
		  "{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000bb\",\"occurred_at\":\"2026-03-10T09:00:00Z\","
		  "\"org\":\"acme-legal\",\"user\":\"aaron@acme-legal.test\",\"model\":\"Blog Content Writer Pro\","
		  "\"tokens_in\":1}",
		  "not for organizations of acme-legal's type" },
		{ "an enterprise model in a free organisation",
		  "{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000bc\",\"occurred_at\":\"2026-03-10T09:00:00Z\","
		  "\"org\":\"pixel-forge\",\"user\":\"pete@pixel-forge.test\",\"model\":\"Blog Content Writer Pro\","
		  "\"tokens_in\":1}",
		  "needs a higher plan than pixel-forge's" },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (int pos = 0; pos < 3; pos += 2) {   /* the bad line second, or fourth (a later batch) */
			char *text = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&text, &len);
			int bad_line = pos + 2;
			for (int l = 1; l <= 5; l++)
				fprintf(f, "%s\n", l == bad_line ? cases[c].line : good[(l - 1) % 4]);
			fclose(f);
			char what[160];
			snprintf(what, sizeof(what), "JSON lines with %s on line %d", cases[c].what, bad_line);
			/* Batches of two: earlier batches were sent before the bad one was read. */
			expect_rejected("bad.jsonl", text, bad_line, cases[c].message, what, pos ? "2" : NULL);
			free(text);
		}
	}
	for (int i = 0; i < 4; i++)
		free(good[i]);

	/* CSV: a record with a field too many, or too few, and negative tokens. */
	static const bad_case csv_cases[] = {
		{ "a field too many",
		  "6a1e0001-0000-4000-8000-0000000000c1,2026-03-10T09:00:00Z,acme-legal,aaron@acme-legal.test,"
		  "Basic Assistant,1,2,3,r,extra", "fields" },
		{ "a field too few",
		  "6a1e0001-0000-4000-8000-0000000000c2,2026-03-10T09:00:00Z,acme-legal,aaron@acme-legal.test,"
		  "Basic Assistant,1,2,3", "fields" },
		{ "negative tokens",
		  "6a1e0001-0000-4000-8000-0000000000c3,2026-03-10T09:00:00Z,acme-legal,aaron@acme-legal.test,"
		  "Basic Assistant,-1,2,3,r", "tokens_in" },
	};
	for (size_t c = 0; c < sizeof(csv_cases) / sizeof(csv_cases[0]); c++) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		fputs(csv_header, f);                  /* line 1 */
		csv_line(f, &dataset[0]);              /* line 2 */
		csv_line(f, &dataset[1]);              /* line 3 */
		fprintf(f, "%s\n", csv_cases[c].line); /* line 4 */
		csv_line(f, &dataset[2]);              /* line 5 */
		fclose(f);
		char what[160];
		snprintf(what, sizeof(what), "CSV with %s on line 4", csv_cases[c].what);
		expect_rejected("bad.csv", text, 4, csv_cases[c].message, what, NULL);
		free(text);
	}
}

static void test_skip_invalid(void **state)
{
	(void)state;
	/* Valid: dataset 0..4 on lines 1, 3, 4, 6, 8; invalid on 2, 5, 7. */
	char *lines[8];
	lines[0] = json_line(&dataset[0]);
	lines[1] = strdup("{\"event_id\":\"not-a-uuid\",\"occurred_at\":\"2026-03-10T09:00:00Z\",\"org\":\"acme-legal\","
	                  "\"user\":\"aaron@acme-legal.test\",\"model\":\"Basic Assistant\",\"tokens_in\":1}");
	lines[2] = json_line(&dataset[1]);
	lines[3] = json_line(&dataset[2]);
	lines[4] = strdup("{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000d1\",\"occurred_at\":\"2026-03-10T09:00:00Z\","
	                  "\"org\":\"acme-legal\",\"user\":\"bella@brightpath.test\",\"model\":\"Basic Assistant\","
	                  "\"tokens_in\":1}");
	lines[5] = json_line(&dataset[3]);
	lines[6] = strdup("not json at all");
	lines[7] = json_line(&dataset[4]);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	for (int i = 0; i < 8; i++) {
		fprintf(f, "%s\n", lines[i]);
		free(lines[i]);
	}
	fclose(f);
	char *path = path_of("mixed.jsonl");
	write_file(path, text);
	free(text);

	run_result r;
	RUN(&r, "--format", "json", "usage", "import", "--skip-invalid", path);
	expect_exit(&r, 0, "import --skip-invalid");
	assert_int_equal(summary_field(&r, "lines"), 8);
	assert_int_equal(summary_field(&r, "imported"), 5);
	assert_int_equal(summary_field(&r, "invalid"), 3);
	char where[512];
	for (int l = 1; l <= 8; l++) {
		snprintf(where, sizeof(where), "%s:%d:", path, l);
		if (l == 2 || l == 5 || l == 7)
			expect_in(r.err, where, "an invalid line is reported");
		else
			expect_not_in(r.err, where, "a valid line is not reported");
	}
	run_result_free(&r);
	expect_imported(dataset, 5);
	free(path);
}

static void test_twice_adds_nothing(void **state)
{
	(void)state;
	char *path = write_events("twice.jsonl", dataset, NDATASET, false);
	run_result r;
	RUN(&r, "usage", "import", path);
	expect_exit(&r, 0, "first import");
	run_result_free(&r);
	char *before = snapshot();
	RUN(&r, "--format", "json", "usage", "import", path);
	expect_exit(&r, 0, "second import");
	assert_int_equal(summary_field(&r, "imported"), 0);
	assert_int_equal(summary_field(&r, "duplicates"), NDATASET);
	run_result_free(&r);
	/* The table summary says so in words too. */
	RUN(&r, "--format", "table", "usage", "import", path);
	expect_exit(&r, 0, "third import");
	char words[64];
	snprintf(words, sizeof(words), "%zu duplicates", NDATASET);
	expect_in(r.out, words, "summary");
	expect_in(r.out, "imported 0 events", "summary");
	run_result_free(&r);
	expect_unchanged(before, "importing the same file again");
	free(before);
	/* As CSV, the same events are still the same events. */
	char *csv = write_events("twice.csv", dataset, NDATASET, true);
	before = snapshot();
	RUN(&r, "--format", "json", "usage", "import", csv);
	expect_exit(&r, 0, "the same events as CSV");
	assert_int_equal(summary_field(&r, "imported"), 0);
	run_result_free(&r);
	expect_unchanged(before, "importing the same events as CSV");
	free(before);
	expect_imported(dataset, NDATASET);
	free(csv);
	free(path);
}

static void test_repeats_within_a_file(void **state)
{
	(void)state;
	/* Events 0 and 1 twice each (the first line wins), event 2 once. */
	ev first = dataset[0], again = dataset[0], other = dataset[1];
	again.tin = 999999;
	again.tout = 1;
	const ev lines[] = { first, other, again, dataset[2], other };
	const ev kept[] = { dataset[0], dataset[1], dataset[2] };
	for (int pass = 0; pass < 2; pass++) {
		char *path = write_events(pass ? "repeats.csv" : "repeats.jsonl", lines, 5, pass == 1);
		run_result r;
		/* The second pass in batches of two: the repeats fall into later batches. */
		if (pass)
			RUN(&r, "--format", "json", "usage", "import", "--batch-size", "2", path);
		else
			RUN(&r, "--format", "json", "usage", "import", path);
		expect_exit(&r, 0, "a file with repeated events");
		assert_int_equal(summary_field(&r, "imported"), pass ? 0 : 3);
		assert_int_equal(summary_field(&r, "duplicates"), pass ? 5 : 2);
		run_result_free(&r);
		expect_imported(kept, 3);
		free(path);
	}

	/* Fresh events, repeated across batches of two in one import. */
	const ev mixed[] = { dataset[5], dataset[6], dataset[7], dataset[5], dataset[6], dataset[7] };
	char *path = write_events("repeats2.jsonl", mixed, 6, false);
	run_result r;
	RUN(&r, "--format", "json", "usage", "import", "--batch-size", "2", path);
	expect_exit(&r, 0, "repeats across batches");
	assert_int_equal(summary_field(&r, "imported"), 3);
	assert_int_equal(summary_field(&r, "duplicates"), 3);
	run_result_free(&r);
	const ev all[] = { dataset[0], dataset[1], dataset[2], dataset[5], dataset[6], dataset[7] };
	expect_imported(all, 6);
	free(path);
}

/* The same event three times in one batch counts once, like twice. */
static void test_three_repeats_in_one_batch(void **state)
{
	(void)state;
	ev again = dataset[0];
	again.tin = 999999;
	const ev lines[] = { dataset[0], dataset[1], again, dataset[2], again };
	char *path = write_events("thrice.jsonl", lines, 5, false);
	run_result r;
	RUN(&r, "--format", "json", "usage", "import", path);
	free(path);
	expect_exit(&r, 0, "a file with an event three times");
	assert_int_equal(summary_field(&r, "imported"), 3);
	assert_int_equal(summary_field(&r, "duplicates"), 2);
	run_result_free(&r);
	const ev kept[] = { dataset[0], dataset[1], dataset[2] };
	expect_imported(kept, 3);
}

/* An event id is one event: the same id at another time in the same file is
 * refused (naming the first line), at the same time it is a duplicate. */
static void test_one_id_two_times(void **state)
{
	(void)state;
	ev later = dataset[1];
	later.at = "2026-03-11T09:00:00Z";
	later.day = "2026-03-11";
	const ev lines[] = { dataset[1], dataset[2], later };
	for (int csv = 0; csv < 2; csv++) {
		char *path = write_events(csv ? "twotimes.csv" : "twotimes.jsonl", lines, 3, csv == 1);
		char *before = snapshot();
		run_result r;
		RUN(&r, "usage", "import", path);
		expect_exit(&r, 5, "one event id at two times");
		expect_in(r.err, csv ? ":4: event_id 6a1e0001-0000-4000-8000-000000000002 is also on line 2"
		                     : ":3: event_id 6a1e0001-0000-4000-8000-000000000002 is also on line 1", "the repeat");
		expect_in(r.err, "nothing was imported", "the repeat");
		run_result_free(&r);
		expect_unchanged(before, "a file with one id at two times");
		free(before);
		/* In batches of one, the repeat is in another batch. */
		before = snapshot();
		RUN(&r, "usage", "import", "--batch-size", "1", path);
		expect_exit(&r, 5, "one event id at two times, in batches of one");
		run_result_free(&r);
		expect_unchanged(before, "a file with one id at two times, in batches of one");
		free(before);
		free(path);
	}
}

/* A file without any token column is refused, not read as zero tokens. */
static void test_tokens_are_required(void **state)
{
	(void)state;
	char *path = path_of("notokens.csv");
	write_file(path, "event_id,occurred_at,org,user,model\n"
	                 "6a1e0001-0000-4000-8000-0000000000d1,2026-03-10T09:00:00Z,acme-legal,aaron@acme-legal.test,"
	                 "Basic Assistant\n");
	char *before = snapshot();
	run_result r;
	RUN(&r, "usage", "import", path);
	expect_exit(&r, 5, "a CSV file without token columns");
	expect_in(r.err, "neither tokens_in nor tokens_out", "no token columns");
	run_result_free(&r);
	expect_unchanged(before, "a CSV file without token columns");
	free(before);
	free(path);
}

/* --force loads events of non-members and of models not meant for the
 * organisation, and says so in each organisation's audit log. */
static void test_force_is_audited(void **state)
{
	(void)state;
	ev outsider = dataset[0], wrong_model = dataset[0];
	outsider.id = "6a1e0001-0000-4000-8000-0000000000e1";
	outsider.user = "ben@brightpath.test";
	wrong_model.id = "6a1e0001-0000-4000-8000-0000000000e2";
	wrong_model.model = BLOG;
	const ev lines[] = { outsider, wrong_model };
	char *path = write_events("forced.jsonl", lines, 2, false);
	char *before = snapshot();
	run_result r;
	RUN(&r, "usage", "import", path);
	expect_exit(&r, 5, "events that need --force");
	expect_in(r.err, ":1: ben@brightpath.test is not a member of acme-legal", "the outsider");
	expect_in(r.err, ":2: model Blog Content Writer Pro is not for organizations of acme-legal's type", "the model");
	expect_in(r.err, "2 of them only for the membership or model check: --force imports those", "the hint");
	run_result_free(&r);
	expect_unchanged(before, "events that need --force, without it");
	free(before);
	long audited = count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'usage.import_forced'");
	RUN(&r, "--format", "json", "usage", "import", "--force", path);
	expect_exit(&r, 0, "the same with --force");
	assert_int_equal(summary_field(&r, "imported"), 2);
	run_result_free(&r);
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events WHERE event_id IN"
	                       " ('6a1e0001-0000-4000-8000-0000000000e1', '6a1e0001-0000-4000-8000-0000000000e2')"), 2);
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'usage.import_forced'"),
	                 audited + 1);
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'usage.import_forced'"
	                       " AND org_slug = 'acme-legal' AND (new_values ->> 'events_forced')::int = 2"), 1);
	free(path);
}

/* Events recorded live and imported are one and the same event. */
static void test_live_and_imported(void **state)
{
	(void)state;
	/* Recorded live first, then found in a file with the same organisation, time and id. */
	ev live = dataset[0];
	run_result r;
	RUN(&r, "--org", "acme-legal", "usage", "record", "--user", live.user, "--model", live.model,
	    "--tokens-in", "1000", "--tokens-out", "200", "--latency-ms", "350", "--request-id", "req-1",
	    "--event-id", live.id, "--at", live.at);
	expect_exit(&r, 0, "usage record --event-id --at");
	run_result_free(&r);
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"), 1);
	char *before = snapshot();
	/* The file says other numbers for it: the recorded event stands. */
	ev in_file = live;
	in_file.tin = 5555;
	char *path = write_events("live.jsonl", &in_file, 1, false);
	RUN(&r, "--format", "json", "usage", "import", path);
	expect_exit(&r, 0, "import of an event recorded live");
	assert_int_equal(summary_field(&r, "imported"), 0);
	assert_int_equal(summary_field(&r, "duplicates"), 1);
	run_result_free(&r);
	expect_unchanged(before, "importing an event recorded live");
	free(before);
	free(path);
	assert_int_equal(count("SELECT tokens_in FROM aiplat.usage_events"), 1000);

	/* A retry recorded live under the same id at another time is recognised too. */
	ev retried = dataset[1];
	RUN(&r, "--org", "acme-legal", "usage", "record", "--user", retried.user, "--model", retried.model,
	    "--tokens-in", "500", "--tokens-out", "50", "--event-id", retried.id, "--at", "2026-03-10T23:29:00Z");
	expect_exit(&r, 0, "usage record");
	run_result_free(&r);
	before = snapshot();
	path = write_events("retry.jsonl", &retried, 1, false);
	RUN(&r, "--format", "json", "usage", "import", path);
	expect_exit(&r, 0, "import of an id recorded live at another time");
	assert_int_equal(summary_field(&r, "imported"), 0);
	assert_int_equal(summary_field(&r, "duplicates"), 1);
	run_result_free(&r);
	expect_unchanged(before, "importing an id recorded live");
	free(before);
	free(path);

	/* Imported first, then recorded live: not counted twice either. */
	path = write_events("first.jsonl", &dataset[6], 1, false);
	RUN(&r, "usage", "import", path);
	expect_exit(&r, 0, "import");
	run_result_free(&r);
	free(path);
	before = snapshot();
	RUN(&r, "--org", "brightpath", "usage", "record", "--user", dataset[6].user, "--model", dataset[6].model,
	    "--tokens-in", "100", "--tokens-out", "100", "--event-id", dataset[6].id, "--at", dataset[6].at);
	expect_exit(&r, 0, "recording an imported event");
	expect_in(r.err, "recorded before", "recording an imported event");
	run_result_free(&r);
	char *after = snapshot();
	/* Only the id is remembered (for retries); no usage is added. */
	char *cut_before = strrchr(before, '|'), *cut_after = strrchr(after, '|');
	assert_non_null(cut_before);
	assert_non_null(cut_after);
	*cut_before = *cut_after = '\0';
	assert_string_equal(after, before);
	free(after);
	free(before);
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"), 3);
	assert_int_equal(count("SELECT sum(requests) FROM aiplat.usage_daily"), 3);
	expect_rollups_match_events();
}

/* ---- killed mid-load ---------------------------------------------------------------------- */

static void write_big_file(const char *path, long lines, int attempt)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	static const char *const people[] = { "aaron@acme-legal.test", "alice@acme-legal.test",
	                                      "ava@acme-legal.test" };
	fputs(csv_header, f);
	for (long i = 0; i < lines; i++)
		fprintf(f, "%08x-%04x-4000-8000-%012lx,2026-03-%02ldT%02ld:%02ld:%02ldZ,acme-legal,%s,%s,%ld,%ld,%ld,r%ld\n",
		        (unsigned)i, (unsigned)attempt, (unsigned long)i, 1 + i % 28, i % 24, (i / 24) % 60,
		        i % 60, people[i % 3], i % 2 ? LEGAL : BASIC, i % 1000, i % 100, i % 500, i);
	assert_int_equal(fclose(f), 0);
}

static long importing_backends(const char *copy_like)
{
	const char *p[2] = { db.name, copy_like };
	return testdb_long(owner,
		"SELECT count(*) FROM pg_stat_activity"
		" WHERE datname = $1 AND application_name LIKE 'aiplat%import%'"
		"   AND ($2::text IS NULL OR (query LIKE $2 AND xact_start IS NOT NULL))", 2, p);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void test_killed_mid_load(void **state)
{
	(void)state;
	char *path = path_of("big.csv");
	long lines = 300000;
	bool killed = false;
	for (int attempt = 1; attempt <= 5 && !killed; attempt++) {
		write_big_file(path, lines, attempt);
		char *before = snapshot();
		long events_before = count("SELECT count(*) FROM aiplat.usage_events");
		long in_before = count("SELECT coalesce(sum(tokens_in), 0) FROM aiplat.usage_daily_models");
		long out_before = count("SELECT coalesce(sum(tokens_out), 0) FROM aiplat.usage_daily");
		run_async a;
		const char *argv[] = { "--db", db.url, "-q", "usage", "import", "--batch-size", "50000", path, NULL };
		run_aiplat_start(&a, clock_env, argv);
		/* Wait until events are visibly being written: the backend's last
		 * statement is the COPY into usage_events, inside the transaction. */
		bool seen = false, exited = false;
		int st = 0;
		for (int i = 0; i < 15000 && !seen && !exited; i++) {
			pid_t w = waitpid(a.pid, &st, WNOHANG);
			if (w == a.pid) {
				exited = true;
				break;
			}
			seen = importing_backends("COPY aiplat.usage_events%") > 0;
			if (!seen)
				sleep_ms(1);
		}
		/* Then until that COPY has gone through (the importer reads the next
		 * batch, or has moved on): events are written, not committed. */
		for (int i = 0; i < 5000 && seen && !exited; i++) {
			pid_t w = waitpid(a.pid, &st, WNOHANG);
			if (w == a.pid) {
				exited = true;
				break;
			}
			const char *p[1] = { db.name };
			if (testdb_long(owner, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1"
			                       "   AND application_name LIKE 'aiplat%import%' AND xact_start IS NOT NULL"
			                       "   AND (state <> 'active' OR query NOT LIKE 'COPY aiplat.usage_events%')",
			                1, p) > 0)
				break;
			sleep_ms(1);
		}
		if (exited) {
			/* Finished before we could catch it: a bigger file next time. */
			unlink(a.out_path);
			unlink(a.err_path);
			print_message("attempt %d: the import of %ld lines ended first (status %d); retrying\n",
			              attempt, lines, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			lines *= 2;
			free(before);
			continue;
		}
		if (!seen) {
			kill(a.pid, SIGKILL);
			run_result r;
			run_aiplat_wait(&a, &r);
			run_result_free(&r);
			free(before);
			fail_msg("the import never showed a COPY into usage_events");
		}
		const char *p[1] = { db.name };
		char *doing = testdb_value(owner, "SELECT coalesce(string_agg(state || ': ' || left(query, 40), '; '), '')"
		                                  "  FROM pg_stat_activity WHERE datname = $1"
		                                  "   AND application_name LIKE 'aiplat%import%'", 1, p);
		assert_int_equal(kill(a.pid, SIGKILL), 0);
		print_message("attempt %d: killed the import of %ld lines at: %s\n", attempt, lines, doing);
		free(doing);
		run_result r;
		run_aiplat_wait(&a, &r);
		int status = r.status;
		run_result_free(&r);
		/* The server notices its client is gone and rolls back. */
		for (int i = 0; i < 1500 && importing_backends(NULL) > 0; i++)
			sleep_ms(10);
		assert_int_equal(importing_backends(NULL), 0);
		long events_after = count("SELECT count(*) FROM aiplat.usage_events");
		if (status != 128 + SIGKILL || events_after == events_before + lines) {
			/* It committed just before the signal landed: try again with fresh events. */
			print_message("attempt %d: the import completed before the kill (status %d); retrying\n",
			              attempt, status);
			assert_int_equal(events_after, events_before + lines);
			lines *= 2;
			free(before);
			continue;
		}
		killed = true;
		expect_unchanged(before, "an import killed mid-load");
		free(before);
		/* The same file loads completely afterwards. */
		RUN(&r, "--format", "json", "usage", "import", path);
		expect_exit(&r, 0, "the import after the kill");
		assert_int_equal(summary_field(&r, "imported"), lines);
		assert_int_equal(summary_field(&r, "duplicates"), 0);
		run_result_free(&r);
		assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"), events_before + lines);
		long expect_in_tokens = 0, expect_out_tokens = 0;
		for (long i = 0; i < lines; i++) {
			expect_in_tokens += i % 1000;
			expect_out_tokens += i % 100;
		}
		assert_int_equal(count("SELECT sum(tokens_in) FROM aiplat.usage_daily_models") - in_before,
		                 expect_in_tokens);
		assert_int_equal(count("SELECT sum(tokens_out) FROM aiplat.usage_daily") - out_before,
		                 expect_out_tokens);
		expect_rollups_match_events();
	}
	if (!killed)
		fail_msg("never managed to kill the import mid-load");
	unlink(path);
	free(path);
}

/* ---- stdin, --as, --org ---------------------------------------------------------------------- */

static void test_stdin(void **state)
{
	(void)state;
	char *text = jsonl_text(dataset, 6);
	run_result r;
	RUN_IN(&r, text, "--format", "json", "usage", "import", "-");
	free(text);
	expect_exit(&r, 0, "import from stdin");
	assert_int_equal(summary_field(&r, "imported"), 6);
	run_result_free(&r);
	expect_imported(dataset, 6);
	/* CSV on stdin, told or recognised by its first character. */
	text = csv_text(dataset + 6, 4);
	RUN_IN(&r, text, "--format", "json", "usage", "import", "--input-format", "csv", "-");
	expect_exit(&r, 0, "CSV from stdin");
	assert_int_equal(summary_field(&r, "imported"), 4);
	run_result_free(&r);
	free(text);
	text = csv_text(dataset + 10, NDATASET - 10);
	RUN_IN(&r, text, "--format", "json", "usage", "import", "-");
	expect_exit(&r, 0, "CSV from stdin, recognised");
	assert_int_equal(summary_field(&r, "imported"), NDATASET - 10);
	run_result_free(&r);
	free(text);
	expect_imported(dataset, NDATASET);
	/* A bad line on stdin is named as stdin's. */
	char *before = snapshot();
	RUN_IN(&r, "{\"event_id\":\"6a1e0001-0000-4000-8000-0000000000e1\"}\n", "usage", "import", "-");
	expect_exit(&r, 5, "a bad line on stdin");
	expect_in(r.err, "stdin:1:", "a bad line on stdin");
	run_result_free(&r);
	expect_unchanged(before, "a bad line on stdin");
	free(before);
}

static void test_as_someone_is_refused(void **state)
{
	(void)state;
	char *path = write_events("as.jsonl", dataset, 3, false);
	char *before = snapshot();
	run_result r;
	RUN(&r, "--as", "alice@acme-legal.test", "--org", "acme-legal", "usage", "import", path);
	expect_exit(&r, 6, "import as an organisation admin");
	run_result_free(&r);
	RUN(&r, "--as", "ops@aiplat.test", "usage", "import", path);
	expect_exit(&r, 6, "import as a superadmin");
	run_result_free(&r);
	const char *const env[] = { "PGOPTIONS=-c aiplat.test_now=" TEST_NOW, "AIPLAT_AS=aaron@acme-legal.test",
	                            "AIPLAT_ORG=acme-legal", NULL };
	const char *argv[] = { "--db", db.url, "usage", "import", path, NULL };
	run_aiplat_argv(&r, NULL, env, argv);
	expect_exit(&r, 6, "import as a user (AIPLAT_AS)");
	run_result_free(&r);
	expect_unchanged(before, "refused imports");
	free(before);
	free(path);
}

static void test_org_fills_in(void **state)
{
	(void)state;
	/* brightpath's events without "org"; one line names its organisation itself. */
	ev events[4] = { dataset[5], dataset[6], dataset[7], dataset[0] };
	for (int i = 0; i < 3; i++)
		events[i].org = NULL;
	char *path = write_events("no-org.jsonl", events, 4, false);
	char *csv = write_events("no-org.csv", events, 4, true);
	char *before = snapshot();
	run_result r;
	RUN(&r, "usage", "import", path);
	expect_exit(&r, 5, "lines without org and no --org");
	for (int l = 1; l <= 3; l++) {
		char where[512];
		snprintf(where, sizeof(where), "%s:%d: org is missing", path, l);
		expect_in(r.err, where, "a missing org");
	}
	run_result_free(&r);
	expect_unchanged(before, "lines without org");
	free(before);
	RUN(&r, "--format", "json", "--org", "brightpath", "usage", "import", path);
	expect_exit(&r, 0, "import --org");
	assert_int_equal(summary_field(&r, "imported"), 4);
	run_result_free(&r);
	expect_imported(events, 4);
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events e JOIN aiplat.organizations o"
	                       " ON o.id = e.organization_id WHERE o.slug = 'brightpath'"), 3);
	/* The same events as CSV with empty org fields: duplicates, nothing new. */
	before = snapshot();
	RUN(&r, "--format", "json", "--org", "brightpath", "usage", "import", csv);
	expect_exit(&r, 0, "CSV import --org");
	assert_int_equal(summary_field(&r, "duplicates"), 4);
	run_result_free(&r);
	expect_unchanged(before, "the same events as CSV");
	free(before);
	free(csv);
	free(path);
}

/* On a terminal a large import shows a progress bar on stderr; on a pipe it does not. */
static void test_progress_on_a_terminal(void **state)
{
	(void)state;
	if (system("command -v script >/dev/null 2>&1") != 0)
		skip();
	char *path = write_events("progress.jsonl", dataset, NDATASET, false);
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
	         "NO_COLOR=1 PGOPTIONS='-c aiplat.test_now=" TEST_NOW "' script -qec \"%s --db '%s'"
	         " usage import --batch-size 2 %s\" /dev/null", AIPLAT_TEST_BINARY, db.url, path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char out[16384] = "";
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	if (!strstr(out, "] 100%") || !strstr(out, "[#") || !strstr(out, "imported "))
		fail_msg("no progress bar on a terminal:\n%s", out);
	run_result r;
	RUN(&r, "usage", "import", "--batch-size", "2", path);
	expect_exit(&r, 0, "import on a pipe");
	assert_null(strstr(r.err, "100%"));
	run_result_free(&r);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_jsonl_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_bad_line_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_twice_adds_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeats_within_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_three_repeats_in_one_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_id_two_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens_are_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_force_is_audited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_and_imported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_mid_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_as_someone_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_org_fills_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_progress_on_a_terminal, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
