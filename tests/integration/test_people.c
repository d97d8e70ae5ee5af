/*
 * People, organisations, members and roles through the binary: user
 * create|list|show|set-superadmin|map-login, tenant create|list|show|set-*|
 * rename|add-member|remove-member|members|set-role, role list|permissions|
 * create|grant|revoke. Every refusal is checked for its exit status, its
 * message and that nothing was written (row contents and the audit log);
 * the member and role rules are also tried directly through libpq as
 * aiplat_app, because the database must enforce them for any client.
 *
 * Tests that only read, or whose commands all fail, share one seeded
 * database; tests that change something get a fresh one.
 */
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
#include "runproc.h"
#include "testdb.h"

#define OPS "ops@aiplat.test"
#define ALICE "alice@acme-legal.test"
#define AARON "aaron@acme-legal.test"
#define AVA "ava@acme-legal.test"
#define BELLA "bella@brightpath.test"
#define BEN "ben@brightpath.test"
#define ACME "acme-legal"
#define BRIGHT "brightpath"

static testdb shared_db, fresh_db;
static PGconn *shared_conn, *fresh_conn;
/* The database the current test works on, and an owner connection to it. */
static testdb *cur;
static PGconn *cdb;
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
static PGconn *extra_conn;

static run_result *new_run(void)
{
	assert_true(nruns < 24);
	run_result *r = &runs[nruns++];
	r->out = r->err = NULL;
	return r;
}

static json_t *keep_doc(json_t *doc)
{
	assert_true(ndocs < 24);
	return docs[ndocs++] = doc;
}

static char *keep_str(char *s)
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

static int group_setup(void **state)
{
	(void)state;
	testdb_create(&shared_db, true);
	testdb_seed(&shared_db, true);
	shared_conn = testdb_connect(&shared_db);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	PQfinish(shared_conn);
	testdb_drop(&shared_db);
	return 0;
}

static int use_shared(void **state)
{
	(void)state;
	cur = &shared_db;
	cdb = shared_conn;
	return 0;
}

static int done_shared(void **state)
{
	(void)state;
	release_all();
	return 0;
}

static int use_fresh(void **state)
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

static int drop_fresh(void **state)
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

static run_result *run_at(const char *url, const char *const *args)
{
	run_result *r = new_run();
	run_aiplat_db(r, url, NULL, NULL, args);
	return r;
}

#define RUN(...) run_at(cur->url, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_URL(url, ...) run_at((url), (const char *const[]){ __VA_ARGS__, NULL })

static void expect_err(const run_result *r, const char *needle)
{
	if (!strstr(r->err, needle))
		fail_msg("stderr lacks \"%s\" (exit %d)\nstderr: %.800s", needle, r->status, r->err);
}

/* Runs, expects exit `status` and (unless NULL) `needle` on stderr. */
static void expect_run(int status, const char *needle, const char *what, const char *const *args)
{
	run_result *r = run_at(cur->url, args);
	expect_exit(r, status, what);
	if (needle)
		expect_err(r, needle);
}

#define EXPECT(status, needle, ...) \
	expect_run((status), (needle), #__VA_ARGS__, (const char *const[]){ __VA_ARGS__, NULL })

static json_t *json_from(const char *url, const char *const *args)
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

#define JSON(...) json_from(cur->url, (const char *const[]){ __VA_ARGS__, NULL })
#define JSON_URL(url, ...) json_from((url), (const char *const[]){ __VA_ARGS__, NULL })

/* The `key` string of every object in an array, comma-joined. */
static void join_key(char *buf, size_t size, const json_t *arr, const char *key)
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
static void join_strings(char *buf, size_t size, const json_t *arr)
{
	assert_true(json_is_array(arr));
	buf[0] = '\0';
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? "," : "",
		         json_is_string(v) ? json_string_value(v) : "(not a string)");
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (!s)
		fail_msg("no string \"%s\" in the JSON object", key);
	return s;
}

static long long jint(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		fail_msg("no integer \"%s\" in the JSON object", key);
	return json_integer_value(v);
}

/* ---- looking at the database as the owner ------------------------------------------ */

/* The first value of a query as the owner (released after the test). */
static const char *value(const char *sql, const char *param)
{
	const char *p[1] = { param };
	return keep_str(testdb_value(cdb, sql, param ? 1 : 0, param ? p : NULL));
}

static long count1(const char *sql, const char *param)
{
	const char *p[1] = { param };
	return testdb_long(cdb, sql, param ? 1 : 0, param ? p : NULL);
}

static void expect_sql(const char *sql, const char *param, const char *expected)
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

static void user_id(char out[40], const char *email)
{
	lookup(out, "SELECT id FROM aiplat.users WHERE email = $1", email);
}

static void org_id(char out[40], const char *slug)
{
	lookup(out, "SELECT id FROM aiplat.organizations WHERE slug = $1", slug);
}

static void system_role_id(char out[40], const char *name)
{
	lookup(out, "SELECT id FROM aiplat.roles WHERE organization_id IS NULL AND name = $1", name);
}

/* Everything a refused command must leave alone: the people, organisation,
 * member, role and grant rows (contents, not only counts) and the audit log. */
static const char *snapshot(void)
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

static void expect_unchanged(const char *before, const char *what)
{
	const char *after = snapshot();
	if (strcmp(before, after))
		fail_msg("%s changed the database\n  before: %s\n  after:  %s", what, before, after);
}

/* ---- acting as a person directly through libpq --------------------------------------- */

typedef struct sql_outcome {
	char state[6];     /* SQLSTATE of the failure, "" on success */
	long rows;         /* rows affected on success */
	char message[300];
} sql_outcome;

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
static sql_outcome as_person(const char *email, const char *slug, bool commit, const char *sql,
                             int n, const char *const *params)
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

static void expect_sqlstate(sql_outcome o, const char *state, const char *what)
{
	if (strcmp(o.state, state))
		fail_msg("%s: SQLSTATE \"%s\" (%s), rows %ld; expected SQLSTATE %s", what, o.state,
		         o.message, o.rows, state);
}

static void expect_rows(sql_outcome o, long rows, const char *what)
{
	if (o.state[0] || o.rows != rows)
		fail_msg("%s: SQLSTATE \"%s\" (%s), rows %ld; expected success with %ld rows", what,
		         o.state, o.message, o.rows, rows);
}

/* ---- login roles ------------------------------------------------------------------------ */

/* A cluster-unique role name, remembered for dropping at teardown. */
static const char *new_role_name(const char *suffix)
{
	assert_true(nroles_made < 8);
	char *name = roles_made[nroles_made++];
	snprintf(name, 64, "pp%ld_%s", (long)getpid(), suffix);
	char sql[128];
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", name);
	testdb_exec(cdb, sql);
	return name;
}

static const char *make_role(const char *suffix, const char *attributes)
{
	const char *name = new_role_name(suffix);
	char sql[256];
	snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN %s", name, attributes);
	testdb_exec(cdb, sql);
	return name;
}

/* The current database's URL for another login role. */
static void url_as(char *buf, size_t size, const char *role)
{
	snprintf(buf, size, "%s", cur->url);
	char *user = strstr(buf, "user=");
	assert_non_null(user);
	snprintf(user, size - (size_t)(user - buf), "user=%s", role);
}

static bool in_app_role(const char *role)
{
	return !strcmp(value("SELECT pg_has_role($1, 'aiplat_app', 'MEMBER')", role), "t");
}

/* ======================================================================================
 * user create
 * ====================================================================================== */

/* The platform creates a person, with a display name and optionally as superadmin. */
static void test_user_create(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: created user nina@people.test", "user", "create", "nina@people.test",
	       "--name", "Nina New");
	expect_sql("SELECT format('%s|%s|%s', display_name, is_superadmin, login_role IS NULL)"
	           "  FROM aiplat.users WHERE email = $1", "nina@people.test", "Nina New|f|t");
	EXPECT(0, NULL, "user", "create", "sam@people.test", "--superadmin");
	expect_sql("SELECT is_superadmin::text FROM aiplat.users WHERE email = $1", "sam@people.test",
	           "true");
	/* Audited: the platform's own connection has no actor and acts as nobody. */
	expect_sql("SELECT format('%s|%s|%s', count(*), min(coalesce(actor_email, '-')),"
	           "              min(coalesce(acting_as_email, '-')))"
	           "  FROM aiplat.audit_logs WHERE action = 'user.create' AND resource_type = 'users'"
	           "   AND new_values ->> 'email' = $1", "nina@people.test", "1|-|-");
}

/* Emails are unique whatever their case: a second ALICE is invalid input and writes nothing. */
static void test_user_create_duplicate_email(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: a user ALICE@Acme-Legal.TEST already exists", "user", "create",
	       "ALICE@Acme-Legal.TEST");
	expect_unchanged(before, "a duplicate user create");
}

/* Anything that is not an email address is refused before the database is touched. */
static void test_user_create_not_an_email(void **state)
{
	(void)state;
	const char *bad[] = { "not-an-email", "@acme-legal.test", "someone@", "two@at@people.test",
	                      "with space@people.test" };
	const char *before = snapshot();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[128];
		snprintf(msg, sizeof(msg), "aiplat: error: \"%s\" is not an email address", bad[i]);
		EXPECT(5, msg, "user", "create", bad[i]);
	}
	expect_unchanged(before, "user create with bad emails");
}

