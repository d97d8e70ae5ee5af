/*
 * Versioned prompts and feature flags through the binary: every `prompt
 * set` a new version (1, 2, 3 ...), --rev and --raw, an organisation's own
 * prompt shadowing the global one there and nowhere else, history and
 * list; flags global and per organisation, the organisation's row
 * winning; who may change what (prompts:manage / flags:manage in the
 * organisation, superadmins for the global rows), invalid input refused
 * with nothing written, and every change audited.
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

#define ALICE "alice@acme-legal.test"   /* admin of acme-legal */
#define AARON "aaron@acme-legal.test"   /* user */
#define AVA "ava@acme-legal.test"       /* viewer */
#define BELLA "bella@brightpath.test"   /* admin of brightpath */
#define BEN "ben@brightpath.test"
#define OPS "ops@aiplat.test"           /* superadmin */

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

static void run_in(run_result *r, const char *input, const char *const *args)
{
	run_aiplat_db(r, db.url, input, NULL, args);
}

#define RUN(r, ...) run_in((r), NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_IN(r, input, ...) run_in((r), (input), (const char *const[]){ __VA_ARGS__, NULL })

/* Runs, expects `status`, returns stdout parsed as JSON when asked (NULL otherwise). */
static json_t *expect(int status, bool json, const char *const *args)
{
	const char *argv[64];
	int n = 0;
	if (json) {
		argv[n++] = "--format";
		argv[n++] = "json";
	}
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	run_result r;
	run_in(&r, NULL, argv);
	char what[512] = "aiplat";
	for (int i = 0; args[i]; i++)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), " %s", args[i]);
	expect_exit(&r, status, what);
	json_t *d = NULL;
	if (json && status == 0) {
		d = json_loads(r.out, 0, NULL);
		if (!d)
			fail_msg("%s: not JSON:\n%s", what, r.out);
	}
	run_result_free(&r);
	return d;
}

#define JSON_OK(...) expect(0, true, (const char *const[]){ __VA_ARGS__, NULL })
#define EXIT(status, ...) json_decref(expect((status), false, (const char *const[]){ __VA_ARGS__, NULL }))

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static long long jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		fail_msg("%s is not an integer", key);
	return json_integer_value(v);
}

static long count(const char *sql)
{
	return testdb_long(owner, sql, 0, NULL);
}

/* stdout of a run that must succeed. */
static char *output(const char *const *args)
{
	run_result r;
	run_in(&r, NULL, args);
	char what[512] = "aiplat";
	for (int i = 0; args[i]; i++)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), " %s", args[i]);
	expect_exit(&r, 0, what);
	char *out = strdup(r.out);
	run_result_free(&r);
	return out;
}

#define OUTPUT(...) output((const char *const[]){ __VA_ARGS__, NULL })

static void expect_output(const char *want, char *got)
{
	assert_string_equal(got, want);
	free(got);
}

/* ---- prompts ------------------------------------------------------------------------------- */

static void test_prompt_versions(void **state)
{
	(void)state;
	static const char *const bodies[] = { "Welcome, {{name}}.", "Hello {{name}}, welcome!", "Hi {{name}}" };
	for (int v = 0; v < 3; v++) {
		json_t *d = JSON_OK("prompt", "set", "welcome", bodies[v], "--global", "--description", "greeting");
		assert_string_equal(jstr(d, "key"), "welcome");
		assert_int_equal(jint(d, "version"), v + 1);
		assert_string_equal(jstr(d, "scope"), "global");
		assert_int_equal(jint(d, "chars"), (long long)strlen(bodies[v]));
		json_decref(d);
	}
	/* The latest by default; any version with --rev. */
	json_t *d = JSON_OK("prompt", "get", "welcome");
	assert_int_equal(jint(d, "version"), 3);
	assert_string_equal(jstr(d, "body"), bodies[2]);
	assert_string_equal(jstr(d, "scope"), "global");
	assert_string_equal(jstr(d, "description"), "greeting");
	json_decref(d);
	d = JSON_OK("prompt", "get", "welcome", "--rev", "1");
	assert_int_equal(jint(d, "version"), 1);
	assert_string_equal(jstr(d, "body"), bodies[0]);
	json_decref(d);
	expect_output("Hi {{name}}\n", OUTPUT("prompt", "get", "welcome", "--raw"));
	expect_output("Hello {{name}}, welcome!\n", OUTPUT("prompt", "get", "welcome", "--rev", "2", "--raw"));
	/* Members read the global prompt too. */
	expect_output("Hi {{name}}\n", OUTPUT("--as", AVA, "--org", "acme-legal", "prompt", "get", "welcome", "--raw"));
	EXIT(1, "prompt", "get", "welcome", "--rev", "9");
	EXIT(1, "prompt", "get", "no-such-prompt");
	EXIT(2, "prompt", "get", "welcome", "--rev", "0");
	assert_int_equal(count("SELECT count(*) FROM aiplat.global_prompts WHERE key = 'welcome'"), 3);
	assert_int_equal(count("SELECT max(version) FROM aiplat.global_prompts WHERE key = 'welcome'"), 3);

	/* From stdin. */
	run_result r;
	RUN_IN(&r, "Read me from stdin", "prompt", "set", "from-stdin", "-", "--global");
	expect_exit(&r, 0, "prompt set -");
	run_result_free(&r);
	expect_output("Read me from stdin\n", OUTPUT("prompt", "get", "from-stdin", "--raw"));
}

