/* Unit tests for aiplat_model_validate (lib/model.c): every rule of a model
 * document with its exact message, and the document's field list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include "aiplat/error.h"
#include "aiplat/model.h"

/* ---- helpers -------------------------------------------------------------- */

static const char *const PLANS[] = { "free", "starter", "pro", "enterprise" };
static const char *const TYPES[] = { "education", "finance", "marketing", "realestate", "solicitor" };
#define NPLANS (sizeof(PLANS) / sizeof(PLANS[0]))
#define NTYPES (sizeof(TYPES) / sizeof(TYPES[0]))

/* {"name": "X", "role": "x_role", "provider_model": "gpt-4o-mini"} */
static json_t *minimal(void)
{
	json_t *doc = json_pack("{s:s, s:s, s:s}", "name", "X", "role", "x_role", "provider_model",
	                        "gpt-4o-mini");
	assert_non_null(doc);
	return doc;
}

/* Sets key to value (stolen) in doc and returns doc, for chaining. */
static json_t *set(json_t *doc, const char *key, json_t *value)
{
	assert_non_null(value);
	assert_int_equal(json_object_set_new(doc, key, value), 0);
	return doc;
}

static json_t *with(const char *key, json_t *value)
{
	return set(minimal(), key, value);
}

static json_t *without(const char *key)
{
	json_t *doc = minimal();
	assert_int_equal(json_object_del(doc, key), 0);
	return doc;
}

static json_t *str(const char *s)
{
	return json_string(s);
}

/* A string of n copies of `unit`. */
static json_t *repeat(const char *unit, size_t n)
{
	size_t len = strlen(unit);
	char buf[1024];
	assert_true(n * len < sizeof(buf));
	for (size_t i = 0; i < n; i++)
		memcpy(buf + i * len, unit, len);
	buf[n * len] = '\0';
	return json_string(buf);
}

static int validate(const json_t *doc)
{
	return aiplat_model_validate(doc, PLANS, NPLANS, TYPES, NTYPES);
}

/* Validates doc (stolen: freed before asserting, so a failure leaks nothing)
 * and expects AIPLAT_EINVALID with exactly `message`. */
static void expect_invalid(json_t *doc, const char *message, const char *file, int line)
{
	aiplat_error_clear();
	int rc = validate(doc);
	char got[1024];
	snprintf(got, sizeof(got), "%s", aiplat_error_last()->message);
	json_decref(doc);
	if (rc != AIPLAT_EINVALID)
		print_error("validate returned %d, message \"%s\"\n", rc, got);
	_assert_int_equal((LargestIntegralType)rc, (LargestIntegralType)AIPLAT_EINVALID, file, line);
	_assert_string_equal(got, message, file, line);
}
#define EXPECT_INVALID(doc, message) expect_invalid((doc), (message), __FILE__, __LINE__)

/* Validates doc (stolen) and expects success. */
static void expect_valid(json_t *doc, const char *file, int line)
{
	aiplat_error_clear();
	int rc = validate(doc);
	char got[1024];
	snprintf(got, sizeof(got), "%s", aiplat_error_last()->message);
	json_decref(doc);
	if (rc != 0) {
		print_error("validation failed (%d): %s\n", rc, got);
		_fail(file, line);
	}
	_assert_string_equal(got, "", file, line);
}
#define EXPECT_VALID(doc) expect_valid((doc), __FILE__, __LINE__)

