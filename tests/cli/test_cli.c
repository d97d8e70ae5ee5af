/* The binary end to end: help, version, usage errors, generated files, exit codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "cli.h"
#include "runproc.h"
#include "testdb.h"

static bool contains(const char *s, const char *needle)
{
	return s && strstr(s, needle);
}

static void test_help_and_version(void **state)
{
	(void)state;
	run_result r;
	run_aiplat(&r, NULL, NULL, "--help", NULL);
	expect_exit(&r, 0, "--help");
	assert_true(contains(r.out, "usage: aiplat"));
	CLI_FOR_EACH_COMMAND(g, c) {
		char name[128];
		cli_command_fullname(c, name, sizeof(name));
		bool hidden = c->flags & CMD_HIDDEN;
		if (contains(r.out, name) == hidden)
			fail_msg("--help %s \"%s\"", hidden ? "lists the hidden" : "does not list", name);
	}
	for (int code = 0; code <= 7; code++) {
		char line[16];
		snprintf(line, sizeof(line), "  %d ", code);
		assert_true(contains(r.out, line));
	}
	run_result_free(&r);

	run_aiplat(&r, NULL, NULL, "--version", NULL);
	expect_exit(&r, 0, "--version");
	assert_true(contains(r.out, "aiplat 0."));
	assert_true(contains(r.out, "libpq"));
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "version", NULL);
	expect_exit(&r, 0, "version");
	run_result_free(&r);

	/* No command: the overview on stderr, usage error. */
	run_aiplat(&r, NULL, NULL, NULL);
	expect_exit(&r, 2, "no command");
	assert_true(contains(r.err, "usage: aiplat"));
	run_result_free(&r);
	/* A group alone lists its commands. */
	run_aiplat(&r, NULL, NULL, "migrate", NULL);
	expect_exit(&r, 2, "group without a command");
	assert_true(contains(r.err, "usage: aiplat migrate <command>"));
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "migrate", "--help", NULL);
	expect_exit(&r, 0, "group --help");
	assert_true(contains(r.out, "verify"));
	run_result_free(&r);
}

/* Every command answers --help, -h and `aiplat help`, with its options. */
static void test_every_command_help(void **state)
{
	(void)state;
	CLI_FOR_EACH_COMMAND(g, c) {
		const char *group = (*g)->name;
		const char *argv[8];
		int n = 0;
		if (group)
			argv[n++] = group;
		argv[n++] = c->name;
		argv[n++] = "--help";
		argv[n] = NULL;
		run_result r;
		run_aiplat_argv(&r, NULL, NULL, argv);
		char what[160];
		snprintf(what, sizeof(what), "%s %s --help", group ? group : "", c->name);
		expect_exit(&r, 0, what);
		char usage[160];
		snprintf(usage, sizeof(usage), "usage: aiplat %s%s%s", group ? group : "",
		         group ? " " : "", c->name);
		if (!contains(r.out, usage))
			fail_msg("%s: no \"%s\" in:\n%s", what, usage, r.out);
		for (const struct cli_option *o = c->options; o && o->name; o++) {
			char opt[80];
			snprintf(opt, sizeof(opt), "--%s", o->name);
			if (!contains(r.out, opt))
				fail_msg("%s does not document %s", what, opt);
		}
		run_result_free(&r);

		argv[0] = "help";
		n = 1;
		if (group)
			argv[n++] = group;
		argv[n++] = c->name;
		argv[n] = NULL;
		run_aiplat_argv(&r, NULL, NULL, argv);
		expect_exit(&r, 0, "aiplat help <command>");
		assert_true(contains(r.out, usage));
		run_result_free(&r);
	}
}

