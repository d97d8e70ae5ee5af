/* Unit tests for lib/rules.c: model availability, plan levels, trials,
 * usage warnings and their messages, short counts, durations, key hints. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "aiplat/rules.h"

/* Plan levels as seeded: free 0 < starter 1 < pro 2 < enterprise 3. */
enum { FREE = 0, STARTER = 1, PRO = 2, ENTERPRISE = 3 };

static const char *const TWO_TYPES[] = { "education", "finance" };
#define NTWO (sizeof(TWO_TYPES) / sizeof(TWO_TYPES[0]))

/* ---- aiplat_model_availability -------------------------------------------- */

static void test_availability_available(void **state)
{
	(void)state;
	assert_int_equal(aiplat_model_availability(true, TWO_TYPES, NTWO, "finance", PRO, ENTERPRISE),
	                 AIPLAT_AVAILABLE);
}

static void test_availability_inactive_wins_over_everything(void **state)
{
	(void)state;
	/* Otherwise available. */
	assert_int_equal(aiplat_model_availability(false, TWO_TYPES, NTWO, "finance", FREE, ENTERPRISE),
	                 AIPLAT_MODEL_INACTIVE);
	/* Untargeted and plan too low as well: still reported as inactive. */
	assert_int_equal(aiplat_model_availability(false, TWO_TYPES, NTWO, "marketing", ENTERPRISE, FREE),
	                 AIPLAT_MODEL_INACTIVE);
	assert_int_equal(aiplat_model_availability(false, NULL, 0, NULL, ENTERPRISE, FREE),
	                 AIPLAT_MODEL_INACTIVE);
}

static void test_availability_inactive_untargeted_reports_inactive(void **state)
{
	(void)state;
	assert_int_equal(aiplat_model_availability(false, TWO_TYPES, NTWO, "solicitor", FREE, FREE),
	                 AIPLAT_MODEL_INACTIVE);
}

static void test_availability_empty_type_list_targets_every_type(void **state)
{
	(void)state;
	const char *const orgs[] = { "education", "finance", "marketing", "realestate", "solicitor",
		                     "general", "" };
	for (size_t i = 0; i < sizeof(orgs) / sizeof(orgs[0]); i++)
		assert_int_equal(aiplat_model_availability(true, NULL, 0, orgs[i], FREE, FREE),
		                 AIPLAT_AVAILABLE);
	/* A list pointer with a count of 0 is still the empty list. */
	assert_int_equal(aiplat_model_availability(true, TWO_TYPES, 0, "marketing", FREE, FREE),
	                 AIPLAT_AVAILABLE);
}

static void test_availability_empty_type_list_with_null_org_type(void **state)
{
	(void)state;
	assert_int_equal(aiplat_model_availability(true, NULL, 0, NULL, FREE, FREE), AIPLAT_AVAILABLE);
}

static void test_availability_type_in_list(void **state)
{
	(void)state;
	/* First and last element of the list. */
	assert_int_equal(aiplat_model_availability(true, TWO_TYPES, NTWO, "education", FREE, FREE),
	                 AIPLAT_AVAILABLE);
	assert_int_equal(aiplat_model_availability(true, TWO_TYPES, NTWO, "finance", FREE, FREE),
	                 AIPLAT_AVAILABLE);
	const char *const one[] = { "solicitor" };
	assert_int_equal(aiplat_model_availability(true, one, 1, "solicitor", FREE, FREE),
	                 AIPLAT_AVAILABLE);
}

static void test_availability_type_not_in_list(void **state)
{
	(void)state;
	assert_int_equal(aiplat_model_availability(true, TWO_TYPES, NTWO, "marketing", FREE, FREE),
	                 AIPLAT_TYPE_NOT_TARGETED);
	const char *const one[] = { "solicitor" };
	assert_int_equal(aiplat_model_availability(true, one, 1, "education", FREE, FREE),
	                 AIPLAT_TYPE_NOT_TARGETED);
}

static void test_availability_type_match_is_exact(void **state)
{
	(void)state;
	/* Prefixes, extensions, padding and the empty string are not matches. */
	const char *const near[] = { "financ", "finances", "finance ", " finance", "", "educationfinance" };
	for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++)
		assert_int_equal(aiplat_model_availability(true, TWO_TYPES, NTWO, near[i], FREE, FREE),
		                 AIPLAT_TYPE_NOT_TARGETED);
}

