/* The catalogue's rules, for presentation (see aiplat/rules.h). */
#include <stdio.h>
#include <string.h>
#include "aiplat/rules.h"

aiplat_availability aiplat_model_availability(bool active, const char *const *types, size_t ntypes,
                                              const char *org_type, int required_level,
                                              int org_level)
{
	if (!active)
		return AIPLAT_MODEL_INACTIVE;
	if (ntypes > 0) {
		bool targeted = false;
		for (size_t i = 0; i < ntypes && !targeted; i++)
			targeted = org_type && !strcmp(types[i], org_type);
		if (!targeted)
			return AIPLAT_TYPE_NOT_TARGETED;
	}
	if (!aiplat_plan_allows(org_level, required_level))
		return AIPLAT_PLAN_INSUFFICIENT;
	return AIPLAT_AVAILABLE;
}

const char *aiplat_availability_name(aiplat_availability a)
{
	switch (a) {
	case AIPLAT_AVAILABLE:         return "available";
	case AIPLAT_MODEL_INACTIVE:    return "model_inactive";
	case AIPLAT_TYPE_NOT_TARGETED: return "type_not_targeted";
	case AIPLAT_PLAN_INSUFFICIENT: return "plan_insufficient";
	}
	return "?";
}

bool aiplat_plan_allows(int org_level, int required_level)
{
	return org_level >= required_level;
}

long aiplat_trial_days_left(time_t enabled_at, int trial_days, time_t now)
{
	long long left = (long long)enabled_at + (long long)trial_days * 86400 - (long long)now;
	if (left <= 0)
		return 0;
	return (long)((left + 86399) / 86400);
}

bool aiplat_trial_expired(time_t enabled_at, int trial_days, time_t now)
{
	return aiplat_trial_days_left(enabled_at, trial_days, now) == 0;
}

aiplat_warning aiplat_usage_warning(long long used, long long limit)
{
	if (limit <= 0)
		return AIPLAT_WARN_NONE;
	/* Compare in integers, wide enough that bigint limits cannot overflow:
	 * used/limit >= 0.8 <=> 10*used >= 8*limit. */
	__int128 u = used, l = limit;
	if (u >= l)
		return AIPLAT_WARN_REACHED;
	if (u * 10 >= l * 9)
		return AIPLAT_WARN_ALMOST;
	if (u * 10 >= l * 8)
		return AIPLAT_WARN_APPROACHING;
	return AIPLAT_WARN_NONE;
}

const char *aiplat_warning_name(aiplat_warning w)
{
	switch (w) {
	case AIPLAT_WARN_APPROACHING: return "approaching";
	case AIPLAT_WARN_ALMOST:      return "almost";
	case AIPLAT_WARN_REACHED:     return "reached";
	default:                      return "";
	}
}

void aiplat_short_count(char *buf, size_t size, long long n)
{
	/* Truncated, never rounded up: 999999 is "999K", not "1000K". */
	static const struct { long long unit; const char *suffix; } units[] = {
		{ 1000000000LL, "B" }, { 1000000LL, "M" }, { 1000LL, "K" },
	};
	for (size_t i = 0; i < 3; i++) {
		if (n < units[i].unit)
			continue;
		long long whole = n / units[i].unit;
		long long tenths = (n % units[i].unit) * 10 / units[i].unit;
		if (whole >= 100 || tenths == 0)
			snprintf(buf, size, "%lld%s", whole, units[i].suffix);
		else
			snprintf(buf, size, "%lld.%lld%s", whole, tenths, units[i].suffix);
		return;
	}
	snprintf(buf, size, "%lld", n);
}

void aiplat_duration_phrase(char *buf, size_t size, long long s)
{
	if (s < 60)
		snprintf(buf, size, "less than a minute");
	else if (s < 3600)
		snprintf(buf, size, "%lld minute%s", s / 60, s / 60 == 1 ? "" : "s");
	else if (s < 86400)
		snprintf(buf, size, "%lld hour%s", s / 3600, s / 3600 == 1 ? "" : "s");
	else
		snprintf(buf, size, "%lld day%s", s / 86400, s / 86400 == 1 ? "" : "s");
}

void aiplat_warning_message(char *buf, size_t size, aiplat_warning w, long long used,
                            long long limit, const char *period, const char *resets_in)
{
	char u[32], l[32];
	aiplat_short_count(u, sizeof(u), used);
	aiplat_short_count(l, sizeof(l), limit);
	switch (w) {
	case AIPLAT_WARN_APPROACHING:
		snprintf(buf, size, "Approaching token limit (%s/%s used)", u, l);
		break;
	case AIPLAT_WARN_ALMOST:
		snprintf(buf, size, "Almost at limit! (%s/%s used)", u, l);
		break;
	case AIPLAT_WARN_REACHED: {
		const char *p = !period ? "Monthly" : !strcmp(period, "daily") ? "Daily"
		              : !strcmp(period, "weekly") ? "Weekly" : "Monthly";
		snprintf(buf, size, "%s limit reached. Resets in %s.", p, resets_in ? resets_in : "?");
		break;
	}
	default:
		snprintf(buf, size, "%s", "");
	}
}

void aiplat_key_hint(char *buf, size_t size, const char *key)
{
	size_t n = key ? strlen(key) : 0;
	if (n >= 12)
		snprintf(buf, size, "%.3s...%s", key, key + n - 4);
	else if (n >= 8)
		snprintf(buf, size, "...%s", key + n - 4);
	else
		snprintf(buf, size, "****");
}