static void test_prompt_tenant_override(void **state)
{
	(void)state;
	/* Acme's own version shadows the global one for Acme only. */
	json_t *d = JSON_OK("--as", ALICE, "--org", "acme-legal", "prompt", "set", "welcome", "Acme welcomes {{name}}");
	assert_int_equal(jint(d, "version"), 1);
	assert_string_equal(jstr(d, "scope"), "tenant");
	json_decref(d);
	expect_output("Acme welcomes {{name}}\n",
	              OUTPUT("--as", AARON, "--org", "acme-legal", "prompt", "get", "welcome", "--raw"));
	expect_output("Acme welcomes {{name}}\n",
	              OUTPUT("--as", AVA, "--org", "acme-legal", "prompt", "get", "welcome", "--raw"));
	d = JSON_OK("--as", AARON, "--org", "acme-legal", "prompt", "get", "welcome");
	assert_string_equal(jstr(d, "scope"), "tenant");
	assert_string_equal(jstr(d, "created_by"), ALICE);
	json_decref(d);
	/* --global shows what it overrides. */
	expect_output("Hi {{name}}\n",
	              OUTPUT("--as", ALICE, "--org", "acme-legal", "prompt", "get", "welcome", "--global", "--raw"));
	/* Another organisation still sees the global prompt. */
	expect_output("Hi {{name}}\n", OUTPUT("--as", BEN, "--org", "brightpath", "prompt", "get", "welcome", "--raw"));
	d = JSON_OK("--as", BEN, "--org", "brightpath", "prompt", "get", "welcome");
	assert_string_equal(jstr(d, "scope"), "global");
	assert_int_equal(jint(d, "version"), 3);
	json_decref(d);

	/* The override has versions of its own. */
	d = JSON_OK("--as", ALICE, "--org", "acme-legal", "prompt", "set", "welcome", "Acme v2 {{name}}");
	assert_int_equal(jint(d, "version"), 2);
	json_decref(d);
	expect_output("Acme v2 {{name}}\n",
	              OUTPUT("--as", AARON, "--org", "acme-legal", "prompt", "get", "welcome", "--raw"));
	expect_output("Acme welcomes {{name}}\n",
	              OUTPUT("--as", AARON, "--org", "acme-legal", "prompt", "get", "welcome", "--rev", "1", "--raw"));
	assert_int_equal(count("SELECT count(*) FROM aiplat.prompts p JOIN aiplat.organizations o"
	                       " ON o.id = p.organization_id WHERE o.slug = 'acme-legal' AND p.key = 'welcome'"), 2);
	assert_int_equal(count("SELECT count(*) FROM aiplat.global_prompts"
	                       " WHERE key = 'welcome'"), 3);
	/* Brightpath's admin writes Brightpath's own, untouched by Acme's. */
	d = JSON_OK("--as", BELLA, "--org", "brightpath", "prompt", "set", "welcome", "BrightPath says hi");
	assert_int_equal(jint(d, "version"), 1);
	json_decref(d);
	expect_output("Acme v2 {{name}}\n",
	              OUTPUT("--as", AARON, "--org", "acme-legal", "prompt", "get", "welcome", "--raw"));
}

