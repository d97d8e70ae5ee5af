/*
 * The organisation admin's and the user's views: availability (and that the
 * C explanation agrees with the database's rule for every model and
 * organisation), enable/disable with the usage guard, trials, per-user
 * limits, and the user's usage with the seed's warning levels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdio.h>
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

static void run(run_result *r, const char *const *args)
{
	run_aiplat_db(r, db.url, NULL, NULL, args);
}

#define RUN(r, ...) run((r), (const char *const[]){ __VA_ARGS__, NULL })

static long count(const char *sql)
{
	return testdb_long(owner, sql, 0, NULL);
}

/* Rows of a --format json array. */
static json_t *json_rows(run_result *r)
{
	json_t *rows = json_loads(r->out, 0, NULL);
	if (!json_is_array(rows))
		fail_msg("not a JSON array:\n%s", r->out);
	return rows;
}

static json_t *row_named(json_t *rows, const char *key, const char *name)
{
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		if (!strcmp(json_string_value(json_object_get(row, key)), name))
			return row;
	}
	return NULL;
}

/* For every organisation and model, `model available --all` says what the
 * database's own rule (the one the policies use) says. */
static void test_explanation_agrees_with_the_database(void **state)
{
	(void)state;
	PGresult *orgs = PQexec(owner, "SELECT slug FROM aiplat.organizations ORDER BY slug");
	int checked = 0;
	for (int o = 0; o < PQntuples(orgs); o++) {
		const char *slug = PQgetvalue(orgs, o, 0);
		run_result r;
		RUN(&r, "--format", "json", "--org", slug, "model", "available", "--all");
		expect_exit(&r, 0, "model available --all");
		json_t *rows = json_rows(&r);
		run_result_free(&r);
		const char *p[1] = { slug };
		PGresult *truth = PQexecParams(owner,
			"SELECT m.id, aiplat.model_availability(m.id, o.id)"
			"  FROM aiplat.ai_models_system m, aiplat.organizations o WHERE o.slug = $1",
			1, NULL, p, NULL, NULL, 0);
		assert_int_equal((int)json_array_size(rows), PQntuples(truth));
		for (int i = 0; i < PQntuples(truth); i++) {
			json_int_t id = atoll(PQgetvalue(truth, i, 0));
			size_t k;
			json_t *row, *found = NULL;
			json_array_foreach(rows, k, row) {
				if (json_integer_value(json_object_get(row, "id")) == id)
					found = row;
			}
			assert_non_null(found);
			const char *c_says = json_string_value(json_object_get(found, "availability"));
			if (strcmp(c_says, PQgetvalue(truth, i, 1)) != 0)
				fail_msg("%s, model %lld: the CLI says %s, the database %s", slug, (long long)id,
				         c_says, PQgetvalue(truth, i, 1));
			checked++;
		}
		PQclear(truth);
		json_decref(rows);
	}
	PQclear(orgs);
	assert_int_equal(checked, 36);
}