/* Every field set, none null. */
static json_t *complete(void)
{
	json_t *doc = json_pack(
		"{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s,"
		" s:[{s:s, s:s}, {s:s, s:s}], s:[s, s], s:s, s:s, s:I, s:b, s:b, s:i, s:b, s:b,"
		" s:[s, s], s:i, s:f, s:f, s:s, s:s}",
		"id", 7,
		"name", "Blog Writer",
		"role", "blog_content_writer",
		"description", "Writes blog posts",
		"icon", "pen",
		"provider", "openai",
		"provider_model", "gpt-4o-mini",
		"endpoint", "https://api.openai.com/v1",
		"api_key", "env:OPENAI_API_KEY",
		"max_tokens", 2048,
		"system_message", "You write blog posts.",
		"tasks", "name", "Outline", "prompt", "Outline a post about {topic}",
		         "name", "Draft", "prompt", "Draft a post about {topic}",
		"organization_types", "marketing", "education",
		"required_plan", "pro",
		"token_limit_period", "monthly",
		"token_limit_amount", (json_int_t)100000,
		"is_free", 0,
		"is_trial", 1,
		"trial_expires_days", 14,
		"is_active", 1,
		"is_featured", 1,
		"tags", "writing", "blog",
		"sort_order", 3,
		"price_input_per_mtok", 0.15,
		"price_output_per_mtok", 0.6,
		"created_at", "2024-05-01T10:00:00Z",
		"updated_at", "2024-05-02T10:00:00Z");
	assert_non_null(doc);
	return doc;
}

/* ---- the whole document -------------------------------------------------------- */

static void test_minimal_document_valid(void **state)
{
	(void)state;
	EXPECT_VALID(minimal());
}

static void test_complete_document_valid(void **state)
{
	(void)state;
	EXPECT_VALID(complete());
}

static void test_complete_document_with_nulls_valid(void **state)
{
	(void)state;
	/* Every nullable field null; is_trial false so no trial days are needed. */
	json_t *doc = complete();
	const char *nullable[] = { "description", "icon", "endpoint", "api_key", "system_message",
		                   "tasks", "token_limit_period", "token_limit_amount",
		                   "trial_expires_days", "id", "created_at", "updated_at" };
	for (size_t i = 0; i < sizeof(nullable) / sizeof(nullable[0]); i++)
		set(doc, nullable[i], json_null());
	set(doc, "is_trial", json_false());
	EXPECT_VALID(doc);
}

static void test_read_only_fields_accepted(void **state)
{
	(void)state;
	/* id/created_at/updated_at come back from `model show` and are ignored. */
	EXPECT_VALID(set(set(with("id", json_integer(42)), "created_at", str("2024-05-01T10:00:00Z")),
	                 "updated_at", str("2024-05-01T10:00:00.123456+00:00")));
	EXPECT_VALID(set(set(with("id", json_null()), "created_at", json_null()), "updated_at",
	                 json_null()));
}

static void test_not_an_object(void **state)
{
	(void)state;
	EXPECT_INVALID(json_array(), "a model must be a JSON object");
	EXPECT_INVALID(str("X"), "a model must be a JSON object");
	EXPECT_INVALID(NULL, "a model must be a JSON object");
}

static void test_error_is_input_class(void **state)
{
	(void)state;
	json_t *doc = without("name");
	aiplat_error_clear();
	int rc = validate(doc);
	json_decref(doc);
	assert_int_equal(rc, AIPLAT_EINVALID);
	assert_int_equal(aiplat_error_last()->code, AIPLAT_EINVALID);
	assert_int_equal(aiplat_error_last()->klass, AIPLAT_ERRCLASS_INPUT);
}

/* ---- required fields ------------------------------------------------------------- */

static void test_required_missing(void **state)
{
	(void)state;
	EXPECT_INVALID(without("name"), "name: required");
	EXPECT_INVALID(without("role"), "role: required");
	EXPECT_INVALID(without("provider_model"), "provider_model: required");
	EXPECT_INVALID(json_object(), "name: required");
}

static void test_required_empty(void **state)
{
	(void)state;
	EXPECT_INVALID(with("name", str("")), "name: required");
	EXPECT_INVALID(with("role", str("")), "role: required");
	EXPECT_INVALID(with("provider_model", str("")), "provider_model: required");
}

static void test_required_null(void **state)
{
	(void)state;
	/* The type check comes first: null is refused before "required". */
	EXPECT_INVALID(with("name", json_null()), "name: may not be null");
	EXPECT_INVALID(with("role", json_null()), "role: may not be null");
	EXPECT_INVALID(with("provider_model", json_null()), "provider_model: may not be null");
}

static void test_unknown_field(void **state)
{
	(void)state;
	EXPECT_INVALID(with("nmae", str("X")), "unknown field \"nmae\"");
	/* Keys are case-sensitive. */
	EXPECT_INVALID(with("Name", str("X")), "unknown field \"Name\"");
	/* Database column names that differ from the document's keys are unknown. */
	EXPECT_INVALID(with("provider_kind", str("openai")), "unknown field \"provider_kind\"");
}

