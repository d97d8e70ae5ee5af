/*
 * `aiplat usage report` and `aiplat usage show` through the binary.
 *
 * A varied month of usage (six organisations in five time zones, many
 * people and models, events around local midnight, a model whose name
 * needs escaping) is imported and recorded once; then every grouping and
 * filter is compared with a GROUP BY over the raw events computed here
 * (local day = occurred_at in the organisation's zone, cost = the sum of
 * the events' micro-dollars), in every output format, with the test clock
 * for --period, and for each kind of person (row-level security).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "runproc.h"
#include "testdb.h"

#define TEST_NOW "2026-03-15T12:00:00Z"
#define ODD_MODEL "Odd \"quoted\" \\ model\nsecond line"

static testdb db;
static PGconn *owner;
static const char *const clock_env[] = { "PGOPTIONS=-c aiplat.test_now=" TEST_NOW, "AIPLAT_AS=",
                                         "AIPLAT_ORG=", "LANG=C", "LC_ALL=C", "LC_CTYPE=", "COLUMNS=100",
                                         NULL };

/* ---- running ------------------------------------------------------------------------------ */

static void run_env(run_result *r, const char *const *env, const char *const *args)
{
	run_aiplat_db(r, db.url, NULL, env, args);
}

#define RUN(r, ...) run_env((r), clock_env, (const char *const[]){ __VA_ARGS__, NULL })

static long count(const char *sql)
{
	return testdb_long(owner, sql, 0, NULL);
}

static void expect_in(const char *haystack, const char *needle, const char *what)
{
	if (!strstr(haystack, needle))
		fail_msg("%s: \"%s\" not found in:\n%s", what, needle, haystack);
}

/* ---- the data ------------------------------------------------------------------------------ */

static uint64_t rng = 0x5eed2026;

static uint32_t next_random(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng >> 33);
}

static const struct { const char *org, *user; } people[] = {
	{ "acme-legal", "alice@acme-legal.test" },   { "acme-legal", "aaron@acme-legal.test" },
	{ "acme-legal", "ava@acme-legal.test" },     { "brightpath", "bella@brightpath.test" },
	{ "brightpath", "ben@brightpath.test" },     { "harbor-realty", "hana@harbor-realty.test" },
	{ "harbor-realty", "hugo@harbor-realty.test" }, { "northside-clinic", "nora@northside-clinic.test" },
	{ "northside-clinic", "noah@northside-clinic.test" }, { "little-learners", "lily@little-learners.test" },
	{ "little-learners", "leo@little-learners.test" }, { "pixel-forge", "pia@pixel-forge.test" },
	{ "pixel-forge", "pete@pixel-forge.test" },  { "pixel-forge", "vic@pixel-forge.test" },
};
#define NPEOPLE (sizeof(people) / sizeof(people[0]))

static const char *const model_names[] = {
	"Blog Content Writer Pro", "Legal Document Analyst", "Healthcare Information Assistant",
	"Property Listing Writer", "Basic Assistant", "Education Tutor (Trial)", ODD_MODEL,
};
#define NMODELS (sizeof(model_names) / sizeof(model_names[0]))

static void add_event(FILE *f, int n, const char *at, const char *org, const char *user, const char *model,
                      long tin, long tout)
{
	char id[40];
	snprintf(id, sizeof(id), "7e907000-0000-4000-8000-%012x", n);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "event_id", id, "occurred_at", at,
	                      "org", org, "user", user, "model", model, "tokens_in", (json_int_t)tin,
	                      "tokens_out", (json_int_t)tout);
	char *s = json_dumps(o, JSON_COMPACT);
	fprintf(f, "%s\n", s);
	free(s);
	json_decref(o);
}

/* Edge events: near local midnight, so the UTC day is not the local day. */
static const struct { const char *at, *org, *user, *model; long tin, tout; } edges[] = {
	/* Tokyo (+9): 15 March 00:30 local, 14 March in UTC. */
	{ "2026-03-14T15:30:00Z", "little-learners", "leo@little-learners.test", "Education Tutor (Trial)", 4100, 100 },
	/* Tokyo: 16 March 00:30 local (Monday: next week too), 15 March in UTC. */
	{ "2026-03-15T15:30:00Z", "little-learners", "leo@little-learners.test", "Education Tutor (Trial)", 8200, 200 },
	/* Tokyo: 16 March 04:00 local, an hour before the second clock (15 March 20:00Z). */
	{ "2026-03-15T19:00:00Z", "little-learners", "lily@little-learners.test", "Education Tutor (Trial)", 777, 7 },
	/* Los Angeles (PDT, -7): 15 March 23:30 local, 16 March in UTC. */
	{ "2026-03-16T06:30:00Z", "harbor-realty", "hugo@harbor-realty.test", "Property Listing Writer", 3300, 30 },
	/* Los Angeles: 14 March 23:30 local, 15 March in UTC. */
	{ "2026-03-15T06:30:00Z", "harbor-realty", "hana@harbor-realty.test", "Property Listing Writer", 1600, 60 },
	/* New York (EDT since the 8th, -4): Sunday 8 March 23:30, Monday in UTC. */
	{ "2026-03-09T03:30:00Z", "brightpath", "ben@brightpath.test", "Blog Content Writer Pro", 2500, 500 },
	/* New York (EST): 28 February 22:00 local, 1 March in UTC. */
	{ "2026-03-01T03:00:00Z", "brightpath", "bella@brightpath.test", "Blog Content Writer Pro", 1900, 90 },
	/* London (GMT): 1 March 00:30. */
	{ "2026-03-01T00:30:00Z", "acme-legal", "alice@acme-legal.test", "Legal Document Analyst", 1234, 56 },
	/* UTC: the last second of 14 March. */
	{ "2026-03-14T23:59:59Z", "pixel-forge", "pete@pixel-forge.test", "Basic Assistant", 999, 1 },
	/* The model whose name needs escaping. */
	{ "2026-03-15T10:00:00Z", "northside-clinic", "noah@northside-clinic.test", ODD_MODEL, 321, 123 },
	{ "2026-03-02T10:00:00Z", "northside-clinic", "nora@northside-clinic.test", ODD_MODEL, 100, 10 },
};

