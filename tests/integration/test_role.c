/*
 * Roles and permissions through the binary: role list|permissions|create|
 * grant|revoke (lib/role.c), and a custom role assigned with tenant set-role
 * conferring its permissions. Every refusal is checked for its exit status,
 * its message and that nothing was written (row contents and the audit log);
 * the role rules are also tried directly through libpq as aiplat_app,
 * because the database must enforce them for any client.
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
 * roles
 * ====================================================================================== */

/* role list: the three system roles with their permissions as a JSON array. */
static void test_role_list_system_roles(void **state)
{
	(void)state;
	json_t *doc = JSON("--as", ALICE, "--org", ACME, "role", "list");
	char got[2048];
	join_key(got, sizeof(got), doc, "role");
	assert_string_equal(got, "admin,user,viewer");
	join_key(got, sizeof(got), doc, "scope");
	assert_string_equal(got, "system,system,system");
	json_t *admin = json_array_get(doc, 0);
	assert_int_equal(json_array_size(json_object_get(admin, "permissions")), 27);
	assert_string_equal(json_string_value(json_array_get(json_object_get(admin, "permissions"), 0)),
	                    "api_keys:manage");
	join_strings(got, sizeof(got), json_object_get(json_array_get(doc, 1), "permissions"));
	assert_string_equal(got, "flags:read,garage:read,garage:write,members:read,models:read,"
	                         "organization:read,projects:read,projects:write,prompts:read,"
	                         "roles:read,usage:read,usage:write,workflows:read,workflows:run");
	join_strings(got, sizeof(got), json_object_get(json_array_get(doc, 2), "permissions"));
	assert_string_equal(got, "flags:read,garage:read,members:read,models:read,organization:read,"
	                         "projects:read,prompts:read,roles:read,usage:read,workflows:read");
	/* The platform sees the same three (there are no custom roles yet). */
	doc = JSON("role", "list");
	join_key(got, sizeof(got), doc, "role");
	assert_string_equal(got, "admin,user,viewer");
}

/* role permissions: every permission as resource:action with its description. */
static void test_role_permissions(void **state)
{
	(void)state;
	run_result *r = RUN("--format", "tsv", "role", "permissions");
	expect_exit(r, 0, "role permissions");
	char *save = NULL;
	int rows = 0;
	char first[64] = "";
	for (char *line = strtok_r(r->out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (rows++ == 0) {
			assert_string_equal(line, "permission\tdescription");
			continue;
		}
		const char *colon = strchr(line, ':'), *tab = strchr(line, '\t');
		if (!colon || !tab || colon > tab || colon == line || tab == colon + 1 || !tab[1])
			fail_msg("not \"resource:action<TAB>description\": %s", line);
		if (!first[0])
			snprintf(first, sizeof(first), "%.*s", (int)(tab - line), line);
	}
	assert_int_equal(rows - 1, count1("SELECT count(*) FROM aiplat.permissions", NULL));
	assert_int_equal(rows - 1, 27);
	assert_string_equal(first, "api_keys:manage");
	r = RUN("role", "permissions");
	assert_non_null(strstr(r->out,
	                       "\nmodels:manage\tenable and disable models, set per-user limits\n"));
}

/* An admin creates a custom role in their organisation with repeated --permission;
 * other organisations do not see it. */
static void test_role_create_custom(void **state)
{
	(void)state;
	EXPECT(0, "aiplat: created role auditor", "--as", ALICE, "--org", ACME, "role", "create",
	       "auditor", "--description", "reads the audit log", "--permission", "audit:read", "-p",
	       "members:read");
	json_t *doc = JSON("--as", ALICE, "--org", ACME, "role", "list");
	assert_int_equal(json_array_size(doc), 4);
	json_t *role = json_array_get(doc, 3);
	assert_string_equal(jstr(role, "role"), "auditor");
	assert_string_equal(jstr(role, "scope"), ACME);
	assert_string_equal(jstr(role, "description"), "reads the audit log");
	char got[256];
	join_strings(got, sizeof(got), json_object_get(role, "permissions"));
	assert_string_equal(got, "audit:read,members:read");
	doc = JSON("--as", BELLA, "--org", BRIGHT, "role", "list");
	join_key(got, sizeof(got), doc, "role");
	assert_string_equal(got, "admin,user,viewer");
	expect_sql("SELECT string_agg(resource_type, ',' ORDER BY id) FROM aiplat.audit_logs"
	           " WHERE action = 'role.create' AND acting_as_email = $1", ALICE,
	           "roles,role_permissions,role_permissions");
}

/* A custom role may not take a system role's name: refused, saying why. */
static void test_role_create_system_name(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(5, "aiplat: error: role name \"user\" is taken by a system role", "--as", ALICE, "--org",
	       ACME, "role", "create", "user", "-p", "audit:read");
	EXPECT(5, "aiplat: error: role name \"admin\" is taken by a system role", "--as", ALICE, "--org",
	       ACME, "role", "create", "admin");
	expect_unchanged(before, "a custom role named like a system role");
}

/* A second role of the same name in the organisation is refused, saying why. */
static void test_role_create_duplicate(void **state)
{
	(void)state;
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "role", "create", "auditor");
	const char *before = snapshot();
	run_result *r = RUN("--as", ALICE, "--org", ACME, "role", "create", "auditor", "-p",
	                    "audit:read");
	expect_exit(r, 5, "a duplicate role create");
	expect_err(r, "auditor");
	expect_err(r, "already exists");
	expect_unchanged(before, "a duplicate role create");
}

