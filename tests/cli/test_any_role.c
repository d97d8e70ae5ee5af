/*
 * Any PostgreSQL, any role: every command group through the binary, against
 * databases set up the ways people point aiplat at their own server.
 *
 *   (a) a superuser named postgres owns and migrates the database;
 *   (b) a non-superuser owner role with an arbitrary name (LOGIN CREATEROLE,
 *       owner of the database: what README documents for managed servers);
 *   (c) as (b), with pgcrypto installed beforehand in an `extensions`
 *       schema, as managed services do;
 *   (d) a login role mapped to a person, acting as that person.
 *
 * Nothing may depend on the role's name (the dev cluster's superuser is
 * "aiplat", the schema's name, which hides search_path mistakes) or on the
 * server's search_path. A literal API key is stored (pgcrypto encrypts it)
 * and used by a real call to the fake provider (pgcrypto decrypts it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "fakeprov.h"
#include "runproc.h"
#include "testdb.h"

static fake_provider fp;
static PGconn *admin;           /* the cluster's own superuser, on database postgres */
static char owner_role[64], person_role[64];
static bool created_postgres;   /* the cluster had no role "postgres" */

static const char *const ENV[] = { "AIPLAT_SECRET_KEY=any-role-test-secret", "AIPLAT_AS=", "AIPLAT_ORG=",
                                   "AIPLAT_OPENAI_BASE_URL=", "AIPLAT_ANTHROPIC_BASE_URL=", NULL };