static int setup(void **state)
{
	(void)state;
	testdb_create(&db, true);
	testdb_seed(&db, true);
	owner = testdb_connect(&db);
	testdb_exec(owner, "INSERT INTO aiplat.settings (key, value) VALUES ('test_clock', 'on')");
	testdb_exec(owner, "UPDATE aiplat.org_usage u SET tokens_used = 0,"
	                   " resets_at = aiplat.period_end('monthly', o.time_zone, '" TEST_NOW "')"
	                   " FROM aiplat.organizations o WHERE o.id = u.organization_id");
	PGresult *res = PQexecParams(owner,
		"INSERT INTO aiplat.ai_models_system (name, role, provider_model, is_free,"
		"                                     price_input_per_mtok, price_output_per_mtok)"
		" VALUES ($1, 'odd_model', 'odd', true, 1.25, 2.5)", 1, NULL, (const char *const[]){ ODD_MODEL },
		NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);

	/* A month of usage, imported. */
	char *dir = make_temp_dir();
	char path[256];
	snprintf(path, sizeof(path), "%s/month.jsonl", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	int n = 0;
	const long start = 1771545600;   /* 2026-02-20T00:00:00Z */
	for (; n < 500; n++) {
		size_t who = next_random() % NPEOPLE;
		const char *model = model_names[next_random() % NMODELS];
		/* aaron's Legal Document Analyst usage is left to the `usage show` test. */
		if (!strcmp(people[who].user, "aaron@acme-legal.test") && !strcmp(model, "Legal Document Analyst"))
			model = "Blog Content Writer Pro";
		time_t t = (time_t)(start + (long)(next_random() % (28u * 86400u)));
		struct tm tm;
		gmtime_r(&t, &tm);
		char at[32];
		strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
		add_event(f, n, at, people[who].org, people[who].user, model, (long)(next_random() % 5000),
		          (long)(next_random() % 2000));
	}
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++, n++)
		add_event(f, n, edges[i].at, edges[i].org, edges[i].user, edges[i].model, edges[i].tin,
		          edges[i].tout);
	assert_int_equal(fclose(f), 0);
	run_result r;
	/* Any model for anyone, whatever the organisation's type and plan: the
	 * reports must add up to what was recorded (forced, so audited). */
	RUN(&r, "-q", "usage", "import", "--force", path);
	expect_exit(&r, 0, "importing the month");
	run_result_free(&r);
	rm_rf(dir);
	free(dir);

	/* And a few recorded one by one. */
	static const struct { const char *org, *user, *model, *in, *out, *at; } live[] = {
		{ "acme-legal", "ava@acme-legal.test", "Legal Document Analyst", "700", "70", "2026-03-15T00:15:00Z" },
		{ "little-learners", "lily@little-learners.test", "Basic Assistant", "50", "5", "2026-03-15T14:59:00Z" },
		{ "brightpath", "ben@brightpath.test", "Blog Content Writer Pro", "4000", "400", "2026-03-16T03:59:00Z" },
		{ "pixel-forge", "vic@pixel-forge.test", "Basic Assistant", "60", "6", "2026-03-10T12:00:00Z" },
	};
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		RUN(&r, "--org", live[i].org, "usage", "record", "--user", live[i].user, "--model", live[i].model,
		    "--tokens-in", live[i].in, "--tokens-out", live[i].out, "--at", live[i].at);
		expect_exit(&r, 0, "usage record --at");
		run_result_free(&r);
	}
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"), n + 4);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	PQfinish(owner);
	testdb_drop(&db);
	return 0;
}

/* ---- expectations ------------------------------------------------------------------------------ */

typedef struct row {
	char *key;               /* the key columns joined with '|' */
	long long n[4];          /* tokens_in, tokens_out, tokens, requests */
	long long cost;          /* millionths of a dollar */
} row;

typedef struct rows {
	row *r;
	size_t n;
} rows;

static void rows_free(rows *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->r[i].key);
	free(rs->r);
	rs->r = NULL;
	rs->n = 0;
}

static row *rows_add(rows *rs, const char *key)
{
	rs->r = realloc(rs->r, (rs->n + 1) * sizeof(row));
	assert_non_null(rs->r);
	row *r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	r->key = strdup(key);
	return r;
}

static row *rows_find(const rows *rs, const char *key)
{
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->r[i].key, key))
			return &rs->r[i];
	return NULL;
}

/* What a report should say: filters as the test sees them. */
typedef struct filter {
	const char *org;         /* slug */
	const char *user;        /* email */
	const char *model;       /* name */
	const char *since;       /* local dates, since inclusive, until exclusive */
	const char *until;
	const char *tokyo_since; /* when little-learners' window differs (another clock) */
	const char *tokyo_until;
} filter;

static const char *key_expr(const char *dim)
{
	if (!strcmp(dim, "org"))
		return "org";
	if (!strcmp(dim, "model"))
		return "model";
	if (!strcmp(dim, "user"))
		return "usr";
	if (!strcmp(dim, "day"))
		return "day::text";
	fail_msg("unknown grouping %s", dim);
	return NULL;
}

/* The GROUP BY over the raw events. */
static void expected(rows *out, const char *by, const filter *f)
{
	char keys[256] = "";
	char copy[64];
	snprintf(copy, sizeof(copy), "%s", by ? by : "model");
	for (char *save = NULL, *d = strtok_r(copy, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
		if (keys[0])
			strcat(keys, ", ");
		strcat(keys, key_expr(d));
	}
	char sql[2048];
	snprintf(sql, sizeof(sql),
		"WITH e AS (SELECT o.slug AS org, m.name AS model, u.email AS usr,"
		"                  (e.occurred_at AT TIME ZONE o.time_zone)::date AS day,"
		"                  e.tokens_in, e.tokens_out, e.cost_micro_usd"
		"             FROM aiplat.usage_events e"
		"             JOIN aiplat.organizations o ON o.id = e.organization_id"
		"             JOIN aiplat.users u ON u.id = e.user_id"
		"             JOIN aiplat.ai_models_system m ON m.id = e.model_id)"
		" SELECT concat_ws('|', %s), sum(tokens_in), sum(tokens_out), sum(tokens_in + tokens_out),"
		"        count(*), sum(cost_micro_usd)"
		"   FROM e"
		"  WHERE ($1::text IS NULL OR org = $1) AND ($2::text IS NULL OR usr = $2)"
		"    AND ($3::text IS NULL OR model = $3)"
		"    AND (CASE WHEN org = 'little-learners' AND $6::date IS NOT NULL"
		"              THEN day >= $6::date AND day < $7::date"
		"              ELSE ($4::date IS NULL OR day >= $4::date) AND ($5::date IS NULL OR day < $5::date) END)"
		"  GROUP BY %s", keys, keys);
	const char *params[7] = { f->org, f->user, f->model, f->since, f->until, f->tokyo_since, f->tokyo_until };
	PGresult *res = PQexecParams(owner, sql, 7, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s", PQerrorMessage(owner));
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < PQntuples(res); i++) {
		row *r = rows_add(out, PQgetvalue(res, i, 0));
		for (int c = 0; c < 4; c++)
			r->n[c] = atoll(PQgetvalue(res, i, c + 1));
		r->cost = atoll(PQgetvalue(res, i, 5));
	}
	PQclear(res);
}

/* ---- reading the outputs ------------------------------------------------------------------------ */

static const char *const figures[5] = { "tokens_in", "tokens_out", "tokens", "requests", "cost_usd" };

static long long rounded(double v)
{
	return (long long)(v < 0 ? v - 0.5 : v + 0.5);
}

static long long micro(double usd)
{
	return rounded(usd * 1e6);
}

/* A cell (text) into a row: key columns are those before the figures. */
static void take_record(rows *out, char **names, char **cells, size_t ncells, size_t nkeys)
{
	char key[1024] = "";
	for (size_t k = 0; k < nkeys; k++) {
		if (k)
			strcat(key, "|");
		strncat(key, cells[k], sizeof(key) - strlen(key) - 1);
	}
	if (rows_find(out, key))
		fail_msg("the report has the key %s twice", key);
	row *r = rows_add(out, key);
	for (size_t f = 0; f < 5; f++) {
		size_t c = nkeys + f;
		if (c >= ncells || strcmp(names[c], figures[f]) != 0)
			fail_msg("column %zu is %s, expected %s", c, c < ncells ? names[c] : "(none)", figures[f]);
		char *end;
		if (f < 4) {
			r->n[f] = strtoll(cells[c], &end, 10);
		} else {
			r->cost = micro(strtod(cells[c], &end));
		}
		if (*end || end == cells[c])
			fail_msg("%s is not a number: \"%s\"", names[c], cells[c]);
	}
}

static char *json_text(json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v)) {
		char b[32];
		snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return strdup(b);
	}
	if (json_is_real(v)) {
		char b[64];
		snprintf(b, sizeof(b), "%.9f", json_real_value(v));
		return strdup(b);
	}
	fail_msg("unexpected JSON value");
	return NULL;
}

static void take_object(rows *out, json_t *o, size_t nkeys)
{
	if (!json_is_object(o))
		fail_msg("a report row is not an object");
	size_t n = json_object_size(o), i = 0;
	char **names = calloc(n, sizeof(char *)), **cells = calloc(n, sizeof(char *));
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		names[i] = strdup(k);
		cells[i++] = json_text(v);
	}
	take_record(out, names, cells, n, nkeys);
	for (i = 0; i < n; i++) {
		free(names[i]);
		free(cells[i]);
	}
	free(names);
	free(cells);
}

