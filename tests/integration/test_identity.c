/*
 * Identity: a PostgreSQL login role mapped to a user *is* that user. It
 * cannot claim to be someone else, through the CLI's --as or by setting
 * aiplat.user_id itself, unless its user is a superadmin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "runproc.h"
#include "testdb.h"

static testdb db;
static PGconn *owner;
static char aaron_role[64], ops_role[64];

/* The test database's URL for another login role. */
static void url_as(char *buf, size_t size, const char *role)
{
	snprintf(buf, size, "%s", db.url);
	char *user = strstr(buf, "user=");
	assert_non_null(user);
	snprintf(user, size - (size_t)(user - buf), "user=%s", role);
}

static void map(const char *role, const char *email)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", role);
	testdb_exec(owner, sql);
	snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN", role);
	testdb_exec(owner, sql);
	snprintf(sql, sizeof(sql), "GRANT aiplat_app TO %s", role);
	testdb_exec(owner, sql);
	const char *p[2] = { role, email };
	PGresult *r = PQexecParams(owner, "UPDATE aiplat.users SET login_role = $1 WHERE email = $2",
	                           2, NULL, p, NULL, NULL, 0);
	assert_string_equal(PQcmdTuples(r), "1");
	PQclear(r);
}

static int setup(void **state)
{
	(void)state;
	testdb_create(&db, true);
	testdb_seed(&db, true);
	owner = testdb_connect(&db);
	snprintf(aaron_role, sizeof(aaron_role), "t%ld_aaron", (long)getpid());
	snprintf(ops_role, sizeof(ops_role), "t%ld_ops", (long)getpid());
	map(aaron_role, "aaron@acme-legal.test");
	map(ops_role, "ops@aiplat.test");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	/* Roles are cluster-wide: drop them before the database (and its connection). */
	char sql[256];
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s, %s", aaron_role, ops_role);
	testdb_exec(owner, sql);
	PQfinish(owner);
	testdb_drop(&db);
	return 0;
}

static aiplat_db *connect_as(const char *role)
{
	char url[1200];
	url_as(url, sizeof(url), role);
	aiplat_db *d;
	if (aiplat_db_connect(&d, url, "identity-test") != 0)
		fail_msg("connect as %s: %s", role, aiplat_error_last()->message);
	return d;
}

static void test_mapped_role_is_its_user(void **state)
{
	(void)state;
	aiplat_db *d = connect_as(aaron_role);
	aiplat_identity who;
	assert_int_equal(aiplat_identity_resolve(d, &who, NULL, "acme-legal"), 0);
	assert_true(who.acting);
	assert_true(who.via_login_role);
	assert_string_equal(who.email, "aaron@acme-legal.test");
	/* Naming oneself is fine. */
	assert_int_equal(aiplat_identity_resolve(d, &who, "AARON@acme-legal.test", NULL), 0);
	/* Anyone else is refused. */
	assert_int_equal(aiplat_identity_resolve(d, &who, "alice@acme-legal.test", "acme-legal"),
	                 AIPLAT_EPERM);
	assert_non_null(strstr(aiplat_error_last()->message, "not a superadmin"));
	aiplat_db_close(d);
}

