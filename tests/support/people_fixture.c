/* The people tests' shared fixture and helpers: see people_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "people_fixture.h"

static testdb shared_db, fresh_db;
static PGconn *shared_conn, *fresh_conn;
/* The database the current test works on, and an owner connection to it. */
testdb *cur;
PGconn *cdb;
/* Login roles a test created: cluster-wide, dropped before the database. */
static char roles_made[8][64];
static int nroles_made;

/* What a test allocates is released after it, also when an assertion fails
 * half-way: outputs of the binary, JSON documents, query results, a connection. */
static run_result runs[24];
static int nruns;
static json_t *docs[24];
static int ndocs;
static char *strs[48];
static int nstrs;
PGconn *extra_conn;

static run_result *new_run(void)
{
	assert_true(nruns < 24);
	run_result *r = &runs[nruns++];
	r->out = r->err = NULL;
	return r;
}

json_t *keep_doc(json_t *doc)
{
	assert_true(ndocs < 24);
	return docs[ndocs++] = doc;
}

char *keep_str(char *s)
{
	assert_true(nstrs < 48);
	return strs[nstrs++] = s;
}

static void release_all(void)
{
	for (int i = 0; i < nruns; i++)
		run_result_free(&runs[i]);
	for (int i = 0; i < ndocs; i++)
		json_decref(docs[i]);
	for (int i = 0; i < nstrs; i++)
		free(strs[i]);
	nruns = ndocs = nstrs = 0;
	PQfinish(extra_conn);
	extra_conn = NULL;
}

/* ---- fixtures --------------------------------------------------------------------- */

int people_group_setup(void **state)
{
	(void)state;
	testdb_create(&shared_db, true);
	testdb_seed(&shared_db, true);
	shared_conn = testdb_connect(&shared_db);
	return 0;
}

int people_group_teardown(void **state)
{
	(void)state;
	PQfinish(shared_conn);
	testdb_drop(&shared_db);
	return 0;
}

int people_use_shared(void **state)
{
	(void)state;
	cur = &shared_db;
	cdb = shared_conn;
	return 0;
}

int people_done_shared(void **state)
{
	(void)state;
	release_all();
	return 0;
}

int people_use_fresh(void **state)
{
	(void)state;
	testdb_create(&fresh_db, true);
	testdb_seed(&fresh_db, true);
	fresh_conn = testdb_connect(&fresh_db);
	testdb_exec(fresh_conn, "SET client_min_messages = warning");   /* DROP ROLE IF EXISTS */
	cur = &fresh_db;
	cdb = fresh_conn;
	nroles_made = 0;
	return 0;
}

int people_drop_fresh(void **state)
{
	(void)state;
	release_all();
	for (int i = 0; i < nroles_made; i++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", roles_made[i]);
		testdb_exec(fresh_conn, sql);
	}
	nroles_made = 0;
	PQfinish(fresh_conn);
	fresh_conn = NULL;
	testdb_drop(&fresh_db);
	return 0;
}

/* ---- running the binary ------------------------------------------------------------ */

run_result *run_at(const char *url, const char *const *args)
{
	run_result *r = new_run();
	run_aiplat_db(r, url, NULL, NULL, args);
	return r;
}

void expect_err(const run_result *r, const char *needle)
{
	if (!strstr(r->err, needle))
		fail_msg("stderr lacks \"%s\" (exit %d)\nstderr: %.800s", needle, r->status, r->err);
}

/* Runs, expects exit `status` and (unless NULL) `needle` on stderr. */
void expect_run(int status, const char *needle, const char *what, const char *const *args)
{
	run_result *r = run_at(cur->url, args);
	expect_exit(r, status, what);
	if (needle)
		expect_err(r, needle);
}

json_t *json_from(const char *url, const char *const *args)
{
	const char *argv[64] = { "--format", "json" };
	int n = 2;
	for (int i = 0; args[i] && n < 61; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	run_result *r = run_at(url, argv);
	expect_exit(r, 0, args[0]);
	json_error_t e;
	json_t *doc = json_loads(r->out, 0, &e);
	if (!doc)
		fail_msg("not JSON (%s): %.800s", e.text, r->out);
	return keep_doc(doc);
}

/* The `key` string of every object in an array, comma-joined. */
void join_key(char *buf, size_t size, const json_t *arr, const char *key)
{
	assert_true(json_is_array(arr));
	buf[0] = '\0';
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(json_object_get(v, key));
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? "," : "", s ? s : "(null)");
	}
}

/* An array of strings, comma-joined. */
void join_strings(char *buf, size_t size, const json_t *arr)
{
	assert_true(json_is_array(arr));
	buf[0] = '\0';
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? "," : "",
		         json_is_string(v) ? json_string_value(v) : "(not a string)");
}

const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (!s)
		fail_msg("no string \"%s\" in the JSON object", key);
	return s;
}

long long jint(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		fail_msg("no integer \"%s\" in the JSON object", key);
	return json_integer_value(v);
}

/* ---- looking at the database as the owner ------------------------------------------ */

/* The first value of a query as the owner (released after the test). */
const char *value(const char *sql, const char *param)
{
	const char *p[1] = { param };
	return keep_str(testdb_value(cdb, sql, param ? 1 : 0, param ? p : NULL));
}

long count1(const char *sql, const char *param)
{
	const char *p[1] = { param };
	return testdb_long(cdb, sql, param ? 1 : 0, param ? p : NULL);
}

