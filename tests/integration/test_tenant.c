/*
 * Organisations and members through the binary: tenant create|list|show|
 * set-plan|set-type|set-quota|set-timezone|rename|add-member|remove-member|
 * members|set-role (lib/tenant.c). Every refusal is checked for its exit
 * status, its message and that nothing was written (row contents and the
 * audit log); the member, organisation and person rules are also tried
 * directly through libpq as aiplat_app, because the database must enforce
 * them for any client.
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
 * tenant create
 * ====================================================================================== */

/* Every option lands in the row; --admin makes an existing person the first admin. */
static void test_tenant_create_every_option(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: created organization law-firm", "tenant", "create", "law-firm", "--name",
	       "Law Firm LLP", "--type", "solicitor", "--plan", "pro", "--quota", "5000", "--timezone",
	       "Europe/Paris", "--admin", BEN);
	json_t *doc = JSON("tenant", "show", "law-firm");
	assert_string_equal(jstr(doc, "slug"), "law-firm");
	assert_string_equal(jstr(doc, "name"), "Law Firm LLP");
	assert_string_equal(jstr(doc, "type"), "solicitor");
	assert_string_equal(jstr(doc, "plan"), "pro");
	assert_int_equal(jint(doc, "quota_monthly"), 5000);
	assert_string_equal(jstr(doc, "quota_source"), "organization");
	assert_int_equal(jint(doc, "used_this_month"), 0);
	assert_string_equal(jstr(doc, "time_zone"), "Europe/Paris");
	assert_int_equal(jint(doc, "members"), 1);
	assert_int_equal(jint(doc, "models_enabled"), 0);
	doc = JSON("tenant", "members", "law-firm");
	assert_int_equal(json_array_size(doc), 1);
	assert_string_equal(jstr(json_array_get(doc, 0), "email"), BEN);
	assert_string_equal(jstr(json_array_get(doc, 0), "role"), "admin");
	assert_string_equal(jstr(json_array_get(doc, 0), "role_kind"), "system");
	/* The new admin can now manage it. */
	EXPECT(0, NULL, "--as", BEN, "--org", "law-firm", "tenant", "add-member", "law-firm", BELLA);
	/* Both rows were audited under tenant.create. */
	expect_sql("SELECT string_agg(resource_type, ',' ORDER BY id) FROM aiplat.audit_logs"
	           " WHERE action = 'tenant.create' AND org_slug = $1", "law-firm",
	           "organizations,organization_members");
}

/* Defaults: name = slug, general, free (the plan's quota), UTC, no members. */
static void test_tenant_create_defaults(void **state)
{
	(void)state;
	EXPECT(0, NULL, "tenant", "create", "plain-co");
	json_t *doc = JSON("tenant", "show", "plain-co");
	assert_string_equal(jstr(doc, "name"), "plain-co");
	assert_string_equal(jstr(doc, "type"), "general");
	assert_string_equal(jstr(doc, "plan"), "free");
	assert_int_equal(jint(doc, "quota_monthly"), 200000);
	assert_string_equal(jstr(doc, "quota_source"), "plan");
	assert_string_equal(jstr(doc, "time_zone"), "UTC");
	assert_int_equal(jint(doc, "members"), 0);
}

/* Unknown plan, type or time zone: invalid input naming the value; nothing written. */
static void test_tenant_create_unknown_values(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: --plan: unknown plan \"gold\" (plans: free, starter, pro, enterprise)",
	       "tenant", "create", "new-co", "--plan", "gold");
	EXPECT(5, "aiplat: error: --type: unknown organization type \"wizardry\"", "tenant", "create",
	       "new-co", "--type", "wizardry");
	EXPECT(5, "aiplat: error: unknown time zone \"Mars/Olympus\"", "tenant", "create", "new-co",
	       "--timezone", "Mars/Olympus");
	expect_unchanged(before, "tenant create with unknown values");
}

