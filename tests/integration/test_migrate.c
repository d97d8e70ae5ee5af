/* `aiplat migrate` against a real server: round trip, concurrency, drift, failure. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "runproc.h"
#include "testdb.h"

/* Everything the migrations create in schemas aiplat and aiplat_internal,
 * privileges included, as one digest. */
#define OURS "IN ('aiplat', 'aiplat_internal')"
static const char fingerprint_sql[] =
	"SELECT md5(string_agg(x, E'\\n' ORDER BY x)) FROM ("
	" SELECT 'schema ' || n.nspname || ' ' || coalesce(n.nspacl::text, '') AS x"
	"   FROM pg_namespace n WHERE n.nspname " OURS
	" UNION ALL SELECT 'rel ' || c.relnamespace::regnamespace || '.' || c.relname || ' ' ||"
	"        c.relkind::text || ' ' || c.relrowsecurity || ' ' || coalesce(c.relacl::text, '')"
	"   FROM pg_class c WHERE c.relnamespace::regnamespace::text " OURS
	" UNION ALL SELECT 'col ' || c.relname || '.' || a.attname || ' ' ||"
	"        format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' ' ||"
	"        coalesce(pg_get_expr(d.adbin, d.adrelid), '') || coalesce(a.attacl::text, '')"
	"   FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
	"   LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
	"  WHERE c.relnamespace::regnamespace::text " OURS " AND a.attnum > 0 AND NOT a.attisdropped"
	/* a function's body, settings and who may call it (a NULL ACL is PUBLIC's default) */
	" UNION ALL SELECT 'fn ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) || ' ' ||"
	"        p.prosecdef || ' ' || p.provolatile::text || ' ' || coalesce(p.proconfig::text, '') || ' ' ||"
	"        has_function_privilege('aiplat_app', p.oid, 'EXECUTE') || ' ' ||"
	"        (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) e"
	"                                      WHERE e.grantee = 0 AND e.privilege_type = 'EXECUTE'))"
	"   FROM pg_proc p WHERE p.pronamespace::regnamespace::text " OURS
	"    AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_proc'::regclass"
	"                     AND dep.objid = p.oid AND dep.deptype = 'e')"
	" UNION ALL SELECT 'pol ' || tablename || ' ' || policyname || ' ' || cmd || ' ' ||"
	"        coalesce(qual, '') || ' ' || coalesce(with_check, '')"
	"   FROM pg_policies WHERE schemaname = 'aiplat'"
	" UNION ALL SELECT 'con ' || conrelid::regclass::text || ' ' || conname || ' ' ||"
	"        pg_get_constraintdef(oid)"
	"   FROM pg_constraint WHERE connamespace::regnamespace::text " OURS
	" UNION ALL SELECT 'idx ' || indexdef FROM pg_indexes WHERE schemaname " OURS
	" UNION ALL SELECT 'type ' || t.typname || ' ' ||"
	"        coalesce((SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder)"
	"                    FROM pg_enum e WHERE e.enumtypid = t.oid), '')"
	"   FROM pg_type t WHERE t.typnamespace = 'aiplat'::regnamespace AND t.typtype = 'e'"
	" UNION ALL SELECT 'trg ' || tgrelid::regclass::text || ' ' || tgname || ' ' ||"
	"        tgfoid::regprocedure::text"
	"   FROM pg_trigger WHERE NOT tgisinternal"
	"    AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'aiplat'::regnamespace)"
	") s";

/*
 * `migrate down all` on t. 0001's down drops role aiplat_app when no other
 * database uses it; while another test drops its database at that moment,
 * PostgreSQL's DROP ROLE can fail describing that database ("cache lookup
 * failed for database"), a server race outside aiplat: that one error is
 * tried again.
 */
static void down_all(run_result *r, const testdb *t, const char *what)
{
	for (int attempt = 0;; attempt++) {
		run_aiplat(r, NULL, NULL, "--db", t->url, "-q", "migrate", "down", "all", NULL);
		if (r->status == 0 || attempt == 2 || !strstr(r->err, "cache lookup failed for database"))
			break;
		run_result_free(r);
	}
	expect_exit(r, 0, what);
}

static size_t embedded_count(void)
{
	aiplat_migration_set set;
	assert_int_equal(aiplat_migration_set_embedded(&set), 0);
	size_t n = set.count;
	aiplat_migration_set_dispose(&set);
	return n;
}

