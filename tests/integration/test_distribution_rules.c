/*
 * The distribution rules (DESIGN.md section 10), on plain PostgreSQL: the
 * migrated schema follows them (so every table a later migration adds is
 * held to them too), each rule finds a table made to break it, and
 * `cluster distribute` refuses where there is no Citus.
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

static bool contains(const char *haystack, const char *needle)
{
	return strstr(haystack, needle) != NULL;
}

static void test_schema_follows_the_rules(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, true);
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", t.url, "--format", "csv", "cluster", "check", NULL);
	if (r.status != 0)
		fail_msg("the schema breaks the distribution rules:\n%s%s", r.out, r.err);
	assert_string_equal(r.out, "");
	assert_true(contains(r.err, "every table follows the distribution rules"));
	run_result_free(&r);

	/* Every table is classed once, and the classes cover every table. */
	PGconn *c = testdb_connect(&t);
	assert_int_equal(testdb_long(c,
		"SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'aiplat'::regnamespace"
		"   AND c.relkind IN ('r', 'p') AND NOT c.relispartition", 0, NULL),
		testdb_long(c, "SELECT count(*) FROM aiplat_internal.table_classes", 0, NULL));
	/* The seed data fits: nothing of no organisation in a distributed table. */
	PQfinish(c);
	testdb_seed(&t, true);
	c = testdb_connect(&t);
	assert_int_equal(testdb_long(c,
		"SELECT count(*) FROM aiplat.audit_logs WHERE organization_id IS NULL", 0, NULL), 0);
	PQfinish(c);
	testdb_drop(&t);
}

/* One object per rule, each breaking only that rule (as far as it can). */
static const char breaches_sql[] =
	"INSERT INTO aiplat_internal.table_classes (table_name, class, note) VALUES"
	"  ('zz_missing', 'distributed', 'no such table'),"
	"  ('zz_loose', 'distributed', 'nullable organisation, keys without it'),"
	"  ('zz_nopk', 'distributed', 'no primary key'),"
	"  ('zz_good', 'distributed', 'follows the rules'),"
	"  ('zz_crossing', 'distributed', 'refers across organisations'),"
	"  ('zz_setnull', 'distributed', 'sets the organisation to NULL'),"
	"  ('zz_ref', 'reference', 'refers to a distributed table');"
	"CREATE TABLE aiplat.zz_unclassified (id int PRIMARY KEY);"
	"CREATE TABLE aiplat.zz_loose (id int PRIMARY KEY, organization_id uuid, code text UNIQUE);"
	"CREATE TABLE aiplat.zz_nopk (organization_id uuid NOT NULL, note text);"
	"CREATE TABLE aiplat.zz_good (organization_id uuid NOT NULL, id int, at timestamptz,"
	"                             PRIMARY KEY (organization_id, id));"
	"CREATE TABLE aiplat.zz_crossing (organization_id uuid NOT NULL, id int, loose_id int"
	"                                 REFERENCES aiplat.zz_loose (id), PRIMARY KEY (organization_id, id));"
	"CREATE TABLE aiplat.zz_setnull (organization_id uuid NOT NULL, id int, good_id int,"
	"                                PRIMARY KEY (organization_id, id),"
	"                                FOREIGN KEY (organization_id, good_id)"
	"                                  REFERENCES aiplat.zz_good (organization_id, id) ON DELETE SET NULL);"
	"CREATE TABLE aiplat.zz_ref (id int PRIMARY KEY, good_org uuid, good_id int,"
	"                            FOREIGN KEY (good_org, good_id) REFERENCES aiplat.zz_good (organization_id, id));"
	"ALTER TABLE aiplat.zz_good ENABLE ROW LEVEL SECURITY;"
	"CREATE POLICY zz_subquery ON aiplat.zz_good FOR SELECT USING (id IN (SELECT 1));"
	"CREATE FUNCTION aiplat.zz_reads(org uuid) RETURNS boolean LANGUAGE sql STABLE"
	"  AS 'SELECT EXISTS (SELECT 1 FROM aiplat.organizations o WHERE o.id = org)';"
	"CREATE POLICY zz_sql_helper ON aiplat.zz_good FOR UPDATE USING (aiplat.zz_reads(organization_id));"
	"CREATE FUNCTION aiplat_internal.zz_upsert(org uuid) RETURNS void LANGUAGE plpgsql AS $$"
	"BEGIN"
	"  INSERT INTO aiplat.zz_good AS g (organization_id, id, at) VALUES (org, 1, NULL)"
	"  ON CONFLICT (organization_id, id) DO UPDATE SET at = now() WHERE g.id = 1;"
	"END $$;"
	"CREATE FUNCTION aiplat_internal.zz_rowtype(g aiplat.zz_good) RETURNS int LANGUAGE sql"
	"  AS 'SELECT g.id';"
	"CREATE FUNCTION aiplat_internal.zz_make_schema() RETURNS trigger LANGUAGE plpgsql AS $$"
	"BEGIN"
	"  EXECUTE format('CREATE SCHEMA %I', 'zz_' || NEW.id);"
	"  RETURN NULL;"
	"END $$;"
	"CREATE TRIGGER zz_make_schema AFTER INSERT ON aiplat.zz_good"
	"  FOR EACH ROW EXECUTE FUNCTION aiplat_internal.zz_make_schema();"
	"CREATE FUNCTION aiplat_internal.zz_copy() RETURNS trigger LANGUAGE plpgsql AS $$"
	"BEGIN"
	"  INSERT INTO aiplat.zz_unclassified (id) VALUES (NEW.id);"
	"  RETURN NULL;"
	"END $$;"
	"CREATE TRIGGER zz_copy AFTER INSERT ON aiplat.zz_ref"
	"  FOR EACH ROW EXECUTE FUNCTION aiplat_internal.zz_copy();";