/* Splits CSV (RFC 4180) or TSV (backslash escapes) text into records of fields. */
typedef struct table_text {
	char ***rec;
	size_t *nf;
	size_t n;
} table_text;

static void tt_free(table_text *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (size_t j = 0; j < t->nf[i]; j++)
			free(t->rec[i][j]);
		free(t->rec[i]);
	}
	free(t->rec);
	free(t->nf);
}

static void tt_push_field(table_text *t, char *buf, size_t *len)
{
	buf[*len] = '\0';
	size_t i = t->n - 1;
	t->rec[i] = realloc(t->rec[i], (t->nf[i] + 1) * sizeof(char *));
	t->rec[i][t->nf[i]++] = strdup(buf);
	*len = 0;
}

static void tt_new_record(table_text *t)
{
	t->rec = realloc(t->rec, (t->n + 1) * sizeof(char **));
	t->nf = realloc(t->nf, (t->n + 1) * sizeof(size_t));
	t->rec[t->n] = NULL;
	t->nf[t->n++] = 0;
}

static table_text parse_delimited(const char *s, bool csv)
{
	table_text t = { NULL, NULL, 0 };
	char *buf = malloc(strlen(s) + 1);
	size_t len = 0;
	while (*s) {
		tt_new_record(&t);
		for (;;) {
			if (csv && *s == '"') {
				for (s++;; s++) {
					if (!*s)
						fail_msg("unterminated quoted CSV field");
					if (*s == '"' && s[1] == '"') {
						buf[len++] = '"';
						s++;
					} else if (*s == '"') {
						s++;
						break;
					} else {
						buf[len++] = *s;
					}
				}
			} else {
				while (*s && *s != (csv ? ',' : '\t') && *s != '\n' && *s != '\r') {
					if (!csv && *s == '\\') {
						s++;
						buf[len++] = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s;
						if (*s)
							s++;
					} else {
						buf[len++] = *s++;
					}
				}
			}
			tt_push_field(&t, buf, &len);
			if (*s == (csv ? ',' : '\t')) {
				s++;
				continue;
			}
			if (csv) {
				if (*s != '\r' || s[1] != '\n')
					fail_msg("a CSV record does not end with CRLF");
				s += 2;
			} else {
				if (*s != '\n')
					fail_msg("a TSV record does not end with LF");
				s++;
			}
			break;
		}
	}
	free(buf);
	return t;
}

static size_t nkeys_of(const char *by)
{
	size_t n = 1;
	for (const char *p = by ? by : "model"; *p; p++)
		n += *p == ',';
	return n;
}

/* The report's rows, read back from the given format. */
static void parse_report(rows *out, const char *text, const char *format, const char *by)
{
	memset(out, 0, sizeof(*out));
	size_t nkeys = nkeys_of(by);
	if (!strcmp(format, "json")) {
		json_error_t err;
		json_t *a = json_loads(text, 0, &err);
		if (!json_is_array(a))
			fail_msg("not a JSON array (%s):\n%s", err.text, text);
		size_t i;
		json_t *o;
		json_array_foreach(a, i, o) take_object(out, o, nkeys);
		json_decref(a);
	} else if (!strcmp(format, "ndjson")) {
		const char *p = text;
		while (*p) {
			const char *nl = strchr(p, '\n');
			if (!nl)
				fail_msg("NDJSON without a final newline");
			json_error_t err;
			json_t *o = json_loadb(p, (size_t)(nl - p), 0, &err);
			if (!o)
				fail_msg("NDJSON line is not JSON: %s", err.text);
			take_object(out, o, nkeys);
			json_decref(o);
			p = nl + 1;
		}
	} else {
		bool csv = !strcmp(format, "csv");
		table_text t = parse_delimited(text, csv);
		if (t.n < 1)
			fail_msg("no header in:\n%s", text);
		for (size_t i = 1; i < t.n; i++) {
			if (t.nf[i] != t.nf[0])
				fail_msg("%s record %zu has %zu fields, the header %zu", format, i, t.nf[i], t.nf[0]);
			take_record(out, t.rec[0], t.rec[i], t.nf[i], nkeys);
		}
		tt_free(&t);
	}
}

static void compare(const char *what, const rows *got, const rows *want)
{
	for (size_t i = 0; i < want->n; i++) {
		const row *w = &want->r[i], *g = rows_find(got, w->key);
		if (!g)
			fail_msg("%s: no row for %s", what, w->key);
		for (int c = 0; c < 4; c++)
			if (g->n[c] != w->n[c])
				fail_msg("%s: %s %s is %lld, the events say %lld", what, w->key, figures[c], g->n[c],
				         w->n[c]);
		if (g->cost != w->cost)
			fail_msg("%s: %s cost is %lld micro-USD, the events say %lld", what, w->key, g->cost, w->cost);
	}
	if (got->n != want->n)
		fail_msg("%s: %zu rows, the events give %zu", what, got->n, want->n);
}

