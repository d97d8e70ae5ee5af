/*
 * `aiplat usage import`: bulk loading of usage events.
 *
 * One transaction, in batches:
 *   1. parse and check each record (JSON lines or CSV with a header);
 *   2. resolve organisations, people and models (one query per batch for
 *      the names not seen before) and check, per batch and set-wise, that
 *      each person belongs to the organisation and each model is meant
 *      for its type and plan (unless forced: then one audit row per
 *      organisation says how many events were let through);
 *   3. refuse an event id seen earlier in the file at another time (one
 *      at the same time is a duplicate), then find the events already
 *      recorded (an event is its organisation,
 *      time and id; ids recorded live are recognised at any time): only
 *      where the organisation has events, or live ids, near the batch's
 *      time range, by COPYing those keys into a staging table;
 *   4. COPY the new events, in binary, straight into their monthly
 *      partitions;
 *   5. add them to per-(organisation, person, model, local day) totals.
 * At the end the totals go through a second staging table into the daily
 * rollups and the counters (aiplat_internal.apply_usage_deltas), and the whole
 * thing commits, or, when any record was invalid, rolls back having
 * written nothing. Staging only the keys, not whole events, and writing
 * each event once is what keeps the import close to a raw COPY
 * (bench/RESULTS.md).
 */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "aiplat/buf.h"
#include "aiplat/error.h"
#include "aiplat/usage.h"
#include "locks.h"
#include "util/csv.h"
#include "util/eventset.h"
#include "util/map.h"
#include "util/text.h"

#define MAX_ERRORS 1000
#define PG_EPOCH_US 946684800000000LL   /* 2000-01-01 in Unix microseconds */

enum field {
	F_EVENT_ID, F_OCCURRED_AT, F_ORG, F_USER, F_MODEL, F_TOKENS_IN, F_TOKENS_OUT, F_LATENCY,
	F_REQUEST_ID, F_COUNT
};
static const char *const field_names[F_COUNT] = {
	"event_id", "occurred_at", "org", "user", "model", "tokens_in", "tokens_out", "latency_ms",
	"request_id"
};

/* Interned references: text as written in the file -> what it resolved to. */
typedef struct ref {
	char *text;
	int state;             /* 0 unresolved, 1 resolved, -1 unknown */
	uint8_t uuid[16];      /* organisations, people */
	int64_t id;            /* models */
	int64_t price_in, price_out;  /* models: USD per 1M tokens, in 1/10000 */
	char tz[64];           /* organisations */
	int32_t canon;         /* organisations: the first reference to the same one */
	int64_t day0;          /* organisations: first cached local day (days since 1970) */
	int64_t *midnights;    /* UTC microseconds of local midnight, day0 onwards */
	size_t ndays;
	int64_t wrote_lo, wrote_hi;  /* organisations: times this import wrote (lo > hi: none) */
} ref;

typedef struct ref_table {
	aiplat_map index;
	ref *items;
	size_t count, cap;
} ref_table;

typedef struct event {
	uint64_t line;
	uint8_t id[16];
	int64_t at;            /* Unix microseconds */
	int32_t org, user, model;
	int64_t tin, tout;
	int32_t latency;       /* -1: none */
	size_t request_off;    /* request id: offset in the batch arena */
	uint32_t request_len;  /* 0: none */
	bool skip;             /* invalid or duplicate */
	int8_t member;         /* 1: the person belongs to the organisation, -1 not, 0 not known yet */
	int8_t fits;           /* 1: the model is for the organisation, -1 its type, -2 its plan, 0 not known */
	uint32_t twin;         /* its id came before under another organisation reference: twins[twin - 1] */
} event;

/* An event id seen before with another organisation reference (a slug and a
 * uuid, or another organisation): decided once the references are resolved. */
typedef struct twin {
	int32_t org;           /* the first one's */
	int64_t at;
	uint64_t line;
} twin;

typedef struct delta {
	int32_t org, user, model;
	int32_t day;           /* days since 1970 */
	int64_t tin, tout, requests, cost;
} delta;

/* Collected as found (a batch's unknown names come after its parse errors),
 * handed over sorted by line. */
typedef struct line_error {
	uint64_t line;
	char *message;
} line_error;

typedef struct importer {
	aiplat_db *db;
	PGconn *pg;
	const aiplat_import_opts *opts;
	aiplat_import_result *res;
	ref_table orgs, users, models;
	aiplat_map org_ids;    /* organisation uuid -> its first reference */
	aiplat_map members;    /* (org idx, user idx) -> 1 member, -1 not */
	aiplat_map fits;       /* (org idx, model idx) -> 1 the model is for it, -1 type, -2 plan */
	eventset seen;         /* every event id of the import so far */
	twin *twins;
	size_t ntwins;
	uint64_t *forced;      /* per organisation reference: events let through by --force */
	size_t nforced;
	aiplat_map delta_index;
	delta *deltas;
	size_t ndeltas, deltas_cap;
	event *batch;
	size_t nbatch;
	aiplat_buf arena;      /* request ids of the batch */
	line_error *errors;    /* the first MAX_ERRORS */
	size_t nerrors;
	bool failed;           /* an invalid record: keep reading to report, write nothing */
	bool copy_pending;     /* the events COPY of the last batch is still running */
	uint64_t copy_rows;    /* its rows, counted as imported when it succeeds */
	bool writing;
} importer;

/* ---- errors ------------------------------------------------------------------------ */

static void record_error(importer *im, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void record_error(importer *im, uint64_t line, const char *fmt, ...)
{
	im->res->invalid++;
	if (!im->opts->skip_invalid)
		im->failed = true;
	if (im->nerrors >= MAX_ERRORS)
		return;
	if (!im->errors && !(im->errors = calloc(MAX_ERRORS, sizeof(line_error))))
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	im->errors[im->nerrors].line = line;
	if ((im->errors[im->nerrors].message = strdup(msg)) != NULL)
		im->nerrors++;
}

static int by_line(const void *a, const void *b)
{
	const line_error *x = a, *y = b;
	return x->line < y->line ? -1 : x->line > y->line;
}

static void hand_over_errors(importer *im)
{
	if (im->nerrors)
		qsort(im->errors, im->nerrors, sizeof(line_error), by_line);
	for (size_t i = 0; i < im->nerrors; i++) {
		char num[32];
		snprintf(num, sizeof(num), "%llu", (unsigned long long)im->errors[i].line);
		const char *cells[2] = { num, im->errors[i].message };
		aiplat_table_add_row(im->res->errors, cells);
		free(im->errors[i].message);
	}
	free(im->errors);
}

/* ---- references ---------------------------------------------------------------------- */

static int32_t intern(ref_table *t, const char *s, size_t n)
{
	int64_t idx;
	if (aiplat_map_get(&t->index, s, n, &idx))
		return (int32_t)idx;
	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		ref *items = realloc(t->items, cap * sizeof(ref));
		if (!items)
			return -1;
		t->items = items;
		t->cap = cap;
	}
	ref *r = &t->items[t->count];
	memset(r, 0, sizeof(*r));
	r->wrote_lo = INT64_MAX;
	r->wrote_hi = INT64_MIN;
	r->canon = -1;
	r->text = strndup(s, n);
	if (!r->text || aiplat_map_put(&t->index, s, n, (int64_t)t->count) != 0)
		return -1;
	return (int32_t)t->count++;
}

