/*
 * Quota decisions through the binary: every reason of the decision order,
 * what consume records (and check does not), reservations (holding,
 * expiry without anyone's help, settle above the estimate, release), lazy
 * period rollover under a moved test clock, and the housekeeping job
 * (idempotent, dry run, refusing to overlap).
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
	testdb_exec(owner, "SET TimeZone = 'UTC'");
	/* Tests may move "now" in this database (aiplat.test_now). */
	testdb_exec(owner, "INSERT INTO aiplat.settings (key, value) VALUES ('test_clock', 'on')");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	PQfinish(owner);
	testdb_drop(&db);
	return 0;
}

/* Runs the binary with "now" at `at` (NULL: the real clock). */
static void run_at(run_result *r, const char *at, const char *const *args)
{
	char opt[128];
	snprintf(opt, sizeof(opt), "PGOPTIONS=-c aiplat.test_now=%s", at ? at : "");
	const char *env[] = { opt, NULL };
	run_aiplat_db(r, db.url, NULL, at ? env : NULL, args);
}

#define RUN(r, ...) run_at((r), NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_AT(r, at, ...) run_at((r), (at), (const char *const[]){ __VA_ARGS__, NULL })

static long count(const char *sql)
{
	return testdb_long(owner, sql, 0, NULL);
}

/* A moment computed by the server, as an ISO 8601 UTC text for PGOPTIONS. */
static char *moment(const char *expr)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "SELECT to_char((%s) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
	         expr);
	return testdb_value(owner, sql, 0, NULL);
}

/* The decision record of a --format json run. */
static json_t *decision(run_result *r)
{
	json_t *d = json_loads(r->out, 0, NULL);
	if (!json_is_object(d))
		fail_msg("not a JSON object:\n%s\nstderr:\n%s", r->out, r->err);
	return d;
}

static const char *str(json_t *d, const char *key)
{
	const char *s = json_string_value(json_object_get(d, key));
	return s ? s : "";
}

static long long num(json_t *d, const char *key)
{
	json_t *v = json_object_get(d, key);
	if (!json_is_integer(v))
		fail_msg("%s is not a number", key);
	return json_integer_value(v);
}

/* Runs a check/consume/... and returns its decision, asserting the exit status. */
static json_t *decide_at(const char *at, int status, const char *const *args)
{
	run_result r;
	const char *argv[48] = { "--format", "json" };
	int n = 2;
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	run_at(&r, at, argv);
	if (status >= 0)
		expect_exit(&r, status, args[1]);
	else if (r.status != 0 && r.status != 1)
		expect_exit(&r, 0, args[1]);   /* allowed or denied, nothing else */
	json_t *d = decision(&r);
	run_result_free(&r);
	return d;
}

#define DECIDE(status, ...) decide_at(NULL, (status), (const char *const[]){ __VA_ARGS__, NULL })
#define DECIDE_AT(at, status, ...) decide_at((at), (status), (const char *const[]){ __VA_ARGS__, NULL })

static const char *const legal = "Legal Document Analyst";

/* ---- the decision order -------------------------------------------------------- */