/* Runs the report (identity args, then `usage report`, then args) and compares it. */
static void check_report(const char *what, const char *const *env, const char *const *identity,
                         const char *format, const char *by, const char *const *args, const filter *f)
{
	const char *argv[40];
	size_t n = 0;
	argv[n++] = "--format";
	argv[n++] = format;
	for (size_t i = 0; identity && identity[i]; i++)
		argv[n++] = identity[i];
	argv[n++] = "usage";
	argv[n++] = "report";
	if (by) {
		argv[n++] = "--by";
		argv[n++] = by;
	}
	for (size_t i = 0; args && args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	run_result r;
	run_env(&r, env ? env : clock_env, argv);
	char label[512];
	snprintf(label, sizeof(label), "%s (--format %s --by %s)", what, format, by ? by : "(default)");
	expect_exit(&r, 0, label);
	rows got, want;
	parse_report(&got, r.out, format, by);
	run_result_free(&r);
	expected(&want, by, f);
	compare(label, &got, &want);
	rows_free(&got);
	rows_free(&want);
}

/* ---- tests --------------------------------------------------------------------------------------- */

static const char *const groupings[] = {
	"org", "model", "user", "day", "day,model", "user,model", "org,day", "model,user,day",
	"org,model,user,day", NULL,
};

static void test_every_grouping_and_filter(void **state)
{
	(void)state;
	char legal_id[32];
	char *id = testdb_value(owner, "SELECT id FROM aiplat.ai_models_system WHERE name = 'Legal Document Analyst'",
	                        0, NULL);
	snprintf(legal_id, sizeof(legal_id), "%s", id);
	free(id);
	static const filter none = { 0 };
	const filter by_user = { .user = "alice@acme-legal.test" };
	const filter by_model = { .model = "Legal Document Analyst" };
	const filter window = { .since = "2026-03-01", .until = "2026-03-10" };
	const filter all_three = { .user = "leo@little-learners.test", .model = "Education Tutor (Trial)",
	                           .since = "2026-03-15", .until = "2026-03-16" };
	const filter ages = { .since = "2026-03-08", .until = "2026-03-15" };   /* 7d .. today at the clock */
	const filter one_org = { .org = "harbor-realty" };
	const filter odd = { .model = ODD_MODEL, .since = "2026-03-02" };
	const struct {
		const char *what;
		const char *const *args;
		const char *const *identity;
		const filter *f;
	} cases[] = {
		{ "no filter", NULL, NULL, &none },
		{ "--user", (const char *const[]){ "--user", "alice@acme-legal.test", NULL }, NULL, &by_user },
		{ "--model", (const char *const[]){ "--model", "Legal Document Analyst", NULL }, NULL, &by_model },
		{ "--model by id", (const char *const[]){ "--model", legal_id, NULL }, NULL, &by_model },
		{ "--since/--until", (const char *const[]){ "--since", "2026-03-01", "--until", "2026-03-10", NULL },
		  NULL, &window },
		{ "--user --model --since --until",
		  (const char *const[]){ "--user", "leo@little-learners.test", "--model", "Education Tutor (Trial)",
		                         "--since", "2026-03-15", "--until", "2026-03-16", NULL }, NULL, &all_three },
		{ "ages", (const char *const[]){ "--since", "7d", "--until", "today", NULL }, NULL, &ages },
		{ "one organisation (--org)", NULL, (const char *const[]){ "--org", "harbor-realty", NULL }, &one_org },
		{ "the odd model", (const char *const[]){ "--model", ODD_MODEL, "--since", "2026-03-02", NULL }, NULL,
		  &odd },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (size_t g = 0; groupings[g]; g++)
			check_report(cases[c].what, NULL, cases[c].identity, "json", groupings[g], cases[c].args,
			             cases[c].f);
	/* No --by: by model. */
	check_report("default grouping", NULL, NULL, "json", NULL, NULL, &none);

	/* The data does exercise local days: by UTC day the totals would differ. */
	assert_true(count("SELECT count(*) FROM aiplat.usage_events e JOIN aiplat.organizations o"
	                  "    ON o.id = e.organization_id"
	                  " WHERE (e.occurred_at AT TIME ZONE o.time_zone)::date <> (e.occurred_at AT TIME ZONE 'UTC')::date")
	            >= 20);
	run_result r;
	RUN(&r, "usage", "report", "--by", "bogus");
	expect_exit(&r, 2, "an unknown grouping");
	run_result_free(&r);
	RUN(&r, "usage", "report", "--since", "last tuesday");
	expect_exit(&r, 2, "an unreadable day");
	run_result_free(&r);
}

static void test_period(void **state)
{
	(void)state;
	/* At the clock (15 March 12:00Z) it is 15 March everywhere: the day, the
	 * ISO week from Monday 9 March, the month. */
	const filter day = { .since = "2026-03-15", .until = "2026-03-16" };
	const filter week = { .since = "2026-03-09", .until = "2026-03-16" };
	const filter month = { .since = "2026-03-01", .until = "2026-04-01" };
	const char *const day_args[] = { "--period", "day", NULL }, *const week_args[] = { "--period", "week", NULL },
	                  *const month_args[] = { "--period", "month", NULL };
	for (size_t g = 0; groupings[g]; g++) {
		check_report("--period day", NULL, NULL, "json", groupings[g], day_args, &day);
		check_report("--period week", NULL, NULL, "json", groupings[g], week_args, &week);
		check_report("--period month", NULL, NULL, "json", groupings[g], month_args, &month);
	}
	/* The local day is not the UTC day: Tokyo's 15 March holds an event of
	 * 14 March UTC and not one of 15 March UTC. */
	rows want;
	expected(&want, "org", &day);
	const row *tokyo = rows_find(&want, "little-learners");
	assert_non_null(tokyo);
	long utc = count("SELECT coalesce(sum(tokens_in), 0) FROM aiplat.usage_events e"
	                 "  JOIN aiplat.organizations o ON o.id = e.organization_id"
	                 " WHERE o.slug = 'little-learners' AND e.occurred_at >= '2026-03-15T00:00:00Z'"
	                 "   AND e.occurred_at < '2026-03-16T00:00:00Z'");
	assert_true(tokyo->n[0] != utc);
	rows_free(&want);

	/* Later that day (20:00Z) Tokyo is already on 16 March, in a new week;
	 * everyone else is still on the 15th. */
	const char *const later[] = { "PGOPTIONS=-c aiplat.test_now=2026-03-15T20:00:00Z", "AIPLAT_AS=",
	                              "AIPLAT_ORG=", NULL };
	const filter day2 = { .since = "2026-03-15", .until = "2026-03-16", .tokyo_since = "2026-03-16",
	                      .tokyo_until = "2026-03-17" };
	const filter week2 = { .since = "2026-03-09", .until = "2026-03-16", .tokyo_since = "2026-03-16",
	                       .tokyo_until = "2026-03-23" };
	check_report("--period day, Tokyo past midnight", later, NULL, "json", "org,day", day_args, &day2);
	check_report("--period week, Tokyo in a new week", later, NULL, "json", "org,user", week_args, &week2);
	check_report("--period month at 20:00Z", later, NULL, "json", "org", month_args, &month);

	run_result r;
	RUN(&r, "usage", "report", "--period", "day", "--since", "2026-03-01");
	expect_exit(&r, 2, "--period with --since");
	run_result_free(&r);
	RUN(&r, "usage", "report", "--period", "fortnight");
	expect_exit(&r, 2, "an unknown period");
	run_result_free(&r);
}

static void test_top(void **state)
{
	(void)state;
	static const filter none = { 0 };
	static const struct { const char *by, *n; } cases[] = {
		{ "user", "3" }, { "org,model", "5" }, { "day", "1" }, { "model", "100" },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		run_result r;
		RUN(&r, "--format", "json", "usage", "report", "--by", cases[c].by, "--top", cases[c].n);
		expect_exit(&r, 0, "--top");
		rows got, want;
		parse_report(&got, r.out, "json", cases[c].by);
		run_result_free(&r);
		expected(&want, cases[c].by, &none);
		size_t n = (size_t)atoi(cases[c].n);
		assert_int_equal(got.n, want.n < n ? want.n : n);
		long long smallest_shown = -1;
		for (size_t i = 0; i < got.n; i++) {
			const row *w = rows_find(&want, got.r[i].key);
			if (!w)
				fail_msg("--top: unknown row %s", got.r[i].key);
			for (int k = 0; k < 4; k++)
				assert_int_equal(got.r[i].n[k], w->n[k]);
			assert_int_equal(got.r[i].cost, w->cost);
			if (i > 0 && got.r[i].n[2] > got.r[i - 1].n[2])
				fail_msg("--top is not ordered by tokens: %s after %s", got.r[i].key, got.r[i - 1].key);
			smallest_shown = got.r[i].n[2];
		}
		/* Nothing left out is larger than what is shown. */
		for (size_t i = 0; i < want.n; i++)
			if (!rows_find(&got, want.r[i].key) && want.r[i].n[2] > smallest_shown)
				fail_msg("--top %s --by %s left out %s (%lld tokens) but shows %lld", cases[c].n, cases[c].by,
				         want.r[i].key, want.r[i].n[2], smallest_shown);
		rows_free(&got);
		rows_free(&want);
	}
	run_result r;
	RUN(&r, "usage", "report", "--top", "0");
	expect_exit(&r, 2, "--top 0");
	run_result_free(&r);
	RUN(&r, "usage", "report", "--top", "-2");
	expect_exit(&r, 2, "--top -2");
	run_result_free(&r);
}

static void test_formats(void **state)
{
	(void)state;
	static const filter none = { 0 };
	const filter window = { .since = "2026-03-01", .until = "2026-03-10" };
	const char *const window_args[] = { "--since", "2026-03-01", "--until", "2026-03-10", NULL };
	static const char *const formats[] = { "json", "ndjson", "csv", "tsv", NULL };
	for (size_t i = 0; formats[i]; i++) {
		check_report("format", NULL, NULL, formats[i], "org,model", NULL, &none);
		check_report("format", NULL, NULL, formats[i], "user,day", window_args, &window);
		check_report("format", NULL, NULL, formats[i], "model", NULL, &none);
	}
}

/* ---- Prometheus ------------------------------------------------------------------------------------ */

typedef struct sample {
	char name[128];
	char *label_name[8];
	char *label_value[8];
	int nlabels;
	double value;
} sample;

static void sample_free(sample *s)
{
	for (int i = 0; i < s->nlabels; i++) {
		free(s->label_name[i]);
		free(s->label_value[i]);
	}
	s->nlabels = 0;
}

static const char *label(const sample *s, const char *name)
{
	for (int i = 0; i < s->nlabels; i++)
		if (!strcmp(s->label_name[i], name))
			return s->label_value[i];
	return NULL;
}

static bool name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
	       (!first && c >= '0' && c <= '9');
}

/* Parses one sample line of the text format (0.0.4); false when malformed. */
static bool parse_sample(const char *line, sample *s)
{
	memset(s, 0, sizeof(*s));
	const char *p = line;
	size_t n = 0;
	while (name_char(*p, n == 0, true) && n < sizeof(s->name) - 1)
		s->name[n++] = *p++;
	if (n == 0)
		return false;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			if (s->nlabels == 8)
				return false;
			const char *ln = p;
			while (name_char(*p, p == ln, false))
				p++;
			if (p == ln || *p != '=' || p[1] != '"')
				return false;
			s->label_name[s->nlabels] = strndup(ln, (size_t)(p - ln));
			p += 2;
			char *v = malloc(strlen(p) + 1);
			size_t vl = 0;
			for (;; p++) {
				if (!*p || *p == '\n') {
					free(v);
					free(s->label_name[s->nlabels]);
					return false;
				}
				if (*p == '"')
					break;
				if (*p == '\\') {
					p++;
					if (*p == '\\' || *p == '"')
						v[vl++] = *p;
					else if (*p == 'n')
						v[vl++] = '\n';
					else {
						free(v);
						free(s->label_name[s->nlabels]);
						return false;
					}
				} else {
					v[vl++] = *p;
				}
			}
			v[vl] = '\0';
			s->label_value[s->nlabels++] = v;
			p++;
			for (int i = 0; i < s->nlabels - 1; i++)
				if (!strcmp(s->label_name[i], s->label_name[s->nlabels - 1]))
					return false;   /* a label twice */
			if (*p == ',')
				p++;
			else if (*p != '}')
				return false;
		}
		p++;
	}
	if (*p != ' ')
		return false;
	p++;
	char *end;
	s->value = strtod(p, &end);
	return end != p && *end == '\0';
}