static void test_prompt_history(void **state)
{
	(void)state;
	json_t *d = JSON_OK("prompt", "history", "welcome");
	assert_true(json_is_array(d));
	assert_int_equal(json_array_size(d), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(jint(json_array_get(d, i), "version"), (long long)i + 1);
		assert_string_equal(jstr(json_array_get(d, i), "scope"), "global");
	}
	json_decref(d);
	/* In Acme: the global versions, then Acme's. */
	d = JSON_OK("--as", AARON, "--org", "acme-legal", "prompt", "history", "welcome");
	assert_int_equal(json_array_size(d), 5);
	assert_string_equal(jstr(json_array_get(d, 3), "scope"), "tenant");
	assert_int_equal(jint(json_array_get(d, 4), "version"), 2);
	assert_string_equal(jstr(json_array_get(d, 4), "created_by"), ALICE);
	json_decref(d);
	EXIT(1, "prompt", "history", "no-such-prompt");
}

static void test_prompt_list(void **state)
{
	(void)state;
	json_t *d = JSON_OK("--as", AARON, "--org", "acme-legal", "prompt", "list");
	assert_true(json_is_array(d));
	json_t *row = NULL;
	size_t i;
	json_t *it;
	json_array_foreach(d, i, it)
		if (!strcmp(jstr(it, "key"), "welcome"))
			row = it;
	assert_non_null(row);
	assert_string_equal(jstr(row, "scope"), "tenant");
	assert_int_equal(jint(row, "version"), 2);
	assert_true(json_is_true(json_object_get(row, "overrides_global")));
	json_decref(d);
	/* Pixel Forge has no override: the global one, and no one else's. */
	d = JSON_OK("--as", "pete@pixel-forge.test", "--org", "pixel-forge", "prompt", "list");
	row = NULL;
	json_array_foreach(d, i, it)
		if (!strcmp(jstr(it, "key"), "welcome"))
			row = it;
	assert_non_null(row);
	assert_string_equal(jstr(row, "scope"), "global");
	assert_int_equal(jint(row, "version"), 3);
	assert_false(json_is_true(json_object_get(row, "overrides_global")));
	json_decref(d);
}

static void test_prompt_permissions(void **state)
{
	(void)state;
	long before = count("SELECT count(*) FROM aiplat.all_prompts");
	long audited = count("SELECT count(*) FROM aiplat.audit_logs"
	                     " WHERE resource_type IN ('prompts', 'global_prompts')");
	/* A user or a viewer (no prompts:manage) cannot change the organisation's prompts. */
	EXIT(6, "--as", AARON, "--org", "acme-legal", "prompt", "set", "welcome", "mine now");
	EXIT(6, "--as", AVA, "--org", "acme-legal", "prompt", "set", "welcome", "mine now");
	/* An organisation admin is not a superadmin: no global prompts. */
	EXIT(6, "--as", ALICE, "--org", "acme-legal", "prompt", "set", "welcome", "for everyone", "--global");
	EXIT(6, "--as", ALICE, "prompt", "set", "welcome", "for everyone");
	/* Nor another organisation's. */
	EXIT(6, "--as", ALICE, "--org", "brightpath", "prompt", "set", "welcome", "not yours");
	/* Invalid input: nothing written. */
	EXIT(5, "--as", ALICE, "--org", "acme-legal", "prompt", "set", "welcome", "");
	EXIT(5, "--as", ALICE, "--org", "acme-legal", "prompt", "set", "Bad_Key", "text");
	EXIT(5, "--as", ALICE, "--org", "acme-legal", "prompt", "set", "1st", "text");
	EXIT(5, "--as", ALICE, "--org", "acme-legal", "prompt", "set", "has space", "text");
	EXIT(2, "--as", ALICE, "--org", "acme-legal", "prompt", "set", "welcome");
	assert_int_equal(count("SELECT count(*) FROM aiplat.all_prompts"), before);
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs"
	                       " WHERE resource_type IN ('prompts', 'global_prompts')"), audited);
	/* A superadmin may. */
	json_t *d = JSON_OK("--as", OPS, "prompt", "set", "welcome", "Ops says hi", "--global");
	assert_int_equal(jint(d, "version"), 4);
	assert_string_equal(jstr(d, "scope"), "global");
	json_decref(d);
	assert_int_equal(count("SELECT count(*) FROM aiplat.all_prompts"), before + 1);
}

