/*
 * The audit trail: every mutation writes its rows in the same transaction
 * (actor, acting-as, organisation, action, resource, old and new values),
 * changes made by any client are audited too, and `audit list` filters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "runproc.h"
#include "testdb.h"

static testdb db;
static PGconn *owner;

static int setup(void **state)
{
	(void)state;
	testdb_create(&db, true);
	testdb_seed(&db, true);
	owner = testdb_connect(&db);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	PQfinish(owner);
	testdb_drop(&db);
	return 0;
}

static long last_id(void)
{
	return testdb_long(owner, "SELECT coalesce(max(id), 0) FROM aiplat.audit_logs", 0, NULL);
}

/* "action|resource_type|org|acting_as" for the rows after `since`, in order. */
static char *rows_after(long since)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
		"SELECT coalesce(string_agg(concat_ws('|', action, resource_type, coalesce(org_slug, '-'),"
		"                                     coalesce(acting_as_email, '-')), E'\\n' ORDER BY id), '')"
		"  FROM aiplat.audit_logs WHERE id > %ld", since);
	return testdb_value(owner, sql, 0, NULL);
}

static void expect_audit(const char *what, const char *const *args, const char *expected)
{
	long since = last_id();
	run_result r;
	run_aiplat_db(&r, db.url, NULL, NULL, args);
	expect_exit(&r, 0, what);
	run_result_free(&r);
	char *got = rows_after(since);
	if (strcmp(got, expected) != 0)
		fail_msg("%s audited:\n%s\nexpected:\n%s", what, got, expected);
	free(got);
}

#define AUDIT(what, expected, ...) expect_audit((what), (const char *const[]){ __VA_ARGS__, NULL }, (expected))

static void test_every_mutation_is_audited(void **state)
{
	(void)state;
	AUDIT("user create", "user.create|users|-|ops@aiplat.test",
	      "--as", "ops@aiplat.test", "user", "create", "nina@nowhere.test", "--name", "Nina");
	AUDIT("set-superadmin", "user.grant_superadmin|users|-|-",
	      "user", "set-superadmin", "nina@nowhere.test");
	AUDIT("revoke superadmin", "user.revoke_superadmin|users|-|ops@aiplat.test",
	      "--as", "ops@aiplat.test", "user", "set-superadmin", "nina@nowhere.test", "--off");
	AUDIT("tenant create",
	      "tenant.create|organizations|nina-co|ops@aiplat.test\n"
	      "tenant.create|organization_members|nina-co|ops@aiplat.test",
	      "--as", "ops@aiplat.test", "tenant", "create", "nina-co", "--type", "consulting", "--plan",
	      "starter", "--admin", "nina@nowhere.test");
	AUDIT("set-plan", "tenant.set_plan|organizations|nina-co|-",
	      "tenant", "set-plan", "nina-co", "pro");
	AUDIT("set-timezone", "tenant.set_time_zone|organizations|nina-co|nina@nowhere.test",
	      "--as", "nina@nowhere.test", "tenant", "set-timezone", "nina-co", "Europe/Berlin");
	AUDIT("add-member", "tenant.add_member|organization_members|nina-co|nina@nowhere.test",
	      "--as", "nina@nowhere.test", "tenant", "add-member", "nina-co", "ben@brightpath.test");
	AUDIT("set-role", "tenant.set_role|organization_members|nina-co|nina@nowhere.test",
	      "--as", "nina@nowhere.test", "tenant", "set-role", "nina-co", "ben@brightpath.test", "viewer");
	AUDIT("role create",
	      "role.create|roles|nina-co|nina@nowhere.test\n"
	      "role.create|role_permissions|nina-co|nina@nowhere.test",
	      "--as", "nina@nowhere.test", "--org", "nina-co", "role", "create", "reader", "-p", "audit:read");
	AUDIT("role grant", "role.grant|role_permissions|nina-co|nina@nowhere.test",
	      "--as", "nina@nowhere.test", "--org", "nina-co", "role", "grant", "reader", "usage:read_all");
	AUDIT("role revoke", "role.revoke|role_permissions|nina-co|nina@nowhere.test",
	      "--as", "nina@nowhere.test", "--org", "nina-co", "role", "revoke", "reader", "usage:read_all");
	AUDIT("model enable", "model.enable|org_system_model_config|nina-co|nina@nowhere.test",
	      "--as", "nina@nowhere.test", "--org", "nina-co", "model", "enable", "Blog Content Writer Pro");
	AUDIT("model set-limit", "model.set_limit|org_system_model_config|nina-co|nina@nowhere.test",
	      "--as", "nina@nowhere.test", "--org", "nina-co", "model", "set-limit", "1", "--per-user", "900");
	AUDIT("model disable", "model.disable|org_system_model_config|nina-co|nina@nowhere.test",
	      "--as", "nina@nowhere.test", "--org", "nina-co", "model", "disable", "1");
	AUDIT("remove-member", "tenant.remove_member|organization_members|nina-co|nina@nowhere.test",
	      "--as", "nina@nowhere.test", "tenant", "remove-member", "nina-co", "ben@brightpath.test");
	AUDIT("model create", "model.create|ai_models_system|-|-",
	      "model", "create", "--name", "Audit Me", "--role", "audit_me", "--provider-model", "m");
	AUDIT("model update", "model.update|ai_models_system|-|-",
	      "model", "update", "Audit Me", "--sort-order", "3");
	AUDIT("model feature", "model.feature|ai_models_system|-|-", "model", "feature", "Audit Me");
	AUDIT("model delete", "model.delete|ai_models_system|-|-", "model", "delete", "Audit Me");
	/* Doing nothing new writes nothing. */
	AUDIT("no-op switch", "", "model", "activate", "1");
}

