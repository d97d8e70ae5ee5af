/*
 * `aiplat ai complete` end to end: the real binary, a real database and
 * the fake provider on loopback, for both adapters (OpenAI-compatible and
 * Anthropic). What reaches the provider (headers, body), what is printed,
 * and what the quota engine records: one usage event per answered call
 * with the provider's numbers, a reservation that is settled or released
 * and never left active, nothing sent when the call is denied. Retries
 * (Retry-After in seconds and as a date, 5xx, 529), what is not retried
 * (spend caps, 4xx, timeouts, a wait longer than allowed), cut and failed
 * streams, fallback models, the ai and ai.daily_requests flags, tasks and
 * stored prompts, endpoint overrides; and the API key never in the output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "fakeprov.h"
#include "runproc.h"
#include "testdb.h"

#define KEY "sk-test-4f9c1e7a2b8d6053"
#define KEY_MIDDLE "4f9c1e7a2b8d"           /* no masked form shows this part */
#define ANSWER "Hello from the fake provider."
#define PROMPT "Hello there"

#define ALICE "alice@acme-legal.test"
#define AARON "aaron@acme-legal.test"
#define BELLA "bella@brightpath.test"
#define BEN "ben@brightpath.test"
#define PIA "pia@pixel-forge.test"
#define PETE "pete@pixel-forge.test"

static testdb db;
static PGconn *owner;
static fake_provider fp;

/* The child's environment: the key, and no endpoint overrides from outside. */
static const char *const ENV[] = { "FAKE_AI_KEY=" KEY, "AIPLAT_OPENAI_BASE_URL=", "AIPLAT_ANTHROPIC_BASE_URL=",
                                   "AIPLAT_SECRET_KEY=", NULL };

/* The two system models every adapter test uses, and what they cost. */
typedef struct adapter_case {
	const char *model;
	const char *provider;
	const char *system;        /* the model's system message */
	long price_in, price_out;  /* USD per 1M tokens: micro-USD per token */
} adapter_case;

static const adapter_case OA = { "Fake GPT", "openai", "You are terse.", 1, 2 };
static const adapter_case AN = { "Fake Claude", "anthropic", "Be brief.", 3, 15 };
static const adapter_case *const BOTH[] = { &OA, &AN };

/* ---- running things --------------------------------------------------------------------- */

static void run_env(run_result *r, const char *const *env, const char *const *args)
{
	run_aiplat_db(r, db.url, NULL, env ? env : ENV, args);
}

#define RUN(r, ...) run_env((r), NULL, (const char *const[]){ __VA_ARGS__, NULL })

static void ai_run(run_result *r, const char *const *env, const char *as, const char *org,
                   const char *const *args)
{
	const char *argv[64] = { "--as", as, "--org", org, "ai", "complete" };
	int n = 6;
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	run_env(r, env, argv);
}

/* ai complete as Aaron in acme-legal. */
#define AI(r, ...) ai_run((r), NULL, AARON, "acme-legal", (const char *const[]){ __VA_ARGS__, NULL })
#define AI_AS(r, as, org, ...) ai_run((r), NULL, (as), (org), (const char *const[]){ __VA_ARGS__, NULL })
#define AI_ENV(r, env, ...) ai_run((r), (env), AARON, "acme-legal", (const char *const[]){ __VA_ARGS__, NULL })

static void ok(const char *what, const char *const *args)
{
	run_result r;
	run_env(&r, NULL, args);
	expect_exit(&r, 0, what);
	run_result_free(&r);
}

#define OK(what, ...) ok((what), (const char *const[]){ __VA_ARGS__, NULL })

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- the database --------------------------------------------------------------------------- */

static long sqlv(const char *sql, const char *param)
{
	const char *p[1] = { param };
	return testdb_long(owner, sql, param ? 1 : 0, param ? p : NULL);
}

static char *sqls(const char *sql, const char *param)
{
	const char *p[1] = { param };
	return testdb_value(owner, sql, param ? 1 : 0, param ? p : NULL);
}

/* What the model needs to answer as `behaviour` (the fake reads the model name). */
static void use(const char *model, const char *behaviour)
{
	const char *p[2] = { behaviour, model };
	PGresult *r = PQexecParams(owner, "UPDATE aiplat.ai_models_system SET provider_model = $1 WHERE name = $2",
	                           2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK || strcmp(PQcmdTuples(r), "1") != 0)
		fail_msg("cannot point %s at %s: %s", model, behaviour, PQerrorMessage(owner));
	PQclear(r);
}

/* Counts about one model: usage events and its reservations by status. */
typedef struct snap {
	long events, reservations, active, released, settled;
} snap;

static snap snapshot(const char *model)
{
	snap s;
	s.events = sqlv("SELECT count(*) FROM aiplat.usage_events e JOIN aiplat.ai_models_system m ON m.id = e.model_id"
	                " WHERE m.name = $1", model);
	s.reservations = sqlv("SELECT count(*) FROM aiplat.quota_reservations r"
	                      "  JOIN aiplat.ai_models_system m ON m.id = r.model_id WHERE m.name = $1", model);
	s.active = sqlv("SELECT count(*) FROM aiplat.quota_reservations r"
	                "  JOIN aiplat.ai_models_system m ON m.id = r.model_id WHERE m.name = $1"
	                "   AND r.status = 'active'", model);
	s.released = sqlv("SELECT count(*) FROM aiplat.quota_reservations r"
	                  "  JOIN aiplat.ai_models_system m ON m.id = r.model_id WHERE m.name = $1"
	                  "   AND r.status = 'released'", model);
	s.settled = sqlv("SELECT count(*) FROM aiplat.quota_reservations r"
	                 "  JOIN aiplat.ai_models_system m ON m.id = r.model_id WHERE m.name = $1"
	                 "   AND r.status = 'settled'", model);
	return s;
}

/* One call answered: one more event, its reservation settled, none active. */
static void expect_settled_once(const char *model, snap before, const char *what)
{
	snap now = snapshot(model);
	if (now.events != before.events + 1 || now.settled != before.settled + 1 ||
	    now.reservations != before.reservations + 1 || now.released != before.released || now.active != 0)
		fail_msg("%s: expected one settled call on %s; events %ld -> %ld, reservations %ld -> %ld, "
		         "settled %ld -> %ld, released %ld -> %ld, active %ld", what, model, before.events, now.events,
		         before.reservations, now.reservations, before.settled, now.settled, before.released,
		         now.released, now.active);
}

/* One call failed: its reservation released, no event, none active. */
static void expect_released(const char *model, snap before, const char *what)
{
	snap now = snapshot(model);
	if (now.events != before.events || now.released != before.released + 1 ||
	    now.reservations != before.reservations + 1 || now.settled != before.settled || now.active != 0)
		fail_msg("%s: expected one released reservation on %s and no event; events %ld -> %ld, "
		         "reservations %ld -> %ld, released %ld -> %ld, settled %ld -> %ld, active %ld", what, model,
		         before.events, now.events, before.reservations, now.reservations, before.released,
		         now.released, before.settled, now.settled, now.active);
}

/* Nothing happened at all: not even a reservation. */
static void expect_untouched(const char *model, snap before, const char *what)
{
	snap now = snapshot(model);
	if (now.events != before.events || now.reservations != before.reservations || now.active != 0)
		fail_msg("%s: expected nothing on %s; events %ld -> %ld, reservations %ld -> %ld, active %ld", what,
		         model, before.events, now.events, before.reservations, now.reservations, now.active);
}

/* The newest usage event of a model. */
typedef struct event_row {
	long tokens_in, tokens_out, cost;
	long latency;              /* -1: NULL */
	char request_id[128], source[16], user[128], event_id[40], res_status[16];
	long res_tokens, res_settled;
} event_row;