static void test_prompt_audit(void **state)
{
	(void)state;
	/* Every version written is one audit row, with who did it. */
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'prompt.set_global'"),
	                 count("SELECT count(*) FROM aiplat.global_prompts"));
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'prompt.set'"
	                       "   AND org_slug = 'acme-legal' AND acting_as_email = '" ALICE "'"), 2);
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'prompt.set'"
	                       "   AND org_slug = 'brightpath' AND acting_as_email = '" BELLA "'"), 1);
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'prompt.set_global'"
	                       "   AND acting_as_email = '" OPS "'"), 1);
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs a JOIN aiplat.prompts p"
	                       "    ON p.id::text = a.resource_id"
	                       " WHERE a.resource_type = 'prompts' AND a.new_values ->> 'body' = p.body"
	                       "   AND (a.new_values ->> 'version')::int = p.version"),
	                 count("SELECT count(*) FROM aiplat.prompts"));
}

/* ---- flags --------------------------------------------------------------------------------- */

static void test_flag_global_and_tenant(void **state)
{
	(void)state;
	json_t *d = JSON_OK("flag", "set", "beta", "on", "--global", "--value", "{\"limit\": 5}");
	assert_string_equal(jstr(d, "name"), "beta");
	assert_true(json_is_true(json_object_get(d, "enabled")));
	assert_string_equal(jstr(d, "scope"), "global");
	assert_int_equal(jint(json_object_get(d, "value"), "limit"), 5);
	json_decref(d);

	/* Everyone sees the global flag... */
	d = JSON_OK("--as", AARON, "--org", "acme-legal", "flag", "get", "beta");
	assert_true(json_is_true(json_object_get(d, "enabled")));
	assert_string_equal(jstr(d, "scope"), "global");
	json_decref(d);
	/* ... until the organisation sets its own, which wins there. */
	d = JSON_OK("--as", ALICE, "--org", "acme-legal", "flag", "set", "beta", "off");
	assert_string_equal(jstr(d, "scope"), "tenant");
	assert_true(json_is_false(json_object_get(d, "enabled")));
	json_decref(d);
	d = JSON_OK("--as", AARON, "--org", "acme-legal", "flag", "get", "beta");
	assert_true(json_is_false(json_object_get(d, "enabled")));
	assert_string_equal(jstr(d, "scope"), "tenant");
	assert_true(json_is_null(json_object_get(d, "value")));
	json_decref(d);
	d = JSON_OK("--as", BEN, "--org", "brightpath", "flag", "get", "beta");
	assert_true(json_is_true(json_object_get(d, "enabled")));
	assert_string_equal(jstr(d, "scope"), "global");
	assert_int_equal(jint(json_object_get(d, "value"), "limit"), 5);
	json_decref(d);

	/* Setting again updates the one row; a plain number is a value too. */
	d = JSON_OK("--as", ALICE, "--org", "acme-legal", "flag", "set", "beta", "on", "--value", "7");
	assert_int_equal(jint(d, "value"), 7);
	json_decref(d);
	d = JSON_OK("--as", AARON, "--org", "acme-legal", "flag", "get", "beta");
	assert_true(json_is_true(json_object_get(d, "enabled")));
	assert_int_equal(jint(d, "value"), 7);
	json_decref(d);
	assert_int_equal(count("SELECT count(*) FROM aiplat.feature_flags f JOIN aiplat.organizations o"
	                       " ON o.id = f.organization_id WHERE o.slug = 'acme-legal' AND f.name = 'beta'"), 1);
	assert_int_equal(count("SELECT count(*) FROM aiplat.global_flags"
	                       " WHERE name = 'beta'"), 1);
	/* The global row is unchanged by all that. */
	assert_int_equal(count("SELECT (value ->> 'limit')::int FROM aiplat.global_flags"
	                       " WHERE name = 'beta'"), 5);

	/* The platform may set an organisation's flag (--org without --as). */
	d = JSON_OK("--org", "brightpath", "flag", "set", "gamma", "on");
	assert_string_equal(jstr(d, "scope"), "tenant");
	json_decref(d);
	EXIT(1, "--as", AARON, "--org", "acme-legal", "flag", "get", "gamma");
}

