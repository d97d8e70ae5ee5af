/*
 * The catalogue's rules in plain C, for explaining and presenting: why a
 * model is (not) available to an organisation, how many trial days remain,
 * which warning a usage level earns, how much of an API key may be shown.
 * The database enforces the same rules (aiplat.model_availability, the
 * policies and triggers); tests check that both agree.
 */
#ifndef AIPLAT_RULES_H
#define AIPLAT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef enum aiplat_availability {
	AIPLAT_AVAILABLE = 0,
	AIPLAT_MODEL_INACTIVE,
	AIPLAT_TYPE_NOT_TARGETED,
	AIPLAT_PLAN_INSUFFICIENT,
} aiplat_availability;

/*
 * A model is available to an organisation when it is active, targets the
 * organisation's type (or no type at all: an empty list targets every
 * type), and the organisation's plan level is at least the model's.
 * Checked in that order, as the SQL function does.
 */
aiplat_availability aiplat_model_availability(bool active, const char *const *types, size_t ntypes,
                                              const char *org_type, int required_level,
                                              int org_level);
/* "available", "model_inactive", "type_not_targeted", "plan_insufficient" */
const char *aiplat_availability_name(aiplat_availability a);

/* Plan levels: free 0 < starter 1 < pro 2 < enterprise 3 (the seeds' order). */
bool aiplat_plan_allows(int org_level, int required_level);

/*
 * Whole days of a trial left at `now` when it started at `enabled_at` and
 * lasts `trial_days`: rounded up (a trial with 1 second left has 1 day
 * left), 0 once expired.
 */
long aiplat_trial_days_left(time_t enabled_at, int trial_days, time_t now);
bool aiplat_trial_expired(time_t enabled_at, int trial_days, time_t now);

/* Seed 000 5.4: 80% approaching, 90% almost, 100% limit reached. */
typedef enum aiplat_warning {
	AIPLAT_WARN_NONE = 0,
	AIPLAT_WARN_APPROACHING,
	AIPLAT_WARN_ALMOST,
	AIPLAT_WARN_REACHED,
} aiplat_warning;

/* limit <= 0 means no limit (never a warning). */
aiplat_warning aiplat_usage_warning(long long used, long long limit);
const char *aiplat_warning_name(aiplat_warning w);   /* "", "approaching", "almost", "reached" */
/*
 * The seed's message: "Approaching token limit (8K/10K used)", "Almost at
 * limit! (9K/10K used)", "Monthly limit reached. Resets in 3 days."
 * (`period` is daily/weekly/monthly, `resets_in` a phrase such as "3 days").
 */
void aiplat_warning_message(char *buf, size_t size, aiplat_warning w, long long used,
                            long long limit, const char *period, const char *resets_in);

/* 1234 -> "1.2K", 10000 -> "10K", 2500000 -> "2.5M". */
void aiplat_short_count(char *buf, size_t size, long long n);
/* A duration as a phrase: "3 days", "5 hours", "12 minutes", "less than a minute". */
void aiplat_duration_phrase(char *buf, size_t size, long long seconds);

/*
 * What may be shown of an API key: "sk-...abcd" (the first three
 * characters and the last four) when the key is long enough to hide
 * something; shorter keys show only "...abcd" or "****".
 */
void aiplat_key_hint(char *buf, size_t size, const char *key);

#endif
