/*
 * The superadmin's catalogue through the binary: every field, validation
 * that writes nothing, filters, switches, delete, the --from-file round trip,
 * and API keys that never appear in any output, log or audit row.
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

#define SECRET "AIPLAT_SECRET_KEY=catalogue-test-secret-0123456789"
#define API_KEY "sk-test-9f8e7d6c5b4a39281706QrSt"

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

static const char *const with_secret[] = { SECRET, NULL };

/* Runs aiplat on the test database; argv after "--db URL". */
static void run(run_result *r, const char *input, const char *const *env, const char *const *args)
{
	run_aiplat_db(r, db.url, input, env, args);
}

#define RUN(r, input, env, ...) run((r), (input), (env), (const char *const[]){ __VA_ARGS__, NULL })

static long count(const char *sql)
{
	return testdb_long(owner, sql, 0, NULL);
}

static json_t *show_json(const char *model)
{
	run_result r;
	RUN(&r, NULL, NULL, "--format", "json", "model", "show", model);
	expect_exit(&r, 0, "model show --format json");
	json_error_t err;
	json_t *doc = json_loads(r.out, 0, &err);
	if (!doc)
		fail_msg("model show printed no JSON object: %s\n%s", err.text, r.out);
	run_result_free(&r);
	return doc;
}

static void test_create_with_every_field(void **state)
{
	(void)state;
	run_result r;
	RUN(&r, NULL, with_secret, "model", "create", "--name", "Grant Writer", "--role", "grant_writer",
	    "--description", "Writes funding applications", "--icon", "quill", "--provider", "anthropic",
	    "--provider-model", "claude-3-5-haiku-latest", "--endpoint", "https://api.anthropic.com/v1",
	    "--api-key", "env:ANTHROPIC_API_KEY", "--max-tokens", "3000",
	    "--system-message", "You write persuasive, honest grant applications.",
	    "--tasks", "[{\"name\": \"Draft\", \"prompt\": \"Draft an application for {{fund}}\"}]",
	    "--types", "nonprofit, education", "--plan", "starter", "--period", "weekly", "--amount",
	    "25000", "--trial", "--trial-days", "14", "--featured", "--tags", "grants,writing",
	    "--sort-order", "70", "--price-input", "0.8", "--price-output", "4.125");
	expect_exit(&r, 0, "model create");
	long id = atol(r.out);
	assert_true(id > 6);
	run_result_free(&r);

	json_t *doc = show_json("grant writer");
	assert_int_equal(json_integer_value(json_object_get(doc, "id")), id);
	assert_string_equal(json_string_value(json_object_get(doc, "provider")), "anthropic");
	assert_string_equal(json_string_value(json_object_get(doc, "api_key")), "env:ANTHROPIC_API_KEY");
	assert_int_equal(json_integer_value(json_object_get(doc, "max_tokens")), 3000);
	assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "organization_types"), 1)),
	                    "education");
	assert_string_equal(json_string_value(json_object_get(doc, "required_plan")), "starter");
	assert_string_equal(json_string_value(json_object_get(doc, "token_limit_period")), "weekly");
	assert_int_equal(json_integer_value(json_object_get(doc, "token_limit_amount")), 25000);
	assert_true(json_is_true(json_object_get(doc, "is_trial")));
	assert_int_equal(json_integer_value(json_object_get(doc, "trial_expires_days")), 14);
	assert_true(json_is_true(json_object_get(doc, "is_featured")));
	assert_true(json_is_true(json_object_get(doc, "is_active")));
	assert_true(json_is_false(json_object_get(doc, "is_free")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(doc, "tasks"), 0),
	                                                      "name")), "Draft");
	assert_true(json_number_value(json_object_get(doc, "price_output_per_mtok")) == 4.125);
	json_decref(doc);
	/* The row agrees, and the audit names the action. */
	assert_int_equal(count("SELECT count(*) FROM aiplat.ai_models_system WHERE name = 'Grant Writer'"
	                       " AND api_key_ref = 'env:ANTHROPIC_API_KEY' AND api_key_ciphertext IS NULL"), 1);
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'model.create'"
	                       " AND new_values ->> 'name' = 'Grant Writer'"), 1);
}