static void test_flag_list(void **state)
{
	(void)state;
	json_t *d = JSON_OK("--as", AARON, "--org", "acme-legal", "flag", "list");
	assert_true(json_is_array(d));
	json_t *row = NULL;
	size_t i;
	json_t *it;
	json_array_foreach(d, i, it) {
		if (!strcmp(jstr(it, "name"), "beta"))
			row = it;
		assert_string_not_equal(jstr(it, "name"), "gamma");   /* brightpath's own */
	}
	assert_non_null(row);
	assert_string_equal(jstr(row, "scope"), "tenant");
	assert_true(json_is_true(json_object_get(row, "enabled")));
	assert_true(json_is_true(json_object_get(row, "global_enabled")));
	assert_true(json_is_true(json_object_get(row, "tenant_enabled")));
	json_decref(d);
	d = JSON_OK("--as", BEN, "--org", "brightpath", "flag", "list");
	row = NULL;
	json_array_foreach(d, i, it)
		if (!strcmp(jstr(it, "name"), "beta"))
			row = it;
	assert_non_null(row);
	assert_string_equal(jstr(row, "scope"), "global");
	json_decref(d);
}

static void test_flag_errors(void **state)
{
	(void)state;
	long before = count("SELECT count(*) FROM aiplat.feature_flags");
	long audited = count("SELECT count(*) FROM aiplat.audit_logs WHERE resource_type = 'feature_flags'");
	/* An unknown flag: a negative answer. */
	run_result r;
	RUN(&r, "--as", AARON, "--org", "acme-legal", "flag", "get", "no-such-flag");
	expect_exit(&r, 1, "flag get unknown");
	assert_non_null(strstr(r.err, "no-such-flag"));
	run_result_free(&r);
	/* Invalid input. */
	EXIT(5, "--as", ALICE, "--org", "acme-legal", "flag", "set", "beta", "on", "--value", "{bad json");
	EXIT(5, "--as", ALICE, "--org", "acme-legal", "flag", "set", "beta", "on", "--value", "");
	EXIT(5, "--as", ALICE, "--org", "acme-legal", "flag", "set", "Bad-Name", "on");
	EXIT(2, "--as", ALICE, "--org", "acme-legal", "flag", "set", "beta", "maybe");
	/* Permissions: flags:manage in the organisation, superadmins globally. */
	EXIT(6, "--as", AARON, "--org", "acme-legal", "flag", "set", "beta", "off");
	EXIT(6, "--as", AVA, "--org", "acme-legal", "flag", "set", "beta", "off");
	EXIT(6, "--as", ALICE, "--org", "acme-legal", "flag", "set", "beta", "off", "--global");
	EXIT(6, "--as", ALICE, "--org", "brightpath", "flag", "set", "beta", "off");
	assert_int_equal(count("SELECT count(*) FROM aiplat.feature_flags"), before);
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE resource_type = 'feature_flags'"), audited);
	json_t *d = JSON_OK("--as", OPS, "flag", "set", "beta", "off", "--global");
	assert_string_equal(jstr(d, "scope"), "global");
	json_decref(d);
	assert_int_equal(count("SELECT count(*) FROM aiplat.global_flags"
	                       " WHERE name = 'beta' AND NOT enabled"), 1);
}

static void test_flag_audit(void **state)
{
	(void)state;
	/* global on (platform), ops off: two global changes; Alice twice in Acme; the platform once in Brightpath. */
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'flag.set_global'"), 2);
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'flag.set'"
	                       "   AND org_slug = 'acme-legal' AND acting_as_email = '" ALICE "'"), 2);
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'flag.set'"
	                       "   AND org_slug = 'brightpath'"), 1);
	/* Before and after of the update. */
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'flag.set'"
	                       "   AND org_slug = 'acme-legal' AND old_values ->> 'enabled' = 'false'"
	                       "   AND new_values ->> 'enabled' = 'true' AND new_values ->> 'value' = '7'"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prompt_versions),
		cmocka_unit_test(test_prompt_tenant_override),
		cmocka_unit_test(test_prompt_history),
		cmocka_unit_test(test_prompt_list),
		cmocka_unit_test(test_prompt_permissions),
		cmocka_unit_test(test_prompt_audit),
		cmocka_unit_test(test_flag_global_and_tenant),
		cmocka_unit_test(test_flag_list),
		cmocka_unit_test(test_flag_errors),
		cmocka_unit_test(test_flag_audit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