/* Slugs are lower-case letters, digits and dashes, 1 to 63, not starting with a dash. */
static void test_tenant_create_bad_slug(void **state)
{
	(void)state;
	char long_slug[65];
	memset(long_slug, 'a', 64);
	long_slug[64] = '\0';
	const char *bad[] = { "Bad_Slug", "-lead", "with space", "", long_slug };
	const char *before = snapshot();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[160];
		snprintf(msg, sizeof(msg), "aiplat: error: organization slug \"%s\" must be", bad[i]);
		EXPECT(5, msg, "tenant", "create", "--", bad[i]);
	}
	expect_unchanged(before, "tenant create with bad slugs");
}

/* An existing slug is invalid input. */
static void test_tenant_create_duplicate(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: an organization \"acme-legal\" already exists", "tenant", "create",
	       ACME);
	expect_unchanged(before, "a duplicate tenant create");
}

/* --admin must name an existing person; otherwise nothing is created at all. */
static void test_tenant_create_unknown_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(1, "aiplat: error: no user with email nobody@people.test", "tenant", "create", "new-co",
	       "--admin", "nobody@people.test");
	expect_unchanged(before, "tenant create with an unknown admin");
}

/* A quota must be a positive number: zero is invalid input (5, as for set-quota);
 * a word is a usage error from the option parser (2). */
static void test_tenant_create_quota_must_be_positive(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: --quota must be a positive number of tokens", "tenant", "create",
	       "new-co", "--quota", "0");
	EXPECT(2, "aiplat: error: --quota expects a whole number, not \"lots\"", "tenant", "create",
	       "new-co", "--quota", "lots");
	expect_unchanged(before, "tenant create with a bad quota");
}

/* Only superadmins create organisations. */
static void test_tenant_create_by_non_superadmin(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(6, "aiplat: error: only superadmins may create organizations", "--as", ALICE, "--org",
	       ACME, "tenant", "create", "new-co");
	EXPECT(6, "aiplat: error: only superadmins may create organizations", "--as", ALICE, "tenant",
	       "create", "new-co", "--admin", ALICE);
	expect_unchanged(before, "tenant create by an organisation admin");
}

/* A superadmin person may; the audit names them. */
static void test_tenant_create_by_superadmin(void **state)
{
	(void)state;
	EXPECT(0, NULL, "--as", OPS, "tenant", "create", "ops-co", "--admin", AVA);
	expect_sql("SELECT format('%s|%s', count(*), min(acting_as_email)) FROM aiplat.audit_logs"
	           " WHERE action = 'tenant.create' AND resource_type = 'organizations'"
	           "   AND org_slug = $1", "ops-co", "1|" OPS);
	expect_sql("SELECT r.name FROM aiplat.organization_members m"
	           "  JOIN aiplat.organizations o ON o.id = m.organization_id"
	           "  JOIN aiplat.users u ON u.id = m.user_id JOIN aiplat.roles r ON r.id = m.role_id"
	           " WHERE o.slug = $1 AND u.email = '" AVA "'", "ops-co", "admin");
}

/* ======================================================================================
 * tenant list / show
 * ====================================================================================== */

/* The platform lists every organisation; a member only theirs. */
static void test_tenant_list(void **state)
{
	(void)state;
	char got[512];
	json_t *doc = JSON("tenant", "list");
	join_key(got, sizeof(got), doc, "slug");
	assert_string_equal(got, "acme-legal,brightpath,harbor-realty,little-learners,"
	                         "northside-clinic,pixel-forge");
	json_t *acme = json_array_get(doc, 0);
	assert_string_equal(jstr(acme, "plan"), "enterprise");
	assert_string_equal(jstr(acme, "type"), "solicitor");
	assert_int_equal(jint(acme, "quota_monthly"), 2000000);
	assert_int_equal(jint(acme, "members"), 3);
	assert_string_equal(jstr(acme, "time_zone"), "Europe/London");
	doc = JSON("--as", BEN, "--org", BRIGHT, "tenant", "list");
	join_key(got, sizeof(got), doc, "slug");
	assert_string_equal(got, BRIGHT);
	/* Without --org too, and a member sees the organisation's real member count. */
	doc = JSON("--as", BEN, "tenant", "list");
	join_key(got, sizeof(got), doc, "slug");
	assert_string_equal(got, BRIGHT);
	assert_int_equal(jint(json_array_get(doc, 0), "members"), 2);
	doc = JSON("--as", "pete@pixel-forge.test", "tenant", "list");
	join_key(got, sizeof(got), doc, "slug");
	assert_string_equal(got, "pixel-forge");
}