/* The breaches a CSV output must hold, as "rule,object,problem" prefixes. */
static const char *const expected[] = {
	"class,zz_missing,classed, but schema aiplat has no such table",
	"class,zz_unclassified,the table has no class",
	"foreign key,zz_crossing.zz_crossing_loose_id_fkey,refers to distributed zz_loose without matching",
	"foreign key,zz_ref.zz_ref_good_org_good_id_fkey,a reference table may not refer to a distributed one",
	"foreign key,zz_setnull.zz_setnull_organization_id_good_id_fkey,ON DELETE/UPDATE SET NULL",
	"organization_id,zz_loose,organization_id may be NULL",
	"policy,zz_good.zz_subquery,the policy contains a subquery",
	"policy,zz_good.zz_sql_helper,calls SQL function aiplat.zz_reads(uuid)",
	"primary key,zz_nopk,a distributed table without a primary key",
	"signature,aiplat_internal.zz_rowtype(aiplat.zz_good),takes or returns the row type of table aiplat.zz_good",
	"trigger,zz_good.zz_make_schema,aiplat_internal.zz_make_schema() creates or drops schemas",
	"trigger,zz_ref.zz_copy,aiplat_internal.zz_copy() writes other tables from a reference table",
	"unique,zz_loose,aiplat.zz_loose_code_key does not include organization_id",
	"unique,zz_loose,aiplat.zz_loose_pkey does not include organization_id",
	"upsert,aiplat_internal.zz_upsert(uuid),now() in DO UPDATE SET is not immutable",
};

static void test_each_rule_finds_its_breach(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, true);
	PGconn *c = testdb_connect(&t);
	testdb_exec(c, breaches_sql);
	PQfinish(c);
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", t.url, "--format", "csv", "cluster", "check", NULL);
	expect_exit(&r, 1, "cluster check with breaches");
	size_t n = sizeof(expected) / sizeof(expected[0]);
	for (size_t i = 0; i < n; i++) {
		/* Rows end in \r\n (RFC 4180); quoted cells keep their commas. */
		char line[512];
		snprintf(line, sizeof(line), "\n%s", expected[i]);
		if (!contains(r.out, line)) {
			/* The problem cell is quoted when it holds a comma. */
			const char *rule_end = strchr(expected[i], ',');
			const char *object_end = strchr(rule_end + 1, ',');
			char quoted[600];
			snprintf(quoted, sizeof(quoted), "\n%.*s\"%s", (int)(object_end + 1 - expected[i]), expected[i],
			         object_end + 1);
			if (!contains(r.out, quoted)) {
				fprintf(stderr, "cluster check said:\n%s", r.out);   /* longer than fail_msg prints */
				fail_msg("cluster check did not report\n  %s", expected[i]);
			}
		}
	}
	/* Nothing else: the rest of the schema follows the rules. */
	int rows = 0;
	for (const char *p = r.out; (p = strstr(p, "\r\n")) != NULL; p += 2)
		rows++;
	if (rows != (int)n + 1)
		fail_msg("%d breaches reported, %zu expected:\n%s", rows - 1, n, r.out);
	assert_true(contains(r.err, "15 breaches of the distribution rules"));
	run_result_free(&r);

	/* distribute refuses before it changes anything (and here, for want of Citus). */
	run_aiplat(&r, NULL, NULL, "--db", t.url, "cluster", "distribute", NULL);
	expect_exit(&r, 1, "cluster distribute without Citus");
	run_result_free(&r);
	testdb_drop(&t);
}

static void test_distribute_needs_citus(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, true);
	testdb_seed(&t, true);
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", t.url, "cluster", "distribute", "--dry-run", NULL);
	expect_exit(&r, 1, "cluster distribute --dry-run without Citus");
	assert_true(contains(r.err, "this server has no Citus"));
	assert_true(contains(r.err, "CREATE EXTENSION citus"));
	assert_string_equal(r.out, "");
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "--as", "alice@acme-legal.test", "--org", "acme-legal",
	           "cluster", "distribute", NULL);
	expect_exit(&r, 6, "cluster distribute as a person");
	assert_true(contains(r.err, "the platform's to do"));
	run_result_free(&r);
	testdb_drop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_follows_the_rules),
		cmocka_unit_test(test_each_rule_finds_its_breach),
		cmocka_unit_test(test_distribute_needs_citus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
