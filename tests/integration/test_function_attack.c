/*
 * Functions are part of the security boundary (DESIGN.md section 4). A
 * login role mapped to a person can call every function it can reach, with
 * any arguments and any settings. Here two such roles of acme-legal (A), a
 * plain user and an admin, call every function of the schema, enumerated
 * from pg_proc (so a new function is covered without touching this file),
 * with brightpath's (B) ids, slugs and emails, and under crafted settings:
 *
 *   - no oracle: each answer with one of B's values must be the answer with
 *     a value that exists nowhere (messages compared with the value blanked
 *     out, generated ids and times normalised);
 *   - nothing of B comes back: no answer contains one of B's values that the
 *     caller did not pass in itself;
 *   - nothing is written outside A: every row of every table that does not
 *     belong to A, the list of relations, schemas and roles, is digested
 *     before and after each function's calls (which are committed).
 *
 * Beside that: the list of functions a person may call is the one in
 * aiplat_internal.functions, EXECUTE follows it exactly, every SECURITY
 * DEFINER function is on it with why, and the
 * audit trail cannot be forged, relabelled or switched off by a person.
 */
#include <ctype.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "runproc.h"
#include "testdb.h"

static testdb db;
static PGconn *owner;
static char *fingerprint_sql;

/* Ids of the demo data. */
static char a_org[37], b_org[37], aaron[37], alice[37], bella[37], ben[37], a_res[37], b_res[37];
static char b_event[37];

/* The two attackers: mapped login roles of acme-legal. */
typedef struct attacker {
	const char *email;
	const char *label;
	char role[64];
	PGconn *conn;
} attacker;
static attacker attackers[2] = {
	{ "aaron@acme-legal.test", "a plain user", "", NULL },
	{ "alice@acme-legal.test", "an admin", "", NULL },
};

/* Exists nowhere: what every B value is compared with. */
#define NOWHERE_UUID "00000000-0000-4000-8000-0000000dead0"

/* One of B's values, the kind of parameter it fits, and its nonexistent twin. */
typedef struct secret {
	const char *what;
	bool is_uuid;           /* fits uuid parameters (and text ones, as text) */
	const char *b;
	const char *nowhere;
} secret;
static secret secrets[9];
static size_t nsecrets;

/* Known by design: members:manage may look anyone up by email (to add them). */
typedef struct exception {
	const char *function;
	const char *attacker_label;
	const char *why;
} exception;
static const exception exceptions[] = {
	{ "find_user_id", "an admin", "members:manage finds a person by email to add them" },
};

/* ---- helpers ------------------------------------------------------------------------------ */

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	assert_non_null(d);
	return d;
}

static char *replace_all(const char *s, const char *needle, const char *with)
{
	if (!needle || !*needle)
		return xstrdup(s);
	size_t nl = strlen(needle), wl = strlen(with), count = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += nl)
		count++;
	char *out = malloc(strlen(s) + count * wl + 1);
	assert_non_null(out);
	char *o = out;
	for (const char *p = s;;) {
		const char *hit = strstr(p, needle);
		if (!hit) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(hit - p));
		o += hit - p;
		memcpy(o, with, wl);
		o += wl;
		p = hit + nl;
	}
	return out;
}