/* A member may show their organisation; another one is "not found" (1). */
static void test_tenant_show_visibility(void **state)
{
	(void)state;
	json_t *doc = JSON("--as", AARON, "--org", ACME, "tenant", "show", ACME);
	assert_string_equal(jstr(doc, "name"), "Acme Legal LLP");
	assert_int_equal(jint(doc, "members"), 3);
	assert_int_equal(jint(doc, "models_enabled"), 2);
	EXPECT(1, "aiplat: error: no organization brightpath", "--as", ALICE, "tenant", "show", BRIGHT);
	EXPECT(1, "aiplat: error: no organization brightpath", "--as", ALICE, "--org", ACME, "tenant",
	       "show", BRIGHT);
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "show", "nope");
}

/* tenant show SLUG describes that organisation whether or not --org names it:
 * its admin sees the same member and model counts as the platform. */
static void test_tenant_show_counts_without_org(void **state)
{
	(void)state;
	json_t *doc = JSON("--as", ALICE, "tenant", "show", ACME);
	long long members = jint(doc, "members"), models = jint(doc, "models_enabled");
	if (members != 3 || models != 2)
		fail_msg("alice (admin of acme-legal) without --org: tenant show acme-legal says members=%lld "
		         "models_enabled=%lld; the platform and `--org acme-legal` say 3 and 2",
		         members, models);
}

/* ======================================================================================
 * tenant set-plan / set-type / set-quota
 * ====================================================================================== */

/* The platform and superadmins change plan, type and quota; "default" goes back to the plan's. */
static void test_tenant_set_plan_type_quota(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: pixel-forge: plan is now pro", "tenant", "set-plan", "pixel-forge", "pro");
	EXPECT(0, "aiplat: pixel-forge: type is now marketing", "--as", OPS, "tenant", "set-type",
	       "pixel-forge", "marketing");
	EXPECT(0, "aiplat: pixel-forge: quota is now 123456", "tenant", "set-quota", "pixel-forge",
	       "123456");
	json_t *doc = JSON("tenant", "show", "pixel-forge");
	assert_string_equal(jstr(doc, "plan"), "pro");
	assert_string_equal(jstr(doc, "type"), "marketing");
	assert_int_equal(jint(doc, "quota_monthly"), 123456);
	assert_string_equal(jstr(doc, "quota_source"), "organization");
	EXPECT(0, "aiplat: pixel-forge: quota is now default", "tenant", "set-quota", "pixel-forge",
	       "default");
	doc = JSON("tenant", "show", "pixel-forge");
	assert_int_equal(jint(doc, "quota_monthly"), 10000000);   /* pro's */
	assert_string_equal(jstr(doc, "quota_source"), "plan");
	expect_sql("SELECT string_agg(action || ':' || coalesce(acting_as_email, '-'), ' ' ORDER BY id)"
	           "  FROM aiplat.audit_logs WHERE action LIKE 'tenant.set%' AND org_slug = $1",
	           "pixel-forge",
	           "tenant.set_plan:- tenant.set_type:" OPS " tenant.set_quota:- tenant.set_quota:-");
}

/* Organisation admins may not change their plan, type or quota (6). */
static void test_tenant_set_plan_type_quota_by_org_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	const char *what = "change an organization's type, plan or quota";
	EXPECT(6, what, "--as", ALICE, "--org", ACME, "tenant", "set-plan", ACME, "free");
	EXPECT(6, what, "--as", ALICE, "--org", ACME, "tenant", "set-type", ACME, "finance");
	EXPECT(6, what, "--as", ALICE, "--org", ACME, "tenant", "set-quota", ACME, "99999999");
	EXPECT(6, what, "--as", ALICE, "--org", ACME, "tenant", "set-quota", ACME, "default");
	expect_unchanged(before, "plan/type/quota changes by an organisation admin");
}