/* Only superadmins create people: an organisation admin (or a user making a
 * superadmin) is refused with 6. */
static void test_user_create_by_non_superadmin(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(6, "aiplat: error: only superadmins may create people", "--as", ALICE, "--org", ACME,
	       "user", "create", "x1@people.test");
	EXPECT(6, "aiplat: error: only superadmins may create people", "--as", AARON, "user", "create",
	       "x2@people.test", "--superadmin");
	expect_unchanged(before, "user create by people who are not superadmins");
}

/* A superadmin person may create people; the audit row says who acted. */
static void test_user_create_by_superadmin(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: created user olga@people.test", "--as", OPS, "user", "create",
	       "olga@people.test");
	assert_int_equal(count1("SELECT count(*) FROM aiplat.users WHERE email = $1",
	                        "olga@people.test"), 1);
	expect_sql("SELECT format('%s|%s|%s', count(*), min(coalesce(actor_email, '-')),"
	           "              min(acting_as_email))"
	           "  FROM aiplat.audit_logs WHERE action = 'user.create'"
	           "   AND new_values ->> 'email' = $1", "olga@people.test", "1|-|" OPS);
}

/* ======================================================================================
 * user list / show
 * ====================================================================================== */

/* The platform sees every person, sorted by email. */
static void test_user_list_platform_sees_everyone(void **state)
{
	(void)state;
	json_t *doc = JSON("user", "list");
	char got[2048];
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, value("SELECT string_agg(email, ',' ORDER BY lower(email))"
	                               "  FROM aiplat.users", NULL));
	assert_int_equal(json_array_size(doc), 15);
	/* A row carries the flags and memberships. */
	json_t *alice = json_array_get(doc, 1);
	assert_string_equal(jstr(alice, "email"), ALICE);
	assert_string_equal(jstr(alice, "name"), "Alice Admin");
	assert_true(json_is_false(json_object_get(alice, "superadmin")));
	join_strings(got, sizeof(got), json_object_get(alice, "memberships"));
	assert_string_equal(got, "acme-legal:admin");
	json_t *ops = json_array_get(doc, 11);
	assert_string_equal(jstr(ops, "email"), OPS);
	assert_true(json_is_true(json_object_get(ops, "superadmin")));
	assert_true(json_is_null(json_object_get(ops, "memberships")));
}

/* A person sees themselves and the members of their current organisation only. */
static void test_user_list_member_sees_own_organisation(void **state)
{
	(void)state;
	char got[1024];
	json_t *doc = JSON("--as", ALICE, "--org", ACME, "user", "list");
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, AARON "," ALICE "," AVA);
	doc = JSON("--as", BEN, "--org", BRIGHT, "user", "list");
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, BELLA "," BEN);
	/* Without --org: only themselves. */
	doc = JSON("--as", ALICE, "user", "list");
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, ALICE);
}

/* user show: one person with memberships as "slug:role"; unknown -> 1. */
static void test_user_show(void **state)
{
	(void)state;
	json_t *doc = JSON("user", "show", "Alice@ACME-legal.test");
	assert_string_equal(jstr(doc, "email"), ALICE);
	assert_string_equal(jstr(doc, "name"), "Alice Admin");
	assert_true(json_is_false(json_object_get(doc, "superadmin")));
	char got[256];
	join_strings(got, sizeof(got), json_object_get(doc, "memberships"));
	assert_string_equal(got, "acme-legal:admin");
	char id[40];
	user_id(id, ALICE);
	assert_string_equal(jstr(doc, "id"), id);
	EXPECT(1, "aiplat: error: no user with email nobody@people.test", "user", "show",
	       "nobody@people.test");
	/* Someone outside the person's organisation is not found either. */
	EXPECT(1, "aiplat: error: no user with email " BELLA, "--as", AARON, "--org", ACME, "user",
	       "show", BELLA);
}

/* The mapped login role is shown to the platform only, never to people
 * (not even to superadmins or the person themselves). */
static void test_user_show_login_role_platform_only(void **state)
{
	(void)state;
	testdb_exec(cdb, "UPDATE aiplat.users SET login_role = 'aaron_login' WHERE email = '" AARON "'");
	json_t *doc = JSON("user", "show", AARON);
	assert_string_equal(jstr(doc, "login_role"), "aaron_login");
	const char *as[][2] = { { OPS, NULL }, { ALICE, ACME }, { AARON, ACME } };
	for (size_t i = 0; i < 3; i++) {
		doc = as[i][1] ? JSON("--as", as[i][0], "--org", as[i][1], "user", "show", AARON)
		               : JSON("--as", as[i][0], "user", "show", AARON);
		assert_string_equal(jstr(doc, "email"), AARON);
		if (!json_is_null(json_object_get(doc, "login_role")))
			fail_msg("%s sees aaron's login role", as[i][0]);
	}
}

/* ======================================================================================
 * user set-superadmin
 * ====================================================================================== */

/* The platform and superadmins grant and (--off) revoke superadmin; both audited. */
static void test_user_set_superadmin(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: Aaron@Acme-Legal.test is now a superadmin", "user", "set-superadmin",
	       "Aaron@Acme-Legal.test");
	expect_sql("SELECT is_superadmin::text FROM aiplat.users WHERE email = $1", AARON, "true");
	EXPECT(0, "aiplat: " AARON " is no longer a superadmin", "--as", OPS, "user", "set-superadmin",
	       AARON, "--off");
	expect_sql("SELECT is_superadmin::text FROM aiplat.users WHERE email = $1", AARON, "false");
	char id[40];
	user_id(id, AARON);
	expect_sql("SELECT string_agg(format('%s:%s->%s:%s', action, old_values ->> 'is_superadmin',"
	           "                         new_values ->> 'is_superadmin',"
	           "                         coalesce(acting_as_email, '-')), ' ' ORDER BY id)"
	           "  FROM aiplat.audit_logs WHERE resource_type = 'users' AND resource_id = $1", id,
	           "user.grant_superadmin:false->true:- user.revoke_superadmin:true->false:" OPS);
	EXPECT(1, "aiplat: error: no user with email nobody@people.test", "user", "set-superadmin",
	       "nobody@people.test");
}

/* A person who is not a superadmin may not grant or revoke it, for anyone:
 * permission denied (6), nothing written. */
static void test_user_set_superadmin_by_person(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r[3];
	r[0] = RUN("--as", ALICE, "--org", ACME, "user", "set-superadmin", AARON);
	r[1] = RUN("--as", ALICE, "user", "set-superadmin", ALICE);
	r[2] = RUN("--as", ALICE, "--org", ACME, "user", "set-superadmin", OPS, "--off");
	expect_unchanged(before, "set-superadmin by an organisation admin");
	expect_exit(r[1], 6, "alice makes herself a superadmin");
	expect_exit(r[0], 6, "alice (admin, sees aaron in acme-legal) makes aaron a superadmin");
	expect_exit(r[2], 6, "alice revokes ops");
	for (int i = 0; i < 3; i++)
		expect_err(r[i], "aiplat: error: only superadmins may grant or revoke superadmin");
}

/* ======================================================================================
 * user map-login
 * ====================================================================================== */

/* The platform maps an existing login role: the column is set, the role is
 * granted aiplat_app, and the change is audited. */
static void test_map_login_existing_role(void **state)
{
	(void)state;
	const char *role = make_role("aaron", "");
	assert_false(in_app_role(role));
	char msg[160];
	snprintf(msg, sizeof(msg), "aiplat: connections as role %s now act as " AARON, role);
	EXPECT(0, msg, "user", "map-login", AARON, role);
	expect_sql("SELECT login_role FROM aiplat.users WHERE email = $1", AARON, role);
	assert_true(in_app_role(role));
	char id[40], want[96];
	user_id(id, AARON);
	snprintf(want, sizeof(want), "1|%s|-", role);
	expect_sql("SELECT format('%s|%s|%s', count(*), min(new_values ->> 'login_role'),"
	           "              coalesce(min(old_values ->> 'login_role'), '-'))"
	           "  FROM aiplat.audit_logs WHERE action = 'user.map_login' AND resource_id = $1",
	           id, want);
}

/* A connection as the mapped role is that person: row-level security shows
 * what the person sees, and it cannot act as someone else. */
static void test_mapped_role_acts_as_its_person(void **state)
{
	(void)state;
	const char *role = make_role("aaron", "");
	EXPECT(0, NULL, "user", "map-login", AARON, role);
	char url[1200];
	url_as(url, sizeof(url), role);
	char got[512];
	json_t *doc = JSON_URL(url, "--org", ACME, "user", "list");
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, AARON "," ALICE "," AVA);
	doc = JSON_URL(url, "tenant", "list");
	join_key(got, sizeof(got), doc, "slug");
	assert_string_equal(got, ACME);
	run_result *r = RUN_URL(url, "--as", ALICE, "--org", ACME, "tenant", "members", ACME);
	expect_exit(r, 6, "a mapped user acting as someone else");
	expect_err(r, "cannot act as " ALICE);
	/* The same through libpq, whatever the client sets. */
	PGconn *c = extra_conn = PQconnectdb(url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	assert_string_equal(keep_str(testdb_value(c, "SELECT email FROM aiplat.users"
	                                             " WHERE id = aiplat.current_user_id()", 0, NULL)),
	                    AARON);
}