static char *regex_replace_all(const char *s, const regex_t *re, const char *with)
{
	size_t cap = strlen(s) * 2 + 64, len = 0;
	char *out = malloc(cap);
	assert_non_null(out);
	const char *p = s;
	regmatch_t m;
	while (*p && regexec(re, p, 1, &m, 0) == 0 && m.rm_eo > m.rm_so) {
		size_t need = len + (size_t)m.rm_so + strlen(with) + 1;
		if (need > cap) {
			cap = need * 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		memcpy(out + len, p, (size_t)m.rm_so);
		len += (size_t)m.rm_so;
		memcpy(out + len, with, strlen(with));
		len += strlen(with);
		p += m.rm_eo;
	}
	size_t rest = strlen(p);
	if (len + rest + 1 > cap) {
		out = realloc(out, len + rest + 1);
		assert_non_null(out);
	}
	memcpy(out + len, p, rest + 1);
	return out;
}

static regex_t uuid_re, time_re;

/* The answer with the value passed blanked out, and generated ids and times
 * made equal: what two calls must agree on. */
static char *normalise(const char *answer, const char *v1, const char *v2)
{
	char *a = replace_all(answer, v1, "<v>");
	char *b = replace_all(a, v2, "<v>");
	free(a);
	char *c = regex_replace_all(b, &uuid_re, "<uuid>");
	free(b);
	char *d = regex_replace_all(c, &time_re, "<time>");
	free(c);
	return d;
}

/* Any of B's values in an answer, other than the one passed in. */
static const char *leaked(const char *answer, const char *passed)
{
	char *a = replace_all(answer, passed, "<v>");
	const char *found = NULL;
	for (size_t i = 0; i < nsecrets && !found; i++)
		if (strstr(a, secrets[i].b))
			found = secrets[i].what;
	free(a);
	return found;
}

static void value_into(char *dst, size_t size, const char *sql)
{
	char *v = testdb_value(owner, sql, 0, NULL);
	snprintf(dst, size, "%s", v);
	free(v);
}

/* ---- the functions ------------------------------------------------------------------------- */

typedef struct function {
	char *name;              /* without schema */
	char *signature;
	char *purpose;           /* from the list, or "" */
	bool returns_void;
	int nargs;
	char *arg_names[16];
	char *arg_types[16];
} function;

static function *functions;
static size_t nfunctions;

static void load_functions(void)
{
	PGresult *r = PQexec(owner,
		"SELECT p.proname, p.oid::regprocedure::text, coalesce(c.purpose, ''),"
		"       p.prorettype = 'void'::regtype, p.pronargs,"
		"       array_to_string(ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t), '|'),"
		"       array_to_string(coalesce(ARRAY(SELECT coalesce(nullif(a.n, ''), '$' || a.o)"
		"                                       FROM unnest(p.proargnames, p.proargmodes) WITH ORDINALITY"
		"                                            AS a(n, m, o)"
		"                                      WHERE a.m IS NULL OR a.m IN ('i', 'b', 'v')"
		"                                      ORDER BY a.o), '{}'), '|')"
		"  FROM pg_proc p"
		"  LEFT JOIN aiplat_internal.functions c ON c.signature::regprocedure = p.oid"
		" WHERE p.pronamespace = 'aiplat'::regnamespace"
		"   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass"
		"                    AND d.objid = p.oid AND d.deptype = 'e')"
		" ORDER BY 1, 2");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("listing functions: %s", PQerrorMessage(owner));
	nfunctions = (size_t)PQntuples(r);
	functions = calloc(nfunctions, sizeof(function));
	assert_non_null(functions);
	for (size_t i = 0; i < nfunctions; i++) {
		function *f = &functions[i];
		f->name = xstrdup(PQgetvalue(r, (int)i, 0));
		f->signature = xstrdup(PQgetvalue(r, (int)i, 1));
		f->purpose = xstrdup(PQgetvalue(r, (int)i, 2));
		f->returns_void = !strcmp(PQgetvalue(r, (int)i, 3), "t");
		f->nargs = atoi(PQgetvalue(r, (int)i, 4));
		assert_true(f->nargs <= 16);
		char *types = xstrdup(PQgetvalue(r, (int)i, 5)), *names = xstrdup(PQgetvalue(r, (int)i, 6));
		char *save1 = NULL, *save2 = NULL, *t = strtok_r(types, "|", &save1), *n = strtok_r(names, "|", &save2);
		for (int k = 0; k < f->nargs; k++) {
			f->arg_types[k] = xstrdup(t ? t : "text");
			f->arg_names[k] = xstrdup(n ? n : "");
			t = strtok_r(NULL, "|", &save1);
			n = strtok_r(NULL, "|", &save2);
		}
		free(types);
		free(names);
	}
	PQclear(r);
}

static void free_functions(void)
{
	for (size_t i = 0; i < nfunctions; i++) {
		function *f = &functions[i];
		free(f->name);
		free(f->signature);
		free(f->purpose);
		for (int k = 0; k < f->nargs; k++) {
			free(f->arg_names[k]);
			free(f->arg_types[k]);
		}
	}
	free(functions);
}

/* A legitimate value of A's for a parameter, chosen by its name and type:
 * the attacker's own organisation, self, a model enabled there, a mode that
 * writes (so that what a B value could write is tried). */
static const char *base_value(const char *name, const char *type, const attacker *who)
{
	bool is_uuid = !strcmp(type, "uuid");
	const char *self = who == &attackers[0] ? aaron : alice;
	if (strstr(name, "reservation"))
		return who == &attackers[0] ? a_res : NULL;
	if (strstr(name, "org"))
		return is_uuid ? a_org : "acme-legal";
	if (strstr(name, "user") || strstr(name, "usr") || strstr(name, "email") || strstr(name, "ident") ||
	    !strcmp(name, "p_as_email"))
		return is_uuid ? self : who->email;
	if (is_uuid)
		return NULL;   /* event ids and the like: none */
	if (!strcmp(type, "bigint") || !strcmp(type, "integer")) {
		if (strstr(name, "model"))
			return NULL;   /* filled in by the caller: Basic Assistant's id */
		if (strstr(name, "tokens_out"))
			return "0";    /* so that in + out add up to the tokens */
		return "1";
	}
	if (!strcmp(type, "boolean"))
		return strstr(name, "force") ? "false" : "true";
	if (!strcmp(type, "jsonb"))
		return "{}";
	if (!strcmp(type, "timestamp with time zone") || !strcmp(type, "interval") || !strcmp(type, "date"))
		return NULL;
	if (strstr(name, "model"))
		return "Basic Assistant";
	if (strstr(name, "mode"))
		return "consume";
	if (strstr(name, "source"))
		return "settle";
	if (strstr(name, "flag"))
		return "ai";
	if (strstr(name, "resource"))
		return "usage";
	if (strstr(name, "action"))
		return "read";
	if (strstr(name, "key"))
		return "greeting";
	if (!strcmp(name, "tz"))
		return "UTC";
	if (strstr(name, "period"))
		return "monthly";
	return "x";
}

static char basic_model[32];

static void base_vector(const function *f, const attacker *who, const char **vals)
{
	for (int k = 0; k < f->nargs; k++) {
		vals[k] = base_value(f->arg_names[k], f->arg_types[k], who);
		if (!vals[k] && strstr(f->arg_names[k], "model") &&
		    (!strcmp(f->arg_types[k], "bigint") || !strcmp(f->arg_types[k], "integer")))
			vals[k] = basic_model;
	}
}

/* ---- calling ------------------------------------------------------------------------------- */

/* Transaction settings an attacker may set. */
typedef struct settings {
	const char *org_id;
	const char *user_id;
	bool crafted;            /* relabel, switch auditing off, allow pruning, move the clock */
	bool set_role;           /* SET LOCAL ROLE aiplat_app first */
} settings;

static void exec_in(PGconn *c, const char *sql, int n, const char *const *p)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
	PQclear(r);
}

