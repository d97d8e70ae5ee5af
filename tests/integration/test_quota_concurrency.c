/*
 * The admission step under concurrency: 16 processes consume at once from
 * one person's limit, then from one organisation's quota. The recorded
 * total never passes the limit, the limit is used up exactly (no request
 * is refused while there is room for it), and every allowed request is
 * recorded exactly once.
 *
 * Each worker is a process running `aiplat quota consume` one attempt
 * after another; all workers start together at a barrier.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "runproc.h"
#include "testdb.h"

#define WORKERS 16

static testdb db;
static PGconn *owner;
static char *dir;

static int setup(void **state)
{
	(void)state;
	testdb_create(&db, true);
	testdb_seed(&db, true);
	owner = testdb_connect(&db);
	dir = make_temp_dir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	PQfinish(owner);
	testdb_drop(&db);
	rm_rf(dir);
	free(dir);
	return 0;
}

static long count(const char *sql)
{
	return testdb_long(owner, sql, 0, NULL);
}

/* The event id of worker w's attempt a: known in advance, so the test can
 * tell which attempts were recorded. */
static void event_id(char out[37], int round, int w, int a)
{
	snprintf(out, 37, "%08x-0000-4000-8000-%04x%08x", (unsigned)round, (unsigned)w, (unsigned)a);
}