static void refs_dispose(ref_table *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free(t->items[i].text);
		free(t->items[i].midnights);
	}
	free(t->items);
	aiplat_map_dispose(&t->index);
	memset(t, 0, sizeof(*t));
}

static int nomem(void)
{
	return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
}

/* Resolves the unresolved references of a table with one query taking a
 * JSON array of texts and returning one row per resolved text. */
static int resolve(importer *im, ref_table *t, const char *sql,
                   void (*take)(ref *r, PGresult *res, int row))
{
	json_t *arr = json_array();
	for (size_t i = 0; i < t->count; i++)
		if (t->items[i].state == 0)
			json_array_append_new(arr, json_string(t->items[i].text));
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		return 0;
	}
	char *texts = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (!texts)
		return nomem();
	const char *params[1] = { texts };
	PGresult *res;
	int rc = aiplat_db_query(im->db, &res, sql, 1, params);
	free(texts);
	if (rc)
		return rc;
	for (int row = 0; row < PQntuples(res); row++) {
		const char *text = PQgetvalue(res, row, 0);
		int64_t idx;
		if (aiplat_map_get(&t->index, text, strlen(text), &idx)) {
			t->items[idx].state = 1;
			take(&t->items[idx], res, row);
		}
	}
	PQclear(res);
	for (size_t i = 0; i < t->count; i++)
		if (t->items[i].state == 0)
			t->items[i].state = -1;
	return 0;
}

static void take_org(ref *r, PGresult *res, int row)
{
	aiplat_parse_uuid(PQgetvalue(res, row, 1), 36, r->uuid);
	snprintf(r->tz, sizeof(r->tz), "%s", PQgetvalue(res, row, 2));
}

static void take_user(ref *r, PGresult *res, int row)
{
	aiplat_parse_uuid(PQgetvalue(res, row, 1), 36, r->uuid);
}

static void take_model(ref *r, PGresult *res, int row)
{
	r->id = atoll(PQgetvalue(res, row, 1));
	aiplat_parse_decimal4(PQgetvalue(res, row, 2), &r->price_in);
	aiplat_parse_decimal4(PQgetvalue(res, row, 3), &r->price_out);
}

#define UUID_RE "'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'"

/* Names by their unique indexes, ids by primary key: two indexable joins
 * rather than one join on a CASE, which no index can serve. */
static int resolve_refs(importer *im)
{
	int rc = resolve(im, &im->orgs,
		"SELECT t, o.id, o.time_zone FROM jsonb_array_elements_text($1::jsonb) AS t"
		"  JOIN aiplat.organizations o ON o.slug = t"
		" UNION ALL "
		"SELECT t, o.id, o.time_zone FROM jsonb_array_elements_text($1::jsonb) AS t"
		"  JOIN aiplat.organizations o ON o.id = CASE WHEN t ~ " UUID_RE " THEN t::uuid END",
		take_org);
	for (size_t i = 0; !rc && i < im->orgs.count; i++) {
		ref *o = &im->orgs.items[i];
		int64_t first;
		if (o->state != 1 || o->canon >= 0)
			continue;
		if (aiplat_map_get(&im->org_ids, o->uuid, 16, &first)) {
			o->canon = (int32_t)first;
		} else {
			o->canon = (int32_t)i;
			if (aiplat_map_put(&im->org_ids, o->uuid, 16, (int64_t)i) != 0)
				rc = nomem();
		}
	}
	if (!rc)
		rc = resolve(im, &im->users,
			"SELECT t, u.id FROM jsonb_array_elements_text($1::jsonb) AS t"
			"  JOIN aiplat.users u ON lower(u.email) = lower(t)"
			" UNION ALL "
			"SELECT t, u.id FROM jsonb_array_elements_text($1::jsonb) AS t"
			"  JOIN aiplat.users u ON u.id = CASE WHEN t ~ " UUID_RE " THEN t::uuid END",
			take_user);
	if (!rc)
		rc = resolve(im, &im->models,
			"SELECT t, m.id, m.price_input_per_mtok, m.price_output_per_mtok"
			"  FROM jsonb_array_elements_text($1::jsonb) AS t"
			"  JOIN aiplat.ai_models_system m ON lower(m.name) = lower(t)"
			" UNION ALL "
			"SELECT t, m.id, m.price_input_per_mtok, m.price_output_per_mtok"
			"  FROM jsonb_array_elements_text($1::jsonb) AS t"
			"  JOIN aiplat.ai_models_system m"
			"    ON m.id = CASE WHEN t ~ '^[0-9]{1,18}$' THEN t::bigint END",
			take_model);
	return rc;
}

/* What the query needs of an event's pair (its first two items are the
 * pair itself). */
typedef json_t *(*pair_item)(const importer *im, const event *e);

/* Asks one query about every (organisation, other reference) pair of the
 * batch not asked before (`second`: the offset of the other reference in an
 * event): it takes a JSON array of items and returns (first, second,
 * answer) rows; the answers go into `known`, keyed by the pair, and into
 * each event's int8_t field at offset `answer`. */
static int resolve_pairs(importer *im, aiplat_map *known, size_t second, size_t answer, pair_item item,
                         const char *sql)
{
	json_t *pairs = json_array();
	for (size_t i = 0; i < im->nbatch; i++) {
		event *e = &im->batch[i];
		int32_t key[2];
		int64_t value;
		memcpy(&key[1], (const char *)e + second, sizeof(int32_t));
		key[0] = e->org;
		if (e->skip)
			continue;
		if (aiplat_map_get(known, key, sizeof(key), &value)) {
			/* Known already (0: asked for an earlier event of this batch). */
			*((int8_t *)e + answer) = (int8_t)value;
			continue;
		}
		json_t *it = item(im, e);
		if (!it || aiplat_map_put(known, key, sizeof(key), 0) != 0) {
			json_decref(it);
			json_decref(pairs);
			return nomem();
		}
		json_array_append_new(pairs, it);
	}
	if (json_array_size(pairs) == 0) {
		json_decref(pairs);
		return 0;
	}
	char *text = json_dumps(pairs, JSON_COMPACT);
	json_decref(pairs);
	if (!text)
		return nomem();
	const char *params[1] = { text };
	PGresult *res;
	int rc = aiplat_db_query(im->db, &res, sql, 1, params);
	free(text);
	if (rc)
		return rc;
	for (int row = 0; row < PQntuples(res); row++) {
		int32_t key[2] = { atoi(PQgetvalue(res, row, 0)), atoi(PQgetvalue(res, row, 1)) };
		aiplat_map_put(known, key, sizeof(key), atoi(PQgetvalue(res, row, 2)));
	}
	PQclear(res);
	/* The answers for the events whose pair was new. */
	for (size_t i = 0; i < im->nbatch; i++) {
		event *e = &im->batch[i];
		int8_t *a = (int8_t *)e + answer;
		int32_t key[2];
		int64_t value;
		memcpy(&key[1], (const char *)e + second, sizeof(int32_t));
		key[0] = e->org;
		if (!e->skip && *a == 0 && aiplat_map_get(known, key, sizeof(key), &value))
			*a = (int8_t)value;
	}
	return 0;
}

