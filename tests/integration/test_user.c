/*
 * People through the binary: user create|list|show|set-superadmin|map-login
 * (lib/user.c). Every refusal is checked for its exit status, its message
 * and that nothing was written (row contents and the audit log); a mapped
 * login role is also used directly through libpq.
 *
 * Tests that only read, or whose commands all fail, share one seeded
 * database (set up for this file alone); tests that change something get a
 * fresh one. Shared tests must not depend on the order they run in. The
 * helpers and fixtures are tests/support/people_fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "people_fixture.h"

/* ======================================================================================
 * user create
 * ====================================================================================== */

/* The platform creates a person, with a display name and optionally as superadmin. */
static void test_user_create(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: created user nina@people.test", "user", "create", "nina@people.test",
	       "--name", "Nina New");
	expect_sql("SELECT format('%s|%s|%s', display_name, is_superadmin, login_role IS NULL)"
	           "  FROM aiplat.users WHERE email = $1", "nina@people.test", "Nina New|f|t");
	EXPECT(0, NULL, "user", "create", "sam@people.test", "--superadmin");
	expect_sql("SELECT is_superadmin::text FROM aiplat.users WHERE email = $1", "sam@people.test",
	           "true");
	/* Audited: the platform's own connection has no actor and acts as nobody. */
	expect_sql("SELECT format('%s|%s|%s', count(*), min(coalesce(actor_email, '-')),"
	           "              min(coalesce(acting_as_email, '-')))"
	           "  FROM aiplat.audit_logs WHERE action = 'user.create' AND resource_type = 'users'"
	           "   AND new_values ->> 'email' = $1", "nina@people.test", "1|-|-");
}

/* Emails are unique whatever their case: a second ALICE is invalid input and writes nothing. */
static void test_user_create_duplicate_email(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: a user ALICE@Acme-Legal.TEST already exists", "user", "create",
	       "ALICE@Acme-Legal.TEST");
	expect_unchanged(before, "a duplicate user create");
}

/* Anything that is not an email address is refused before the database is touched. */
static void test_user_create_not_an_email(void **state)
{
	(void)state;
	const char *bad[] = { "not-an-email", "@acme-legal.test", "someone@", "two@at@people.test",
	                      "with space@people.test" };
	const char *before = snapshot();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[128];
		snprintf(msg, sizeof(msg), "aiplat: error: \"%s\" is not an email address", bad[i]);
		EXPECT(5, msg, "user", "create", bad[i]);
	}
	expect_unchanged(before, "user create with bad emails");
}

/* Only superadmins create people: an organisation admin (or a user making a
 * superadmin) is refused with 6. */
static void test_user_create_by_non_superadmin(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(6, "aiplat: error: only superadmins may create people", "--as", ALICE, "--org", ACME,
	       "user", "create", "x1@people.test");
	EXPECT(6, "aiplat: error: only superadmins may create people", "--as", AARON, "user", "create",
	       "x2@people.test", "--superadmin");
	expect_unchanged(before, "user create by people who are not superadmins");
}

/* A superadmin person may create people; the audit row says who acted. */
static void test_user_create_by_superadmin(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: created user olga@people.test", "--as", OPS, "user", "create",
	       "olga@people.test");
	assert_int_equal(count1("SELECT count(*) FROM aiplat.users WHERE email = $1",
	                        "olga@people.test"), 1);
	expect_sql("SELECT format('%s|%s|%s', count(*), min(coalesce(actor_email, '-')),"
	           "              min(acting_as_email))"
	           "  FROM aiplat.audit_logs WHERE action = 'user.create'"
	           "   AND new_values ->> 'email' = $1", "olga@people.test", "1|-|" OPS);
}

/* ======================================================================================
 * user list / show
 * ====================================================================================== */