static void test_availability_type_match_is_case_sensitive(void **state)
{
	(void)state;
	assert_int_equal(aiplat_model_availability(true, TWO_TYPES, NTWO, "Finance", FREE, FREE),
	                 AIPLAT_TYPE_NOT_TARGETED);
	assert_int_equal(aiplat_model_availability(true, TWO_TYPES, NTWO, "FINANCE", FREE, FREE),
	                 AIPLAT_TYPE_NOT_TARGETED);
	const char *const upper[] = { "Education" };
	assert_int_equal(aiplat_model_availability(true, upper, 1, "education", FREE, FREE),
	                 AIPLAT_TYPE_NOT_TARGETED);
}

static void test_availability_null_org_type_against_list(void **state)
{
	(void)state;
	/* An organisation without a type is not targeted by a non-empty list. */
	assert_int_equal(aiplat_model_availability(true, TWO_TYPES, NTWO, NULL, FREE, ENTERPRISE),
	                 AIPLAT_TYPE_NOT_TARGETED);
}

static void test_availability_plan_equal_level_allowed(void **state)
{
	(void)state;
	for (int level = FREE; level <= ENTERPRISE; level++)
		assert_int_equal(aiplat_model_availability(true, NULL, 0, "finance", level, level),
		                 AIPLAT_AVAILABLE);
}

static void test_availability_plan_higher_level_allowed(void **state)
{
	(void)state;
	assert_int_equal(aiplat_model_availability(true, NULL, 0, "finance", STARTER, PRO),
	                 AIPLAT_AVAILABLE);
	assert_int_equal(aiplat_model_availability(true, NULL, 0, "finance", FREE, ENTERPRISE),
	                 AIPLAT_AVAILABLE);
}

static void test_availability_plan_lower_level_insufficient(void **state)
{
	(void)state;
	assert_int_equal(aiplat_model_availability(true, NULL, 0, "finance", PRO, STARTER),
	                 AIPLAT_PLAN_INSUFFICIENT);
	assert_int_equal(aiplat_model_availability(true, NULL, 0, "finance", ENTERPRISE, FREE),
	                 AIPLAT_PLAN_INSUFFICIENT);
}

static void test_availability_targeted_low_plan_reports_plan(void **state)
{
	(void)state;
	assert_int_equal(aiplat_model_availability(true, TWO_TYPES, NTWO, "education", ENTERPRISE, PRO),
	                 AIPLAT_PLAN_INSUFFICIENT);
}

static void test_availability_untargeted_low_plan_reports_type(void **state)
{
	(void)state;
	/* Type is checked before plan. */
	assert_int_equal(aiplat_model_availability(true, TWO_TYPES, NTWO, "marketing", ENTERPRISE, FREE),
	                 AIPLAT_TYPE_NOT_TARGETED);
}

static void test_availability_names(void **state)
{
	(void)state;
	assert_string_equal(aiplat_availability_name(AIPLAT_AVAILABLE), "available");
	assert_string_equal(aiplat_availability_name(AIPLAT_MODEL_INACTIVE), "model_inactive");
	assert_string_equal(aiplat_availability_name(AIPLAT_TYPE_NOT_TARGETED), "type_not_targeted");
	assert_string_equal(aiplat_availability_name(AIPLAT_PLAN_INSUFFICIENT), "plan_insufficient");
}

static void test_availability_name_out_of_range(void **state)
{
	(void)state;
	assert_string_equal(aiplat_availability_name((aiplat_availability)99), "?");
}

/* ---- aiplat_plan_allows ----------------------------------------------------- */

static void test_plan_allows_all_pairs(void **state)
{
	(void)state;
	/* allowed[org][required]: an organisation may use a model of its own
	 * plan or any lower plan. */
	static const bool allowed[4][4] = {
		/* required:  free   starter pro    enterprise */
		/* free    */ { true, false, false, false },
		/* starter */ { true, true,  false, false },
		/* pro     */ { true, true,  true,  false },
		/* enterp. */ { true, true,  true,  true  },
	};
	for (int org = FREE; org <= ENTERPRISE; org++) {
		for (int req = FREE; req <= ENTERPRISE; req++) {
			if (aiplat_plan_allows(org, req) != allowed[org][req])
				fail_msg("aiplat_plan_allows(org %d, required %d) should be %s", org, req,
				         allowed[org][req] ? "true" : "false");
		}
	}
}