/* One call in its own transaction: "ok|<json>" or "err|<sqlstate>|<message>". */
static char *call(PGconn *c, const function *f, const char *const *vals, const settings *s, bool commit)
{
	char sql[2048];
	int n = snprintf(sql, sizeof(sql), f->returns_void ? "SELECT 'void' FROM aiplat.%s(" :
	                 "SELECT json_agg(x)::text FROM aiplat.%s(", f->name);
	for (int k = 0; k < f->nargs; k++)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, "%s$%d::%s", k ? ", " : "", k + 1, f->arg_types[k]);
	snprintf(sql + n, sizeof(sql) - (size_t)n, f->returns_void ? ")" : ") AS x");
	exec_in(c, "BEGIN", 0, NULL);
	if (s->org_id)
		exec_in(c, "SELECT set_config('aiplat.org_id', $1, true)", 1, (const char *const[]){ s->org_id });
	if (s->user_id)
		exec_in(c, "SELECT set_config('aiplat.user_id', $1, true)", 1, (const char *const[]){ s->user_id });
	if (s->crafted)
		exec_in(c, "SELECT set_config('aiplat.audit_action', 'prompt.view', true),"
		           "       set_config('aiplat.audit', 'off', true), set_config('aiplat.allow_prune', 'on', true),"
		           "       set_config('aiplat.test_now', '2000-01-01T00:00:00Z', true)", 0, NULL);
	if (s->set_role)
		exec_in(c, "SET LOCAL ROLE aiplat_app", 0, NULL);
	PGresult *r = PQexecParams(c, sql, f->nargs, NULL, vals, NULL, NULL, 0);
	char *out;
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		const char *v = PQntuples(r) && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "";
		out = malloc(strlen(v) + 4);
		assert_non_null(out);
		sprintf(out, "ok|%s", v);
	} else {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		out = malloc(strlen(state ? state : "") + strlen(msg ? msg : "") + 8);
		assert_non_null(out);
		sprintf(out, "err|%s|%s", state ? state : "", msg ? msg : "");
	}
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	exec_in(c, commit && ok ? "COMMIT" : "ROLLBACK", 0, NULL);
	return out;
}

static const exception *excepted(const function *f, const attacker *who)
{
	for (size_t i = 0; i < sizeof(exceptions) / sizeof(exceptions[0]); i++)
		if (!strcmp(exceptions[i].function, f->name) && !strcmp(exceptions[i].attacker_label, who->label))
			return &exceptions[i];
	return NULL;
}

static int pairs_compared, calls_made, leaks_checked;

/* The same call with a B value and with its twin that exists nowhere. */
static void compare_pair(const function *f, const attacker *who, const char **vals, int k, const secret *sec,
                         const settings *s)
{
	const char *keep = vals[k];
	vals[k] = sec->b;
	char *with_b = call(who->conn, f, vals, s, false);
	vals[k] = sec->nowhere;
	char *with_n = call(who->conn, f, vals, s, false);
	vals[k] = keep;
	calls_made += 2;
	const char *leak = leaked(with_b, sec->b);
	leaks_checked++;
	if (leak)
		fail_msg("%s: %s, passing B's %s as %s, got back B's %s: %s", f->signature, who->label, sec->what,
		         f->arg_names[k], leak, with_b);
	if (strcmp(f->purpose, "pure") != 0 && !excepted(f, who)) {
		char *nb = normalise(with_b, sec->b, sec->nowhere), *nn = normalise(with_n, sec->b, sec->nowhere);
		pairs_compared++;
		if (strcmp(nb, nn) != 0)
			fail_msg("%s: %s learns that B's %s exists (as %s):\n  with B's:  %s\n  with none: %s",
			         f->signature, who->label, sec->what, f->arg_names[k], with_b, with_n);
		free(nb);
		free(nn);
	}
	free(with_b);
	free(with_n);
}