static void admin_exec(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void admin_exec(const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	testdb_exec(admin, sql);
}

/* The URL of database `name` for login role `role`. */
static void url_for(char *buf, size_t size, const char *name, const char *role)
{
	snprintf(buf, size, "%s", testdb_url_for(name));
	char *user = strstr(buf, "user=");
	assert_non_null(user);
	snprintf(user, size - (size_t)(user - buf), "user=%s", role);
}

/* Runs aiplat --db URL ARGS... and expects `status`; returns stdout (malloc'd). */
static char *step(const char *url, int status, const char *const *args)
{
	const char *argv[64] = { "--db", url };
	int n = 2;
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	run_result r;
	run_aiplat_argv(&r, NULL, ENV, argv);
	char what[512];
	int k = snprintf(what, sizeof(what), "aiplat");
	for (int i = 2; argv[i] && k < (int)sizeof(what) - 64; i++)
		k += snprintf(what + k, sizeof(what) - (size_t)k, " %s", argv[i]);
	char *out = strdup(r.out);
	expect_exit(&r, status, what);
	run_result_free(&r);
	return out;
}

#define STEP(url, status, ...) free(step((url), (status), (const char *const[]){ __VA_ARGS__, NULL }))

static void expect_contains(char *out, const char *needle, const char *what)
{
	if (!strstr(out, needle)) {
		char msg[4096];
		snprintf(msg, sizeof(msg), "%s: \"%s\" not in:\n%s", what, needle, out);
		free(out);
		fail_msg("%s", msg);
	}
	free(out);
}

/* The platform's part: every command group once (dev aside, which is this
 * very cluster), as the connection's owner role. */
static void platform_script(const char *url, const char *label)
{
	STEP(url, 0, "-q", "migrate", "up");
	STEP(url, 0, "migrate", "verify");
	STEP(url, 0, "-q", "seed", "--demo");
	expect_contains(step(url, 0, (const char *const[]){ "--format", "tsv", "migrate", "status", NULL }),
	                "1\tfoundation\tapplied", label);
	STEP(url, 0, "-q", "user", "create", "nia@acme-legal.test", "--name", "Nia New");
	expect_contains(step(url, 0, (const char *const[]){ "user", "list", NULL }), "nia@acme-legal.test", label);
	STEP(url, 0, "-q", "tenant", "add-member", "acme-legal", "nia@acme-legal.test", "--role", "user");
	expect_contains(step(url, 0, (const char *const[]){ "tenant", "members", "acme-legal", NULL }),
	                "nia@acme-legal.test", label);
	expect_contains(step(url, 0, (const char *const[]){ "tenant", "show", "acme-legal", NULL }), "enterprise",
	                label);
	STEP(url, 0, "-q", "--org", "acme-legal", "role", "create", "reviewer", "--permission", "audit:read");
	STEP(url, 0, "role", "list");
	/* A literal key: pgcrypto encrypts it, wherever pgcrypto lives. */
	char endpoint[128];
	snprintf(endpoint, sizeof(endpoint), "%s", fp.base_url);
	STEP(url, 0, "-q", "model", "create", "--name", "Any Role GPT", "--role", "any_role", "--provider", "openai",
	     "--provider-model", "normal:any-role", "--endpoint", endpoint, "--api-key", "sk-anyrole-0123456789abcdef",
	     "--types", "all", "--plan", "free", "--period", "monthly", "--amount", "100000", "--max-tokens", "64");
	expect_contains(step(url, 0, (const char *const[]){ "model", "show", "Any Role GPT", NULL }), "sk-...cdef",
	                label);
	STEP(url, 0, "-q", "--as", "alice@acme-legal.test", "--org", "acme-legal", "model", "enable", "Any Role GPT");
	expect_contains(step(url, 0, (const char *const[]){ "--org", "acme-legal", "model", "available", NULL }),
	                "Any Role GPT", label);
	STEP(url, 0, "-q", "prompt", "set", "greeting", "--global", "Hello {{name}}");
	STEP(url, 0, "-q", "--org", "acme-legal", "flag", "set", "ai", "on");
	STEP(url, 0, "--org", "acme-legal", "quota", "check", "--user", "aaron@acme-legal.test", "--model",
	     "Any Role GPT", "--tokens", "10");
	STEP(url, 0, "--org", "acme-legal", "quota", "consume", "--user", "aaron@acme-legal.test", "--model",
	     "Any Role GPT", "--tokens", "10");
	STEP(url, 0, "--org", "acme-legal", "usage", "record", "--user", "aaron@acme-legal.test", "--model",
	     "Any Role GPT", "--tokens-in", "5");
	/* The key comes back out of pgcrypto for the call. */
	expect_contains(step(url, 0, (const char *const[]){ "--as", "aaron@acme-legal.test", "--org", "acme-legal",
	                                                    "ai", "complete", "--model", "Any Role GPT", "Hi", NULL }),
	                "Hello from the fake provider.", label);
	char *log = fake_provider_log(&fp);
	bool sent = strstr(log, "sk-anyrole-0123456789abcdef") != NULL;
	free(log);
	if (!sent)
		fail_msg("%s: the decrypted key did not reach the provider", label);
	expect_contains(step(url, 0, (const char *const[]){ "--format", "csv", "usage", "report", "--by", "org,model",
	                                                    NULL }), "acme-legal,Any Role GPT", label);
	STEP(url, 0, "--org", "acme-legal", "usage", "show", "--user", "aaron@acme-legal.test");
	expect_contains(step(url, 0, (const char *const[]){ "--org", "acme-legal", "audit", "list", NULL }),
	                "model.enable", label);
	STEP(url, 0, "-q", "quota", "reset", "--dry-run");
	STEP(url, 0, "completion", "bash");
	STEP(url, 0, "-q", "migrate", "redo");
}

/* A person's part, on the person's own mapped login role. */
static void person_script(const char *url)
{
	expect_contains(step(url, 0, (const char *const[]){ "--org", "acme-legal", "model", "enabled", NULL }),
	                "Any Role GPT", "mapped: model enabled");
	STEP(url, 0, "--org", "acme-legal", "quota", "check", "--model", "Any Role GPT", "--tokens", "10");
	STEP(url, 0, "--org", "acme-legal", "quota", "consume", "--model", "Any Role GPT", "--tokens", "10");
	expect_contains(step(url, 0, (const char *const[]){ "--org", "acme-legal", "ai", "complete", "--model",
	                                                    "Any Role GPT", "Hello", NULL }),
	                "Hello from the fake provider.", "mapped: ai complete");
	STEP(url, 0, "--org", "acme-legal", "usage", "show");
	STEP(url, 0, "--org", "acme-legal", "usage", "report");
	STEP(url, 0, "--org", "acme-legal", "prompt", "get", "greeting");
	STEP(url, 0, "--org", "acme-legal", "flag", "get", "ai");
	STEP(url, 0, "--org", "acme-legal", "tenant", "show", "acme-legal");
	/* ... and what the person may not do. */
	STEP(url, 6, "--org", "acme-legal", "--as", "alice@acme-legal.test", "model", "enabled");
	STEP(url, 6, "--org", "acme-legal", "migrate", "up");
	STEP(url, 1, "--org", "brightpath", "model", "enabled");
}

static void fresh_database(const char *name, const char *owner)
{
	admin_exec("DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	admin_exec("CREATE DATABASE %s OWNER %s TEMPLATE template0", name, owner);
}

static void drop_database(const char *name)
{
	admin_exec("DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
}

static int setup(void **state)
{
	(void)state;
	admin = PQconnectdb(testdb_url_for("postgres"));
	if (PQstatus(admin) != CONNECTION_OK)
		fail_msg("cannot reach the test cluster: %s", PQerrorMessage(admin));
	PQsetNoticeProcessor(admin, NULL, NULL);
	char *has = testdb_value(admin, "SELECT count(*) FROM pg_roles WHERE rolname = 'postgres'", 0, NULL);
	created_postgres = !strcmp(has, "0");
	free(has);
	if (created_postgres)
		admin_exec("CREATE ROLE postgres SUPERUSER LOGIN");
	snprintf(owner_role, sizeof(owner_role), "t%ld_app_owner", (long)getpid());
	snprintf(person_role, sizeof(person_role), "t%ld_aaron_login", (long)getpid());
	admin_exec("DROP ROLE IF EXISTS %s", owner_role);
	admin_exec("CREATE ROLE %s LOGIN CREATEROLE NOSUPERUSER", owner_role);
	fake_provider_start(&fp);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_provider_stop(&fp);
	char dbs[3][64];
	snprintf(dbs[0], sizeof(dbs[0]), "t%ld_as_postgres", (long)getpid());
	snprintf(dbs[1], sizeof(dbs[1]), "t%ld_as_owner", (long)getpid());
	snprintf(dbs[2], sizeof(dbs[2]), "t%ld_extensions", (long)getpid());
	for (int i = 0; i < 3; i++)
		drop_database(dbs[i]);
	admin_exec("DROP ROLE IF EXISTS %s", person_role);
	admin_exec("DROP ROLE IF EXISTS %s", owner_role);
	if (created_postgres)
		admin_exec("DROP ROLE IF EXISTS postgres");
	PQfinish(admin);
	return 0;
}

/* (a) */
static void test_superuser_named_postgres(void **state)
{
	(void)state;
	char name[64], url[1200];
	snprintf(name, sizeof(name), "t%ld_as_postgres", (long)getpid());
	fresh_database(name, "postgres");
	url_for(url, sizeof(url), name, "postgres");
	platform_script(url, "as postgres");
}

/* (b) and (d) */
static void test_owner_role_and_mapped_login(void **state)
{
	(void)state;
	char name[64], url[1200], person[1200];
	snprintf(name, sizeof(name), "t%ld_as_owner", (long)getpid());
	fresh_database(name, owner_role);
	url_for(url, sizeof(url), name, owner_role);
	platform_script(url, "as a non-superuser owner");
	STEP(url, 0, "-q", "user", "map-login", "aaron@acme-legal.test", person_role, "--create");
	url_for(person, sizeof(person), name, person_role);
	person_script(person);
	/* The owner's own connection acting for the person works the same. */
	STEP(url, 0, "--as", "aaron@acme-legal.test", "--org", "acme-legal", "quota", "consume", "--model",
	     "Any Role GPT", "--tokens", "10");
	STEP(url, 0, "-q", "user", "map-login", "--remove", "aaron@acme-legal.test");
	admin_exec("DROP ROLE %s", person_role);
}

/* (c) */
static void test_pgcrypto_in_an_extensions_schema(void **state)
{
	(void)state;
	char name[64], url[1200];
	snprintf(name, sizeof(name), "t%ld_extensions", (long)getpid());
	fresh_database(name, owner_role);
	PGconn *c = PQconnectdb(testdb_url_for(name));
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	testdb_exec(c, "CREATE SCHEMA extensions; CREATE EXTENSION pgcrypto SCHEMA extensions;"
	               " GRANT USAGE ON SCHEMA extensions TO PUBLIC");
	PQfinish(c);
	url_for(url, sizeof(url), name, owner_role);
	platform_script(url, "with pgcrypto in schema extensions");
	c = PQconnectdb(testdb_url_for(name));
	char *where = testdb_value(c, "SELECT extnamespace::regnamespace::text FROM pg_extension"
	                              " WHERE extname = 'pgcrypto'", 0, NULL);
	assert_string_equal(where, "extensions");   /* used where it was, not installed twice */
	free(where);
	PQfinish(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_superuser_named_postgres),
		cmocka_unit_test(test_owner_role_and_mapped_login),
		cmocka_unit_test(test_pgcrypto_in_an_extensions_schema),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