/* The platform sees every person, sorted by email. */
static void test_user_list_platform_sees_everyone(void **state)
{
	(void)state;
	json_t *doc = JSON("user", "list");
	char got[2048];
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, value("SELECT string_agg(email, ',' ORDER BY lower(email))"
	                               "  FROM aiplat.users", NULL));
	assert_int_equal(json_array_size(doc), 15);
	/* A row carries the flags and memberships. */
	json_t *alice = json_array_get(doc, 1);
	assert_string_equal(jstr(alice, "email"), ALICE);
	assert_string_equal(jstr(alice, "name"), "Alice Admin");
	assert_true(json_is_false(json_object_get(alice, "superadmin")));
	join_strings(got, sizeof(got), json_object_get(alice, "memberships"));
	assert_string_equal(got, "acme-legal:admin");
	json_t *ops = json_array_get(doc, 11);
	assert_string_equal(jstr(ops, "email"), OPS);
	assert_true(json_is_true(json_object_get(ops, "superadmin")));
	assert_true(json_is_null(json_object_get(ops, "memberships")));
}

/* A person sees themselves and the members of their current organisation only. */
static void test_user_list_member_sees_own_organisation(void **state)
{
	(void)state;
	char got[1024];
	json_t *doc = JSON("--as", ALICE, "--org", ACME, "user", "list");
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, AARON "," ALICE "," AVA);
	doc = JSON("--as", BEN, "--org", BRIGHT, "user", "list");
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, BELLA "," BEN);
	/* Without --org: only themselves. */
	doc = JSON("--as", ALICE, "user", "list");
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, ALICE);
}

/* user show: one person with memberships as "slug:role"; unknown -> 1. */
static void test_user_show(void **state)
{
	(void)state;
	json_t *doc = JSON("user", "show", "Alice@ACME-legal.test");
	assert_string_equal(jstr(doc, "email"), ALICE);
	assert_string_equal(jstr(doc, "name"), "Alice Admin");
	assert_true(json_is_false(json_object_get(doc, "superadmin")));
	char got[256];
	join_strings(got, sizeof(got), json_object_get(doc, "memberships"));
	assert_string_equal(got, "acme-legal:admin");
	char id[40];
	user_id(id, ALICE);
	assert_string_equal(jstr(doc, "id"), id);
	EXPECT(1, "aiplat: error: no user with email nobody@people.test", "user", "show",
	       "nobody@people.test");
	/* Someone outside the person's organisation is not found either. */
	EXPECT(1, "aiplat: error: no user with email " BELLA, "--as", AARON, "--org", ACME, "user",
	       "show", BELLA);
}

/* The mapped login role is shown to the platform only, never to people
 * (not even to superadmins or the person themselves). */
static void test_user_show_login_role_platform_only(void **state)
{
	(void)state;
	testdb_exec(cdb, "UPDATE aiplat.users SET login_role = 'aaron_login' WHERE email = '" AARON "'");
	json_t *doc = JSON("user", "show", AARON);
	assert_string_equal(jstr(doc, "login_role"), "aaron_login");
	const char *as[][2] = { { OPS, NULL }, { ALICE, ACME }, { AARON, ACME } };
	for (size_t i = 0; i < 3; i++) {
		doc = as[i][1] ? JSON("--as", as[i][0], "--org", as[i][1], "user", "show", AARON)
		               : JSON("--as", as[i][0], "user", "show", AARON);
		assert_string_equal(jstr(doc, "email"), AARON);
		if (!json_is_null(json_object_get(doc, "login_role")))
			fail_msg("%s sees aaron's login role", as[i][0]);
	}
}

/* ======================================================================================
 * user set-superadmin
 * ====================================================================================== */

/* The platform and superadmins grant and (--off) revoke superadmin; both audited. */
static void test_user_set_superadmin(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: Aaron@Acme-Legal.test is now a superadmin", "user", "set-superadmin",
	       "Aaron@Acme-Legal.test");
	expect_sql("SELECT is_superadmin::text FROM aiplat.users WHERE email = $1", AARON, "true");
	EXPECT(0, "aiplat: " AARON " is no longer a superadmin", "--as", OPS, "user", "set-superadmin",
	       AARON, "--off");
	expect_sql("SELECT is_superadmin::text FROM aiplat.users WHERE email = $1", AARON, "false");
	char id[40];
	user_id(id, AARON);
	expect_sql("SELECT string_agg(format('%s:%s->%s:%s', action, old_values ->> 'is_superadmin',"
	           "                         new_values ->> 'is_superadmin',"
	           "                         coalesce(acting_as_email, '-')), ' ' ORDER BY id)"
	           "  FROM aiplat.audit_logs WHERE resource_type = 'users' AND resource_id = $1", id,
	           "user.grant_superadmin:false->true:- user.revoke_superadmin:true->false:" OPS);
	EXPECT(1, "aiplat: error: no user with email nobody@people.test", "user", "set-superadmin",
	       "nobody@people.test");
}

