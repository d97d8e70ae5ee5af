/* Unit tests for lib/conninfo.c: which database aiplat talks to. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "aiplat/db.h"
#include "aiplat/error.h"
#include "cli.h"
#include "error-hints.h"

/* Every variable the resolver (or the dev cluster lookup) reads. */
static const char *const managed_vars[] = {
	"AIPLAT_DATABASE_URL", "DATABASE_URL", "PGHOST",         "PGHOSTADDR",
	"PGSERVICE",           "PGPORT",       "PGDATABASE",     "XDG_DATA_HOME",
	NULL
};
#define NVARS (sizeof(managed_vars) / sizeof(managed_vars[0]) - 1)

struct fixture {
	char *saved[NVARS];
	bool was_set[NVARS];
	char xdg[64];      /* a fresh, empty directory used as XDG_DATA_HOME */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	for (size_t i = 0; i < NVARS; i++) {
		const char *v = getenv(managed_vars[i]);
		fx->was_set[i] = v != NULL;
		fx->saved[i] = v ? strdup(v) : NULL;
		unsetenv(managed_vars[i]);
	}
	snprintf(fx->xdg, sizeof(fx->xdg), "/tmp/aiplat-ci-XXXXXX");
	if (!mkdtemp(fx->xdg)) {
		free(fx);
		return -1;
	}
	setenv("XDG_DATA_HOME", fx->xdg, 1);
	aiplat_error_clear();
	*state = fx;
	return 0;
}

/* Removes what fake_running_cluster() may have created, then the directory. */
static void remove_tree(const char *root)
{
	static const char *const files[] = { "aiplat/pg/PG_VERSION", "aiplat/pg/postmaster.pid",
	                                     "aiplat/run/.s.PGSQL.5432", NULL };
	static const char *const dirs[] = { "aiplat/pg", "aiplat/run", "aiplat", NULL };
	char path[256];
	for (const char *const *f = files; *f; f++) {
		snprintf(path, sizeof(path), "%s/%s", root, *f);
		unlink(path);
	}
	for (const char *const *d = dirs; *d; d++) {
		snprintf(path, sizeof(path), "%s/%s", root, *d);
		rmdir(path);
	}
	rmdir(root);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	remove_tree(fx->xdg);
	for (size_t i = 0; i < NVARS; i++) {
		if (fx->was_set[i])
			setenv(managed_vars[i], fx->saved[i], 1);
		else
			unsetenv(managed_vars[i]);
		free(fx->saved[i]);
	}
	free(fx);
	aiplat_error_clear();
	return 0;
}

static void write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

/*
 * Makes XDG_DATA_HOME/aiplat look like a running development cluster: a data
 * directory with PG_VERSION, a postmaster.pid naming a live process (this
 * one) and the server's socket file.
 */
static void fake_running_cluster(const struct fixture *fx)
{
	char path[256], pid[32];
	snprintf(path, sizeof(path), "%s/aiplat", fx->xdg);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/aiplat/pg", fx->xdg);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/aiplat/run", fx->xdg);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/aiplat/pg/PG_VERSION", fx->xdg);
	write_file(path, "16\n");
	snprintf(path, sizeof(path), "%s/aiplat/pg/postmaster.pid", fx->xdg);
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	write_file(path, pid);
	snprintf(path, sizeof(path), "%s/aiplat/run/.s.PGSQL.5432", fx->xdg);
	write_file(path, "");
}

/* The URL aiplat builds for the cluster above: mkdtemp's suffix is alphanumeric,
 * so only the slashes need percent-encoding. */
static void expected_dev_url(const struct fixture *fx, char *buf, size_t size)
{
	const char *leaf = strrchr(fx->xdg, '/') + 1;
	snprintf(buf, size, "postgresql:///aiplat?host=%%2Ftmp%%2F%s%%2Faiplat%%2Frun&port=5432&user=aiplat",
	         leaf);
}

static void set_everything(void)
{
	setenv("AIPLAT_DATABASE_URL", "postgresql://aiplat-env/db", 1);
	setenv("DATABASE_URL", "postgresql://database-url/db", 1);
	setenv("PGHOST", "pghost.example", 1);
	setenv("PGDATABASE", "pgdb", 1);
}

/* ---- precedence ---------------------------------------------------------- */