typedef struct family {
	char name[128];
	int help, type;
	bool closed;   /* another family started after it */
	char **series;
	size_t nseries;
} family;

/*
 * Validates exposition text and folds the samples into report rows (keys:
 * the label columns of `by`). Every family must be announced by one HELP
 * and one TYPE gauge, its samples together and each series once; every
 * sample must carry `extra_name`=`extra_value` when given.
 */
static void parse_prometheus(rows *out, const char *text, const char *by, const char *extra_name,
                             const char *extra_value)
{
	memset(out, 0, sizeof(*out));
	family fam[8];
	size_t nfam = 0;
	family *cur = NULL;
	char *copy = strdup(text);
	if (!*copy || copy[strlen(copy) - 1] != '\n')
		fail_msg("the exposition does not end with a newline:\n%s", text);
	char dims[4][16];
	size_t ndims = 0;
	char bycopy[64];
	snprintf(bycopy, sizeof(bycopy), "%s", by);
	for (char *save = NULL, *d = strtok_r(bycopy, ",", &save); d; d = strtok_r(NULL, ",", &save))
		snprintf(dims[ndims++], sizeof(dims[0]), "%s", d);
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7)) {
			char name[128];
			int used = 0;
			if (sscanf(line + 7, "%127s%n", name, &used) != 1)
				fail_msg("bad comment line: %s", line);
			family *f = NULL;
			for (size_t i = 0; i < nfam; i++)
				if (!strcmp(fam[i].name, name))
					f = &fam[i];
			if (!f) {
				assert_true(nfam < 8);
				f = &fam[nfam++];
				memset(f, 0, sizeof(*f));
				snprintf(f->name, sizeof(f->name), "%s", name);
			}
			if (f->closed || (f->nseries > 0))
				fail_msg("%s: HELP/TYPE after its samples or after another family", name);
			if (cur && cur != f)
				cur->closed = true;
			cur = f;
			if (line[2] == 'H') {
				f->help++;
				if (line[7 + used] != ' ' || !line[8 + used])
					fail_msg("HELP without text: %s", line);
			} else {
				f->type++;
				if (strcmp(line + 7 + used, " gauge") != 0)
					fail_msg("TYPE is not gauge: %s", line);
			}
			continue;
		}
		if (line[0] == '#')
			fail_msg("unexpected comment: %s", line);
		sample s;
		if (!parse_sample(line, &s)) {
			sample_free(&s);
			fail_msg("not a valid sample line: \"%s\"", line);
		}
		if (!cur || strcmp(cur->name, s.name) != 0 || !cur->type || !cur->help)
			fail_msg("sample of %s outside its family (HELP, TYPE, then samples): %s", s.name, line);
		if (extra_name && (!label(&s, extra_name) || strcmp(label(&s, extra_name), extra_value) != 0))
			fail_msg("sample without %s=\"%s\": %s", extra_name, extra_value, line);
		/* The series (its labels, sorted by name) appears once. */
		char series[1024] = "";
		int order[8];
		for (int i = 0; i < s.nlabels; i++)
			order[i] = i;
		for (int i = 0; i < s.nlabels; i++)
			for (int j = i + 1; j < s.nlabels; j++)
				if (strcmp(s.label_name[order[j]], s.label_name[order[i]]) < 0) {
					int t = order[i];
					order[i] = order[j];
					order[j] = t;
				}
		for (int i = 0; i < s.nlabels; i++) {
			strncat(series, s.label_name[order[i]], 100);
			strcat(series, "=");
			strncat(series, s.label_value[order[i]], 200);
			strcat(series, ";");
		}
		for (size_t i = 0; i < cur->nseries; i++)
			if (!strcmp(cur->series[i], series))
				fail_msg("series repeated: %s", line);
		cur->series = realloc(cur->series, (cur->nseries + 1) * sizeof(char *));
		cur->series[cur->nseries++] = strdup(series);

		/* Into the report's rows. */
		char key[1024] = "";
		for (size_t d = 0; d < ndims; d++) {
			const char *v = label(&s, dims[d]);
			if (!v)
				fail_msg("sample without the %s label: %s", dims[d], line);
			if (d)
				strcat(key, "|");
			strncat(key, v, sizeof(key) - strlen(key) - 1);
		}
		row *r = rows_find(out, key);
		if (!r)
			r = rows_add(out, key);
		const char *dir = label(&s, "direction");
		if (!strcmp(s.name, "aiplat_usage_tokens") && dir && !strcmp(dir, "in"))
			r->n[0] = rounded(s.value);
		else if (!strcmp(s.name, "aiplat_usage_tokens") && dir && !strcmp(dir, "out"))
			r->n[1] = rounded(s.value);
		else if (!strcmp(s.name, "aiplat_usage_requests") && !dir)
			r->n[3] = rounded(s.value);
		else if (!strcmp(s.name, "aiplat_usage_cost_usd") && !dir)
			r->cost = micro(s.value);
		else
			fail_msg("unexpected sample: %s", line);
		sample_free(&s);
	}
	free(copy);
	static const char *const names[] = { "aiplat_usage_tokens", "aiplat_usage_requests",
	                                     "aiplat_usage_cost_usd" };
	for (size_t i = 0; i < 3; i++) {
		family *f = NULL;
		for (size_t k = 0; k < nfam; k++)
			if (!strcmp(fam[k].name, names[i]))
				f = &fam[k];
		if (!f)
			fail_msg("no %s family in:\n%s", names[i], text);
		if (f->help != 1 || f->type != 1)
			fail_msg("%s: %d HELP and %d TYPE lines", names[i], f->help, f->type);
		/* Two series per row for tokens (in, out), one for the others. */
		if (f->nseries != out->n * (i == 0 ? 2 : 1))
			fail_msg("%s has %zu series for %zu rows", names[i], f->nseries, out->n);
	}
	for (size_t k = 0; k < nfam; k++) {
		for (size_t i = 0; i < fam[k].nseries; i++)
			free(fam[k].series[i]);
		free(fam[k].series);
	}
	for (size_t i = 0; i < out->n; i++)
		out->r[i].n[2] = out->r[i].n[0] + out->r[i].n[1];
}