/* Unknown plans and types, and quotas that are not positive whole numbers, are invalid input. */
static void test_tenant_set_bad_values(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: plan: unknown plan \"gold\"", "tenant", "set-plan", ACME, "gold");
	EXPECT(5, "aiplat: error: type: unknown organization type \"wizardry\"", "tenant", "set-type",
	       ACME, "wizardry");
	EXPECT(5, "aiplat: error: quota \"0\" must be a positive number of tokens, or \"default\"",
	       "tenant", "set-quota", ACME, "0");
	EXPECT(5, "aiplat: error: quota \"-3\" must be a positive number of tokens", "tenant",
	       "set-quota", ACME, "--", "-3");
	EXPECT(5, "aiplat: error: quota \"12abc\" must be a positive number of tokens", "tenant",
	       "set-quota", ACME, "12abc");
	expect_unchanged(before, "tenant set-* with bad values");
}

/* An unknown organisation is "not found" (1) for every setting. */
static void test_tenant_set_unknown_organisation(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "set-plan", "nope", "pro");
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "set-type", "nope", "general");
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "set-quota", "nope", "5");
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "set-timezone", "nope", "UTC");
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "rename", "nope", "Nope Ltd");
	expect_unchanged(before, "tenant set-* of an unknown organisation");
}

/* ======================================================================================
 * tenant set-timezone / rename
 * ====================================================================================== */

/* An organisation's admin renames it and sets its time zone; audited as them. */
static void test_tenant_rename_and_timezone_by_admin(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: acme-legal: name is now Acme Legal Partners", "--as", ALICE, "--org", ACME,
	       "tenant", "rename", ACME, "Acme Legal Partners");
	EXPECT(0, "aiplat: acme-legal: time_zone is now Asia/Tokyo", "--as", ALICE, "--org", ACME,
	       "tenant", "set-timezone", ACME, "Asia/Tokyo");
	expect_sql("SELECT name || '|' || time_zone FROM aiplat.organizations WHERE slug = $1", ACME,
	           "Acme Legal Partners|Asia/Tokyo");
	expect_sql("SELECT string_agg(action || ':' || acting_as_email, ' ' ORDER BY id)"
	           "  FROM aiplat.audit_logs WHERE action IN ('tenant.set_name', 'tenant.set_time_zone')"
	           "   AND org_slug = $1", ACME,
	           "tenant.set_name:" ALICE " tenant.set_time_zone:" ALICE);
}

/* A user or viewer of the organisation may not: permission denied (6), nothing changed. */
static void test_tenant_rename_and_timezone_by_user(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r[3];
	r[0] = RUN("--as", AARON, "--org", ACME, "tenant", "rename", ACME, "Aaron's Firm");
	r[1] = RUN("--as", AARON, "--org", ACME, "tenant", "set-timezone", ACME, "UTC");
	r[2] = RUN("--as", AVA, "--org", ACME, "tenant", "set-timezone", ACME, "UTC");
	expect_unchanged(before, "rename / set-timezone by a user of the organisation");
	expect_exit(r[0], 6, "aaron (user) renames acme-legal, which he can see");
	expect_exit(r[1], 6, "aaron (user) sets acme-legal's time zone");
	expect_exit(r[2], 6, "ava (viewer) sets acme-legal's time zone");
	for (int i = 0; i < 3; i++)
		expect_err(r[i], "that needs the organization:manage permission");
}

/* Unknown time zones and empty or overlong names are invalid input. */
static void test_tenant_timezone_and_name_validation(void **state)
{
	(void)state;
	char long_name[202];
	memset(long_name, 'n', 201);
	long_name[201] = '\0';
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: unknown time zone \"Mars/Olympus\"", "--as", ALICE, "--org", ACME,
	       "tenant", "set-timezone", ACME, "Mars/Olympus");
	EXPECT(5, "hint: use an IANA name such as Europe/London or UTC", "tenant", "set-timezone", ACME,
	       "Mars/Olympus");
	EXPECT(5, "aiplat: error: a name has 1 to 200 characters", "tenant", "rename", ACME, "");
	EXPECT(5, "aiplat: error: a name has 1 to 200 characters", "--as", ALICE, "--org", ACME,
	       "tenant", "rename", ACME, long_name);
	expect_unchanged(before, "bad time zone / name");
}