static void test_admin_view(void **state)
{
	(void)state;
	run_result r;
	RUN(&r, "--format", "json", "--as", "alice@acme-legal.test", "--org", "acme-legal", "model", "available");
	expect_exit(&r, 0, "admin view");
	json_t *rows = json_rows(&r);
	run_result_free(&r);
	assert_int_equal(json_array_size(rows), 2);
	json_t *legal = row_named(rows, "name", "Legal Document Analyst");
	assert_non_null(legal);
	assert_string_equal(json_string_value(json_object_get(legal, "status")), "enabled");
	assert_int_equal(json_integer_value(json_object_get(legal, "per_user_limit")), 20000);
	assert_string_equal(json_string_value(json_object_get(legal, "limit_source")), "org");
	json_t *basic = row_named(rows, "name", "Basic Assistant");
	assert_string_equal(json_string_value(json_object_get(basic, "limit_source")), "free");
	assert_true(json_is_null(json_object_get(basic, "per_user_limit")));
	json_decref(rows);

	/* Trials: little-learners enabled the tutor 10 days ago; 20 of 30 remain. */
	RUN(&r, "--format", "json", "--org", "little-learners", "model", "available");
	rows = json_rows(&r);
	run_result_free(&r);
	json_t *tutor = row_named(rows, "name", "Education Tutor (Trial)");
	assert_int_equal(json_integer_value(json_object_get(tutor, "trial_days_left")), 20);
	json_decref(rows);
	/* Not yet enabled elsewhere: the whole trial is ahead. A superadmin sees it. */
	testdb_exec(owner, "INSERT INTO aiplat.organizations (slug, name, type, pricing_plan)"
	                   " VALUES ('tiny-school', 'Tiny School', 'education', 'free')");
	RUN(&r, "--format", "json", "--as", "ops@aiplat.test", "--org", "tiny-school", "model", "available");
	expect_exit(&r, 0, "superadmin in an organisation they do not belong to");
	rows = json_rows(&r);
	run_result_free(&r);
	tutor = row_named(rows, "name", "Education Tutor (Trial)");
	assert_int_equal(json_integer_value(json_object_get(tutor, "trial_days_left")), 30);
	assert_string_equal(json_string_value(json_object_get(tutor, "status")), "not_enabled");
	json_decref(rows);
	/* An expired trial says so. */
	testdb_exec(owner, "UPDATE aiplat.org_system_model_config SET enabled_at = now() - interval '31 days'"
	                   " WHERE system_model_id = 6");
	RUN(&r, "--format", "json", "--org", "little-learners", "model", "available");
	rows = json_rows(&r);
	run_result_free(&r);
	tutor = row_named(rows, "name", "Education Tutor (Trial)");
	assert_string_equal(json_string_value(json_object_get(tutor, "status")), "trial_expired");
	assert_int_equal(json_integer_value(json_object_get(tutor, "trial_days_left")), 0);
	json_decref(rows);
	RUN(&r, "--format", "json", "--as", "leo@little-learners.test", "--org", "little-learners",
	    "model", "enabled");
	rows = json_rows(&r);
	run_result_free(&r);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "warning")),
	                    "trial_expired");
	json_decref(rows);
	testdb_exec(owner, "UPDATE aiplat.org_system_model_config SET enabled_at = now() - interval '10 days'"
	                   " WHERE system_model_id = 6");
	RUN(&r, "model", "available");
	expect_exit(&r, 2, "available without --org");
	assert_non_null(strstr(r.err, "--org"));
	run_result_free(&r);
}