static void test_prometheus(void **state)
{
	(void)state;
	static const filter none = { 0 };
	const filter month = { .since = "2026-03-01", .until = "2026-04-01" };
	static const char *const bys[] = { "org", "org,model", "user,model", "day", NULL };
	for (size_t i = 0; bys[i]; i++) {
		run_result r;
		RUN(&r, "--format", "prometheus", "usage", "report", "--by", bys[i]);
		expect_exit(&r, 0, "--format prometheus");
		rows got, want;
		parse_prometheus(&got, r.out, bys[i], NULL, NULL);
		expected(&want, bys[i], &none);
		char what[128];
		snprintf(what, sizeof(what), "prometheus --by %s", bys[i]);
		compare(what, &got, &want);
		/* The model whose name needs escaping is written escaped. */
		if (strstr(bys[i], "model"))
			expect_in(r.out, "model=\"Odd \\\"quoted\\\" \\\\ model\\nsecond line\"", what);
		run_result_free(&r);
		rows_free(&got);
		rows_free(&want);
	}
	/* With --period, every sample says which. */
	run_result r;
	RUN(&r, "--format", "prometheus", "usage", "report", "--by", "org,model", "--period", "month");
	expect_exit(&r, 0, "--format prometheus --period month");
	rows got, want;
	parse_prometheus(&got, r.out, "org,model", "period", "month");
	expected(&want, "org,model", &month);
	compare("prometheus --period month", &got, &want);
	run_result_free(&r);
	rows_free(&got);
	rows_free(&want);
	/* As an organisation admin: that organisation's series only. */
	const filter acme = { .org = "acme-legal" };
	RUN(&r, "--format", "prometheus", "--as", "alice@acme-legal.test", "--org", "acme-legal", "usage",
	    "report", "--by", "org,user");
	expect_exit(&r, 0, "prometheus as an admin");
	parse_prometheus(&got, r.out, "org,user", NULL, NULL);
	expected(&want, "org,user", &acme);
	compare("prometheus as an admin", &got, &want);
	run_result_free(&r);
	rows_free(&got);
	rows_free(&want);

	/* Only the report speaks Prometheus. */
	static const char *const others[][4] = {
		{ "tenant", "list", NULL, NULL },
		{ "usage", "show", "--user", "aaron@acme-legal.test" },
		{ "model", "list", NULL, NULL },
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		const char *argv[10] = { "--format", "prometheus", "--org", "acme-legal" };
		size_t n = 4;
		for (size_t k = 0; k < 4 && others[i][k]; k++)
			argv[n++] = others[i][k];
		argv[n] = NULL;
		run_env(&r, clock_env, argv);
		expect_exit(&r, 2, "--format prometheus on another command");
		assert_string_equal(r.out, "");
		run_result_free(&r);
	}
}

/* ---- charts ---------------------------------------------------------------------------------------- */

static size_t count_char(const char *s, size_t n, char c)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

/* Runs `usage report --by BY --chart` (ASCII, 100 columns) and checks one
 * bar line per row, within the width, longer bars for more tokens. Lines
 * are matched to rows by their labels when match_labels (else only counted:
 * how a label with control characters is shown is not the test's to say). */
/* Records the first failure and leaves the loop; the caller frees first. */
#define LATER(...) do { snprintf(msg, sizeof(msg), __VA_ARGS__); goto out; } while (0)

static void check_chart(const char *by, bool match_labels)
{
	static const filter none = { 0 };
	char msg[1024] = "";
	run_result r;
	RUN(&r, "--format", "table", "usage", "report", "--by", by, "--chart");
	expect_exit(&r, 0, "--chart");
	rows want;
	expected(&want, by, &none);
	/* One bar line per row, in ASCII ('#') under LANG=C, within the width. */
	size_t lines = 0;
	long long max_tokens = 0;
	size_t max_bar = 0;
	size_t bars[256];
	long long tokens[256];
	for (const char *p = r.out; *p; lines++) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			LATER("chart line without newline");
		size_t len = (size_t)(nl - p);
		if (len > 100)
			LATER("chart line wider than COLUMNS=100 (%zu): %.*s", len, (int)len, p);
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)p[i] >= 0x80)
				LATER("non-ASCII in an ASCII chart: %.*s", (int)len, p);
		/* The row it belongs to: its label is what comes before the bar
		 * (cut short with '~' when long). */
		const char *hash = memchr(p, '#', len);
		if (!hash)
			LATER("a chart line without a bar (a row split over lines?): %.*s", (int)len, p);
		size_t lab = (size_t)(hash - p);
		while (lab > 0 && p[lab - 1] == ' ')
			lab--;
		bool cut = lab > 0 && p[lab - 1] == '~';
		if (cut)
			lab--;
		const row *match = NULL;
		size_t matches = 0;
		for (size_t i = 0; i < want.n; i++) {
			char lbl[512];
			snprintf(lbl, sizeof(lbl), "%s", want.r[i].key);
			for (char *q = lbl; (q = strchr(q, '|')) != NULL;) {
				memmove(q + 3, q + 1, strlen(q + 1) + 1);
				memcpy(q, " / ", 3);
				q += 3;
			}
			if (cut ? lab < strlen(lbl) && !strncmp(lbl, p, lab) : strlen(lbl) == lab && !strncmp(lbl, p, lab)) {
				match = &want.r[i];
				matches++;
			}
		}
		if (matches > 1 && !cut)
			LATER("two rows match chart line %.*s", (int)len, p);
		if (!match && match_labels)
			LATER("chart line for no row: %.*s", (int)len, p);
		if (lines >= 256)
			LATER("too many chart lines");
		bars[lines] = count_char(p, len, '#');
		tokens[lines] = matches == 1 ? match->n[2] : -1;   /* ambiguous when cut */
		if (match && match->n[2] > max_tokens) {
			max_tokens = match->n[2];
			max_bar = bars[lines];
		}
		p = nl + 1;
	}
	if (lines != want.n)
		LATER("%zu chart lines for %zu rows", lines, want.n);
	/* Longer bars for more tokens. */
	for (size_t i = 0; i < lines; i++) {
		if (tokens[i] >= 0 && bars[i] > max_bar)
			LATER("a bar longer (%zu) than the largest value's (%zu)", bars[i], max_bar);
		for (size_t j = 0; j < lines; j++)
			if (tokens[i] >= 0 && tokens[j] >= 0 && tokens[i] > tokens[j] && bars[i] < bars[j])
				LATER("%lld tokens drawn shorter (%zu) than %lld (%zu)", tokens[i], bars[i], tokens[j],
				         bars[j]);
	}
	if (max_bar < 30)
		LATER("the largest bar has only %zu cells", max_bar);
out:
	run_result_free(&r);
	rows_free(&want);
	if (msg[0])
		fail_msg("--by %s --chart: %s", by, msg);
}
#undef LATER