/* A person who is not a superadmin may not grant or revoke it, for anyone:
 * permission denied (6), nothing written. */
static void test_user_set_superadmin_by_person(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r[3];
	r[0] = RUN("--as", ALICE, "--org", ACME, "user", "set-superadmin", AARON);
	r[1] = RUN("--as", ALICE, "user", "set-superadmin", ALICE);
	r[2] = RUN("--as", ALICE, "--org", ACME, "user", "set-superadmin", OPS, "--off");
	expect_unchanged(before, "set-superadmin by an organisation admin");
	expect_exit(r[1], 6, "alice makes herself a superadmin");
	expect_exit(r[0], 6, "alice (admin, sees aaron in acme-legal) makes aaron a superadmin");
	expect_exit(r[2], 6, "alice revokes ops");
	for (int i = 0; i < 3; i++)
		expect_err(r[i], "aiplat: error: only superadmins may grant or revoke superadmin");
}

/* ======================================================================================
 * user map-login
 * ====================================================================================== */

/* The platform maps an existing login role: the column is set, the role is
 * granted aiplat_app, and the change is audited. */
static void test_map_login_existing_role(void **state)
{
	(void)state;
	const char *role = make_role("aaron", "");
	assert_false(in_app_role(role));
	char msg[160];
	snprintf(msg, sizeof(msg), "aiplat: connections as role %s now act as " AARON, role);
	EXPECT(0, msg, "user", "map-login", AARON, role);
	expect_sql("SELECT login_role FROM aiplat.users WHERE email = $1", AARON, role);
	assert_true(in_app_role(role));
	char id[40], want[96];
	user_id(id, AARON);
	snprintf(want, sizeof(want), "1|%s|-", role);
	expect_sql("SELECT format('%s|%s|%s', count(*), min(new_values ->> 'login_role'),"
	           "              coalesce(min(old_values ->> 'login_role'), '-'))"
	           "  FROM aiplat.audit_logs WHERE action = 'user.map_login' AND resource_id = $1",
	           id, want);
}

/* A connection as the mapped role is that person: row-level security shows
 * what the person sees, and it cannot act as someone else. */
static void test_mapped_role_acts_as_its_person(void **state)
{
	(void)state;
	const char *role = make_role("aaron", "");
	EXPECT(0, NULL, "user", "map-login", AARON, role);
	char url[1200];
	url_as(url, sizeof(url), role);
	char got[512];
	json_t *doc = JSON_URL(url, "--org", ACME, "user", "list");
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, AARON "," ALICE "," AVA);
	doc = JSON_URL(url, "tenant", "list");
	join_key(got, sizeof(got), doc, "slug");
	assert_string_equal(got, ACME);
	run_result *r = RUN_URL(url, "--as", ALICE, "--org", ACME, "tenant", "members", ACME);
	expect_exit(r, 6, "a mapped user acting as someone else");
	expect_err(r, "cannot act as " ALICE);
	/* The same through libpq, whatever the client sets. */
	PGconn *c = extra_conn = PQconnectdb(url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	assert_string_equal(keep_str(testdb_value(c, "SELECT email FROM aiplat.users"
	                                             " WHERE id = aiplat.current_user_id()", 0, NULL)),
	                    AARON);
}

/* Without --create a missing role is invalid input (with a hint); with it the
 * role is created as a login role in aiplat_app. */
static void test_map_login_create(void **state)
{
	(void)state;
	const char *role = new_role_name("made");
	const char *before = snapshot();
	run_result *r = RUN("user", "map-login", AVA, role);
	expect_exit(r, 5, "map-login to a missing role");
	char msg[160];
	snprintf(msg, sizeof(msg), "aiplat: error: there is no PostgreSQL role %s", role);
	expect_err(r, msg);
	expect_err(r, "hint: ");
	expect_err(r, "--create");
	expect_unchanged(before, "map-login to a missing role");
	assert_int_equal(count1("SELECT count(*) FROM pg_roles WHERE rolname = $1", role), 0);

	EXPECT(0, NULL, "user", "map-login", AVA, role, "--create");
	expect_sql("SELECT rolcanlogin::text FROM pg_roles WHERE rolname = $1", role, "true");
	assert_true(in_app_role(role));
	expect_sql("SELECT login_role FROM aiplat.users WHERE email = $1", AVA, role);
}