/* One worker: `attempts` consumes, writing "attempt exit-status" lines. */
static void worker(int round, int w, int barrier_fd, const char *org, const char *user,
                   const char *model, const char *tokens, int attempts)
{
	char go;
	if (read(barrier_fd, &go, 1) != 1)
		_exit(100);
	char path[256];
	snprintf(path, sizeof(path), "%s/r%d-w%d", dir, round, w);
	FILE *log = fopen(path, "w");
	if (!log)
		_exit(101);
	for (int a = 0; a < attempts; a++) {
		char id[37];
		event_id(id, round, w, a);
		pid_t pid = fork();
		if (pid == 0) {
			int devnull = open("/dev/null", O_WRONLY);
			dup2(devnull, 1);
			dup2(devnull, 2);
			execl(AIPLAT_TEST_BINARY, "aiplat", "--db", db.url, "quota", "consume", "--org", org,
			      "--user", user, "--model", model, "--tokens", tokens, "--event-id", id, (char *)NULL);
			_exit(127);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		fprintf(log, "%d %d\n", a, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	fclose(log);
	_exit(0);
}

typedef struct outcome {
	int allowed, denied, other;
	char allowed_ids[WORKERS * 64][37];
} outcome;

/* Starts the workers (user of worker w: users[w % nusers]), lets them go at once, collects. */
static void run_round(int round, const char *org, const char *const *users, int nusers,
                      const char *model, const char *tokens, int attempts, outcome *o)
{
	int barrier[2];
	assert_int_equal(pipe(barrier), 0);
	pid_t pids[WORKERS];
	for (int w = 0; w < WORKERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			close(barrier[1]);
			worker(round, w, barrier[0], org, users[w % nusers], model, tokens, attempts);
		}
	}
	close(barrier[0]);
	char go[WORKERS];
	memset(go, 'g', sizeof(go));
	assert_int_equal(write(barrier[1], go, WORKERS), WORKERS);
	close(barrier[1]);
	for (int w = 0; w < WORKERS; w++) {
		int st;
		assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	memset(o, 0, sizeof(*o));
	for (int w = 0; w < WORKERS; w++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/r%d-w%d", dir, round, w);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		int a, status, lines = 0;
		while (fscanf(f, "%d %d", &a, &status) == 2) {
			lines++;
			if (status == 0) {
				assert_true(o->allowed < WORKERS * 64);
				event_id(o->allowed_ids[o->allowed++], round, w, a);
			} else if (status == 1) {
				o->denied++;
			} else {
				o->other++;
				print_error("worker %d attempt %d exited %d\n", w, a, status);
			}
		}
		fclose(f);
		assert_int_equal(lines, attempts);
	}
	assert_int_equal(o->other, 0);
}

/* Every allowed attempt is one event; no refused attempt left any. */
static void check_recorded_once(int round, const outcome *o)
{
	char prefix[16];
	snprintf(prefix, sizeof(prefix), "%08x%%", (unsigned)round);
	const char *p[1] = { prefix };
	assert_int_equal(testdb_long(owner, "SELECT count(*) FROM aiplat.usage_events WHERE event_id::text LIKE $1",
	                             1, p), o->allowed);
	for (int i = 0; i < o->allowed; i++) {
		const char *id[1] = { o->allowed_ids[i] };
		assert_int_equal(testdb_long(owner, "SELECT count(*) FROM aiplat.usage_events WHERE event_id = $1::uuid",
		                             1, id), 1);
	}
}

static void test_one_persons_limit(void **state)
{
	(void)state;
	/* Aaron may use 20000 tokens a month of the analyst; 16 x 6 attempts of
	 * 700 ask for 67200. Exactly floor(20000 / 700) = 28 fit. */
	const char *users[] = { "aaron@acme-legal.test" };
	outcome *o = calloc(1, sizeof(*o));
	run_round(1, "acme-legal", users, 1, "Legal Document Analyst", "700", 6, o);
	assert_int_equal(o->allowed, 28);
	assert_int_equal(o->denied, WORKERS * 6 - 28);
	check_recorded_once(1, o);
	long recorded = count("SELECT sum(tokens_in + tokens_out) FROM aiplat.usage_events e"
	                      "  JOIN aiplat.users u ON u.id = e.user_id WHERE u.email = 'aaron@acme-legal.test'");
	assert_true(recorded <= 20000);
	assert_int_equal(recorded, 28 * 700);
	/* The counter, the organisation's counter and the rollup agree with the events. */
	assert_int_equal(count("SELECT tokens_used FROM aiplat.ai_model_usage u JOIN aiplat.users p ON p.id = u.user_id"
	                       " WHERE p.email = 'aaron@acme-legal.test' AND u.model_name = 'Legal Document Analyst'"),
	                 recorded);
	assert_int_equal(count(ORG_TOKENS_SQL("acme-legal")),
	                 recorded);
	assert_int_equal(count("SELECT sum(requests) FROM aiplat.usage_daily d JOIN aiplat.users p ON p.id = d.user_id"
	                       " WHERE p.email = 'aaron@acme-legal.test'"), 28);
	free(o);
}

static void test_one_organisations_quota(void **state)
{
	(void)state;
	/* Sixteen people of one organisation, each with room to spare, share a
	 * monthly quota of 30000: 16 x 5 attempts of 900 ask for 72000, and
	 * floor(30000 / 900) = 33 fit. */
	testdb_exec(owner,
		"INSERT INTO aiplat.users (email, display_name)"
		" SELECT format('crowd%s@brightpath.test', i), format('Crowd %s', i) FROM generate_series(1, 16) i;"
		"INSERT INTO aiplat.organization_members (organization_id, user_id, role_id)"
		" SELECT o.id, u.id, r.id FROM aiplat.organizations o, aiplat.users u, aiplat.roles r"
		"  WHERE o.slug = 'brightpath' AND u.email LIKE 'crowd%@brightpath.test'"
		"    AND r.organization_id IS NULL AND r.name = 'user';"
		"UPDATE aiplat.organizations SET token_quota_monthly = 30000 WHERE slug = 'brightpath'");
	static char emails[WORKERS][64];
	const char *users[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		snprintf(emails[i], sizeof(emails[i]), "crowd%d@brightpath.test", i + 1);
		users[i] = emails[i];
	}
	outcome *o = calloc(1, sizeof(*o));
	run_round(2, "brightpath", users, WORKERS, "Blog Content Writer Pro", "900", 5, o);
	assert_int_equal(o->allowed, 33);
	assert_int_equal(o->denied, WORKERS * 5 - 33);
	check_recorded_once(2, o);
	long recorded = count("SELECT sum(e.tokens_in + e.tokens_out) FROM aiplat.usage_events e"
	                      "  JOIN aiplat.organizations o ON o.id = e.organization_id WHERE o.slug = 'brightpath'");
	assert_true(recorded <= 30000);
	assert_int_equal(recorded, 33 * 900);
	assert_int_equal(count(ORG_TOKENS_SQL("brightpath")),
	                 recorded);
	assert_int_equal(count("SELECT sum(tokens_used) FROM aiplat.ai_model_usage u"
	                       "  JOIN aiplat.organizations o ON o.id = u.organization_id WHERE o.slug = 'brightpath'"),
	                 recorded);
	assert_int_equal(count("SELECT sum(tokens_in + tokens_out) FROM aiplat.usage_daily_models d"
	                       "  JOIN aiplat.organizations o ON o.id = d.organization_id WHERE o.slug = 'brightpath'"),
	                 recorded);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_persons_limit),
		cmocka_unit_test(test_one_organisations_quota),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