static void read_event(const char *sql, const char *param, event_row *e)
{
	const char *p[1] = { param };
	PGresult *r = PQexecParams(owner, sql, 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("no usage event for %s: %s", param, PQerrorMessage(owner));
	e->tokens_in = atol(PQgetvalue(r, 0, 0));
	e->tokens_out = atol(PQgetvalue(r, 0, 1));
	e->cost = atol(PQgetvalue(r, 0, 2));
	e->latency = PQgetisnull(r, 0, 3) ? -1 : atol(PQgetvalue(r, 0, 3));
	snprintf(e->request_id, sizeof(e->request_id), "%s", PQgetvalue(r, 0, 4));
	snprintf(e->source, sizeof(e->source), "%s", PQgetvalue(r, 0, 5));
	snprintf(e->user, sizeof(e->user), "%s", PQgetvalue(r, 0, 6));
	snprintf(e->event_id, sizeof(e->event_id), "%s", PQgetvalue(r, 0, 7));
	snprintf(e->res_status, sizeof(e->res_status), "%s", PQgetvalue(r, 0, 8));
	e->res_tokens = atol(PQgetvalue(r, 0, 9));
	e->res_settled = atol(PQgetvalue(r, 0, 10));
	PQclear(r);
}

#define EVENT_COLUMNS \
	"SELECT e.tokens_in, e.tokens_out, e.cost_micro_usd, e.latency_ms, e.request_id, e.source, u.email," \
	"       e.event_id, r.status, r.tokens, r.settled_tokens" \
	"  FROM aiplat.usage_events e JOIN aiplat.users u ON u.id = e.user_id" \
	"  JOIN aiplat.ai_models_system m ON m.id = e.model_id" \
	"  LEFT JOIN aiplat.quota_reservations r ON r.organization_id = e.organization_id AND r.id = e.reservation_id"

static void event_by_id(const char *event_id, event_row *e)
{
	read_event(EVENT_COLUMNS " WHERE e.event_id = $1::uuid", event_id, e);
}

static void latest_event(const char *model, event_row *e)
{
	read_event(EVENT_COLUMNS " WHERE m.name = $1 ORDER BY e.recorded_at DESC, e.occurred_at DESC LIMIT 1", model, e);
}

/* ---- what the fake provider saw ------------------------------------------------------------- */

static json_t *last_request(const char *model)
{
	char *text = fake_provider_log(&fp);
	json_t *found = NULL;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *doc = json_loads(line, 0, NULL);
		const char *m = json_string_value(json_object_get(doc, "model"));
		if (m && !strcmp(m, model)) {
			json_decref(found);
			found = doc;
		} else {
			json_decref(doc);
		}
	}
	free(text);
	if (!found)
		fail_msg("the fake provider saw no request for %s", model);
	return found;
}

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

static json_t *output_json(const run_result *r)
{
	json_t *d = json_loads(r->out, 0, NULL);
	if (!json_is_object(d))
		fail_msg("not a JSON object:\n%s\nstderr:\n%s", r->out, r->err);
	return d;
}

/* Bytes of what a request carried as text: the fake provider's input tokens. */
static long request_bytes(json_t *req)
{
	json_t *body = json_object_get(req, "body");
	long n = 0;
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(body, "messages"), i, m)
		n += (long)strlen(jstr(m, "content"));
	n += (long)strlen(jstr(body, "system"));
	return n;
}

/* The reservation estimate as documented: bytes/4 rounded up, 4 per message, 3 more. */
static long estimate(const char *system, const char *prompt)
{
	long t = 3 + 4 + (long)((strlen(prompt) + 3) / 4);
	if (system && *system)
		t += 4 + (long)((strlen(system) + 3) / 4);
	return t;
}

static void expect_no_key(const run_result *r, const char *what)
{
	if (strstr(r->out, KEY) || strstr(r->err, KEY) || strstr(r->out, KEY_MIDDLE) || strstr(r->err, KEY_MIDDLE))
		fail_msg("%s: the API key was printed\nstdout: %s\nstderr: %s", what, r->out, r->err);
}

static void expect_in(const char *haystack, const char *needle, const char *what)
{
	if (!strstr(haystack, needle))
		fail_msg("%s: \"%s\" not in:\n%s", what, needle, haystack);
}

/* ---- set-up --------------------------------------------------------------------------------- */

static void create_model(const char *name, const char *role, const char *provider, const char *provider_model,
                         const char *endpoint, const char *system, const char *price_in, const char *price_out,
                         const char *tasks, bool free_model)
{
	const char *argv[64] = { "model", "create", "--name", name, "--role", role, "--provider", provider,
	                         "--provider-model", provider_model, "--endpoint", endpoint,
	                         "--api-key", "env:FAKE_AI_KEY", "--types", "all", "--plan", "free",
	                         "--max-tokens", "64" };
	int n = 20;
	if (free_model) {
		argv[n++] = "--free";
	} else {
		argv[n++] = "--period";
		argv[n++] = "monthly";
		argv[n++] = "--amount";
		argv[n++] = "100000";
		argv[n++] = "--price-input";
		argv[n++] = price_in;
		argv[n++] = "--price-output";
		argv[n++] = price_out;
	}
	if (system) {
		argv[n++] = "--system-message";
		argv[n++] = system;
	}
	if (tasks) {
		argv[n++] = "--tasks";
		argv[n++] = tasks;
	}
	argv[n] = NULL;
	ok(name, argv);
}

static void enable(const char *admin, const char *org, const char *model)
{
	OK(model, "--as", admin, "--org", org, "model", "enable", model);
}

static int setup(void **state)
{
	(void)state;
	testdb_create(&db, true);
	testdb_seed(&db, true);
	owner = testdb_connect(&db);
	fake_provider_start(&fp);
	create_model(OA.model, "fake_gpt", "openai", "normal", fp.base_url, OA.system, "1", "2", NULL, false);
	create_model(AN.model, "fake_claude", "anthropic", "normal", fp.base_url, AN.system, "3", "15", NULL, false);
	create_model("Fake Free", "fake_free", "openai", "normal:free", fp.base_url, NULL, NULL, NULL, NULL, true);
	create_model("Fake Tasker", "fake_tasker", "openai", "normal:task", fp.base_url, NULL, "1", "1",
	             "[{\"name\": \"summarise\", \"prompt\": \"Summarise this: {{topic}}\"},"
	             " {\"name\": \"plain\", \"prompt\": \"Translate to French.\"}]", false);
	/* Endpoints that point nowhere: only the environment's override reaches the fake. */
	create_model("Nowhere GPT", "nowhere_gpt", "openai", "normal:override-oa", "http://127.0.0.1:9/v1", NULL,
	             "1", "1", NULL, false);
	create_model("Nowhere Claude", "nowhere_claude", "anthropic", "normal:override-an", "http://127.0.0.1:9/v1",
	             NULL, "1", "1", NULL, false);
	const char *acme[] = { OA.model, AN.model, "Fake Free", "Fake Tasker", "Nowhere GPT", "Nowhere Claude" };
	for (size_t i = 0; i < sizeof(acme) / sizeof(acme[0]); i++)
		enable(ALICE, "acme-legal", acme[i]);
	enable(BELLA, "brightpath", OA.model);
	enable(BELLA, "brightpath", "Fake Free");
	enable(BELLA, "brightpath", "Fake Tasker");
	enable(PIA, "pixel-forge", OA.model);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_provider_stop(&fp);
	PQfinish(owner);
	testdb_drop(&db);
	return 0;
}

/* ---- answers -------------------------------------------------------------------------------- */

/* The JSON record of an answered call against what the fake provider did. */
static void check_record(const adapter_case *c, json_t *d, long input, const char *what)
{
	if (strcmp(jstr(d, "text"), ANSWER) != 0)
		fail_msg("%s: text \"%s\"", what, jstr(d, "text"));
	assert_string_equal(jstr(d, "model"), c->model);
	assert_string_equal(jstr(d, "provider"), c->provider);
	assert_int_equal(jint(d, "input_tokens"), input);
	assert_int_equal(jint(d, "output_tokens"), 7);
	assert_true(json_is_false(json_object_get(d, "usage_estimated")));
	double cost = json_number_value(json_object_get(d, "cost_usd"));
	double want = (double)(input * c->price_in + 7 * c->price_out) / 1e6;
	if (cost < want - 1e-9 || cost > want + 1e-9)
		fail_msg("%s: cost_usd %.9f, expected %.9f", what, cost, want);
	assert_true(jint(d, "latency_ms") >= 0);
	assert_true(strncmp(jstr(d, "request_id"), "req_fake_", 9) == 0);
	assert_int_equal(strlen(jstr(d, "event_id")), 36);
	assert_int_equal(jint(d, "attempts"), 1);
	assert_true(json_is_false(json_object_get(d, "fell_back")));
	assert_true(json_is_false(json_object_get(d, "cut")));
}