static void test_every_reason(void **state)
{
	(void)state;
	long events = count("SELECT count(*) FROM aiplat.usage_events");
	long counters = count("SELECT count(*) FROM aiplat.ai_model_usage");

	json_t *d = DECIDE(0, "quota", "check", "--org", "acme-legal", "--user", "aaron@acme-legal.test",
	                   "--model", legal, "--tokens", "100");
	assert_true(json_is_true(json_object_get(d, "allowed")));
	assert_string_equal(str(d, "reason"), "ok");
	assert_int_equal(num(d, "used"), 0);
	assert_int_equal(num(d, "limit"), 20000);          /* the admin's per-user limit */
	assert_int_equal(num(d, "org_quota"), 2000000);
	assert_true(strlen(str(d, "resets_at")) > 0);
	assert_string_equal(str(d, "user_period"), "monthly");
	json_decref(d);

	d = DECIDE(0, "quota", "check", "--org", "acme-legal", "--user", "aaron@acme-legal.test",
	           "--model", "Basic Assistant", "--tokens", "999999999");
	assert_string_equal(str(d, "reason"), "model_free");
	json_decref(d);

	d = DECIDE(1, "quota", "check", "--org", "acme-legal", "--user", "aaron@acme-legal.test",
	           "--model", legal, "--tokens", "20001");
	assert_true(json_is_false(json_object_get(d, "allowed")));
	assert_string_equal(str(d, "reason"), "user_limit_exceeded");
	assert_int_equal(num(d, "limit"), 20000);
	json_decref(d);

	/* Disabled by the admin in brightpath. */
	d = DECIDE(1, "quota", "check", "--org", "brightpath", "--user", "ben@brightpath.test",
	           "--model", "Basic Assistant", "--tokens", "1");
	assert_string_equal(str(d, "reason"), "model_not_enabled");
	json_decref(d);

	/* Healthcare needs pro; the clinic is on starter. */
	d = DECIDE(1, "quota", "check", "--org", "northside-clinic", "--user", "noah@northside-clinic.test",
	           "--model", "Healthcare Information Assistant", "--tokens", "1");
	assert_string_equal(str(d, "reason"), "plan_insufficient");
	json_decref(d);

	d = DECIDE(1, "quota", "check", "--org", "brightpath", "--user", "aaron@acme-legal.test",
	           "--model", "Blog Content Writer Pro", "--tokens", "1");
	assert_string_equal(str(d, "reason"), "not_a_member");
	json_decref(d);

	/* The trial was enabled 10 days ago for 30 days: fine now, expired in 21 days. */
	d = DECIDE(0, "quota", "check", "--org", "little-learners", "--user", "leo@little-learners.test",
	           "--model", "Education Tutor (Trial)", "--tokens", "1");
	assert_string_equal(str(d, "reason"), "ok");
	json_decref(d);
	char *later = moment("now() + interval '21 days'");
	d = DECIDE_AT(later, 1, "quota", "check", "--org", "little-learners", "--user",
	              "leo@little-learners.test", "--model", "Education Tutor (Trial)", "--tokens", "1");
	assert_string_equal(str(d, "reason"), "trial_expired");
	json_decref(d);
	free(later);

	/* The organisation's quota comes before the person's limit. */
	testdb_exec(owner, "UPDATE aiplat.organizations SET token_quota_monthly = 1000 WHERE slug = 'acme-legal'");
	d = DECIDE(1, "quota", "check", "--org", "acme-legal", "--user", "aaron@acme-legal.test",
	           "--model", legal, "--tokens", "1500");
	assert_string_equal(str(d, "reason"), "org_quota_exceeded");
	assert_int_equal(num(d, "limit"), 1000);
	assert_string_equal(str(d, "resets_at"), str(d, "org_resets_at"));
	json_decref(d);
	testdb_exec(owner, "UPDATE aiplat.organizations SET token_quota_monthly = 2000000 WHERE slug = 'acme-legal'");

	testdb_exec(owner, "UPDATE aiplat.ai_models_system SET is_active = false"
	                   " WHERE name = 'Property Listing Writer'");
	d = DECIDE(1, "quota", "check", "--org", "harbor-realty", "--user", "hugo@harbor-realty.test",
	           "--model", "Property Listing Writer", "--tokens", "1");
	assert_string_equal(str(d, "reason"), "model_inactive");
	json_decref(d);
	testdb_exec(owner, "UPDATE aiplat.ai_models_system SET is_active = true"
	                   " WHERE name = 'Property Listing Writer'");

	/* Deciding records nothing. */
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"), events);
	assert_int_equal(count("SELECT count(*) FROM aiplat.ai_model_usage"), counters);
}

static void test_bad_requests(void **state)
{
	(void)state;
	run_result r;
	RUN(&r, "quota", "check", "--org", "acme-legal", "--user", "aaron@acme-legal.test", "--tokens", "1");
	expect_exit(&r, 2, "no --model");
	run_result_free(&r);
	RUN(&r, "quota", "check", "--org", "acme-legal", "--user", "aaron@acme-legal.test", "--model",
	    legal, "--tokens", "0");
	expect_exit(&r, 5, "zero tokens");
	run_result_free(&r);
	RUN(&r, "quota", "check", "--org", "acme-legal", "--user", "nobody@nowhere.test", "--model",
	    legal, "--tokens", "1");
	expect_exit(&r, 5, "unknown person");
	assert_non_null(strstr(r.err, "nobody@nowhere.test"));
	run_result_free(&r);
	RUN(&r, "quota", "check", "--org", "acme-legal", "--user", "aaron@acme-legal.test", "--model",
	    "No Such Model", "--tokens", "1");
	expect_exit(&r, 5, "unknown model");
	run_result_free(&r);
	RUN(&r, "quota", "check", "--user", "aaron@acme-legal.test", "--model", legal, "--tokens", "1");
	expect_exit(&r, 2, "no organisation");
	run_result_free(&r);
}

/* People consume for themselves; reading others' needs usage:read_all. */
static void test_who_may_decide(void **state)
{
	(void)state;
	long events = count("SELECT count(*) FROM aiplat.usage_events");
	json_t *d = DECIDE(0, "--as", "aaron@acme-legal.test", "--org", "acme-legal", "quota", "consume",
	                   "--model", legal, "--tokens", "10");
	assert_string_equal(str(d, "user"), "aaron@acme-legal.test");
	json_decref(d);
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"), events + 1);

	run_result r;
	RUN(&r, "--as", "aaron@acme-legal.test", "--org", "acme-legal", "quota", "consume", "--user",
	    "alice@acme-legal.test", "--model", legal, "--tokens", "10");
	expect_exit(&r, 6, "consuming for someone else");
	run_result_free(&r);
	RUN(&r, "--as", "ava@acme-legal.test", "--org", "acme-legal", "quota", "consume", "--model",
	    "Basic Assistant", "--tokens", "10");
	expect_exit(&r, 6, "a viewer may not consume");
	run_result_free(&r);
	RUN(&r, "--as", "aaron@acme-legal.test", "--org", "acme-legal", "quota", "check", "--user",
	    "alice@acme-legal.test", "--model", legal, "--tokens", "10");
	expect_exit(&r, 6, "a user may not read someone else's");
	run_result_free(&r);
	d = DECIDE(0, "--as", "alice@acme-legal.test", "--org", "acme-legal", "quota", "check",
	           "--user", "aaron@acme-legal.test", "--model", legal, "--tokens", "10");
	assert_string_equal(str(d, "reason"), "ok");
	json_decref(d);
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"), events + 1);
}

