/*
 * `aiplat ai complete` under concurrency: 8 processes start together at a
 * barrier and call a slow model for one person whose remaining limit
 * admits only some of them. Every call reserves its estimate plus the
 * output cap before it sends anything, so exactly floor(remaining /
 * reservation) calls get through while the others are denied (exit 1)
 * without a request reaching the provider; what is recorded never passes
 * the limit. Once for each adapter.
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
#include "fakeprov.h"
#include "runproc.h"
#include "testdb.h"

#define WORKERS 8
#define KEY "sk-test-concurrency-0123"
#define PROMPT "Hi"
#define ANSWER "Hello from the fake provider."

static testdb db;
static PGconn *owner;
static fake_provider fp;
static char *dir;

static void ok(const char *what, const char *const *args)
{
	run_result r;
	run_aiplat_db(&r, db.url, NULL, NULL, args);
	expect_exit(&r, 0, what);
	run_result_free(&r);
}

#define OK(what, ...) ok((what), (const char *const[]){ __VA_ARGS__, NULL })

static long count(const char *sql, const char *param)
{
	const char *p[1] = { param };
	return testdb_long(owner, sql, param ? 1 : 0, param ? p : NULL);
}

static int setup(void **state)
{
	(void)state;
	testdb_create(&db, true);
	testdb_seed(&db, true);
	owner = testdb_connect(&db);
	fake_provider_start(&fp);
	dir = make_temp_dir();
	/* Each answer takes a second: the calls overlap. */
	OK("create", "model", "create", "--name", "Slow GPT", "--role", "slow_gpt", "--provider", "openai",
	   "--provider-model", "slow:1:conc-openai", "--endpoint", fp.base_url, "--api-key", "env:FAKE_AI_KEY",
	   "--types", "all", "--plan", "free", "--period", "monthly", "--amount", "100000", "--max-tokens", "64",
	   "--price-input", "1", "--price-output", "2");
	OK("create", "model", "create", "--name", "Slow Claude", "--role", "slow_claude", "--provider", "anthropic",
	   "--provider-model", "slow:1:conc-anthropic", "--endpoint", fp.base_url, "--api-key", "env:FAKE_AI_KEY",
	   "--types", "all", "--plan", "free", "--period", "monthly", "--amount", "100000", "--max-tokens", "64",
	   "--system-message", "Be brief.", "--price-input", "3", "--price-output", "15");
	OK("enable", "--as", "alice@acme-legal.test", "--org", "acme-legal", "model", "enable", "Slow GPT");
	OK("enable", "--as", "bella@brightpath.test", "--org", "brightpath", "model", "enable", "Slow Claude");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_provider_stop(&fp);
	PQfinish(owner);
	testdb_drop(&db);
	rm_rf(dir);
	free(dir);
	return 0;
}

/* One worker: waits at the barrier, then becomes `aiplat ai complete`. */
static void worker(int round, int w, int barrier_fd, const char *as, const char *org, const char *model)
{
	char go;
	if (read(barrier_fd, &go, 1) != 1)
		_exit(100);
	char path[512];
	snprintf(path, sizeof(path), "%s/r%d-w%d.out", dir, round, w);
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	snprintf(path, sizeof(path), "%s/r%d-w%d.err", dir, round, w);
	int err = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int in = open("/dev/null", O_RDONLY);
	if (out < 0 || err < 0 || in < 0)
		_exit(101);
	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	setenv("FAKE_AI_KEY", KEY, 1);
	setenv("NO_COLOR", "1", 1);
	unsetenv("AIPLAT_OPENAI_BASE_URL");
	unsetenv("AIPLAT_ANTHROPIC_BASE_URL");
	execl(AIPLAT_TEST_BINARY, "aiplat", "--db", db.url, "--as", as, "--org", org, "ai", "complete", "--model",
	      model, PROMPT, (char *)NULL);
	_exit(127);
}

typedef struct outcome {
	int status[WORKERS];
	int allowed, denied, other;
} outcome;

static void run_round(int round, const char *as, const char *org, const char *model, outcome *o)
{
	int barrier[2];
	assert_int_equal(pipe(barrier), 0);
	pid_t pids[WORKERS];
	fflush(NULL);
	for (int w = 0; w < WORKERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			close(barrier[1]);
			worker(round, w, barrier[0], as, org, model);
		}
	}
	close(barrier[0]);
	char go[WORKERS];
	memset(go, 'g', sizeof(go));
	assert_int_equal(write(barrier[1], go, WORKERS), WORKERS);
	close(barrier[1]);
	memset(o, 0, sizeof(*o));
	for (int w = 0; w < WORKERS; w++) {
		int st;
		assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
		o->status[w] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (o->status[w] == 0)
			o->allowed++;
		else if (o->status[w] == 1)
			o->denied++;
		else
			o->other++;
	}
}

static char *worker_file(int round, int w, const char *ext)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/r%d-w%d.%s", dir, round, w, ext);
	char *s = read_file(path);
	return s ? s : strdup("");
}