/* Superusers and the connecting owner cannot be mapped: the platform's own
 * connections would act as one person. */
static void test_map_login_refuses_superuser_and_owner(void **state)
{
	(void)state;
	const char *su = make_role("super", "SUPERUSER");
	const char *owner = value("SELECT current_user", NULL);
	const char *before = snapshot();
	char msg[200];
	snprintf(msg, sizeof(msg), "aiplat: error: role %s bypasses row-level security", su);
	EXPECT(5, msg, "user", "map-login", AVA, su);
	snprintf(msg, sizeof(msg), "aiplat: error: role %s bypasses row-level security", owner);
	EXPECT(5, msg, "user", "map-login", AVA, owner);
	expect_unchanged(before, "mapping a superuser or the owner");
}

/* A role with BYPASSRLS is not subject to row-level security, so it cannot
 * "be" a person either: mapping it must be refused like a superuser. */
static void test_map_login_refuses_bypassrls_role(void **state)
{
	(void)state;
	const char *role = make_role("bypass", "BYPASSRLS");
	const char *before = snapshot();
	run_result *r = RUN("user", "map-login", AVA, role);
	if (r->status == 0) {
		char url[1200];
		url_as(url, sizeof(url), role);
		PGconn *c = extra_conn = PQconnectdb(url);
		long seen = testdb_long(c, "SELECT count(*) FROM aiplat.users", 0, NULL);
		fail_msg("a BYPASSRLS role was mapped to %s (exit 0); connected as it, the viewer sees %ld "
		         "of the 15 users", AVA, seen);
	}
	expect_exit(r, 5, "mapping a BYPASSRLS role");
	expect_unchanged(before, "mapping a BYPASSRLS role");
	assert_false(in_app_role(role));
}

/* A role that inherits the schema owner's privileges is the owner for
 * row-level security: mapping it must be refused like the owner. */
static void test_map_login_refuses_owner_member_role(void **state)
{
	(void)state;
	const char *owner = value("SELECT nspowner::regrole::text FROM pg_namespace"
	                          " WHERE nspname = 'aiplat'", NULL);
	char attrs[128];
	snprintf(attrs, sizeof(attrs), "IN ROLE %s", owner);
	const char *role = make_role("ownerish", attrs);
	const char *before = snapshot();
	run_result *r = RUN("user", "map-login", AVA, role);
	if (r->status == 0) {
		char url[1200];
		url_as(url, sizeof(url), role);
		PGconn *c = extra_conn = PQconnectdb(url);
		long seen = testdb_long(c, "SELECT count(*) FROM aiplat.users", 0, NULL);
		fail_msg("a member of the schema owner was mapped to %s (exit 0); connected as it, the "
		         "viewer sees %ld of the 15 users", AVA, seen);
	}
	expect_exit(r, 5, "mapping a member of the owner role");
	expect_unchanged(before, "mapping a member of the owner role");
}

/* Only the platform itself maps roles: a superadmin acting with --as is refused. */
static void test_map_login_as_person(void **state)
{
	(void)state;
	const char *role = make_role("byops", "");
	const char *missing = new_role_name("byops_new");
	const char *before = snapshot();
	EXPECT(6, "aiplat: error: login roles are mapped by the platform itself", "--as", OPS, "user",
	       "map-login", AARON, role);
	EXPECT(6, "aiplat: error: login roles are mapped by the platform itself", "--as", OPS, "user",
	       "map-login", AARON, missing, "--create");
	expect_unchanged(before, "map-login by a person");
	assert_false(in_app_role(role));
	assert_int_equal(count1("SELECT count(*) FROM pg_roles WHERE rolname = $1", missing), 0);
}

/* --remove unbinds the role and takes aiplat_app away from it. */
static void test_map_login_remove(void **state)
{
	(void)state;
	const char *role = make_role("gone", "");
	EXPECT(0, NULL, "user", "map-login", AARON, role);
	assert_true(in_app_role(role));
	EXPECT(0, "aiplat: " AARON " has no login role now", "user", "map-login", AARON, "--remove");
	expect_sql("SELECT coalesce(login_role, '(none)') FROM aiplat.users WHERE email = $1", AARON,
	           "(none)");
	assert_false(in_app_role(role));
	char id[40];
	user_id(id, AARON);
	expect_sql("SELECT count(*)::text FROM aiplat.audit_logs WHERE action = 'user.unmap_login'"
	           "   AND resource_id = $1 AND new_values ->> 'login_role' IS NULL", id, "1");
}

