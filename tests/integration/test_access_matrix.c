/*
 * The isolation matrix: who may run which command against acme-legal.
 * Personas: the platform itself, a superadmin, acme's admin, user and
 * viewer, and the admin of another organisation (brightpath), who is
 * refused as soon as she names acme-legal with --org. Each persona
 * gets a fresh database and runs every command in order; the exit status
 * must match, refusals must change nothing, and for the configuration
 * commands the same statements run directly as the app role are refused
 * by the database itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "runproc.h"
#include "testdb.h"

enum { PLATFORM, SUPERADMIN, ADMIN, USER, VIEWER, OTHER, NPERSONAS };

static const char *const persona_email[NPERSONAS] = {
	NULL, "ops@aiplat.test", "alice@acme-legal.test", "aaron@acme-legal.test",
	"ava@acme-legal.test", "bella@brightpath.test",
};

struct matrix_row {
	const char *args[12];
	int expect[NPERSONAS];    /* exit status per persona */
	bool writes;              /* a successful run changes the database */
};

/* In order: later rows see what earlier successful rows did. */
static const struct matrix_row matrix[] = {
	/*                                                              plat sup adm usr vwr oth */
	{ { "model", "list" },                                          { 0, 0, 0, 0, 0, 6 }, false },
	{ { "model", "available" },                                     { 0, 0, 0, 0, 0, 6 }, false },
	{ { "model", "enabled" },                                       { 2, 0, 0, 0, 0, 6 }, false },
	{ { "model", "enable", "Legal Document Analyst" },              { 0, 0, 0, 6, 6, 6 }, true },
	{ { "model", "set-limit", "2", "--per-user", "1234" },          { 0, 0, 0, 6, 6, 6 }, true },
	{ { "model", "disable", "Basic Assistant" },                    { 0, 0, 0, 6, 6, 6 }, true },
	{ { "model", "enable", "Basic Assistant" },                     { 0, 0, 0, 6, 6, 6 }, true },
	{ { "model", "update", "5", "--icon", "star" },                 { 0, 0, 6, 6, 6, 6 }, true },
	{ { "model", "deactivate", "1" },                               { 0, 0, 6, 6, 6, 6 }, true },
	{ { "tenant", "list" },                                         { 0, 0, 0, 0, 0, 6 }, false },
	{ { "tenant", "show", "acme-legal" },                           { 0, 0, 0, 0, 0, 6 }, false },
	{ { "tenant", "members", "acme-legal" },                        { 0, 0, 0, 0, 0, 6 }, false },
	{ { "tenant", "set-timezone", "acme-legal", "Europe/Dublin" },  { 0, 0, 0, 6, 6, 6 }, true },
	{ { "tenant", "set-plan", "acme-legal", "pro" },                { 0, 0, 6, 6, 6, 6 }, true },
	{ { "tenant", "set-quota", "acme-legal", "3000000" },           { 0, 0, 6, 6, 6, 6 }, true },
	{ { "tenant", "add-member", "acme-legal", "pete@pixel-forge.test" }, { 0, 0, 0, 6, 6, 6 }, true },
	{ { "tenant", "set-role", "acme-legal", "aaron@acme-legal.test", "viewer" },
	                                                                { 0, 0, 0, 6, 6, 6 }, true },
	{ { "role", "list" },                                           { 0, 0, 0, 0, 0, 6 }, false },
	{ { "role", "create", "auditor", "-p", "audit:read" },          { 0, 0, 0, 6, 6, 6 }, true },
	{ { "audit", "list" },                                          { 0, 0, 0, 0, 0, 6 }, false },
	{ { "user", "list" },                                           { 0, 0, 0, 0, 0, 6 }, false },
	{ { "user", "create", "newbie@acme-legal.test" },               { 0, 0, 6, 6, 6, 6 }, true },
	{ { "tenant", "create", "rogue-org" },                          { 0, 0, 6, 6, 6, 6 }, true },
};
#define NROWS (sizeof(matrix) / sizeof(matrix[0]))

/* Everything a command might change, as one digest. */
static char *state_digest(PGconn *c)
{
	return testdb_value(c,
		"SELECT md5(concat_ws('|',"
		" (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM aiplat.organizations t),"
		" (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM aiplat.organization_members t),"
		" (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM aiplat.roles t),"
		" (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM aiplat.role_permissions t),"
		" (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM aiplat.users t),"
		" (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM aiplat.ai_models_system t),"
		" (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM aiplat.org_system_model_config t),"
		" (SELECT count(*) FROM aiplat.audit_logs)))", 0, NULL);
}

