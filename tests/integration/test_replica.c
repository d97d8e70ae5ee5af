/*
 * Reports on a hot standby: a real streaming replica of the test cluster
 * (the `standby` fixture, pg_basebackup -R). Usage recorded on the primary
 * reads the same from the standby once replayed, through --replica URL and
 * through a multi-host URL with target_session_attrs=prefer-standby; while
 * replay is paused the standby's answer is the older one (so it really is
 * the standby that answers); a write there fails with a clear message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "runproc.h"
#include "testdb.h"

static testdb db;
static PGconn *primary, *standby_admin;
static char standby_host[512];
static char standby_url[1024], multi_url[2048];

/* %XX-escapes a path for a URL's query. */
static void url_escape(char *out, size_t size, const char *s)
{
	size_t k = 0;
	for (; *s && k + 4 < size; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    strchr("-._~", *s))
			out[k++] = *s;
		else
			k += (size_t)snprintf(out + k, size - k, "%%%02X", (unsigned char)*s);
	}
	out[k] = 0;
}

/* The primary's host= value in the test cluster's URL, still escaped. */
static const char *primary_host_escaped(void)
{
	static char host[512];
	const char *h = strstr(testdb_url_for("postgres"), "host=");
	assert_non_null(h);
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(h + 5, "&"), h + 5);
	return host;
}