/* The usage event behind a record: the provider's numbers, once. */
static void check_event(const adapter_case *c, json_t *d, long input, long reserved)
{
	event_row e;
	event_by_id(jstr(d, "event_id"), &e);
	assert_int_equal(e.tokens_in, input);
	assert_int_equal(e.tokens_out, 7);
	assert_int_equal(e.cost, input * c->price_in + 7 * c->price_out);
	assert_string_equal(e.source, "ai");
	assert_string_equal(e.user, AARON);
	assert_string_equal(e.request_id, jstr(d, "request_id"));
	assert_true(e.latency >= 0);
	long long lat = jint(d, "latency_ms");
	assert_true(e.latency >= lat - 1 && e.latency <= lat + 1);
	assert_string_equal(e.res_status, "settled");
	assert_int_equal(e.res_tokens, reserved);        /* estimate + the output cap */
	assert_int_equal(e.res_settled, input + 7);
}

/* Headers and body of a request as the fake provider logged it. */
static void check_request(const adapter_case *c, json_t *req, bool stream)
{
	json_t *body = json_object_get(req, "body");
	assert_string_equal(jstr(req, "api"), c->provider);
	assert_int_equal(jint(body, "max_tokens"), 64);
	assert_true(json_is_true(json_object_get(req, "stream")) == stream);
	json_t *msgs = json_object_get(body, "messages");
	json_t *last = json_array_get(msgs, json_array_size(msgs) - 1);
	assert_string_equal(jstr(last, "role"), "user");
	assert_string_equal(jstr(last, "content"), PROMPT);
	if (c == &OA) {
		assert_string_equal(jstr(req, "authorization"), "Bearer " KEY);
		assert_string_equal(jstr(req, "x_api_key"), "");
		/* Not OpenAI's own host: max_tokens, never max_completion_tokens. */
		assert_null(json_object_get(body, "max_completion_tokens"));
		assert_int_equal(json_array_size(msgs), 2);
		assert_string_equal(jstr(json_array_get(msgs, 0), "role"), "system");
		assert_string_equal(jstr(json_array_get(msgs, 0), "content"), c->system);
		assert_null(json_object_get(body, "system"));
		if (stream)
			assert_true(json_is_true(json_object_get(json_object_get(body, "stream_options"), "include_usage")));
		else
			assert_null(json_object_get(body, "stream_options"));
	} else {
		assert_string_equal(jstr(req, "x_api_key"), KEY);
		assert_string_equal(jstr(req, "authorization"), "");
		assert_string_equal(jstr(req, "anthropic_version"), "2023-06-01");
		/* The system message is a top-level field, not a message. */
		assert_string_equal(jstr(body, "system"), c->system);
		assert_int_equal(json_array_size(msgs), 1);
	}
	assert_null(json_object_get(body, "response_format"));
}

static void complete_case(const adapter_case *c, bool stream)
{
	char behaviour[64];
	snprintf(behaviour, sizeof(behaviour), "normal:%s-%s", stream ? "stream" : "complete", c->provider);
	use(c->model, behaviour);
	/* By hand: "You are terse." 14 bytes -> 4 + 4; "Be brief." 9 -> 4 + 3; "Hello there" 11 -> 4 + 3; + 3. */
	long est = estimate(c->system, PROMPT);
	assert_int_equal(est, c == &OA ? 18 : 17);
	long input = (long)(strlen(c->system) + strlen(PROMPT));

	/* The answer on stdout, as a terminal would show it. */
	snap before = snapshot(c->model);
	run_result r;
	if (stream)
		AI(&r, "--stream", "--model", c->model, PROMPT);
	else
		AI(&r, "--model", c->model, PROMPT);
	expect_exit(&r, 0, behaviour);
	assert_string_equal(r.out, ANSWER "\n");
	expect_no_key(&r, behaviour);
	run_result_free(&r);
	expect_settled_once(c->model, before, behaviour);
	assert_int_equal(fake_provider_requests(&fp, behaviour), 1);
	json_t *req = last_request(behaviour);
	check_request(c, req, stream);
	assert_int_equal(request_bytes(req), input);
	json_decref(req);

	/* The record: the provider's numbers, the cost from the prices, the event. */
	before = snapshot(c->model);
	if (stream)
		AI(&r, "--format", "json", "--stream", "--model", c->model, PROMPT);
	else
		AI(&r, "--format", "json", "--model", c->model, PROMPT);
	expect_exit(&r, 0, behaviour);
	json_t *d = output_json(&r);
	check_record(c, d, input, behaviour);
	check_event(c, d, input, est + 64);
	json_decref(d);
	run_result_free(&r);
	expect_settled_once(c->model, before, behaviour);
	assert_int_equal(fake_provider_requests(&fp, behaviour), 2);
}

static void test_complete_openai(void **state)
{
	(void)state;
	complete_case(&OA, false);
}

static void test_complete_anthropic(void **state)
{
	(void)state;
	complete_case(&AN, false);
}

static void test_stream_openai(void **state)
{
	(void)state;
	complete_case(&OA, true);
}

static void test_stream_anthropic(void **state)
{
	(void)state;
	complete_case(&AN, true);
}

static void test_max_tokens_option(void **state)
{
	(void)state;
	/* --max-tokens replaces the model's cap: in the request and in the reservation. */
	for (size_t i = 0; i < 2; i++) {
		const adapter_case *c = BOTH[i];
		char behaviour[64];
		snprintf(behaviour, sizeof(behaviour), "normal:maxtok-%s", c->provider);
		use(c->model, behaviour);
		run_result r;
		AI(&r, "--format", "json", "--max-tokens", "32", "--model", c->model, PROMPT);
		expect_exit(&r, 0, behaviour);
		json_t *d = output_json(&r);
		event_row e;
		event_by_id(jstr(d, "event_id"), &e);
		assert_int_equal(e.res_tokens, estimate(c->system, PROMPT) + 32);
		json_decref(d);
		run_result_free(&r);
		json_t *req = last_request(behaviour);
		assert_int_equal(jint(json_object_get(req, "body"), "max_tokens"), 32);
		json_decref(req);
		/* More than the model's own cap (64) is refused, before anything is sent. */
		int before = fake_provider_requests(&fp, behaviour);
		AI(&r, "--max-tokens", "65", "--model", c->model, PROMPT);
		expect_exit(&r, 5, "--max-tokens above the model's cap");
		run_result_free(&r);
		assert_int_equal(fake_provider_requests(&fp, behaviour), before);
	}
}

static void test_json_mode(void **state)
{
	(void)state;
	/* OpenAI: response_format json_object. */
	use(OA.model, "json:jm-openai");
	run_result r;
	AI(&r, "--json", "--model", OA.model, PROMPT);
	expect_exit(&r, 0, "openai --json");
	assert_string_equal(r.out, "{\"answer\": 42}\n");
	run_result_free(&r);
	json_t *req = last_request("json:jm-openai");
	json_t *body = json_object_get(req, "body");
	assert_string_equal(jstr(json_object_get(body, "response_format"), "type"), "json_object");
	json_decref(req);

	/* Anthropic: a "{" prefill (put back in front of the answer) and the instruction in the system field. */
	use(AN.model, "json:jm-anthropic");
	snap before = snapshot(AN.model);
	AI(&r, "--json", "--format", "json", "--model", AN.model, PROMPT);
	expect_exit(&r, 0, "anthropic --json");
	json_t *d = output_json(&r);
	assert_string_equal(jstr(d, "text"), "{\"answer\": 42}");
	req = last_request("json:jm-anthropic");
	body = json_object_get(req, "body");
	json_t *msgs = json_object_get(body, "messages");
	assert_int_equal(json_array_size(msgs), 2);
	assert_string_equal(jstr(json_array_get(msgs, 0), "content"), PROMPT);
	assert_string_equal(jstr(json_array_get(msgs, 1), "role"), "assistant");
	assert_string_equal(jstr(json_array_get(msgs, 1), "content"), "{");
	const char *system = jstr(body, "system");
	assert_true(strncmp(system, AN.system, strlen(AN.system)) == 0);
	assert_true(strlen(system) > strlen(AN.system));
	assert_null(json_object_get(body, "response_format"));
	/* Usage as the provider counted what it was sent. */
	assert_int_equal(jint(d, "input_tokens"), request_bytes(req));
	json_decref(req);
	json_decref(d);
	run_result_free(&r);
	expect_settled_once(AN.model, before, "anthropic --json");

	/* Streamed: the prefill comes first on stdout too. */
	use(AN.model, "json:jm-anthropic-stream");
	AI(&r, "--json", "--stream", "--model", AN.model, PROMPT);
	expect_exit(&r, 0, "anthropic --json --stream");
	assert_string_equal(r.out, "{\"answer\": 42}\n");
	run_result_free(&r);
	req = last_request("json:jm-anthropic-stream");
	assert_true(json_is_true(json_object_get(req, "stream")));
	json_decref(req);
}