void expect_sql(const char *sql, const char *param, const char *expected)
{
	const char *v = value(sql, param);
	if (strcmp(v, expected))
		fail_msg("%s [%s]\n  got \"%s\", expected \"%s\"", sql, param ? param : "", v, expected);
}

static void lookup(char out[40], const char *sql, const char *key)
{
	const char *v = value(sql, key);
	assert_true(strlen(v) == 36);
	snprintf(out, 40, "%s", v);
}

void user_id(char out[40], const char *email)
{
	lookup(out, "SELECT id FROM aiplat.users WHERE email = $1", email);
}

void org_id(char out[40], const char *slug)
{
	lookup(out, "SELECT id FROM aiplat.organizations WHERE slug = $1", slug);
}

void system_role_id(char out[40], const char *name)
{
	lookup(out, "SELECT id FROM aiplat.roles WHERE organization_id IS NULL AND name = $1", name);
}

/* Everything a refused command must leave alone: the people, organisation,
 * member, role and grant rows (contents, not only counts) and the audit log. */
const char *snapshot(void)
{
	return value(
		"SELECT format('users %s %s | orgs %s %s | members %s %s | roles %s %s | grants %s %s"
		"               | audit rows %s',"
		"  (SELECT count(*) FROM aiplat.users),"
		"  (SELECT md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM aiplat.users t),"
		"  (SELECT count(*) FROM aiplat.organizations),"
		"  (SELECT md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), ''))"
		"     FROM aiplat.organizations t),"
		"  (SELECT count(*) FROM aiplat.organization_members),"
		"  (SELECT md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), ''))"
		"     FROM aiplat.organization_members t),"
		"  (SELECT count(*) FROM aiplat.roles),"
		"  (SELECT md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM aiplat.roles t),"
		"  (SELECT count(*) FROM aiplat.role_permissions),"
		"  (SELECT md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), ''))"
		"     FROM aiplat.role_permissions t),"
		"  (SELECT count(*) FROM aiplat.audit_logs))", NULL);
}

void expect_unchanged(const char *before, const char *what)
{
	const char *after = snapshot();
	if (strcmp(before, after))
		fail_msg("%s changed the database\n  before: %s\n  after:  %s", what, before, after);
}

/* ---- acting as a person directly through libpq --------------------------------------- */

static void record_failure(sql_outcome *o, const PGresult *r)
{
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	snprintf(o->state, sizeof(o->state), "%s", st ? st : "?????");
	snprintf(o->message, sizeof(o->message), "%s", msg ? msg : "");
}

/*
 * Runs one statement the way any client acting for `email` in `slug` would:
 * BEGIN; set aiplat.user_id and aiplat.org_id; SET LOCAL ROLE aiplat_app.
 * Rolls back, unless `commit` (then deferred rules run at COMMIT).
 */
sql_outcome as_person(const char *email, const char *slug, bool commit, const char *sql, int n,
                      const char *const *params)
{
	sql_outcome o = { "", -1, "" };
	char uid[40], oid[40];
	user_id(uid, email);
	org_id(oid, slug);
	PGconn *c = extra_conn = testdb_connect(cur);
	testdb_exec(c, "BEGIN");
	PGresult *r = PQexecParams(c, "SELECT set_config('aiplat.user_id', $1, true),"
	                              "       set_config('aiplat.org_id', $2, true)",
	                           2, NULL, (const char *const[]){ uid, oid }, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	testdb_exec(c, "SET LOCAL ROLE aiplat_app");
	r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		o.rows = atol(PQcmdTuples(r));
	else
		record_failure(&o, r);
	PQclear(r);
	r = PQexec(c, !o.state[0] && commit ? "COMMIT" : "ROLLBACK");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		record_failure(&o, r);
	PQclear(r);
	PQfinish(c);
	extra_conn = NULL;
	return o;
}

void expect_sqlstate(sql_outcome o, const char *state, const char *what)
{
	if (strcmp(o.state, state))
		fail_msg("%s: SQLSTATE \"%s\" (%s), rows %ld; expected SQLSTATE %s", what, o.state,
		         o.message, o.rows, state);
}

void expect_rows(sql_outcome o, long rows, const char *what)
{
	if (o.state[0] || o.rows != rows)
		fail_msg("%s: SQLSTATE \"%s\" (%s), rows %ld; expected success with %ld rows", what,
		         o.state, o.message, o.rows, rows);
}

/* ---- login roles ------------------------------------------------------------------------ */

/* A cluster-unique role name, remembered for dropping at teardown. */
const char *new_role_name(const char *suffix)
{
	assert_true(nroles_made < 8);
	char *name = roles_made[nroles_made++];
	snprintf(name, 64, "pp%ld_%s", (long)getpid(), suffix);
	char sql[128];
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", name);
	testdb_exec(cdb, sql);
	return name;
}

const char *make_role(const char *suffix, const char *attributes)
{
	const char *name = new_role_name(suffix);
	char sql[256];
	snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN %s", name, attributes);
	testdb_exec(cdb, sql);
	return name;
}

/* The current database's URL for another login role. */
void url_as(char *buf, size_t size, const char *role)
{
	snprintf(buf, size, "%s", cur->url);
	char *user = strstr(buf, "user=");
	assert_non_null(user);
	snprintf(user, size - (size_t)(user - buf), "user=%s", role);
}

bool in_app_role(const char *role)
{
	return !strcmp(value("SELECT pg_has_role($1, 'aiplat_app', 'MEMBER')", role), "t");
}