/* ---- types ---------------------------------------------------------------------- */

static void test_type_string(void **state)
{
	(void)state;
	EXPECT_INVALID(with("name", json_integer(5)), "name: must be a string");
	EXPECT_INVALID(with("description", json_true()), "description: must be a string");
	EXPECT_INVALID(with("endpoint", json_pack("[s]", "https://x")), "endpoint: must be a string");
	EXPECT_INVALID(with("api_key", json_integer(1234)), "api_key: must be a string");
}

static void test_type_whole_number(void **state)
{
	(void)state;
	EXPECT_INVALID(with("max_tokens", str("1024")), "max_tokens: must be a whole number");
	/* A real, even a whole one, is not an integer in JSON terms. */
	EXPECT_INVALID(with("max_tokens", json_real(1024.0)), "max_tokens: must be a whole number");
	EXPECT_INVALID(with("sort_order", json_real(1.5)), "sort_order: must be a whole number");
	EXPECT_INVALID(with("trial_expires_days", json_true()),
	               "trial_expires_days: must be a whole number");
	EXPECT_INVALID(with("token_limit_amount", str("1000")),
	               "token_limit_amount: must be a whole number");
}

static void test_type_bool(void **state)
{
	(void)state;
	EXPECT_INVALID(with("is_free", str("true")), "is_free: must be true or false");
	EXPECT_INVALID(with("is_active", json_integer(1)), "is_active: must be true or false");
	EXPECT_INVALID(with("is_trial", json_integer(0)), "is_trial: must be true or false");
	EXPECT_INVALID(with("is_featured", str("yes")), "is_featured: must be true or false");
}

static void test_type_number(void **state)
{
	(void)state;
	EXPECT_INVALID(with("price_input_per_mtok", str("0.15")),
	               "price_input_per_mtok: must be a number, zero or more");
	EXPECT_INVALID(with("price_output_per_mtok", json_false()),
	               "price_output_per_mtok: must be a number, zero or more");
}

static void test_type_list_of_strings(void **state)
{
	(void)state;
	EXPECT_INVALID(with("tags", str("writing,blog")), "tags: must be a list of strings");
	EXPECT_INVALID(with("organization_types", str("finance")),
	               "organization_types: must be a list of strings");
	EXPECT_INVALID(with("tags", json_object()), "tags: must be a list of strings");
}

static void test_type_list_item_must_be_non_empty_string(void **state)
{
	(void)state;
	EXPECT_INVALID(with("tags", json_pack("[s, i]", "a", 5)),
	               "tags: item 2 must be a non-empty string");
	EXPECT_INVALID(with("tags", json_pack("[s, s]", "", "b")),
	               "tags: item 1 must be a non-empty string");
	EXPECT_INVALID(with("organization_types", json_pack("[s, s, n]", "finance", "education")),
	               "organization_types: item 3 must be a non-empty string");
}

static void test_type_tasks(void **state)
{
	(void)state;
	EXPECT_INVALID(with("tasks", json_pack("{s:s, s:s}", "name", "a", "prompt", "b")),
	               "tasks: must be a JSON array of objects with \"name\" and \"prompt\"");
	EXPECT_INVALID(with("tasks", str("[]")),
	               "tasks: must be a JSON array of objects with \"name\" and \"prompt\"");
}

static void test_non_nullable_fields_refuse_null(void **state)
{
	(void)state;
	const char *fields[] = { "provider", "max_tokens", "organization_types", "required_plan",
		                 "is_free", "is_trial", "is_active", "is_featured", "tags",
		                 "sort_order", "price_input_per_mtok", "price_output_per_mtok" };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char want[128];
		snprintf(want, sizeof(want), "%s: may not be null", fields[i]);
		EXPECT_INVALID(with(fields[i], json_null()), want);
	}
}