static void test_chart(void **state)
{
	(void)state;
	static const filter none = { 0 };
	static const char *const bys[] = { "org", "user", "day", "org,user", NULL };
	for (size_t b = 0; bys[b]; b++)
		check_chart(bys[b], true);
	/* A UTF-8 terminal gets block characters. */
	const char *const utf8[] = { "PGOPTIONS=-c aiplat.test_now=" TEST_NOW, "AIPLAT_AS=", "AIPLAT_ORG=",
	                             "LC_ALL=C.UTF-8", "COLUMNS=100", NULL };
	run_result r;
	const char *const argv[] = { "--format", "table", "usage", "report", "--by", "org", "--chart", NULL };
	run_env(&r, utf8, argv);
	expect_exit(&r, 0, "--chart in UTF-8");
	expect_in(r.out, "\xe2\x96\x88", "UTF-8 chart");
	assert_null(strchr(r.out, '#'));
	rows want;
	expected(&want, "org", &none);
	assert_int_equal(count_char(r.out, strlen(r.out), '\n'), want.n);
	rows_free(&want);
	run_result_free(&r);
	RUN(&r, "--format", "json", "usage", "report", "--chart");
	expect_exit(&r, 2, "--chart with --format json");
	run_result_free(&r);
}

/* A label with a line feed (a model's name may hold one) still makes one
 * line per row: the table output shows control characters escaped. */
static void test_chart_label_with_newline(void **state)
{
	(void)state;
	check_chart("model", false);
	check_chart("org,model", false);
}

/* ---- who sees what ------------------------------------------------------------------------------------ */

static void test_row_level_security(void **state)
{
	(void)state;
	static const filter none = { 0 };
	const filter acme = { .org = "acme-legal" };
	const filter brightpath = { .org = "brightpath" };
	const char *const alice[] = { "--as", "alice@acme-legal.test", "--org", "acme-legal", NULL };
	/* Other organisations do have usage. */
	assert_true(count("SELECT count(DISTINCT organization_id) FROM aiplat.usage_events") >= 5);

	/* An organisation admin: the organisation, everyone in it. */
	for (size_t g = 0; groupings[g]; g++)
		check_report("an admin", NULL, alice, "json", groupings[g], NULL, &acme);
	run_result r;
	RUN(&r, "--format", "json", "--as", "alice@acme-legal.test", "--org", "acme-legal", "usage", "report",
	    "--by", "org");
	expect_exit(&r, 0, "an admin's report by org");
	rows got;
	parse_report(&got, r.out, "json", "org");
	assert_int_equal(got.n, 1);
	assert_string_equal(got.r[0].key, "acme-legal");
	rows_free(&got);
	run_result_free(&r);
	/* ... and another organisation's usage is refused. */
	RUN(&r, "--format", "json", "--as", "alice@acme-legal.test", "--org", "brightpath", "usage", "report",
	    "--by", "org");
	expect_exit(&r, 6, "an admin asking for another organisation");
	assert_string_equal(r.out, "");
	run_result_free(&r);
	RUN(&r, "--format", "json", "--as", "bella@brightpath.test", "--org", "acme-legal", "usage", "report");
	expect_exit(&r, 6, "an admin of another organisation");
	assert_string_equal(r.out, "");
	run_result_free(&r);
	RUN(&r, "--format", "json", "--as", "alice@acme-legal.test", "usage", "report", "--by", "org");
	if (r.status == 0) {   /* her one organisation, taken as meant */
		parse_report(&got, r.out, "json", "org");
		assert_int_equal(got.n, 1);
		assert_string_equal(got.r[0].key, "acme-legal");
		rows_free(&got);
	} else if (r.status != 2 && r.status != 6) {
		fail_msg("an admin without --org: exit %d\n%s%s", r.status, r.out, r.err);
	}
	run_result_free(&r);

	/* A plain user and a viewer: their own usage only. */
	static const char *const own[][2] = { { "aaron@acme-legal.test", "acme-legal" },
	                                      { "ava@acme-legal.test", "acme-legal" },
	                                      { "vic@pixel-forge.test", "pixel-forge" } };
	for (size_t i = 0; i < 3; i++) {
		const char *const who[] = { "--as", own[i][0], "--org", own[i][1], NULL };
		const filter mine = { .org = own[i][1], .user = own[i][0] };
		for (size_t g = 0; groupings[g]; g++)
			check_report("a person's own usage", NULL, who, "json", groupings[g], NULL, &mine);
		const char *const self[] = { "--user", own[i][0], NULL };
		check_report("a person naming themselves", NULL, who, "json", "model", self, &mine);
		RUN(&r, "--format", "json", "--as", own[i][0], "--org", own[i][1], "usage", "report", "--by", "user");
		expect_exit(&r, 0, "a person's report by user");
		parse_report(&got, r.out, "json", "user");
		assert_int_equal(got.n, 1);
		assert_string_equal(got.r[0].key, own[i][0]);
		rows_free(&got);
		run_result_free(&r);
	}
	/* A superadmin and the platform: everything, or one organisation with --org. */
	const char *const ops[] = { "--as", "ops@aiplat.test", NULL };
	const char *const ops_bp[] = { "--as", "ops@aiplat.test", "--org", "brightpath", NULL };
	const char *const platform_bp[] = { "--org", "brightpath", NULL };
	for (size_t g = 0; groupings[g]; g++) {
		check_report("a superadmin", NULL, ops, "json", groupings[g], NULL, &none);
		check_report("the platform", NULL, NULL, "json", groupings[g], NULL, &none);
	}
	check_report("a superadmin in one organisation", NULL, ops_bp, "json", "org,user", NULL, &brightpath);
	check_report("the platform in one organisation", NULL, platform_bp, "json", "org,model", NULL, &brightpath);
	const filter alice_only = { .user = "alice@acme-legal.test" };
	const char *const alice_arg[] = { "--user", "alice@acme-legal.test", NULL };
	check_report("a superadmin about someone", NULL, ops, "json", "model", alice_arg, &alice_only);
}

/* A plain user asking for someone else's usage is refused (exit 6), whoever it is. */
static void test_user_asking_for_someone_else(void **state)
{
	(void)state;
	static const char *const others[] = { "alice@acme-legal.test", "ava@acme-legal.test", "ben@brightpath.test" };
	static const char *const askers[][2] = { { "aaron@acme-legal.test", "acme-legal" },
	                                         { "ava@acme-legal.test", "acme-legal" } };
	for (size_t a = 0; a < 2; a++)
		for (size_t i = 0; i < 3; i++) {
			if (!strcmp(askers[a][0], others[i]))
				continue;
			run_result r;
			RUN(&r, "--format", "json", "--as", askers[a][0], "--org", askers[a][1], "usage", "report",
			    "--user", others[i]);
			char what[160];
			snprintf(what, sizeof(what), "%s asking for %s's usage", askers[a][0], others[i]);
			expect_exit(&r, 6, what);
			assert_string_equal(r.out, "");
			run_result_free(&r);
		}
}

/* ---- usage show -------------------------------------------------------------------------------------- */

/* The row for a model in `usage show --format json`. */
static json_t *show_row(const char *const *identity, const char *user, const char *model, int want_exit)
{
	const char *argv[20] = { "--format", "json" };
	size_t n = 2;
	for (size_t i = 0; identity[i]; i++)
		argv[n++] = identity[i];
	argv[n++] = "usage";
	argv[n++] = "show";
	if (user) {
		argv[n++] = "--user";
		argv[n++] = user;
	}
	argv[n] = NULL;
	run_result r;
	run_env(&r, clock_env, argv);
	expect_exit(&r, want_exit, "usage show");
	if (want_exit != 0) {
		assert_string_equal(r.out, "");
		run_result_free(&r);
		return NULL;
	}
	json_t *list = json_loads(r.out, 0, NULL);
	if (!json_is_array(list))
		fail_msg("usage show: not a JSON array:\n%s", r.out);
	run_result_free(&r);
	size_t i;
	json_t *o, *found = NULL;
	json_array_foreach(list, i, o) {
		if (!strcmp(json_string_value(json_object_get(o, "model")), model))
			found = json_incref(o);
	}
	json_decref(list);
	if (!found)
		fail_msg("usage show has no row for %s", model);
	return found;
}