static void test_explicit_url_wins(void **state)
{
	fake_running_cluster(*state);
	set_everything();
	char *out = NULL;
	aiplat_conn_source src = AIPLAT_CONN_DEV_CLUSTER;
	assert_int_equal(aiplat_conninfo_resolve(&out, &src, "postgresql://flag/db"), 0);
	assert_string_equal(out, "postgresql://flag/db");
	assert_int_equal(src, AIPLAT_CONN_EXPLICIT);
	free(out);
}

static void test_empty_explicit_url_is_ignored(void **state)
{
	(void)state;
	set_everything();
	char *out = NULL;
	aiplat_conn_source src = AIPLAT_CONN_EXPLICIT;
	assert_int_equal(aiplat_conninfo_resolve(&out, &src, ""), 0);
	assert_string_equal(out, "postgresql://aiplat-env/db");
	assert_int_equal(src, AIPLAT_CONN_AIPLAT_ENV);
	free(out);
}

static void test_aiplat_database_url_beats_database_url(void **state)
{
	(void)state;
	set_everything();
	char *out = NULL;
	aiplat_conn_source src = AIPLAT_CONN_EXPLICIT;
	assert_int_equal(aiplat_conninfo_resolve(&out, &src, NULL), 0);
	assert_string_equal(out, "postgresql://aiplat-env/db");
	assert_int_equal(src, AIPLAT_CONN_AIPLAT_ENV);
	free(out);
}

static void test_database_url_beats_libpq_env(void **state)
{
	(void)state;
	setenv("DATABASE_URL", "postgresql://database-url/db", 1);
	setenv("PGHOST", "pghost.example", 1);
	setenv("PGSERVICE", "svc", 1);
	char *out = NULL;
	aiplat_conn_source src = AIPLAT_CONN_EXPLICIT;
	assert_int_equal(aiplat_conninfo_resolve(&out, &src, NULL), 0);
	assert_string_equal(out, "postgresql://database-url/db");
	assert_int_equal(src, AIPLAT_CONN_DATABASE_URL);
	free(out);
}

static void test_each_libpq_variable_alone(void **state)
{
	(void)state;
	static const char *const vars[] = { "PGHOST", "PGSERVICE", "PGHOSTADDR", "PGPORT",
	                                    "PGDATABASE", NULL };
	for (const char *const *var = vars; *var; var++) {
		setenv(*var, "x", 1);
		char *out = NULL;
		aiplat_conn_source src = AIPLAT_CONN_EXPLICIT;
		int rc = aiplat_conninfo_resolve(&out, &src, NULL);
		if (rc != 0)
			fail_msg("%s alone: rc %d (%s)", *var, rc, aiplat_error_last()->message);
		/* An empty conninfo string: libpq reads its environment itself. */
		assert_non_null(out);
		assert_string_equal(out, "");
		if (src != AIPLAT_CONN_LIBPQ_ENV)
			fail_msg("%s alone: source %d", *var, (int)src);
		free(out);
		unsetenv(*var);
	}
}

static void test_libpq_env_beats_dev_cluster(void **state)
{
	fake_running_cluster(*state);
	setenv("PGPORT", "5433", 1);
	char *out = NULL;
	aiplat_conn_source src = AIPLAT_CONN_EXPLICIT;
	assert_int_equal(aiplat_conninfo_resolve(&out, &src, NULL), 0);
	assert_string_equal(out, "");
	assert_int_equal(src, AIPLAT_CONN_LIBPQ_ENV);
	free(out);
}

static void test_running_dev_cluster(void **state)
{
	struct fixture *fx = *state;
	fake_running_cluster(fx);
	char *out = NULL, want[256];
	aiplat_conn_source src = AIPLAT_CONN_EXPLICIT;
	assert_int_equal(aiplat_conninfo_resolve(&out, &src, NULL), 0);
	expected_dev_url(fx, want, sizeof(want));
	assert_string_equal(out, want);
	assert_int_equal(src, AIPLAT_CONN_DEV_CLUSTER);
	free(out);
}

/* ---- empty values and nothing configured ----------------------------------- */