/* Without --create a missing role is invalid input (with a hint); with it the
 * role is created as a login role in aiplat_app. */
static void test_map_login_create(void **state)
{
	(void)state;
	const char *role = new_role_name("made");
	const char *before = snapshot();
	run_result *r = RUN("user", "map-login", AVA, role);
	expect_exit(r, 5, "map-login to a missing role");
	char msg[160];
	snprintf(msg, sizeof(msg), "aiplat: error: there is no PostgreSQL role %s", role);
	expect_err(r, msg);
	expect_err(r, "hint: ");
	expect_err(r, "--create");
	expect_unchanged(before, "map-login to a missing role");
	assert_int_equal(count1("SELECT count(*) FROM pg_roles WHERE rolname = $1", role), 0);

	EXPECT(0, NULL, "user", "map-login", AVA, role, "--create");
	expect_sql("SELECT rolcanlogin::text FROM pg_roles WHERE rolname = $1", role, "true");
	assert_true(in_app_role(role));
	expect_sql("SELECT login_role FROM aiplat.users WHERE email = $1", AVA, role);
}

/* Superusers and the connecting owner cannot be mapped: the platform's own
 * connections would act as one person. */
static void test_map_login_refuses_superuser_and_owner(void **state)
{
	(void)state;
	const char *su = make_role("super", "SUPERUSER");
	const char *owner = value("SELECT current_user", NULL);
	const char *before = snapshot();
	char msg[200];
	snprintf(msg, sizeof(msg), "aiplat: error: role %s bypasses row-level security", su);
	EXPECT(5, msg, "user", "map-login", AVA, su);
	snprintf(msg, sizeof(msg), "aiplat: error: role %s bypasses row-level security", owner);
	EXPECT(5, msg, "user", "map-login", AVA, owner);
	expect_unchanged(before, "mapping a superuser or the owner");
}

/* A role with BYPASSRLS is not subject to row-level security, so it cannot
 * "be" a person either: mapping it must be refused like a superuser. */
static void test_map_login_refuses_bypassrls_role(void **state)
{
	(void)state;
	const char *role = make_role("bypass", "BYPASSRLS");
	const char *before = snapshot();
	run_result *r = RUN("user", "map-login", AVA, role);
	if (r->status == 0) {
		char url[1200];
		url_as(url, sizeof(url), role);
		PGconn *c = extra_conn = PQconnectdb(url);
		long seen = testdb_long(c, "SELECT count(*) FROM aiplat.users", 0, NULL);
		fail_msg("a BYPASSRLS role was mapped to %s (exit 0); connected as it, the viewer sees %ld "
		         "of the 15 users", AVA, seen);
	}
	expect_exit(r, 5, "mapping a BYPASSRLS role");
	expect_unchanged(before, "mapping a BYPASSRLS role");
	assert_false(in_app_role(role));
}

/* A role that inherits the schema owner's privileges is the owner for
 * row-level security: mapping it must be refused like the owner. */
static void test_map_login_refuses_owner_member_role(void **state)
{
	(void)state;
	const char *owner = value("SELECT nspowner::regrole::text FROM pg_namespace"
	                          " WHERE nspname = 'aiplat'", NULL);
	char attrs[128];
	snprintf(attrs, sizeof(attrs), "IN ROLE %s", owner);
	const char *role = make_role("ownerish", attrs);
	const char *before = snapshot();
	run_result *r = RUN("user", "map-login", AVA, role);
	if (r->status == 0) {
		char url[1200];
		url_as(url, sizeof(url), role);
		PGconn *c = extra_conn = PQconnectdb(url);
		long seen = testdb_long(c, "SELECT count(*) FROM aiplat.users", 0, NULL);
		fail_msg("a member of the schema owner was mapped to %s (exit 0); connected as it, the "
		         "viewer sees %ld of the 15 users", AVA, seen);
	}
	expect_exit(r, 5, "mapping a member of the owner role");
	expect_unchanged(before, "mapping a member of the owner role");
}

/* Only the platform itself maps roles: a superadmin acting with --as is refused. */
static void test_map_login_as_person(void **state)
{
	(void)state;
	const char *role = make_role("byops", "");
	const char *missing = new_role_name("byops_new");
	const char *before = snapshot();
	EXPECT(6, "aiplat: error: login roles are mapped by the platform itself", "--as", OPS, "user",
	       "map-login", AARON, role);
	EXPECT(6, "aiplat: error: login roles are mapped by the platform itself", "--as", OPS, "user",
	       "map-login", AARON, missing, "--create");
	expect_unchanged(before, "map-login by a person");
	assert_false(in_app_role(role));
	assert_int_equal(count1("SELECT count(*) FROM pg_roles WHERE rolname = $1", missing), 0);
}

/* --remove unbinds the role and takes aiplat_app away from it. */
static void test_map_login_remove(void **state)
{
	(void)state;
	const char *role = make_role("gone", "");
	EXPECT(0, NULL, "user", "map-login", AARON, role);
	assert_true(in_app_role(role));
	EXPECT(0, "aiplat: " AARON " has no login role now", "user", "map-login", AARON, "--remove");
	expect_sql("SELECT coalesce(login_role, '(none)') FROM aiplat.users WHERE email = $1", AARON,
	           "(none)");
	assert_false(in_app_role(role));
	char id[40];
	user_id(id, AARON);
	expect_sql("SELECT count(*)::text FROM aiplat.audit_logs WHERE action = 'user.unmap_login'"
	           "   AND resource_id = $1 AND new_values ->> 'login_role' IS NULL", id, "1");
}

/* Mapping another role replaces the old one, which loses aiplat_app. */
static void test_map_login_replaces_role(void **state)
{
	(void)state;
	const char *first = make_role("first", ""), *second = make_role("second", "");
	EXPECT(0, NULL, "user", "map-login", AARON, first);
	EXPECT(0, NULL, "user", "map-login", AARON, second);
	expect_sql("SELECT login_role FROM aiplat.users WHERE email = $1", AARON, second);
	assert_false(in_app_role(first));
	assert_true(in_app_role(second));
}

/* A role already mapped to someone else cannot be mapped again. */
static void test_map_login_role_of_another_user(void **state)
{
	(void)state;
	const char *role = make_role("taken", "");
	EXPECT(0, NULL, "user", "map-login", AARON, role);
	const char *before = snapshot();
	char msg[160];
	snprintf(msg, sizeof(msg), "aiplat: error: role %s is already mapped to another user", role);
	EXPECT(5, msg, "user", "map-login", ALICE, role);
	expect_unchanged(before, "mapping a taken role");
	expect_sql("SELECT login_role FROM aiplat.users WHERE email = $1", AARON, role);
}

/* A role or --remove, not both or neither (2); role names are plain (5). */
static void test_map_login_arguments(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(2, "user map-login: give a login role, or --remove", "user", "map-login", AARON);
	EXPECT(2, "user map-login: give a login role, or --remove", "user", "map-login", AARON,
	       "some_role", "--remove");
	EXPECT(5, "\"Bad-Role\" is not a plain role name", "user", "map-login", AARON, "Bad-Role");
	EXPECT(1, "aiplat: error: no user with email nobody@people.test", "user", "map-login",
	       "nobody@people.test", "--remove");
	expect_unchanged(before, "bad map-login arguments");
}

/* A mapped role is a person even without --as: it may show itself (without the
 * login_role column, which only the platform reads). */
static void test_user_show_through_mapped_role(void **state)
{
	(void)state;
	const char *role = make_role("self", "");
	EXPECT(0, NULL, "user", "map-login", AARON, role);
	char url[1200];
	url_as(url, sizeof(url), role);
	run_result *r = RUN_URL(url, "--format", "json", "user", "show", AARON);
	expect_exit(r, 0, "a mapped role shows its own person (no --as)");
	json_t *doc = json_loads(r->out, 0, NULL);
	assert_non_null(keep_doc(doc));
	assert_string_equal(jstr(doc, "email"), AARON);
	assert_true(json_is_null(json_object_get(doc, "login_role")));
}

/* ======================================================================================
 * tenant create
 * ====================================================================================== */

