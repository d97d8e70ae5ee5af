/* Migration files: parsing, checksums, the statement splitter, the embedded set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "aiplat.h"
#include "runproc.h"

static void parse_ok(aiplat_migration *m, const char *name, const char *text)
{
	int rc = aiplat_migration_parse(m, name, text, strlen(text));
	if (rc)
		fail_msg("%s: %s", name, aiplat_error_last()->message);
}

static void parse_fails(const char *name, const char *text, const char *expect)
{
	aiplat_migration m;
	assert_int_equal(aiplat_migration_parse(&m, name, text, strlen(text)), AIPLAT_EINVALID);
	if (!strstr(aiplat_error_last()->message, expect))
		fail_msg("error \"%s\" does not mention \"%s\"", aiplat_error_last()->message, expect);
}

static void test_sections(void **state)
{
	(void)state;
	aiplat_migration m;
	parse_ok(&m, "0007_add_things.sql",
	         "-- a comment first is fine\n\n"
	         "-- migrate:up\nCREATE TABLE t (id int);\n"
	         "-- migrate:down\nDROP TABLE t;\n");
	assert_int_equal(m.version, 7);
	assert_string_equal(m.name, "add_things");
	assert_string_equal(m.filename, "0007_add_things.sql");
	assert_string_equal(m.up, "CREATE TABLE t (id int);\n");
	assert_string_equal(m.down, "DROP TABLE t;\n");
	assert_true(m.up_transaction);
	assert_true(m.down_transaction);
	assert_int_equal(m.up_line, 4);
	assert_int_equal(m.down_line, 6);
	aiplat_migration_dispose(&m);
}

static void test_transaction_option(void **state)
{
	(void)state;
	aiplat_migration m;
	parse_ok(&m, "0002_idx.sql",
	         "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (id);\n"
	         "--migrate:down   transaction:false\nDROP INDEX CONCURRENTLY i;\n");
	assert_false(m.up_transaction);
	assert_false(m.down_transaction);
	aiplat_migration_dispose(&m);
	parse_ok(&m, "0003_x.sql", "-- migrate:up transaction:true\r\nSELECT 1;\r\n");
	assert_true(m.up_transaction);
	assert_string_equal(m.down, "");
	aiplat_migration_dispose(&m);
}

static void test_bad_files(void **state)
{
	(void)state;
	parse_fails("0001_x.sql", "CREATE TABLE t ();\n", "no -- migrate:up section");
	parse_fails("0001_x.sql", "SELECT 1;\n-- migrate:up\nSELECT 2;\n", "before -- migrate:up");
	parse_fails("0001_x.sql", "-- migrate:up\nSELECT 1;\n-- migrate:up\nSELECT 2;\n",
	            "0001_x.sql:3: second -- migrate:up");
	parse_fails("0001_x.sql", "-- migrate:down\nSELECT 1;\n-- migrate:up\nSELECT 2;\n",
	            "-- migrate:down before -- migrate:up");
	parse_fails("0001_x.sql", "-- migrate:up transaction:maybe\nSELECT 1;\n",
	            "unknown migration option \"transaction:maybe\"");
	parse_fails("0001_x.sql", "-- migrate:up\n\n-- only a comment\n-- migrate:down\nSELECT 1;\n",
	            "the up section is empty");
	parse_fails("x_0001.sql", "-- migrate:up\nSELECT 1;\n", "must start with a version number");
	parse_fails("0001-x.sql", "-- migrate:up\nSELECT 1;\n", "NNNN_name.sql");
	parse_fails("0001_X.sql", "-- migrate:up\nSELECT 1;\n", "lower-case");
	parse_fails("0001_x.txt", "-- migrate:up\nSELECT 1;\n", "end in .sql");
	/* "-- migrate:upgrade" is not a marker. */
	parse_fails("0001_x.sql", "-- migrate:upgrade\nSELECT 1;\n", "no -- migrate:up section");
}

static void test_checksum(void **state)
{
	(void)state;
	char hex[65];
	aiplat_sha256_hex(hex, "abc", 3);   /* FIPS 180-2 test vector */
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	aiplat_migration a, b;
	parse_ok(&a, "0001_x.sql", "-- migrate:up\nSELECT 1;\n");
	parse_ok(&b, "0001_x.sql", "-- migrate:up\nSELECT 1; \n");
	assert_string_not_equal(a.checksum, b.checksum);
	aiplat_sha256_hex(hex, "-- migrate:up\nSELECT 1;\n", strlen("-- migrate:up\nSELECT 1;\n"));
	assert_string_equal(a.checksum, hex);
	aiplat_migration_dispose(&a);
	aiplat_migration_dispose(&b);
}