/* ---- consume records everything at once ---------------------------------------------- */

static void test_consume_records_everything(void **state)
{
	(void)state;
	const char *who = "hugo@harbor-realty.test", *model = "Property Listing Writer";
	const char *p[2] = { who, model };
	const char *counter_sql =
		"SELECT coalesce(sum(tokens_used), 0) FROM aiplat.ai_model_usage u"
		"  JOIN aiplat.users p ON p.id = u.user_id WHERE p.email = $1 AND u.model_name = $2";
	long before = testdb_long(owner, counter_sql, 2, p);
	long org_before = count(ORG_TOKENS_SQL("harbor-realty"));
	long daily_before = count("SELECT coalesce(sum(tokens_in + tokens_out), 0) FROM aiplat.usage_daily d"
	                          " JOIN aiplat.organizations o ON o.id = d.organization_id"
	                          " WHERE o.slug = 'harbor-realty'");
	long models_before = count("SELECT coalesce(sum(requests), 0) FROM aiplat.usage_daily_models d"
	                           " JOIN aiplat.organizations o ON o.id = d.organization_id"
	                           " WHERE o.slug = 'harbor-realty'");

	long audit_before = count("SELECT count(*) FROM aiplat.audit_logs");
	json_t *d = DECIDE(0, "quota", "consume", "--org", "harbor-realty", "--user", who, "--model", model,
	                   "--tokens-in", "300", "--tokens-out", "200", "--latency-ms", "850",
	                   "--request-id", "req-abc", "--event-id", "0b7c2a4e-0000-4000-8000-000000000001");
	assert_string_equal(str(d, "reason"), "ok");
	assert_int_equal(num(d, "user_used"), before + 500);
	assert_string_equal(str(d, "event_id"), "0b7c2a4e-0000-4000-8000-000000000001");
	/* 300 x 0.30 + 200 x 0.90 per million = 0.00027 dollars */
	assert_true(json_real_value(json_object_get(d, "cost_usd")) > 0.000269 &&
	            json_real_value(json_object_get(d, "cost_usd")) < 0.000271);
	json_decref(d);

	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"
	                       " WHERE event_id = '0b7c2a4e-0000-4000-8000-000000000001'"
	                       "   AND tokens_in = 300 AND tokens_out = 200 AND latency_ms = 850"
	                       "   AND request_id = 'req-abc' AND cost_micro_usd = 270 AND source = 'consume'"),
	                 1);
	assert_int_equal(testdb_long(owner, counter_sql, 2, p), before + 500);
	assert_int_equal(count(ORG_TOKENS_SQL("harbor-realty")),
	                 org_before + 500);
	assert_int_equal(count("SELECT coalesce(sum(tokens_in + tokens_out), 0) FROM aiplat.usage_daily d"
	                       " JOIN aiplat.organizations o ON o.id = d.organization_id"
	                       " WHERE o.slug = 'harbor-realty'"), daily_before + 500);
	assert_int_equal(count("SELECT coalesce(sum(requests), 0) FROM aiplat.usage_daily_models d"
	                       " JOIN aiplat.organizations o ON o.id = d.organization_id"
	                       " WHERE o.slug = 'harbor-realty'"), models_before + 1);
	/* Usage is recorded by its events, not by an audit row per call. */
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs"), audit_before);

	/* A retry with the same event id is recognised and adds nothing. */
	d = DECIDE(0, "quota", "consume", "--org", "harbor-realty", "--user", who, "--model", model,
	           "--tokens-in", "300", "--tokens-out", "200",
	           "--event-id", "0b7c2a4e-0000-4000-8000-000000000001");
	assert_string_equal(str(d, "reason"), "duplicate");
	json_decref(d);
	assert_int_equal(testdb_long(owner, counter_sql, 2, p), before + 500);
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"
	                       " WHERE event_id = '0b7c2a4e-0000-4000-8000-000000000001'"), 1);

	/* A denial records nothing. */
	long events = count("SELECT count(*) FROM aiplat.usage_events");
	d = DECIDE(1, "quota", "consume", "--org", "harbor-realty", "--user", who, "--model", model,
	           "--tokens", "999999");
	assert_string_equal(str(d, "reason"), "user_limit_exceeded");
	json_decref(d);
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"), events);
	assert_int_equal(testdb_long(owner, counter_sql, 2, p), before + 500);

	/* In and out must add up when both --tokens and the parts are given. */
	run_result r;
	RUN(&r, "quota", "consume", "--org", "harbor-realty", "--user", who, "--model", model,
	    "--tokens", "10", "--tokens-in", "3", "--tokens-out", "3");
	expect_exit(&r, 5, "parts that do not add up");
	run_result_free(&r);
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"), events);
}

/* ---- reservations ------------------------------------------------------------------------ */