static void test_enable_and_disable(void **state)
{
	(void)state;
	run_result r;
	/* northside-clinic (healthcare, starter): the healthcare model needs pro. */
	RUN(&r, "--as", "nora@northside-clinic.test", "--org", "northside-clinic", "model", "enable",
	    "Healthcare Information Assistant");
	expect_exit(&r, 5, "enable a model the plan does not reach");
	assert_non_null(strstr(r.err, "it requires the pro plan (northside-clinic is on starter)"));
	run_result_free(&r);
	RUN(&r, "--as", "nora@northside-clinic.test", "--org", "northside-clinic", "model", "enable",
	    "Property Listing Writer");
	expect_exit(&r, 5, "enable a model that targets other types");
	assert_non_null(strstr(r.err, "does not target organizations of type healthcare"));
	run_result_free(&r);
	assert_int_equal(count("SELECT count(*) FROM aiplat.org_system_model_config c"
	                       "  JOIN aiplat.organizations o ON o.id = c.organization_id"
	                       " WHERE o.slug = 'northside-clinic'"), 1);
	/* The database refuses it for any client too. */
	PGresult *res = PQexec(owner,
		"INSERT INTO aiplat.org_system_model_config (organization_id, system_model_id, is_enabled_for_users)"
		" SELECT id, 3, true FROM aiplat.organizations WHERE slug = 'northside-clinic'");
	assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23514");
	PQclear(res);

	RUN(&r, "tenant", "set-plan", "northside-clinic", "pro");
	expect_exit(&r, 0, "upgrade the plan");
	run_result_free(&r);
	RUN(&r, "--as", "nora@northside-clinic.test", "--org", "northside-clinic", "model", "enable",
	    "Healthcare Information Assistant");
	expect_exit(&r, 0, "enable after the upgrade");
	run_result_free(&r);
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'model.enable'"
	                       " AND acting_as_email = 'nora@northside-clinic.test'"
	                       " AND org_slug = 'northside-clinic'"), 1);
	RUN(&r, "--format", "csv", "--as", "noah@northside-clinic.test", "--org", "northside-clinic",
	    "model", "enabled");
	expect_exit(&r, 0, "the user sees it");
	assert_non_null(strstr(r.out, ",Healthcare Information Assistant,SYSTEM,"));
	run_result_free(&r);

	/* Someone used it this period: disabling needs --force. */
	testdb_exec(owner,
		"INSERT INTO aiplat.ai_model_usage (organization_id, user_id, model_id, model_name, period_type,"
		"                                   period_start, period_end, tokens_used, requests_count)"
		" SELECT o.id, u.id, 3, 'x', 'monthly', aiplat.period_start('monthly', o.time_zone, now()),"
		"        aiplat.period_end('monthly', o.time_zone, now()), 1200, 3"
		"   FROM aiplat.organizations o, aiplat.users u"
		"  WHERE o.slug = 'northside-clinic' AND u.email = 'noah@northside-clinic.test'");
	RUN(&r, "--as", "nora@northside-clinic.test", "--org", "northside-clinic", "model", "disable", "3");
	expect_exit(&r, 1, "disable a model in use");
	assert_non_null(strstr(r.err, "1 user used \"3\" in the current period"));
	assert_non_null(strstr(r.err, "--force"));
	run_result_free(&r);
	assert_int_equal(count("SELECT count(*) FROM aiplat.org_system_model_config"
	                       " WHERE system_model_id = 3 AND is_enabled_for_users"), 1);
	RUN(&r, "--as", "nora@northside-clinic.test", "--org", "northside-clinic", "model", "disable", "3",
	    "--force");
	expect_exit(&r, 0, "disable --force");
	run_result_free(&r);
	RUN(&r, "--format", "csv", "--as", "noah@northside-clinic.test", "--org", "northside-clinic",
	    "model", "enabled");
	assert_null(strstr(r.out, "Healthcare"));
	run_result_free(&r);

	/* Re-enabling a trial does not restart it. */
	char *before = testdb_value(owner, "SELECT enabled_at FROM aiplat.org_system_model_config"
	                                   " WHERE system_model_id = 6", 0, NULL);
	RUN(&r, "--org", "little-learners", "model", "disable", "6");
	expect_exit(&r, 0, "disable the trial");
	run_result_free(&r);
	RUN(&r, "--org", "little-learners", "model", "enable", "6");
	expect_exit(&r, 0, "enable it again");
	run_result_free(&r);
	char *after = testdb_value(owner, "SELECT enabled_at FROM aiplat.org_system_model_config"
	                                  " WHERE system_model_id = 6", 0, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* An inactive model cannot be enabled. */
	RUN(&r, "model", "deactivate", "Basic Assistant");
	run_result_free(&r);
	RUN(&r, "--org", "harbor-realty", "model", "enable", "Basic Assistant");
	expect_exit(&r, 5, "enable an inactive model");
	assert_non_null(strstr(r.err, "it is inactive"));
	run_result_free(&r);
	RUN(&r, "model", "activate", "Basic Assistant");
	run_result_free(&r);
}