/* Permissions must exist and look like resource:action; role names are checked too. */
static void test_role_create_bad_input(void **state)
{
	(void)state;
	const char *before = snapshot();
	run_result *r = RUN("--as", ALICE, "--org", ACME, "role", "create", "clerk", "-p",
	                    "members:read", "-p", "audit:fly");
	expect_exit(r, 5, "an unknown permission");
	expect_err(r, "aiplat: error: no permission \"audit:fly\"");
	expect_err(r, "hint: `aiplat role permissions` lists them");
	EXPECT(5, "aiplat: error: permission \"auditread\" must look like resource:action", "--as",
	       ALICE, "--org", ACME, "role", "create", "clerk", "-p", "auditread");
	EXPECT(5, "aiplat: error: role name \"Clerk\" must be lower-case letters, digits, _ and -",
	       "--as", ALICE, "--org", ACME, "role", "create", "Clerk");
	expect_unchanged(before, "role create with bad input");
}

/* People without roles:manage cannot create roles; people must say which organisation. */
static void test_role_create_by_non_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(6, "aiplat: error: " AARON " may not create roles in acme-legal: that needs the "
	       "roles:manage permission", "--as", AARON, "--org", ACME, "role", "create", "clerk", "-p",
	       "audit:read");
	EXPECT(2, "aiplat: error: give --org: custom roles belong to an organization", "--as", ALICE,
	       "role", "create", "clerk");
	expect_unchanged(before, "role create by a user / without --org");
}

/* An admin grants and revokes permissions on a custom role; each change audited. */
static void test_role_grant_and_revoke(void **state)
{
	(void)state;
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "role", "create", "auditor", "-p", "audit:read");
	EXPECT(0, "aiplat: granted 2 permissions to auditor", "--as", ALICE, "--org", ACME, "role",
	       "grant", "auditor", "models:read", "usage:read");
	EXPECT(0, "aiplat: revoked 1 permission from auditor", "--as", ALICE, "--org", ACME, "role",
	       "revoke", "auditor", "audit:read");
	expect_sql("SELECT string_agg(p.resource || ':' || p.action, ',' ORDER BY 1)"
	           "  FROM aiplat.role_permissions p JOIN aiplat.roles r ON r.id = p.role_id"
	           " WHERE r.name = $1", "auditor", "models:read,usage:read");
	expect_sql("SELECT string_agg(action, ',' ORDER BY id) FROM aiplat.audit_logs"
	           " WHERE action IN ('role.grant', 'role.revoke') AND org_slug = $1", ACME,
	           "role.grant,role.grant,role.revoke");
	/* Granting what it has, or revoking what it lacks, changes nothing. */
	const char *before = snapshot();
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "role", "grant", "auditor", "models:read");
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "role", "revoke", "auditor", "flags:manage");
	expect_unchanged(before, "idempotent grant / revoke");
}

/* System roles are changed by superadmins only: an org admin gets 6. */
static void test_role_grant_system_role_by_org_admin(void **state)
{
	(void)state;
	const char *before = snapshot();
	EXPECT(6, "aiplat: error: the system role user is changed by superadmins only", "--as", ALICE,
	       "--org", ACME, "role", "grant", "user", "audit:read");
	EXPECT(6, "aiplat: error: the system role viewer is changed by superadmins only", "--as", ALICE,
	       "--org", ACME, "role", "revoke", "viewer", "members:read");
	EXPECT(5, "aiplat: error: no permission \"nope:x\"", "role", "grant", "user", "nope:x");
	EXPECT(1, "aiplat: error: no role \"clerk\" in brightpath", "--as", BELLA, "--org", BRIGHT,
	       "role", "grant", "clerk", "audit:read");
	expect_unchanged(before, "granting on system roles as an org admin");
}

/* A user (no roles:manage) cannot grant on the organisation's custom role. */
static void test_role_grant_by_non_admin(void **state)
{
	(void)state;
	EXPECT(0, NULL, "--org", ACME, "role", "create", "clerk", "-p", "members:read");
	const char *before = snapshot();
	EXPECT(6, "that needs the roles:manage permission", "--as", AARON, "--org", ACME, "role",
	       "grant", "clerk", "audit:read");
	EXPECT(6, "that needs the roles:manage permission", "--as", AARON, "--org", ACME, "role",
	       "revoke", "clerk", "members:read");
	expect_unchanged(before, "grant / revoke by a user");
}