/* What the counters say: used this period, active reservations, the limit. */
static void truth(const char *org, const char *user, const char *model, long long *used, long long *reserved,
                  long long *limit)
{
	const char *p[3] = { org, user, model };
	char *v = testdb_value(owner,
		"SELECT concat_ws(' ', coalesce((SELECT c.tokens_used FROM aiplat.ai_model_usage c"
		"                          WHERE c.organization_id = o.id AND c.user_id = u.id AND c.model_id = m.id"
		"                            AND c.period_type = coalesce(m.token_limit_period, 'monthly')"
		"                            AND c.period_start = date_trunc('month', '" TEST_NOW "'::timestamptz"
		"                                                 AT TIME ZONE o.time_zone) AT TIME ZONE o.time_zone), 0),"
		"       (SELECT coalesce(sum(r.tokens), 0) FROM aiplat.quota_reservations r"
		"         WHERE r.organization_id = o.id AND r.user_id = u.id AND r.model_id = m.id"
		"           AND r.status = 'active'),"
		"       CASE WHEN m.is_free THEN -1 ELSE coalesce(cfg.token_limit_per_user, m.token_limit_amount) END)"
		"  FROM aiplat.organizations o, aiplat.users u, aiplat.ai_models_system m"
		"  JOIN aiplat.org_system_model_config cfg ON cfg.system_model_id = m.id"
		" WHERE o.slug = $1 AND u.email = $2 AND m.name = $3 AND cfg.organization_id = o.id", 3, p);
	assert_int_equal(sscanf(v, "%lld %lld %lld", used, reserved, limit), 3);
	free(v);
}

static const char *warning_for(long long used, long long limit)
{
	if (limit <= 0)
		return NULL;
	double ratio = (double)used / (double)limit;
	return ratio >= 1.0 ? "reached" : ratio >= 0.9 ? "almost" : ratio >= 0.8 ? "approaching" : NULL;
}

static void expect_show(const char *const *identity, const char *user, const char *model,
                        long long want_used, long long want_reserved, const char *want_warning)
{
	long long used, reserved, limit;
	truth("acme-legal", "aaron@acme-legal.test", model, &used, &reserved, &limit);
	/* The counters hold what the test consumed. */
	assert_int_equal(used, want_used);
	assert_int_equal(reserved, want_reserved);
	json_t *shown = show_row(identity, user, model, 0);
	assert_int_equal(json_integer_value(json_object_get(shown, "used")), used);
	assert_int_equal(json_integer_value(json_object_get(shown, "reserved")), reserved);
	json_t *lim = json_object_get(shown, "limit"), *warn = json_object_get(shown, "warning");
	if (limit < 0) {
		assert_true(json_is_null(lim));
	} else {
		assert_int_equal(json_integer_value(lim), limit);
	}
	const char *w = warning_for(used, limit);
	if (want_warning == NULL ? w != NULL : (w == NULL || strcmp(w, want_warning) != 0))
		fail_msg("the test's warning for %lld/%lld is off", used, limit);
	if (!w) {
		if (!json_is_null(warn))
			fail_msg("%s: warning %s at %lld/%lld", model, json_string_value(warn), used, limit);
	} else {
		if (!json_is_string(warn) || strcmp(json_string_value(warn), w) != 0)
			fail_msg("%s: warning %s at %lld/%lld, expected %s", model,
			         json_is_string(warn) ? json_string_value(warn) : "null", used, limit, w);
	}
	json_decref(shown);
}

static void consume(const char *mode, const char *model, const char *tokens, int want)
{
	run_result r;
	RUN(&r, "--org", "acme-legal", "quota", mode, "--user", "aaron@acme-legal.test", "--model", model, "--tokens",
	    tokens);
	expect_exit(&r, want, mode);
	run_result_free(&r);
}

static void test_show(void **state)
{
	(void)state;
	const char *const platform[] = { "--org", "acme-legal", NULL };
	const char *const admin[] = { "--as", "alice@acme-legal.test", "--org", "acme-legal", NULL };
	const char *const self[] = { "--as", "aaron@acme-legal.test", "--org", "acme-legal", NULL };
	const char *legal = "Legal Document Analyst", *basic = "Basic Assistant";
	/* aaron's limit on the analyst is the organisation's 20000 a month. */
	expect_show(platform, "aaron@acme-legal.test", legal, 0, 0, NULL);
	consume("consume", legal, "15000", 0);
	expect_show(platform, "aaron@acme-legal.test", legal, 15000, 0, NULL);
	consume("consume", legal, "1000", 0);
	expect_show(platform, "aaron@acme-legal.test", legal, 16000, 0, "approaching");
	expect_show(admin, "aaron@acme-legal.test", legal, 16000, 0, "approaching");
	expect_show(self, NULL, legal, 16000, 0, "approaching");
	consume("consume", legal, "2000", 0);
	expect_show(admin, "aaron@acme-legal.test", legal, 18000, 0, "almost");
	consume("reserve", legal, "1500", 0);
	expect_show(admin, "aaron@acme-legal.test", legal, 18000, 1500, "almost");
	expect_show(self, "aaron@acme-legal.test", legal, 18000, 1500, "almost");
	/* Past the limit with the reservation: denied, nothing changes. */
	consume("consume", legal, "1000", 1);
	expect_show(admin, "aaron@acme-legal.test", legal, 18000, 1500, "almost");
	consume("consume", legal, "500", 0);
	/* Usage that happened is recorded whatever the limit. */
	run_result r;
	RUN(&r, "--org", "acme-legal", "usage", "record", "--user", "aaron@acme-legal.test", "--model", legal,
	    "--tokens-in", "1500", "--at", TEST_NOW);
	expect_exit(&r, 0, "usage record");
	run_result_free(&r);
	expect_show(admin, "aaron@acme-legal.test", legal, 20000, 1500, "reached");
	/* A free model: used, no limit, no warning. */
	long long before, reserved, limit;
	truth("acme-legal", "aaron@acme-legal.test", basic, &before, &reserved, &limit);
	consume("consume", basic, "777", 0);
	expect_show(self, NULL, basic, before + 777, 0, NULL);

	/* Someone else's usage: admins yes, a user no. */
	show_row(self, "alice@acme-legal.test", legal, 6);
	show_row(self, "ava@acme-legal.test", legal, 6);
	const char *const viewer[] = { "--as", "ava@acme-legal.test", "--org", "acme-legal", NULL };
	show_row(viewer, "aaron@acme-legal.test", legal, 6);
	const char *const other_admin[] = { "--as", "bella@brightpath.test", "--org", "acme-legal", NULL };
	show_row(other_admin, "aaron@acme-legal.test", legal, 6);
	/* And the report agrees with the counters: the month's events of aaron on the analyst. */
	const filter mine = { .org = "acme-legal", .user = "aaron@acme-legal.test", .model = "Legal Document Analyst",
	                      .since = "2026-03-01", .until = "2026-04-01" };
	const char *const args[] = { "--model", "Legal Document Analyst", "--period", "month", NULL };
	check_report("after the consumes", NULL, self, "json", "user", args, &mine);
	rows want;
	expected(&want, "user", &mine);
	assert_int_equal(want.n, 1);
	assert_int_equal(want.r[0].n[2], 20000);
	rows_free(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_grouping_and_filter),
		cmocka_unit_test(test_period),
		cmocka_unit_test(test_top),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_chart),
		cmocka_unit_test(test_chart_label_with_newline),
		cmocka_unit_test(test_row_level_security),
		cmocka_unit_test(test_user_asking_for_someone_else),
		cmocka_unit_test(test_show),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