static void test_prompt_from_stdin(void **state)
{
	(void)state;
	use(OA.model, "normal:stdin");
	run_result r;
	run_aiplat_argv(&r, "Hello from stdin", ENV,
	                (const char *const[]){ "--db", db.url, "--as", AARON, "--org", "acme-legal", "ai", "complete",
	                                       "--model", OA.model, "-", NULL });
	expect_exit(&r, 0, "prompt on stdin");
	assert_string_equal(r.out, ANSWER "\n");
	run_result_free(&r);
	json_t *req = last_request("normal:stdin");
	json_t *msgs = json_object_get(json_object_get(req, "body"), "messages");
	assert_string_equal(jstr(json_array_get(msgs, json_array_size(msgs) - 1), "content"), "Hello from stdin");
	json_decref(req);
}

static void test_refused_before_anything(void **state)
{
	(void)state;
	/* Usage errors and unknown or unavailable models: nothing reserved, nothing sent. */
	use(OA.model, "normal:refused");
	snap before = snapshot(OA.model);
	run_result r;
	AI(&r, "--model", OA.model);
	expect_exit(&r, 2, "no prompt");
	run_result_free(&r);
	AI(&r, PROMPT);
	expect_exit(&r, 2, "no model");
	run_result_free(&r);
	AI(&r, "--model", OA.model, "--max-tokens", "0", PROMPT);
	expect_exit(&r, 2, "--max-tokens 0");
	run_result_free(&r);
	AI(&r, "--model", OA.model, "--task", "x", "--var", "novalue", PROMPT);
	expect_exit(&r, 2, "--var without =");
	run_result_free(&r);
	run_env(&r, NULL, (const char *const[]){ "--as", AARON, "ai", "complete", "--model", OA.model, PROMPT, NULL });
	expect_exit(&r, 2, "no organisation");
	run_result_free(&r);
	AI(&r, "--model", "No Such Model", PROMPT);
	expect_exit(&r, 5, "unknown model");
	run_result_free(&r);
	/* Harbor Realty never enabled it. */
	AI_AS(&r, "hugo@harbor-realty.test", "harbor-realty", "--format", "json", "--model", OA.model, PROMPT);
	expect_exit(&r, 1, "not enabled");
	json_t *d = output_json(&r);
	assert_string_equal(jstr(d, "reason"), "model_not_enabled");
	json_decref(d);
	run_result_free(&r);
	/* Aaron is not a member of Brightpath. */
	AI_AS(&r, AARON, "brightpath", "--model", OA.model, PROMPT);
	expect_exit(&r, 6, "not a member");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:refused"), 0);
	expect_untouched(OA.model, before, "refused");
}

/* ---- retries -------------------------------------------------------------------------------- */

/* A call that succeeds after `failures` refusals: n+1 requests, one event. */
static double retried_success(const adapter_case *c, const char *behaviour, int failures)
{
	use(c->model, behaviour);
	snap before = snapshot(c->model);
	run_result r;
	double t0 = now_s();
	AI(&r, "--format", "json", "--model", c->model, PROMPT);
	double elapsed = now_s() - t0;
	expect_exit(&r, 0, behaviour);
	json_t *d = output_json(&r);
	assert_string_equal(jstr(d, "text"), ANSWER);
	assert_int_equal(jint(d, "attempts"), failures + 1);
	assert_int_equal(jint(d, "input_tokens"), (long)(strlen(c->system) + strlen(PROMPT)));
	json_decref(d);
	expect_no_key(&r, behaviour);
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, behaviour), failures + 1);
	expect_settled_once(c->model, before, behaviour);
	return elapsed;
}

static void test_retry_after_seconds(void **state)
{
	(void)state;
	/* 429 with Retry-After: 1. Backoff alone would wait at most 0.5 s: the header is honoured. */
	double t = retried_success(&OA, "ratelimit:1:ra-openai", 1);
	assert_true(t >= 0.95);
	t = retried_success(&AN, "ratelimit:1:ra-anthropic", 1);
	assert_true(t >= 0.95);
}

static void test_retry_after_date(void **state)
{
	(void)state;
	/* Retry-After as an HTTP date two seconds ahead (whole seconds: one or two of waiting). */
	double t = retried_success(&AN, "ratedate:1:rd-anthropic", 1);
	assert_true(t >= 0.9);
	assert_true(t < 10);
}

static void test_server_error_then_success(void **state)
{
	(void)state;
	retried_success(&OA, "flaky:2:fl-openai", 2);
	retried_success(&AN, "flaky:1:fl-anthropic", 1);
}

/* ---- failures ------------------------------------------------------------------------------- */