static bool contains(const char *haystack, const char *needle)
{
	return haystack && strstr(haystack, needle) != NULL;
}

static void test_round_trip(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, false);
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "up", NULL);
	expect_exit(&r, 0, "migrate up");
	run_result_free(&r);
	PGconn *c = testdb_connect(&t);
	char *first = testdb_value(c, fingerprint_sql, 0, NULL);
	assert_int_equal(testdb_long(c, "SELECT count(*) FROM aiplat_meta.schema_migrations", 0, NULL),
	                 (long)embedded_count());

	down_all(&r, &t, "migrate down all");
	run_result_free(&r);
	assert_int_equal(testdb_long(c, "SELECT count(*) FROM pg_namespace WHERE nspname = 'aiplat'",
	                             0, NULL), 0);
	assert_int_equal(testdb_long(c, "SELECT count(*) FROM aiplat_meta.schema_migrations", 0, NULL), 0);

	run_aiplat(&r, NULL, NULL, "--db", t.url, "--format", "tsv", "migrate", "status", NULL);
	expect_exit(&r, 0, "migrate status");
	assert_true(contains(r.out, "1\tfoundation\tpending"));
	assert_false(contains(r.out, "\tapplied\t"));
	run_result_free(&r);

	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "up", NULL);
	expect_exit(&r, 0, "migrate up again");
	run_result_free(&r);
	char *second = testdb_value(c, fingerprint_sql, 0, NULL);
	assert_string_equal(first, second);

	/* redo: the last migration's down undoes its up. */
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "redo", NULL);
	expect_exit(&r, 0, "migrate redo");
	run_result_free(&r);
	char *third = testdb_value(c, fingerprint_sql, 0, NULL);
	assert_string_equal(first, third);
	free(first);
	free(second);
	free(third);
	PQfinish(c);
	testdb_drop(&t);
}

/* Each migration's down section puts back exactly what was there before
 * its up section ran: schema objects, function bodies and privileges. */
static void test_each_down_restores(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, false);
	PGconn *c = testdb_connect(&t);
	size_t n = embedded_count();
	run_result r;
	char *before = NULL;
	for (size_t v = 1; v <= n; v++) {
		char to[16];
		snprintf(to, sizeof(to), "%zu", v - 1);
		if (v > 1) {
			run_aiplat(&r, NULL, NULL, "--db", t.url, "-q", "migrate", "up", "--to", to, NULL);
			expect_exit(&r, 0, "migrate up to the previous version");
			run_result_free(&r);
			/* The digest needs the schema to exist (aiplat_app too). */
			before = testdb_value(c, fingerprint_sql, 0, NULL);
		}
		snprintf(to, sizeof(to), "%zu", v);
		run_aiplat(&r, NULL, NULL, "--db", t.url, "-q", "migrate", "up", "--to", to, NULL);
		expect_exit(&r, 0, "migrate up one version");
		run_result_free(&r);
		run_aiplat(&r, NULL, NULL, "--db", t.url, "-q", "migrate", "down", NULL);
		expect_exit(&r, 0, "migrate down one version");
		run_result_free(&r);
		/* Known and kept (applied migrations never change, checksums would
		 * drift): 0006's down revokes UPDATE (type) on organizations, which
		 * 0001 had granted as well. */
		if (before && v != 6) {
			char *after = testdb_value(c, fingerprint_sql, 0, NULL);
			if (strcmp(before, after) != 0)
				fail_msg("the down section of migration %zu does not restore version %zu", v, v - 1);
			free(after);
		}
		free(before);
		before = NULL;
	}
	PQfinish(c);
	testdb_drop(&t);
}

static void test_up_to_and_status(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, false);
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "up", "--to", "2", NULL);
	expect_exit(&r, 0, "migrate up --to 2");
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "--format", "csv", "migrate", "status", "--exit-code",
	           NULL);
	expect_exit(&r, 1, "status --exit-code with pending migrations");
	assert_true(contains(r.out, "2,model_catalogue,applied,"));
	assert_true(contains(r.out, "3,ai_framework,pending,,\r\n"));
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "up", "--to", "999", NULL);
	expect_exit(&r, 5, "migrate up --to an unknown version");
	assert_true(contains(r.err, "no migration with version 999"));
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "up", "--to", "0", NULL);
	expect_exit(&r, 2, "migrate up --to 0");
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "down", "two", NULL);
	expect_exit(&r, 2, "migrate down with a bad count");
	run_result_free(&r);
	testdb_drop(&t);
}