/* show --format json | update --from-file - changes nothing (and audits nothing). */
static void test_round_trip(void **state)
{
	(void)state;
	for (const char *const *m = (const char *const[]){ "1", "Education Tutor (Trial)", "5", NULL }; *m; m++) {
		json_t *before = show_json(*m);
		char *text = json_dumps(before, 0);
		long audits = count("SELECT count(*) FROM aiplat.audit_logs");
		run_result r;
		RUN(&r, text, NULL, "model", "update", "--from-file", "-");
		expect_exit(&r, 0, "model update --from-file - with an unchanged document");
		run_result_free(&r);
		assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs"), audits);
		json_t *after = show_json(*m);
		json_object_del(before, "updated_at");
		json_object_del(after, "updated_at");
		if (!json_equal(before, after))
			fail_msg("round trip changed model %s", *m);
		json_decref(before);
		json_decref(after);
		free(text);
	}
	/* An edited document changes exactly what was edited. */
	json_t *doc = show_json("4");
	json_object_set_new(doc, "token_limit_amount", json_integer(22222));
	json_object_set_new(doc, "tags", json_pack("[s]", "homes"));
	char *text = json_dumps(doc, 0);
	run_result r;
	RUN(&r, text, NULL, "model", "update", "--from-file", "-");
	expect_exit(&r, 0, "update from an edited document");
	run_result_free(&r);
	free(text);
	json_decref(doc);
	assert_int_equal(count("SELECT token_limit_amount FROM aiplat.ai_models_system WHERE id = 4"), 22222);
	char *changes = testdb_value(owner,
		"SELECT string_agg(k, ',' ORDER BY k) FROM aiplat.audit_logs a,"
		"       jsonb_object_keys(a.new_values) k"
		" WHERE a.id = (SELECT max(id) FROM aiplat.audit_logs)"
		"   AND a.old_values -> k IS DISTINCT FROM a.new_values -> k", 0, NULL);
	assert_string_equal(changes, "tags,token_limit_amount,updated_at");
	free(changes);
}

static void test_update_fields(void **state)
{
	(void)state;
	run_result r;
	RUN(&r, NULL, NULL, "model", "update", "Property Listing Writer", "--types", "all", "--period",
	    "none", "--free", "--no-featured");
	expect_exit(&r, 0, "update with flags");
	run_result_free(&r);
	assert_int_equal(count("SELECT count(*) FROM aiplat.ai_models_system WHERE id = 4"
	                       " AND organization_types = '{}' AND token_limit_period IS NULL"
	                       " AND token_limit_amount IS NULL AND is_free AND NOT is_featured"), 1);
	RUN(&r, NULL, NULL, "model", "update", "4");
	expect_exit(&r, 2, "update with nothing to change");
	run_result_free(&r);
	RUN(&r, NULL, NULL, "model", "update", "no such model", "--icon", "x");
	expect_exit(&r, 1, "update of an unknown model");
	assert_non_null(strstr(r.err, "no model \"no such model\""));
	run_result_free(&r);
}