static void test_empty_env_vars_are_ignored(void **state)
{
	(void)state;
	setenv("AIPLAT_DATABASE_URL", "", 1);
	setenv("DATABASE_URL", "postgresql://database-url/db", 1);
	char *out = NULL;
	aiplat_conn_source src = AIPLAT_CONN_EXPLICIT;
	assert_int_equal(aiplat_conninfo_resolve(&out, &src, NULL), 0);
	assert_string_equal(out, "postgresql://database-url/db");
	assert_int_equal(src, AIPLAT_CONN_DATABASE_URL);
	free(out);

	/* With every variable set but empty, nothing is configured. */
	static const char *const vars[] = { "DATABASE_URL", "PGHOST", "PGHOSTADDR", "PGSERVICE",
	                                    "PGPORT", "PGDATABASE", NULL };
	for (const char *const *var = vars; *var; var++)
		setenv(*var, "", 1);
	out = NULL;
	assert_int_equal(aiplat_conninfo_resolve(&out, &src, NULL), AIPLAT_ECONNECT);
	assert_null(out);
}

static void test_nothing_configured(void **state)
{
	(void)state;
	char *out = NULL;
	aiplat_conn_source src = AIPLAT_CONN_EXPLICIT;
	int rc = aiplat_conninfo_resolve(&out, &src, NULL);
	assert_int_equal(rc, AIPLAT_ECONNECT);
	assert_null(out);
	const aiplat_error *e = aiplat_error_last();
	assert_int_equal(e->code, AIPLAT_ECONNECT);
	assert_int_equal(e->klass, AIPLAT_ERRCLASS_CONFIG);
	assert_string_equal(e->message, "no database configured");
	/* The library names what is missing; the front end says how to give it. */
	assert_string_equal(e->field, "database");
	struct cli_ctx ctx = { 0 };
	char message[1200], hint[1100];
	cli_explain_error(&ctx, e, message, sizeof(message), hint, sizeof(hint));
	assert_non_null(strstr(hint, "`aiplat dev start`"));
	assert_non_null(strstr(hint, "AIPLAT_DATABASE_URL"));
	assert_int_equal(cli_exit_status(rc), 3);
}

static void test_stopped_dev_cluster_is_not_used(void **state)
{
	struct fixture *fx = *state;
	fake_running_cluster(fx);
	/* The socket is gone: the cluster exists but does not run. */
	char path[256];
	snprintf(path, sizeof(path), "%s/aiplat/run/.s.PGSQL.5432", fx->xdg);
	assert_int_equal(unlink(path), 0);
	char *out = NULL;
	assert_int_equal(aiplat_conninfo_resolve(&out, NULL, NULL), AIPLAT_ECONNECT);
	assert_null(out);
	assert_string_equal(aiplat_error_last()->field, "database");
}

static void test_source_may_be_null(void **state)
{
	(void)state;
	char *out = NULL;
	assert_int_equal(aiplat_conninfo_resolve(&out, NULL, "host=/tmp dbname=x"), 0);
	assert_string_equal(out, "host=/tmp dbname=x");
	free(out);
}

/* ---- names ---------------------------------------------------------------- */

static void test_conn_source_names(void **state)
{
	(void)state;
	assert_string_equal(cli_conn_source_name(AIPLAT_CONN_EXPLICIT), "--db");
	assert_string_equal(cli_conn_source_name(AIPLAT_CONN_AIPLAT_ENV), "AIPLAT_DATABASE_URL");
	assert_string_equal(cli_conn_source_name(AIPLAT_CONN_DATABASE_URL), "DATABASE_URL");
	assert_string_equal(cli_conn_source_name(AIPLAT_CONN_LIBPQ_ENV), "libpq environment");
	assert_string_equal(cli_conn_source_name(AIPLAT_CONN_DEV_CLUSTER), "development cluster");
	assert_string_equal(cli_conn_source_name((aiplat_conn_source)99), "?");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_explicit_url_wins),
		T(test_empty_explicit_url_is_ignored),
		T(test_aiplat_database_url_beats_database_url),
		T(test_database_url_beats_libpq_env),
		T(test_each_libpq_variable_alone),
		T(test_libpq_env_beats_dev_cluster),
		T(test_running_dev_cluster),
		T(test_empty_env_vars_are_ignored),
		T(test_nothing_configured),
		T(test_stopped_dev_cluster_is_not_used),
		T(test_source_may_be_null),
		cmocka_unit_test(test_conn_source_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