/* ======================================================================================
 * members
 * ====================================================================================== */

/* An admin adds a person from another organisation with a role (default: user). */
static void test_add_member(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: " BEN " joined acme-legal as viewer", "--as", ALICE, "--org", ACME, "tenant",
	       "add-member", ACME, BEN, "--role", "viewer");
	EXPECT(0, "aiplat: " BELLA " joined acme-legal as user", "--as", ALICE, "--org", ACME, "tenant",
	       "add-member", ACME, BELLA);
	json_t *doc = JSON("--as", ALICE, "--org", ACME, "tenant", "members", ACME);
	char got[512];
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, ALICE "," AARON "," AVA "," BELLA "," BEN);
	join_key(got, sizeof(got), doc, "role");
	assert_string_equal(got, "admin,user,viewer,user,viewer");
	doc = JSON("user", "show", BEN);
	join_strings(got, sizeof(got), json_object_get(doc, "memberships"));
	assert_string_equal(got, "acme-legal:viewer,brightpath:user");
	expect_sql("SELECT format('%s|%s|%s', count(*), min(acting_as_email), min(resource_type))"
	           "  FROM aiplat.audit_logs WHERE action = 'tenant.add_member' AND org_slug = $1",
	           ACME, "2|" ALICE "|organization_members");
}

/* An unknown email is "not found" (1), nothing written. */
static void test_add_member_unknown_email(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(1, "aiplat: error: no user with email nobody@people.test", "--as", ALICE, "--org", ACME,
	       "tenant", "add-member", ACME, "nobody@people.test");
	expect_unchanged(before, "add-member of an unknown email");
}

/* A member cannot be added twice (5). */
static void test_add_member_duplicate(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: " AARON " is already a member of acme-legal", "--as", ALICE, "--org",
	       ACME, "tenant", "add-member", ACME, AARON, "--role", "viewer");
	expect_unchanged(before, "a duplicate add-member");
}

/* An unknown role is invalid input (5), with a hint. */
static void test_add_member_unknown_role(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r = RUN("--as", ALICE, "--org", ACME, "tenant", "add-member", ACME, BEN, "--role",
	                    "wizard");
	expect_exit(r, 5, "add-member with an unknown role");
	expect_err(r, "aiplat: error: no role \"wizard\"");
	expect_err(r, "hint: roles: admin, user, viewer, or a custom role");
	expect_unchanged(before, "add-member with an unknown role");
}

/* A user or viewer (no members:manage) may not add anyone: permission denied (6). */
static void test_add_member_by_non_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r[3];
	r[0] = RUN("--as", AARON, "--org", ACME, "tenant", "add-member", ACME, BELLA, "--role", "viewer");
	r[1] = RUN("--as", AVA, "--org", ACME, "tenant", "add-member", ACME, BEN);
	r[2] = RUN("--as", ALICE, "--org", ACME, "tenant", "add-member", BRIGHT, ALICE);
	expect_unchanged(before, "add-member by people who may not");
	expect_exit(r[2], 6, "alice adds herself to brightpath (not hers)");
	expect_err(r[2], "aiplat: error: " ALICE " is not a member of organization brightpath");
	expect_exit(r[0], 6, "aaron (user) adds bella (who exists) to acme-legal");
	expect_exit(r[1], 6, "ava (viewer) adds ben to acme-legal");
	for (int i = 0; i < 2; i++)
		expect_err(r[i], "that needs the members:manage permission");
}