static char *reserve(const char *tokens, const char *ttl)
{
	const char *args[] = { "quota", "reserve", "--org", "acme-legal", "--user", "alice@acme-legal.test",
	                       "--model", legal, "--tokens", tokens, ttl ? "--ttl" : NULL, ttl, NULL };
	json_t *d = decide_at(NULL, 0, args);
	char *id = strdup(str(d, "reservation_id"));
	assert_int_equal(strlen(id), 36);
	json_decref(d);
	return id;
}

static const char *reason_for(const char *at, const char *tokens)
{
	static char reason[64];
	json_t *d = decide_at(at, -1, (const char *const[]){ "quota", "check", "--org", "acme-legal",
	                                                     "--user", "alice@acme-legal.test", "--model",
	                                                     legal, "--tokens", tokens, NULL });
	snprintf(reason, sizeof(reason), "%s", str(d, "reason"));
	json_decref(d);
	return reason;
}

static void test_reservations(void **state)
{
	(void)state;
	/* Alice has 20000 a month on the analyst and has used none. */
	long events = count("SELECT count(*) FROM aiplat.usage_events");
	char *held = reserve("15000", NULL);
	assert_string_equal(reason_for(NULL, "6000"), "user_limit_exceeded");   /* held tokens count */
	assert_string_equal(reason_for(NULL, "5000"), "ok");

	/* Release frees everything and records nothing. */
	run_result r;
	RUN(&r, "quota", "release", held);
	expect_exit(&r, 0, "release");
	run_result_free(&r);
	assert_string_equal(reason_for(NULL, "20000"), "ok");
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_events"), events);
	RUN(&r, "quota", "release", held);
	expect_exit(&r, 5, "released twice");
	run_result_free(&r);
	free(held);

	/* An expired reservation stops counting by itself: no reset runs. */
	held = reserve("19000", "30s");
	assert_string_equal(reason_for(NULL, "2000"), "user_limit_exceeded");
	char *later = moment("now() + interval '31 seconds'");
	assert_string_equal(reason_for(later, "2000"), "ok");
	free(later);
	free(held);
	testdb_exec(owner, "UPDATE aiplat.quota_reservations SET status = 'released'"
	                   " WHERE status = 'active'");   /* back to a clean slate at the real clock */

	/* Settling above the estimate records the real usage. */
	held = reserve("100", NULL);
	json_t *d = DECIDE(0, "quota", "settle", held, "--tokens-in", "150", "--tokens-out", "100",
	                   "--request-id", "req-settle");
	assert_string_equal(str(d, "reason"), "settled");
	assert_int_equal(num(d, "tokens"), 250);
	json_decref(d);
	const char *p[1] = { held };
	assert_int_equal(testdb_long(owner, "SELECT count(*) FROM aiplat.usage_events WHERE reservation_id = $1"
	                                    " AND tokens_in = 150 AND tokens_out = 100 AND source = 'settle'"
	                                    " AND request_id = 'req-settle'", 1, p), 1);
	assert_int_equal(testdb_long(owner, "SELECT settled_tokens FROM aiplat.quota_reservations"
	                                    " WHERE id = $1 AND status = 'settled'", 1, p), 250);
	assert_int_equal(count("SELECT tokens_used FROM aiplat.ai_model_usage u JOIN aiplat.users p"
	                       " ON p.id = u.user_id WHERE p.email = 'alice@acme-legal.test'"
	                       " AND u.model_name = 'Legal Document Analyst'"), 250);
	/* Nothing is held any more: 20000 - 250 is what is left. */
	assert_string_equal(reason_for(NULL, "19750"), "ok");
	assert_string_equal(reason_for(NULL, "19751"), "user_limit_exceeded");
	RUN(&r, "quota", "settle", held, "--tokens", "10");
	expect_exit(&r, 5, "settled twice");
	run_result_free(&r);
	free(held);

	RUN(&r, "quota", "settle", "6f1c8d7e-0000-4000-8000-00000000dead", "--tokens", "10");
	expect_exit(&r, 5, "an unknown reservation");
	run_result_free(&r);
}

/* ---- periods roll over without cron ---------------------------------------------------------- */