/* Settings naming B's organisation or person, against ones naming nobody. */
static void compare_settings(const function *f, const attacker *who, const char **vals, bool org)
{
	settings sb = { org ? b_org : NULL, org ? NULL : bella, false, false };
	settings sn = { org ? NOWHERE_UUID : NULL, org ? NULL : NOWHERE_UUID, false, false };
	char *with_b = call(who->conn, f, vals, &sb, false);
	char *with_n = call(who->conn, f, vals, &sn, false);
	calls_made += 2;
	const char *leak = leaked(with_b, "");
	if (leak)
		fail_msg("%s: %s, with aiplat.%s set to B's, got back B's %s: %s", f->signature, who->label,
		         org ? "org_id" : "user_id", leak, with_b);
	if (strcmp(f->purpose, "pure") != 0 && !excepted(f, who)) {
		char *nb = normalise(with_b, org ? b_org : bella, NOWHERE_UUID);
		char *nn = normalise(with_n, org ? b_org : bella, NOWHERE_UUID);
		pairs_compared++;
		if (strcmp(nb, nn) != 0)
			fail_msg("%s: %s learns something from aiplat.%s = B's:\n  with B's:  %s\n  with none: %s",
			         f->signature, who->label, org ? "org_id" : "user_id", with_b, with_n);
		free(nb);
		free(nn);
	}
	free(with_b);
	free(with_n);
}

static bool fits(const secret *sec, const char *type)
{
	return !strcmp(type, "text") || (sec->is_uuid && !strcmp(type, "uuid"));
}

/* Everything that is not acme-legal's: rows of every table, relations, schemas, roles. */
static char *fingerprint(void)
{
	return testdb_value(owner, fingerprint_sql, 0, NULL);
}

/* Every parameter with every B value that fits it, and B's settings: in
 * transactions rolled back, so that each pair is asked of the same data. */
static void compare_function(const function *f, const attacker *who)
{
	const char *vals[16];
	base_vector(f, who, vals);
	settings none = { NULL, NULL, false, false };
	for (int k = 0; k < f->nargs; k++)
		for (size_t i = 0; i < nsecrets; i++)
			if (fits(&secrets[i], f->arg_types[k]))
				compare_pair(f, who, vals, k, &secrets[i], &none);
	compare_settings(f, who, vals, true);
	compare_settings(f, who, vals, false);
}

/* The same calls committed, and crafted settings (relabelling, auditing off,
 * pruning allowed, the clock moved; through aiplat_app or not): nothing
 * outside acme-legal may change. */
static void write_function(const function *f, const attacker *who)
{
	const char *vals[16];
	base_vector(f, who, vals);
	settings none = { NULL, NULL, false, false };
	char *before = fingerprint();
	for (int k = 0; k < f->nargs; k++)
		for (size_t i = 0; i < nsecrets; i++)
			if (fits(&secrets[i], f->arg_types[k])) {
				const char *keep = vals[k];
				vals[k] = secrets[i].b;
				free(call(who->conn, f, vals, &none, true));
				vals[k] = keep;
				calls_made++;
			}
	static const settings committed[] = {
		{ NULL, NULL, true, false }, { NULL, NULL, true, true }, { NULL, NULL, false, true },
	};
	for (size_t i = 0; i < sizeof(committed) / sizeof(committed[0]); i++) {
		settings s = committed[i];
		free(call(who->conn, f, vals, &s, true));
		s.org_id = b_org;
		free(call(who->conn, f, vals, &s, true));
		s.org_id = NULL;
		s.user_id = bella;
		free(call(who->conn, f, vals, &s, true));
		calls_made += 3;
	}
	char *after = fingerprint();
	if (strcmp(before, after) != 0)
		fail_msg("%s: %s's calls changed data outside acme-legal", f->signature, who->label);
	free(before);
	free(after);
}

/* ---- set-up --------------------------------------------------------------------------------- */

static void map_role(attacker *a)
{
	snprintf(a->role, sizeof(a->role), "t%ld_%.5s", (long)getpid(), a->email);
	char sql[512];
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", a->role);
	testdb_exec(owner, sql);
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", db.url, "-q", "user", "map-login", a->email, a->role, "--create", NULL);
	expect_exit(&r, 0, "map-login");
	run_result_free(&r);
	char url[1200];
	snprintf(url, sizeof(url), "%s", db.url);
	char *user = strstr(url, "user=");
	assert_non_null(user);
	snprintf(user, sizeof(url) - (size_t)(user - url), "user=%s", a->role);
	a->conn = PQconnectdb(url);
	if (PQstatus(a->conn) != CONNECTION_OK)
		fail_msg("connect as %s: %s", a->role, PQerrorMessage(a->conn));
	PQsetNoticeProcessor(a->conn, NULL, NULL);
}