static void run_persona(int persona)
{
	testdb t;
	testdb_create(&t, true);
	testdb_seed(&t, true);
	PGconn *c = testdb_connect(&t);
	for (size_t i = 0; i < NROWS; i++) {
		const struct matrix_row *row = &matrix[i];
		const char *argv[24] = { "--db", t.url, "--org", "acme-legal" };
		int n = 4;
		if (persona_email[persona]) {
			argv[n++] = "--as";
			argv[n++] = persona_email[persona];
		}
		for (int a = 0; row->args[a]; a++)
			argv[n++] = row->args[a];
		argv[n] = NULL;
		char *before = state_digest(c);
		run_result r;
		run_aiplat_argv(&r, NULL, NULL, argv);
		char *after = state_digest(c);
		char what[200];
		snprintf(what, sizeof(what), "%s: %s %s %s", persona_email[persona] ? persona_email[persona]
		         : "platform", row->args[0], row->args[1], row->args[2] ? row->args[2] : "");
		expect_exit(&r, row->expect[persona], what);
		if (row->expect[persona] != 0 && strcmp(before, after) != 0)
			fail_msg("%s was refused but changed the database", what);
		if (row->expect[persona] == 0 && row->writes && !strcmp(before, after))
			fail_msg("%s succeeded but changed nothing", what);
		if (row->expect[persona] == 6 && !strstr(r.err, "aiplat: error:"))
			fail_msg("%s: no error message", what);
		run_result_free(&r);
		free(before);
		free(after);
	}
	PQfinish(c);
	testdb_drop(&t);
}

static void test_platform(void **state) { (void)state; run_persona(PLATFORM); }
static void test_superadmin(void **state) { (void)state; run_persona(SUPERADMIN); }
static void test_org_admin(void **state) { (void)state; run_persona(ADMIN); }
static void test_org_user(void **state) { (void)state; run_persona(USER); }
static void test_org_viewer(void **state) { (void)state; run_persona(VIEWER); }
static void test_admin_of_another_org(void **state) { (void)state; run_persona(OTHER); }

/* Working in her own organisation, brightpath's admin still cannot reach
 * acme-legal's objects by naming them. */
static void test_other_admin_naming_acme(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, true);
	testdb_seed(&t, true);
	static const struct { const char *args[8]; int expect; } cases[] = {
		{ { "tenant", "show", "acme-legal" }, 1 },
		{ { "tenant", "members", "acme-legal" }, 6 },
		{ { "tenant", "set-timezone", "acme-legal", "UTC" }, 6 },
		{ { "tenant", "add-member", "acme-legal", "ben@brightpath.test" }, 6 },
		{ { "tenant", "remove-member", "acme-legal", "aaron@acme-legal.test" }, 6 },
		{ { "user", "show", "alice@acme-legal.test" }, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[16] = { "--db", t.url, "--org", "brightpath", "--as", "bella@brightpath.test" };
		int n = 6;
		for (int a = 0; cases[i].args[a]; a++)
			argv[n++] = cases[i].args[a];
		argv[n] = NULL;
		run_result r;
		run_aiplat_argv(&r, NULL, NULL, argv);
		expect_exit(&r, cases[i].expect, cases[i].args[1]);
		run_result_free(&r);
	}
	testdb_drop(&t);
}

/* What people may read of acme-legal's audit log: admins all of it, users none. */
static void test_audit_visibility(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, true);
	testdb_seed(&t, true);
	run_result r;
	run_aiplat(&r, NULL, NULL, "--db", t.url, "--org", "acme-legal", "--as", "alice@acme-legal.test",
	           "model", "set-limit", "2", "--per-user", "4321", NULL);
	expect_exit(&r, 0, "admin change");
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--db", t.url, "--org", "brightpath", "--as", "bella@brightpath.test",
	           "model", "set-limit", "1", "--per-user", "1111", NULL);
	expect_exit(&r, 0, "other admin change");
	run_result_free(&r);
	static const struct { const char *who, *org; const char *expect; } views[] = {
		{ "alice@acme-legal.test", "acme-legal", "acme-legal\n" },
		{ "aaron@acme-legal.test", "acme-legal", "" },
		{ "bella@brightpath.test", "brightpath", "brightpath\n" },
		{ "ops@aiplat.test", NULL, "brightpath\nacme-legal\n" },
	};
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		const char *argv[20] = { "--db", t.url, "--format", "tsv", "--as", views[i].who };
		int n = 6;
		if (views[i].org) {
			argv[n++] = "--org";
			argv[n++] = views[i].org;
		}
		argv[n++] = "audit";
		argv[n++] = "list";
		argv[n++] = "--action";
		argv[n++] = "model.set_limit";
		argv[n] = NULL;
		run_aiplat_argv(&r, NULL, NULL, argv);
		expect_exit(&r, 0, "audit list");
		/* Column 3 is the organisation; collect it per row. */
		char orgs[256] = "";
		for (char *line = strchr(r.out, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
			char *tab1 = strchr(line, '\t'), *tab2 = strchr(tab1 + 1, '\t'), *tab3 = strchr(tab2 + 1, '\t');
			strncat(orgs, tab2 + 1, (size_t)(tab3 - tab2 - 1));
			strcat(orgs, "\n");
		}
		if (strcmp(orgs, views[i].expect) != 0)
			fail_msg("%s sees audit rows of [%s], expected [%s]", views[i].who, orgs, views[i].expect);
		run_result_free(&r);
	}
	testdb_drop(&t);
}