static void test_monthly_rollover_without_reset(void **state)
{
	(void)state;
	/* Pixel Forge (UTC) uses a limited model for this test: give it one. */
	testdb_exec(owner,
		"UPDATE aiplat.ai_models_system SET is_free = false, token_limit_period = 'monthly',"
		"       token_limit_amount = 1000 WHERE name = 'Basic Assistant'");
	testdb_exec(owner, "UPDATE aiplat.organizations SET token_quota_monthly = 1500 WHERE slug = 'pixel-forge'");
	char *now = moment("now()");
	json_t *d = DECIDE_AT(now, 0, "quota", "consume", "--org", "pixel-forge", "--user", "pete@pixel-forge.test",
	                      "--model", "Basic Assistant", "--tokens", "1000");
	assert_int_equal(num(d, "user_used"), 1000);
	json_decref(d);
	d = DECIDE_AT(now, 0, "quota", "consume", "--org", "pixel-forge", "--user", "pia@pixel-forge.test",
	              "--model", "Basic Assistant", "--tokens", "500");
	assert_int_equal(num(d, "org_used"), 1500);
	json_decref(d);
	d = DECIDE_AT(now, 1, "quota", "consume", "--org", "pixel-forge", "--user", "pia@pixel-forge.test",
	              "--model", "Basic Assistant", "--tokens", "1");
	assert_string_equal(str(d, "reason"), "org_quota_exceeded");
	json_decref(d);

	/* A second before the month ends: still full. A second after: a fresh month. */
	char *before = moment("date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
	                      " + interval '1 month' - interval '1 second'");
	char *after = moment("date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
	                     " + interval '1 month' + interval '1 second'");
	d = DECIDE_AT(before, 1, "quota", "consume", "--org", "pixel-forge", "--user", "pete@pixel-forge.test",
	              "--model", "Basic Assistant", "--tokens", "1");
	json_decref(d);
	d = DECIDE_AT(after, 0, "quota", "consume", "--org", "pixel-forge", "--user", "pete@pixel-forge.test",
	              "--model", "Basic Assistant", "--tokens", "400");
	assert_string_equal(str(d, "reason"), "ok");
	assert_int_equal(num(d, "user_used"), 400);
	assert_int_equal(num(d, "org_used"), 400);
	json_decref(d);
	/* The counter rolled over in the consume itself, and the reset date moved on. */
	assert_int_equal(count(ORG_TOKENS_SQL("pixel-forge")), 400);
	assert_int_equal(count("SELECT count(*) FROM aiplat.org_usage u JOIN aiplat.organizations o ON o.id = u.organization_id WHERE o.slug = 'pixel-forge'"
	                       "   AND u.resets_at = date_trunc('month', now() AT TIME ZONE 'UTC')"
	                       "                          AT TIME ZONE 'UTC' + interval '2 months'"), 1);
	assert_int_equal(count("SELECT count(*) FROM aiplat.ai_model_usage u JOIN aiplat.users p ON p.id = u.user_id"
	                       " WHERE p.email = 'pete@pixel-forge.test' AND u.period_type = 'monthly'"), 2);
	free(now);
	free(before);
	free(after);
	testdb_exec(owner,
		"UPDATE aiplat.ai_models_system SET is_free = true, token_limit_period = NULL,"
		"       token_limit_amount = NULL WHERE name = 'Basic Assistant'");
}

/* A daily limit ends at local midnight in the organisation's time zone. */
static void test_daily_rollover_in_local_time(void **state)
{
	(void)state;
	testdb_exec(owner, "UPDATE aiplat.ai_models_system SET token_limit_period = 'daily'"
	                   " WHERE name = 'Property Listing Writer'");
	/* Harbor Realty is in Los Angeles; Hana's limit is the admin's 5000 a day now. */
	char *noon = moment("(date_trunc('day', now() AT TIME ZONE 'America/Los_Angeles') + interval '12 hours')"
	                    " AT TIME ZONE 'America/Los_Angeles'");
	char *late = moment("(date_trunc('day', now() AT TIME ZONE 'America/Los_Angeles') + interval '1 day'"
	                    " - interval '1 minute') AT TIME ZONE 'America/Los_Angeles'");
	char *next = moment("(date_trunc('day', now() AT TIME ZONE 'America/Los_Angeles') + interval '1 day'"
	                    " + interval '1 minute') AT TIME ZONE 'America/Los_Angeles'");
	json_t *d = DECIDE_AT(noon, 0, "quota", "consume", "--org", "harbor-realty", "--user",
	                      "hana@harbor-realty.test", "--model", "Property Listing Writer", "--tokens", "5000");
	assert_int_equal(num(d, "limit"), 5000);
	assert_string_equal(str(d, "user_period"), "daily");
	json_decref(d);
	d = DECIDE_AT(late, 1, "quota", "consume", "--org", "harbor-realty", "--user",
	              "hana@harbor-realty.test", "--model", "Property Listing Writer", "--tokens", "1");
	assert_string_equal(str(d, "reason"), "user_limit_exceeded");
	assert_string_equal(str(d, "resets_at"), str(d, "user_resets_at"));
	json_decref(d);
	d = DECIDE_AT(next, 0, "quota", "consume", "--org", "harbor-realty", "--user",
	              "hana@harbor-realty.test", "--model", "Property Listing Writer", "--tokens", "1");
	assert_int_equal(num(d, "user_used"), 1);
	json_decref(d);
	free(noon);
	free(late);
	free(next);
	testdb_exec(owner, "UPDATE aiplat.ai_models_system SET token_limit_period = 'monthly'"
	                   " WHERE name = 'Property Listing Writer'");
}

/* ---- housekeeping ------------------------------------------------------------------------ */