static void build_fingerprint_sql(void)
{
	const char *p[1] = { a_org };
	char *unions = testdb_value(owner,
		"SELECT string_agg(format('SELECT %L || '' '' || t::text FROM %I.%I t WHERE %s',"
		"                         n.nspname || '.' || c.relname, n.nspname, c.relname,"
		"                         CASE WHEN c.oid = 'aiplat.organizations'::regclass"
		"                                THEN format('t.id <> %L', $1::text)"
		"                              WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid"
		"                                            AND a.attname = 'organization_id' AND NOT a.attisdropped)"
		"                                THEN format('t.organization_id IS DISTINCT FROM %L', $1::text)"
		"                              ELSE 'true' END), ' UNION ALL ' ORDER BY c.relname)"
		"  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
		" WHERE n.nspname IN ('aiplat', 'aiplat_internal', 'aiplat_meta') AND c.relkind IN ('r', 'p')"
		"   AND NOT c.relispartition", 1, p);
	/* Roles are cluster-wide (other tests make theirs): those of this test
	 * and aiplat_app, what they are and what they are members of. */
	char tail[2048];
	snprintf(tail, sizeof(tail),
		" UNION ALL SELECT 'rel ' || c.oid::regclass::text FROM pg_class c"
		"   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT LIKE 'pg\\_%%'"
		" UNION ALL SELECT 'schema ' || nspname || coalesce(nspacl::text, '') FROM pg_namespace"
		" UNION ALL SELECT 'role ' || rolname || ' ' || rolsuper || rolbypassrls || rolcreaterole FROM pg_roles"
		"   WHERE rolname IN ('aiplat_app', '%s', '%s')"
		" UNION ALL SELECT 'grant ' || r.rolname || ' in ' || g.rolname FROM pg_auth_members m"
		"   JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid"
		"  WHERE r.rolname IN ('aiplat_app', '%s', '%s') OR g.rolname IN ('aiplat_app', '%s', '%s')",
		attackers[0].role, attackers[1].role, attackers[0].role, attackers[1].role, attackers[0].role,
		attackers[1].role);
	size_t n = strlen(unions) + strlen(tail) + 128;
	fingerprint_sql = malloc(n);
	assert_non_null(fingerprint_sql);
	snprintf(fingerprint_sql, n, "SELECT md5(string_agg(x, E'\\n' ORDER BY x)) FROM (%s%s) s(x)", unions, tail);
	free(unions);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(regcomp(&uuid_re, "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
	                                   "[0-9a-fA-F]{12}", REG_EXTENDED), 0);
	assert_int_equal(regcomp(&time_re, "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}"
	                                   "(\\.[0-9]+)?([+-][0-9]{2}(:[0-9]{2})?|Z)?", REG_EXTENDED), 0);
	testdb_create(&db, true);
	testdb_seed(&db, true);
	owner = testdb_connect(&db);
	char *fixture = read_file(AIPLAT_SOURCE_DIR "/tests/integration/fixtures/tenant_rows.sql");
	assert_non_null(fixture);
	testdb_exec(owner, fixture);
	free(fixture);
	value_into(a_org, sizeof(a_org), "SELECT id FROM aiplat.organizations WHERE slug = 'acme-legal'");
	value_into(b_org, sizeof(b_org), "SELECT id FROM aiplat.organizations WHERE slug = 'brightpath'");
	value_into(aaron, sizeof(aaron), "SELECT id FROM aiplat.users WHERE email = 'aaron@acme-legal.test'");
	value_into(alice, sizeof(alice), "SELECT id FROM aiplat.users WHERE email = 'alice@acme-legal.test'");
	value_into(bella, sizeof(bella), "SELECT id FROM aiplat.users WHERE email = 'bella@brightpath.test'");
	value_into(ben, sizeof(ben), "SELECT id FROM aiplat.users WHERE email = 'ben@brightpath.test'");
	value_into(basic_model, sizeof(basic_model), "SELECT id FROM aiplat.ai_models_system WHERE name = 'Basic Assistant'");
	value_into(b_res, sizeof(b_res),
	           "SELECT r.id FROM aiplat.quota_reservations r JOIN aiplat.organizations o ON o.id = r.organization_id"
	           " WHERE o.slug = 'brightpath' LIMIT 1");
	value_into(a_res, sizeof(a_res),
	           "SELECT reservation_id FROM aiplat.quota_admit("
	           " (SELECT id FROM aiplat.organizations WHERE slug = 'acme-legal'), 'aaron@acme-legal.test',"
	           " 'Legal Document Analyst', 100, 'reserve', p_ttl => interval '1 hour')");
	value_into(b_event, sizeof(b_event),
	           "SELECT event_id FROM aiplat.quota_admit("
	           " (SELECT id FROM aiplat.organizations WHERE slug = 'brightpath'), 'ben@brightpath.test',"
	           " 'Blog Content Writer Pro', 50, 'consume')");
	secrets[nsecrets++] = (secret){ "organisation id", true, b_org, NOWHERE_UUID };
	secrets[nsecrets++] = (secret){ "person id", true, bella, "00000000-0000-4000-8000-0000000dead1" };
	secrets[nsecrets++] = (secret){ "other person id", true, ben, "00000000-0000-4000-8000-0000000dead2" };
	secrets[nsecrets++] = (secret){ "reservation id", true, b_res, "00000000-0000-4000-8000-0000000dead3" };
	secrets[nsecrets++] = (secret){ "event id", true, b_event, "00000000-0000-4000-8000-0000000dead4" };
	secrets[nsecrets++] = (secret){ "slug", false, "brightpath", "nowhere-at-all" };
	secrets[nsecrets++] = (secret){ "name", false, "BrightPath Marketing", "Nowhere At All Ltd" };
	secrets[nsecrets++] = (secret){ "admin's email", false, "bella@brightpath.test", "nobody@nowhere.test" };
	secrets[nsecrets++] = (secret){ "user's email", false, "ben@brightpath.test", "no-one@nowhere.test" };
	for (size_t i = 0; i < 2; i++)
		map_role(&attackers[i]);
	build_fingerprint_sql();
	load_functions();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		PQfinish(attackers[i].conn);
		char sql[256];
		snprintf(sql, sizeof(sql), "DROP OWNED BY %s", attackers[i].role);
		testdb_exec(owner, sql);
		snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", attackers[i].role);
		testdb_exec(owner, sql);
	}
	free_functions();
	free(fingerprint_sql);
	regfree(&uuid_re);
	regfree(&time_re);
	PQfinish(owner);
	testdb_drop(&db);
	return 0;
}