static void test_old_and_new_values(void **state)
{
	(void)state;
	long since = last_id();
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", db.url, "tenant", "set-quota", "pixel-forge", "175000", NULL);
	expect_exit(&r, 0, "set-quota");
	run_result_free(&r);
	char sql[512];
	snprintf(sql, sizeof(sql),
		"SELECT concat_ws(' ', old_values ->> 'token_quota_monthly', new_values ->> 'token_quota_monthly',"
		"                 resource_id = (SELECT id::text FROM aiplat.organizations WHERE slug = 'pixel-forge'),"
		"                 actor_email IS NULL, db_role = current_user)"
		"  FROM aiplat.audit_logs WHERE id > %ld", since);
	char *v = testdb_value(owner, sql, 0, NULL);
	assert_string_equal(v, "150000 175000 t t t");
	free(v);
}

/* Changes made with plain SQL, by any client, are audited too. */
static void test_any_client_is_audited(void **state)
{
	(void)state;
	long since = last_id();
	testdb_exec(owner, "UPDATE aiplat.organizations SET name = 'Pixel Forge Ltd' WHERE slug = 'pixel-forge'");
	testdb_exec(owner, "DELETE FROM aiplat.org_system_model_config WHERE system_model_id = 4");
	char *got = rows_after(since);
	assert_string_equal(got, "organizations.update|organizations|pixel-forge|-\n"
	                         "org_system_model_config.delete|org_system_model_config|harbor-realty|-");
	free(got);
	/* A rolled-back change leaves no audit row. */
	since = last_id();
	testdb_exec(owner, "BEGIN");
	testdb_exec(owner, "UPDATE aiplat.organizations SET name = 'Never' WHERE slug = 'pixel-forge'");
	testdb_exec(owner, "ROLLBACK");
	got = rows_after(since);
	assert_string_equal(got, "");
	free(got);
	/* People cannot switch row auditing off. */
	PGconn *c = testdb_connect(&db);
	testdb_exec(c, "BEGIN");
	testdb_exec(c, "SELECT set_config('aiplat.user_id', (SELECT id::text FROM aiplat.users"
	               " WHERE email = 'pia@pixel-forge.test'), true),"
	               " set_config('aiplat.org_id', (SELECT id::text FROM aiplat.organizations"
	               " WHERE slug = 'pixel-forge'), true), set_config('aiplat.audit', 'off', true)");
	testdb_exec(c, "SET LOCAL ROLE aiplat_app");
	testdb_exec(c, "UPDATE aiplat.organizations SET name = 'Pixel' WHERE slug = 'pixel-forge'");
	testdb_exec(c, "COMMIT");
	PQfinish(c);
	got = rows_after(since);
	assert_string_equal(got, "organizations.update|organizations|pixel-forge|pia@pixel-forge.test");
	free(got);
}