/* The same configuration statements, straight to the database as the app
 * role, without the CLI's checks: refused (42501) or invisible (0 rows). */
static void test_database_refuses_directly(void **state)
{
	(void)state;
	testdb t;
	testdb_create(&t, true);
	testdb_seed(&t, true);
	PGconn *owner = testdb_connect(&t);
	static const struct { const char *email, *org; bool admin_of_acme; } people[] = {
		{ "aaron@acme-legal.test", "acme-legal", false },
		{ "ava@acme-legal.test", "acme-legal", false },
		{ "bella@brightpath.test", "brightpath", false },
		{ "alice@acme-legal.test", "acme-legal", true },
	};
	static const char *const writes[] = {
		"INSERT INTO aiplat.org_system_model_config (organization_id, system_model_id, is_enabled_for_users)"
		" SELECT id, 5, true FROM aiplat.organizations WHERE slug = 'acme-legal'"
		" ON CONFLICT (organization_id, system_model_id) DO UPDATE SET is_enabled_for_users = false",
		"UPDATE aiplat.org_system_model_config SET token_limit_per_user = 7 WHERE system_model_id = 2",
		"DELETE FROM aiplat.org_system_model_config WHERE system_model_id = 2",
	};
	for (size_t p = 0; p < sizeof(people) / sizeof(people[0]); p++) {
		for (size_t w = 0; w < 3; w++) {
			char *before = testdb_value(owner, "SELECT md5(string_agg(c::text, ',' ORDER BY c::text))"
			                                   "  FROM aiplat.org_system_model_config c", 0, NULL);
			testdb_exec(owner, "BEGIN");
			const char *params[2] = { people[p].email, people[p].org };
			PGresult *res = PQexecParams(owner,
				"SELECT set_config('aiplat.user_id', (SELECT id::text FROM aiplat.users WHERE email = $1), true),"
				"       set_config('aiplat.org_id', (SELECT id::text FROM aiplat.organizations WHERE slug = $2), true)",
				2, NULL, params, NULL, NULL, 0);
			PQclear(res);
			testdb_exec(owner, "SET LOCAL ROLE aiplat_app");
			res = PQexec(owner, writes[w]);
			const char *state_code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			bool refused = state_code && !strcmp(state_code, "42501");
			bool nothing = PQresultStatus(res) == PGRES_COMMAND_OK && !strcmp(PQcmdTuples(res), "0");
			if (people[p].admin_of_acme) {
				if (PQresultStatus(res) != PGRES_COMMAND_OK || !strcmp(PQcmdTuples(res), "0"))
					fail_msg("acme's admin could not run: %s (%s)", writes[w], PQresultErrorMessage(res));
			} else if (!refused && !nothing) {
				fail_msg("%s changed acme's configuration directly: %s", people[p].email, writes[w]);
			}
			PQclear(res);
			testdb_exec(owner, "ROLLBACK");
			char *after = testdb_value(owner, "SELECT md5(string_agg(c::text, ',' ORDER BY c::text))"
			                                  "  FROM aiplat.org_system_model_config c", 0, NULL);
			assert_string_equal(before, after);
			free(before);
			free(after);
		}
	}
	PQfinish(owner);
	testdb_drop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_platform),
		cmocka_unit_test(test_superadmin),
		cmocka_unit_test(test_org_admin),
		cmocka_unit_test(test_org_user),
		cmocka_unit_test(test_org_viewer),
		cmocka_unit_test(test_admin_of_another_org),
		cmocka_unit_test(test_other_admin_naming_acme),
		cmocka_unit_test(test_audit_visibility),
		cmocka_unit_test(test_database_refuses_directly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