static void test_usage_errors(void **state)
{
	(void)state;
	run_result r;
	run_aiplat(&r, NULL, NULL, "migrate", "up", "--lock-timout", "5", NULL);
	expect_exit(&r, 2, "misspelt option");
	assert_true(contains(r.err, "aiplat: error: unknown option --lock-timout for migrate up"));
	assert_true(contains(r.err, "hint: did you mean --lock-timeout?"));
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "migrat", "up", NULL);
	expect_exit(&r, 2, "misspelt group");
	assert_true(contains(r.err, "unknown command \"migrat\""));
	assert_true(contains(r.err, "did you mean `aiplat migrate`?"));
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "migrate", "stauts", NULL);
	expect_exit(&r, 2, "misspelt command");
	assert_true(contains(r.err, "did you mean `aiplat migrate status`?"));
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "seed", "--demo", "extra", NULL);
	expect_exit(&r, 2, "unexpected argument");
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "--format", "yaml", "migrate", "status", NULL);
	expect_exit(&r, 2, "bad --format");
	assert_true(contains(r.err, "--format must be one of table, json, ndjson, csv, tsv"));
	run_result_free(&r);
	run_aiplat(&r, NULL, (const char *const[]){ "AIPLAT_FORMAT=yaml", NULL }, "migrate", "status", NULL);
	expect_exit(&r, 2, "bad AIPLAT_FORMAT");
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "migrate", "up", "--lock-timeout", "soon", NULL);
	expect_exit(&r, 2, "bad duration");
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "completion", "tcsh", NULL);
	expect_exit(&r, 2, "unknown shell");
	run_result_free(&r);
	run_aiplat(&r, NULL, NULL, "help", "nonsense", NULL);
	expect_exit(&r, 2, "help for an unknown command");
	run_result_free(&r);
}

/* With nothing configured and no development cluster: exit 3 and a hint. */
static void test_no_database(void **state)
{
	(void)state;
	char *home = make_temp_dir();
	char xdg[300];
	snprintf(xdg, sizeof(xdg), "XDG_DATA_HOME=%s", home);
	const char *env[] = { xdg, "AIPLAT_DATABASE_URL=", "DATABASE_URL=", "PGHOST=", "PGHOSTADDR=",
	                      "PGSERVICE=", "PGPORT=", "PGDATABASE=", NULL };
	run_result r;
	run_aiplat(&r, NULL, env, "migrate", "status", NULL);
	expect_exit(&r, 3, "no database configured");
	assert_true(contains(r.err, "aiplat: error: no database configured"));
	assert_true(contains(r.err, "hint:"));
	assert_true(contains(r.err, "aiplat dev start"));
	run_result_free(&r);
	/* A database that is not there: still 3. */
	run_aiplat(&r, NULL, env, "--db", "postgresql:///nope?host=/nonexistent", "migrate", "status", NULL);
	expect_exit(&r, 3, "unreachable database");
	assert_true(contains(r.err, "cannot connect"));
	run_result_free(&r);
	/* dev status of a cluster that does not exist: a negative answer. */
	run_aiplat(&r, NULL, env, "--format", "json", "dev", "status", NULL);
	expect_exit(&r, 1, "dev status without a cluster");
	assert_true(contains(r.out, "\"state\": \"absent\""));
	run_result_free(&r);
	run_aiplat(&r, NULL, env, "dev", "url", NULL);
	expect_exit(&r, 0, "dev url");
	assert_true(contains(r.out, "postgresql:///aiplat?host=%2F"));
	run_result_free(&r);
	run_aiplat(&r, NULL, env, "dev", "psql", "-c", "select 1", NULL);
	expect_exit(&r, 3, "dev psql without a cluster");
	run_result_free(&r);
	rm_rf(home);
	free(home);
}

/* The running test cluster is found without --db, and -q silences chatter. */
static void test_dev_cluster_is_the_default(void **state)
{
	(void)state;
	char xdg[300];
	snprintf(xdg, sizeof(xdg), "XDG_DATA_HOME=%s", AIPLAT_TEST_XDG);
	const char *env[] = { xdg, "AIPLAT_DATABASE_URL=", "DATABASE_URL=", "PGHOST=", "PGHOSTADDR=",
	                      "PGSERVICE=", "PGPORT=", "PGDATABASE=", NULL };
	run_result r;
	run_aiplat(&r, NULL, env, "-v", "--format", "tsv", "dev", "status", NULL);
	expect_exit(&r, 0, "dev status of the running test cluster");
	assert_true(contains(r.out, "\nrunning\t"));
	run_result_free(&r);
	run_aiplat(&r, NULL, env, "-v", "migrate", "status", NULL);
	expect_exit(&r, 0, "migrate status on the default database");
	assert_true(contains(r.err, "database from development cluster"));
	run_result_free(&r);
	run_aiplat(&r, NULL, env, "-q", "dev", "start", NULL);
	expect_exit(&r, 0, "dev start when running");
	assert_string_equal(r.err, "");
	run_result_free(&r);
	run_aiplat(&r, NULL, env, "dev", "start", NULL);
	assert_true(contains(r.err, "already running"));
	run_result_free(&r);
	run_aiplat(&r, NULL, env, "dev", "psql", "-Atc", "select 40 + 2", NULL);
	expect_exit(&r, 0, "dev psql");
	assert_string_equal(r.out, "42\n");
	run_result_free(&r);
}