/* ---- the tests ------------------------------------------------------------------------------ */

static void test_every_function_as_two_attackers(void **state)
{
	(void)state;
	assert_true(nfunctions >= 25);
	/* First every question (nothing changes), then every write. */
	for (size_t w = 0; w < 2; w++)
		for (size_t i = 0; i < nfunctions; i++)
			compare_function(&functions[i], &attackers[w]);
	for (size_t w = 0; w < 2; w++)
		for (size_t i = 0; i < nfunctions; i++)
			write_function(&functions[i], &attackers[w]);
	/* Not vacuous: every function was called, most with B's values. */
	assert_true(pairs_compared > 200);
	print_message("attacked %zu functions as %zu roles: %d calls, %d pairs compared, %d answers searched "
	              "for B's values\n", nfunctions, (size_t)2, calls_made, pairs_compared, leaks_checked);
}

/* The one list: every function of schema aiplat is on it (with why), and
 * every SECURITY DEFINER function of either schema; EXECUTE follows it
 * exactly, nothing is executable by PUBLIC, and aiplat_app cannot even name
 * what lives in aiplat_internal. */
static void test_callable_list_is_the_grants(void **state)
{
	(void)state;
	/* A function of schema aiplat, or a SECURITY DEFINER one anywhere, that is not listed. */
	char *unlisted = testdb_value(owner,
		"SELECT coalesce(string_agg(p.oid::regprocedure::text, ', '), '') FROM pg_proc p"
		" WHERE (p.pronamespace = 'aiplat'::regnamespace"
		"        OR (p.pronamespace = 'aiplat_internal'::regnamespace AND p.prosecdef))"
		"   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass"
		"                    AND d.objid = p.oid AND d.deptype = 'e')"
		"   AND NOT EXISTS (SELECT 1 FROM aiplat_internal.functions c"
		"                    WHERE c.signature::regprocedure = p.oid)", 0, NULL);
	if (*unlisted)
		fail_msg("functions not in aiplat_internal.functions (every function of schema aiplat, which "
		         "people may call, and every SECURITY DEFINER one, each with why): %s", unlisted);
	free(unlisted);
	/* Every entry names a function that exists, in the schema the entry says. */
	assert_int_equal(testdb_long(owner,
		"SELECT count(*) FROM aiplat_internal.functions c"
		"  JOIN pg_proc p ON p.oid = c.signature::regprocedure"
		" WHERE p.pronamespace <> CASE WHEN c.callable THEN 'aiplat'::regnamespace"
		"                              ELSE 'aiplat_internal'::regnamespace END", 0, NULL), 0);
	/* Who may execute what, for every function of both schemas. */
	char *wrong = testdb_value(owner,
		"SELECT coalesce(string_agg(p.oid::regprocedure::text, ', '), '') FROM pg_proc p"
		" WHERE p.pronamespace IN ('aiplat'::regnamespace, 'aiplat_internal'::regnamespace)"
		"   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass"
		"                    AND d.objid = p.oid AND d.deptype = 'e')"
		"   AND (has_function_privilege('aiplat_app', p.oid, 'EXECUTE')"
		"          <> EXISTS (SELECT 1 FROM aiplat_internal.functions c"
		"                      WHERE c.signature::regprocedure = p.oid AND c.callable)"
		"        OR p.proacl IS NULL"
		"        OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) e"
		"                    WHERE e.grantee = 0 AND e.privilege_type = 'EXECUTE'))", 0, NULL);
	if (*wrong)
		fail_msg("EXECUTE does not follow the list (or PUBLIC may execute) for: %s", wrong);
	free(wrong);
	/* SECURITY DEFINER functions pin their search_path. */
	char *unpinned = testdb_value(owner,
		"SELECT coalesce(string_agg(p.oid::regprocedure::text, ', '), '') FROM pg_proc p"
		" WHERE p.pronamespace IN ('aiplat'::regnamespace, 'aiplat_internal'::regnamespace) AND p.prosecdef"
		"   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')", 0, NULL);
	if (*unpinned)
		fail_msg("SECURITY DEFINER functions without a search_path: %s", unpinned);
	free(unpinned);
	assert_int_equal(testdb_long(owner, "SELECT has_schema_privilege('aiplat_app', 'aiplat_internal', 'USAGE')::int",
	                             0, NULL), 0);
	/* Through an attacker: internal helpers cannot be named at all. */
	static const char *const internal[] = {
		"SELECT aiplat_internal.audit('x.y', 'x', NULL, NULL, NULL)",
		"SELECT aiplat_internal.quota_housekeeping()",
		"SELECT aiplat_internal.ensure_usage_partition('2099-01-01')",
		"SELECT * FROM aiplat_internal.functions",
	};
	for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++) {
		PGresult *r = PQexec(attackers[0].conn, internal[i]);
		const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (PQresultStatus(r) == PGRES_TUPLES_OK || !code || strcmp(code, "42501") != 0)
			fail_msg("%s as a person: %s, expected permission denied", internal[i],
			         PQresultStatus(r) == PGRES_TUPLES_OK ? "it ran" : PQerrorMessage(attackers[0].conn));
		PQclear(r);
	}
}