/* ---- trials ------------------------------------------------------------------ */

#define DAY 86400
static const time_t ENABLED = 1700000000;   /* 2023-11-14T22:13:20Z */

static void test_trial_at_enable_time_full_days(void **state)
{
	(void)state;
	assert_int_equal(aiplat_trial_days_left(ENABLED, 30, ENABLED), 30);
	assert_false(aiplat_trial_expired(ENABLED, 30, ENABLED));
	assert_int_equal(aiplat_trial_days_left(ENABLED, 1, ENABLED), 1);
}

static void test_trial_one_second_after_enable(void **state)
{
	(void)state;
	/* 29 days 23:59:59 left rounds up to 30. */
	assert_int_equal(aiplat_trial_days_left(ENABLED, 30, ENABLED + 1), 30);
	assert_false(aiplat_trial_expired(ENABLED, 30, ENABLED + 1));
}

static void test_trial_exactly_at_expiry(void **state)
{
	(void)state;
	assert_int_equal(aiplat_trial_days_left(ENABLED, 30, ENABLED + 30 * DAY), 0);
	assert_true(aiplat_trial_expired(ENABLED, 30, ENABLED + 30 * DAY));
}

static void test_trial_one_second_before_expiry(void **state)
{
	(void)state;
	assert_int_equal(aiplat_trial_days_left(ENABLED, 30, ENABLED + 30 * DAY - 1), 1);
	assert_false(aiplat_trial_expired(ENABLED, 30, ENABLED + 30 * DAY - 1));
}

static void test_trial_far_past(void **state)
{
	(void)state;
	time_t later = ENABLED + 30 * DAY + 1;
	assert_int_equal(aiplat_trial_days_left(ENABLED, 30, later), 0);
	assert_true(aiplat_trial_expired(ENABLED, 30, later));
	later = ENABLED + 10 * 365 * (time_t)DAY;
	assert_int_equal(aiplat_trial_days_left(ENABLED, 30, later), 0);
	assert_true(aiplat_trial_expired(ENABLED, 30, later));
}

static void test_trial_rounds_partial_days_up(void **state)
{
	(void)state;
	/* 29.5 days left -> 30; exactly 29 days left -> 29; 28 days and 1 s -> 29. */
	assert_int_equal(aiplat_trial_days_left(ENABLED, 30, ENABLED + DAY / 2), 30);
	assert_int_equal(aiplat_trial_days_left(ENABLED, 30, ENABLED + DAY), 29);
	assert_int_equal(aiplat_trial_days_left(ENABLED, 30, ENABLED + 2 * DAY - 1), 29);
	assert_int_equal(aiplat_trial_days_left(ENABLED, 30, ENABLED + 29 * DAY), 1);
	assert_int_equal(aiplat_trial_days_left(ENABLED, 30, ENABLED + 29 * DAY + DAY / 2), 1);
}

static void test_trial_large_days_no_overflow(void **state)
{
	(void)state;
	/* 3650 days = 315,360,000 s. */
	assert_int_equal(aiplat_trial_days_left(ENABLED, 3650, ENABLED), 3650);
	assert_int_equal(aiplat_trial_days_left(ENABLED, 3650, ENABLED + 1), 3650);
	assert_int_equal(aiplat_trial_days_left(ENABLED, 3650, ENABLED + 3650 * (time_t)DAY - 1), 1);
	assert_int_equal(aiplat_trial_days_left(ENABLED, 3650, ENABLED + 3650 * (time_t)DAY), 0);
	/* INT_MAX days does not fit in int seconds; the result is still exact. */
	assert_int_equal(aiplat_trial_days_left(ENABLED, INT_MAX, ENABLED), INT_MAX);
	assert_false(aiplat_trial_expired(ENABLED, INT_MAX, ENABLED));
}

static void test_trial_zero_days_expired_at_once(void **state)
{
	(void)state;
	assert_int_equal(aiplat_trial_days_left(ENABLED, 0, ENABLED), 0);
	assert_true(aiplat_trial_expired(ENABLED, 0, ENABLED));
}