/* A call that fails: exit 4 after `requests` requests, nothing recorded, the key unsaid. */
static void failed_call(const adapter_case *c, const char *behaviour, int requests, bool stream,
                        const char *const *extra, const char *says, double *elapsed)
{
	use(c->model, behaviour);
	snap before = snapshot(c->model);
	const char *args[24];
	int n = 0;
	for (int i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	if (stream)
		args[n++] = "--stream";
	args[n++] = "--model";
	args[n++] = c->model;
	args[n++] = PROMPT;
	args[n] = NULL;
	run_result r;
	double t0 = now_s();
	ai_run(&r, NULL, AARON, "acme-legal", args);
	if (elapsed)
		*elapsed = now_s() - t0;
	expect_exit(&r, 4, behaviour);
	if (says)
		expect_in(r.err, says, behaviour);
	expect_no_key(&r, behaviour);
	run_result_free(&r);
	if (fake_provider_requests(&fp, behaviour) != requests)
		fail_msg("%s: %d requests, expected %d", behaviour, fake_provider_requests(&fp, behaviour), requests);
	expect_released(c->model, before, behaviour);
}

static void test_overloaded(void **state)
{
	(void)state;
	/* 529 every time: retried, then exit 4 (retries + 1 requests). */
	failed_call(&OA, "overloaded:ov-openai", 2, false, (const char *const[]){ "--retries", "1", NULL }, "529",
	            NULL);
	failed_call(&AN, "overloaded:ov-anthropic", 2, false, (const char *const[]){ "--retries", "1", NULL },
	            "529", NULL);
	failed_call(&OA, "overloaded:ov-openai-0", 1, false, (const char *const[]){ "--retries", "0", NULL }, "529",
	            NULL);
	/* The default is three retries. */
	failed_call(&AN, "overloaded:ov-anthropic-default", 4, false, NULL, "529", NULL);
}

static void test_retry_wait_too_long(void **state)
{
	(void)state;
	/* 429 asking for an hour: not waited for, not retried. */
	for (size_t i = 0; i < 2; i++) {
		char behaviour[64];
		snprintf(behaviour, sizeof(behaviour), "retrylong:rl-%s", BOTH[i]->provider);
		double t;
		failed_call(BOTH[i], behaviour, 1, false, NULL, "3600", &t);
		assert_true(t < 5);
	}
}

static void test_spend_cap_not_retried(void **state)
{
	(void)state;
	/* A spent budget (429 insufficient_quota / spend limit) is final, Retry-After or not. */
	failed_call(&OA, "quota:q-openai", 1, false, NULL, "429", NULL);
	failed_call(&AN, "quota:q-anthropic", 1, false, NULL, "spend limit", NULL);
}

static void test_client_errors_not_retried(void **state)
{
	(void)state;
	failed_call(&OA, "badrequest:br-openai", 1, false, NULL, "400", NULL);
	failed_call(&AN, "badrequest:br-anthropic", 1, false, NULL, "400", NULL);
	failed_call(&OA, "auth:au-openai", 1, false, NULL, "401", NULL);
	failed_call(&AN, "auth:au-anthropic", 1, false, NULL, "401", NULL);
}

static void test_timeout(void **state)
{
	(void)state;
	/* An answer in 3 s with 1 s allowed: exit 4 after about a second, once (a timeout is not retried). */
	for (size_t i = 0; i < 2; i++) {
		char behaviour[64];
		snprintf(behaviour, sizeof(behaviour), "slow:3:to-%s", BOTH[i]->provider);
		double t;
		failed_call(BOTH[i], behaviour, 1, false, (const char *const[]){ "--timeout", "1s", NULL }, "time", &t);
		assert_true(t >= 0.9);
		assert_true(t < 2.9);
	}
}

static void test_malformed_answer(void **state)
{
	(void)state;
	failed_call(&OA, "malformed:mf-openai", 1, false, NULL, NULL, NULL);
	failed_call(&AN, "malformed:mf-anthropic", 1, false, NULL, NULL, NULL);
}

/* Input tokens as the fake provider reports them: the bytes of the
 * messages and the system prompt (Anthropic says so in message_start). */
static long reported_input(const adapter_case *c, const char *prompt)
{
	return (long)(strlen(prompt) + strlen(c->system));
}

/* A stream that ended early (how "cut") or failed after the 200 (how
 * "streamerror"): exit 4 naming it, the part that came printed, and usage
 * settled once at the reservation's output cap and the input as reported
 * (Anthropic reports it first) or else estimated. */
static void early_end(const char *how, const char *says_openai, const char *says_anthropic)
{
	for (size_t i = 0; i < 2; i++) {
		const adapter_case *c = BOTH[i];
		char behaviour[64];
		snprintf(behaviour, sizeof(behaviour), "%s:%s-%s", how, how, c->provider);
		use(c->model, behaviour);
		snap before = snapshot(c->model);
		run_result r;
		AI(&r, "--stream", "--model", c->model, PROMPT);
		expect_exit(&r, 4, behaviour);
		expect_in(r.err, c == &OA ? says_openai : says_anthropic, behaviour);
		expect_no_key(&r, behaviour);
		/* Some of the answer, not all of it. */
		size_t n = strlen(r.out);
		if (n > 0 && r.out[n - 1] == '\n')
			n--;
		if (n == 0 || n >= strlen(ANSWER) || strncmp(r.out, ANSWER, n) != 0)
			fail_msg("%s: printed \"%s\", expected a part of \"%s\"", behaviour, r.out, ANSWER);
		run_result_free(&r);
		assert_int_equal(fake_provider_requests(&fp, behaviour), 1);
		expect_settled_once(c->model, before, behaviour);
		event_row e;
		latest_event(c->model, &e);
		assert_int_equal(e.tokens_in, c == &AN ? reported_input(c, PROMPT) : estimate(c->system, PROMPT));
		assert_int_equal(e.tokens_out, 64);
		assert_string_equal(e.source, "ai");
		assert_int_equal(e.res_settled, e.tokens_in + e.tokens_out);
		assert_true(strncmp(e.request_id, "req_fake_", 9) == 0);
	}
}

static void test_stream_cut(void **state)
{
	(void)state;
	early_end("cut", "cut before it ended", "cut before it ended");
}

static void test_stream_error(void **state)
{
	(void)state;
	/* An error event after the 200 is not "nothing happened": text was printed and
	 * the provider counted the input; it settles like a cut stream. */
	early_end("streamerror", "server_error", "overloaded_error");
}

static void test_key_never_printed(void **state)
{
	(void)state;
	static const char *const formats[] = { "table", "tsv", "json", "ndjson", "csv" };
	static const char *const verbosity[] = { "-q", "-v", "-vv" };
	static const struct { const adapter_case *c; const char *behaviour; bool stream; int status; } calls[] = {
		{ &OA, "auth:key-openai", false, 4 },
		{ &AN, "auth:key-anthropic", false, 4 },
		{ &OA, "malformed:key-openai", false, 4 },
		{ &AN, "cut:key-anthropic", true, 4 },
		{ &OA, "streamerror:key-openai", true, 4 },
		{ &AN, "normal:key-anthropic", false, 0 },
		{ &OA, "normal:key-openai", true, 0 },
	};
	for (size_t k = 0; k < sizeof(calls) / sizeof(calls[0]); k++) {
		use(calls[k].c->model, calls[k].behaviour);
		for (size_t f = 0; f < 5; f++)
			for (size_t v = 0; v < 3; v++) {
				run_result r;
				if (calls[k].stream)
					AI(&r, "--format", formats[f], verbosity[v], "--stream", "--model", calls[k].c->model, PROMPT);
				else
					AI(&r, "--format", formats[f], verbosity[v], "--model", calls[k].c->model, PROMPT);
				char what[128];
				snprintf(what, sizeof(what), "%s --format %s %s", calls[k].behaviour, formats[f], verbosity[v]);
				expect_exit(&r, calls[k].status, what);
				expect_no_key(&r, what);
				run_result_free(&r);
			}
	}
	/* The key did travel, to the provider only. */
	json_t *req = last_request("auth:key-anthropic");
	assert_string_equal(jstr(req, "x_api_key"), KEY);
	json_decref(req);
	assert_int_equal(sqlv("SELECT count(*) FROM aiplat.quota_reservations WHERE status = 'active'", NULL), 0);
}

static void test_key_variable_unset(void **state)
{
	(void)state;
	/* The key's variable is not set: exit 4 naming it, nothing sent, the reservation released. */
	use(OA.model, "normal:nokey");
	snap before = snapshot(OA.model);
	run_result r;
	AI_ENV(&r, ((const char *const[]){ "FAKE_AI_KEY=", "AIPLAT_OPENAI_BASE_URL=", NULL }), "--model", OA.model,
	       PROMPT);
	expect_exit(&r, 4, "no key");
	expect_in(r.err, "FAKE_AI_KEY", "no key");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:nokey"), 0);
	expect_released(OA.model, before, "no key");
}

static void test_literal_key_never_printed(void **state)
{
	(void)state;
	/* A key stored encrypted (AIPLAT_SECRET_KEY) travels to the provider and nowhere else. */
	const char *const env[] = { "FAKE_AI_KEY=", "AIPLAT_SECRET_KEY=unit-test-master-secret",
	                            "AIPLAT_OPENAI_BASE_URL=", "AIPLAT_ANTHROPIC_BASE_URL=", NULL };
	run_result r;
	run_env(&r, env, (const char *const[]){ "model", "create", "--name", "Literal GPT", "--role", "literal_gpt",
	                                        "--provider", "openai", "--provider-model", "auth:literal",
	                                        "--endpoint", fp.base_url, "--api-key", "sk-live-LITERAL-77aa88bb",
	                                        "--types", "all", "--plan", "free", "--period", "monthly",
	                                        "--amount", "100000", "--max-tokens", "64", NULL });
	expect_exit(&r, 0, "model create with a literal key");
	assert_null(strstr(r.out, "LITERAL-77aa"));
	assert_null(strstr(r.err, "LITERAL-77aa"));
	run_result_free(&r);
	enable(ALICE, "acme-legal", "Literal GPT");
	static const char *const verbosity[] = { "-q", "-v", "-vv" };
	for (size_t v = 0; v < 3; v++) {
		ai_run(&r, env, AARON, "acme-legal", (const char *const[]){ verbosity[v], "--format", "json", "--model",
		                                                            "Literal GPT", PROMPT, NULL });
		expect_exit(&r, 4, verbosity[v]);
		if (strstr(r.out, "LITERAL-77aa") || strstr(r.err, "LITERAL-77aa"))
			fail_msg("%s: the key was printed:\n%s\n%s", verbosity[v], r.out, r.err);
		run_result_free(&r);
	}
	json_t *req = last_request("auth:literal");
	assert_string_equal(jstr(req, "authorization"), "Bearer sk-live-LITERAL-77aa88bb");
	json_decref(req);
	/* Not in the catalogue, not in the audit trail either. */
	assert_int_equal(sqlv("SELECT count(*) FROM aiplat.audit_logs WHERE coalesce(new_values::text, '') LIKE $1"
	                      "    OR coalesce(old_values::text, '') LIKE $1", "%LITERAL-77aa%"), 0);
	assert_int_equal(sqlv("SELECT count(*) FROM aiplat.ai_models_system WHERE name = 'Literal GPT'"
	                      "   AND api_key_ciphertext IS NOT NULL AND position('LITERAL' in"
	                      "       encode(api_key_ciphertext, 'escape')) = 0", NULL), 1);
	/* Without the secret, the key cannot be used: refused before sending, the hold released. */
	snap before = snapshot("Literal GPT");
	AI(&r, "--model", "Literal GPT", PROMPT);
	expect_exit(&r, 5, "no AIPLAT_SECRET_KEY");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "auth:literal"), 3);
	expect_released("Literal GPT", before, "no AIPLAT_SECRET_KEY");
}