static long audit_count(const char *where)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM aiplat.audit_logs WHERE %s", where);
	return testdb_long(owner, sql, 0, NULL);
}

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

/* The attacks the review found, each by name. */
static void test_audit_cannot_be_forged_relabelled_or_suppressed(void **state)
{
	(void)state;
	PGconn *user = attackers[0].conn, *admin = attackers[1].conn;
	const char *p[1] = { b_org };
	long b_rows = testdb_long(owner, "SELECT count(*) FROM aiplat.audit_logs WHERE organization_id = $1::uuid", 1, p);
	/* Forged entries in another organisation's log, a thousand at once. */
	static const char *const forge[] = {
		"SELECT aiplat.audit('prompt.view', 'prompts', NULL, NULL, NULL, '%s') FROM generate_series(1, 1000)",
		"SELECT aiplat_internal.audit('prompt.view', 'prompts', NULL, NULL, NULL, '%s') FROM generate_series(1, 1000)",
		"INSERT INTO aiplat.audit_logs (organization_id, action, resource_type) VALUES ('%s', 'x.y', 'x')",
	};
	for (size_t i = 0; i < sizeof(forge) / sizeof(forge[0]); i++) {
		char sql[512];
		snprintf(sql, sizeof(sql), forge[i], b_org);
		PGresult *r = PQexec(user, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK)
			fail_msg("a person could run: %s", sql);
		PQclear(r);
	}
	assert_int_equal(testdb_long(owner, "SELECT count(*) FROM aiplat.audit_logs WHERE organization_id = $1::uuid",
	                             1, p), b_rows);

	/* A harmless label on a role change: the row says what really happened. */
	char sql[1024];
	snprintf(sql, sizeof(sql),
	         "BEGIN; SELECT set_config('aiplat.org_id', '%s', true),"
	         " set_config('aiplat.audit_action', 'prompt.view', true), set_config('aiplat.audit', 'off', true);"
	         " SET LOCAL ROLE aiplat_app;"
	         " UPDATE aiplat.organization_members SET role_id = (SELECT id FROM aiplat.roles"
	         "   WHERE organization_id IS NULL AND name = 'viewer') WHERE user_id = '%s'; COMMIT", a_org, aaron);
	long relabelled = audit_count("action = 'prompt.view'");
	long changes = audit_count("action = 'organization_members.update'");
	exec_ok(admin, sql);
	assert_int_equal(audit_count("action = 'prompt.view'"), relabelled);
	/* ... and aiplat.audit = off did not suppress it. */
	assert_int_equal(audit_count("action = 'organization_members.update'"), changes + 1);
	char *row = testdb_value(owner, "SELECT actor_email || ' ' || org_slug FROM aiplat.audit_logs"
	                                " WHERE action = 'organization_members.update' ORDER BY id DESC LIMIT 1", 0, NULL);
	assert_string_equal(row, "alice@acme-legal.test acme-legal");
	free(row);
	/* A label registered for that change is kept. */
	snprintf(sql, sizeof(sql),
	         "BEGIN; SELECT set_config('aiplat.org_id', '%s', true), set_config('aiplat.audit_action', 'tenant.set_role', true);"
	         " SET LOCAL ROLE aiplat_app;"
	         " UPDATE aiplat.organization_members SET role_id = (SELECT id FROM aiplat.roles"
	         "   WHERE organization_id IS NULL AND name = 'user') WHERE user_id = '%s'; COMMIT", a_org, aaron);
	long set_role = audit_count("action = 'tenant.set_role'");
	exec_ok(admin, sql);
	assert_int_equal(audit_count("action = 'tenant.set_role'"), set_role + 1);

	/* A change to oneself with the organisation set to another's: not logged there. */
	snprintf(sql, sizeof(sql),
	         "BEGIN; SELECT set_config('aiplat.org_id', '%s', true); SET LOCAL ROLE aiplat_app;"
	         " UPDATE aiplat.users SET display_name = 'Aaron U.' WHERE id = aiplat.current_user_id(); COMMIT", b_org);
	exec_ok(user, sql);
	assert_int_equal(testdb_long(owner, "SELECT count(*) FROM aiplat.audit_logs WHERE organization_id = $1::uuid",
	                             1, p), b_rows);
	assert_int_equal(audit_count("action = 'users.update' AND actor_email = 'aaron@acme-legal.test'"
	                             " AND organization_id = '00000000-0000-0000-0000-000000000000'"), 1);
}