static void test_trial_expired_agrees_with_days_left(void **state)
{
	(void)state;
	for (time_t t = ENABLED; t <= ENABLED + 8 * DAY; t += 3 * 3600 + 7) {
		long left = aiplat_trial_days_left(ENABLED, 7, t);
		assert_in_range(left, 0, 7);
		assert_int_equal(aiplat_trial_expired(ENABLED, 7, t), left == 0);
	}
}

/* ---- aiplat_usage_warning --------------------------------------------------- */

static void test_warning_limit_10(void **state)
{
	(void)state;
	for (long long used = 0; used <= 7; used++)
		assert_int_equal(aiplat_usage_warning(used, 10), AIPLAT_WARN_NONE);
	assert_int_equal(aiplat_usage_warning(8, 10), AIPLAT_WARN_APPROACHING);    /* 80% */
	assert_int_equal(aiplat_usage_warning(9, 10), AIPLAT_WARN_ALMOST);         /* 90% */
	assert_int_equal(aiplat_usage_warning(10, 10), AIPLAT_WARN_REACHED);       /* 100% */
	assert_int_equal(aiplat_usage_warning(15, 10), AIPLAT_WARN_REACHED);       /* 150% */
}

static void test_warning_limit_100_percent_boundaries(void **state)
{
	(void)state;
	assert_int_equal(aiplat_usage_warning(79, 100), AIPLAT_WARN_NONE);
	assert_int_equal(aiplat_usage_warning(80, 100), AIPLAT_WARN_APPROACHING);
	assert_int_equal(aiplat_usage_warning(89, 100), AIPLAT_WARN_APPROACHING);
	assert_int_equal(aiplat_usage_warning(90, 100), AIPLAT_WARN_ALMOST);
	assert_int_equal(aiplat_usage_warning(99, 100), AIPLAT_WARN_ALMOST);
	assert_int_equal(aiplat_usage_warning(100, 100), AIPLAT_WARN_REACHED);
	assert_int_equal(aiplat_usage_warning(150, 100), AIPLAT_WARN_REACHED);
}

static void test_warning_limit_10000(void **state)
{
	(void)state;
	assert_int_equal(aiplat_usage_warning(7900, 10000), AIPLAT_WARN_NONE);         /* 79% */
	assert_int_equal(aiplat_usage_warning(7999, 10000), AIPLAT_WARN_NONE);
	assert_int_equal(aiplat_usage_warning(8000, 10000), AIPLAT_WARN_APPROACHING);  /* 80% */
	assert_int_equal(aiplat_usage_warning(8900, 10000), AIPLAT_WARN_APPROACHING);  /* 89% */
	assert_int_equal(aiplat_usage_warning(8999, 10000), AIPLAT_WARN_APPROACHING);
	assert_int_equal(aiplat_usage_warning(9000, 10000), AIPLAT_WARN_ALMOST);       /* 90% */
	assert_int_equal(aiplat_usage_warning(9900, 10000), AIPLAT_WARN_ALMOST);       /* 99% */
	assert_int_equal(aiplat_usage_warning(9999, 10000), AIPLAT_WARN_ALMOST);
	assert_int_equal(aiplat_usage_warning(10000, 10000), AIPLAT_WARN_REACHED);     /* 100% */
	assert_int_equal(aiplat_usage_warning(15000, 10000), AIPLAT_WARN_REACHED);     /* 150% */
}

static void test_warning_no_limit(void **state)
{
	(void)state;
	/* limit 0 or negative: no limit, never a warning however much is used. */
	assert_int_equal(aiplat_usage_warning(0, 0), AIPLAT_WARN_NONE);
	assert_int_equal(aiplat_usage_warning(5, 0), AIPLAT_WARN_NONE);
	assert_int_equal(aiplat_usage_warning(LLONG_MAX, 0), AIPLAT_WARN_NONE);
	assert_int_equal(aiplat_usage_warning(100, -1), AIPLAT_WARN_NONE);
	assert_int_equal(aiplat_usage_warning(100, -10000), AIPLAT_WARN_NONE);
}