/* A custom role assigned with set-role really confers its permissions: with
 * audit:read a user sees the organisation's audit log, which plain users do not. */
static void test_custom_role_confers_permission(void **state)
{
	(void)state;
	json_t *doc = JSON("--as", AARON, "--org", ACME, "audit", "list");
	assert_int_equal(json_array_size(doc), 0);
	EXPECT(0, NULL, "--as", ALICE, "--org", ACME, "role", "create", "auditor", "-p", "audit:read",
	       "-p", "members:read");
	EXPECT(0, "aiplat: " AARON " is now auditor in acme-legal", "--as", ALICE, "--org", ACME,
	       "tenant", "set-role", ACME, AARON, "auditor");
	doc = JSON("--as", ALICE, "--org", ACME, "tenant", "members", ACME);
	assert_string_equal(jstr(json_array_get(doc, 1), "email"), AARON);
	assert_string_equal(jstr(json_array_get(doc, 1), "role"), "auditor");
	assert_string_equal(jstr(json_array_get(doc, 1), "role_kind"), "custom");
	doc = JSON("--as", AARON, "--org", ACME, "audit", "list");
	size_t n = json_array_size(doc);
	char acme[40];
	org_id(acme, ACME);
	assert_int_equal((long)n, count1("SELECT count(*) FROM aiplat.audit_logs"
	                                 " WHERE organization_id = $1::uuid", acme));
	assert_true(n >= 3);
	size_t i;
	json_t *row;
	json_array_foreach(doc, i, row)
		assert_string_equal(jstr(row, "org"), ACME);
	/* ... and nothing it does not grant: still no member management. */
	EXPECT(6, "that needs the members:manage permission", "--as", AARON, "--org", ACME, "tenant",
	       "add-member", ACME, AARON);
}

/* ======================================================================================
 * the same rules for any client (libpq as aiplat_app)
 * ====================================================================================== */

/* Roles and grants: a user cannot create roles or grant; an admin cannot touch system roles. */
static void test_db_role_rules_for_any_client(void **state)
{
	(void)state;
	char acme[40], user_role[40];
	org_id(acme, ACME);
	system_role_id(user_role, "user");
	const char *before = snapshot();
	const char *grant = "INSERT INTO aiplat.role_permissions (role_id, resource, action)"
	                    " VALUES ($1::uuid, 'audit', 'read')";
	const char *new_role = "INSERT INTO aiplat.roles (organization_id, name) VALUES ($1::uuid, $2)";
	expect_sqlstate(as_person(AARON, ACME, false, grant, 1, (const char *const[]){ user_role }),
	                "42501", "aaron grants audit:read to the user role");
	expect_sqlstate(as_person(AARON, ACME, false, new_role, 2,
	                          (const char *const[]){ acme, "sneaky" }),
	                "42501", "aaron creates a role");
	expect_sqlstate(as_person(ALICE, ACME, false, grant, 1, (const char *const[]){ user_role }),
	                "42501", "alice (admin) grants to a system role");
	expect_rows(as_person(ALICE, ACME, false,
	                      "DELETE FROM aiplat.role_permissions WHERE role_id = $1::uuid", 1,
	                      (const char *const[]){ user_role }),
	            0, "alice revokes everything from a system role");
	expect_rows(as_person(ALICE, ACME, false,
	                      "UPDATE aiplat.roles SET description = 'mine' WHERE id = $1::uuid", 1,
	                      (const char *const[]){ user_role }),
	            0, "alice edits a system role");
	expect_sqlstate(as_person(ALICE, ACME, false, new_role, 2,
	                          (const char *const[]){ acme, "viewer" }),
	                "23505", "alice creates a custom role named viewer");
	/* Control: the admin may create a custom role in her organisation. */
	expect_rows(as_person(ALICE, ACME, false, new_role, 2, (const char *const[]){ acme, "clerk" }),
	            1, "alice creates a custom role");
	expect_unchanged(before, "direct role statements");
}

/* ====================================================================================== */

int main(void)
{
	const struct CMUnitTest tests[] = {
		SHARED(test_role_list_system_roles),
		SHARED(test_role_permissions),
		FRESH(test_role_create_custom),
		SHARED(test_role_create_system_name),
		FRESH(test_role_create_duplicate),
		SHARED(test_role_create_bad_input),
		SHARED(test_role_create_by_non_admin),
		FRESH(test_role_grant_and_revoke),
		SHARED(test_role_grant_system_role_by_org_admin),
		FRESH(test_role_grant_by_non_admin),
		FRESH(test_custom_role_confers_permission),
		FRESH(test_db_role_rules_for_any_client),
	};
	return cmocka_run_group_tests(tests, people_group_setup, people_group_teardown);
}