/* Waits until every process has said it is waiting for the lock. */
static void await_waiting(run_async *procs, int n)
{
	for (int tries = 0; tries < 200; tries++) {
		int waiting = 0;
		for (int i = 0; i < n; i++) {
			char *err = run_async_stderr(&procs[i]);
			waiting += contains(err, "waiting");
			free(err);
		}
		if (waiting == n)
			return;
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	fail_msg("the migration runs never reported waiting for the lock");
}

/* Two runners at once: one applies everything, the other waits, then finds
 * nothing left to do; every migration is recorded once. */
static void test_concurrent_runners(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, false);
	PGconn *holder = testdb_connect(&t);
	testdb_exec(holder, "SELECT pg_advisory_lock(1634299508, 1)");
	const char *argv[] = { "--db", t.url, "migrate", "up", NULL };
	run_async a[2];
	run_aiplat_start(&a[0], NULL, argv);
	run_aiplat_start(&a[1], NULL, argv);
	await_waiting(a, 2);
	testdb_exec(holder, "SELECT pg_advisory_unlock(1634299508, 1)");
	run_result r[2];
	run_aiplat_wait(&a[0], &r[0]);
	run_aiplat_wait(&a[1], &r[1]);
	expect_exit(&r[0], 0, "first concurrent runner");
	expect_exit(&r[1], 0, "second concurrent runner");
	char applied_all[64];
	snprintf(applied_all, sizeof(applied_all), "applied %zu migrations", embedded_count());
	bool first_applied = contains(r[0].err, applied_all);
	bool second_applied = contains(r[1].err, applied_all);
	assert_true(first_applied != second_applied);
	assert_true(contains(first_applied ? r[1].err : r[0].err, "nothing to apply"));
	assert_int_equal(testdb_long(holder,
		"SELECT count(DISTINCT version) FROM aiplat_meta.schema_migrations", 0, NULL),
		(long)embedded_count());
	run_result_free(&r[0]);
	run_result_free(&r[1]);

	/* And without a helper holding the lock, a real race: several rounds. */
	for (int round = 0; round < 3; round++) {
		down_all(&r[0], &t, "down between rounds");
		run_result_free(&r[0]);
		run_async b[3];
		for (int i = 0; i < 3; i++)
			run_aiplat_start(&b[i], NULL, argv);
		for (int i = 0; i < 3; i++) {
			run_aiplat_wait(&b[i], &r[0]);
			expect_exit(&r[0], 0, "racing runner");
			run_result_free(&r[0]);
		}
		assert_int_equal(testdb_long(holder,
			"SELECT count(*) FROM aiplat_meta.schema_migrations", 0, NULL), (long)embedded_count());
	}
	PQfinish(holder);
	testdb_drop(&t);
}

static void test_lock_timeout(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, false);
	PGconn *holder = testdb_connect(&t);
	testdb_exec(holder, "SELECT pg_advisory_lock(1634299508, 1)");
	run_result r;
	time_t t0 = time(NULL);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "up", "--lock-timeout", "700ms", NULL);
	expect_exit(&r, 7, "migrate up while another run holds the lock");
	assert_true(time(NULL) - t0 < 30);
	assert_true(contains(r.err, "holds the lock"));
	assert_true(contains(r.err, "hint:"));
	run_result_free(&r);
	/* Nothing was applied, not even the ledger's migrations. */
	assert_int_equal(testdb_long(holder, "SELECT count(*) FROM pg_namespace WHERE nspname = 'aiplat'",
	                             0, NULL), 0);
	PQfinish(holder);
	testdb_drop(&t);
}

/* A private copy of the migrations directory. */
static char *copy_migrations(void)
{
	char *dir = make_temp_dir();
	DIR *d = opendir(AIPLAT_SOURCE_DIR "/migrations");
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char src[1024], dst[1024];
		snprintf(src, sizeof(src), "%s/migrations/%s", AIPLAT_SOURCE_DIR, e->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", dir, e->d_name);
		char *text = read_file(src);
		assert_non_null(text);
		write_file(dst, text);
		free(text);
	}
	closedir(d);
	return dir;
}