static void test_warning_limit_3_no_rounding(void **state)
{
	(void)state;
	/* 80% of 3 is 2.4 and 90% is 2.7: 2 (66.7%) is below both. */
	assert_int_equal(aiplat_usage_warning(0, 3), AIPLAT_WARN_NONE);
	assert_int_equal(aiplat_usage_warning(1, 3), AIPLAT_WARN_NONE);
	assert_int_equal(aiplat_usage_warning(2, 3), AIPLAT_WARN_NONE);
	assert_int_equal(aiplat_usage_warning(3, 3), AIPLAT_WARN_REACHED);
}

static void test_warning_exact_fractions(void **state)
{
	(void)state;
	/* 4/5 is exactly 80% and 9/10 of 1,000,000,000 exactly 90%. */
	assert_int_equal(aiplat_usage_warning(4, 5), AIPLAT_WARN_APPROACHING);
	assert_int_equal(aiplat_usage_warning(899999999, 1000000000), AIPLAT_WARN_APPROACHING);
	assert_int_equal(aiplat_usage_warning(900000000, 1000000000), AIPLAT_WARN_ALMOST);
	assert_int_equal(aiplat_usage_warning(0, 1), AIPLAT_WARN_NONE);
	assert_int_equal(aiplat_usage_warning(1, 1), AIPLAT_WARN_REACHED);
}

static void test_warning_names(void **state)
{
	(void)state;
	assert_string_equal(aiplat_warning_name(AIPLAT_WARN_NONE), "");
	assert_string_equal(aiplat_warning_name(AIPLAT_WARN_APPROACHING), "approaching");
	assert_string_equal(aiplat_warning_name(AIPLAT_WARN_ALMOST), "almost");
	assert_string_equal(aiplat_warning_name(AIPLAT_WARN_REACHED), "reached");
	assert_string_equal(aiplat_warning_name((aiplat_warning)42), "");
}

/* ---- aiplat_warning_message ------------------------------------------------- */

static void test_message_approaching(void **state)
{
	(void)state;
	char buf[128];
	aiplat_warning_message(buf, sizeof(buf), AIPLAT_WARN_APPROACHING, 8000, 10000, "monthly",
	                       "3 days");
	assert_string_equal(buf, "Approaching token limit (8K/10K used)");
}

static void test_message_approaching_fractional_counts(void **state)
{
	(void)state;
	char buf[128];
	aiplat_warning_message(buf, sizeof(buf), AIPLAT_WARN_APPROACHING, 8234, 10000, "monthly", NULL);
	assert_string_equal(buf, "Approaching token limit (8.2K/10K used)");
}

static void test_message_almost(void **state)
{
	(void)state;
	char buf[128];
	aiplat_warning_message(buf, sizeof(buf), AIPLAT_WARN_ALMOST, 9000, 10000, "monthly", "3 days");
	assert_string_equal(buf, "Almost at limit! (9K/10K used)");
}

static void test_message_reached_monthly(void **state)
{
	(void)state;
	char buf[128];
	aiplat_warning_message(buf, sizeof(buf), AIPLAT_WARN_REACHED, 10000, 10000, "monthly",
	                       "3 days");
	assert_string_equal(buf, "Monthly limit reached. Resets in 3 days.");
}

static void test_message_reached_daily(void **state)
{
	(void)state;
	char buf[128];
	aiplat_warning_message(buf, sizeof(buf), AIPLAT_WARN_REACHED, 500, 500, "daily", "5 hours");
	assert_string_equal(buf, "Daily limit reached. Resets in 5 hours.");
}

static void test_message_reached_weekly(void **state)
{
	(void)state;
	char buf[128];
	aiplat_warning_message(buf, sizeof(buf), AIPLAT_WARN_REACHED, 12000, 10000, "weekly", "1 day");
	assert_string_equal(buf, "Weekly limit reached. Resets in 1 day.");
}

static void test_message_reached_without_period_is_monthly(void **state)
{
	(void)state;
	char buf[128];
	aiplat_warning_message(buf, sizeof(buf), AIPLAT_WARN_REACHED, 10, 10, NULL, "2 days");
	assert_string_equal(buf, "Monthly limit reached. Resets in 2 days.");
	aiplat_warning_message(buf, sizeof(buf), AIPLAT_WARN_REACHED, 10, 10, "yearly", "2 days");
	assert_string_equal(buf, "Monthly limit reached. Resets in 2 days.");
}