/* Mapping another role replaces the old one, which loses aiplat_app. */
static void test_map_login_replaces_role(void **state)
{
	(void)state;
	const char *first = make_role("first", ""), *second = make_role("second", "");
	EXPECT(0, NULL, "user", "map-login", AARON, first);
	EXPECT(0, NULL, "user", "map-login", AARON, second);
	expect_sql("SELECT login_role FROM aiplat.users WHERE email = $1", AARON, second);
	assert_false(in_app_role(first));
	assert_true(in_app_role(second));
}

/* A role already mapped to someone else cannot be mapped again. */
static void test_map_login_role_of_another_user(void **state)
{
	(void)state;
	const char *role = make_role("taken", "");
	EXPECT(0, NULL, "user", "map-login", AARON, role);
	const char *before = snapshot();
	char msg[160];
	snprintf(msg, sizeof(msg), "aiplat: error: role %s is already mapped to another user", role);
	EXPECT(5, msg, "user", "map-login", ALICE, role);
	expect_unchanged(before, "mapping a taken role");
	expect_sql("SELECT login_role FROM aiplat.users WHERE email = $1", AARON, role);
}

/* A role or --remove, not both or neither (2); role names are plain (5). */
static void test_map_login_arguments(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(2, "user map-login: give a login role, or --remove", "user", "map-login", AARON);
	EXPECT(2, "user map-login: give a login role, or --remove", "user", "map-login", AARON,
	       "some_role", "--remove");
	EXPECT(5, "\"Bad-Role\" is not a plain role name", "user", "map-login", AARON, "Bad-Role");
	EXPECT(1, "aiplat: error: no user with email nobody@people.test", "user", "map-login",
	       "nobody@people.test", "--remove");
	expect_unchanged(before, "bad map-login arguments");
}

/* A mapped role is a person even without --as: it may show itself (without the
 * login_role column, which only the platform reads). */
static void test_user_show_through_mapped_role(void **state)
{
	(void)state;
	const char *role = make_role("self", "");
	EXPECT(0, NULL, "user", "map-login", AARON, role);
	char url[1200];
	url_as(url, sizeof(url), role);
	run_result *r = RUN_URL(url, "--format", "json", "user", "show", AARON);
	expect_exit(r, 0, "a mapped role shows its own person (no --as)");
	json_t *doc = json_loads(r->out, 0, NULL);
	assert_non_null(keep_doc(doc));
	assert_string_equal(jstr(doc, "email"), AARON);
	assert_true(json_is_null(json_object_get(doc, "login_role")));
}

/* ====================================================================================== */

int main(void)
{
	const struct CMUnitTest tests[] = {
		FRESH(test_user_create),
		SHARED(test_user_create_duplicate_email),
		SHARED(test_user_create_not_an_email),
		SHARED(test_user_create_by_non_superadmin),
		FRESH(test_user_create_by_superadmin),
		SHARED(test_user_list_platform_sees_everyone),
		SHARED(test_user_list_member_sees_own_organisation),
		SHARED(test_user_show),
		FRESH(test_user_show_login_role_platform_only),
		FRESH(test_user_set_superadmin),
		SHARED(test_user_set_superadmin_by_person),
		FRESH(test_map_login_existing_role),
		FRESH(test_mapped_role_acts_as_its_person),
		FRESH(test_map_login_create),
		FRESH(test_map_login_refuses_superuser_and_owner),
		FRESH(test_map_login_refuses_bypassrls_role),
		FRESH(test_map_login_refuses_owner_member_role),
		FRESH(test_map_login_as_person),
		FRESH(test_map_login_remove),
		FRESH(test_map_login_replaces_role),
		FRESH(test_map_login_role_of_another_user),
		SHARED(test_map_login_arguments),
		FRESH(test_user_show_through_mapped_role),
	};
	return cmocka_run_group_tests(tests, people_group_setup, people_group_teardown);
}