static json_t *member_item(const importer *im, const event *e)
{
	char o[37], u[37];
	aiplat_format_uuid(o, im->orgs.items[e->org].uuid);
	aiplat_format_uuid(u, im->users.items[e->user].uuid);
	return json_pack("[i,i,s,s]", e->org, e->user, o, u);
}

static json_t *fit_item(const importer *im, const event *e)
{
	char o[37];
	aiplat_format_uuid(o, im->orgs.items[e->org].uuid);
	return json_pack("[i,i,s,I]", e->org, e->model, o, (json_int_t)im->models.items[e->model].id);
}

/* Membership of the batch's (organisation, person) pairs: 1 member, -1 not. */
static int resolve_members(importer *im)
{
	return resolve_pairs(im, &im->members, offsetof(event, user), offsetof(event, member), member_item,
		"SELECT (p ->> 0)::int, (p ->> 1)::int,"
		"       CASE WHEN EXISTS (SELECT 1 FROM aiplat.organization_members m"
		"                          WHERE m.organization_id = (p ->> 2)::uuid AND m.user_id = (p ->> 3)::uuid)"
		"            THEN 1 ELSE -1 END"
		"  FROM jsonb_array_elements($1::jsonb) AS p");
}

/* Whether each (organisation, model) pair of the batch is one the
 * organisation may use: the model targets its type (else -1) and its plan
 * is high enough (else -2). An inactive model's past usage may be loaded. */
static int resolve_fits(importer *im)
{
	return resolve_pairs(im, &im->fits, offsetof(event, model), offsetof(event, fits), fit_item,
		"SELECT (p ->> 0)::int, (p ->> 1)::int,"
		"       CASE WHEN cardinality(m.organization_types) > 0 AND NOT o.type = ANY (m.organization_types)"
		"              THEN -1"
		"            WHEN mp.level > op.level THEN -2 ELSE 1 END"
		"  FROM jsonb_array_elements($1::jsonb) AS p"
		"  JOIN aiplat.organizations o ON o.id = (p ->> 2)::uuid"
		"  JOIN aiplat.ai_models_system m ON m.id = (p ->> 3)::bigint"
		"  JOIN aiplat.plans mp ON mp.code = m.required_plan"
		"  JOIN aiplat.plans op ON op.code = o.pricing_plan");
}

/* An event that fails the membership or model check: an invalid line, or
 * with --force one more event to put in the organisation's audit row. */
static int refuse_or_force(importer *im, event *e, const char *fmt, const char *a, const char *b)
{
	if (im->opts->force) {
		int32_t org = im->orgs.items[e->org].canon;
		if ((size_t)org >= im->nforced) {
			size_t n = im->orgs.count;
			uint64_t *f = realloc(im->forced, n * sizeof(uint64_t));
			if (!f)
				return nomem();
			memset(f + im->nforced, 0, (n - im->nforced) * sizeof(uint64_t));
			im->forced = f;
			im->nforced = n;
		}
		im->forced[org]++;
		return 0;
	}
	record_error(im, e->line, fmt, a, b);
	im->res->forcible++;
	e->skip = true;
	return 0;
}

/* ---- local days ----------------------------------------------------------------------- */

/* Makes sure org's cache of local midnights covers [lo, hi] (Unix us). */
static int cover_days(importer *im, ref *org, int64_t lo, int64_t hi)
{
	int64_t lo_day = lo / 86400000000LL - 2, hi_day = hi / 86400000000LL + 2;
	if (org->midnights && lo_day >= org->day0 && hi_day < org->day0 + (int64_t)org->ndays)
		return 0;
	if (org->midnights) {
		if (org->day0 < lo_day)
			lo_day = org->day0;
		if (org->day0 + (int64_t)org->ndays - 1 > hi_day)
			hi_day = org->day0 + (int64_t)org->ndays - 1;
	}
	char from[32], to[32];
	snprintf(from, sizeof(from), "%lld", (long long)lo_day);
	snprintf(to, sizeof(to), "%lld", (long long)hi_day);
	const char *params[3] = { from, to, org->tz };
	PGresult *res;
	int rc = aiplat_db_query(im->db, &res,
		"SELECT (extract(epoch FROM (('1970-01-01'::date + d)::timestamp AT TIME ZONE $3)) * 1000000)::bigint"
		"  FROM generate_series($1::int, $2::int) AS d ORDER BY d", 3, params);
	if (rc)
		return rc;
	size_t n = (size_t)PQntuples(res);
	int64_t *m = malloc(n * sizeof(int64_t));
	if (!m) {
		PQclear(res);
		return nomem();
	}
	for (size_t i = 0; i < n; i++)
		m[i] = atoll(PQgetvalue(res, (int)i, 0));
	PQclear(res);
	free(org->midnights);
	org->midnights = m;
	org->ndays = n;
	org->day0 = lo_day;
	return 0;
}

/* The local day (days since 1970) of an instant, by binary search. */
static int32_t local_day(const ref *org, int64_t at)
{
	size_t lo = 0, hi = org->ndays;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (org->midnights[mid] <= at)
			lo = mid;
		else
			hi = mid;
	}
	return (int32_t)(org->day0 + (int64_t)lo);
}

/* ---- parsing --------------------------------------------------------------------------- */

typedef struct raw {
	const char *v[F_COUNT];
	size_t n[F_COUNT];
} raw;