static void test_message_reached_without_resets_in(void **state)
{
	(void)state;
	char buf[128];
	aiplat_warning_message(buf, sizeof(buf), AIPLAT_WARN_REACHED, 10, 10, "daily", NULL);
	assert_string_equal(buf, "Daily limit reached. Resets in ?.");
}

static void test_message_none_is_empty(void **state)
{
	(void)state;
	char buf[128];
	memset(buf, 'x', sizeof(buf));
	aiplat_warning_message(buf, sizeof(buf), AIPLAT_WARN_NONE, 10, 10000, "monthly", "3 days");
	assert_string_equal(buf, "");
}

static void test_message_truncated_to_buffer(void **state)
{
	(void)state;
	char buf[16];
	memset(buf, '#', sizeof(buf));
	aiplat_warning_message(buf, 10, AIPLAT_WARN_APPROACHING, 8000, 10000, "monthly", "3 days");
	assert_string_equal(buf, "Approachi");
	/* Nothing written past the given size. */
	for (size_t i = 10; i < sizeof(buf); i++)
		assert_int_equal(buf[i], '#');
}

/* ---- aiplat_short_count ----------------------------------------------------- */

static void expect_short(long long n, const char *want, const char *file, int line)
{
	char buf[32];
	aiplat_short_count(buf, sizeof(buf), n);
	_assert_string_equal(buf, want, file, line);
}
#define EXPECT_SHORT(n, want) expect_short((n), (want), __FILE__, __LINE__)

static void test_short_count_below_thousand_verbatim(void **state)
{
	(void)state;
	EXPECT_SHORT(0, "0");
	EXPECT_SHORT(7, "7");
	EXPECT_SHORT(999, "999");
}

static void test_short_count_thousands(void **state)
{
	(void)state;
	EXPECT_SHORT(1000, "1K");
	EXPECT_SHORT(1234, "1.2K");
	EXPECT_SHORT(10000, "10K");
	EXPECT_SHORT(123456, "123K");
}

static void test_short_count_truncates_not_rounds(void **state)
{
	(void)state;
	/* One decimal, cut off rather than rounded. */
	EXPECT_SHORT(1250, "1.2K");
	EXPECT_SHORT(1299, "1.2K");
	EXPECT_SHORT(9999, "9.9K");
	EXPECT_SHORT(99999, "99.9K");
	EXPECT_SHORT(2399999, "2.3M");
}

static void test_short_count_decimal_digits_exact(void **state)
{
	(void)state;
	/* 2.3 and 4.1 are not exact in binary; the truncation must not lose a tenth. */
	EXPECT_SHORT(2300, "2.3K");
	EXPECT_SHORT(4100, "4.1K");
	EXPECT_SHORT(8200, "8.2K");
	EXPECT_SHORT(9900, "9.9K");
	EXPECT_SHORT(1100000, "1.1M");
}

static void test_short_count_below_a_million_stays_below(void **state)
{
	(void)state;
	/* A short count truncates, as 9999 -> "9.9K" does, and never shows four
	 * digits before the unit: 999,999 is "999K", not "1000K". */
	EXPECT_SHORT(999999, "999K");
	EXPECT_SHORT(999999999, "999M");
}

static void test_short_count_millions(void **state)
{
	(void)state;
	EXPECT_SHORT(1000000, "1M");
	EXPECT_SHORT(2500000, "2.5M");
	EXPECT_SHORT(123456789, "123M");
}

static void test_short_count_billions(void **state)
{
	(void)state;
	EXPECT_SHORT(1000000000LL, "1B");
	EXPECT_SHORT(1234567890LL, "1.2B");
	EXPECT_SHORT(5000000000LL, "5B");
}

/* ---- aiplat_duration_phrase -------------------------------------------------- */

static void expect_duration(long long s, const char *want, const char *file, int line)
{
	char buf[64];
	aiplat_duration_phrase(buf, sizeof(buf), s);
	_assert_string_equal(buf, want, file, line);
}
#define EXPECT_DURATION(s, want) expect_duration((s), (want), __FILE__, __LINE__)

static void test_duration_under_a_minute(void **state)
{
	(void)state;
	EXPECT_DURATION(0, "less than a minute");
	EXPECT_DURATION(59, "less than a minute");
	EXPECT_DURATION(-5, "less than a minute");
}