static void test_nullable_fields_accept_null(void **state)
{
	(void)state;
	const char *fields[] = { "description", "icon", "endpoint", "api_key", "system_message",
		                 "tasks", "token_limit_period", "token_limit_amount",
		                 "trial_expires_days" };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		EXPECT_VALID(with(fields[i], json_null()));
}

/* ---- name and role ---------------------------------------------------------------- */

static void test_name_length(void **state)
{
	(void)state;
	EXPECT_VALID(with("name", repeat("n", 200)));
	EXPECT_INVALID(with("name", repeat("n", 201)), "name: at most 200 characters");
}

static void test_name_length_counts_characters(void **state)
{
	(void)state;
	/* Lengths count characters, as the database's length() does: 200 "é"
	 * (400 bytes in UTF-8) is a valid name. */
	EXPECT_VALID(with("name", repeat("\xc3\xa9", 200)));
	EXPECT_VALID(with("name", repeat("\xc3\xa9", 101)));
}

static void test_role_pattern_valid(void **state)
{
	(void)state;
	EXPECT_VALID(with("role", str("a")));
	EXPECT_VALID(with("role", str("blog_content_writer")));
	EXPECT_VALID(with("role", str("x1_2")));
	EXPECT_VALID(with("role", str("a_")));
	EXPECT_VALID(with("role", repeat("r", 100)));
}

static void test_role_pattern_invalid(void **state)
{
	(void)state;
#define ROLE_MSG(r) "role: \"" r "\" must be lower-case letters, digits and _, starting with a " \
	"letter (e.g. blog_content_writer)"
	EXPECT_INVALID(with("role", str("Blog_writer")), ROLE_MSG("Blog_writer"));
	EXPECT_INVALID(with("role", str("blog_Writer")), ROLE_MSG("blog_Writer"));
	EXPECT_INVALID(with("role", str("1blog")), ROLE_MSG("1blog"));
	EXPECT_INVALID(with("role", str("_blog")), ROLE_MSG("_blog"));
	EXPECT_INVALID(with("role", str("blog-writer")), ROLE_MSG("blog-writer"));
	EXPECT_INVALID(with("role", str("blog writer")), ROLE_MSG("blog writer"));
	EXPECT_INVALID(with("role", str("caf\xc3\xa9")), ROLE_MSG("caf\xc3\xa9"));
}

static void test_role_at_most_100_characters(void **state)
{
	(void)state;
	char role[102];
	memset(role, 'r', 101);
	role[101] = '\0';
	char want[300];
	snprintf(want, sizeof(want), "role: \"%s\" must be lower-case letters, digits and _, starting "
	         "with a letter (e.g. blog_content_writer)", role);
	EXPECT_INVALID(with("role", str(role)), want);
}

/* ---- provider, endpoint, max_tokens ---------------------------------------------- */

static void test_provider_valid(void **state)
{
	(void)state;
	EXPECT_VALID(with("provider", str("openai")));
	EXPECT_VALID(with("provider", str("anthropic")));
}

static void test_provider_invalid(void **state)
{
	(void)state;
	EXPECT_INVALID(with("provider", str("google")),
	               "provider: must be openai (OpenAI-compatible APIs) or anthropic, not \"google\"");
	EXPECT_INVALID(with("provider", str("OpenAI")),
	               "provider: must be openai (OpenAI-compatible APIs) or anthropic, not \"OpenAI\"");
	EXPECT_INVALID(with("provider", str("")),
	               "provider: must be openai (OpenAI-compatible APIs) or anthropic, not \"\"");
}

static void test_endpoint_valid(void **state)
{
	(void)state;
	EXPECT_VALID(with("endpoint", str("https://api.openai.com/v1")));
	EXPECT_VALID(with("endpoint", str("http://localhost:11434/v1")));
}

static void test_endpoint_invalid(void **state)
{
	(void)state;
	EXPECT_INVALID(with("endpoint", str("ftp://example.com")),
	               "endpoint: \"ftp://example.com\" must be an http:// or https:// URL");
	EXPECT_INVALID(with("endpoint", str("api.openai.com/v1")),
	               "endpoint: \"api.openai.com/v1\" must be an http:// or https:// URL");
	/* The scheme is matched exactly, as the database's '^https?://'. */
	EXPECT_INVALID(with("endpoint", str("HTTPS://api.openai.com")),
	               "endpoint: \"HTTPS://api.openai.com\" must be an http:// or https:// URL");
	EXPECT_INVALID(with("endpoint", str("https:/x")),
	               "endpoint: \"https:/x\" must be an http:// or https:// URL");
	EXPECT_INVALID(with("endpoint", str("")), "endpoint: \"\" must be an http:// or https:// URL");
}