static long listed(const char *const *args)
{
	const char *argv[32] = { "--db", db.url, "--format", "ndjson", "audit", "list" };
	int n = 6;
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	run_result r;
	run_aiplat_argv(&r, NULL, NULL, argv);
	expect_exit(&r, 0, "audit list");
	long lines = 0;
	for (const char *p = r.out; *p; p++)
		lines += *p == '\n';
	/* Each line is one JSON object with the documented fields. */
	if (lines) {
		json_t *first = json_loadb(r.out, (size_t)(strchr(r.out, '\n') - r.out), 0, NULL);
		assert_non_null(json_object_get(first, "action"));
		assert_non_null(json_object_get(first, "new_values"));
		json_decref(first);
	}
	run_result_free(&r);
	return lines;
}

#define LISTED(...) listed((const char *const[]){ __VA_ARGS__, NULL })

static long sql_count(const char *where)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM aiplat.audit_logs WHERE %s", where);
	return testdb_long(owner, sql, 0, NULL);
}

static void test_list_filters(void **state)
{
	(void)state;
	long all = sql_count("true");
	assert_true(all > 20);
	assert_int_equal(LISTED("--limit", "1000"), all);
	assert_int_equal(LISTED("--limit", "3"), 3);
	assert_int_equal(LISTED("--action", "model.", "--limit", "1000"), sql_count("action LIKE 'model.%'"));
	assert_int_equal(LISTED("--action", "tenant*", "--limit", "1000"), sql_count("action LIKE 'tenant%'"));
	assert_int_equal(LISTED("--action", "model.enable"), sql_count("action = 'model.enable'"));
	assert_int_equal(LISTED("--actor", "NINA@nowhere.test", "--limit", "1000"),
	                 sql_count("acting_as_email = 'nina@nowhere.test'"));
	assert_int_equal(LISTED("--resource", "organizations", "--limit", "1000"),
	                 sql_count("resource_type = 'organizations'"));
	assert_int_equal(LISTED("--resource", "ai_models_system:1"),
	                 sql_count("resource_type = 'ai_models_system' AND resource_id = '1'"));
	assert_int_equal(LISTED("--org", "nina-co", "--limit", "1000"), sql_count("org_slug = 'nina-co'"));
	assert_int_equal(LISTED("--since", "1h", "--limit", "1000"), all);
	assert_int_equal(LISTED("--until", "1h", "--limit", "1000"), 0);
	assert_int_equal(LISTED("--since", "2000-01-01", "--until", "2999-01-01", "--limit", "1000"), all);
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", db.url, "audit", "list", "--since", "yesterday-ish", NULL);
	expect_exit(&r, 5, "a malformed --since");
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--db", db.url, "audit", "list", "--limit", "0", NULL);
	expect_exit(&r, 2, "--limit 0");
	run_result_free(&r);
	/* The table view summarises what changed. */
	run_aiplat(&r, NULL, NULL, "--db", db.url, "--format", "table", "audit", "list", "--action",
	           "tenant.set_quota", NULL);
	expect_exit(&r, 0, "table");
	assert_non_null(strstr(r.out, "token_quota_monthly: 150000 -> 175000"));
	assert_null(strstr(r.out, "old_values"));
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_mutation_is_audited),
		cmocka_unit_test(test_old_and_new_values),
		cmocka_unit_test(test_any_client_is_audited),
		cmocka_unit_test(test_list_filters),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
