/*
 * gen_events: usage events for `aiplat usage import`, fast and repeatable.
 *
 *   gen_events [--events N] [--orgs N] [--users N] [--prefix P]
 *              [--model NAME]... (--month YYYY-MM | --from SECS --to SECS)
 *              [--seed S] [--jsonl] [-o FILE]
 *
 * Writes CSV (header event_id,occurred_at,org,user,model,tokens_in,
 * tokens_out,latency_ms,request_id) or JSON lines. Events are in time order
 * over [from, to) (a UTC month, or Unix seconds), spread evenly with a
 * little jitter; each picks an organisation P-1..P-N, one of its people
 * u1@P-i.test..uM@P-i.test and a model at random. Names follow that
 * pattern so bench/run can create the organisations and members first.
 * The same seed gives the same file byte for byte.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_MODELS 32

/* splitmix64: one multiply-xorshift step per draw; plenty for test data and
 * much faster than rand(). */
static uint64_t rng_state;

static uint64_t next_random(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* A draw in [0, n): the modulo bias is irrelevant for n this small. */
static uint64_t below(uint64_t n)
{
	return next_random() % n;
}

/* ---- output: one big buffer, so a row costs no stdio calls ---------------------------- */

static FILE *out;
static char obuf[1 << 20];
static size_t olen;

static void flush_out(void)
{
	if (olen && fwrite(obuf, 1, olen, out) != olen) {
		fprintf(stderr, "gen_events: write failed: %s\n", strerror(errno));
		exit(1);
	}
	olen = 0;
}

/* Every row is far shorter than this, so one check per row suffices. */
static void reserve_row(void)
{
	if (olen + 4096 > sizeof(obuf))
		flush_out();
}

static void put(const char *s, size_t n)
{
	memcpy(obuf + olen, s, n);
	olen += n;
}

static void puts_(const char *s)
{
	put(s, strlen(s));
}

static void put_uint(uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		obuf[olen++] = tmp[--n];
}

static void put_hex(uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = digits - 1; i >= 0; i--)
		obuf[olen++] = hex[(v >> (4 * i)) & 15];
}

/* A random (version 4) UUID. */
static void put_uuid(void)
{
	uint64_t hi = next_random(), lo = next_random();
	hi = (hi & ~0xF000ULL) | 0x4000ULL;                       /* version 4 */
	lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  /* RFC 4122 variant */
	put_hex(hi >> 32, 8);
	obuf[olen++] = '-';
	put_hex(hi >> 16, 4);
	obuf[olen++] = '-';
	put_hex(hi, 4);
	obuf[olen++] = '-';
	put_hex(lo >> 48, 4);
	obuf[olen++] = '-';
	put_hex(lo, 12);
}

/* ISO 8601 in UTC with microseconds; the date part is formatted once per second. */
static void put_time(int64_t us)
{
	static int64_t cached_sec = INT64_MIN;
	static char prefix[32];
	int64_t sec = us / 1000000;
	if (sec != cached_sec) {
		time_t t = (time_t)sec;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(prefix, sizeof(prefix), "%Y-%m-%dT%H:%M:%S.", &tm);
		cached_sec = sec;
	}
	puts_(prefix);
	char frac[6];
	int64_t f = us % 1000000;
	for (int i = 5; i >= 0; i--, f /= 10)
		frac[i] = (char)('0' + f % 10);
	put(frac, 6);
	obuf[olen++] = 'Z';
}

/* A text value: CSV quotes it only when it must; JSON always does. */
static void put_text(const char *s, int jsonl)
{
	if (!jsonl && !strpbrk(s, ",\"\r\n")) {
		puts_(s);
		return;
	}
	obuf[olen++] = '"';
	for (; *s; s++) {
		if (*s == '"')
			obuf[olen++] = jsonl ? '\\' : '"';
		else if (*s == '\\' && jsonl)
			obuf[olen++] = '\\';
		obuf[olen++] = *s;
	}
	obuf[olen++] = '"';
}

/* ---- arguments ------------------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr,
	        "usage: gen_events [--events N] [--orgs N] [--users N] [--prefix P] [--model NAME]...\n"
	        "                  (--month YYYY-MM | --from SECS --to SECS) [--seed S] [--jsonl]\n"
	        "                  [-o FILE]\n");
	exit(2);
}

static uint64_t number(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end) {
		fprintf(stderr, "gen_events: %s wants a number, not \"%s\"\n", opt, s);
		exit(2);
	}
	return v;
}

/* [first second of the UTC month, first second of the next). */
static void month_bounds(const char *s, int64_t *from, int64_t *to)
{
	int y, m;
	char tail;
	if (sscanf(s, "%4d-%2d%c", &y, &m, &tail) != 2 || m < 1 || m > 12) {
		fprintf(stderr, "gen_events: --month wants YYYY-MM, not \"%s\"\n", s);
		exit(2);
	}
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = 1 };
	*from = (int64_t)timegm(&tm);
	tm = (struct tm){ .tm_year = y - 1900 + (m == 12), .tm_mon = m % 12, .tm_mday = 1 };
	*to = (int64_t)timegm(&tm);
}