/* members lists members, admins first, with the kind of role; outsiders are refused. */
static void test_members_list(void **state)
{
	(void)state;
	json_t *doc = JSON("--as", AVA, "--org", ACME, "tenant", "members", ACME);
	assert_int_equal(json_array_size(doc), 3);
	char got[512];
	join_key(got, sizeof(got), doc, "email");
	assert_string_equal(got, ALICE "," AARON "," AVA);
	join_key(got, sizeof(got), doc, "role");
	assert_string_equal(got, "admin,user,viewer");
	join_key(got, sizeof(got), doc, "role_kind");
	assert_string_equal(got, "system,system,system");
	assert_string_equal(jstr(json_array_get(doc, 0), "name"), "Alice Admin");
	/* The SLUG argument selects the organisation (no --org needed). */
	doc = JSON("--as", AVA, "tenant", "members", ACME);
	assert_int_equal(json_array_size(doc), 3);
	EXPECT(6, "aiplat: error: " BELLA " is not a member of organization acme-legal", "--as", BELLA,
	       "tenant", "members", ACME);
	EXPECT(1, "aiplat: error: no organization nope", "tenant", "members", "nope");
}

/* An admin changes a member's role; a non-member is "not found"; unknown roles are invalid. */
static void test_set_role_by_admin(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: " AARON " is now viewer in acme-legal", "--as", ALICE, "--org", ACME,
	       "tenant", "set-role", ACME, AARON, "viewer");
	expect_sql("SELECT r.name FROM aiplat.organization_members m"
	           "  JOIN aiplat.roles r ON r.id = m.role_id JOIN aiplat.users u ON u.id = m.user_id"
	           " WHERE u.email = $1", AARON, "viewer");
	expect_sql("SELECT format('%s|%s', count(*), min(acting_as_email)) FROM aiplat.audit_logs"
	           " WHERE action = 'tenant.set_role' AND org_slug = $1", ACME, "1|" ALICE);
	const char *before = snapshot();
	EXPECT(1, "aiplat: error: " BEN " is not a member of acme-legal", "--as", ALICE, "--org", ACME,
	       "tenant", "set-role", ACME, BEN, "user");
	EXPECT(5, "aiplat: error: no role \"wizard\"", "--as", ALICE, "--org", ACME, "tenant",
	       "set-role", ACME, AVA, "wizard");
	expect_unchanged(before, "set-role of a non-member / to an unknown role");
}

/* A user may not change roles, not even their own: permission denied (6). */
static void test_set_role_by_non_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r[2];
	r[0] = RUN("--as", AARON, "--org", ACME, "tenant", "set-role", ACME, AARON, "admin");
	r[1] = RUN("--as", AARON, "--org", ACME, "tenant", "set-role", ACME, AVA, "admin");
	expect_unchanged(before, "set-role by a user");
	expect_exit(r[0], 6, "aaron (user) makes himself admin");
	expect_exit(r[1], 6, "aaron (user) makes ava admin");
	for (int i = 0; i < 2; i++)
		expect_err(r[i], "aiplat: error: " AARON " may not change its members in acme-legal: "
		                 "that needs the members:manage permission");
}

/* An admin removes a member; removing them again is "not a member" (1). */
static void test_remove_member(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: " AVA " left acme-legal", "--as", ALICE, "--org", ACME, "tenant",
	       "remove-member", ACME, AVA);
	assert_int_equal(count1("SELECT count(*) FROM aiplat.organization_members m"
	                        "  JOIN aiplat.users u ON u.id = m.user_id WHERE u.email = $1", AVA), 0);
	expect_sql("SELECT format('%s|%s|%s', count(*), min(acting_as_email),"
	           "              bool_and(old_values IS NOT NULL AND new_values IS NULL))"
	           "  FROM aiplat.audit_logs WHERE action = 'tenant.remove_member' AND org_slug = $1",
	           ACME, "1|" ALICE "|t");
	const char *before = snapshot();
	EXPECT(1, "aiplat: error: " AVA " is not a member of acme-legal", "--as", ALICE, "--org", ACME,
	       "tenant", "remove-member", ACME, AVA);
	expect_unchanged(before, "removing a non-member");
}

/* A user may not remove anyone: permission denied (6). */
static void test_remove_member_by_non_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r = RUN("--as", AARON, "--org", ACME, "tenant", "remove-member", ACME, AVA);
	expect_unchanged(before, "remove-member by a user");
	expect_exit(r, 6, "aaron (user) removes ava");
	expect_err(r, "that needs the members:manage permission");
}