/* Every refusal is exit 5 with a message naming the problem, and writes nothing. */
static void test_validation_writes_nothing(void **state)
{
	(void)state;
	static const struct { const char *args[16]; const char *message; } cases[] = {
		{ { "create", "--name", "V", "--role", "v", "--provider-model", "m", "--plan", "gold" },
		  "unknown plan \"gold\" (plans: free, starter, pro, enterprise)" },
		{ { "create", "--name", "V", "--role", "v", "--provider-model", "m", "--period", "daily",
		    "--amount", "0" }, "token_limit_amount: must be a positive number of tokens" },
		{ { "create", "--name", "V", "--role", "v", "--provider-model", "m", "--max-tokens", "-1" },
		  "max_tokens: must be positive" },
		{ { "create", "--name", "V", "--role", "v", "--provider-model", "m", "--tasks",
		    "{\"name\": \"a\"}" }, "tasks: must be a JSON array" },
		{ { "create", "--name", "V", "--role", "v", "--provider-model", "m", "--tasks",
		    "[{\"name\": \"a\", \"prompt\": \"\"}]" }, "tasks: item 1 has no \"prompt\"" },
		{ { "create", "--name", "V", "--role", "v", "--provider-model", "m", "--tasks", "[{]" },
		  "--tasks: not valid JSON" },
		{ { "create", "--name", "V", "--role", "v", "--provider-model", "m", "--period", "monthly" },
		  "token_limit_period is set but token_limit_amount is not" },
		{ { "create", "--name", "V", "--role", "v", "--provider-model", "m", "--amount", "5" },
		  "token_limit_amount is set but token_limit_period is not" },
		{ { "create", "--name", "V", "--role", "v", "--provider-model", "m", "--trial" },
		  "a trial model needs trial_expires_days" },
		{ { "create", "--name", "V", "--role", "v", "--provider-model", "m", "--trial", "--trial-days",
		    "0" }, "trial_expires_days: must be a positive number of days" },
		{ { "create", "--name", "BASIC assistant", "--role", "v", "--provider-model", "m" },
		  "a model named \"BASIC assistant\" already exists" },
		{ { "create", "--name", "V", "--role", "Not A Role", "--provider-model", "m" },
		  "role: \"Not A Role\" must be lower-case" },
		{ { "create", "--name", "V", "--provider-model", "m" }, "role: required" },
		{ { "create", "--name", "V", "--role", "v", "--provider-model", "m", "--types", "martian" },
		  "unknown organization type \"martian\"" },
		{ { "create", "--name", "V", "--role", "v", "--provider-model", "m", "--endpoint", "ftp://x" },
		  "endpoint: \"ftp://x\" must be an http:// or https:// URL" },
		{ { "create", "--name", "V", "--role", "v", "--provider-model", "m", "--price-input", "-1" },
		  "--price-input: must be a number" },
		{ { "update", "1", "--period", "daily", "--amount", "-3" },
		  "token_limit_amount: must be a positive number of tokens" },
		{ { "update", "5", "--period", "daily" },
		  "token_limit_period is set but token_limit_amount is not" },
		{ { "update", "2", "--name", "Basic Assistant" },
		  "a model named \"Basic Assistant\" already exists" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long models = count("SELECT count(*) FROM aiplat.ai_models_system");
		long audits = count("SELECT count(*) FROM aiplat.audit_logs");
		char *before = testdb_value(owner, "SELECT md5(string_agg(m::text, ',' ORDER BY id))"
		                                   "  FROM aiplat.ai_models_system m", 0, NULL);
		const char *argv[24] = { "--db", db.url, "model" };
		int n = 3;
		for (int a = 0; cases[i].args[a]; a++)
			argv[n++] = cases[i].args[a];
		argv[n] = NULL;
		run_result r;
		run_aiplat_argv(&r, NULL, NULL, argv);
		char what[128];
		snprintf(what, sizeof(what), "invalid model case %zu (%s)", i, cases[i].message);
		expect_exit(&r, 5, what);
		if (!strstr(r.err, cases[i].message))
			fail_msg("case %zu: stderr lacks \"%s\":\n%s", i, cases[i].message, r.err);
		run_result_free(&r);
		char *after = testdb_value(owner, "SELECT md5(string_agg(m::text, ',' ORDER BY id))"
		                                  "  FROM aiplat.ai_models_system m", 0, NULL);
		assert_string_equal(before, after);
		assert_int_equal(count("SELECT count(*) FROM aiplat.ai_models_system"), models);
		assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs"), audits);
		free(before);
		free(after);
	}
	/* A document with an unknown period or field is invalid input too. */
	run_result r;
	RUN(&r, "{\"name\": \"V\", \"role\": \"v\", \"provider_model\": \"m\","
	        " \"token_limit_period\": \"yearly\", \"token_limit_amount\": 5}",
	    NULL, "model", "create", "--from-file", "-");
	expect_exit(&r, 5, "unknown period in a document");
	assert_non_null(strstr(r.err, "must be daily, weekly or monthly, not \"yearly\""));
	run_result_free(&r);
	RUN(&r, "{\"name\": \"V\", \"role\": \"v\", \"provider_model\": \"m\", \"colour\": \"red\"}",
	    NULL, "model", "create", "--from-file", "-");
	expect_exit(&r, 5, "unknown field");
	assert_non_null(strstr(r.err, "unknown field \"colour\""));
	run_result_free(&r);
	RUN(&r, "[1, 2]", NULL, "model", "create", "--from-file", "-");
	expect_exit(&r, 5, "a document that is not an object");
	run_result_free(&r);
	/* A flag's own type is a usage error. */
	RUN(&r, NULL, NULL, "model", "create", "--name", "V", "--role", "v", "--provider-model", "m",
	    "--period", "yearly");
	expect_exit(&r, 2, "--period yearly");
	run_result_free(&r);
}

static char *list(const char *const *args)
{
	const char *argv[24] = { "--db", db.url, "--format", "csv", "model", "list" };
	int n = 6;
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	run_result r;
	run_aiplat_argv(&r, NULL, NULL, argv);
	expect_exit(&r, 0, "model list");
	/* Names only, one per line. */
	char *names = calloc(1, strlen(r.out) + 1);
	for (char *line = strstr(r.out, "\r\n") + 2; *line; line = strstr(line, "\r\n") + 2) {
		char *c1 = strchr(line, ','), *c2 = strchr(c1 + 1, ',');
		strncat(names, c1 + 1, (size_t)(c2 - c1 - 1));
		strcat(names, ";");
	}
	run_result_free(&r);
	return names;
}

static void expect_list(const char *const *args, const char *expected)
{
	char *got = list(args);
	if (strcmp(got, expected) != 0)
		fail_msg("model list %s%s: got [%s], expected [%s]", args[0] ? args[0] : "",
		         args[0] && args[1] ? " ..." : "", got, expected);
	free(got);
}

static void test_list_filters(void **state)
{
	(void)state;
	/* A private database: other tests in this file change models. */
	testdb mine;
	testdb_create(&mine, true);
	testdb_seed(&mine, true);
	testdb saved = db;
	db = mine;
	expect_list((const char *const[]){ "--type", "solicitor", NULL },
	            "Legal Document Analyst;Basic Assistant;");
	expect_list((const char *const[]){ "--plan", "pro", NULL },
	            "Blog Content Writer Pro;Healthcare Information Assistant;");
	expect_list((const char *const[]){ "--featured", NULL },
	            "Blog Content Writer Pro;Legal Document Analyst;");
	expect_list((const char *const[]){ "--search", "LEGAL", NULL }, "Legal Document Analyst;");
	expect_list((const char *const[]){ "--search", "tutor", NULL }, "Education Tutor (Trial);");
	expect_list((const char *const[]){ "--search", "listings", NULL }, "Property Listing Writer;");
	expect_list((const char *const[]){ "--sort", "name", "--type", "education", NULL },
	            "Basic Assistant;Education Tutor (Trial);");
	run_result r;
	RUN(&r, NULL, NULL, "model", "deactivate", "Healthcare Information Assistant");
	expect_exit(&r, 0, "deactivate");
	run_result_free(&r);
	expect_list((const char *const[]){ "--inactive", NULL }, "Healthcare Information Assistant;");
	expect_list((const char *const[]){ "--active", "--plan", "pro", NULL }, "Blog Content Writer Pro;");
	RUN(&r, NULL, NULL, "model", "activate", "3");
	expect_exit(&r, 0, "activate");
	run_result_free(&r);
	RUN(&r, NULL, NULL, "model", "feature", "3");
	run_result_free(&r);
	RUN(&r, NULL, NULL, "model", "unfeature", "1");
	run_result_free(&r);
	expect_list((const char *const[]){ "--featured", NULL },
	            "Legal Document Analyst;Healthcare Information Assistant;");
	PGconn *c = testdb_connect(&mine);
	char *actions = testdb_value(c, "SELECT string_agg(action, ',' ORDER BY id) FROM aiplat.audit_logs"
	                                " WHERE action LIKE 'model.%'", 0, NULL);
	assert_string_equal(actions, "model.deactivate,model.activate,model.feature,model.unfeature");
	free(actions);
	PQfinish(c);
	RUN(&r, NULL, NULL, "model", "list", "--type", "martian");
	expect_exit(&r, 5, "unknown type filter");
	run_result_free(&r);
	RUN(&r, NULL, NULL, "model", "list", "--active", "--inactive");
	expect_exit(&r, 2, "contradicting filters");
	run_result_free(&r);
	db = saved;
	testdb_drop(&mine);
}

static void test_delete(void **state)
{
	(void)state;
	run_result r;
	/* Legal Document Analyst is enabled at acme-legal. */
	RUN(&r, NULL, NULL, "model", "delete", "Legal Document Analyst");
	expect_exit(&r, 1, "delete an enabled model");
	assert_non_null(strstr(r.err, "is enabled in 1 organization"));
	assert_non_null(strstr(r.err, "--force"));
	run_result_free(&r);
	assert_int_equal(count("SELECT count(*) FROM aiplat.ai_models_system WHERE id = 2"), 1);
	RUN(&r, NULL, NULL, "model", "delete", "Legal Document Analyst", "--force");
	expect_exit(&r, 0, "delete --force");
	run_result_free(&r);
	assert_int_equal(count("SELECT count(*) FROM aiplat.ai_models_system WHERE id = 2"), 0);
	assert_int_equal(count("SELECT count(*) FROM aiplat.org_system_model_config"
	                       " WHERE system_model_id = 2"), 0);
	RUN(&r, NULL, NULL, "model", "delete", "2");
	expect_exit(&r, 1, "delete an unknown model");
	run_result_free(&r);
	RUN(&r, NULL, NULL, "model", "show", "2");
	expect_exit(&r, 1, "show an unknown model");
	run_result_free(&r);
}

/* Does any output contain the key, or a recognisable piece of it? */
static void assert_no_key(const char *where, const char *text)
{
	if (strstr(text, API_KEY) || strstr(text, "9f8e7d6c5b4a3928"))
		fail_msg("the API key appears in %s:\n%s", where, text);
}

static void test_api_keys_never_shown(void **state)
{
	(void)state;
	run_result r;
	/* A literal key needs the secret to encrypt it: refused, nothing written. */
	const char *no_secret[] = { "AIPLAT_SECRET_KEY=", NULL };
	long models = count("SELECT count(*) FROM aiplat.ai_models_system");
	RUN(&r, API_KEY "\n", no_secret, "model", "create", "--name", "Keyed", "--role", "keyed",
	    "--provider-model", "gpt-4o", "--api-key-file", "-");
	expect_exit(&r, 5, "literal key without AIPLAT_SECRET_KEY");
	assert_non_null(strstr(r.err, "AIPLAT_SECRET_KEY"));
	assert_no_key("the error", r.err);
	run_result_free(&r);
	assert_int_equal(count("SELECT count(*) FROM aiplat.ai_models_system"), models);

	/* Stored encrypted, read from stdin so it is not on the command line. */
	RUN(&r, API_KEY "\n", with_secret, "-v", "-v", "model", "create", "--name", "Keyed", "--role",
	    "keyed", "--provider-model", "gpt-4o", "--api-key-file", "-");
	expect_exit(&r, 0, "create with a key");
	assert_no_key("create's output", r.out);
	assert_no_key("create's -v log", r.err);
	run_result_free(&r);
	char *plain = testdb_value(owner,
		"SELECT pgp_sym_decrypt(api_key_ciphertext, 'catalogue-test-secret-0123456789')"
		"  FROM aiplat.ai_models_system WHERE name = 'Keyed'", 0, NULL);
	assert_string_equal(plain, API_KEY);
	free(plain);
	assert_int_equal(count("SELECT count(*) FROM aiplat.ai_models_system WHERE name = 'Keyed'"
	                       " AND position(convert_to('9f8e7d6c', 'UTF8') in api_key_ciphertext) = 0"
	                       " AND api_key_hint = 'sk-...QrSt' AND api_key_ref IS NULL"), 1);

	static const char *const formats[] = { "table", "json", "ndjson", "csv", "tsv" };
	for (int f = 0; f < 5; f++) {
		const char *const cmds[][6] = {
			{ "model", "show", "Keyed", NULL },
			{ "model", "list", NULL },
			{ "audit", "list", "--full", NULL },
		};
		for (int c = 0; c < 3; c++) {
			const char *argv[16] = { "--db", db.url, "-v", "--format", formats[f] };
			int n = 5;
			for (int a = 0; cmds[c][a]; a++)
				argv[n++] = cmds[c][a];
			argv[n] = NULL;
			run_aiplat_argv(&r, NULL, with_secret, argv);
			expect_exit(&r, 0, cmds[c][0]);
			assert_no_key("an output", r.out);
			assert_no_key("a log", r.err);
			if (c == 0)
				assert_non_null(strstr(r.out, "sk-...QrSt"));
			run_result_free(&r);
		}
	}
	/* The audit table itself has no trace of the key or its ciphertext. */
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs"
	                       " WHERE position('9f8e7d6c' in coalesce(old_values::text, '') ||"
	                       "                 coalesce(new_values::text, '')) > 0"
	                       "    OR coalesce(old_values, '{}') ? 'api_key_ciphertext'"
	                       "    OR coalesce(new_values, '{}') ? 'api_key_ciphertext'"), 0);

	/* The masked hint round-trips without touching the key... */
	json_t *doc = show_json("Keyed");
	json_object_set_new(doc, "description", json_string("has a key"));
	char *text = json_dumps(doc, 0);
	RUN(&r, text, with_secret, "model", "update", "--from-file", "-");
	expect_exit(&r, 0, "update with the masked key");
	run_result_free(&r);
	free(text);
	json_decref(doc);
	plain = testdb_value(owner,
		"SELECT pgp_sym_decrypt(api_key_ciphertext, 'catalogue-test-secret-0123456789')"
		"  FROM aiplat.ai_models_system WHERE name = 'Keyed'", 0, NULL);
	assert_string_equal(plain, API_KEY);
	free(plain);
	/* ...a different masked value is refused, and a reference replaces the key. */
	RUN(&r, NULL, with_secret, "model", "update", "Keyed", "--api-key", "sk-...ABCD");
	expect_exit(&r, 5, "a foreign masked key");
	run_result_free(&r);
	RUN(&r, NULL, NULL, "model", "update", "Keyed", "--api-key", "env:KEYED_API_KEY");
	expect_exit(&r, 0, "switch to a reference");
	run_result_free(&r);
	assert_int_equal(count("SELECT count(*) FROM aiplat.ai_models_system WHERE name = 'Keyed'"
	                       " AND api_key_ciphertext IS NULL AND api_key_hint IS NULL"
	                       " AND api_key_ref = 'env:KEYED_API_KEY'"), 1);
	RUN(&r, NULL, NULL, "model", "update", "Keyed", "--api-key", "env:1bad");
	expect_exit(&r, 5, "a malformed reference");
	run_result_free(&r);
	RUN(&r, NULL, NULL, "model", "update", "Keyed", "--api-key", "none");
	expect_exit(&r, 0, "remove the key");
	run_result_free(&r);
	assert_int_equal(count("SELECT count(*) FROM aiplat.ai_models_system WHERE name = 'Keyed'"
	                       " AND api_key_ref IS NULL"), 1);
}