static void test_max_tokens_positive(void **state)
{
	(void)state;
	EXPECT_VALID(with("max_tokens", json_integer(1)));
	EXPECT_INVALID(with("max_tokens", json_integer(0)), "max_tokens: must be positive");
	EXPECT_INVALID(with("max_tokens", json_integer(-1)), "max_tokens: must be positive");
}

/* ---- plans and organisation types ------------------------------------------------- */

static void test_required_plan_known(void **state)
{
	(void)state;
	for (size_t i = 0; i < NPLANS; i++)
		EXPECT_VALID(with("required_plan", str(PLANS[i])));
}

static void test_required_plan_unknown(void **state)
{
	(void)state;
	EXPECT_INVALID(with("required_plan", str("gold")),
	               "required_plan: unknown plan \"gold\" (plans: free, starter, pro, enterprise)");
	EXPECT_INVALID(with("required_plan", str("Pro")),
	               "required_plan: unknown plan \"Pro\" (plans: free, starter, pro, enterprise)");
	EXPECT_INVALID(with("required_plan", str("")),
	               "required_plan: unknown plan \"\" (plans: free, starter, pro, enterprise)");
}

static void test_organization_types_known(void **state)
{
	(void)state;
	EXPECT_VALID(with("organization_types", json_array()));   /* every type */
	EXPECT_VALID(with("organization_types", json_pack("[s, s, s, s, s]", "education", "finance",
	                                                  "marketing", "realestate", "solicitor")));
}

static void test_organization_types_unknown(void **state)
{
	(void)state;
	EXPECT_INVALID(with("organization_types", json_pack("[s, s]", "finance", "school")),
	               "organization_types: unknown organization type \"school\"");
	EXPECT_INVALID(with("organization_types", json_pack("[s]", "Finance")),
	               "organization_types: unknown organization type \"Finance\"");
}

/* ---- token limits ---------------------------------------------------------------- */

static void test_token_limit_valid(void **state)
{
	(void)state;
	const char *periods[] = { "daily", "weekly", "monthly" };
	for (size_t i = 0; i < 3; i++)
		EXPECT_VALID(set(with("token_limit_period", str(periods[i])), "token_limit_amount",
		                 json_integer(1)));
}

static void test_token_limit_period_invalid(void **state)
{
	(void)state;
	EXPECT_INVALID(set(with("token_limit_period", str("yearly")), "token_limit_amount",
	                   json_integer(1000)),
	               "token_limit_period: must be daily, weekly or monthly, not \"yearly\"");
	EXPECT_INVALID(set(with("token_limit_period", str("Monthly")), "token_limit_amount",
	                   json_integer(1000)),
	               "token_limit_period: must be daily, weekly or monthly, not \"Monthly\"");
}

static void test_token_limit_amount_positive(void **state)
{
	(void)state;
	EXPECT_INVALID(set(with("token_limit_period", str("daily")), "token_limit_amount",
	                   json_integer(0)),
	               "token_limit_amount: must be a positive number of tokens");
	EXPECT_INVALID(set(with("token_limit_period", str("daily")), "token_limit_amount",
	                   json_integer(-5)),
	               "token_limit_amount: must be a positive number of tokens");
}

static void test_token_limit_period_without_amount(void **state)
{
	(void)state;
	const char *msg = "token_limit_period is set but token_limit_amount is not: a limit needs both";
	EXPECT_INVALID(with("token_limit_period", str("monthly")), msg);
	/* null counts as not set */
	EXPECT_INVALID(set(with("token_limit_period", str("monthly")), "token_limit_amount",
	                   json_null()), msg);
}