/* The only admin cannot be removed, by themselves, a superadmin or the platform. */
static void test_last_admin_cannot_be_removed(void **state)
{
	(void)state;
	const char *before = snapshot();
	const char *msg = "aiplat: error: an organization must keep at least one admin";
	EXPECT(5, msg, "--as", ALICE, "--org", ACME, "tenant", "remove-member", ACME, ALICE);
	EXPECT(5, msg, "--as", OPS, "tenant", "remove-member", ACME, ALICE);
	EXPECT(5, msg, "tenant", "remove-member", ACME, ALICE);
	expect_unchanged(before, "removing the last admin");
}

/* The only admin cannot be demoted, to a system role or a custom one. */
static void test_last_admin_cannot_be_demoted(void **state)
{
	(void)state;
	EXPECT(0, NULL, "--org", ACME, "role", "create", "partner", "-p", "members:read");
	const char *before = snapshot();
	const char *msg = "aiplat: error: an organization must keep at least one admin";
	EXPECT(5, msg, "--as", ALICE, "--org", ACME, "tenant", "set-role", ACME, ALICE, "user");
	EXPECT(5, msg, "--as", ALICE, "--org", ACME, "tenant", "set-role", ACME, ALICE, "partner");
	EXPECT(5, msg, "tenant", "set-role", ACME, ALICE, "viewer");
	expect_unchanged(before, "demoting the last admin");
}

/* With a second admin, one may step down; then the other is the last one. */
static void test_second_admin_may_step_down(void **state)
{
	(void)state;
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "tenant", "set-role", ACME, AARON, "admin");
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "tenant", "set-role", ACME, ALICE, "user");
	const char *before = snapshot();
	EXPECT(5, "must keep at least one admin", "--as", AARON, "--org", ACME, "tenant",
	       "remove-member", ACME, AARON);
	expect_unchanged(before, "removing the new last admin");
}

/* ======================================================================================
 * the same rules for any client (libpq as aiplat_app)
 * ====================================================================================== */

/* Member rows: a user cannot add, promote or remove; the last admin stays. */
static void test_db_member_rules_for_any_client(void **state)
{
	(void)state;
	char acme[40], bella[40], aaron[40], ava[40], alice[40], viewer[40], admin[40];
	org_id(acme, ACME);
	user_id(bella, BELLA);
	user_id(aaron, AARON);
	user_id(ava, AVA);
	user_id(alice, ALICE);
	system_role_id(viewer, "viewer");
	system_role_id(admin, "admin");
	const char *before = snapshot();
	const char *insert = "INSERT INTO aiplat.organization_members (organization_id, user_id, role_id)"
	                     " VALUES ($1::uuid, $2::uuid, $3::uuid)";
	expect_sqlstate(as_person(AARON, ACME, false, insert, 3,
	                          (const char *const[]){ acme, bella, viewer }),
	                "42501", "aaron inserts a member");
	expect_rows(as_person(AARON, ACME, false,
	                      "UPDATE aiplat.organization_members SET role_id = $3::uuid"
	                      " WHERE organization_id = $1::uuid AND user_id = $2::uuid", 3,
	                      (const char *const[]){ acme, aaron, admin }),
	            0, "aaron promotes himself");
	expect_rows(as_person(AARON, ACME, false,
	                      "DELETE FROM aiplat.organization_members"
	                      " WHERE organization_id = $1::uuid AND user_id = $2::uuid", 2,
	                      (const char *const[]){ acme, ava }),
	            0, "aaron removes ava");
	/* The admin may add (control), but not remove the last admin: refused at COMMIT. */
	expect_rows(as_person(ALICE, ACME, false, insert, 3,
	                      (const char *const[]){ acme, bella, viewer }),
	            1, "alice inserts a member");
	expect_sqlstate(as_person(ALICE, ACME, true,
	                          "DELETE FROM aiplat.organization_members"
	                          " WHERE organization_id = $1::uuid AND user_id = $2::uuid", 2,
	                          (const char *const[]){ acme, alice }),
	                "23514", "alice deletes the last admin and commits");
	expect_unchanged(before, "direct member statements");
}