/* Only superadmins (and the platform) change the catalogue: exit 6 for
 * anyone else, and the database refuses the same statements directly. */
static void test_people_cannot_change_the_catalogue(void **state)
{
	(void)state;
	static const char *const people[] = { "alice@acme-legal.test", "aaron@acme-legal.test",
	                                      "ava@acme-legal.test" };
	for (int p = 0; p < 3; p++) {
		const char *const cmds[][8] = {
			{ "model", "create", "--name", "Sneaky", "--role", "sneaky", "--provider-model", "m" },
			{ "model", "update", "5", "--icon", "skull", NULL },
			{ "model", "deactivate", "5", NULL },
			{ "model", "feature", "5", NULL },
			{ "model", "delete", "5", "--force", NULL },
		};
		for (int c = 0; c < 5; c++) {
			const char *argv[20] = { "--db", db.url, "--as", people[p], "--org", "acme-legal" };
			int n = 6;
			for (int a = 0; a < 8 && cmds[c][a]; a++)
				argv[n++] = cmds[c][a];
			argv[n] = NULL;
			run_result r;
			run_aiplat_argv(&r, NULL, NULL, argv);
			char what[160];
			snprintf(what, sizeof(what), "%s: model %s", people[p], cmds[c][1]);
			expect_exit(&r, 6, what);
			run_result_free(&r);
		}
	}
	assert_int_equal(count("SELECT count(*) FROM aiplat.ai_models_system WHERE id = 5 AND is_active"
	                       " AND icon = 'robot' AND NOT is_featured"), 1);
	/* Directly as the app role: inserts are refused, updates and deletes see nothing. */
	char *alice = testdb_value(owner, "SELECT id FROM aiplat.users WHERE email = 'alice@acme-legal.test'",
	                           0, NULL);
	char *acme = testdb_value(owner, "SELECT id FROM aiplat.organizations WHERE slug = 'acme-legal'",
	                          0, NULL);
	PGconn *c = testdb_connect(&db);
	const char *p[2] = { alice, acme };
	testdb_exec(c, "BEGIN");
	PGresult *res = PQexecParams(c, "SELECT set_config('aiplat.user_id', $1, true),"
	                                "       set_config('aiplat.org_id', $2, true)", 2, NULL, p,
	                             NULL, NULL, 0);
	PQclear(res);
	testdb_exec(c, "SET LOCAL ROLE aiplat_app");
	res = PQexec(c, "UPDATE aiplat.ai_models_system SET is_active = false WHERE id = 5");
	assert_string_equal(PQcmdTuples(res), "0");
	PQclear(res);
	res = PQexec(c, "INSERT INTO aiplat.ai_models_system (name, role, provider_model)"
	                " VALUES ('Sneaky', 'sneaky', 'm')");
	assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	testdb_exec(c, "ROLLBACK");
	/* Nor can they read the ciphertext column at all. */
	testdb_exec(c, "BEGIN");
	testdb_exec(c, "SET LOCAL ROLE aiplat_app");
	res = PQexec(c, "SELECT api_key_ciphertext FROM aiplat.ai_models_system");
	assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	testdb_exec(c, "ROLLBACK");
	PQfinish(c);
	free(alice);
	free(acme);

	/* A superadmin person may. */
	run_result r;
	RUN(&r, NULL, NULL, "--as", "ops@aiplat.test", "model", "update", "5", "--sort-order", "55");
	expect_exit(&r, 0, "superadmin updates the catalogue");
	run_result_free(&r);
	assert_int_equal(count("SELECT sort_order FROM aiplat.ai_models_system WHERE id = 5"), 55);
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'model.update'"
	                       " AND acting_as_email = 'ops@aiplat.test'"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_with_every_field),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_update_fields),
		cmocka_unit_test(test_validation_writes_nothing),
		cmocka_unit_test(test_list_filters),
		cmocka_unit_test(test_api_keys_never_shown),
		cmocka_unit_test(test_people_cannot_change_the_catalogue),
		cmocka_unit_test(test_delete),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