static void test_duration_minutes(void **state)
{
	(void)state;
	EXPECT_DURATION(60, "1 minute");
	EXPECT_DURATION(61, "1 minute");
	EXPECT_DURATION(119, "1 minute");
	EXPECT_DURATION(120, "2 minutes");
	EXPECT_DURATION(3599, "59 minutes");
}

static void test_duration_hours(void **state)
{
	(void)state;
	EXPECT_DURATION(3600, "1 hour");
	EXPECT_DURATION(7199, "1 hour");
	EXPECT_DURATION(7200, "2 hours");
	EXPECT_DURATION(86399, "23 hours");
}

static void test_duration_days(void **state)
{
	(void)state;
	EXPECT_DURATION(86400, "1 day");
	EXPECT_DURATION(172799, "1 day");
	EXPECT_DURATION(172800, "2 days");
	EXPECT_DURATION(30LL * 86400, "30 days");
}

/* ---- aiplat_key_hint ------------------------------------------------------- */

static void expect_hint(const char *key, const char *want, const char *file, int line)
{
	char buf[64];
	aiplat_key_hint(buf, sizeof(buf), key);
	_assert_string_equal(buf, want, file, line);
}
#define EXPECT_HINT(key, want) expect_hint((key), (want), __FILE__, __LINE__)

static void test_key_hint_long_key(void **state)
{
	(void)state;
	EXPECT_HINT("sk-live-1234567890abcdefWXYZ", "sk-...WXYZ");
}

static void test_key_hint_twelve_chars_shows_prefix(void **state)
{
	(void)state;
	EXPECT_HINT("abcdefghijkl", "abc...ijkl");
}

static void test_key_hint_eight_to_eleven_chars_suffix_only(void **state)
{
	(void)state;
	EXPECT_HINT("abcdefghijk", "...hijk");
	EXPECT_HINT("abcdefgh", "...efgh");
}

static void test_key_hint_short_empty_null_masked(void **state)
{
	(void)state;
	EXPECT_HINT("abcdefg", "****");
	EXPECT_HINT("a", "****");
	EXPECT_HINT("", "****");
	EXPECT_HINT(NULL, "****");
}

/* Key of length n from a small deterministic generator (letters and digits,
 * no '.' or '*', so every such character in a hint came from the key). */
static void make_key(char *key, size_t n, unsigned seed)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned x = seed * 2654435761u + 12345u;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		key[i] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
	}
	key[n] = '\0';
}

static void test_key_hint_never_reveals_the_middle(void **state)
{
	(void)state;
	char key[65], hint[64];
	for (size_t n = 0; n <= 64; n++) {
		for (unsigned seed = 0; seed < 8; seed++) {
			make_key(key, n, (unsigned)n * 31u + seed);
			aiplat_key_hint(hint, sizeof(hint), key);
			/* At most 7 characters of the key (3 first + 4 last). */
			size_t shown = 0;
			for (const char *p = hint; *p; p++)
				shown += *p != '.' && *p != '*';
			if (shown > 7)
				fail_msg("key of %zu chars: hint \"%s\" shows %zu characters", n, hint, shown);
			/* The hidden part: all but the first 3 (keys of 12+) and the last 4
			 * (keys of 8+); the whole key when shorter. */
			size_t from = n >= 12 ? 3 : 0, to = n >= 8 ? n - 4 : n;
			for (size_t i = from; i + 5 <= to; i++) {
				char piece[6];
				memcpy(piece, key + i, 5);
				piece[5] = '\0';
				if (strstr(hint, piece))
					fail_msg("key \"%s\": hint \"%s\" contains \"%s\"", key, hint, piece);
			}
		}
	}
}