/* Checks one record's fields and appends it to the batch (or records why not). */
static int add_record(importer *im, uint64_t line, const raw *r)
{
	event e;
	memset(&e, 0, sizeof(e));
	e.line = line;
	e.latency = -1;
	const char *org = r->v[F_ORG];
	size_t org_len = r->n[F_ORG];
	if (!org && im->opts->default_org) {
		org = im->opts->default_org;
		org_len = strlen(org);
	}
	for (int f = 0; f <= F_MODEL; f++) {
		bool present = f == F_ORG ? org != NULL : r->v[f] != NULL;
		if (!present) {
			record_error(im, line, "%s is missing", field_names[f]);
			return 0;
		}
	}
	if (!aiplat_parse_uuid(r->v[F_EVENT_ID], r->n[F_EVENT_ID], e.id)) {
		record_error(im, line, "event_id \"%.*s\" is not a UUID", (int)r->n[F_EVENT_ID] % 80,
		             r->v[F_EVENT_ID]);
		return 0;
	}
	if (!aiplat_parse_timestamp(r->v[F_OCCURRED_AT], r->n[F_OCCURRED_AT], &e.at) ||
	    e.at < PG_EPOCH_US || e.at >= 32503680000000000LL) {
		record_error(im, line, "occurred_at \"%.*s\" is not a timestamp with a zone "
		             "(e.g. 2026-11-04T06:16:22Z) in years 2000-2999",
		             (int)r->n[F_OCCURRED_AT] % 80, r->v[F_OCCURRED_AT]);
		return 0;
	}
	const enum field counts[] = { F_TOKENS_IN, F_TOKENS_OUT, F_LATENCY };
	int64_t values[3] = { 0, 0, -1 };
	for (int i = 0; i < 3; i++) {
		enum field f = counts[i];
		if (r->v[f] && !aiplat_parse_count(r->v[f], r->n[f], &values[i])) {
			record_error(im, line, "%s \"%.*s\" is not a whole number, zero or more", field_names[f],
			             (int)r->n[f] % 80, r->v[f]);
			return 0;
		}
	}
	if (values[2] > 2147483647) {
		record_error(im, line, "latency_ms is too large");
		return 0;
	}
	if (!r->v[F_TOKENS_IN] && !r->v[F_TOKENS_OUT]) {
		record_error(im, line, "no token count: give tokens_in, tokens_out or both (0 for none)");
		return 0;
	}
	e.tin = values[0];
	e.tout = values[1];
	e.latency = (int32_t)values[2];
	if (r->v[F_REQUEST_ID]) {
		if (r->n[F_REQUEST_ID] > 256 || !aiplat_valid_utf8(r->v[F_REQUEST_ID], r->n[F_REQUEST_ID])) {
			record_error(im, line, "request_id must be UTF-8 text of at most 256 bytes");
			return 0;
		}
		e.request_off = im->arena.len;
		if (aiplat_buf_put(&im->arena, r->v[F_REQUEST_ID], r->n[F_REQUEST_ID]) != 0)
			return nomem();
		e.request_len = (uint32_t)r->n[F_REQUEST_ID];
	}
	if ((e.org = intern(&im->orgs, org, org_len)) < 0 ||
	    (e.user = intern(&im->users, r->v[F_USER], r->n[F_USER])) < 0 ||
	    (e.model = intern(&im->models, r->v[F_MODEL], r->n[F_MODEL])) < 0)
		return nomem();
	/* An event id is one event: at the same time again it is a duplicate
	 * (the first line wins), at another time two events claim it. Checked
	 * here, while the server loads the previous batch. */
	const eventset_entry *first = NULL;
	int seen = eventset_add(&im->seen, e.id, e.org, e.at, line, &first);
	if (seen < 0)
		return nomem();
	if (seen && first->org == e.org) {
		if (first->at == e.at) {
			im->res->duplicates++;
		} else {
			char id[37];
			aiplat_format_uuid(id, e.id);
			record_error(im, line, "event_id %s is also on line %llu, at another time", id,
			             (unsigned long long)first->line);
		}
		return 0;
	}
	if (seen) {
		twin *t = realloc(im->twins, (im->ntwins + 1) * sizeof(twin));
		if (!t)
			return nomem();
		im->twins = t;
		im->twins[im->ntwins++] = (twin){ first->org, first->at, first->line };
		e.twin = (uint32_t)im->ntwins;
	}
	im->batch[im->nbatch++] = e;
	return 0;
}

static int parse_json_line(importer *im, uint64_t line, const char *text, size_t len)
{
	json_error_t err;
	json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!json_is_object(obj)) {
		record_error(im, line, "not a JSON object%s%s", obj ? "" : ": ", obj ? "" : err.text);
		json_decref(obj);
		return 0;
	}
	raw r;
	memset(&r, 0, sizeof(r));
	char numbuf[F_COUNT][32];
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		int f = -1;
		for (int i = 0; i < F_COUNT; i++)
			if (!strcmp(key, field_names[i]))
				f = i;
		if (f < 0) {
			record_error(im, line, "unknown field \"%s\"", key);
			json_decref(obj);
			return 0;
		}
		if (json_is_null(v))
			continue;
		if (json_is_string(v)) {
			r.v[f] = json_string_value(v);
			r.n[f] = json_string_length(v);
		} else if (json_is_integer(v) && (f >= F_TOKENS_IN || f == F_MODEL)) {
			snprintf(numbuf[f], sizeof(numbuf[f]), "%lld", (long long)json_integer_value(v));
			r.v[f] = numbuf[f];
			r.n[f] = strlen(numbuf[f]);
		} else {
			record_error(im, line, "%s has the wrong type", key);
			json_decref(obj);
			return 0;
		}
	}
	int rc = add_record(im, line, &r);
	json_decref(obj);
	return rc;
}

/* ---- COPY ------------------------------------------------------------------------------ */

static void be16(aiplat_buf *b, int16_t v)
{
	uint16_t u = (uint16_t)v;
	char c[2] = { (char)(u >> 8), (char)u };
	aiplat_buf_put(b, c, 2);
}

static void be32(aiplat_buf *b, int32_t v)
{
	uint32_t u = (uint32_t)v;
	char c[4] = { (char)(u >> 24), (char)(u >> 16), (char)(u >> 8), (char)u };
	aiplat_buf_put(b, c, 4);
}

static void be64(aiplat_buf *b, int64_t v)
{
	be32(b, (int32_t)((uint64_t)v >> 32));
	be32(b, (int32_t)((uint64_t)v & 0xffffffffu));
}

static void f_uuid(aiplat_buf *b, const uint8_t *u) { be32(b, 16); aiplat_buf_put(b, (const char *)u, 16); }
static void f_int8(aiplat_buf *b, int64_t v) { be32(b, 8); be64(b, v); }
static void f_int4(aiplat_buf *b, int32_t v) { be32(b, 4); be32(b, v); }
static void f_time(aiplat_buf *b, int64_t unix_us) { be32(b, 8); be64(b, unix_us - PG_EPOCH_US); }
static void f_date(aiplat_buf *b, int32_t unix_day) { be32(b, 4); be32(b, unix_day - 10957); }
static void f_text(aiplat_buf *b, const char *s, size_t n) { be32(b, (int32_t)n); aiplat_buf_put(b, s, n); }
static void f_null(aiplat_buf *b) { be32(b, -1); }