static void test_token_limit_amount_without_period(void **state)
{
	(void)state;
	const char *msg = "token_limit_amount is set but token_limit_period is not: a limit needs both";
	EXPECT_INVALID(with("token_limit_amount", json_integer(10000)), msg);
	EXPECT_INVALID(set(with("token_limit_amount", json_integer(10000)), "token_limit_period",
	                   json_null()), msg);
}

/* ---- trials ---------------------------------------------------------------------- */

static void test_trial_needs_days(void **state)
{
	(void)state;
	const char *msg = "is_trial: a trial model needs trial_expires_days";
	EXPECT_INVALID(with("is_trial", json_true()), msg);
	EXPECT_INVALID(set(with("is_trial", json_true()), "trial_expires_days", json_null()), msg);
}

static void test_trial_with_days_valid(void **state)
{
	(void)state;
	EXPECT_VALID(set(with("is_trial", json_true()), "trial_expires_days", json_integer(14)));
	/* Not a trial: days are optional. */
	EXPECT_VALID(with("is_trial", json_false()));
}

static void test_trial_expires_days_positive(void **state)
{
	(void)state;
	const char *msg = "trial_expires_days: must be a positive number of days";
	EXPECT_INVALID(set(with("is_trial", json_true()), "trial_expires_days", json_integer(0)), msg);
	EXPECT_INVALID(with("trial_expires_days", json_integer(-1)), msg);
}

/* ---- tasks ------------------------------------------------------------------------ */

static void test_tasks_valid(void **state)
{
	(void)state;
	EXPECT_VALID(with("tasks", json_array()));
	EXPECT_VALID(with("tasks", json_pack("[{s:s, s:s}]", "name", "Outline", "prompt", "Outline it")));
	/* Extra keys in a task are allowed. */
	EXPECT_VALID(with("tasks", json_pack("[{s:s, s:s, s:s}]", "name", "A", "prompt", "B", "icon",
	                                     "pen")));
}

static void test_tasks_item_not_object(void **state)
{
	(void)state;
	EXPECT_INVALID(with("tasks", json_pack("[{s:s, s:s}, s]", "name", "a", "prompt", "b", "x")),
	               "tasks: item 2 is not an object with \"name\" and \"prompt\"");
	EXPECT_INVALID(with("tasks", json_pack("[[s, s]]", "a", "b")),
	               "tasks: item 1 is not an object with \"name\" and \"prompt\"");
}

static void test_tasks_item_missing_name(void **state)
{
	(void)state;
	EXPECT_INVALID(with("tasks", json_pack("[{s:s}]", "prompt", "b")),
	               "tasks: item 1 has no \"name\" (each task needs a non-empty \"name\" and "
	               "\"prompt\")");
	/* Missing both: "name" is named first. */
	EXPECT_INVALID(with("tasks", json_pack("[{}]")),
	               "tasks: item 1 has no \"name\" (each task needs a non-empty \"name\" and "
	               "\"prompt\")");
}

static void test_tasks_item_missing_prompt(void **state)
{
	(void)state;
	EXPECT_INVALID(with("tasks", json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s}]", "name", "a",
	                                       "prompt", "b", "name", "c", "prompt", "d", "name", "e")),
	               "tasks: item 3 has no \"prompt\" (each task needs a non-empty \"name\" and "
	               "\"prompt\")");
}

static void test_tasks_item_empty_or_non_string(void **state)
{
	(void)state;
	EXPECT_INVALID(with("tasks", json_pack("[{s:s, s:s}]", "name", "a", "prompt", "")),
	               "tasks: item 1 has no \"prompt\" (each task needs a non-empty \"name\" and "
	               "\"prompt\")");
	EXPECT_INVALID(with("tasks", json_pack("[{s:s, s:s}]", "name", "", "prompt", "b")),
	               "tasks: item 1 has no \"name\" (each task needs a non-empty \"name\" and "
	               "\"prompt\")");
	EXPECT_INVALID(with("tasks", json_pack("[{s:i, s:s}]", "name", 5, "prompt", "b")),
	               "tasks: item 1 has no \"name\" (each task needs a non-empty \"name\" and "
	               "\"prompt\")");
}

/* ---- api_key ----------------------------------------------------------------------- */