/* Through the command line: a member of acme-legal checking a person of
 * brightpath hears what it would hear for nobody. */
static void test_quota_check_is_no_membership_oracle(void **state)
{
	(void)state;
	char url[1200];
	snprintf(url, sizeof(url), "%s", db.url);
	char *user = strstr(url, "user=");
	snprintf(user, sizeof(url) - (size_t)(user - url), "user=%s", attackers[0].role);
	run_result a, b;
	run_aiplat(&a, NULL, NULL, "--db", url, "--org", "acme-legal", "quota", "check", "--user",
	           "bella@brightpath.test", "--model", "Basic Assistant", "--tokens", "1", NULL);
	run_aiplat(&b, NULL, NULL, "--db", url, "--org", "acme-legal", "quota", "check", "--user",
	           "nobody@nowhere.test", "--model", "Basic Assistant", "--tokens", "1", NULL);
	assert_int_equal(a.status, b.status);
	assert_int_equal(a.status, 5);
	char *ea = replace_all(a.err, "bella@brightpath.test", "<v>"), *eb = replace_all(b.err, "nobody@nowhere.test", "<v>");
	assert_string_equal(ea, eb);
	assert_null(strstr(a.out, "not_a_member"));
	free(ea);
	free(eb);
	run_result_free(&a);
	run_result_free(&b);
	/* And another organisation, by slug: as if it did not exist. */
	run_aiplat(&a, NULL, NULL, "--db", url, "--org", "brightpath", "quota", "check",
	           "--model", "Basic Assistant", "--tokens", "1", NULL);
	run_aiplat(&b, NULL, NULL, "--db", url, "--org", "nowhere-at-all", "quota", "check",
	           "--model", "Basic Assistant", "--tokens", "1", NULL);
	assert_int_equal(a.status, b.status);
	ea = replace_all(a.err, "brightpath", "<v>");
	eb = replace_all(b.err, "nowhere-at-all", "<v>");
	assert_string_equal(ea, eb);
	free(ea);
	free(eb);
	run_result_free(&a);
	run_result_free(&b);
}

/* A catalogue model the organisation has not configured: its content
 * (prompts, tasks, name by id) is not handed to a plain user. */
static void test_catalogue_content_stays_hidden(void **state)
{
	(void)state;
	char blog[32];
	value_into(blog, sizeof(blog), "SELECT id FROM aiplat.ai_models_system WHERE name = 'Blog Content Writer Pro'");
	const char *p[1] = { blog };
	PGconn *user = attackers[0].conn;
	PGresult *r = PQexecParams(user, "SELECT aiplat.model_name($1::bigint)", 1, NULL, p, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	char expect[40];
	snprintf(expect, sizeof(expect), "#%s", blog);
	assert_string_equal(PQgetvalue(r, 0, 0), expect);
	PQclear(r);
	r = PQexec(user, "SELECT count(*) FROM aiplat.call_shape('Blog Content Writer Pro') WHERE model_id IS NOT NULL");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(r, 0, 0), "0");
	PQclear(r);
	/* What the organisation configured is visible. */
	r = PQexec(user, "SELECT name FROM aiplat.call_shape('Basic Assistant')");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	char *name = testdb_value(owner, "SELECT aiplat.model_name($1::bigint)", 1, p);
	assert_string_equal(name, "Blog Content Writer Pro");
	free(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_callable_list_is_the_grants),
		cmocka_unit_test(test_every_function_as_two_attackers),
		cmocka_unit_test(test_audit_cannot_be_forged_relabelled_or_suppressed),
		cmocka_unit_test(test_quota_check_is_no_membership_oracle),
		cmocka_unit_test(test_catalogue_content_stays_hidden),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