/* Every option lands in the row; --admin makes an existing person the first admin. */
static void test_tenant_create_every_option(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: created organization law-firm", "tenant", "create", "law-firm", "--name",
	       "Law Firm LLP", "--type", "solicitor", "--plan", "pro", "--quota", "5000", "--timezone",
	       "Europe/Paris", "--admin", BEN);
	json_t *doc = JSON("tenant", "show", "law-firm");
	assert_string_equal(jstr(doc, "slug"), "law-firm");
	assert_string_equal(jstr(doc, "name"), "Law Firm LLP");
	assert_string_equal(jstr(doc, "type"), "solicitor");
	assert_string_equal(jstr(doc, "plan"), "pro");
	assert_int_equal(jint(doc, "quota_monthly"), 5000);
	assert_string_equal(jstr(doc, "quota_source"), "organization");
	assert_int_equal(jint(doc, "used_this_month"), 0);
	assert_string_equal(jstr(doc, "time_zone"), "Europe/Paris");
	assert_int_equal(jint(doc, "members"), 1);
	assert_int_equal(jint(doc, "models_enabled"), 0);
	doc = JSON("tenant", "members", "law-firm");
	assert_int_equal(json_array_size(doc), 1);
	assert_string_equal(jstr(json_array_get(doc, 0), "email"), BEN);
	assert_string_equal(jstr(json_array_get(doc, 0), "role"), "admin");
	assert_string_equal(jstr(json_array_get(doc, 0), "role_kind"), "system");
	/* The new admin can now manage it. */
	EXPECT(0, NULL, "--as", BEN, "--org", "law-firm", "tenant", "add-member", "law-firm", BELLA);
	/* Both rows were audited under tenant.create. */
	expect_sql("SELECT string_agg(resource_type, ',' ORDER BY id) FROM aiplat.audit_logs"
	           " WHERE action = 'tenant.create' AND org_slug = $1", "law-firm",
	           "organizations,organization_members");
}

/* Defaults: name = slug, general, free (the plan's quota), UTC, no members. */
static void test_tenant_create_defaults(void **state)
{
	(void)state;
	EXPECT(0, NULL, "tenant", "create", "plain-co");
	json_t *doc = JSON("tenant", "show", "plain-co");
	assert_string_equal(jstr(doc, "name"), "plain-co");
	assert_string_equal(jstr(doc, "type"), "general");
	assert_string_equal(jstr(doc, "plan"), "free");
	assert_int_equal(jint(doc, "quota_monthly"), 200000);
	assert_string_equal(jstr(doc, "quota_source"), "plan");
	assert_string_equal(jstr(doc, "time_zone"), "UTC");
	assert_int_equal(jint(doc, "members"), 0);
}

/* Unknown plan, type or time zone: invalid input naming the value; nothing written. */
static void test_tenant_create_unknown_values(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: --plan: unknown plan \"gold\" (plans: free, starter, pro, enterprise)",
	       "tenant", "create", "new-co", "--plan", "gold");
	EXPECT(5, "aiplat: error: --type: unknown organization type \"wizardry\"", "tenant", "create",
	       "new-co", "--type", "wizardry");
	EXPECT(5, "aiplat: error: unknown time zone \"Mars/Olympus\"", "tenant", "create", "new-co",
	       "--timezone", "Mars/Olympus");
	expect_unchanged(before, "tenant create with unknown values");
}

/* Slugs are lower-case letters, digits and dashes, 1 to 63, not starting with a dash. */
static void test_tenant_create_bad_slug(void **state)
{
	(void)state;
	char long_slug[65];
	memset(long_slug, 'a', 64);
	long_slug[64] = '\0';
	const char *bad[] = { "Bad_Slug", "-lead", "with space", "", long_slug };
	const char *before = snapshot();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[160];
		snprintf(msg, sizeof(msg), "aiplat: error: organization slug \"%s\" must be", bad[i]);
		EXPECT(5, msg, "tenant", "create", "--", bad[i]);
	}
	expect_unchanged(before, "tenant create with bad slugs");
}

/* An existing slug is invalid input. */
static void test_tenant_create_duplicate(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: an organization \"acme-legal\" already exists", "tenant", "create",
	       ACME);
	expect_unchanged(before, "a duplicate tenant create");
}

/* --admin must name an existing person; otherwise nothing is created at all. */
static void test_tenant_create_unknown_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(1, "aiplat: error: no user with email nobody@people.test", "tenant", "create", "new-co",
	       "--admin", "nobody@people.test");
	expect_unchanged(before, "tenant create with an unknown admin");
}

/* A quota must be a positive number: zero is invalid input (5, as for set-quota);
 * a word is a usage error from the option parser (2). */
static void test_tenant_create_quota_must_be_positive(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: --quota must be a positive number of tokens", "tenant", "create",
	       "new-co", "--quota", "0");
	EXPECT(2, "aiplat: error: --quota expects a whole number, not \"lots\"", "tenant", "create",
	       "new-co", "--quota", "lots");
	expect_unchanged(before, "tenant create with a bad quota");
}

/* Only superadmins create organisations. */
static void test_tenant_create_by_non_superadmin(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(6, "aiplat: error: only superadmins may create organizations", "--as", ALICE, "--org",
	       ACME, "tenant", "create", "new-co");
	EXPECT(6, "aiplat: error: only superadmins may create organizations", "--as", ALICE, "tenant",
	       "create", "new-co", "--admin", ALICE);
	expect_unchanged(before, "tenant create by an organisation admin");
}

/* A superadmin person may; the audit names them. */
static void test_tenant_create_by_superadmin(void **state)
{
	(void)state;
	EXPECT(0, NULL, "--as", OPS, "tenant", "create", "ops-co", "--admin", AVA);
	expect_sql("SELECT format('%s|%s', count(*), min(acting_as_email)) FROM aiplat.audit_logs"
	           " WHERE action = 'tenant.create' AND resource_type = 'organizations'"
	           "   AND org_slug = $1", "ops-co", "1|" OPS);
	expect_sql("SELECT r.name FROM aiplat.organization_members m"
	           "  JOIN aiplat.organizations o ON o.id = m.organization_id"
	           "  JOIN aiplat.users u ON u.id = m.user_id JOIN aiplat.roles r ON r.id = m.role_id"
	           " WHERE o.slug = $1 AND u.email = '" AVA "'", "ops-co", "admin");
}

/* ======================================================================================
 * tenant list / show
 * ====================================================================================== */

/* The platform lists every organisation; a member only theirs. */
static void test_tenant_list(void **state)
{
	(void)state;
	char got[512];
	json_t *doc = JSON("tenant", "list");
	join_key(got, sizeof(got), doc, "slug");
	assert_string_equal(got, "acme-legal,brightpath,harbor-realty,little-learners,"
	                         "northside-clinic,pixel-forge");
	json_t *acme = json_array_get(doc, 0);
	assert_string_equal(jstr(acme, "plan"), "enterprise");
	assert_string_equal(jstr(acme, "type"), "solicitor");
	assert_int_equal(jint(acme, "quota_monthly"), 2000000);
	assert_int_equal(jint(acme, "members"), 3);
	assert_string_equal(jstr(acme, "time_zone"), "Europe/London");
	doc = JSON("--as", BEN, "--org", BRIGHT, "tenant", "list");
	join_key(got, sizeof(got), doc, "slug");
	assert_string_equal(got, BRIGHT);
	/* Without --org too, and a member sees the organisation's real member count. */
	doc = JSON("--as", BEN, "tenant", "list");
	join_key(got, sizeof(got), doc, "slug");
	assert_string_equal(got, BRIGHT);
	assert_int_equal(jint(json_array_get(doc, 0), "members"), 2);
	doc = JSON("--as", "pete@pixel-forge.test", "tenant", "list");
	join_key(got, sizeof(got), doc, "slug");
	assert_string_equal(got, "pixel-forge");
}

/* A member may show their organisation; another one is "not found" (1). */
static void test_tenant_show_visibility(void **state)
{
	(void)state;
	json_t *doc = JSON("--as", AARON, "--org", ACME, "tenant", "show", ACME);
	assert_string_equal(jstr(doc, "name"), "Acme Legal LLP");
	assert_int_equal(jint(doc, "members"), 3);
	assert_int_equal(jint(doc, "models_enabled"), 2);
	EXPECT(1, "aiplat: error: no organization brightpath", "--as", ALICE, "tenant", "show", BRIGHT);
	EXPECT(1, "aiplat: error: no organization brightpath", "--as", ALICE, "--org", ACME, "tenant",
	       "show", BRIGHT);
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "show", "nope");
}

/* tenant show SLUG describes that organisation whether or not --org names it:
 * its admin sees the same member and model counts as the platform. */
static void test_tenant_show_counts_without_org(void **state)
{
	(void)state;
	json_t *doc = JSON("--as", ALICE, "tenant", "show", ACME);
	long long members = jint(doc, "members"), models = jint(doc, "models_enabled");
	if (members != 3 || models != 2)
		fail_msg("alice (admin of acme-legal) without --org: tenant show acme-legal says members=%lld "
		         "models_enabled=%lld; the platform and `--org acme-legal` say 3 and 2",
		         members, models);
}

/* ======================================================================================
 * tenant set-plan / set-type / set-quota
 * ====================================================================================== */