int main(int argc, char **argv)
{
	uint64_t events = 1000000, orgs = 20, users = 50, seed = 1;
	const char *prefix = "bench", *path = NULL;
	const char *models[MAX_MODELS];
	int nmodels = 0, jsonl = 0;
	int64_t from = -1, to = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--jsonl")) {
			jsonl = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--events"))
			events = number(a, v);
		else if (!strcmp(a, "--orgs"))
			orgs = number(a, v);
		else if (!strcmp(a, "--users"))
			users = number(a, v);
		else if (!strcmp(a, "--seed"))
			seed = number(a, v);
		else if (!strcmp(a, "--prefix"))
			prefix = v;
		else if (!strcmp(a, "--model") && nmodels < MAX_MODELS)
			models[nmodels++] = v;
		else if (!strcmp(a, "--month"))
			month_bounds(v, &from, &to);
		else if (!strcmp(a, "--from"))
			from = (int64_t)number(a, v);
		else if (!strcmp(a, "--to"))
			to = (int64_t)number(a, v);
		else if (!strcmp(a, "-o"))
			path = v;
		else
			usage();
	}
	if (from < 0 || to <= from || !orgs || !users || strlen(prefix) > 60) {
		fprintf(stderr, "gen_events: give --month or --from < --to, and at least one org and user\n");
		usage();
	}
	if (!nmodels)
		models[nmodels++] = "Basic Assistant";
	out = path ? fopen(path, "wb") : stdout;
	if (!out) {
		fprintf(stderr, "gen_events: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	rng_state = seed;

	/* Names are formatted once, not per row. */
	char(*org_names)[64] = calloc(orgs, sizeof(*org_names));
	if (!org_names)
		return 1;
	for (uint64_t o = 0; o < orgs; o++)
		snprintf(org_names[o], sizeof(org_names[o]), "%s-%" PRIu64, prefix, o + 1);

	if (!jsonl)
		puts_("event_id,occurred_at,org,user,model,tokens_in,tokens_out,latency_ms,request_id\n");
	/* Slot i starts at floor(span * i / events), computed as q*i + r*i/events
	 * because span * i overflows 64 bits for long spans. */
	uint64_t span_us = (uint64_t)(to - from) * 1000000, q = span_us / events, r = span_us % events;
	uint64_t slot = 0;
	for (uint64_t i = 0; i < events; i++) {
		reserve_row();
		/* Evenly spaced slots with jitter inside each: always in order. */
		uint64_t next = q * (i + 1) + r * (i + 1) / events;
		int64_t at = from * 1000000 + (int64_t)(slot + (next > slot ? below(next - slot) : 0));
		slot = next;
		uint64_t o = below(orgs), u = below(users);
		const char *model = models[below((uint64_t)nmodels)];
		uint64_t tin = 20 + below(4000), tout = below(1500), latency = 50 + below(9950);
		uint64_t req = next_random();
		if (jsonl) {
			puts_("{\"event_id\":\"");
			put_uuid();
			puts_("\",\"occurred_at\":\"");
			put_time(at);
			puts_("\",\"org\":\"");
			puts_(org_names[o]);
			puts_("\",\"user\":\"u");
			put_uint(u + 1);
			obuf[olen++] = '@';
			puts_(org_names[o]);
			puts_(".test\",\"model\":");
			put_text(model, 1);
			puts_(",\"tokens_in\":");
			put_uint(tin);
			puts_(",\"tokens_out\":");
			put_uint(tout);
			puts_(",\"latency_ms\":");
			put_uint(latency);
			puts_(",\"request_id\":\"req-");
			put_hex(req, 16);
			puts_("\"}\n");
		} else {
			put_uuid();
			obuf[olen++] = ',';
			put_time(at);
			obuf[olen++] = ',';
			puts_(org_names[o]);
			puts_(",u");
			put_uint(u + 1);
			obuf[olen++] = '@';
			puts_(org_names[o]);
			puts_(".test,");
			put_text(model, 0);
			obuf[olen++] = ',';
			put_uint(tin);
			obuf[olen++] = ',';
			put_uint(tout);
			obuf[olen++] = ',';
			put_uint(latency);
			puts_(",req-");
			put_hex(req, 16);
			obuf[olen++] = '\n';
		}
	}
	flush_out();
	free(org_names);
	if (path && fclose(out) != 0) {
		fprintf(stderr, "gen_events: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}