static void test_other_persons_quota(void **state)
{
	(void)state;
	/* A member cannot make calls on someone else's quota. */
	use(OA.model, "normal:other-person");
	snap before = snapshot(OA.model);
	run_result r;
	AI(&r, "--user", ALICE, "--model", OA.model, PROMPT);
	expect_exit(&r, 6, "--user someone else");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:other-person"), 0);
	expect_untouched(OA.model, before, "--user someone else");
	/* The platform may, for a member. */
	run_env(&r, NULL, (const char *const[]){ "--org", "acme-legal", "--format", "json", "ai", "complete", "--user",
	                                         ALICE, "--model", OA.model, PROMPT, NULL });
	expect_exit(&r, 0, "the platform, --user");
	json_t *d = output_json(&r);
	event_row e;
	event_by_id(jstr(d, "event_id"), &e);
	assert_string_equal(e.user, ALICE);
	json_decref(d);
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:other-person"), 1);
}

/* ---- fallback ------------------------------------------------------------------------------- */

static void test_fallback(void **state)
{
	(void)state;
	/* The first model is overloaded: the fallback answers, and only it is charged. */
	use(OA.model, "overloaded:fb-primary");
	use(AN.model, "normal:fb-secondary");
	snap primary = snapshot(OA.model), secondary = snapshot(AN.model);
	run_result r;
	AI(&r, "--format", "json", "--retries", "1", "--fallback", AN.model, "--model", OA.model, PROMPT);
	expect_exit(&r, 0, "fallback");
	json_t *d = output_json(&r);
	assert_string_equal(jstr(d, "text"), ANSWER);
	assert_string_equal(jstr(d, "model"), AN.model);
	assert_string_equal(jstr(d, "provider"), "anthropic");
	assert_true(json_is_true(json_object_get(d, "fell_back")));
	assert_int_equal(jint(d, "input_tokens"), (long)(strlen(AN.system) + strlen(PROMPT)));
	event_row e;
	event_by_id(jstr(d, "event_id"), &e);
	assert_int_equal(e.tokens_in, (long)(strlen(AN.system) + strlen(PROMPT)));
	json_decref(d);
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "overloaded:fb-primary"), 2);
	assert_int_equal(fake_provider_requests(&fp, "normal:fb-secondary"), 1);
	expect_released(OA.model, primary, "fallback: the primary");
	expect_settled_once(AN.model, secondary, "fallback: the fallback");

	/* A bad request is not "unavailable": no fallback. */
	use(OA.model, "badrequest:fb-primary2");
	use(AN.model, "normal:fb-secondary2");
	primary = snapshot(OA.model);
	secondary = snapshot(AN.model);
	AI(&r, "--fallback", AN.model, "--model", OA.model, PROMPT);
	expect_exit(&r, 4, "no fallback on 400");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "badrequest:fb-primary2"), 1);
	assert_int_equal(fake_provider_requests(&fp, "normal:fb-secondary2"), 0);
	expect_released(OA.model, primary, "no fallback: the primary");
	expect_untouched(AN.model, secondary, "no fallback: the fallback");
}

static void test_fallback_attempts(void **state)
{
	(void)state;
	/* "attempts" counts the requests sent: two to the primary, one to the fallback. */
	use(OA.model, "overloaded:fa-primary");
	use(AN.model, "normal:fa-secondary");
	run_result r;
	AI(&r, "--format", "json", "--retries", "1", "--fallback", AN.model, "--model", OA.model, PROMPT);
	expect_exit(&r, 0, "fallback");
	json_t *d = output_json(&r);
	long long attempts = jint(d, "attempts");
	json_decref(d);
	run_result_free(&r);
	int sent = fake_provider_requests(&fp, "overloaded:fa-primary") + fake_provider_requests(&fp, "normal:fa-secondary");
	assert_int_equal(sent, 3);
	assert_int_equal(attempts, sent);
}

/* ---- denied before sending ------------------------------------------------------------------ */

static void test_denied_by_user_limit(void **state)
{
	(void)state;
	use(OA.model, "normal:denied");
	OK("set-limit", "--as", ALICE, "--org", "acme-legal", "model", "set-limit", OA.model, "--per-user", "10");
	snap before = snapshot(OA.model);
	run_result r;
	AI(&r, "--model", OA.model, PROMPT);
	expect_exit(&r, 1, "over the per-user limit");
	expect_in(r.err, "user_limit_exceeded", "over the per-user limit");
	assert_string_equal(r.out, "");
	run_result_free(&r);
	AI(&r, "--format", "json", "--model", OA.model, PROMPT);
	expect_exit(&r, 1, "over the per-user limit (json)");
	json_t *d = output_json(&r);
	assert_true(json_is_false(json_object_get(d, "allowed")));
	assert_string_equal(jstr(d, "reason"), "user_limit_exceeded");
	assert_int_equal(jint(d, "limit"), 10);
	json_decref(d);
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:denied"), 0);
	expect_untouched(OA.model, before, "denied");
	OK("set-limit --default", "--as", ALICE, "--org", "acme-legal", "model", "set-limit", OA.model, "--default");
	AI(&r, "--model", OA.model, PROMPT);
	expect_exit(&r, 0, "back to the model's limit");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:denied"), 1);
}

static void test_ai_flag(void **state)
{
	(void)state;
	use(OA.model, "normal:flag");
	snap before = snapshot(OA.model);
	OK("flag off", "--as", ALICE, "--org", "acme-legal", "flag", "set", "ai", "off");
	run_result r;
	AI(&r, "--model", OA.model, PROMPT);
	expect_exit(&r, 6, "ai off for the org");
	expect_in(r.err, "feature flag ai", "ai off for the org");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:flag"), 0);
	expect_untouched(OA.model, before, "ai off");

	/* Off globally, on for the organisation: the organisation's row wins. */
	OK("global off", "flag", "set", "ai", "off", "--global");
	OK("flag on", "--as", ALICE, "--org", "acme-legal", "flag", "set", "ai", "on");
	AI(&r, "--model", OA.model, PROMPT);
	expect_exit(&r, 0, "tenant on, global off");
	assert_string_equal(r.out, ANSWER "\n");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:flag"), 1);
	/* ... while an organisation without its own row follows the global one. */
	AI_AS(&r, BEN, "brightpath", "--model", OA.model, PROMPT);
	expect_exit(&r, 6, "global off, no tenant row");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:flag"), 1);
	testdb_exec(owner, "DELETE FROM aiplat.feature_flags WHERE name = 'ai'");
	testdb_exec(owner, "DELETE FROM aiplat.global_flags WHERE name = 'ai'");
}

/* ---- requests per day ------------------------------------------------------------------------- */