static void copy_header(aiplat_buf *b)
{
	aiplat_buf_put(b, "PGCOPY\n\377\r\n\0", 11);
	be32(b, 0);
	be32(b, 0);
}

/*
 * COPY ... FROM STDIN (FORMAT binary) with the data in b (trailer added
 * here), left running: the data goes to libpq in non-blocking mode and out
 * to the server while the next batch is parsed (copy_pump), and the
 * result is collected by copy_finish before the connection is used again.
 * The server's insert and the client's parsing overlap that way.
 */
static int copy_start(importer *im, const char *sql, aiplat_buf *b)
{
	be16(b, -1);
	PGresult *res = PQexec(im->pg, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		int rc = aiplat_db_error_from_result(res, im->pg);
		PQclear(res);
		return rc;
	}
	PQclear(res);
	im->copy_pending = true;
	PQsetnonblocking(im->pg, 1);
	const size_t chunk = 1 << 20;
	for (size_t off = 0; off < b->len; off += chunk) {
		size_t n = b->len - off < chunk ? b->len - off : chunk;
		/* Non-blocking, libpq queues what the socket does not take yet. */
		if (PQputCopyData(im->pg, b->ptr + off, (int)n) != 1)
			return aiplat_db_error_from_result(NULL, im->pg);
	}
	return PQflush(im->pg) < 0 ? aiplat_db_error_from_result(NULL, im->pg) : 0;
}

/* Sends more of a running COPY's data, without waiting. */
static void copy_pump(importer *im)
{
	if (im->copy_pending)
		PQflush(im->pg);
}

/* Ends a running COPY (aborted with `abort_msg` when not NULL) and takes its result. */
static int copy_finish(importer *im, const char *abort_msg)
{
	if (!im->copy_pending)
		return 0;
	im->copy_pending = false;
	PQsetnonblocking(im->pg, 0);
	int rc = 0;
	if (PQputCopyEnd(im->pg, abort_msg) != 1)
		rc = aiplat_db_error_from_result(NULL, im->pg);
	PGresult *res;
	while ((res = PQgetResult(im->pg)) != NULL) {
		if (!rc && !abort_msg && PQresultStatus(res) != PGRES_COMMAND_OK)
			rc = aiplat_db_error_from_result(res, im->pg);
		PQclear(res);
	}
	if (!rc && !abort_msg) {
		im->res->imported += im->copy_rows;
	}
	im->copy_rows = 0;
	return rc;
}

/* A COPY whose result is needed at once (staging tables). */
static int copy_in(importer *im, const char *sql, aiplat_buf *b)
{
	int rc = copy_start(im, sql, b);
	int end = copy_finish(im, rc ? "the client failed to send the data" : NULL);
	return rc ? rc : end;
}

/* ---- one batch ---------------------------------------------------------------------------- */

/* The events' key order (time, organisation, id): sorted so, the COPY
 * extends the primary key index at its right edge. */