/* Organisation and person fields: plan/quota and superadmin need a superadmin;
 * a user cannot rename; nobody inserts people. */
static void test_db_org_and_user_rules_for_any_client(void **state)
{
	(void)state;
	char aaron[40];
	user_id(aaron, AARON);
	const char *before = snapshot();
	expect_sqlstate(as_person(ALICE, ACME, false,
	                          "UPDATE aiplat.organizations SET pricing_plan = 'free' WHERE slug = $1",
	                          1, (const char *const[]){ ACME }),
	                "42501", "alice changes her plan");
	expect_sqlstate(as_person(ALICE, ACME, false,
	                          "UPDATE aiplat.organizations SET token_quota_monthly = NULL"
	                          " WHERE slug = $1", 1, (const char *const[]){ ACME }),
	                "42501", "alice changes her quota");
	expect_rows(as_person(AARON, ACME, false,
	                      "UPDATE aiplat.organizations SET name = 'Aaron''s' WHERE slug = $1", 1,
	                      (const char *const[]){ ACME }),
	            0, "aaron renames acme-legal");
	expect_rows(as_person(ALICE, ACME, false,
	                      "UPDATE aiplat.organizations SET name = 'Acme' WHERE slug = $1", 1,
	                      (const char *const[]){ ACME }),
	            1, "alice renames acme-legal (control)");
	expect_sqlstate(as_person(AARON, ACME, false,
	                          "UPDATE aiplat.users SET is_superadmin = true WHERE id = $1::uuid", 1,
	                          (const char *const[]){ aaron }),
	                "42501", "aaron makes himself a superadmin");
	expect_sqlstate(as_person(ALICE, ACME, false,
	                          "INSERT INTO aiplat.users (email) VALUES ($1)", 1,
	                          (const char *const[]){ "direct@people.test" }),
	                "42501", "alice inserts a person");
	expect_unchanged(before, "direct organisation / user statements");
}

/* ====================================================================================== */

int main(void)
{
	const struct CMUnitTest tests[] = {
		FRESH(test_tenant_create_every_option),
		FRESH(test_tenant_create_defaults),
		SHARED(test_tenant_create_unknown_values),
		SHARED(test_tenant_create_bad_slug),
		SHARED(test_tenant_create_duplicate),
		SHARED(test_tenant_create_unknown_admin),
		SHARED(test_tenant_create_quota_must_be_positive),
		SHARED(test_tenant_create_by_non_superadmin),
		FRESH(test_tenant_create_by_superadmin),
		SHARED(test_tenant_list),
		SHARED(test_tenant_show_visibility),
		SHARED(test_tenant_show_counts_without_org),
		FRESH(test_tenant_set_plan_type_quota),
		SHARED(test_tenant_set_plan_type_quota_by_org_admin),
		SHARED(test_tenant_set_bad_values),
		SHARED(test_tenant_set_unknown_organisation),
		FRESH(test_tenant_rename_and_timezone_by_admin),
		SHARED(test_tenant_rename_and_timezone_by_user),
		SHARED(test_tenant_timezone_and_name_validation),
		FRESH(test_add_member),
		SHARED(test_add_member_unknown_email),
		SHARED(test_add_member_duplicate),
		SHARED(test_add_member_unknown_role),
		SHARED(test_add_member_by_non_admin),
		SHARED(test_members_list),
		FRESH(test_set_role_by_admin),
		SHARED(test_set_role_by_non_admin),
		FRESH(test_remove_member),
		SHARED(test_remove_member_by_non_admin),
		SHARED(test_last_admin_cannot_be_removed),
		FRESH(test_last_admin_cannot_be_demoted),
		FRESH(test_second_admin_may_step_down),
		FRESH(test_db_member_rules_for_any_client),
		SHARED(test_db_org_and_user_rules_for_any_client),
	};
	return cmocka_run_group_tests(tests, people_group_setup, people_group_teardown);
}