/* The platform and superadmins change plan, type and quota; "default" goes back to the plan's. */
static void test_tenant_set_plan_type_quota(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: pixel-forge: plan is now pro", "tenant", "set-plan", "pixel-forge", "pro");
	EXPECT(0, "aiplat: pixel-forge: type is now marketing", "--as", OPS, "tenant", "set-type",
	       "pixel-forge", "marketing");
	EXPECT(0, "aiplat: pixel-forge: quota is now 123456", "tenant", "set-quota", "pixel-forge",
	       "123456");
	json_t *doc = JSON("tenant", "show", "pixel-forge");
	assert_string_equal(jstr(doc, "plan"), "pro");
	assert_string_equal(jstr(doc, "type"), "marketing");
	assert_int_equal(jint(doc, "quota_monthly"), 123456);
	assert_string_equal(jstr(doc, "quota_source"), "organization");
	EXPECT(0, "aiplat: pixel-forge: quota is now default", "tenant", "set-quota", "pixel-forge",
	       "default");
	doc = JSON("tenant", "show", "pixel-forge");
	assert_int_equal(jint(doc, "quota_monthly"), 10000000);   /* pro's */
	assert_string_equal(jstr(doc, "quota_source"), "plan");
	expect_sql("SELECT string_agg(action || ':' || coalesce(acting_as_email, '-'), ' ' ORDER BY id)"
	           "  FROM aiplat.audit_logs WHERE action LIKE 'tenant.set%' AND org_slug = $1",
	           "pixel-forge",
	           "tenant.set_plan:- tenant.set_type:" OPS " tenant.set_quota:- tenant.set_quota:-");
}

/* Organisation admins may not change their plan, type or quota (6). */
static void test_tenant_set_plan_type_quota_by_org_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	const char *what = "change an organization's type, plan or quota";
	EXPECT(6, what, "--as", ALICE, "--org", ACME, "tenant", "set-plan", ACME, "free");
	EXPECT(6, what, "--as", ALICE, "--org", ACME, "tenant", "set-type", ACME, "finance");
	EXPECT(6, what, "--as", ALICE, "--org", ACME, "tenant", "set-quota", ACME, "99999999");
	EXPECT(6, what, "--as", ALICE, "--org", ACME, "tenant", "set-quota", ACME, "default");
	expect_unchanged(before, "plan/type/quota changes by an organisation admin");
}

/* Unknown plans and types, and quotas that are not positive whole numbers, are invalid input. */
static void test_tenant_set_bad_values(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: plan: unknown plan \"gold\"", "tenant", "set-plan", ACME, "gold");
	EXPECT(5, "aiplat: error: type: unknown organization type \"wizardry\"", "tenant", "set-type",
	       ACME, "wizardry");
	EXPECT(5, "aiplat: error: quota \"0\" must be a positive number of tokens, or \"default\"",
	       "tenant", "set-quota", ACME, "0");
	EXPECT(5, "aiplat: error: quota \"-3\" must be a positive number of tokens", "tenant",
	       "set-quota", ACME, "--", "-3");
	EXPECT(5, "aiplat: error: quota \"12abc\" must be a positive number of tokens", "tenant",
	       "set-quota", ACME, "12abc");
	expect_unchanged(before, "tenant set-* with bad values");
}

/* An unknown organisation is "not found" (1) for every setting. */
static void test_tenant_set_unknown_organisation(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "set-plan", "nope", "pro");
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "set-type", "nope", "general");
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "set-quota", "nope", "5");
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "set-timezone", "nope", "UTC");
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "rename", "nope", "Nope Ltd");
	expect_unchanged(before, "tenant set-* of an unknown organisation");
}

/* ======================================================================================
 * tenant set-timezone / rename
 * ====================================================================================== */

/* An organisation's admin renames it and sets its time zone; audited as them. */
static void test_tenant_rename_and_timezone_by_admin(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: acme-legal: name is now Acme Legal Partners", "--as", ALICE, "--org", ACME,
	       "tenant", "rename", ACME, "Acme Legal Partners");
	EXPECT(0, "aiplat: acme-legal: time_zone is now Asia/Tokyo", "--as", ALICE, "--org", ACME,
	       "tenant", "set-timezone", ACME, "Asia/Tokyo");
	expect_sql("SELECT name || '|' || time_zone FROM aiplat.organizations WHERE slug = $1", ACME,
	           "Acme Legal Partners|Asia/Tokyo");
	expect_sql("SELECT string_agg(action || ':' || acting_as_email, ' ' ORDER BY id)"
	           "  FROM aiplat.audit_logs WHERE action IN ('tenant.set_name', 'tenant.set_time_zone')"
	           "   AND org_slug = $1", ACME,
	           "tenant.set_name:" ALICE " tenant.set_time_zone:" ALICE);
}

/* A user or viewer of the organisation may not: permission denied (6), nothing changed. */
static void test_tenant_rename_and_timezone_by_user(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r[3];
	r[0] = RUN("--as", AARON, "--org", ACME, "tenant", "rename", ACME, "Aaron's Firm");
	r[1] = RUN("--as", AARON, "--org", ACME, "tenant", "set-timezone", ACME, "UTC");
	r[2] = RUN("--as", AVA, "--org", ACME, "tenant", "set-timezone", ACME, "UTC");
	expect_unchanged(before, "rename / set-timezone by a user of the organisation");
	expect_exit(r[0], 6, "aaron (user) renames acme-legal, which he can see");
	expect_exit(r[1], 6, "aaron (user) sets acme-legal's time zone");
	expect_exit(r[2], 6, "ava (viewer) sets acme-legal's time zone");
	for (int i = 0; i < 3; i++)
		expect_err(r[i], "that needs the organization:manage permission");
}

/* Unknown time zones and empty or overlong names are invalid input. */
static void test_tenant_timezone_and_name_validation(void **state)
{
	(void)state;
	char long_name[202];
	memset(long_name, 'n', 201);
	long_name[201] = '\0';
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: unknown time zone \"Mars/Olympus\"", "--as", ALICE, "--org", ACME,
	       "tenant", "set-timezone", ACME, "Mars/Olympus");
	EXPECT(5, "hint: use an IANA name such as Europe/London or UTC", "tenant", "set-timezone", ACME,
	       "Mars/Olympus");
	EXPECT(5, "aiplat: error: a name has 1 to 200 characters", "tenant", "rename", ACME, "");
	EXPECT(5, "aiplat: error: a name has 1 to 200 characters", "--as", ALICE, "--org", ACME,
	       "tenant", "rename", ACME, long_name);
	expect_unchanged(before, "bad time zone / name");
}

/* ======================================================================================
 * members
 * ====================================================================================== */

/* An admin adds a person from another organisation with a role (default: user). */
static void test_add_member(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: " BEN " joined acme-legal as viewer", "--as", ALICE, "--org", ACME, "tenant",
	       "add-member", ACME, BEN, "--role", "viewer");
	EXPECT(0, "aiplat: " BELLA " joined acme-legal as user", "--as", ALICE, "--org", ACME, "tenant",
	       "add-member", ACME, BELLA);
	json_t *doc = JSON("--as", ALICE, "--org", ACME, "tenant", "members", ACME);
	char got[512];
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, ALICE "," AARON "," AVA "," BELLA "," BEN);
	join_key(got, sizeof(got), doc, "role");
	assert_string_equal(got, "admin,user,viewer,user,viewer");
	doc = JSON("user", "show", BEN);
	join_strings(got, sizeof(got), json_object_get(doc, "memberships"));
	assert_string_equal(got, "acme-legal:viewer,brightpath:user");
	expect_sql("SELECT format('%s|%s|%s', count(*), min(acting_as_email), min(resource_type))"
	           "  FROM aiplat.audit_logs WHERE action = 'tenant.add_member' AND org_slug = $1",
	           ACME, "2|" ALICE "|organization_members");
}

/* An unknown email is "not found" (1), nothing written. */
static void test_add_member_unknown_email(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(1, "aiplat: error: no user with email nobody@people.test", "--as", ALICE, "--org", ACME,
	       "tenant", "add-member", ACME, "nobody@people.test");
	expect_unchanged(before, "add-member of an unknown email");
}

/* A member cannot be added twice (5). */
static void test_add_member_duplicate(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: " AARON " is already a member of acme-legal", "--as", ALICE, "--org",
	       ACME, "tenant", "add-member", ACME, AARON, "--role", "viewer");
	expect_unchanged(before, "a duplicate add-member");
}

/* An unknown role is invalid input (5), with a hint. */
static void test_add_member_unknown_role(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r = RUN("--as", ALICE, "--org", ACME, "tenant", "add-member", ACME, BEN, "--role",
	                    "wizard");
	expect_exit(r, 5, "add-member with an unknown role");
	expect_err(r, "aiplat: error: no role \"wizard\"");
	expect_err(r, "hint: roles: admin, user, viewer, or a custom role");
	expect_unchanged(before, "add-member with an unknown role");
}

/* A user or viewer (no members:manage) may not add anyone: permission denied (6). */
static void test_add_member_by_non_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r[3];
	r[0] = RUN("--as", AARON, "--org", ACME, "tenant", "add-member", ACME, BELLA, "--role", "viewer");
	r[1] = RUN("--as", AVA, "--org", ACME, "tenant", "add-member", ACME, BEN);
	r[2] = RUN("--as", ALICE, "--org", ACME, "tenant", "add-member", BRIGHT, ALICE);
	expect_unchanged(before, "add-member by people who may not");
	expect_exit(r[2], 6, "alice adds herself to brightpath (not hers)");
	expect_err(r[2], "aiplat: error: " ALICE " is not a member of organization brightpath");
	expect_exit(r[0], 6, "aaron (user) adds bella (who exists) to acme-legal");
	expect_exit(r[1], 6, "ava (viewer) adds ben to acme-legal");
	for (int i = 0; i < 2; i++)
		expect_err(r[i], "that needs the members:manage permission");
}

