/*
 * Row-level security: people of organisation A (acme-legal) never see or
 * change rows of organisation B (brightpath), in every tenant-owned table,
 * whatever their role; and a transaction with no identity settings sees
 * no tenant rows at all. The list of tables comes from the catalogue, so a
 * new tenant table without policies (or without fixture rows) fails here.
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
static PGconn *owner;
static char org_a[37], org_b[37];

/* Tenant-owned tables: every table of schema aiplat with organization_id,
 * partitions excluded (they are reached through their parent). */
static const char tenant_tables_sql[] =
	"SELECT format('%I.%I', 'aiplat', c.relname), c.relrowsecurity,"
	"       has_table_privilege('aiplat_app', c.oid, 'INSERT'),"
	"       has_table_privilege('aiplat_app', c.oid, 'UPDATE'),"
	"       has_table_privilege('aiplat_app', c.oid, 'DELETE'),"
	"       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'is_public')"
	"  FROM pg_class c"
	"  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organization_id' AND NOT a.attisdropped"
	" WHERE c.relnamespace = 'aiplat'::regnamespace AND c.relkind IN ('r', 'p')"
	"   AND NOT c.relispartition"
	" ORDER BY 1";

static int setup(void **state)
{
	(void)state;
	testdb_create(&db, true);
	testdb_seed(&db, true);
	owner = testdb_connect(&db);
	char *fixture = read_file(AIPLAT_SOURCE_DIR "/tests/integration/fixtures/tenant_rows.sql");
	assert_non_null(fixture);
	testdb_exec(owner, fixture);
	free(fixture);
	char *a = testdb_value(owner, "SELECT id FROM aiplat.organizations WHERE slug = 'acme-legal'", 0, NULL);
	char *b = testdb_value(owner, "SELECT id FROM aiplat.organizations WHERE slug = 'brightpath'", 0, NULL);
	snprintf(org_a, sizeof(org_a), "%s", a);
	snprintf(org_b, sizeof(org_b), "%s", b);
	free(a);
	free(b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	PQfinish(owner);
	testdb_drop(&db);
	return 0;
}

/* A library connection acting as `email` in organisation `slug`. */
static aiplat_db *act_as(const char *email, const char *slug)
{
	aiplat_db *d;
	if (aiplat_db_connect(&d, db.url, "isolation-test") != 0)
		fail_msg("connect: %s", aiplat_error_last()->message);
	aiplat_identity who;
	if (aiplat_identity_resolve(d, &who, email, slug) != 0)
		fail_msg("resolve %s: %s", email, aiplat_error_last()->message);
	assert_true(who.acting);
	assert_string_equal(who.org_slug, slug);
	aiplat_db_set_identity(d, &who);
	return d;
}

/* Runs one query as the person in its own transaction; returns a long. */
static long person_count(aiplat_db *d, const char *sql, const char *param)
{
	assert_int_equal(aiplat_db_begin(d), 0);
	char *v = NULL;
	const char *params[1] = { param };
	if (aiplat_db_query_value(d, &v, sql, param ? 1 : 0, params) != 0)
		fail_msg("%s: %s", sql, aiplat_error_last()->message);
	aiplat_db_rollback(d);
	long n = v ? atol(v) : -1;
	free(v);
	return n;
}

/* Rows of `table` for `org` that are not shared on purpose. */
static void private_rows_sql(char *buf, size_t size, const char *table, bool has_public)
{
	snprintf(buf, size, "SELECT count(*) FROM %s WHERE organization_id = $1%s", table,
	         has_public ? " AND NOT is_public" : "");
}

/* The insert a person of A would need to put B's row into `table`: the
 * columns aiplat_app may insert (all of them when it may insert none), with
 * B's values. */
static char *insert_copy_sql(const char *table, const char *key_column)
{
	char sql[1024];
	snprintf(sql, sizeof(sql),
		"SELECT format('INSERT INTO %%s (%%s) SELECT %%s FROM jsonb_populate_record(NULL::%%s, $1::jsonb)',"
		"              $1::text, string_agg(quote_ident(attname), ', ' ORDER BY attnum),"
		"              string_agg(quote_ident(attname), ', ' ORDER BY attnum), $1::text)"
		"  FROM pg_attribute"
		" WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped"
		"   AND (has_column_privilege('aiplat_app', $1::regclass, attname, 'INSERT')"
		"        OR NOT has_any_column_privilege('aiplat_app', $1::regclass, 'INSERT'))"
		"   AND attidentity <> 'a' AND attgenerated = ''"
		"   AND attname <> '%s'", key_column);
	const char *params[1] = { table };
	return testdb_value(owner, sql, 1, params);
}

static void check_person(const char *email, bool is_admin)
{
	aiplat_db *d = act_as(email, "acme-legal");
	PGresult *tables = PQexec(owner, tenant_tables_sql);
	assert_int_equal(PQresultStatus(tables), PGRES_TUPLES_OK);
	int n = PQntuples(tables);
	assert_true(n >= 25);
	for (int i = 0; i < n; i++) {
		const char *table = PQgetvalue(tables, i, 0);
		bool rls = !strcmp(PQgetvalue(tables, i, 1), "t");
		bool can_insert = !strcmp(PQgetvalue(tables, i, 2), "t");
		bool can_update = !strcmp(PQgetvalue(tables, i, 3), "t");
		bool can_delete = !strcmp(PQgetvalue(tables, i, 4), "t");
		bool has_public = !strcmp(PQgetvalue(tables, i, 5), "t");
		if (!rls)
			fail_msg("%s has organization_id but no row-level security", table);

		char sql[512];
		private_rows_sql(sql, sizeof(sql), table, has_public);
		const char *pb[1] = { org_b };
		/* The fixture put B rows everywhere; otherwise the check below proves nothing. */
		if (testdb_long(owner, sql, 1, pb) < 1)
			fail_msg("fixture has no private row of B in %s: add one to tenant_rows.sql", table);
		long seen = person_count(d, sql, org_b);
		if (seen != 0)
			fail_msg("%s sees %ld row(s) of brightpath in %s", email, seen, table);
		if (is_admin) {
			/* ... while A's own rows are there: the policy is not just "nothing". */
			long own = person_count(d, sql, org_a);
			if (own < 1)
				fail_msg("%s sees none of acme-legal's own rows in %s", email, table);
		}

		/* Writing into B: refused by policy, or by privilege where the
		 * table takes no writes from people at all. */
		char fetch[256];
		snprintf(fetch, sizeof(fetch),
		         "SELECT to_jsonb(t) FROM %s t WHERE organization_id = $1 LIMIT 1", table);
		char *row = testdb_value(owner, fetch, 1, pb);
		char *ins = insert_copy_sql(table, "__none__");
		assert_int_equal(aiplat_db_begin(d), 0);
		const char *pr[1] = { row };
		int rc = aiplat_db_exec(d, ins, 1, pr);
		const aiplat_error *e = aiplat_error_last();
		if (rc != AIPLAT_EPERM || strcmp(e->sqlstate, "42501") != 0)
			fail_msg("%s could write a brightpath row into %s (rc %d: %s)", email, table, rc,
			         e->message);
		if (can_insert && !strstr(e->message, "row-level security"))
			fail_msg("insert into %s refused for another reason: %s", table, e->message);
		aiplat_db_rollback(d);
		free(ins);
		free(row);

		/* Updating or deleting B's rows touches nothing: they are invisible. */
		if (can_update || can_delete) {
			snprintf(sql, sizeof(sql), can_update
			         ? "WITH c AS (UPDATE %s SET organization_id = organization_id "
			           "WHERE organization_id = $1 RETURNING 1) SELECT count(*) FROM c"
			         : "WITH c AS (DELETE FROM %s WHERE organization_id = $1 RETURNING 1) "
			           "SELECT count(*) FROM c", table);
			assert_int_equal(aiplat_db_begin(d), 0);
			char *v = NULL;
			rc = aiplat_db_query_value(d, &v, sql, 1, pb);
			aiplat_db_rollback(d);
			if (rc == 0 && atol(v) != 0)
				fail_msg("%s changed %s brightpath row(s) in %s", email, v, table);
			if (rc != 0 && rc != AIPLAT_EPERM)
				fail_msg("%s: unexpected error %s", table, aiplat_error_last()->message);
			free(v);
		}
	}
	PQclear(tables);

	/* The organisation itself, its people and custom roles. */
	const char *pb[1] = { org_b };
	assert_int_equal(person_count(d, "SELECT count(*) FROM aiplat.organizations WHERE id = $1", org_b), 0);
	assert_int_equal(person_count(d, "SELECT count(*) FROM aiplat.organizations", NULL), 1);
	assert_int_equal(person_count(d,
		"SELECT count(*) FROM aiplat.users WHERE lower(email) LIKE '%@brightpath.test'", NULL), 0);
	/* role_permissions has no organization_id: B's custom role grants stay
	 * hidden through the role they belong to; A's are visible (roles.read). */
	assert_int_equal(testdb_long(owner,
		"SELECT count(*) FROM aiplat.role_permissions rp JOIN aiplat.roles r ON r.id = rp.role_id "
		" WHERE r.organization_id = $1", 1, pb), 1);
	assert_int_equal(person_count(d,
		"SELECT count(*) FROM aiplat.role_permissions rp JOIN aiplat.roles r ON r.id = rp.role_id "
		" WHERE r.organization_id = $1", org_b), 0);
	assert_int_equal(person_count(d,
		"SELECT count(*) FROM aiplat.role_permissions WHERE role_id NOT IN "
		"(SELECT id FROM aiplat.roles WHERE organization_id IS NULL)", NULL), 1);
	/* Sharing by design: B's public template and showcase are visible. */
	assert_int_equal(person_count(d,
		"SELECT count(*) FROM aiplat.agent_templates WHERE organization_id = $1 AND is_public", org_b), 1);
	assert_int_equal(person_count(d,
		"SELECT count(*) FROM aiplat.project_showcases WHERE organization_id = $1 AND is_public", org_b), 1);
	aiplat_db_close(d);
}

static void test_admin_of_a(void **state)
{
	(void)state;
	check_person("alice@acme-legal.test", true);
}

static void test_user_of_a(void **state)
{
	(void)state;
	check_person("aaron@acme-legal.test", false);
}

static void test_viewer_of_a(void **state)
{
	(void)state;
	check_person("ava@acme-legal.test", false);
}

/* Moving one's own row into another organisation is refused. */
static void test_cannot_move_rows(void **state)
{
	(void)state;
	aiplat_db *d = act_as("alice@acme-legal.test", "acme-legal");
	assert_int_equal(aiplat_db_begin(d), 0);
	const char *p[1] = { org_b };
	int rc = aiplat_db_exec(d, "UPDATE aiplat.projects SET organization_id = $1 WHERE name = 'website'",
	                        1, p);
	assert_int_equal(rc, AIPLAT_EPERM);
	assert_non_null(strstr(aiplat_error_last()->message, "row-level security"));
	aiplat_db_rollback(d);
	aiplat_db_close(d);
}

/* A user of A who names B as the organisation is refused up front. */
static void test_not_a_member(void **state)
{
	(void)state;
	aiplat_db *d;
	assert_int_equal(aiplat_db_connect(&d, db.url, "isolation-test"), 0);
	aiplat_identity who;
	assert_int_equal(aiplat_identity_resolve(d, &who, "alice@acme-legal.test", "brightpath"),
	                 AIPLAT_EPERM);
	assert_non_null(strstr(aiplat_error_last()->message, "not a member of organization brightpath"));
	assert_int_equal(aiplat_identity_resolve(d, &who, "nobody@nowhere.test", NULL), AIPLAT_ENOTFOUND);
	assert_int_equal(aiplat_identity_resolve(d, &who, "alice@acme-legal.test", "no-such-org"),
	                 AIPLAT_ENOTFOUND);
	aiplat_db_close(d);
}

/* No identity at all (or a malformed one): no tenant rows, and no error. */
static void test_missing_settings_mean_nothing(void **state)
{
	(void)state;
	PGresult *tables = PQexec(owner, tenant_tables_sql);
	int n = PQntuples(tables);
	PGconn *c = testdb_connect(&db);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++) {
			testdb_exec(c, "BEGIN");
			if (pass == 1)
				testdb_exec(c, "SELECT set_config('aiplat.user_id', 'not-a-uuid', true),"
				               "       set_config('aiplat.org_id', '', true)");
			testdb_exec(c, "SET LOCAL ROLE aiplat_app");
			char sql[512];
			snprintf(sql, sizeof(sql),
			         "SELECT count(*) FROM %s WHERE organization_id IS NOT NULL%s",
			         PQgetvalue(tables, i, 0),
			         !strcmp(PQgetvalue(tables, i, 5), "t") ? " AND NOT is_public" : "");
			long seen = testdb_long(c, sql, 0, NULL);
			if (seen != 0)
				fail_msg("with no identity, %s shows %ld rows", PQgetvalue(tables, i, 0), seen);
			testdb_exec(c, "ROLLBACK");
		}
	}
	PQclear(tables);
	PQfinish(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admin_of_a),
		cmocka_unit_test(test_user_of_a),
		cmocka_unit_test(test_viewer_of_a),
		cmocka_unit_test(test_cannot_move_rows),
		cmocka_unit_test(test_not_a_member),
		cmocka_unit_test(test_missing_settings_mean_nothing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