static void test_checksum_drift(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, false);
	char *dir = copy_migrations();
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "up", "--dir", dir, NULL);
	expect_exit(&r, 0, "migrate up --dir");
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "verify", "--dir", dir, NULL);
	expect_exit(&r, 0, "verify before any change");
	run_result_free(&r);

	char path[1024];
	snprintf(path, sizeof(path), "%s/0002_model_catalogue.sql", dir);
	char *text = read_file(path);
	size_t n = strlen(text);
	char *edited = malloc(n + 64);
	snprintf(edited, n + 64, "%s\n-- an innocent-looking edit\n", text);
	write_file(path, edited);
	free(text);
	free(edited);

	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "verify", "--dir", dir, NULL);
	expect_exit(&r, 1, "verify after editing an applied file");
	assert_true(contains(r.err, "0002_model_catalogue.sql"));
	assert_false(contains(r.err, "0001_foundation.sql"));
	assert_true(contains(r.out, "0002_model_catalogue.sql"));
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "up", "--dir", dir, NULL);
	expect_exit(&r, 1, "up refuses to run past a changed file");
	assert_true(contains(r.err, "0002_model_catalogue.sql"));
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "--format", "tsv", "migrate", "status", "--dir", dir,
	           NULL);
	expect_exit(&r, 0, "status");
	assert_true(contains(r.out, "2\tmodel_catalogue\tchanged\t"));
	run_result_free(&r);
	rm_rf(dir);
	free(dir);
	testdb_drop(&t);
}

/* An applied migration whose file is gone: verify says so (exit 1), up
 * refuses rather than calling the database up to date, and an empty
 * directory (no migrations at all) is handled without undefined behaviour. */
static void test_missing_applied(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, false);
	char *dir = copy_migrations();
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", t.url, "-q", "migrate", "up", "--dir", dir, NULL);
	expect_exit(&r, 0, "migrate up --dir");
	run_result_free(&r);
	char path[1024];
	snprintf(path, sizeof(path), "%s/0003_ai_framework.sql", dir);
	assert_int_equal(unlink(path), 0);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "verify", "--dir", dir, NULL);
	expect_exit(&r, 1, "verify with an applied migration deleted");
	assert_true(contains(r.err, "version 3 (ai_framework)"));
	assert_true(contains(r.out, "missing"));
	assert_false(contains(r.err, "every applied migration matches"));
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "up", "--dir", dir, NULL);
	expect_exit(&r, 1, "up with an applied migration deleted");
	assert_true(contains(r.err, "no file has it"));
	assert_false(contains(r.err, "up to date"));
	run_result_free(&r);

	char *empty = make_temp_dir();
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "up", "--dir", empty, NULL);
	expect_exit(&r, 1, "up from an empty directory on a migrated database");
	assert_true(contains(r.err, "no file has them"));
	assert_false(contains(r.err, "up to date"));
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "verify", "--dir", empty, NULL);
	expect_exit(&r, 1, "verify against an empty directory");
	run_result_free(&r);
	rm_rf(empty);
	free(empty);
	rm_rf(dir);
	free(dir);
	testdb_drop(&t);
}

/* Schema changes are the platform's: up, down and redo refuse to run as a person. */
static void test_refused_as_person(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, true);
	testdb_seed(&t, true);
	PGconn *c = testdb_connect(&t);
	long before = testdb_long(c, "SELECT count(*) FROM aiplat_meta.schema_migrations", 0, NULL);
	static const char *const as[] = { "ops@aiplat.test", "alice@acme-legal.test" };
	static const char *const verbs[] = { "up", "down", "redo" };
	for (size_t i = 0; i < 2; i++)
		for (size_t v = 0; v < 3; v++) {
			run_result r;
			run_aiplat(&r, NULL, NULL, "--db", t.url, "--as", as[i], "migrate", verbs[v], NULL);
			char what[128];
			snprintf(what, sizeof(what), "migrate %s --as %s", verbs[v], as[i]);
			expect_exit(&r, 6, what);
			assert_true(contains(r.err, "platform's to run"));
			run_result_free(&r);
		}
	assert_int_equal(testdb_long(c, "SELECT count(*) FROM aiplat_meta.schema_migrations", 0, NULL), before);
	assert_int_equal(testdb_long(c, "SELECT count(*) FROM pg_namespace WHERE nspname = 'aiplat'", 0, NULL), 1);
	PQfinish(c);
	testdb_drop(&t);
}