static void compare_file(const char *generated, const char *committed)
{
	char *a = read_file(generated), *b = read_file(committed);
	if (!a)
		fail_msg("%s was not generated", generated);
	if (!b)
		fail_msg("%s is not committed; run scripts/gen-docs", committed);
	if (strcmp(a, b) != 0)
		fail_msg("%s differs from the command table; run scripts/gen-docs and commit", committed);
	free(a);
	free(b);
}

/* Completions and man pages are generated from the table and committed:
 * any drift fails here. */
static void test_generated_files_match(void **state)
{
	(void)state;
	static const char *const shells[][2] = {
		{ "bash", "completions/aiplat.bash" },
		{ "zsh", "completions/_aiplat" },
		{ "fish", "completions/aiplat.fish" },
	};
	char *dir = make_temp_dir();
	for (size_t i = 0; i < 3; i++) {
		run_result r;
		run_aiplat(&r, NULL, NULL, "completion", shells[i][0], NULL);
		expect_exit(&r, 0, "completion");
		char path[512], committed[512];
		snprintf(path, sizeof(path), "%s/%s", dir, shells[i][0]);
		write_file(path, r.out);
		snprintf(committed, sizeof(committed), "%s/%s", AIPLAT_SOURCE_DIR, shells[i][1]);
		compare_file(path, committed);
		run_result_free(&r);
	}
	run_result r;
	run_aiplat(&r, NULL, NULL, "gen-docs", "--out", dir, NULL);
	expect_exit(&r, 0, "gen-docs");
	run_result_free(&r);
	char gen[512], committed[512];
	snprintf(gen, sizeof(gen), "%s/man/aiplat.1", dir);
	compare_file(gen, AIPLAT_SOURCE_DIR "/man/aiplat.1");
	CLI_FOR_EACH_GROUP(g) {
		snprintf(gen, sizeof(gen), "%s/man/aiplat-%s.1", dir, (*g)->name);
		snprintf(committed, sizeof(committed), "%s/man/aiplat-%s.1", AIPLAT_SOURCE_DIR, (*g)->name);
		compare_file(gen, committed);
	}
	/* The man page lists every visible command. */
	char *man = read_file(AIPLAT_SOURCE_DIR "/man/aiplat.1");
	CLI_FOR_EACH_COMMAND(g, c) {
		if (c->flags & CMD_HIDDEN)
			continue;
		char name[128], roff[160];
		cli_command_fullname(c, name, sizeof(name));
		snprintf(roff, sizeof(roff), "aiplat %s", name);
		for (char *p = roff; *p; p++)
			if (*p == '-')
				*p = '_';   /* roff escapes dashes; compare without them */
		char *flat = strdup(man);
		for (char *p = flat, *w = flat; ; p++) {
			if (p[0] == '\\' && p[1] == '-') {
				*w++ = '_';
				p++;
			} else if ((*w++ = *p) == '\0')
				break;
		}
		if (!strstr(flat, roff))
			fail_msg("man/aiplat.1 does not mention \"%s\"", name);
		free(flat);
	}
	free(man);
	rm_rf(dir);
	free(dir);
}

/* The bash script at least parses, and completes a group's commands. */
static void test_bash_completion_works(void **state)
{
	(void)state;
	if (system("command -v bash >/dev/null 2>&1") != 0)
		skip();
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "bash -c 'source %s/completions/aiplat.bash; COMP_WORDS=(aiplat migrate st); COMP_CWORD=2;"
	         " _aiplat; echo \"${COMPREPLY[*]}\"' > /tmp/aiplat-compl-$$.txt 2>&1; cat /tmp/aiplat-compl-$$.txt;"
	         " rm -f /tmp/aiplat-compl-$$.txt", AIPLAT_SOURCE_DIR);
	FILE *p = popen(cmd, "r");
	char line[256] = "";
	assert_non_null(fgets(line, sizeof(line), p));
	pclose(p);
	assert_string_equal(line, "status\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_every_command_help),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_no_database),
		cmocka_unit_test(test_dev_cluster_is_the_default),
		cmocka_unit_test(test_generated_files_match),
		cmocka_unit_test(test_bash_completion_works),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
