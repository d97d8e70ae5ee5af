/*
 * migrations/POLICIES.md is what scripts/gen-policies prints for a freshly
 * migrated database: every table's row-level security, policies and
 * aiplat_app grants. A migration that changes any of them without
 * regenerating the file fails here with a unified diff and the command
 * that regenerates it; and the check is shown to fail on a database whose
 * policies were changed behind the migrations' back.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

#define GENERATOR AIPLAT_SOURCE_DIR "/scripts/gen-policies"
#define COMMITTED AIPLAT_SOURCE_DIR "/migrations/POLICIES.md"
#define REGENERATE                                                                               \
	"scripts/gen-policies -o migrations/POLICIES.md URL   (URL: a freshly migrated database)"

typedef struct proc_result {
	int status; /* exit status, or 128+signal, or 127 when it could not run */
	char *out;
	char *err;
} proc_result;

static void proc_result_free(proc_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

static int temp_fd(char *path, size_t size, const char *what)
{
	snprintf(path, size, "/tmp/aiplat-pol-%s-XXXXXX", what);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	return fd;
}

/* Runs argv[0] (looked up on PATH) with stdin from /dev/null, capturing
 * stdout and stderr. runproc.h only runs the aiplat binary. */
static void run_program(proc_result *r, const char *const *argv)
{
	char out_path[64], err_path[64];
	int out_fd = temp_fd(out_path, sizeof(out_path), "out");
	int err_fd = temp_fd(err_path, sizeof(err_path), "err");
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int in_fd = open("/dev/null", O_RDONLY);
		if (in_fd >= 0)
			dup2(in_fd, 0);
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		assert_int_equal(errno, EINTR);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	close(out_fd);
	close(err_fd);
	r->out = read_file(out_path);
	r->err = read_file(err_path);
	unlink(out_path);
	unlink(err_path);
	assert_non_null(r->out);
	assert_non_null(r->err);
}

/* scripts/gen-policies -o PATH URL; fails the test unless it succeeds. */
static void generate(const char *url, const char *path)
{
	proc_result r;
	run_program(&r, (const char *const[]){ "bash", GENERATOR, "-o", path, url, NULL });
	if (r.status != 0) {
		char msg[4096];
		snprintf(msg, sizeof(msg), "scripts/gen-policies exited %d:\n%s%s", r.status, r.out, r.err);
		proc_result_free(&r);
		fail_msg("%s", msg);
	}
	/* With -o, nothing but the file. */
	assert_string_equal(r.out, "");
	proc_result_free(&r);
}

/* NULL when the generated file is the committed one, else `diff -u
 * committed generated` (malloc'd). */
static char *drift(const char *generated)
{
	char *a = read_file(COMMITTED), *b = read_file(generated);
	assert_non_null(b);
	bool same = a && strcmp(a, b) == 0;
	free(a);
	free(b);
	if (same)
		return NULL;
	proc_result r;
	run_program(&r, (const char *const[]){ "diff", "-u", "--label", "migrations/POLICIES.md (committed)",
	                                       "--label", "scripts/gen-policies (migrations as they are)",
	                                       COMMITTED, generated, NULL });
	/* diff: 1 when the files differ; 2 when the committed file is missing. */
	if (r.status != 1) {
		size_t n = strlen(r.err) + 128;
		char *msg = malloc(n);
		assert_non_null(msg);
		snprintf(msg, n, "diff exited %d: %s", r.status, r.err);
		proc_result_free(&r);
		return msg;
	}
	free(r.err);
	return r.out;
}

static testdb db;

static int setup(void **state)
{
	(void)state;
	testdb_create(&db, true);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testdb_drop(&db);
	return 0;
}

/* The committed file is what the migrations produce. */
static void test_committed_file_matches_the_migrations(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char path[512];
	snprintf(path, sizeof(path), "%s/POLICIES.md", dir);
	generate(db.url, path);
	char *d = drift(path);
	if (d) {
		/* Keep what the migrations produce beside the test, to inspect or
		 * copy, and show what changed. */
		char keep[1024] = "POLICIES.md.generated", cwd[768];
		if (getcwd(cwd, sizeof(cwd)))
			snprintf(keep, sizeof(keep), "%s/POLICIES.md.generated", cwd);
		char *text = read_file(path);
		if (text) {
			FILE *f = fopen(keep, "wb");
			if (f) {
				fputs(text, f);
				fclose(f);
			}
			free(text);
		}
		fprintf(stderr, "%s\n", d);
		free(d);
		rm_rf(dir);
		free(dir);
		fail_msg("migrations/POLICIES.md does not match the schema the migrations create (see above).\n"
		         "Regenerate and commit it:\n    %s\n"
		         "or take this run's output:\n    cp %s %s",
		         REGENERATE, keep, COMMITTED);
	}
	rm_rf(dir);
	free(dir);
}

/* Two runs agree, and the output names no database. */
static void test_output_is_deterministic(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char a[512], b[512];
	snprintf(a, sizeof(a), "%s/a.md", dir);
	snprintf(b, sizeof(b), "%s/b.md", dir);
	generate(db.url, a);
	generate(db.url, b);
	char *ta = read_file(a), *tb = read_file(b);
	assert_non_null(ta);
	assert_non_null(tb);
	assert_string_equal(ta, tb);
	assert_null(strstr(ta, db.name));
	assert_non_null(strstr(ta, "generated by `scripts/gen-policies`"));
	assert_non_null(strstr(ta, "do not edit it by hand"));
	/* Partitions are named by the month they were created in: not printed. */
	assert_null(strstr(ta, "usage_events_2"));
	free(ta);
	free(tb);
	rm_rf(dir);
	free(dir);
}

/* The check really fails: a policy added, one loosened, a grant and row-level
 * security taken away in a clone all show up in the diff. */
static void test_drift_is_detected(void **state)
{
	(void)state;
	testdb changed;
	testdb_create(&changed, true);
	PGconn *c = testdb_connect(&changed);
	testdb_exec(c, "CREATE POLICY drift_probe ON aiplat.api_keys FOR SELECT TO aiplat_app"
	               " USING (name = 'drift probe')");
	testdb_exec(c, "ALTER POLICY tenant_delete ON aiplat.api_keys USING (true)");
	testdb_exec(c, "REVOKE DELETE ON aiplat.workflows FROM aiplat_app");
	testdb_exec(c, "ALTER TABLE aiplat.usage_daily DISABLE ROW LEVEL SECURITY");
	PQfinish(c);

	char *dir = make_temp_dir();
	char path[512];
	snprintf(path, sizeof(path), "%s/POLICIES.md", dir);
	generate(changed.url, path);
	testdb_drop(&changed);
	char *text = read_file(path);
	assert_non_null(text);
	assert_non_null(strstr(text, "#### `drift_probe`"));
	assert_non_null(strstr(text, "(name = 'drift probe'::text)"));
	free(text);

	char *d = drift(path);
	if (!d)
		fail_msg("a policy added in the database was not noticed");
	bool added = strstr(d, "\n+#### `drift_probe`") != NULL;
	bool loosened = strstr(d, "\n+true\n") != NULL;
	bool revoked = strstr(d, "\n-| `aiplat.workflows` |") != NULL;
	bool disabled = strstr(d, "\n+| `aiplat.usage_daily` | table | **no** |") != NULL;
	/* One policy more than the committed file counts. */
	char *committed = read_file(COMMITTED);
	assert_non_null(committed);
	const char *line = strstr(committed, "\n\n");
	int ntables = 0, nschemas = 0, npolicies = 0;
	while (line && sscanf(line, "\n\n%d tables and views in %d schemas, %d policies.", &ntables,
	                      &nschemas, &npolicies) != 3)
		line = strstr(line + 1, "\n\n");
	free(committed);
	assert_non_null(line);
	char expect[128];
	snprintf(expect, sizeof(expect), "\n+%d tables and views in %d schemas, %d policies.\n", ntables,
	         nschemas, npolicies + 1);
	bool counted = strstr(d, expect) != NULL;
	if (!added || !loosened || !revoked || !disabled || !counted) {
		fprintf(stderr, "%s\n", d);
		free(d);
		rm_rf(dir);
		free(dir);
		fail_msg("the diff misses a change (added %d, loosened %d, revoked %d, disabled %d, counted %d)",
		         added, loosened, revoked, disabled, counted);
	}
	free(d);
	rm_rf(dir);
	free(dir);
}

/* A database that is not migrated is refused, and nothing is written. */
static void test_refuses_an_unmigrated_database(void **state)
{
	(void)state;
	testdb empty;
	testdb_create(&empty, false);
	char *dir = make_temp_dir();
	char path[512];
	snprintf(path, sizeof(path), "%s/POLICIES.md", dir);
	proc_result r;
	run_program(&r, (const char *const[]){ "bash", GENERATOR, "-o", path, empty.url, NULL });
	testdb_drop(&empty);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "migrated aiplat database"));
	proc_result_free(&r);
	assert_int_equal(access(path, F_OK), -1);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_committed_file_matches_the_migrations),
		cmocka_unit_test(test_output_is_deterministic),
		cmocka_unit_test(test_drift_is_detected),
		cmocka_unit_test(test_refuses_an_unmigrated_database),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