static json_t *reset_json(const char *const *extra, int status)
{
	const char *argv[12] = { "--db", db.url, "--format", "json", "quota", "reset" };
	int n = 6;
	for (int i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	run_result r;
	run_aiplat_argv(&r, NULL, NULL, argv);
	expect_exit(&r, status, "quota reset");
	json_t *d = NULL;
	if (status == 0) {
		/* One line: for log collectors. */
		assert_non_null(strchr(r.out, '\n'));
		assert_string_equal(strchr(r.out, '\n'), "\n");
		d = decision(&r);
	}
	run_result_free(&r);
	return d;
}

static void test_reset(void **state)
{
	(void)state;
	/* Something for each job: a month that ended, a stale reservation, an
	 * old counter, an old partition. */
	testdb_exec(owner, "UPDATE aiplat.org_usage SET tokens_used = 123, resets_at = now() - interval '1 hour'"
	                   " WHERE organization_id = (SELECT id FROM aiplat.organizations WHERE slug = 'brightpath')");
	testdb_exec(owner,
		"INSERT INTO aiplat.quota_reservations (organization_id, user_id, model_id, tokens, created_at, expires_at)"
		" SELECT o.id, u.id, m.id, 50, now() - interval '2 hours', now() - interval '1 hour'"
		"   FROM aiplat.organizations o, aiplat.users u, aiplat.ai_models_system m"
		"  WHERE o.slug = 'brightpath' AND u.email = 'ben@brightpath.test' AND m.name = 'Blog Content Writer Pro'");
	testdb_exec(owner,
		"INSERT INTO aiplat.ai_model_usage (organization_id, user_id, model_id, model_name, period_type,"
		"                                   period_start, period_end, tokens_used)"
		" SELECT o.id, u.id, m.id, m.name, 'monthly', '2020-01-01', '2020-02-01', 7"
		"   FROM aiplat.organizations o, aiplat.users u, aiplat.ai_models_system m"
		"  WHERE o.slug = 'brightpath' AND u.email = 'ben@brightpath.test' AND m.name = 'Blog Content Writer Pro'");
	testdb_exec(owner, "SELECT aiplat_internal.ensure_usage_partition('2020-01-01')");

	/* A dry run counts and changes nothing. */
	json_t *d = reset_json((const char *const[]){ "--dry-run", NULL }, 0);
	assert_int_equal(num(d, "rolled_over"), 1);
	assert_int_equal(num(d, "reservations_expired"), 1);
	assert_int_equal(num(d, "counters_pruned"), 1);
	assert_int_equal(num(d, "partitions_dropped"), 1);
	assert_true(json_is_true(json_object_get(d, "dry_run")));
	json_decref(d);
	assert_int_equal(count(ORG_TOKENS_SQL("brightpath")), 123);
	assert_int_equal(count("SELECT count(*) FROM aiplat.quota_reservations WHERE status = 'active'"
	                       "   AND expires_at < now()"), 1);
	assert_int_equal(count("SELECT count(*) FROM pg_class WHERE relname = 'usage_events_2020_01'"), 1);

	d = reset_json(NULL, 0);
	assert_int_equal(num(d, "rolled_over"), 1);
	assert_int_equal(num(d, "reservations_expired"), 1);
	assert_int_equal(num(d, "counters_pruned"), 1);
	assert_int_equal(num(d, "partitions_dropped"), 1);
	json_decref(d);
	assert_int_equal(count(ORG_TOKENS_SQL("brightpath")), 0);
	assert_int_equal(count("SELECT count(*) FROM aiplat.org_usage u JOIN aiplat.organizations o ON o.id = u.organization_id WHERE o.slug = 'brightpath'"
	                       "   AND u.resets_at > now()"), 1);
	assert_int_equal(count("SELECT count(*) FROM aiplat.quota_reservations WHERE status = 'expired'"), 1);
	assert_int_equal(count("SELECT count(*) FROM pg_class WHERE relname = 'usage_events_2020_01'"), 0);
	/* This month's and next month's partitions exist. */
	assert_int_equal(count("SELECT count(*) FROM pg_class WHERE relname IN"
	                       " (to_char(now() AT TIME ZONE 'UTC', '\"usage_events_\"YYYY_MM'),"
	                       "  to_char((now() AT TIME ZONE 'UTC') + interval '1 month', '\"usage_events_\"YYYY_MM'))"),
	                 2);

	/* Twice in a row: the second finds nothing to do. */
	d = reset_json(NULL, 0);
	const char *keys[] = { "rolled_over", "reservations_expired", "counters_pruned", "event_ids_pruned",
	                       "partitions_dropped", "partitions_created" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(num(d, keys[i]), 0);
	json_decref(d);

	/* The summary line for cron mail. */
	run_result r;
	RUN(&r, "--format", "table", "quota", "reset");
	expect_exit(&r, 0, "reset, table");
	assert_non_null(strstr(r.out, "quota reset: rolled over 0 organizations"));
	run_result_free(&r);

	/* Another run holding the lock: exit 7 at once, or after --lock-timeout. */
	testdb_exec(owner, "SELECT pg_advisory_lock(1634299508, 2)");
	assert_null(reset_json(NULL, 7));
	assert_null(reset_json((const char *const[]){ "--lock-timeout", "300ms", NULL }, 7));
	testdb_exec(owner, "SELECT pg_advisory_unlock(1634299508, 2)");
	d = reset_json(NULL, 0);
	json_decref(d);

	RUN(&r, "--as", "alice@acme-legal.test", "quota", "reset");
	expect_exit(&r, 6, "a person running the housekeeping");
	run_result_free(&r);
}

/* The rollups carry no foreign key; a trigger deletes them with their organisation. */
static void test_deleting_an_organisation_deletes_its_rollups(void **state)
{
	(void)state;
	json_t *d = DECIDE(0, "quota", "consume", "--org", "northside-clinic", "--user",
	                   "noah@northside-clinic.test", "--model", "Basic Assistant", "--tokens", "10");
	json_decref(d);
	char *id = testdb_value(owner, "SELECT id FROM aiplat.organizations WHERE slug = 'northside-clinic'", 0, NULL);
	const char *p[1] = { id };
	assert_true(testdb_long(owner, "SELECT count(*) FROM aiplat.usage_daily WHERE organization_id = $1", 1, p) > 0);
	long others = count("SELECT count(*) FROM aiplat.usage_daily_models");
	long mine = testdb_long(owner, "SELECT count(*) FROM aiplat.usage_daily_models WHERE organization_id = $1", 1, p);
	assert_true(mine > 0);
	testdb_exec(owner, "DELETE FROM aiplat.organizations WHERE slug = 'northside-clinic'");
	assert_int_equal(testdb_long(owner, "SELECT count(*) FROM aiplat.usage_daily WHERE organization_id = $1", 1, p), 0);
	assert_int_equal(testdb_long(owner, "SELECT count(*) FROM aiplat.usage_daily_models WHERE organization_id = $1",
	                             1, p), 0);
	assert_int_equal(count("SELECT count(*) FROM aiplat.usage_daily_models"), others - mine);
	free(id);
}

/* ---- usage must be true ------------------------------------------------------------------ */

/* Figures that a refused request must leave as they were. */
static char *usage_state(void)
{
	return testdb_value(owner,
		"SELECT concat_ws(' | ', (SELECT count(*) FROM aiplat.usage_events),"
		" (SELECT string_agg(o.slug || '=' || u.tokens_used, ',' ORDER BY o.slug) FROM aiplat.org_usage u JOIN aiplat.organizations o ON o.id = u.organization_id),"
		" (SELECT sum(tokens_used) FROM aiplat.ai_model_usage),"
		" (SELECT count(*) FROM aiplat.quota_reservations WHERE status = 'active'))", 0, NULL);
}

static void expect_same_state(const char *before, const char *what)
{
	char *after = usage_state();
	if (strcmp(before, after) != 0)
		fail_msg("%s changed usage: %s -> %s", what, before, after);
	free(after);
}

/* A person's own report never carries them past their limits: above the
 * hold, a settle may use only what the limit and the quota still allow. */
static void test_person_settle_within_limits(void **state)
{
	(void)state;
	json_t *d = DECIDE(0, "--as", "aaron@acme-legal.test", "--org", "acme-legal", "quota", "reserve",
	                   "--model", legal, "--tokens", "1");
	char *held = strdup(str(d, "reservation_id"));
	json_decref(d);
	char *before = usage_state();
	/* 5,000,000 tokens: 2.5 times the organisation's quota, 250 times his limit. */
	run_result r;
	RUN(&r, "--format", "json", "--as", "aaron@acme-legal.test", "--org", "acme-legal", "quota", "settle", held,
	    "--tokens", "5000000");
	expect_exit(&r, 1, "a person settling far above the hold");
	if (!strstr(r.err, "organization's quota"))
		fail_msg("the refusal names the limit: %s", r.err);
	json_t *o = json_loads(r.out, 0, NULL);
	assert_string_equal(str(o, "reason"), "org_quota_exceeded");
	assert_int_equal(num(o, "limit"), 2000000);
	json_decref(o);
	run_result_free(&r);
	expect_same_state(before, "a refused settle");
	/* Within the quota but past his own limit (20000 a month). */
	d = DECIDE(1, "--as", "aaron@acme-legal.test", "--org", "acme-legal", "quota", "settle", held,
	           "--tokens", "30000");
	assert_string_equal(str(d, "reason"), "user_limit_exceeded");
	assert_int_equal(num(d, "limit"), 20000);
	json_decref(d);
	expect_same_state(before, "a settle past the person's limit");
	free(before);
	/* The hold is still there, and a settle within the limits goes through. */
	const char *p[1] = { held };
	assert_int_equal(testdb_long(owner, "SELECT count(*) FROM aiplat.quota_reservations WHERE id = $1"
	                                    " AND status = 'active'", 1, p), 1);
	d = DECIDE(0, "--as", "aaron@acme-legal.test", "--org", "acme-legal", "quota", "settle", held,
	           "--tokens", "150");
	assert_string_equal(str(d, "reason"), "settled");
	json_decref(d);
	assert_int_equal(testdb_long(owner, "SELECT tokens_in + tokens_out FROM aiplat.usage_events"
	                                    " WHERE reservation_id = $1", 1, p), 150);
	free(held);
}

/* The platform records what really happened, even above a limit, and says so. */
static void test_platform_settle_records_and_says_so(void **state)
{
	(void)state;
	json_t *d = DECIDE(0, "quota", "reserve", "--org", "little-learners", "--user", "leo@little-learners.test",
	                   "--model", "Education Tutor (Trial)", "--tokens", "100");
	char *held = strdup(str(d, "reservation_id"));
	json_decref(d);
	run_result r;
	RUN(&r, "--format", "json", "quota", "settle", held, "--tokens", "300000");
	expect_exit(&r, 0, "the platform settling above the quota");
	if (!strstr(r.err, "warning") || !strstr(r.err, "above the organization's quota"))
		fail_msg("no warning: %s", r.err);
	json_t *o = json_loads(r.out, 0, NULL);
	assert_string_equal(str(o, "reason"), "settled_over_quota");
	json_decref(o);
	run_result_free(&r);
	const char *p[1] = { held };
	assert_int_equal(testdb_long(owner, "SELECT tokens_in + tokens_out FROM aiplat.usage_events"
	                                    " WHERE reservation_id = $1", 1, p), 300000);
	free(held);
}

/* The platform's records check who and what; --force records anyway, audited. */
static void test_platform_record_checks(void **state)
{
	(void)state;
	static const struct { const char *org, *user, *model, *reason; } refused[] = {
		{ "brightpath", "aaron@acme-legal.test", "Blog Content Writer Pro", "not_a_member" },
		{ "pixel-forge", "pete@pixel-forge.test", "Legal Document Analyst", "type_not_targeted" },
		{ "pixel-forge", "pete@pixel-forge.test", "Blog Content Writer Pro", "plan_insufficient" },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char *before = usage_state();
		json_t *d = DECIDE(1, "usage", "record", "--org", refused[i].org, "--user", refused[i].user, "--model",
		                   refused[i].model, "--tokens-in", "10");
		assert_string_equal(str(d, "reason"), refused[i].reason);
		json_decref(d);
		expect_same_state(before, refused[i].reason);
		free(before);
	}
	long audited = count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'usage.record_forced'");
	json_t *d = DECIDE(0, "usage", "record", "--force", "--org", "brightpath", "--user", "aaron@acme-legal.test",
	                   "--model", "Blog Content Writer Pro", "--tokens-in", "10");
	json_decref(d);
	assert_int_equal(count("SELECT count(*) FROM aiplat.audit_logs WHERE action = 'usage.record_forced'"
	                       " AND org_slug = 'brightpath' AND new_values ->> 'member' = 'false'"), audited + 1);
	/* People may not force, nor say when. */
	run_result r;
	RUN(&r, "--as", "aaron@acme-legal.test", "--org", "acme-legal", "usage", "record", "--force", "--model",
	    legal, "--tokens-in", "10");
	expect_exit(&r, 6, "a person forcing a record");
	run_result_free(&r);
	RUN(&r, "--as", "aaron@acme-legal.test", "--org", "acme-legal", "usage", "record", "--at",
	    "2020-01-01T00:00:00Z", "--model", legal, "--tokens-in", "10");
	expect_exit(&r, 6, "a person recording in the past");
	run_result_free(&r);
	/* A person's own record is decided like a consume. */
	char *before = usage_state();
	d = DECIDE(1, "--as", "aaron@acme-legal.test", "--org", "acme-legal", "usage", "record", "--model", legal,
	           "--tokens-in", "30000");
	assert_string_equal(str(d, "reason"), "user_limit_exceeded");
	json_decref(d);
	expect_same_state(before, "a person's record past the limit");
	free(before);
}

/* External applications gate on the admission step: the ai flag holds there too. */
static void test_ai_flag_in_admission(void **state)
{
	(void)state;
	run_result r;
	RUN(&r, "-q", "flag", "set", "ai", "off", "--org", "acme-legal");
	expect_exit(&r, 0, "switching ai off");
	run_result_free(&r);
	char *before = usage_state();
	static const char *const modes[] = { "check", "consume", "reserve" };
	for (size_t i = 0; i < 3; i++) {
		json_t *d = DECIDE(1, "--as", "aaron@acme-legal.test", "--org", "acme-legal", "quota", modes[i],
		                   "--model", "Basic Assistant", "--tokens", "10");
		assert_string_equal(str(d, "reason"), "ai_disabled");
		json_decref(d);
	}
	expect_same_state(before, "admission with ai off");
	free(before);
	RUN(&r, "-q", "flag", "set", "ai", "on", "--org", "acme-legal");
	expect_exit(&r, 0, "switching ai on");
	run_result_free(&r);
	json_t *d = DECIDE(0, "--as", "aaron@acme-legal.test", "--org", "acme-legal", "quota", "check",
	                   "--model", "Basic Assistant", "--tokens", "10");
	json_decref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_reason),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_who_may_decide),
		cmocka_unit_test(test_consume_records_everything),
		cmocka_unit_test(test_reservations),
		cmocka_unit_test(test_monthly_rollover_without_reset),
		cmocka_unit_test(test_daily_rollover_in_local_time),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_deleting_an_organisation_deletes_its_rollups),
		cmocka_unit_test(test_person_settle_within_limits),
		cmocka_unit_test(test_platform_settle_records_and_says_so),
		cmocka_unit_test(test_platform_record_checks),
		cmocka_unit_test(test_ai_flag_in_admission),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