/* A migration that fails half way leaves nothing of itself and no dirty
 * state: fixing the file and running again just works. */
static void test_failing_migration(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, false);
	char *dir = make_temp_dir();
	char path[512];
	snprintf(path, sizeof(path), "%s/0001_first.sql", dir);
	write_file(path, "-- migrate:up\nCREATE TABLE public.first (id int);\n"
	                 "-- migrate:down\nDROP TABLE public.first;\n");
	snprintf(path, sizeof(path), "%s/0002_second.sql", dir);
	write_file(path, "-- migrate:up\nCREATE TABLE public.second (id int);\n"
	                 "INSERT INTO public.second VALUES (1);\n"
	                 "SELECT 1 / 0;\n"
	                 "-- migrate:down\nDROP TABLE public.second;\n");
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "up", "--dir", dir, NULL);
	expect_exit(&r, 5, "a failing migration");
	assert_true(contains(r.err, "0002_second.sql:4"));
	assert_true(contains(r.err, "division by zero"));
	run_result_free(&r);
	PGconn *c = testdb_connect(&t);
	assert_int_equal(testdb_long(c, "SELECT count(*) FROM aiplat_meta.schema_migrations", 0, NULL), 1);
	char *second = testdb_value(c, "SELECT coalesce(to_regclass('public.second')::text, 'none')", 0, NULL);
	assert_string_equal(second, "none");
	free(second);
	write_file(path, "-- migrate:up\nCREATE TABLE public.second (id int);\n"
	                 "-- migrate:down\nDROP TABLE public.second;\n");
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "up", "--dir", dir, NULL);
	expect_exit(&r, 0, "the fixed migration");
	run_result_free(&r);
	assert_int_equal(testdb_long(c, "SELECT count(*) FROM aiplat_meta.schema_migrations", 0, NULL), 2);

	/* transaction:false runs statement by statement, so CONCURRENTLY works. */
	snprintf(path, sizeof(path), "%s/0003_index.sql", dir);
	write_file(path, "-- migrate:up transaction:false\n"
	                 "CREATE INDEX CONCURRENTLY IF NOT EXISTS second_id ON public.second (id);\n"
	                 "CREATE INDEX CONCURRENTLY IF NOT EXISTS first_id ON public.first (id);\n"
	                 "-- migrate:down transaction:false\n"
	                 "DROP INDEX CONCURRENTLY IF EXISTS public.second_id;\n"
	                 "DROP INDEX CONCURRENTLY IF EXISTS public.first_id;\n");
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "up", "--dir", dir, NULL);
	expect_exit(&r, 0, "a transaction:false migration");
	run_result_free(&r);
	assert_int_equal(testdb_long(c, "SELECT count(*) FROM pg_indexes WHERE indexname IN "
	                                "('first_id', 'second_id')", 0, NULL), 2);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "migrate", "down", "--dir", dir, NULL);
	expect_exit(&r, 0, "its down section");
	run_result_free(&r);
	assert_int_equal(testdb_long(c, "SELECT count(*) FROM pg_indexes WHERE indexname IN "
	                                "('first_id', 'second_id')", 0, NULL), 0);
	PQfinish(c);
	rm_rf(dir);
	free(dir);
	testdb_drop(&t);
}

static void test_new(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	run_result r;
	run_aiplat(&r, NULL, NULL, "migrate", "new", "add widgets", "--dir", dir, NULL);
	expect_exit(&r, 0, "migrate new");
	char expect[512];
	snprintf(expect, sizeof(expect), "%s/0001_add_widgets.sql\n", dir);
	assert_string_equal(r.out, expect);
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "migrate", "new", "more", "--dir", dir, NULL);
	snprintf(expect, sizeof(expect), "%s/0002_more.sql\n", dir);
	assert_string_equal(r.out, expect);
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "migrate", "new", "--dir", dir, NULL);
	expect_exit(&r, 2, "migrate new without a name");
	run_result_free(&r);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_each_down_restores),
		cmocka_unit_test(test_up_to_and_status),
		cmocka_unit_test(test_concurrent_runners),
		cmocka_unit_test(test_lock_timeout),
		cmocka_unit_test(test_checksum_drift),
		cmocka_unit_test(test_missing_applied),
		cmocka_unit_test(test_refused_as_person),
		cmocka_unit_test(test_failing_migration),
		cmocka_unit_test(test_new),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