/* Last: with AIPLAT_SANITIZE the overflow below ends the whole program. */
static void test_warning_huge_limit_no_overflow(void **state)
{
	(void)state;
	/* token_limit_amount is a bigint: limits above LLONG_MAX/9 (about 1.02e18)
	 * must not overflow the percentage comparison (UBSan would end the
	 * program; wrapped products would make 50% "almost" and 95% "none"). */
	const long long limit = 9000000000000000000LL;
	assert_int_equal(aiplat_usage_warning(limit / 2, limit), AIPLAT_WARN_NONE);
	assert_int_equal(aiplat_usage_warning(limit / 100 * 85, limit), AIPLAT_WARN_APPROACHING);
	assert_int_equal(aiplat_usage_warning(limit / 100 * 95, limit), AIPLAT_WARN_ALMOST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_availability_available),
		cmocka_unit_test(test_availability_inactive_wins_over_everything),
		cmocka_unit_test(test_availability_inactive_untargeted_reports_inactive),
		cmocka_unit_test(test_availability_empty_type_list_targets_every_type),
		cmocka_unit_test(test_availability_empty_type_list_with_null_org_type),
		cmocka_unit_test(test_availability_type_in_list),
		cmocka_unit_test(test_availability_type_not_in_list),
		cmocka_unit_test(test_availability_type_match_is_exact),
		cmocka_unit_test(test_availability_type_match_is_case_sensitive),
		cmocka_unit_test(test_availability_null_org_type_against_list),
		cmocka_unit_test(test_availability_plan_equal_level_allowed),
		cmocka_unit_test(test_availability_plan_higher_level_allowed),
		cmocka_unit_test(test_availability_plan_lower_level_insufficient),
		cmocka_unit_test(test_availability_targeted_low_plan_reports_plan),
		cmocka_unit_test(test_availability_untargeted_low_plan_reports_type),
		cmocka_unit_test(test_availability_names),
		cmocka_unit_test(test_availability_name_out_of_range),
		cmocka_unit_test(test_plan_allows_all_pairs),
		cmocka_unit_test(test_trial_at_enable_time_full_days),
		cmocka_unit_test(test_trial_one_second_after_enable),
		cmocka_unit_test(test_trial_exactly_at_expiry),
		cmocka_unit_test(test_trial_one_second_before_expiry),
		cmocka_unit_test(test_trial_far_past),
		cmocka_unit_test(test_trial_rounds_partial_days_up),
		cmocka_unit_test(test_trial_large_days_no_overflow),
		cmocka_unit_test(test_trial_zero_days_expired_at_once),
		cmocka_unit_test(test_trial_expired_agrees_with_days_left),
		cmocka_unit_test(test_warning_limit_10),
		cmocka_unit_test(test_warning_limit_100_percent_boundaries),
		cmocka_unit_test(test_warning_limit_10000),
		cmocka_unit_test(test_warning_no_limit),
		cmocka_unit_test(test_warning_limit_3_no_rounding),
		cmocka_unit_test(test_warning_exact_fractions),
		cmocka_unit_test(test_warning_names),
		cmocka_unit_test(test_message_approaching),
		cmocka_unit_test(test_message_approaching_fractional_counts),
		cmocka_unit_test(test_message_almost),
		cmocka_unit_test(test_message_reached_monthly),
		cmocka_unit_test(test_message_reached_daily),
		cmocka_unit_test(test_message_reached_weekly),
		cmocka_unit_test(test_message_reached_without_period_is_monthly),
		cmocka_unit_test(test_message_reached_without_resets_in),
		cmocka_unit_test(test_message_none_is_empty),
		cmocka_unit_test(test_message_truncated_to_buffer),
		cmocka_unit_test(test_short_count_below_thousand_verbatim),
		cmocka_unit_test(test_short_count_thousands),
		cmocka_unit_test(test_short_count_truncates_not_rounds),
		cmocka_unit_test(test_short_count_decimal_digits_exact),
		cmocka_unit_test(test_short_count_below_a_million_stays_below),
		cmocka_unit_test(test_short_count_millions),
		cmocka_unit_test(test_short_count_billions),
		cmocka_unit_test(test_duration_under_a_minute),
		cmocka_unit_test(test_duration_minutes),
		cmocka_unit_test(test_duration_hours),
		cmocka_unit_test(test_duration_days),
		cmocka_unit_test(test_key_hint_long_key),
		cmocka_unit_test(test_key_hint_twelve_chars_shows_prefix),
		cmocka_unit_test(test_key_hint_eight_to_eleven_chars_suffix_only),
		cmocka_unit_test(test_key_hint_short_empty_null_masked),
		cmocka_unit_test(test_key_hint_never_reveals_the_middle),
		cmocka_unit_test(test_warning_huge_limit_no_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