static void test_daily_request_limit(void **state)
{
	(void)state;
	use(OA.model, "normal:daily");
	use("Fake Free", "normal:daily-free");
	OK("daily flag", "--as", BELLA, "--org", "brightpath", "flag", "set", "ai.daily_requests", "on", "--value", "2");
	run_result r;
	RUN(&r, "--as", BEN, "--org", "brightpath", "--format", "json", "quota", "check", "--model", OA.model,
	    "--tokens", "1");
	expect_exit(&r, 0, "check before");
	json_t *d = output_json(&r);
	assert_int_equal(jint(d, "request_limit"), 2);
	assert_int_equal(jint(d, "requests_today"), 0);
	json_decref(d);
	run_result_free(&r);

	/* Two requests pass, a free model's included. */
	AI_AS(&r, BEN, "brightpath", "--model", OA.model, PROMPT);
	expect_exit(&r, 0, "first request");
	run_result_free(&r);
	AI_AS(&r, BEN, "brightpath", "--model", "Fake Free", PROMPT);
	expect_exit(&r, 0, "second request (free model)");
	run_result_free(&r);

	/* The third is denied, free model or not, and nothing is sent. */
	snap before = snapshot("Fake Free");
	AI_AS(&r, BEN, "brightpath", "--format", "json", "--model", "Fake Free", PROMPT);
	expect_exit(&r, 1, "third request (free model)");
	d = output_json(&r);
	assert_string_equal(jstr(d, "reason"), "rate_limited");
	assert_int_equal(jint(d, "limit"), 2);
	/* It resets at the next local midnight of the organisation (New York), not UTC's. */
	const char *p[1] = { jstr(d, "resets_at") };
	assert_int_equal(testdb_long(owner,
		"SELECT ($1::timestamptz = ((now() AT TIME ZONE 'America/New_York')::date + 1)::timestamp"
		"                          AT TIME ZONE 'America/New_York')::int", 1, p), 1);
	json_decref(d);
	run_result_free(&r);
	expect_untouched("Fake Free", before, "rate limited");
	AI_AS(&r, BEN, "brightpath", "--model", OA.model, PROMPT);
	expect_exit(&r, 1, "third request");
	expect_in(r.err, "rate_limited", "third request");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:daily"), 1);
	assert_int_equal(fake_provider_requests(&fp, "normal:daily-free"), 1);

	RUN(&r, "--as", BEN, "--org", "brightpath", "--format", "json", "quota", "check", "--model", OA.model,
	    "--tokens", "1");
	expect_exit(&r, 1, "check after");
	d = output_json(&r);
	assert_string_equal(jstr(d, "reason"), "rate_limited");
	assert_int_equal(jint(d, "requests_today"), 2);
	json_decref(d);
	run_result_free(&r);

	/* Per person: Bella has her own two. */
	AI_AS(&r, BELLA, "brightpath", "--model", OA.model, PROMPT);
	expect_exit(&r, 0, "another person");
	run_result_free(&r);
	testdb_exec(owner, "DELETE FROM aiplat.feature_flags WHERE name = 'ai.daily_requests'");
}

static void test_plan_daily_limit(void **state)
{
	(void)state;
	/* No flag: the plan's limit (free: 50 a day). */
	use(OA.model, "normal:plan-daily");
	run_result r;
	RUN(&r, "--as", PETE, "--org", "pixel-forge", "--format", "json", "quota", "check", "--model", OA.model,
	    "--tokens", "1");
	expect_exit(&r, 0, "check");
	json_t *d = output_json(&r);
	assert_int_equal(jint(d, "request_limit"), 50);
	json_decref(d);
	run_result_free(&r);
	/* 49 made today already (pixel-forge keeps UTC days). */
	testdb_exec(owner,
		"INSERT INTO aiplat.request_counters (organization_id, user_id, day, requests)"
		" SELECT o.id, u.id, (now() AT TIME ZONE 'UTC')::date, 49 FROM aiplat.organizations o, aiplat.users u"
		"  WHERE o.slug = 'pixel-forge' AND u.email = 'pete@pixel-forge.test'");
	AI_AS(&r, PETE, "pixel-forge", "--model", OA.model, PROMPT);
	expect_exit(&r, 0, "the 50th");
	run_result_free(&r);
	AI_AS(&r, PETE, "pixel-forge", "--format", "json", "--model", OA.model, PROMPT);
	expect_exit(&r, 1, "the 51st");
	d = output_json(&r);
	assert_string_equal(jstr(d, "reason"), "rate_limited");
	assert_int_equal(jint(d, "limit"), 50);
	json_decref(d);
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:plan-daily"), 1);
}

/* ---- tasks and prompts ------------------------------------------------------------------------ */

static const char *last_prompt_text(void)
{
	static char text[512];
	json_t *req = last_request("normal:task");
	json_t *msgs = json_object_get(json_object_get(req, "body"), "messages");
	snprintf(text, sizeof(text), "%s", jstr(json_array_get(msgs, json_array_size(msgs) - 1), "content"));
	json_decref(req);
	return text;
}

static void task_call(const char *as, const char *org, const char *const *args, const char *expect)
{
	run_result r;
	ai_run(&r, NULL, as, org, args);
	expect_exit(&r, 0, expect);
	run_result_free(&r);
	assert_string_equal(last_prompt_text(), expect);
}

#define TASK(as, org, expect, ...) task_call((as), (org), (const char *const[]){ __VA_ARGS__, NULL }, (expect))

static void test_tasks_and_prompts(void **state)
{
	(void)state;
	const char *M = "Fake Tasker";
	/* The model's task, filled from the prompt or from --var. */
	TASK(AARON, "acme-legal", "Summarise this: cats", "--model", M, "--task", "summarise", "cats");
	TASK(AARON, "acme-legal", "Summarise this: dogs", "--model", M, "--task", "summarise", "--var", "topic=dogs");
	TASK(AARON, "acme-legal", "Translate to French.\n\ngood morning", "--model", M, "--task", "plain",
	     "good morning");
	/* The reservation is sized by the filled prompt. */
	event_row e;
	latest_event(M, &e);
	assert_int_equal(e.res_tokens, estimate(NULL, "Translate to French.\n\ngood morning") + 64);

	/* A placeholder without a value: a usage error, nothing sent or reserved. */
	int sent = fake_provider_requests(&fp, "normal:task");
	snap before = snapshot(M);
	run_result r;
	AI(&r, "--model", M, "--task", "summarise");
	expect_exit(&r, 2, "task without input");
	expect_in(r.err, "topic", "task without input");
	run_result_free(&r);
	AI(&r, "--model", M, "--task", "no-such-task", "x");
	expect_exit(&r, 5, "unknown task");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:task"), sent);
	expect_untouched(M, before, "task without input");

	/* A stored prompt of that key wins over the model's task; the organisation's over the global one. */
	OK("global prompt", "prompt", "set", "summarise", "Global take on {{topic}}", "--global");
	TASK(AARON, "acme-legal", "Global take on cats", "--model", M, "--task", "summarise", "cats");
	OK("tenant prompt", "--as", ALICE, "--org", "acme-legal", "prompt", "set", "summarise", "Acme take on {{topic}}");
	TASK(AARON, "acme-legal", "Acme take on cats", "--model", M, "--task", "summarise", "cats");
	TASK(AARON, "acme-legal", "Acme take on owls", "--model", M, "--task", "summarise", "--var", "topic=owls");
	/* Only there: another organisation still gets the global one. */
	TASK(BEN, "brightpath", "Global take on cats", "--model", M, "--task", "summarise", "cats");
	/* The newest version is the one used. */
	OK("tenant prompt v2", "--as", ALICE, "--org", "acme-legal", "prompt", "set", "summarise", "Acme v2: {{topic}}");
	TASK(AARON, "acme-legal", "Acme v2: cats", "--model", M, "--task", "summarise", "cats");
	/* A stored prompt that is not a task of the model works too. */
	OK("other prompt", "prompt", "set", "haiku", "Write a haiku about {{subject}}", "--global");
	TASK(AARON, "acme-legal", "Write a haiku about rain", "--model", M, "--task", "haiku", "rain");
}

/* ---- endpoints -------------------------------------------------------------------------------- */