static int by_key(const void *a, const void *b)
{
	const event *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	if (x->org != y->org)
		return x->org < y->org ? -1 : 1;
	int c = memcmp(x->id, y->id, 16);
	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int add_delta(importer *im, const event *e, int32_t day, int64_t cost)
{
	int32_t key[4] = { e->org, e->user, e->model, day };
	int64_t idx;
	if (!aiplat_map_get(&im->delta_index, key, sizeof(key), &idx)) {
		if (im->ndeltas == im->deltas_cap) {
			size_t cap = im->deltas_cap ? im->deltas_cap * 2 : 1024;
			delta *d = realloc(im->deltas, cap * sizeof(delta));
			if (!d)
				return nomem();
			im->deltas = d;
			im->deltas_cap = cap;
		}
		idx = (int64_t)im->ndeltas++;
		memset(&im->deltas[idx], 0, sizeof(delta));
		im->deltas[idx].org = e->org;
		im->deltas[idx].user = e->user;
		im->deltas[idx].model = e->model;
		im->deltas[idx].day = day;
		if (aiplat_map_put(&im->delta_index, key, sizeof(key), idx) != 0)
			return nomem();
	}
	delta *d = &im->deltas[idx];
	d->tin += e->tin;
	d->tout += e->tout;
	d->requests++;
	d->cost += cost;
	return 0;
}

static int flush_batch(importer *im)
{
	/* The previous batch's events must be in before anything is looked up. */
	int rc = copy_finish(im, NULL);
	if (!rc)
		rc = resolve_refs(im);
	if (rc)
		return rc;
	for (size_t i = 0; i < im->nbatch; i++) {
		event *e = &im->batch[i];
		const ref *refs[3] = { &im->orgs.items[e->org], &im->users.items[e->user],
		                       &im->models.items[e->model] };
		static const char *const what[3] = { "organization", "user", "model" };
		for (int k = 0; k < 3 && !e->skip; k++) {
			if (refs[k]->state < 0) {
				record_error(im, e->line, "no %s \"%s\"", what[k], refs[k]->text);
				e->skip = true;
			}
		}
	}
	if ((rc = resolve_members(im)) != 0 || (rc = resolve_fits(im)) != 0)
		return rc;
	for (size_t i = 0; i < im->nbatch && !rc; i++) {
		event *e = &im->batch[i];
		if (e->skip)
			continue;
		if (e->member < 0)
			rc = refuse_or_force(im, e, "%s is not a member of %s",
			                     im->users.items[e->user].text, im->orgs.items[e->org].text);
		else if (e->fits < 0)
			rc = refuse_or_force(im, e, e->fits == -1 ? "model %s is not for organizations of %s's type"
			                                       : "model %s needs a higher plan than %s's",
			                     im->models.items[e->model].text, im->orgs.items[e->org].text);
	}
	if (rc)
		return rc;
	/* Event ids met before under another reference: the same organisation
	 * (by its slug once, its uuid another time) is the same event. */
	for (size_t i = 0; i < im->nbatch; i++) {
		event *e = &im->batch[i];
		if (e->skip || !e->twin)
			continue;
		const twin *t = &im->twins[e->twin - 1];
		if (im->orgs.items[t->org].canon != im->orgs.items[e->org].canon)
			continue;   /* another organisation's event of the same id */
		e->skip = true;
		if (t->at == e->at) {
			im->res->duplicates++;
		} else {
			char id[37];
			aiplat_format_uuid(id, e->id);
			record_error(im, e->line, "event_id %s is also on line %llu, at another time", id,
			             (unsigned long long)t->line);
		}
	}
	if (im->failed)
		return 0;   /* nothing will be written; keep reading for more errors */

	/* Key order, for the COPY. */
	qsort(im->batch, im->nbatch, sizeof(event), by_key);

	/* Months to hold the batch, and local days per organisation. */
	aiplat_map months = AIPLAT_MAP_INIT;
	json_t *month_list = json_array();
	char partition[40] = "";   /* the batch's one monthly partition, if it has one */
	for (size_t i = 0; i < im->nbatch; i++) {
		if (im->batch[i].skip)
			continue;
		time_t secs = (time_t)(im->batch[i].at / 1000000);
		struct tm tm;
		gmtime_r(&secs, &tm);
		char m[16];
		snprintf(m, sizeof(m), "%04d-%02d-01", tm.tm_year + 1900, tm.tm_mon + 1);
		if (!aiplat_map_get(&months, m, strlen(m), NULL)) {
			aiplat_map_put(&months, m, strlen(m), 1);
			json_array_append_new(month_list, json_string(m));
			snprintf(partition, sizeof(partition), "usage_events_%04d_%02d", tm.tm_year + 1900,
			         tm.tm_mon + 1);
		}
	}
	if (months.count != 1)
		partition[0] = '\0';
	aiplat_map_dispose(&months);
	char *mtext = json_dumps(month_list, JSON_COMPACT);
	json_decref(month_list);
	const char *mp[1] = { mtext };
	rc = aiplat_db_exec(im->db, "SELECT aiplat_internal.ensure_usage_partition(m::date)"
	                            "  FROM jsonb_array_elements_text($1::jsonb) AS m", 1, mp);
	free(mtext);
	/* Each organisation's time range in the batch: for its local days, and
	 * to see whether anything is recorded near it. */
	int64_t *range = malloc(2 * im->orgs.count * sizeof(int64_t));
	if (!range)
		return nomem();
	for (size_t k = 0; k < im->orgs.count; k++) {
		range[2 * k] = INT64_MAX;
		range[2 * k + 1] = INT64_MIN;
	}
	for (size_t i = 0; i < im->nbatch; i++) {
		const event *e = &im->batch[i];
		if (e->skip)
			continue;
		if (e->at < range[2 * e->org])
			range[2 * e->org] = e->at;
		if (e->at > range[2 * e->org + 1])
			range[2 * e->org + 1] = e->at;
	}
	json_t *ranges = json_array();
	for (size_t k = 0; k < im->orgs.count && !rc; k++) {
		if (range[2 * k] > range[2 * k + 1])
			continue;
		ref *org = &im->orgs.items[k];
		rc = cover_days(im, org, range[2 * k], range[2 * k + 1]);
		char id[37];
		aiplat_format_uuid(id, org->uuid);
		json_array_append_new(ranges, json_pack("[i,s,I,I]", (int)k, id, (json_int_t)range[2 * k],
		                                        (json_int_t)range[2 * k + 1]));
	}
	/* Organisations with events already recorded in the batch's range need
	 * the key-by-key check; for the rest (the usual case: new data) every
	 * event is new, and the probe is skipped. */
	aiplat_map overlapping = AIPLAT_MAP_INIT;
	PGresult *res = NULL;
	char *rtext = rc ? NULL : json_dumps(ranges, JSON_COMPACT);
	json_decref(ranges);
	if (!rc) {
		const char *rp[1] = { rtext };
		rc = aiplat_db_query(im->db, &res,
			"WITH r AS (SELECT (r ->> 0)::int AS idx, (r ->> 1)::uuid AS org,"
			"                  'epoch'::timestamptz + (r ->> 2)::bigint * interval '1 us' AS lo,"
			"                  'epoch'::timestamptz + (r ->> 3)::bigint * interval '1 us' AS hi"
			"             FROM jsonb_array_elements($1::jsonb) AS r),"
			" slack AS (SELECT make_interval(days => value::int) AS d FROM aiplat.settings"
			"            WHERE key = 'event_id_retention_days')"
			"SELECT r.idx FROM r"
			/* the rollups know the days with events (local days are within a
			 * day of UTC ones) */
			" WHERE EXISTS (SELECT 1 FROM aiplat.usage_daily_models d"
			"                WHERE d.organization_id = r.org"
			"                  AND d.day BETWEEN (r.lo AT TIME ZONE 'UTC')::date - 1"
			"                                AND (r.hi AT TIME ZONE 'UTC')::date + 1)"
			/* an id recorded live (a retry may carry another time) */
			"    OR EXISTS (SELECT 1 FROM aiplat.usage_event_ids i, slack"
			"                WHERE i.organization_id = r.org"
			"                  AND i.occurred_at BETWEEN r.lo - slack.d AND r.hi + slack.d)",
			1, rp);
	}
	free(rtext);
	if (rc) {
		free(range);
		return rc;
	}
	for (int row = 0; row < PQntuples(res); row++) {
		int32_t org = atoi(PQgetvalue(res, row, 0));
		aiplat_map_put(&overlapping, &org, sizeof(org), 1);
	}
	PQclear(res);
	/* The rollups learn of this import's own events only at its end: what
	 * earlier batches wrote is remembered here. */
	for (size_t k = 0; k < im->orgs.count; k++) {
		const ref *org = &im->orgs.items[k];
		int32_t key = (int32_t)k;
		if (org->wrote_lo <= org->wrote_hi && range[2 * k] <= range[2 * k + 1] &&
		    range[2 * k] <= org->wrote_hi && range[2 * k + 1] >= org->wrote_lo)
			aiplat_map_put(&overlapping, &key, sizeof(key), 1);
	}
	free(range);
	bool probe = overlapping.count > 0;

	/* Stage those organisations' keys and ask which are recorded already. */
	aiplat_buf b = AIPLAT_BUF_INIT;
	copy_header(&b);
	for (size_t i = 0; probe && i < im->nbatch; i++) {
		const event *e = &im->batch[i];
		if (e->skip || !aiplat_map_get(&overlapping, &e->org, sizeof(e->org), NULL))
			continue;
		be16(&b, 4);
		f_int4(&b, (int32_t)i);
		f_uuid(&b, im->orgs.items[e->org].uuid);
		f_time(&b, e->at);
		f_uuid(&b, e->id);
	}
	aiplat_map_dispose(&overlapping);
	if (probe)
		rc = aiplat_db_exec(im->db, "TRUNCATE pg_temp.usage_import_keys", 0, NULL);
	if (probe && !rc)
		rc = copy_in(im, "COPY pg_temp.usage_import_keys (idx, organization_id, occurred_at, event_id)"
		                 " FROM STDIN (FORMAT binary)", &b);
	/* Statistics, so the probe below looks keys up in the index rather than
	 * scanning every event. */
	if (probe && !rc)
		rc = aiplat_db_exec(im->db, "ANALYZE pg_temp.usage_import_keys", 0, NULL);
	aiplat_buf_clear(&b);
	PGresult *dups = NULL;
	if (probe && !rc)
		rc = aiplat_db_query(im->db, &dups,
			"SELECT k.idx FROM pg_temp.usage_import_keys k"
			" WHERE EXISTS (SELECT 1 FROM aiplat.usage_events e"
			"                WHERE e.organization_id = k.organization_id"
			"                  AND e.occurred_at = k.occurred_at AND e.event_id = k.event_id)"
			"    OR EXISTS (SELECT 1 FROM aiplat.usage_event_ids i"
			"                WHERE i.organization_id = k.organization_id AND i.event_id = k.event_id)",
			0, NULL);
	if (rc) {
		aiplat_buf_dispose(&b);
		return rc;
	}
	for (int row = 0; dups && row < PQntuples(dups); row++) {
		im->batch[atoi(PQgetvalue(dups, row, 0))].skip = true;
		im->res->duplicates++;
	}
	PQclear(dups);

	/* The new events, once, straight into their partitions. */
	copy_header(&b);
	uint64_t written = 0;
	for (size_t i = 0; i < im->nbatch && !rc; i++) {
		const event *e = &im->batch[i];
		if (e->skip)
			continue;
		const ref *org = &im->orgs.items[e->org], *model = &im->models.items[e->model];
		/* round(tokens x price) in millionths of a dollar, as the database computes it */
		int64_t cost = (e->tin * model->price_in + e->tout * model->price_out + 5000) / 10000;
		be16(&b, 11);
		f_uuid(&b, org->uuid);
		f_time(&b, e->at);
		f_uuid(&b, e->id);
		f_uuid(&b, im->users.items[e->user].uuid);
		f_int8(&b, model->id);
		f_int8(&b, e->tin);
		f_int8(&b, e->tout);
		if (e->latency >= 0)
			f_int4(&b, e->latency);
		else
			f_null(&b);
		if (e->request_len)
			f_text(&b, im->arena.ptr + e->request_off, e->request_len);
		else
			f_null(&b);
		f_int8(&b, cost);
		f_text(&b, "import", 6);
		rc = add_delta(im, e, local_day(org, e->at), cost);
		ref *o = &im->orgs.items[e->org];
		if (e->at < o->wrote_lo)
			o->wrote_lo = e->at;
		if (e->at > o->wrote_hi)
			o->wrote_hi = e->at;
		written++;
	}
	if (!rc && written) {
		/* A batch within one month goes straight into its partition (named
		 * by aiplat_internal.ensure_usage_partition, created above): no routing of
		 * every row through the parent, about 15% less server time. */
		char sql[400];
		snprintf(sql, sizeof(sql),
		         "COPY aiplat.%s (organization_id, occurred_at, event_id, user_id, model_id, tokens_in,"
		         " tokens_out, latency_ms, request_id, cost_micro_usd, source) FROM STDIN (FORMAT binary)",
		         partition[0] ? partition : "usage_events");
		im->copy_rows = written;
		rc = copy_start(im, sql, &b);
	}
	aiplat_buf_dispose(&b);
	return rc;
}

static int end_batch(importer *im)
{
	int rc = im->nbatch ? flush_batch(im) : 0;
	im->nbatch = 0;
	aiplat_buf_clear(&im->arena);
	return rc;
}

static int apply_deltas(importer *im)
{
	int rc = copy_finish(im, NULL);
	if (rc || !im->ndeltas)
		return rc;
	aiplat_buf b = AIPLAT_BUF_INIT;
	copy_header(&b);
	for (size_t i = 0; i < im->ndeltas; i++) {
		const delta *d = &im->deltas[i];
		be16(&b, 8);
		f_uuid(&b, im->orgs.items[d->org].uuid);
		f_date(&b, d->day);
		f_int8(&b, im->models.items[d->model].id);
		f_uuid(&b, im->users.items[d->user].uuid);
		f_int8(&b, d->tin);
		f_int8(&b, d->tout);
		f_int8(&b, d->requests);
		f_int8(&b, d->cost);
	}
	rc = copy_in(im, "COPY pg_temp.usage_import_deltas FROM STDIN (FORMAT binary)", &b);
	aiplat_buf_dispose(&b);
	if (!rc)
		rc = aiplat_db_exec(im->db, "SELECT aiplat_internal.apply_usage_deltas()", 0, NULL);
	return rc;
}

/* One audit row per organisation that --force let events into. */
static int audit_forced(importer *im)
{
	int rc = 0;
	for (size_t k = 0; k < im->nforced && !rc; k++) {
		if (!im->forced[k])
			continue;
		char org[37], n[32];
		aiplat_format_uuid(org, im->orgs.items[k].uuid);
		snprintf(n, sizeof(n), "%llu", (unsigned long long)im->forced[k]);
		const char *params[3] = { org, im->opts->path, n };
		rc = aiplat_db_exec(im->db,
			"SELECT aiplat_internal.audit('usage.import_forced', 'usage_events', NULL, NULL,"
			"       jsonb_build_object('file', $2::text, 'events_forced', $3::bigint), $1::uuid)",
			3, params);
	}
	return rc;
}

/* ---- reading ------------------------------------------------------------------------------ */

static aiplat_input_format guess_format(const char *path, FILE *f)
{
	size_t n = strlen(path);
	if (n > 4 && !strcmp(path + n - 4, ".csv"))
		return AIPLAT_INPUT_CSV;
	if ((n > 6 && !strcmp(path + n - 6, ".jsonl")) || (n > 7 && !strcmp(path + n - 7, ".ndjson")) ||
	    (n > 5 && !strcmp(path + n - 5, ".json")))
		return AIPLAT_INPUT_JSONL;
	int c;
	while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t')
		;
	if (c != EOF)
		ungetc(c, f);
	return c == '{' ? AIPLAT_INPUT_JSONL : AIPLAT_INPUT_CSV;
}

static void progress(importer *im, csv_reader *rd, uint64_t total)
{
	if (im->opts->progress)
		im->opts->progress(rd->bytes, total, im->res->lines, im->opts->ctx);
}

static int read_all(importer *im, FILE *f, uint64_t total)
{
	size_t batch_rows = im->opts->batch_rows ? im->opts->batch_rows : 100000;
	aiplat_input_format fmt = im->opts->format;
	if (fmt == AIPLAT_INPUT_AUTO)
		fmt = guess_format(im->opts->path, f);
	csv_reader rd;
	csv_init(&rd, f);
	int rc = 0, got;
	int column[CSV_MAX_FIELDS];
	size_t ncolumns = 0;
	if (fmt == AIPLAT_INPUT_CSV) {
		got = csv_next(&rd);
		if (got <= 0 || rd.error) {
			csv_dispose(&rd);
			return got < 0 ? aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_OS, "cannot read %s",
			                                  im->opts->path)
			               : aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
			                                  "%s: no CSV header line", im->opts->path);
		}
		bool seen[F_COUNT] = { false };
		ncolumns = rd.nfields;
		for (size_t i = 0; i < rd.nfields; i++) {
			column[i] = -1;
			for (int k = 0; k < F_COUNT; k++)
				if (!strcmp(rd.field[i], field_names[k]))
					column[i] = k;
			if (column[i] < 0 || seen[column[i]]) {
				int e = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
				                         "%s:1: %s column \"%s\" in the header", im->opts->path,
				                         column[i] < 0 ? "unknown" : "repeated", rd.field[i]);
				aiplat_error_hint("columns: event_id, occurred_at, org, user, model, tokens_in, "
				                  "tokens_out, latency_ms, request_id");
				csv_dispose(&rd);
				return e;
			}
			seen[column[i]] = true;
		}
		if (!seen[F_TOKENS_IN] && !seen[F_TOKENS_OUT]) {
			csv_dispose(&rd);
			return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
			                        "%s:1: the header has neither tokens_in nor tokens_out",
			                        im->opts->path);
		}
	}
	for (;;) {
		/* Keep the running COPY fed while this batch is parsed. */
		if ((im->res->lines & 2047) == 0)
			copy_pump(im);
		if (fmt == AIPLAT_INPUT_CSV) {
			got = csv_next(&rd);
			if (got == 1 && rd.nfields == 1 && rd.field_len[0] == 0)
				continue;   /* blank line */
		} else {
			const char *line;
			size_t len;
			got = csv_next_line(&rd, &line, &len);
			if (got == 1) {
				size_t k = 0;
				while (k < len && (line[k] == ' ' || line[k] == '\t'))
					k++;
				if (k == len)
					continue;
				im->res->lines++;
				if ((rc = parse_json_line(im, rd.line, line, len)) != 0)
					break;
			}
		}
		if (got < 0) {
			rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_OS, "cannot read %s: %s",
			                      im->opts->path, strerror(errno));
			break;
		}
		if (got == 0)
			break;
		if (fmt == AIPLAT_INPUT_CSV) {
			im->res->lines++;
			if (rd.error) {
				record_error(im, rd.line, "%s", rd.error);
			} else if (rd.nfields != ncolumns) {
				record_error(im, rd.line, "%zu fields where the header has %zu", rd.nfields, ncolumns);
			} else {
				raw r;
				memset(&r, 0, sizeof(r));
				for (size_t i = 0; i < ncolumns; i++)
					if (rd.field_len[i]) {   /* an empty field is a missing value */
						r.v[column[i]] = rd.field[i];
						r.n[column[i]] = rd.field_len[i];
					}
				if ((rc = add_record(im, rd.line, &r)) != 0)
					break;
			}
		}
		if (im->nbatch >= batch_rows) {
			if ((rc = end_batch(im)) != 0)
				break;
			progress(im, &rd, total);
		}
	}
	if (!rc)
		rc = end_batch(im);
	progress(im, &rd, total);
	csv_dispose(&rd);
	return rc;
}