static void test_set_limit(void **state)
{
	(void)state;
	run_result r;
	/* pixel-forge's quota is 150000 tokens a month. */
	RUN(&r, "--as", "pia@pixel-forge.test", "--org", "pixel-forge", "model", "set-limit",
	    "Basic Assistant", "--per-user", "150001");
	expect_exit(&r, 5, "a limit above the organisation's quota");
	assert_non_null(strstr(r.err, "exceeds the organization's monthly quota of 150000 tokens"));
	run_result_free(&r);
	RUN(&r, "--as", "pia@pixel-forge.test", "--org", "pixel-forge", "model", "set-limit",
	    "Basic Assistant", "--per-user", "0");
	expect_exit(&r, 5, "a zero limit");
	run_result_free(&r);
	RUN(&r, "--as", "pia@pixel-forge.test", "--org", "pixel-forge", "model", "set-limit",
	    "Basic Assistant", "--per-user", "150000");
	expect_exit(&r, 0, "a limit equal to the quota");
	run_result_free(&r);
	assert_int_equal(count("SELECT token_limit_per_user FROM aiplat.org_system_model_config c"
	                       "  JOIN aiplat.organizations o ON o.id = c.organization_id"
	                       " WHERE o.slug = 'pixel-forge' AND system_model_id = 5"), 150000);
	RUN(&r, "--as", "pia@pixel-forge.test", "--org", "pixel-forge", "model", "set-limit",
	    "Basic Assistant", "--default");
	expect_exit(&r, 0, "back to the default");
	run_result_free(&r);
	assert_int_equal(count("SELECT count(*) FROM aiplat.org_system_model_config c"
	                       "  JOIN aiplat.organizations o ON o.id = c.organization_id"
	                       " WHERE o.slug = 'pixel-forge' AND system_model_id = 5"
	                       "   AND token_limit_per_user IS NULL"), 1);
	RUN(&r, "--org", "pixel-forge", "model", "set-limit", "Basic Assistant");
	expect_exit(&r, 2, "neither --per-user nor --default");
	run_result_free(&r);
	RUN(&r, "--org", "pixel-forge", "model", "set-limit", "Basic Assistant", "--per-user", "5",
	    "--default");
	expect_exit(&r, 2, "both --per-user and --default");
	run_result_free(&r);
	/* Enterprise plans have no quota, so no cap. */
	RUN(&r, "tenant", "set-quota", "acme-legal", "default");
	run_result_free(&r);
	RUN(&r, "--org", "acme-legal", "model", "set-limit", "2", "--per-user", "900000000");
	expect_exit(&r, 0, "no quota, no cap");
	run_result_free(&r);
	RUN(&r, "tenant", "set-quota", "acme-legal", "2000000");
	run_result_free(&r);
	RUN(&r, "--org", "acme-legal", "model", "set-limit", "2", "--per-user", "20000");
	run_result_free(&r);
}

