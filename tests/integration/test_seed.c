/* `aiplat seed`: idempotent, complete, and the demo shows every filtering rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "runproc.h"
#include "testdb.h"

static const char *const seeded[] = {
	"plans", "organization_types", "permissions", "roles", "role_permissions",
	"ai_models_system", "users", "organizations", "organization_members",
	"org_system_model_config", "audit_logs", NULL
};

/* Row count and a digest of every row's content, per seeded table. */
static char *snapshot(PGconn *c)
{
	char sql[4096] = "SELECT concat_ws(E'\\n'";
	for (int i = 0; seeded[i]; i++)
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
		         ", '%s ' || (SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')"
		         " FROM aiplat.%s t)", seeded[i], seeded[i]);
	strcat(sql, ")");
	return testdb_value(c, sql, 0, NULL);
}

static void test_seed_twice_changes_nothing(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, true);
	PGconn *c = testdb_connect(&t);
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", t.url, "--format", "tsv", "seed", "--demo", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "ai_models_system\t6\n"));
	run_result_free(&r);
	char *first = snapshot(c);
	long audit = testdb_long(c, "SELECT count(*) FROM aiplat.audit_logs WHERE action = 'seed.demo'", 0, NULL);
	assert_int_equal(audit, 1);

	run_aiplat(&r, NULL, NULL, "--db", t.url, "--format", "tsv", "seed", "--demo", NULL);
	assert_int_equal(r.status, 0);
	/* Every table reports zero inserted: "name\t0" on each line after the header. */
	int lines = 0;
	for (const char *line = strchr(r.out, '\n') + 1; *line; line = strchr(line, '\n') + 1, lines++) {
		const char *tab = strchr(line, '\t');
		assert_non_null(tab);
		assert_memory_equal(tab, "\t0\n", 3);
	}
	assert_int_equal(lines, 10);
	assert_non_null(strstr(r.err, "nothing to seed"));
	run_result_free(&r);
	char *second = snapshot(c);
	assert_string_equal(first, second);

	/* Base seed on top of demo changes nothing either. */
	testdb_seed(&t, false);
	char *third = snapshot(c);
	assert_string_equal(first, third);
	free(first);
	free(second);
	free(third);
	PQfinish(c);
	testdb_drop(&t);
}

static void test_seed_needs_migrations(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, false);
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", t.url, "seed", NULL);
	assert_int_equal(r.status, 5);
	assert_non_null(strstr(r.err, "no aiplat schema"));
	assert_non_null(strstr(r.err, "hint: run `aiplat migrate up` first"));
	run_result_free(&r);
	testdb_drop(&t);
}

/* The six sample models of seed 001, with their targets, plans and limits. */
static void test_sample_models(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, true);
	testdb_seed(&t, false);
	PGconn *c = testdb_connect(&t);
	char *models = testdb_value(c,
		"SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', name, array_to_string(organization_types, ','),"
		"       required_plan, coalesce(token_limit_period, '-'), coalesce(token_limit_amount::text, '-'),"
		"       is_free, coalesce(trial_expires_days::text, '-'), jsonb_array_length(tasks)), E'\\n'"
		"       ORDER BY sort_order) FROM aiplat.ai_models_system", 0, NULL);
	assert_string_equal(models,
		"Blog Content Writer Pro|marketing,software,retail,consulting|pro|monthly|50000|f|-|5\n"
		"Legal Document Analyst|solicitor,finance,immigration|enterprise|monthly|100000|f|-|3\n"
		"Healthcare Information Assistant|doctor,healthcare,beauty|pro|monthly|30000|f|-|2\n"
		"Property Listing Writer|realestate|starter|monthly|20000|f|-|2\n"
		"Basic Assistant||free|-|-|t|-|2\n"
		"Education Tutor (Trial)|education|free|monthly|10000|f|30|2");
	free(models);
	/* Keys are environment references, never secrets. */
	assert_int_equal(testdb_long(c, "SELECT count(*) FROM aiplat.ai_models_system"
	                                " WHERE api_key_ciphertext IS NOT NULL"
	                                "    OR api_key_ref !~ '^env:[A-Z_]+$'", 0, NULL), 0);
	char *plans = testdb_value(c, "SELECT string_agg(code, '<' ORDER BY level) FROM aiplat.plans", 0, NULL);
	assert_string_equal(plans, "free<starter<pro<enterprise");
	free(plans);
	char *roles = testdb_value(c, "SELECT string_agg(name, ',' ORDER BY name) FROM aiplat.roles", 0, NULL);
	assert_string_equal(roles, "admin,user,viewer");
	free(roles);
	PQfinish(c);
	testdb_drop(&t);
}

