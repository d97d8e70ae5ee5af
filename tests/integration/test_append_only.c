/*
 * Usage events and audit rows are append-only: nobody acting as a person
 * may update or delete them (not even a superadmin), and the platform
 * itself may delete only for retention housekeeping (aiplat.allow_prune).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "runproc.h"
#include "testdb.h"

static testdb db;

static int setup(void **state)
{
	(void)state;
	testdb_create(&db, true);
	testdb_seed(&db, true);
	PGconn *c = testdb_connect(&db);
	char *fixture = read_file(AIPLAT_SOURCE_DIR "/tests/integration/fixtures/tenant_rows.sql");
	testdb_exec(c, fixture);
	free(fixture);
	PQfinish(c);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testdb_drop(&db);
	return 0;
}

static const char *const statements[] = {
	"UPDATE aiplat.audit_logs SET action = 'tampered'",
	"DELETE FROM aiplat.audit_logs",
	"UPDATE aiplat.usage_events SET tokens_out = 0",
	"DELETE FROM aiplat.usage_events",
	NULL
};

/* Runs sql as `email` (in acme-legal unless superadmin) and returns the error. */
static int as_person(const char *email, const char *slug, const char *sql, char *msg, size_t size)
{
	aiplat_db *d;
	assert_int_equal(aiplat_db_connect(&d, db.url, "append-only-test"), 0);
	aiplat_identity who;
	assert_int_equal(aiplat_identity_resolve(d, &who, email, slug), 0);
	aiplat_db_set_identity(d, &who);
	assert_int_equal(aiplat_db_begin(d), 0);
	int rc = aiplat_db_exec(d, sql, 0, NULL);
	snprintf(msg, size, "%s", aiplat_error_last()->message);
	aiplat_db_rollback(d);
	aiplat_db_close(d);
	return rc;
}

static void test_people_cannot_change_history(void **state)
{
	(void)state;
	const char *people[][2] = {
		{ "ops@aiplat.test", NULL },                    /* superadmin */
		{ "alice@acme-legal.test", "acme-legal" },      /* organisation admin */
		{ "aaron@acme-legal.test", "acme-legal" },
	};
	for (size_t p = 0; p < sizeof(people) / sizeof(people[0]); p++) {
		for (const char *const *s = statements; *s; s++) {
			char msg[1024];
			int rc = as_person(people[p][0], people[p][1], *s, msg, sizeof(msg));
			if (rc != AIPLAT_EPERM)
				fail_msg("%s could run \"%s\" (rc %d)", people[p][0], *s, rc);
		}
	}
}

static long count(PGconn *c, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM aiplat.%s", table);
	return testdb_long(c, sql, 0, NULL);
}

static void expect_refused(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (PQresultStatus(r) != PGRES_FATAL_ERROR || !state || strcmp(state, "42501") != 0)
		fail_msg("the platform could run \"%s\" (%s)", sql, PQresStatus(PQresultStatus(r)));
	assert_non_null(strstr(PQresultErrorMessage(r), "append-only"));
	PQclear(r);
}

static void test_platform_needs_prune_setting(void **state)
{
	(void)state;
	PGconn *c = testdb_connect(&db);
	long audit = count(c, "audit_logs"), events = count(c, "usage_events");
	assert_true(audit > 0 && events > 0);
	for (const char *const *s = statements; *s; s++)
		expect_refused(c, *s);
	expect_refused(c, "TRUNCATE aiplat.audit_logs");
	expect_refused(c, "TRUNCATE aiplat.usage_events");
	/* Even with the prune setting, updates stay forbidden. */
	testdb_exec(c, "BEGIN");
	testdb_exec(c, "SET LOCAL aiplat.allow_prune = on");
	expect_refused(c, "UPDATE aiplat.usage_events SET tokens_out = 0");
	testdb_exec(c, "ROLLBACK");
	assert_int_equal(count(c, "audit_logs"), audit);
	assert_int_equal(count(c, "usage_events"), events);

	/* Retention: the platform may delete with the setting on. */
	testdb_exec(c, "BEGIN");
	testdb_exec(c, "SET LOCAL aiplat.allow_prune = on");
	testdb_exec(c, "DELETE FROM aiplat.usage_events");
	assert_int_equal(count(c, "usage_events"), 0);
	testdb_exec(c, "ROLLBACK");
	assert_int_equal(count(c, "usage_events"), events);
	PQfinish(c);
}

/* The prune setting does not help a person. */
static void test_prune_setting_is_not_for_people(void **state)
{
	(void)state;
	aiplat_db *d;
	assert_int_equal(aiplat_db_connect(&d, db.url, "append-only-test"), 0);
	aiplat_identity who;
	assert_int_equal(aiplat_identity_resolve(d, &who, "ops@aiplat.test", NULL), 0);
	aiplat_db_set_identity(d, &who);
	assert_int_equal(aiplat_db_begin(d), 0);
	assert_int_equal(aiplat_db_exec(d, "SELECT set_config('aiplat.allow_prune', 'on', true)", 0, NULL), 0);
	assert_int_equal(aiplat_db_exec(d, "DELETE FROM aiplat.usage_events", 0, NULL), AIPLAT_EPERM);
	aiplat_db_rollback(d);
	aiplat_db_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_people_cannot_change_history),
		cmocka_unit_test(test_platform_needs_prune_setting),
		cmocka_unit_test(test_prune_setting_is_not_for_people),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