static void test_endpoint_override(void **state)
{
	(void)state;
	static char oa[128], an[128];
	snprintf(oa, sizeof(oa), "AIPLAT_OPENAI_BASE_URL=%s", fp.base_url);
	snprintf(an, sizeof(an), "AIPLAT_ANTHROPIC_BASE_URL=%s", fp.base_url);
	const char *const env_oa[] = { "FAKE_AI_KEY=" KEY, oa, "AIPLAT_ANTHROPIC_BASE_URL=", NULL };
	const char *const env_an[] = { "FAKE_AI_KEY=" KEY, an, "AIPLAT_OPENAI_BASE_URL=", NULL };

	/* As configured, the endpoint is nowhere: a connection failure, nothing recorded. */
	snap before = snapshot("Nowhere GPT");
	run_result r;
	AI(&r, "--retries", "0", "--model", "Nowhere GPT", PROMPT);
	expect_exit(&r, 4, "nowhere");
	expect_no_key(&r, "nowhere");
	run_result_free(&r);
	expect_released("Nowhere GPT", before, "nowhere");
	assert_int_equal(fake_provider_requests(&fp, "normal:override-oa"), 0);

	/* The environment points it at the fake. */
	before = snapshot("Nowhere GPT");
	AI_ENV(&r, env_oa, "--model", "Nowhere GPT", PROMPT);
	expect_exit(&r, 0, "AIPLAT_OPENAI_BASE_URL");
	assert_string_equal(r.out, ANSWER "\n");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:override-oa"), 1);
	expect_settled_once("Nowhere GPT", before, "AIPLAT_OPENAI_BASE_URL");

	/* Each kind has its own variable. */
	AI_ENV(&r, env_oa, "--retries", "0", "--model", "Nowhere Claude", PROMPT);
	expect_exit(&r, 4, "the OpenAI override does not move Anthropic");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:override-an"), 0);
	AI_ENV(&r, env_an, "--model", "Nowhere Claude", PROMPT);
	expect_exit(&r, 0, "AIPLAT_ANTHROPIC_BASE_URL");
	assert_string_equal(r.out, ANSWER "\n");
	run_result_free(&r);
	assert_int_equal(fake_provider_requests(&fp, "normal:override-an"), 1);
}

static void test_nothing_left_active(void **state)
{
	(void)state;
	/* After everything above: no reservation left holding quota, every settled one has its event. */
	assert_int_equal(sqlv("SELECT count(*) FROM aiplat.quota_reservations WHERE status = 'active'", NULL), 0);
	assert_int_equal(sqlv("SELECT count(*) FROM aiplat.quota_reservations r WHERE r.status = 'settled'"
	                      "   AND (SELECT count(*) FROM aiplat.usage_events e WHERE e.reservation_id = r.id) <> 1",
	                      NULL), 0);
	assert_int_equal(sqlv("SELECT count(*) FROM aiplat.usage_events e"
	                      "  JOIN aiplat.quota_reservations r ON r.id = e.reservation_id WHERE r.status <> 'settled'",
	                      NULL), 0);
	char *s = sqls("SELECT count(*) FROM aiplat.usage_events WHERE source = 'ai'", NULL);
	assert_true(atol(s) > 0);
	free(s);
}

/* The provider's numbers above the person's limit: the platform (acting
 * for aaron on the owner's connection) records them and warns; aaron's own
 * mapped login role, whose settle stays within his limit, settles at the
 * reservation, which admission let through. */
static void test_usage_above_the_limit(void **state)
{
	(void)state;
	/* A long prompt: Anthropic's fake reports its bytes as input tokens,
	 * about four times the estimate, so the real usage passes the hold. */
	char prompt[401];
	memset(prompt, 'x', 400);
	prompt[400] = '\0';
	long hold = estimate(AN.system, prompt) + 64, real = reported_input(&AN, prompt) + 7;
	assert_true(real > hold);
	use(AN.model, "normal:above-limit");
	char role[64];
	snprintf(role, sizeof(role), "t%ld_aaron_ai", (long)getpid());
	char sql[256];
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", role);
	testdb_exec(owner, sql);
	run_result r;
	RUN(&r, "-q", "user", "map-login", AARON, role, "--create");
	expect_exit(&r, 0, "map-login");
	run_result_free(&r);
	char url[1200];
	snprintf(url, sizeof(url), "%s", db.url);
	char *u = strstr(url, "user=");
	snprintf(u, sizeof(url) - (size_t)(u - url), "user=%s", role);

	for (int mapped = 0; mapped < 2; mapped++) {
		/* Room for the hold exactly, whatever aaron used before. */
		char *used = sqls("SELECT coalesce(sum(u.tokens_used), 0) FROM aiplat.ai_model_usage u"
		                  "  JOIN aiplat.users p ON p.id = u.user_id JOIN aiplat.ai_models_system m ON m.id = u.model_id"
		                  " WHERE p.email = 'aaron@acme-legal.test' AND m.name = $1"
		                  "   AND u.period_start <= now() AND u.period_end > now()", AN.model);
		char limit[32];
		snprintf(limit, sizeof(limit), "%ld", atol(used) + hold);
		free(used);
		const char *p[2] = { limit, AN.model };
		PGresult *res = PQexecParams(owner,
			"UPDATE aiplat.org_system_model_config c SET token_limit_per_user = $1::bigint"
			"  FROM aiplat.organizations o, aiplat.ai_models_system m"
			" WHERE o.id = c.organization_id AND o.slug = 'acme-legal' AND m.id = c.system_model_id AND m.name = $2",
			2, NULL, p, NULL, NULL, 0);
		assert_string_equal(PQcmdTuples(res), "1");
		PQclear(res);
		snap before = snapshot(AN.model);
		if (mapped) {
			const char *argv[] = { "--db", url, "--org", "acme-legal", "ai", "complete", "--model", AN.model,
			                       prompt, NULL };
			run_aiplat_argv(&r, NULL, ENV, argv);
		} else {
			AI(&r, "--model", AN.model, prompt);
		}
		expect_exit(&r, 0, mapped ? "above the limit, as a mapped login" : "above the limit, as the platform");
		expect_in(r.err, mapped ? "settled at the reservation" : "recorded above a limit", "the warning");
		run_result_free(&r);
		expect_settled_once(AN.model, before, "above the limit");
		event_row e;
		latest_event(AN.model, &e);
		assert_int_equal(e.tokens_in + e.tokens_out, mapped ? hold : real);
	}
	testdb_exec(owner, "UPDATE aiplat.org_system_model_config SET token_limit_per_user = NULL"
	                   " WHERE token_limit_per_user IS NOT NULL AND system_model_id ="
	                   " (SELECT id FROM aiplat.ai_models_system WHERE name = 'Fake Claude')");
	snprintf(sql, sizeof(sql), "DROP OWNED BY %s", role);
	testdb_exec(owner, sql);
	snprintf(sql, sizeof(sql), "DROP ROLE %s", role);
	testdb_exec(owner, sql);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_openai),
		cmocka_unit_test(test_complete_anthropic),
		cmocka_unit_test(test_stream_openai),
		cmocka_unit_test(test_stream_anthropic),
		cmocka_unit_test(test_max_tokens_option),
		cmocka_unit_test(test_json_mode),
		cmocka_unit_test(test_prompt_from_stdin),
		cmocka_unit_test(test_refused_before_anything),
		cmocka_unit_test(test_retry_after_seconds),
		cmocka_unit_test(test_retry_after_date),
		cmocka_unit_test(test_server_error_then_success),
		cmocka_unit_test(test_overloaded),
		cmocka_unit_test(test_retry_wait_too_long),
		cmocka_unit_test(test_spend_cap_not_retried),
		cmocka_unit_test(test_client_errors_not_retried),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_malformed_answer),
		cmocka_unit_test(test_stream_cut),
		cmocka_unit_test(test_stream_error),
		cmocka_unit_test(test_key_never_printed),
		cmocka_unit_test(test_key_variable_unset),
		cmocka_unit_test(test_literal_key_never_printed),
		cmocka_unit_test(test_other_persons_quota),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_fallback_attempts),
		cmocka_unit_test(test_denied_by_user_limit),
		cmocka_unit_test(test_ai_flag),
		cmocka_unit_test(test_daily_request_limit),
		cmocka_unit_test(test_plan_daily_limit),
		cmocka_unit_test(test_tasks_and_prompts),
		cmocka_unit_test(test_endpoint_override),
		cmocka_unit_test(test_usage_above_the_limit),
		cmocka_unit_test(test_nothing_left_active),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