/* members lists members, admins first, with the kind of role; outsiders are refused. */
static void test_members_list(void **state)
{
	(void)state;
	json_t *doc = JSON("--as", AVA, "--org", ACME, "tenant", "members", ACME);
	assert_int_equal(json_array_size(doc), 3);
	char got[512];
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, ALICE "," AARON "," AVA);
	join_key(got, sizeof(got), doc, "role");
	assert_string_equal(got, "admin,user,viewer");
	join_key(got, sizeof(got), doc, "role_kind");
	assert_string_equal(got, "system,system,system");
	assert_string_equal(jstr(json_array_get(doc, 0), "name"), "Alice Admin");
	/* The SLUG argument selects the organisation (no --org needed). */
	doc = JSON("--as", AVA, "tenant", "members", ACME);
	assert_int_equal(json_array_size(doc), 3);
	EXPECT(6, "aiplat: error: " BELLA " is not a member of organization acme-legal", "--as", BELLA,
	       "tenant", "members", ACME);
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "members", "nope");
}

/* An admin changes a member's role; a non-member is "not found"; unknown roles are invalid. */
static void test_set_role_by_admin(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: " AARON " is now viewer in acme-legal", "--as", ALICE, "--org", ACME,
	       "tenant", "set-role", ACME, AARON, "viewer");
	expect_sql("SELECT r.name FROM aiplat.organization_members m"
	           "  JOIN aiplat.roles r ON r.id = m.role_id JOIN aiplat.users u ON u.id = m.user_id"
	           " WHERE u.email = $1", AARON, "viewer");
	expect_sql("SELECT format('%s|%s', count(*), min(acting_as_email)) FROM aiplat.audit_logs"
	           " WHERE action = 'tenant.set_role' AND org_slug = $1", ACME, "1|" ALICE);
	const char *before = snapshot();
	EXPECT(1, "aiplat: error: " BEN " is not a member of acme-legal", "--as", ALICE, "--org", ACME,
	       "tenant", "set-role", ACME, BEN, "user");
	EXPECT(5, "aiplat: error: no role \"wizard\"", "--as", ALICE, "--org", ACME, "tenant",
	       "set-role", ACME, AVA, "wizard");
	expect_unchanged(before, "set-role of a non-member / to an unknown role");
}

/* A user may not change roles, not even their own: permission denied (6). */
static void test_set_role_by_non_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r[2];
	r[0] = RUN("--as", AARON, "--org", ACME, "tenant", "set-role", ACME, AARON, "admin");
	r[1] = RUN("--as", AARON, "--org", ACME, "tenant", "set-role", ACME, AVA, "admin");
	expect_unchanged(before, "set-role by a user");
	expect_exit(r[0], 6, "aaron (user) makes himself admin");
	expect_exit(r[1], 6, "aaron (user) makes ava admin");
	for (int i = 0; i < 2; i++)
		expect_err(r[i], "aiplat: error: " AARON " may not change its members in acme-legal: "
		                 "that needs the members:manage permission");
}

/* An admin removes a member; removing them again is "not a member" (1). */
static void test_remove_member(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: " AVA " left acme-legal", "--as", ALICE, "--org", ACME, "tenant",
	       "remove-member", ACME, AVA);
	assert_int_equal(count1("SELECT count(*) FROM aiplat.organization_members m"
	                        "  JOIN aiplat.users u ON u.id = m.user_id WHERE u.email = $1", AVA), 0);
	expect_sql("SELECT format('%s|%s|%s', count(*), min(acting_as_email),"
	           "              bool_and(old_values IS NOT NULL AND new_values IS NULL))"
	           "  FROM aiplat.audit_logs WHERE action = 'tenant.remove_member' AND org_slug = $1",
	           ACME, "1|" ALICE "|t");
	const char *before = snapshot();
	EXPECT(1, "aiplat: error: " AVA " is not a member of acme-legal", "--as", ALICE, "--org", ACME,
	       "tenant", "remove-member", ACME, AVA);
	expect_unchanged(before, "removing a non-member");
}

/* A user may not remove anyone: permission denied (6). */
static void test_remove_member_by_non_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r = RUN("--as", AARON, "--org", ACME, "tenant", "remove-member", ACME, AVA);
	expect_unchanged(before, "remove-member by a user");
	expect_exit(r, 6, "aaron (user) removes ava");
	expect_err(r, "that needs the members:manage permission");
}

/* The only admin cannot be removed, by themselves, a superadmin or the platform. */
static void test_last_admin_cannot_be_removed(void **state)
{
	(void)state;
	const char *before = snapshot();
	const char *msg = "aiplat: error: an organization must keep at least one admin";
	EXPECT(5, msg, "--as", ALICE, "--org", ACME, "tenant", "remove-member", ACME, ALICE);
	EXPECT(5, msg, "--as", OPS, "tenant", "remove-member", ACME, ALICE);
	EXPECT(5, msg, "tenant", "remove-member", ACME, ALICE);
	expect_unchanged(before, "removing the last admin");
}

/* The only admin cannot be demoted, to a system role or a custom one. */
static void test_last_admin_cannot_be_demoted(void **state)
{
	(void)state;
	EXPECT(0, NULL, "--org", ACME, "role", "create", "partner", "-p", "members:read");
	const char *before = snapshot();
	const char *msg = "aiplat: error: an organization must keep at least one admin";
	EXPECT(5, msg, "--as", ALICE, "--org", ACME, "tenant", "set-role", ACME, ALICE, "user");
	EXPECT(5, msg, "--as", ALICE, "--org", ACME, "tenant", "set-role", ACME, ALICE, "partner");
	EXPECT(5, msg, "tenant", "set-role", ACME, ALICE, "viewer");
	expect_unchanged(before, "demoting the last admin");
}

/* With a second admin, one may step down; then the other is the last one. */
static void test_second_admin_may_step_down(void **state)
{
	(void)state;
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "tenant", "set-role", ACME, AARON, "admin");
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "tenant", "set-role", ACME, ALICE, "user");
	const char *before = snapshot();
	EXPECT(5, "must keep at least one admin", "--as", AARON, "--org", ACME, "tenant",
	       "remove-member", ACME, AARON);
	expect_unchanged(before, "removing the new last admin");
}

/* ======================================================================================
 * roles
 * ====================================================================================== */

/* role list: the three system roles with their permissions as a JSON array. */
static void test_role_list_system_roles(void **state)
{
	(void)state;
	json_t *doc = JSON("--as", ALICE, "--org", ACME, "role", "list");
	char got[2048];
	join_key(got, sizeof(got), doc, "role");
	assert_string_equal(got, "admin,user,viewer");
	join_key(got, sizeof(got), doc, "scope");
	assert_string_equal(got, "system,system,system");
	json_t *admin = json_array_get(doc, 0);
	assert_int_equal(json_array_size(json_object_get(admin, "permissions")), 27);
	assert_string_equal(json_string_value(json_array_get(json_object_get(admin, "permissions"), 0)),
	                    "api_keys:manage");
	join_strings(got, sizeof(got), json_object_get(json_array_get(doc, 1), "permissions"));
	assert_string_equal(got, "flags:read,garage:read,garage:write,members:read,models:read,"
	                         "organization:read,projects:read,projects:write,prompts:read,"
	                         "roles:read,usage:read,usage:write,workflows:read,workflows:run");
	join_strings(got, sizeof(got), json_object_get(json_array_get(doc, 2), "permissions"));
	assert_string_equal(got, "flags:read,garage:read,members:read,models:read,organization:read,"
	                         "projects:read,prompts:read,roles:read,usage:read,workflows:read");
	/* The platform sees the same three (there are no custom roles yet). */
	doc = JSON("role", "list");
	join_key(got, sizeof(got), doc, "role");
	assert_string_equal(got, "admin,user,viewer");
}