/*
 * One round: `used` tokens already recorded this month, a per-user limit
 * of `limit`, every call reserving `reserve` (estimate + 64) and using
 * `actual` (the fake's bytes + 7).
 */
static void round_for(int round, const char *admin, const char *as, const char *org, const char *model,
                      const char *behaviour, long used, long limit, long reserve, long actual)
{
	char tokens[32], lim[32];
	snprintf(tokens, sizeof(tokens), "%ld", used);
	snprintf(lim, sizeof(lim), "%ld", limit);
	OK("consume", "--org", org, "quota", "consume", "--user", as, "--model", model, "--tokens", tokens);
	OK("set-limit", "--as", admin, "--org", org, "model", "set-limit", model, "--per-user", lim);
	long fit = (limit - used) / reserve;
	assert_true(fit >= 1 && fit < WORKERS);   /* the round means something */

	outcome o;
	run_round(round, as, org, model, &o);
	for (int w = 0; w < WORKERS; w++) {
		char *out = worker_file(round, w, "out"), *err = worker_file(round, w, "err");
		if (o.status[w] == 0) {
			if (strcmp(out, ANSWER "\n") != 0)
				fail_msg("worker %d: printed \"%s\"", w, out);
		} else if (o.status[w] == 1) {
			if (!strstr(err, "user_limit_exceeded"))
				fail_msg("worker %d: denied for another reason:\n%s", w, err);
			/* Denied while every admitted call still held its reservation. */
			char want[64];
			snprintf(want, sizeof(want), "used: %ld\n", used + fit * reserve);
			if (!strstr(err, want))
				fail_msg("worker %d: the calls did not overlap (expected \"%s\"):\n%s", w, want, err);
		} else {
			fail_msg("worker %d exited %d:\n%s", w, o.status[w], err);
		}
		if (strstr(out, KEY) || strstr(err, KEY))
			fail_msg("worker %d printed the key", w);
		free(out);
		free(err);
	}
	assert_int_equal(o.other, 0);
	assert_int_equal(o.allowed, fit);
	assert_int_equal(o.denied, WORKERS - fit);
	/* Only the admitted calls reached the provider. */
	assert_int_equal(fake_provider_requests(&fp, behaviour), o.allowed);

	/* Recorded: what was there, plus each answered call's real usage; never past the limit. */
	const char *sql_recorded =
		"SELECT coalesce(sum(e.tokens_in + e.tokens_out), 0) FROM aiplat.usage_events e"
		"  JOIN aiplat.users u ON u.id = e.user_id JOIN aiplat.ai_models_system m ON m.id = e.model_id"
		" WHERE u.email = $1 AND m.name = '%s'";
	char sql[512];
	snprintf(sql, sizeof(sql), sql_recorded, model);
	long recorded = count(sql, as);
	assert_true(recorded <= limit);
	assert_int_equal(recorded, used + o.allowed * actual);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM aiplat.usage_events e JOIN aiplat.ai_models_system m ON m.id = e.model_id"
	         " WHERE m.name = '%s' AND e.source = 'ai'", model);
	assert_int_equal(count(sql, NULL), o.allowed);
	snprintf(sql, sizeof(sql),
	         "SELECT u.tokens_used FROM aiplat.ai_model_usage u JOIN aiplat.users p ON p.id = u.user_id"
	         " WHERE p.email = $1 AND u.model_name = '%s'", model);
	assert_int_equal(count(sql, as), recorded);
	/* Every admitted call's reservation was settled; none is left holding quota. */
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FILTER (WHERE r.status = 'settled' AND r.tokens = %ld)"
	         "     - count(*) FILTER (WHERE r.status <> 'settled')"
	         "  FROM aiplat.quota_reservations r JOIN aiplat.ai_models_system m ON m.id = r.model_id"
	         " WHERE m.name = '%s'", reserve, model);
	assert_int_equal(count(sql, NULL), o.allowed);
}

static void test_openai_calls_share_a_limit(void **state)
{
	(void)state;
	/* "Hi" is 2 bytes: 3 + 4 + 1 = 8 tokens estimated, + 64 = 72 reserved; 2 + 7 = 9 used.
	 * 100 used of 400 leaves 300: four calls fit (288), the fifth would need 360. */
	round_for(1, "alice@acme-legal.test", "aaron@acme-legal.test", "acme-legal", "Slow GPT", "slow:1:conc-openai",
	          100, 400, 72, 9);
}

static void test_anthropic_calls_share_a_limit(void **state)
{
	(void)state;
	/* With "Be brief." (9 bytes: 4 + 3): 3 + 7 + 5 = 15 estimated, + 64 = 79; 9 + 2 + 7 = 18 used.
	 * 50 used of 300 leaves 250: three calls fit (237), the fourth would need 316. */
	round_for(2, "bella@brightpath.test", "ben@brightpath.test", "brightpath", "Slow Claude",
	          "slow:1:conc-anthropic", 50, 300, 79, 18);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openai_calls_share_a_limit),
		cmocka_unit_test(test_anthropic_calls_share_a_limit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