static void test_api_key_env_reference_valid(void **state)
{
	(void)state;
	EXPECT_VALID(with("api_key", str("env:OPENAI_API_KEY")));
	EXPECT_VALID(with("api_key", str("env:_PRIVATE")));
	EXPECT_VALID(with("api_key", str("env:k1")));
}

static void test_api_key_env_reference_invalid(void **state)
{
	(void)state;
	EXPECT_INVALID(with("api_key", str("env:1BAD")),
	               "api_key: \"env:1BAD\" is not a valid env:NAME reference");
	EXPECT_INVALID(with("api_key", str("env:")), "api_key: \"env:\" is not a valid env:NAME reference");
	EXPECT_INVALID(with("api_key", str("env:OPENAI-KEY")),
	               "api_key: \"env:OPENAI-KEY\" is not a valid env:NAME reference");
	EXPECT_INVALID(with("api_key", str("env:A B")),
	               "api_key: \"env:A B\" is not a valid env:NAME reference");
}

static void test_api_key_empty(void **state)
{
	(void)state;
	EXPECT_INVALID(with("api_key", str("")), "api_key: empty (use null for no key)");
}

static void test_api_key_literal_or_hint_valid(void **state)
{
	(void)state;
	/* A literal key or the masked hint are for the writer to interpret. */
	EXPECT_VALID(with("api_key", str("sk-live-1234567890abcdef")));
	EXPECT_VALID(with("api_key", str("sk-...WXYZ")));
}

/* ---- prices ------------------------------------------------------------------------ */

static void test_prices_zero_or_more(void **state)
{
	(void)state;
	EXPECT_VALID(set(with("price_input_per_mtok", json_integer(0)), "price_output_per_mtok",
	                 json_real(0.0)));
	EXPECT_VALID(set(with("price_input_per_mtok", json_integer(3)), "price_output_per_mtok",
	                 json_real(15.5)));
}

static void test_prices_negative(void **state)
{
	(void)state;
	EXPECT_INVALID(with("price_input_per_mtok", json_real(-0.01)),
	               "price_input_per_mtok: must be a number, zero or more");
	EXPECT_INVALID(with("price_output_per_mtok", json_integer(-1)),
	               "price_output_per_mtok: must be a number, zero or more");
}

/* ---- agreement with the database's constraints ------------------------------------- */

static void expect_invalid_field(json_t *doc, const char *prefix, const char *file, int line)
{
	aiplat_error_clear();
	int rc = validate(doc);
	char got[1024];
	snprintf(got, sizeof(got), "%s", aiplat_error_last()->message);
	json_decref(doc);
	if (rc != AIPLAT_EINVALID)
		print_error("validate returned %d, message \"%s\"\n", rc, got);
	_assert_int_equal((LargestIntegralType)rc, (LargestIntegralType)AIPLAT_EINVALID, file, line);
	_assert_true(!strncmp(got, prefix, strlen(prefix)), got, file, line);
}

static void test_provider_model_at_most_200_characters(void **state)
{
	(void)state;
	/* provider_model has the same 200-character bound as name. */
	EXPECT_VALID(with("provider_model", repeat("m", 200)));
	expect_invalid_field(with("provider_model", repeat("m", 201)), "provider_model:", __FILE__,
	                     __LINE__);
}

static void test_integer_columns_fit_the_database(void **state)
{
	(void)state;
	/* max_tokens, trial_expires_days and sort_order are `integer` columns:
	 * 2^31 is refused before it reaches the database. */
	EXPECT_VALID(with("max_tokens", json_integer(2147483647)));
	expect_invalid_field(with("max_tokens", json_integer(2147483648LL)), "max_tokens:", __FILE__,
	                     __LINE__);
}

/* ---- the field list ------------------------------------------------------------------ */

static void test_model_fields_order(void **state)
{
	(void)state;
	/* The aliases of MODEL_DOC_COLUMNS, in `model show` order. */
	static const char *const want[] = {
		"id", "name", "role", "description", "icon", "provider", "provider_model", "endpoint",
		"api_key", "max_tokens", "system_message", "tasks", "organization_types",
		"required_plan", "token_limit_period", "token_limit_amount", "is_free", "is_trial",
		"trial_expires_days", "is_active", "is_featured", "tags", "sort_order",
		"price_input_per_mtok", "price_output_per_mtok", "created_at", "updated_at",
	};
	size_t n = sizeof(want) / sizeof(want[0]);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(aiplat_model_fields[i]);
		assert_string_equal(aiplat_model_fields[i], want[i]);
	}
	assert_null(aiplat_model_fields[n]);
}