/* role permissions: every permission as resource:action with its description. */
static void test_role_permissions(void **state)
{
	(void)state;
	run_result *r = RUN("--format", "tsv", "role", "permissions");
	expect_exit(r, 0, "role permissions");
	char *save = NULL;
	int rows = 0;
	char first[64] = "";
	for (char *line = strtok_r(r->out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (rows++ == 0) {
			assert_string_equal(line, "permission\tdescription");
			continue;
		}
		const char *colon = strchr(line, ':'), *tab = strchr(line, '\t');
		if (!colon || !tab || colon > tab || colon == line || tab == colon + 1 || !tab[1])
			fail_msg("not \"resource:action<TAB>description\": %s", line);
		if (!first[0])
			snprintf(first, sizeof(first), "%.*s", (int)(tab - line), line);
	}
	assert_int_equal(rows - 1, count1("SELECT count(*) FROM aiplat.permissions", NULL));
	assert_int_equal(rows - 1, 27);
	assert_string_equal(first, "api_keys:manage");
	r = RUN("role", "permissions");
	assert_non_null(strstr(r->out,
	                       "\nmodels:manage\tenable and disable models, set per-user limits\n"));
}

/* An admin creates a custom role in their organisation with repeated --permission;
 * other organisations do not see it. */
static void test_role_create_custom(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: created role auditor", "--as", ALICE, "--org", ACME, "role", "create",
	       "auditor", "--description", "reads the audit log", "--permission", "audit:read", "-p",
	       "members:read");
	json_t *doc = JSON("--as", ALICE, "--org", ACME, "role", "list");
	assert_int_equal(json_array_size(doc), 4);
	json_t *role = json_array_get(doc, 3);
	assert_string_equal(jstr(role, "role"), "auditor");
	assert_string_equal(jstr(role, "scope"), ACME);
	assert_string_equal(jstr(role, "description"), "reads the audit log");
	char got[256];
	join_strings(got, sizeof(got), json_object_get(role, "permissions"));
	assert_string_equal(got, "audit:read,members:read");
	doc = JSON("--as", BELLA, "--org", BRIGHT, "role", "list");
	join_key(got, sizeof(got), doc, "role");
	assert_string_equal(got, "admin,user,viewer");
	expect_sql("SELECT string_agg(resource_type, ',' ORDER BY id) FROM aiplat.audit_logs"
	           " WHERE action = 'role.create' AND acting_as_email = $1", ALICE,
	           "roles,role_permissions,role_permissions");
}

/* A custom role may not take a system role's name: refused, saying why. */
static void test_role_create_system_name(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: role name \"user\" is taken by a system role", "--as", ALICE, "--org",
	       ACME, "role", "create", "user", "-p", "audit:read");
	EXPECT(5, "aiplat: error: role name \"admin\" is taken by a system role", "--as", ALICE, "--org",
	       ACME, "role", "create", "admin");
	expect_unchanged(before, "a custom role named like a system role");
}

/* A second role of the same name in the organisation is refused, saying why. */
static void test_role_create_duplicate(void **state)
{
	(void)state;
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "role", "create", "auditor");
	const char *before = snapshot();
	run_result *r = RUN("--as", ALICE, "--org", ACME, "role", "create", "auditor", "-p",
	                    "audit:read");
	expect_exit(r, 5, "a duplicate role create");
	expect_err(r, "auditor");
	expect_err(r, "already exists");
	expect_unchanged(before, "a duplicate role create");
}

/* Permissions must exist and look like resource:action; role names are checked too. */
static void test_role_create_bad_input(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r = RUN("--as", ALICE, "--org", ACME, "role", "create", "clerk", "-p",
	                    "members:read", "-p", "audit:fly");
	expect_exit(r, 5, "an unknown permission");
	expect_err(r, "aiplat: error: no permission \"audit:fly\"");
	expect_err(r, "hint: `aiplat role permissions` lists them");
	EXPECT(5, "aiplat: error: permission \"auditread\" must look like resource:action", "--as",
	       ALICE, "--org", ACME, "role", "create", "clerk", "-p", "auditread");
	EXPECT(5, "aiplat: error: role name \"Clerk\" must be lower-case letters, digits, _ and -",
	       "--as", ALICE, "--org", ACME, "role", "create", "Clerk");
	expect_unchanged(before, "role create with bad input");
}

/* People without roles:manage cannot create roles; people must say which organisation. */
static void test_role_create_by_non_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(6, "aiplat: error: " AARON " may not create roles in acme-legal: that needs the "
	       "roles:manage permission", "--as", AARON, "--org", ACME, "role", "create", "clerk", "-p",
	       "audit:read");
	EXPECT(2, "aiplat: error: give --org: custom roles belong to an organization", "--as", ALICE,
	       "role", "create", "clerk");
	expect_unchanged(before, "role create by a user / without --org");
}

/* An admin grants and revokes permissions on a custom role; each change audited. */
static void test_role_grant_and_revoke(void **state)
{
	(void)state;
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "role", "create", "auditor", "-p", "audit:read");
	EXPECT(0, "aiplat: granted 2 permissions to auditor", "--as", ALICE, "--org", ACME, "role",
	       "grant", "auditor", "models:read", "usage:read");
	EXPECT(0, "aiplat: revoked 1 permission from auditor", "--as", ALICE, "--org", ACME, "role",
	       "revoke", "auditor", "audit:read");
	expect_sql("SELECT string_agg(p.resource || ':' || p.action, ',' ORDER BY 1)"
	           "  FROM aiplat.role_permissions p JOIN aiplat.roles r ON r.id = p.role_id"
	           " WHERE r.name = $1", "auditor", "models:read,usage:read");
	expect_sql("SELECT string_agg(action, ',' ORDER BY id) FROM aiplat.audit_logs"
	           " WHERE action IN ('role.grant', 'role.revoke') AND org_slug = $1", ACME,
	           "role.grant,role.grant,role.revoke");
	/* Granting what it has, or revoking what it lacks, changes nothing. */
	const char *before = snapshot();
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "role", "grant", "auditor", "models:read");
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "role", "revoke", "auditor", "flags:manage");
	expect_unchanged(before, "idempotent grant / revoke");
}

/* System roles are changed by superadmins only: an org admin gets 6. */
static void test_role_grant_system_role_by_org_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(6, "aiplat: error: the system role user is changed by superadmins only", "--as", ALICE,
	       "--org", ACME, "role", "grant", "user", "audit:read");
	EXPECT(6, "aiplat: error: the system role viewer is changed by superadmins only", "--as", ALICE,
	       "--org", ACME, "role", "revoke", "viewer", "members:read");
	EXPECT(5, "aiplat: error: no permission \"nope:x\"", "role", "grant", "user", "nope:x");
	EXPECT(1, "aiplat: error: no role \"clerk\" in brightpath", "--as", BELLA, "--org", BRIGHT,
	       "role", "grant", "clerk", "audit:read");
	expect_unchanged(before, "granting on system roles as an org admin");
}

/* A user (no roles:manage) cannot grant on the organisation's custom role. */
static void test_role_grant_by_non_admin(void **state)
{
	(void)state;
	EXPECT(0, NULL, "--org", ACME, "role", "create", "clerk", "-p", "members:read");
	const char *before = snapshot();
	EXPECT(6, "that needs the roles:manage permission", "--as", AARON, "--org", ACME, "role",
	       "grant", "clerk", "audit:read");
	EXPECT(6, "that needs the roles:manage permission", "--as", AARON, "--org", ACME, "role",
	       "revoke", "clerk", "members:read");
	expect_unchanged(before, "grant / revoke by a user");
}

/* A custom role assigned with set-role really confers its permissions: with
 * audit:read a user sees the organisation's audit log, which plain users do not. */
static void test_custom_role_confers_permission(void **state)
{
	(void)state;
	json_t *doc = JSON("--as", AARON, "--org", ACME, "audit", "list");
	assert_int_equal(json_array_size(doc), 0);
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "role", "create", "auditor", "-p", "audit:read",
	       "-p", "members:read");
	EXPECT(0, "aiplat: " AARON " is now auditor in acme-legal", "--as", ALICE, "--org", ACME,
	       "tenant", "set-role", ACME, AARON, "auditor");
	doc = JSON("--as", ALICE, "--org", ACME, "tenant", "members", ACME);
	assert_string_equal(jstr(json_array_get(doc, 1), "email"), AARON);
	assert_string_equal(jstr(json_array_get(doc, 1), "role"), "auditor");
	assert_string_equal(jstr(json_array_get(doc, 1), "role_kind"), "custom");
	doc = JSON("--as", AARON, "--org", ACME, "audit", "list");
	size_t n = json_array_size(doc);
	char acme[40];
	org_id(acme, ACME);
	assert_int_equal((long)n, count1("SELECT count(*) FROM aiplat.audit_logs"
	                                 " WHERE organization_id = $1::uuid", acme));
	assert_true(n >= 3);
	size_t i;
	json_t *row;
	json_array_foreach(doc, i, row)
		assert_string_equal(jstr(row, "org"), ACME);
	/* ... and nothing it does not grant: still no member management. */
	EXPECT(6, "that needs the members:manage permission", "--as", AARON, "--org", ACME, "tenant",
	       "add-member", ACME, AARON);
}

/* ======================================================================================
 * the same rules for any client (libpq as aiplat_app)
 * ====================================================================================== */