/* ---- entry -------------------------------------------------------------------------------- */

int aiplat_usage_import(aiplat_db *db, const aiplat_import_opts *opts, aiplat_import_result *res)
{
	memset(res, 0, sizeof(*res));
	if (aiplat_db_identity(db)->acting)
	{
		aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
		                 "usage import is done by the platform itself, not as a person");
		return aiplat_error_set_field("identity", NULL);
	}
	int rc = aiplat_table_new(&res->errors, 2);
	if (rc)
		return rc;
	aiplat_table_set_column(res->errors, 0, "line", AIPLAT_COL_INT);
	aiplat_table_set_column(res->errors, 1, "error", AIPLAT_COL_TEXT);
	FILE *f = strcmp(opts->path, "-") ? fopen(opts->path, "rb") : stdin;
	if (!f)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_OS, "cannot open %s: %s",
		                        opts->path, strerror(errno));
	struct stat st;
	uint64_t total = (f != stdin && fstat(fileno(f), &st) == 0) ? (uint64_t)st.st_size : 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	importer im;
	memset(&im, 0, sizeof(im));
	im.db = db;
	im.pg = aiplat_db_pg(db);
	im.opts = opts;
	im.res = res;
	aiplat_buf_init(&im.arena);
	size_t batch_rows = opts->batch_rows ? opts->batch_rows : 100000;
	im.batch = malloc(batch_rows * sizeof(event));
	/* Room for the file's event ids at once (an event takes over 128 bytes
	 * of CSV): growing the set as it fills would rehash it several times. */
	uint64_t expected = total / 128 < 8000000 ? total / 128 : 8000000;
	if (im.batch && expected && eventset_reserve(&im.seen, (size_t)expected) != 0) {
		free(im.batch);
		im.batch = NULL;
	}
	if (!im.batch) {
		rc = nomem();
		goto out;
	}
	/* One import at a time: the duplicate check sees every committed event. */
	if ((rc = aiplat_db_begin(db)) != 0)
		goto out;
	rc = aiplat_db_exec_script(db,
		"SELECT " AIPLAT_LOCK_XACT_SQL(AIPLAT_LOCK_USAGE_IMPORT) ";"
		/* Short, many statements: compiling them would cost more than it saves. */
		"SET LOCAL jit = off;"
		"CREATE TEMP TABLE usage_import_keys (idx int, organization_id uuid, occurred_at timestamptz,"
		"                                     event_id uuid) ON COMMIT DROP;"
		"CREATE TEMP TABLE usage_import_deltas (organization_id uuid, day date, model_id bigint,"
		"                                       user_id uuid, tokens_in bigint, tokens_out bigint,"
		"                                       requests bigint, cost_micro_usd bigint) ON COMMIT DROP;");
	if (!rc)
		rc = read_all(&im, f, total);
	if (!rc)
		rc = copy_finish(&im, NULL);
	else
		copy_finish(&im, "the import failed");
	if (!rc && im.failed) {
		rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                      "%llu invalid line%s in %s; nothing was imported",
		                      (unsigned long long)res->invalid, res->invalid == 1 ? "" : "s", opts->path);
		aiplat_error_set_field("skip_invalid", NULL);
	}
	if (!rc)
		rc = apply_deltas(&im);
	if (!rc)
		rc = audit_forced(&im);
	if (!rc)
		rc = aiplat_db_commit(db);
	else
		aiplat_db_rollback(db);
	if (rc)
		res->imported = 0;
out:
	hand_over_errors(&im);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (f != stdin)
		fclose(f);
	refs_dispose(&im.orgs);
	refs_dispose(&im.users);
	refs_dispose(&im.models);
	aiplat_map_dispose(&im.members);
	aiplat_map_dispose(&im.fits);
	aiplat_map_dispose(&im.org_ids);
	eventset_dispose(&im.seen);
	free(im.twins);
	free(im.forced);
	aiplat_map_dispose(&im.delta_index);
	free(im.deltas);
	free(im.batch);
	aiplat_buf_dispose(&im.arena);
	return rc;
}

void aiplat_import_result_dispose(aiplat_import_result *r)
{
	aiplat_table_free(r->errors);
	memset(r, 0, sizeof(*r));
}