static void test_model_fields_match_the_document(void **state)
{
	(void)state;
	/* complete() sets every key validation knows (an unknown one would fail
	 * test_complete_document_valid); the list names exactly those. */
	json_t *doc = complete();
	size_t n = 0;
	for (; aiplat_model_fields[n]; n++) {
		if (!json_object_get(doc, aiplat_model_fields[n])) {
			json_decref(doc);
			fail_msg("aiplat_model_fields[%zu] \"%s\" is not a document key", n,
			         aiplat_model_fields[n]);
		}
	}
	size_t size = json_object_size(doc);
	json_decref(doc);
	assert_int_equal(n, size);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_document_valid),
		cmocka_unit_test(test_complete_document_valid),
		cmocka_unit_test(test_complete_document_with_nulls_valid),
		cmocka_unit_test(test_read_only_fields_accepted),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_error_is_input_class),
		cmocka_unit_test(test_required_missing),
		cmocka_unit_test(test_required_empty),
		cmocka_unit_test(test_required_null),
		cmocka_unit_test(test_unknown_field),
		cmocka_unit_test(test_type_string),
		cmocka_unit_test(test_type_whole_number),
		cmocka_unit_test(test_type_bool),
		cmocka_unit_test(test_type_number),
		cmocka_unit_test(test_type_list_of_strings),
		cmocka_unit_test(test_type_list_item_must_be_non_empty_string),
		cmocka_unit_test(test_type_tasks),
		cmocka_unit_test(test_non_nullable_fields_refuse_null),
		cmocka_unit_test(test_nullable_fields_accept_null),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_name_length_counts_characters),
		cmocka_unit_test(test_role_pattern_valid),
		cmocka_unit_test(test_role_pattern_invalid),
		cmocka_unit_test(test_role_at_most_100_characters),
		cmocka_unit_test(test_provider_valid),
		cmocka_unit_test(test_provider_invalid),
		cmocka_unit_test(test_endpoint_valid),
		cmocka_unit_test(test_endpoint_invalid),
		cmocka_unit_test(test_max_tokens_positive),
		cmocka_unit_test(test_required_plan_known),
		cmocka_unit_test(test_required_plan_unknown),
		cmocka_unit_test(test_organization_types_known),
		cmocka_unit_test(test_organization_types_unknown),
		cmocka_unit_test(test_token_limit_valid),
		cmocka_unit_test(test_token_limit_period_invalid),
		cmocka_unit_test(test_token_limit_amount_positive),
		cmocka_unit_test(test_token_limit_period_without_amount),
		cmocka_unit_test(test_token_limit_amount_without_period),
		cmocka_unit_test(test_trial_needs_days),
		cmocka_unit_test(test_trial_with_days_valid),
		cmocka_unit_test(test_trial_expires_days_positive),
		cmocka_unit_test(test_tasks_valid),
		cmocka_unit_test(test_tasks_item_not_object),
		cmocka_unit_test(test_tasks_item_missing_name),
		cmocka_unit_test(test_tasks_item_missing_prompt),
		cmocka_unit_test(test_tasks_item_empty_or_non_string),
		cmocka_unit_test(test_api_key_env_reference_valid),
		cmocka_unit_test(test_api_key_env_reference_invalid),
		cmocka_unit_test(test_api_key_empty),
		cmocka_unit_test(test_api_key_literal_or_hint_valid),
		cmocka_unit_test(test_prices_zero_or_more),
		cmocka_unit_test(test_prices_negative),
		cmocka_unit_test(test_provider_model_at_most_200_characters),
		cmocka_unit_test(test_integer_columns_fit_the_database),
		cmocka_unit_test(test_model_fields_order),
		cmocka_unit_test(test_model_fields_match_the_document),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