/* Member rows: a user cannot add, promote or remove; the last admin stays. */
static void test_db_member_rules_for_any_client(void **state)
{
	(void)state;
	char acme[40], bella[40], aaron[40], ava[40], alice[40], viewer[40], admin[40];
	org_id(acme, ACME);
	user_id(bella, BELLA);
	user_id(aaron, AARON);
	user_id(ava, AVA);
	user_id(alice, ALICE);
	system_role_id(viewer, "viewer");
	system_role_id(admin, "admin");
	const char *before = snapshot();
	const char *insert = "INSERT INTO aiplat.organization_members (organization_id, user_id, role_id)"
	                     " VALUES ($1::uuid, $2::uuid, $3::uuid)";
	expect_sqlstate(as_person(AARON, ACME, false, insert, 3,
	                          (const char *const[]){ acme, bella, viewer }),
	                "42501", "aaron inserts a member");
	expect_rows(as_person(AARON, ACME, false,
	                      "UPDATE aiplat.organization_members SET role_id = $3::uuid"
	                      " WHERE organization_id = $1::uuid AND user_id = $2::uuid", 3,
	                      (const char *const[]){ acme, aaron, admin }),
	            0, "aaron promotes himself");
	expect_rows(as_person(AARON, ACME, false,
	                      "DELETE FROM aiplat.organization_members"
	                      " WHERE organization_id = $1::uuid AND user_id = $2::uuid", 2,
	                      (const char *const[]){ acme, ava }),
	            0, "aaron removes ava");
	/* The admin may add (control), but not remove the last admin: refused at COMMIT. */
	expect_rows(as_person(ALICE, ACME, false, insert, 3,
	                      (const char *const[]){ acme, bella, viewer }),
	            1, "alice inserts a member");
	expect_sqlstate(as_person(ALICE, ACME, true,
	                          "DELETE FROM aiplat.organization_members"
	                          " WHERE organization_id = $1::uuid AND user_id = $2::uuid", 2,
	                          (const char *const[]){ acme, alice }),
	                "23514", "alice deletes the last admin and commits");
	expect_unchanged(before, "direct member statements");
}

/* Roles and grants: a user cannot create roles or grant; an admin cannot touch system roles. */
static void test_db_role_rules_for_any_client(void **state)
{
	(void)state;
	char acme[40], user_role[40];
	org_id(acme, ACME);
	system_role_id(user_role, "user");
	const char *before = snapshot();
	const char *grant = "INSERT INTO aiplat.role_permissions (role_id, resource, action)"
	                    " VALUES ($1::uuid, 'audit', 'read')";
	const char *new_role = "INSERT INTO aiplat.roles (organization_id, name) VALUES ($1::uuid, $2)";
	expect_sqlstate(as_person(AARON, ACME, false, grant, 1, (const char *const[]){ user_role }),
	                "42501", "aaron grants audit:read to the user role");
	expect_sqlstate(as_person(AARON, ACME, false, new_role, 2,
	                          (const char *const[]){ acme, "sneaky" }),
	                "42501", "aaron creates a role");
	expect_sqlstate(as_person(ALICE, ACME, false, grant, 1, (const char *const[]){ user_role }),
	                "42501", "alice (admin) grants to a system role");
	expect_rows(as_person(ALICE, ACME, false,
	                      "DELETE FROM aiplat.role_permissions WHERE role_id = $1::uuid", 1,
	                      (const char *const[]){ user_role }),
	            0, "alice revokes everything from a system role");
	expect_rows(as_person(ALICE, ACME, false,
	                      "UPDATE aiplat.roles SET description = 'mine' WHERE id = $1::uuid", 1,
	                      (const char *const[]){ user_role }),
	            0, "alice edits a system role");
	expect_sqlstate(as_person(ALICE, ACME, false, new_role, 2,
	                          (const char *const[]){ acme, "viewer" }),
	                "23505", "alice creates a custom role named viewer");
	/* Control: the admin may create a custom role in her organisation. */
	expect_rows(as_person(ALICE, ACME, false, new_role, 2, (const char *const[]){ acme, "clerk" }),
	            1, "alice creates a custom role");
	expect_unchanged(before, "direct role statements");
}

/* Organisation and person fields: plan/quota and superadmin need a superadmin;
 * a user cannot rename; nobody inserts people. */
static void test_db_org_and_user_rules_for_any_client(void **state)
{
	(void)state;
	char aaron[40];
	user_id(aaron, AARON);
	const char *before = snapshot();
	expect_sqlstate(as_person(ALICE, ACME, false,
	                          "UPDATE aiplat.organizations SET pricing_plan = 'free' WHERE slug = $1",
	                          1, (const char *const[]){ ACME }),
	                "42501", "alice changes her plan");
	expect_sqlstate(as_person(ALICE, ACME, false,
	                          "UPDATE aiplat.organizations SET token_quota_monthly = NULL"
	                          " WHERE slug = $1", 1, (const char *const[]){ ACME }),
	                "42501", "alice changes her quota");
	expect_rows(as_person(AARON, ACME, false,
	                      "UPDATE aiplat.organizations SET name = 'Aaron''s' WHERE slug = $1", 1,
	                      (const char *const[]){ ACME }),
	            0, "aaron renames acme-legal");
	expect_rows(as_person(ALICE, ACME, false,
	                      "UPDATE aiplat.organizations SET name = 'Acme' WHERE slug = $1", 1,
	                      (const char *const[]){ ACME }),
	            1, "alice renames acme-legal (control)");
	expect_sqlstate(as_person(AARON, ACME, false,
	                          "UPDATE aiplat.users SET is_superadmin = true WHERE id = $1::uuid", 1,
	                          (const char *const[]){ aaron }),
	                "42501", "aaron makes himself a superadmin");
	expect_sqlstate(as_person(ALICE, ACME, false,
	                          "INSERT INTO aiplat.users (email) VALUES ($1)", 1,
	                          (const char *const[]){ "direct@people.test" }),
	                "42501", "alice inserts a person");
	expect_unchanged(before, "direct organisation / user statements");
}

/* ====================================================================================== */

#define SHARED(f) cmocka_unit_test_setup_teardown(f, use_shared, done_shared)
#define FRESH(f) cmocka_unit_test_setup_teardown(f, use_fresh, drop_fresh)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FRESH(test_user_create),
		SHARED(test_user_create_duplicate_email),
		SHARED(test_user_create_not_an_email),
		SHARED(test_user_create_by_non_superadmin),
		FRESH(test_user_create_by_superadmin),
		SHARED(test_user_list_platform_sees_everyone),
		SHARED(test_user_list_member_sees_own_organisation),
		SHARED(test_user_show),
		FRESH(test_user_show_login_role_platform_only),
		FRESH(test_user_set_superadmin),
		SHARED(test_user_set_superadmin_by_person),
		FRESH(test_map_login_existing_role),
		FRESH(test_mapped_role_acts_as_its_person),
		FRESH(test_map_login_create),
		FRESH(test_map_login_refuses_superuser_and_owner),
		FRESH(test_map_login_refuses_bypassrls_role),
		FRESH(test_map_login_refuses_owner_member_role),
		FRESH(test_map_login_as_person),
		FRESH(test_map_login_remove),
		FRESH(test_map_login_replaces_role),
		FRESH(test_map_login_role_of_another_user),
		SHARED(test_map_login_arguments),
		FRESH(test_user_show_through_mapped_role),
		FRESH(test_tenant_create_every_option),
		FRESH(test_tenant_create_defaults),
		SHARED(test_tenant_create_unknown_values),
		SHARED(test_tenant_create_bad_slug),
		SHARED(test_tenant_create_duplicate),
		SHARED(test_tenant_create_unknown_admin),
		SHARED(test_tenant_create_quota_must_be_positive),
		SHARED(test_tenant_create_by_non_superadmin),
		FRESH(test_tenant_create_by_superadmin),
		SHARED(test_tenant_list),
		SHARED(test_tenant_show_visibility),
		SHARED(test_tenant_show_counts_without_org),
		FRESH(test_tenant_set_plan_type_quota),
		SHARED(test_tenant_set_plan_type_quota_by_org_admin),
		SHARED(test_tenant_set_bad_values),
		SHARED(test_tenant_set_unknown_organisation),
		FRESH(test_tenant_rename_and_timezone_by_admin),
		SHARED(test_tenant_rename_and_timezone_by_user),
		SHARED(test_tenant_timezone_and_name_validation),
		FRESH(test_add_member),
		SHARED(test_add_member_unknown_email),
		SHARED(test_add_member_duplicate),
		SHARED(test_add_member_unknown_role),
		SHARED(test_add_member_by_non_admin),
		SHARED(test_members_list),
		FRESH(test_set_role_by_admin),
		SHARED(test_set_role_by_non_admin),
		FRESH(test_remove_member),
		SHARED(test_remove_member_by_non_admin),
		SHARED(test_last_admin_cannot_be_removed),
		FRESH(test_last_admin_cannot_be_demoted),
		FRESH(test_second_admin_may_step_down),
		SHARED(test_role_list_system_roles),
		SHARED(test_role_permissions),
		FRESH(test_role_create_custom),
		SHARED(test_role_create_system_name),
		FRESH(test_role_create_duplicate),
		SHARED(test_role_create_bad_input),
		SHARED(test_role_create_by_non_admin),
		FRESH(test_role_grant_and_revoke),
		SHARED(test_role_grant_system_role_by_org_admin),
		FRESH(test_role_grant_by_non_admin),
		FRESH(test_custom_role_confers_permission),
		FRESH(test_db_member_rules_for_any_client),
		FRESH(test_db_role_rules_for_any_client),
		SHARED(test_db_org_and_user_rules_for_any_client),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