static void split_expect(const char *sql, size_t n, const char *const *expect)
{
	char **stmts;
	size_t count;
	assert_int_equal(aiplat_sql_split(&stmts, &count, sql), 0);
	if (count != n)
		fail_msg("split \"%s\" gave %zu statements, expected %zu", sql, count, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(stmts[i], expect[i]);
	aiplat_sql_split_free(stmts, count);
}

static void test_split(void **state)
{
	(void)state;
	split_expect("SELECT 1; SELECT 2;", 2, (const char *const[]){ "SELECT 1", "SELECT 2" });
	split_expect("SELECT 'a;b''c;'; SELECT 2", 2,
	             (const char *const[]){ "SELECT 'a;b''c;'", "SELECT 2" });
	split_expect("SELECT E'x\\';y'; SELECT 3;", 2,
	             (const char *const[]){ "SELECT E'x\\';y'", "SELECT 3" });
	split_expect("SELECT \"a;\"\"b\" FROM t;", 1, (const char *const[]){ "SELECT \"a;\"\"b\" FROM t" });
	split_expect("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT 2;", 2,
	             (const char *const[]){ "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
	                                    "SELECT 2" });
	split_expect("DO $body$ BEGIN PERFORM 1; $x$; $body$; SELECT $1;", 2,
	             (const char *const[]){ "DO $body$ BEGIN PERFORM 1; $x$; $body$", "SELECT $1" });
	split_expect("-- c; not a statement\nSELECT 1; /* a; /* nested; */ b; */ SELECT 2;", 2,
	             (const char *const[]){ "-- c; not a statement\nSELECT 1",
	                                    "/* a; /* nested; */ b; */ SELECT 2" });
	split_expect("  ;; -- only comments\n ; /* x */ ", 0, NULL);
	split_expect("SELECT 1", 1, (const char *const[]){ "SELECT 1" });
	/* SQL-standard bodies keep their semicolons, CASE ... END included. */
	split_expect("CREATE FUNCTION f(x int) RETURNS int BEGIN ATOMIC SELECT 1; "
	             "SELECT CASE WHEN x > 0 THEN 1 ELSE 2 END; END; SELECT 3;", 2,
	             (const char *const[]){ "CREATE FUNCTION f(x int) RETURNS int BEGIN ATOMIC SELECT 1; "
	                                    "SELECT CASE WHEN x > 0 THEN 1 ELSE 2 END; END",
	                                    "SELECT 3" });
	/* A plain BEGIN (transaction) does not start a body. */
	split_expect("BEGIN; SELECT 1; END;", 3,
	             (const char *const[]){ "BEGIN", "SELECT 1", "END" });
}

/* The embedded set is exactly the files in migrations/, sorted, same checksums. */
static void test_embedded_matches_source(void **state)
{
	(void)state;
	aiplat_migration_set emb, dir;
	assert_int_equal(aiplat_migration_set_embedded(&emb), 0);
	assert_int_equal(aiplat_migration_set_load_dir(&dir, AIPLAT_SOURCE_DIR "/migrations"), 0);
	assert_true(emb.count >= 5);
	assert_int_equal(emb.count, dir.count);
	for (size_t i = 0; i < emb.count; i++) {
		assert_string_equal(emb.items[i].filename, dir.items[i].filename);
		assert_string_equal(emb.items[i].checksum, dir.items[i].checksum);
		if (i)
			assert_true(emb.items[i].version > emb.items[i - 1].version);
	}
	aiplat_migration_set_dispose(&emb);
	aiplat_migration_set_dispose(&dir);
}

static void test_load_dir_errors(void **state)
{
	(void)state;
	aiplat_migration_set set;
	assert_int_equal(aiplat_migration_set_load_dir(&set, "/nonexistent/dir"), AIPLAT_EINVALID);
	char *d = make_temp_dir();
	char path[256];
	snprintf(path, sizeof(path), "%s/0001_a.sql", d);
	write_file(path, "-- migrate:up\nSELECT 1;\n");
	snprintf(path, sizeof(path), "%s/001_b.sql", d);
	write_file(path, "-- migrate:up\nSELECT 2;\n");
	snprintf(path, sizeof(path), "%s/README.md", d);
	write_file(path, "not a migration");
	assert_int_equal(aiplat_migration_set_load_dir(&set, d), AIPLAT_EINVALID);
	assert_non_null(strstr(aiplat_error_last()->message, "share version 1"));
	rm_rf(d);
	free(d);
}

static void test_new_file(void **state)
{
	(void)state;
	char *d = make_temp_dir(), *path, path0[256];
	snprintf(path0, sizeof(path0), "%s/0009_old.sql", d);
	write_file(path0, "-- migrate:up\nSELECT 1;\n");
	assert_int_equal(aiplat_migration_new_file(&path, d, "Add Users-Table!"), 0);
	char expect[256];
	snprintf(expect, sizeof(expect), "%s/0010_add_users_table.sql", d);
	assert_string_equal(path, expect);
	char *text = read_file(path);
	assert_non_null(strstr(text, "-- migrate:up"));
	assert_non_null(strstr(text, "-- migrate:down"));
	free(text);
	free(path);
	assert_int_equal(aiplat_migration_new_file(&path, d, "!!!"), AIPLAT_EINVALID);
	rm_rf(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_transaction_option),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_embedded_matches_source),
		cmocka_unit_test(test_load_dir_errors),
		cmocka_unit_test(test_new_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