/* Which models a person sees, through row-level security. */
static char *visible_models(const testdb *t, const char *email, const char *slug)
{
	aiplat_db *d;
	assert_int_equal(aiplat_db_connect(&d, t->url, "seed-test"), 0);
	aiplat_identity who;
	if (aiplat_identity_resolve(d, &who, email, slug) != 0)
		fail_msg("%s: %s", email, aiplat_error_last()->message);
	aiplat_db_set_identity(d, &who);
	assert_int_equal(aiplat_db_begin(d), 0);
	char *v = NULL;
	assert_int_equal(aiplat_db_query_value(d, &v,
		"SELECT coalesce(string_agg(name, ', ' ORDER BY sort_order), '') FROM aiplat.ai_models_system",
		0, NULL), 0);
	aiplat_db_commit(d);
	aiplat_db_close(d);
	return v;
}

static void expect_models(const testdb *t, const char *email, const char *slug, const char *expect)
{
	char *got = visible_models(t, email, slug);
	if (strcmp(got, expect) != 0)
		fail_msg("%s in %s sees [%s], expected [%s]", email, slug, got, expect);
	free(got);
}

/* Admins see what their type and plan allow; users see what admins enabled. */
static void test_demo_filtering(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, true);
	testdb_seed(&t, true);
	/* type matches and plan suffices */
	expect_models(&t, "alice@acme-legal.test", "acme-legal", "Legal Document Analyst, Basic Assistant");
	expect_models(&t, "bella@brightpath.test", "brightpath", "Blog Content Writer Pro, Basic Assistant");
	expect_models(&t, "hana@harbor-realty.test", "harbor-realty", "Property Listing Writer, Basic Assistant");
	/* type matches but the plan (starter) is below the model's (pro) */
	expect_models(&t, "nora@northside-clinic.test", "northside-clinic", "Basic Assistant");
	/* a free plan may use a free-plan trial model */
	expect_models(&t, "lily@little-learners.test", "little-learners", "Basic Assistant, Education Tutor (Trial)");
	/* software is a target of the blog writer, but the plan is free */
	expect_models(&t, "pia@pixel-forge.test", "pixel-forge", "Basic Assistant");
	/* users: only models the admin enabled (brightpath disabled Basic Assistant) */
	expect_models(&t, "ben@brightpath.test", "brightpath", "Blog Content Writer Pro");
	expect_models(&t, "aaron@acme-legal.test", "acme-legal", "Legal Document Analyst, Basic Assistant");
	expect_models(&t, "vic@pixel-forge.test", "pixel-forge", "Basic Assistant");
	/* the superadmin sees the whole catalogue */
	expect_models(&t, "ops@aiplat.test", NULL,
		"Blog Content Writer Pro, Legal Document Analyst, Healthcare Information Assistant, "
		"Property Listing Writer, Basic Assistant, Education Tutor (Trial)");
	testdb_drop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_twice_changes_nothing),
		cmocka_unit_test(test_seed_needs_migrations),
		cmocka_unit_test(test_sample_models),
		cmocka_unit_test(test_demo_filtering),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