/* Setting aiplat.user_id by hand does not change who a mapped role is. */
static void test_setting_cannot_impersonate(void **state)
{
	(void)state;
	char url[1200];
	url_as(url, sizeof(url), aaron_role);
	PGconn *c = PQconnectdb(url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	char *alice = testdb_value(owner, "SELECT id FROM aiplat.users WHERE email = 'alice@acme-legal.test'",
	                           0, NULL);
	char *aaron = testdb_value(owner, "SELECT id FROM aiplat.users WHERE email = 'aaron@acme-legal.test'",
	                           0, NULL);
	char *acme = testdb_value(owner, "SELECT id FROM aiplat.organizations WHERE slug = 'acme-legal'",
	                          0, NULL);
	testdb_exec(c, "BEGIN");
	const char *p[2] = { alice, acme };
	PGresult *r = PQexecParams(c, "SELECT set_config('aiplat.user_id', $1, true),"
	                              "       set_config('aiplat.org_id', $2, true)", 2, NULL, p, NULL,
	                           NULL, 0);
	PQclear(r);
	char *who = testdb_value(c, "SELECT aiplat.current_user_id()", 0, NULL);
	assert_string_equal(who, aaron);
	/* ... and so aaron cannot do what only alice (admin) may: read the audit log. */
	const char *org[1] = { acme };
	char *id = testdb_value(owner, "SELECT aiplat_internal.audit('test.event', 'test', NULL, NULL, NULL,"
	                               " $1::uuid)", 1, org);
	free(id);
	assert_int_equal(testdb_long(c, "SELECT count(*) FROM aiplat.audit_logs", 0, NULL), 0);
	testdb_exec(c, "ROLLBACK");
	free(who);
	free(alice);
	free(aaron);
	free(acme);
	PQfinish(c);
}

static void test_superadmin_role_may_impersonate(void **state)
{
	(void)state;
	aiplat_db *d = connect_as(ops_role);
	aiplat_identity who;
	assert_int_equal(aiplat_identity_resolve(d, &who, "alice@acme-legal.test", "acme-legal"), 0);
	assert_string_equal(who.email, "alice@acme-legal.test");
	assert_true(who.via_login_role);
	aiplat_db_set_identity(d, &who);
	assert_int_equal(aiplat_db_begin(d), 0);
	char *v = NULL;
	assert_int_equal(aiplat_db_query_value(d, &v, "SELECT email FROM aiplat.users "
	                                              "WHERE id = aiplat.current_user_id()", 0, NULL), 0);
	assert_string_equal(v, "alice@acme-legal.test");
	free(v);
	/* A change made so is audited naming both: the superadmin acted, as alice. */
	assert_int_equal(aiplat_db_exec(d, "UPDATE aiplat.users SET display_name = 'Alice A.'"
	                                   " WHERE id = aiplat.current_user_id()", 0, NULL), 0);
	aiplat_db_commit(d);
	char *row = testdb_value(owner, "SELECT actor_email || ' as ' || acting_as_email || ' in ' || org_slug"
	                                "  FROM aiplat.audit_logs WHERE action = 'users.update'"
	                                " ORDER BY id DESC LIMIT 1", 0, NULL);
	assert_string_equal(row, "ops@aiplat.test as alice@acme-legal.test in acme-legal");
	free(row);
	aiplat_db_close(d);
}

/* Through the binary: exit 6 and a clear message. */
static void test_cli_refuses_impersonation(void **state)
{
	(void)state;
	char url[1200];
	url_as(url, sizeof(url), aaron_role);
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", url, "--as", "alice@acme-legal.test", "migrate", "status", NULL);
	assert_int_equal(r.status, 6);
	assert_non_null(strstr(r.err, "aiplat: error: login role"));
	assert_non_null(strstr(r.err, "cannot act as alice@acme-legal.test"));
	run_result_free(&r);
	/* An unknown person is "nothing matched" (1); an unknown organisation too. */
	run_aiplat(&r, NULL, NULL, "--db", db.url, "--as", "nobody@nowhere.test", "migrate", "status", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "no user with email nobody@nowhere.test"));
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--db", db.url, "--org", "nope", "migrate", "status", NULL);
	assert_int_equal(r.status, 1);
	run_result_free(&r);
	/* Acting as a person, seeding is refused: it is the platform's job. */
	run_aiplat(&r, NULL, NULL, "--db", db.url, "--as", "ops@aiplat.test", "seed", NULL);
	assert_int_equal(r.status, 6);
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapped_role_is_its_user),
		cmocka_unit_test(test_setting_cannot_impersonate),
		cmocka_unit_test(test_superadmin_role_may_impersonate),
		cmocka_unit_test(test_cli_refuses_impersonation),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