/* Waits until the standby has replayed everything the primary wrote so far. */
static void await_replay(void)
{
	char *lsn = testdb_value(primary, "SELECT pg_current_wal_lsn()::text", 0, NULL);
	const char *p[1] = { lsn };
	for (int i = 0; i < 600; i++) {
		if (testdb_long(standby_admin, "SELECT (pg_last_wal_replay_lsn() >= $1::pg_lsn)::int", 1, p) == 1) {
			free(lsn);
			return;
		}
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	fail_msg("the standby did not replay up to %s in 30 s", lsn);
}

static int setup(void **state)
{
	(void)state;
	char *host = read_file(AIPLAT_TEST_XDG "/standby.host");
	if (!host)
		fail_msg("no standby (the `standby` fixture writes " AIPLAT_TEST_XDG "/standby.host)");
	snprintf(standby_host, sizeof(standby_host), "%.*s", (int)strcspn(host, "\n"), host);
	free(host);
	testdb_create(&db, true);
	testdb_seed(&db, true);
	primary = testdb_connect(&db);

	char sh[600];
	url_escape(sh, sizeof(sh), standby_host);
	const char *ph = primary_host_escaped();
	char admin[1024];
	snprintf(admin, sizeof(admin), "postgresql:///postgres?host=%s&port=5433&user=aiplat", sh);
	standby_admin = PQconnectdb(admin);
	if (PQstatus(standby_admin) != CONNECTION_OK)
		fail_msg("cannot reach the standby: %s", PQerrorMessage(standby_admin));
	assert_int_equal(testdb_long(standby_admin, "SELECT pg_is_in_recovery()::int", 0, NULL), 1);
	snprintf(standby_url, sizeof(standby_url), "postgresql:///%s?host=%s&port=5433&user=aiplat", db.name, sh);
	snprintf(multi_url, sizeof(multi_url),
	         "postgresql:///%s?host=%s,%s&port=5432,5433&user=aiplat&target_session_attrs=prefer-standby",
	         db.name, ph, sh);
	await_replay();   /* the new database itself */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	PGresult *r = PQexec(standby_admin, "SELECT pg_wal_replay_resume()");
	PQclear(r);
	PQfinish(standby_admin);
	PQfinish(primary);
	testdb_drop(&db);
	return 0;
}

/* The command's stdout, which must succeed. */
static char *output(const char *const *argv)
{
	run_result r;
	run_aiplat_argv(&r, NULL, NULL, argv);
	expect_exit(&r, 0, argv[2]);
	char *out = strdup(r.out);
	run_result_free(&r);
	return out;
}

#define OUT(...) output((const char *const[]){ __VA_ARGS__, NULL })

static void consume(const char *who, const char *org, const char *model, const char *tokens)
{
	free(OUT("--db", db.url, "--as", who, "--org", org, "quota", "consume", "--model", model, "--tokens", tokens));
}

#define ALICE "--as", "alice@acme-legal.test", "--org", "acme-legal"

static void test_reports_from_the_standby(void **state)
{
	(void)state;
	consume("aaron@acme-legal.test", "acme-legal", "Legal Document Analyst", "120");
	consume("ben@brightpath.test", "brightpath", "Blog Content Writer Pro", "70");
	await_replay();

	char *on_primary = OUT("--db", db.url, "--format", "csv", "usage", "report", "--by", "org,model");
	assert_non_null(strstr(on_primary, "acme-legal,Legal Document Analyst,120,"));
	char *via_replica = OUT("--db", db.url, "--format", "csv", "usage", "report", "--by", "org,model",
	                        "--replica", standby_url);
	char *via_multi = OUT("--db", multi_url, "--format", "csv", "usage", "report", "--by", "org,model");
	assert_string_equal(via_replica, on_primary);
	assert_string_equal(via_multi, on_primary);
	/* A person's report: the identity resolved on the primary holds on the standby. */
	char *alice_primary = OUT("--db", db.url, ALICE, "--format", "csv", "usage", "report", "--by", "user,model");
	char *alice_replica = OUT("--db", db.url, ALICE, "--format", "csv", "usage", "report", "--by", "user,model",
	                          "--replica", standby_url);
	assert_string_equal(alice_replica, alice_primary);
	assert_null(strstr(alice_replica, "ben@brightpath.test"));
	free(alice_primary);
	free(alice_replica);

	/* Replay paused: the standby still answers with what it has, so the
	 * answers above did come from it. */
	testdb_exec(standby_admin, "SELECT pg_wal_replay_pause()");
	consume("aaron@acme-legal.test", "acme-legal", "Legal Document Analyst", "30");
	char *primary_after = OUT("--db", db.url, "--format", "csv", "usage", "report", "--by", "org,model");
	assert_non_null(strstr(primary_after, "acme-legal,Legal Document Analyst,150,"));
	char *stale = OUT("--db", db.url, "--format", "csv", "usage", "report", "--by", "org,model",
	                  "--replica", standby_url);
	assert_string_equal(stale, on_primary);
	char *stale_multi = OUT("--db", multi_url, "--format", "csv", "usage", "report", "--by", "org,model");
	assert_string_equal(stale_multi, on_primary);
	testdb_exec(standby_admin, "SELECT pg_wal_replay_resume()");
	await_replay();
	char *caught_up = OUT("--db", db.url, "--format", "csv", "usage", "report", "--by", "org,model",
	                      "--replica", standby_url);
	assert_string_equal(caught_up, primary_after);
	free(on_primary);
	free(via_replica);
	free(via_multi);
	free(primary_after);
	free(stale);
	free(stale_multi);
	free(caught_up);
}

static void test_writes_on_the_standby_fail_clearly(void **state)
{
	(void)state;
	long before = testdb_long(primary, "SELECT count(*) FROM aiplat.usage_events", 0, NULL);
	const char *urls[2] = { standby_url, multi_url };
	for (int i = 0; i < 2; i++) {
		run_result r;
		run_aiplat(&r, NULL, NULL, "--db", urls[i], "--as", "aaron@acme-legal.test", "--org", "acme-legal",
		           "quota", "consume", "--model", "Legal Document Analyst", "--tokens", "10", NULL);
		expect_exit(&r, 3, "a write on the standby");
		assert_non_null(strstr(r.err, "this server is read-only (a hot standby?)"));
		assert_non_null(strstr(r.err, "hint: connect to the primary with --db URL"));
		run_result_free(&r);
	}
	assert_int_equal(testdb_long(primary, "SELECT count(*) FROM aiplat.usage_events", 0, NULL), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reports_from_the_standby),
		cmocka_unit_test(test_writes_on_the_standby_fail_clearly),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