/* Usage this period at 79, 80, 90 and 100 percent of an 8000-token limit. */
static void test_user_view_warnings(void **state)
{
	(void)state;
	static const struct { long used; const char *warning, *message, *percent; } levels[] = {
		{ 6320, NULL, NULL, "79.0" },
		{ 6400, "approaching", "Approaching token limit (6.4K/8K used)", "80.0" },
		{ 7200, "almost", "Almost at limit! (7.2K/8K used)", "90.0" },
		{ 8000, "reached", "Monthly limit reached. Resets in ", "100.0" },
	};
	run_result r;
	RUN(&r, "--org", "harbor-realty", "model", "set-limit", "4", "--per-user", "8000");
	expect_exit(&r, 0, "set-limit");
	run_result_free(&r);
	for (size_t i = 0; i < 4; i++) {
		char sql[1024];
		snprintf(sql, sizeof(sql),
			"INSERT INTO aiplat.ai_model_usage AS u (organization_id, user_id, model_id, model_name,"
			"       period_type, period_start, period_end, tokens_used, requests_count)"
			" SELECT o.id, us.id, 4, 'x', 'monthly', aiplat.period_start('monthly', o.time_zone, now()),"
			"        aiplat.period_end('monthly', o.time_zone, now()), %ld, 1"
			"   FROM aiplat.organizations o, aiplat.users us"
			"  WHERE o.slug = 'harbor-realty' AND us.email = 'hugo@harbor-realty.test'"
			" ON CONFLICT (organization_id, user_id, model_id, period_type, period_start)"
			" DO UPDATE SET tokens_used = EXCLUDED.tokens_used", levels[i].used);
		testdb_exec(owner, sql);
		RUN(&r, "--format", "json", "--as", "hugo@harbor-realty.test", "--org", "harbor-realty",
		    "model", "enabled");
		expect_exit(&r, 0, "model enabled");
		json_t *rows = json_rows(&r);
		run_result_free(&r);
		assert_int_equal(json_array_size(rows), 1);
		json_t *row = json_array_get(rows, 0);
		assert_string_equal(json_string_value(json_object_get(row, "kind")), "SYSTEM");
		assert_int_equal(json_integer_value(json_object_get(row, "used")), levels[i].used);
		assert_int_equal(json_integer_value(json_object_get(row, "limit")), 8000);
		char pct[32];
		snprintf(pct, sizeof(pct), "%.1f", json_number_value(json_object_get(row, "percent")));
		assert_string_equal(pct, levels[i].percent);
		json_t *w = json_object_get(row, "warning"), *m = json_object_get(row, "message");
		if (!levels[i].warning) {
			assert_true(json_is_null(w));
			assert_true(json_is_null(m));
		} else {
			assert_string_equal(json_string_value(w), levels[i].warning);
			if (strncmp(json_string_value(m), levels[i].message, strlen(levels[i].message)) != 0)
				fail_msg("message \"%s\", expected \"%s...\"", json_string_value(m), levels[i].message);
		}
		/* The reset is the first of next month, local midnight in Los Angeles. */
		const char *resets = json_string_value(json_object_get(row, "resets_at"));
		char *expect = testdb_value(owner,
			"SELECT aiplat.period_end('monthly', 'America/Los_Angeles', now())::text", 0, NULL);
		assert_string_equal(resets, expect);
		free(expect);
		assert_non_null(strstr(json_string_value(json_object_get(row, "resets_in")), "day"));
		json_decref(rows);
	}
	/* On a terminal the table gains a usage bar: 8000 of 8000 is full. */
	if (system("command -v script >/dev/null 2>&1") == 0) {
		char cmd[2048];
		snprintf(cmd, sizeof(cmd),
		         "NO_COLOR=1 script -qec \"%s --db '%s' --as hugo@harbor-realty.test --org harbor-realty"
		         " model enabled\" /dev/null", AIPLAT_TEST_BINARY, db.url);
		FILE *p = popen(cmd, "r");
		char out[8192] = "";
		size_t n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = '\0';
		pclose(p);
		if (!strstr(out, " usage") || !strstr(out, "\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88 100%"))
			fail_msg("no usage bar on a terminal:\n%s", out);
	}
	run_aiplat(&r, NULL, NULL, "--db", db.url, "--format", "table", "--as", "hugo@harbor-realty.test",
	           "--org", "harbor-realty", "model", "enabled", NULL);
	assert_null(strstr(r.out, "usage"));   /* not on a pipe */
	run_result_free(&r);

	/* Someone else's usage is not mine. */
	RUN(&r, "--format", "json", "--as", "hana@harbor-realty.test", "--org", "harbor-realty",
	    "model", "enabled");
	json_t *rows = json_rows(&r);
	run_result_free(&r);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "used")), 0);
	json_decref(rows);
	/* AIPLAT_AS and AIPLAT_ORG stand in for --as and --org; the options win. */
	const char *env[] = { "AIPLAT_AS=hugo@harbor-realty.test", "AIPLAT_ORG=harbor-realty", NULL };
	run_aiplat(&r, NULL, env, "--db", db.url, "--format", "csv", "model", "enabled", NULL);
	expect_exit(&r, 0, "identity from the environment");
	assert_non_null(strstr(r.out, ",8000,0,8000,100"));
	run_result_free(&r);
	run_aiplat(&r, NULL, env, "--db", db.url, "--format", "csv", "--as", "hana@harbor-realty.test",
	           "model", "enabled", NULL);
	assert_non_null(strstr(r.out, ",0,0,8000,0"));
	run_result_free(&r);

	/* The view is a person's. */
	RUN(&r, "--org", "harbor-realty", "model", "enabled");
	expect_exit(&r, 2, "model enabled without a person");
	assert_non_null(strstr(r.err, "--as"));
	run_result_free(&r);
	/* Free models have no limit and no warning. */
	RUN(&r, "--format", "json", "--as", "noah@northside-clinic.test", "--org", "northside-clinic",
	    "model", "enabled");
	rows = json_rows(&r);
	run_result_free(&r);
	json_t *basic = row_named(rows, "model", "Basic Assistant");
	assert_non_null(basic);
	assert_true(json_is_null(json_object_get(basic, "limit")));
	assert_true(json_is_null(json_object_get(basic, "warning")));
	json_decref(rows);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explanation_agrees_with_the_database),
		cmocka_unit_test(test_admin_view),
		cmocka_unit_test(test_enable_and_disable),
		cmocka_unit_test(test_set_limit),
		cmocka_unit_test(test_user_view_warnings),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
