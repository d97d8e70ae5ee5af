/* Unit tests for the option parser (cmd/parse-options.c), "did you mean"
 * (cmd/suggest.c) and the command table (cmd/commands.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cli.h"
#include "parse-options.h"

/*
 * PARSE(&p, "migrate", "up") runs cli_parse_argv on {"aiplat", "migrate", "up"}.
 * The argv array is a compound literal living as long as the enclosing block;
 * the strings are literals, so p.args stays valid for the whole test.
 */
#define ARGV(...) ((char *[]){ "aiplat", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "aiplat", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(p, ...) cli_parse_argv((p), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

/* Expects a parse failure with exactly this error and hint. */
/* Expects a parse failure with exactly this error and hint. The result is
 * disposed of before anything is checked, so a failing check leaks nothing. */
#define EXPECT_FAIL(error_text, hint_text, ...)                        \
	do {                                                           \
		struct cli_parse p_;                                   \
		int rc_ = PARSE(&p_, __VA_ARGS__);                     \
		cli_parse_dispose(&p_);                                \
		assert_int_equal(rc_, -1);                             \
		assert_string_equal(p_.error, (error_text));           \
		assert_string_equal(p_.hint, (hint_text));             \
	} while (0)

/* How many values the named option received. */
static int count_values(const struct cli_parse *p, const char *name)
{
	int n = 0;
	for (int i = 0; i < p->values.count; i++)
		if (!strcmp(p->values.items[i].opt->name, name))
			n++;
	return n;
}

/* ---- dispatch ----------------------------------------------------------------- */

static void test_no_arguments(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(cli_parse_argv(&p, 1, (char *[]){ "aiplat", NULL }), 0);
	assert_null(p.group);
	assert_null(p.cmd);
	assert_int_equal(p.nargs, 0);
	assert_int_equal(p.values.count, 0);
	assert_false(p.help);
	assert_false(p.version);
	cli_parse_dispose(&p);
	assert_null(p.args);
	assert_int_equal(p.nargs, 0);
}

static void test_group_command(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "migrate", "up"), 0);
	assert_ptr_equal(p.group, cli_find_group("migrate"));
	assert_ptr_equal(p.cmd, cli_find_command("migrate", "up"));
	assert_int_equal(p.nargs, 0);
	assert_int_equal(p.values.count, 0);
	cli_parse_dispose(&p);
}

static void test_top_level_command(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "help", "migrate", "up"), 0);
	assert_null(p.group);
	assert_ptr_equal(p.cmd, cli_find_command(NULL, "help"));
	assert_int_equal(p.nargs, 2);
	assert_string_equal(p.args[0], "migrate");
	assert_string_equal(p.args[1], "up");
	cli_parse_dispose(&p);
}

static void test_group_without_subcommand(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "migrate"), 0);
	assert_non_null(p.group);
	assert_string_equal(p.group->name, "migrate");
	assert_null(p.cmd);
	assert_int_equal(p.nargs, 0);
	cli_parse_dispose(&p);
}

static void test_unknown_command_suggests(void **state)
{
	(void)state;
	EXPECT_FAIL("unknown command \"migrat\"", "did you mean `aiplat migrate`?", "migrat");
	EXPECT_FAIL("unknown command \"sed\"", "did you mean `aiplat seed`?", "sed");
	EXPECT_FAIL("unknown command \"frobnicate\"", "see `aiplat help`", "frobnicate");
}

static void test_unknown_group_command_suggests(void **state)
{
	(void)state;
	EXPECT_FAIL("unknown migrate command \"upp\"", "did you mean `aiplat migrate up`?",
	            "migrate", "upp");
	EXPECT_FAIL("unknown dev command \"strat\"", "did you mean `aiplat dev start`?", "dev",
	            "strat");
	EXPECT_FAIL("unknown migrate command \"zzzzzz\"", "see `aiplat help migrate`", "migrate",
	            "zzzzzz");
	/* A top-level command is not a member of a group. */
	EXPECT_FAIL("unknown migrate command \"seed\"", "see `aiplat help migrate`", "migrate",
	            "seed");
}

static void test_hidden_command_runs_but_is_not_suggested(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "gen-docs"), 0);
	assert_ptr_equal(p.cmd, cli_find_command(NULL, "gen-docs"));
	cli_parse_dispose(&p);
	EXPECT_FAIL("unknown command \"gen-doc\"", "see `aiplat help`", "gen-doc");
}

/* ---- global and command options ----------------------------------------------- */

static void test_global_option_before_command(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "-q", "--format", "json", "migrate", "up"), 0);
	assert_ptr_equal(p.cmd, cli_find_command("migrate", "up"));
	assert_int_equal(p.values.count, 2);
	assert_string_equal(cli_values_get(&p.values, "quiet"), "1");
	assert_string_equal(cli_values_get(&p.values, "format"), "json");
	cli_parse_dispose(&p);
}

static void test_global_option_after_command(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "migrate", "status", "--db", "postgresql:///x", "--no-color"), 0);
	assert_ptr_equal(p.cmd, cli_find_command("migrate", "status"));
	assert_string_equal(cli_values_get(&p.values, "db"), "postgresql:///x");
	assert_string_equal(cli_values_get(&p.values, "no-color"), "1");
	assert_int_equal(p.nargs, 0);
	cli_parse_dispose(&p);
}

static void test_global_option_between_group_and_command(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "migrate", "--org", "acme", "up"), 0);
	assert_ptr_equal(p.cmd, cli_find_command("migrate", "up"));
	assert_string_equal(cli_values_get(&p.values, "org"), "acme");
	cli_parse_dispose(&p);
}

static void test_command_option_after_command(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "migrate", "up", "--to", "3", "--lock-timeout", "5s"), 0);
	assert_string_equal(cli_values_get(&p.values, "to"), "3");
	assert_string_equal(cli_values_get(&p.values, "lock-timeout"), "5s");
	cli_parse_dispose(&p);
}

static void test_command_option_before_command_is_unknown(void **state)
{
	(void)state;
	/* Before the command only global options are known. */
	EXPECT_FAIL("unknown option --lock-timeout for aiplat", "see `aiplat help`",
	            "--lock-timeout", "5s", "migrate", "up");
	EXPECT_FAIL("unknown option --to for aiplat", "see `aiplat help`", "migrate", "--to", "3",
	            "up");
}

static void test_option_of_other_command_is_unknown(void **state)
{
	(void)state;
	/* --to belongs to migrate up, not migrate down. */
	EXPECT_FAIL("unknown option --to for migrate down", "see `aiplat help migrate down`",
	            "migrate", "down", "--to", "3");
}

static void test_long_option_with_equals(void **state)
{
	(void)state;
	struct cli_parse p;
	/* Only the first '=' separates: the value keeps the rest. */
	assert_int_equal(PARSE(&p, "migrate", "up", "--to=12", "--db=host=/tmp dbname=x"), 0);
	assert_string_equal(cli_values_get(&p.values, "to"), "12");
	assert_string_equal(cli_values_get(&p.values, "db"), "host=/tmp dbname=x");
	cli_parse_dispose(&p);
}

static void test_long_option_empty_value_with_equals(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "--as=", "seed"), 0);
	assert_string_equal(cli_values_get(&p.values, "as"), "");
	cli_parse_dispose(&p);
}

static void test_value_may_start_with_dash(void **state)
{
	(void)state;
	struct cli_parse p;
	/* The word after an option that takes a value is its value, dash or not. */
	assert_int_equal(PARSE(&p, "--as", "-q", "seed"), 0);
	assert_string_equal(cli_values_get(&p.values, "as"), "-q");
	assert_null(cli_values_get(&p.values, "quiet"));
	cli_parse_dispose(&p);
}

static void test_short_flag_cluster(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "-qv", "seed", "-vh"), 0);
	assert_ptr_equal(p.cmd, cli_find_command(NULL, "seed"));
	assert_int_equal(count_values(&p, "quiet"), 1);
	assert_int_equal(count_values(&p, "verbose"), 2);
	assert_int_equal(count_values(&p, "help"), 1);
	assert_int_equal(p.values.count, 4);
	assert_true(p.help);
	cli_parse_dispose(&p);
}

static void test_short_option_value_attached_and_separate(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "dev", "start", "-cfsync=off", "-c", "shared_buffers=16MB"), 0);
	assert_ptr_equal(p.cmd, cli_find_command("dev", "start"));
	assert_int_equal(p.values.count, 2);
	/* Repeatable: both kept, in order; cli_values_get returns the last. */
	assert_string_equal(p.values.items[0].opt->name, "server-option");
	assert_string_equal(p.values.items[0].value, "fsync=off");
	assert_string_equal(p.values.items[1].value, "shared_buffers=16MB");
	assert_string_equal(cli_values_get(&p.values, "server-option"), "shared_buffers=16MB");
	assert_int_equal(p.nargs, 0);
	cli_parse_dispose(&p);
}

static void test_short_cluster_ending_in_valued_option(void **state)
{
	(void)state;
	struct cli_parse p;
	/* -q is a flag, so the rest of the word after c is c's value. */
	assert_int_equal(PARSE(&p, "dev", "start", "-qcwork_mem=4MB"), 0);
	assert_string_equal(cli_values_get(&p.values, "quiet"), "1");
	assert_string_equal(cli_values_get(&p.values, "server-option"), "work_mem=4MB");
	assert_int_equal(p.values.count, 2);
	cli_parse_dispose(&p);
}

static void test_long_name_of_short_option(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "dev", "start", "--server-option", "a=1", "-c", "b=2",
	                       "--server-option=c=3"), 0);
	assert_int_equal(count_values(&p, "server-option"), 3);
	assert_string_equal(p.values.items[2].value, "c=3");
	cli_parse_dispose(&p);
}

static void test_last_value_wins(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "--format", "json", "seed", "--format=csv"), 0);
	assert_string_equal(cli_values_get(&p.values, "format"), "csv");
	assert_null(cli_values_get(&p.values, "db"));
	cli_parse_dispose(&p);
}

static void test_too_many_values(void **state)
{
	(void)state;
	/* CLI_MAX_VALUES options fit; one more is refused. */
	char fits[CLI_MAX_VALUES + 2], over[CLI_MAX_VALUES + 3];
	fits[0] = over[0] = '-';
	memset(fits + 1, 'v', CLI_MAX_VALUES);
	fits[CLI_MAX_VALUES + 1] = '\0';
	memset(over + 1, 'v', CLI_MAX_VALUES + 1);
	over[CLI_MAX_VALUES + 2] = '\0';

	struct cli_parse p;
	assert_int_equal(cli_parse_argv(&p, 3, (char *[]){ "aiplat", fits, "seed", NULL }), 0);
	assert_int_equal(p.values.count, CLI_MAX_VALUES);
	cli_parse_dispose(&p);
	assert_int_equal(cli_parse_argv(&p, 3, (char *[]){ "aiplat", over, "seed", NULL }), -1);
	assert_string_equal(p.error, "too many options");
	cli_parse_dispose(&p);
}

/* ---- end of options, positionals, passthrough --------------------------------- */

static void test_double_dash_ends_options(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "migrate", "new", "--", "--not-an-option"), 0);
	assert_ptr_equal(p.cmd, cli_find_command("migrate", "new"));
	assert_int_equal(p.nargs, 1);
	assert_string_equal(p.args[0], "--not-an-option");
	assert_int_equal(p.values.count, 0);
	cli_parse_dispose(&p);

	/* After --, even a known flag is a positional. */
	assert_int_equal(PARSE(&p, "migrate", "down", "--", "-q"), 0);
	assert_int_equal(p.nargs, 1);
	assert_string_equal(p.args[0], "-q");
	assert_null(cli_values_get(&p.values, "quiet"));
	cli_parse_dispose(&p);
}

static void test_lone_dash_is_positional(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "migrate", "new", "-"), 0);
	assert_int_equal(p.nargs, 1);
	assert_string_equal(p.args[0], "-");
	assert_int_equal(p.values.count, 0);
	cli_parse_dispose(&p);
}

static void test_passthrough_keeps_later_options(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "-q", "dev", "psql", "-c", "select 1", "--format", "json", "--",
	                       "-X", "--help"),
	                 0);
	assert_ptr_equal(p.cmd, cli_find_command("dev", "psql"));
	/* Only -q, before the command, was parsed. */
	assert_int_equal(p.values.count, 1);
	assert_string_equal(cli_values_get(&p.values, "quiet"), "1");
	assert_false(p.help);
	assert_int_equal(p.nargs, 7);
	const char *want[] = { "-c", "select 1", "--format", "json", "--", "-X", "--help" };
	for (int i = 0; i < 7; i++)
		assert_string_equal(p.args[i], want[i]);
	cli_parse_dispose(&p);
}

/* ---- value errors -------------------------------------------------------------- */

static void test_missing_value(void **state)
{
	(void)state;
	EXPECT_FAIL("--to needs a value (VERSION)", "", "migrate", "up", "--to");
	EXPECT_FAIL("--db needs a value (URL)", "", "--db");
	EXPECT_FAIL("-c needs a value (NAME=VALUE)", "", "dev", "start", "-c");
	EXPECT_FAIL("-c needs a value (NAME=VALUE)", "", "dev", "start", "-qc");
}

static void test_flag_given_a_value(void **state)
{
	(void)state;
	EXPECT_FAIL("--quiet takes no value", "", "--quiet=1", "seed");
	EXPECT_FAIL("--demo takes no value", "", "seed", "--demo=yes");
}

static void test_int_validation(void **state)
{
	(void)state;
	EXPECT_FAIL("--to expects a whole number, not \"abc\"", "", "migrate", "up", "--to", "abc");
	EXPECT_FAIL("--to expects a whole number, not \"12x\"", "", "migrate", "up", "--to=12x");
	EXPECT_FAIL("--to expects a whole number, not \"1.5\"", "", "migrate", "up", "--to", "1.5");
	EXPECT_FAIL("--to expects a whole number, not \"\"", "", "migrate", "up", "--to=");
	EXPECT_FAIL("--to expects a whole number, not \" 5\"", "", "migrate", "up", "--to", " 5");
	/* Beyond the range of long. */
	EXPECT_FAIL("--to expects a whole number, not \"99999999999999999999\"", "", "migrate", "up",
	            "--to", "99999999999999999999");
}

static void test_duration_validation(void **state)
{
	(void)state;
	EXPECT_FAIL("--lock-timeout expects a duration, not \"5x\"",
	            "write a number of seconds, or add a unit: 500ms, 30s, 5m, 1h", "migrate", "up",
	            "--lock-timeout", "5x");
	EXPECT_FAIL("--lock-timeout expects a duration, not \"-1\"",
	            "write a number of seconds, or add a unit: 500ms, 30s, 5m, 1h", "migrate", "down",
	            "--lock-timeout=-1");
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "migrate", "redo", "--lock-timeout", "1.5m"), 0);
	assert_string_equal(cli_values_get(&p.values, "lock-timeout"), "1.5m");
	cli_parse_dispose(&p);
}

static void test_enum_validation(void **state)
{
	(void)state;
	EXPECT_FAIL("--format must be one of table, json, ndjson, csv, tsv, prometheus, not \"xml\"", "",
	            "--format", "xml", "seed");
	EXPECT_FAIL("--format must be one of table, json, ndjson, csv, tsv, prometheus, not \"jsn\"",
	            "did you mean \"json\"?", "seed", "--format", "jsn");
	EXPECT_FAIL("--format must be one of table, json, ndjson, csv, tsv, prometheus, not \"JSON\"", "",
	            "seed", "--format=JSON");
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "seed", "--format", "ndjson"), 0);
	assert_string_equal(cli_values_get(&p.values, "format"), "ndjson");
	cli_parse_dispose(&p);
}

static void test_unknown_long_option(void **state)
{
	(void)state;
	EXPECT_FAIL("unknown option --lock-timout for migrate up", "did you mean --lock-timeout?",
	            "migrate", "up", "--lock-timout", "5s");
	/* With =value, only the name is reported. */
	EXPECT_FAIL("unknown option --fromat for aiplat", "did you mean --format?", "--fromat=json");
	EXPECT_FAIL("unknown option --zzzzzz for migrate up", "see `aiplat help migrate up`",
	            "migrate", "up", "--zzzzzz");
	EXPECT_FAIL("unknown option --zzzzzz for aiplat", "see `aiplat help`", "--zzzzzz");
}

static void test_unknown_short_option(void **state)
{
	(void)state;
	EXPECT_FAIL("unknown option -x for migrate up", "see `aiplat help`", "migrate", "up", "-x");
	/* Found inside a cluster, after valid flags. */
	EXPECT_FAIL("unknown option -z for aiplat", "see `aiplat help`", "-qz");
	/* -c belongs to dev start only. */
	EXPECT_FAIL("unknown option -c for migrate up", "see `aiplat help`", "migrate", "up", "-c",
	            "x=1");
}

/* ---- argument counts ----------------------------------------------------------- */

static void test_argument_counts(void **state)
{
	(void)state;
	EXPECT_FAIL("migrate new: missing argument", "usage: aiplat migrate new NAME", "migrate",
	            "new");
	EXPECT_FAIL("migrate down: unexpected argument \"2\"", "usage: aiplat migrate down [N|all]",
	            "migrate", "down", "1", "2");
	EXPECT_FAIL("migrate up: unexpected argument \"extra\"", "usage: aiplat migrate up",
	            "migrate", "up", "extra");
	EXPECT_FAIL("completion: unexpected argument \"zsh\"", "usage: aiplat completion bash|zsh|fish",
	            "completion", "bash", "zsh");

	struct cli_parse p;
	assert_int_equal(PARSE(&p, "migrate", "down", "all"), 0);
	assert_int_equal(p.nargs, 1);
	assert_string_equal(p.args[0], "all");
	cli_parse_dispose(&p);
}

/* ---- --help and --version ------------------------------------------------------ */

static void test_help_and_version(void **state)
{
	(void)state;
	struct cli_parse p;
	assert_int_equal(PARSE(&p, "--help"), 0);
	assert_true(p.help);
	assert_false(p.version);
	assert_null(p.cmd);
	cli_parse_dispose(&p);

	assert_int_equal(PARSE(&p, "--version"), 0);
	assert_true(p.version);
	assert_false(p.help);
	cli_parse_dispose(&p);

	/* Help skips the argument count check of the command. */
	assert_int_equal(PARSE(&p, "migrate", "new", "-h"), 0);
	assert_true(p.help);
	assert_ptr_equal(p.cmd, cli_find_command("migrate", "new"));
	assert_int_equal(p.nargs, 0);
	cli_parse_dispose(&p);

	/* `aiplat --help nonsense` shows help rather than an error. */
	assert_int_equal(PARSE(&p, "--help", "nonsense"), 0);
	assert_true(p.help);
	assert_null(p.cmd);
	cli_parse_dispose(&p);

	/* Without --help the same words are an error. */
	assert_int_equal(PARSE(&p, "nonsense"), -1);
	assert_false(p.help);
	cli_parse_dispose(&p);
}

/* ---- durations ---------------------------------------------------------------- */

static void test_parse_duration_accepts(void **state)
{
	(void)state;
	double s = -1;
	assert_true(cli_parse_duration("90", &s));
	assert_true(s == 90.0);
	assert_true(cli_parse_duration("90s", &s));
	assert_true(s == 90.0);
	assert_true(cli_parse_duration("1.5m", &s));
	assert_true(s == 90.0);
	assert_true(cli_parse_duration("500ms", &s));
	assert_true(s == 0.5);
	assert_true(cli_parse_duration("2h", &s));
	assert_true(s == 7200.0);
	assert_true(cli_parse_duration("0", &s));
	assert_true(s == 0.0);
	assert_true(cli_parse_duration(".25s", &s));
	assert_true(s == 0.25);
}

static void test_parse_duration_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = { "",   "-1",  "5x", " 5",  "5 ", "s",   "ms", "5sec",
	                                   "5S", "inf", "nan", "1e999", "5ms5", NULL };
	for (const char *const *b = bad; *b; b++) {
		double s = 123.0;
		if (cli_parse_duration(*b, &s))
			fail_msg("\"%s\" accepted as %g seconds", *b, s);
		/* A rejected value leaves the output alone. */
		assert_true(s == 123.0);
	}
	double s = 123.0;
	assert_false(cli_parse_duration(NULL, &s));
	assert_true(s == 123.0);
}

/* "1e999" is refused as out of range, but a finite number whose unit pushes
 * it past the largest double must be refused too, not read as infinity. */
static void test_parse_duration_rejects_overflow_after_unit(void **state)
{
	(void)state;
	double s = 123.0;
	bool ok = cli_parse_duration("1e306h", &s);
	if (ok)
		print_message("\"1e306h\" accepted as %g seconds\n", s);
	assert_false(ok);
	assert_true(s == 123.0);
}

/* ---- suggestions ---------------------------------------------------------------- */

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(cli_edit_distance("", ""), 0);
	assert_int_equal(cli_edit_distance("abc", ""), 3);
	assert_int_equal(cli_edit_distance("", "abc"), 3);
	assert_int_equal(cli_edit_distance("migrate", "migrate"), 0);
	assert_int_equal(cli_edit_distance("migrat", "migrate"), 1);   /* insertion */
	assert_int_equal(cli_edit_distance("upp", "up"), 1);           /* deletion */
	assert_int_equal(cli_edit_distance("sead", "seed"), 1);        /* substitution */
	assert_int_equal(cli_edit_distance("stauts", "status"), 1);    /* transposition */
	assert_int_equal(cli_edit_distance("ab", "ba"), 1);
	assert_int_equal(cli_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(cli_edit_distance("flaw", "lawn"), 2);
}

static void test_edit_distance_too_long(void **state)
{
	(void)state;
	char longword[70];
	memset(longword, 'a', sizeof(longword) - 1);
	longword[sizeof(longword) - 1] = '\0';
	assert_true(cli_edit_distance(longword, "a") == (size_t)-1);
	assert_true(cli_edit_distance("a", longword) == (size_t)-1);
	longword[64] = '\0';   /* exactly 64 is still measured */
	assert_int_equal(cli_edit_distance(longword, "a"), 63);
}

static void test_suggest(void **state)
{
	(void)state;
	static const char *const cands[] = { "start", "stop", "status", "url", "psql" };
	assert_string_equal(cli_suggest("strat", cands, 5), "start");
	assert_string_equal(cli_suggest("stauts", cands, 5), "status");
	assert_string_equal(cli_suggest("ur", cands, 5), "url");
	/* A prefix of two or more letters counts as one edit: "migr" is three
	 * edits from "migrate", beyond the limit of two for a four-letter word. */
	static const char *const groups[] = { "dev", "migrate" };
	assert_string_equal(cli_suggest("migr", groups, 2), "migrate");
	assert_string_equal(cli_suggest("sta", cands, 5), "start");
	assert_null(cli_suggest("m", groups, 2));
	/* An exact match is not a suggestion, and far words get none. */
	assert_null(cli_suggest("stop", cands, 5));
	assert_null(cli_suggest("xyzzy", cands, 5));
	assert_null(cli_suggest("start", cands, 0));
}

static void test_suggest_limit_grows_with_length(void **state)
{
	(void)state;
	static const char *const cands[] = { "lock-timeout" };
	/* A nine-letter word may be up to three edits away. */
	assert_string_equal(cli_suggest("lck-timot", cands, 1), "lock-timeout");   /* 3 edits */
	assert_null(cli_suggest("lk-tmot", cands, 1));                             /* 5 edits */
	static const char *const short_cands[] = { "up" };
	/* Two letters: one edit. */
	assert_string_equal(cli_suggest("u", short_cands, 1), "up");
	assert_null(cli_suggest("ab", short_cands, 1));
}

/* ---- the command table ---------------------------------------------------------- */

static void test_find_group(void **state)
{
	(void)state;
	const struct cli_group *g = cli_find_group("dev");
	assert_non_null(g);
	assert_string_equal(g->name, "dev");
	assert_ptr_equal(cli_find_group("migrate"), cli_groups[1]);
	assert_null(cli_find_group("seed"));
	assert_null(cli_find_group("Migrate"));
	assert_null(cli_find_group(""));
}

static void test_find_command(void **state)
{
	(void)state;
	assert_ptr_equal(cli_find_command("migrate", "up"), cli_find_command("migrate", "up"));
	assert_ptr_equal(cli_find_command("dev", "psql"), cli_find_command("dev", "psql"));
	assert_ptr_equal(cli_find_command(NULL, "seed"), cli_find_command(NULL, "seed"));
	/* Groups keep their commands apart from the top level and each other. */
	assert_null(cli_find_command(NULL, "up"));
	assert_null(cli_find_command("migrate", "seed"));
	assert_null(cli_find_command("dev", "up"));
	assert_null(cli_find_command("nosuch", "up"));
	assert_null(cli_find_command("migrate", "Up"));
}

static void test_command_fullname(void **state)
{
	(void)state;
	char buf[64];
	cli_command_fullname(cli_find_command("migrate", "up"), buf, sizeof(buf));
	assert_string_equal(buf, "migrate up");
	cli_command_fullname(cli_find_command(NULL, "seed"), buf, sizeof(buf));
	assert_string_equal(buf, "seed");
	cli_command_fullname(cli_find_command("dev", "start"), buf, 6);   /* truncated, still terminated */
	assert_string_equal(buf, "dev s");
}

static void test_command_table_is_complete(void **state)
{
	(void)state;
	int n = 0;
	CLI_FOR_EACH_COMMAND(g, c) {
		char name[64];
		n++;
		cli_command_fullname(c, name, sizeof(name));
		if (!c->name[0] || !c->summary || !c->summary[0] || !c->run || !c->description)
			fail_msg("command \"%s\" lacks a name, summary, description or handler", name);
		if ((*g)->name && (!(*g)->summary || !(*g)->description))
			fail_msg("group \"%s\" lacks a summary or description", (*g)->name);
		if (c->max_args >= 0 && c->max_args < c->min_args)
			fail_msg("command \"%s\": max_args < min_args", name);
		/* The look-up finds this very entry, and no other has the same name. */
		if (cli_find_command((*g)->name, c->name) != c)
			fail_msg("command \"%s\" is shadowed by another entry", name);
		if (cli_command_group(c) != (*g)->name)
			fail_msg("command \"%s\" is not found in its own group", name);
		/* A top-level command must not hide a group of the same name. */
		if (!(*g)->name && cli_find_group(c->name))
			fail_msg("command \"%s\" has a group's name", name);
	}
	/* No two groups share a name. */
	CLI_FOR_EACH_GROUP(g)
		if (cli_find_group((*g)->name) != *g)
			fail_msg("group \"%s\" appears twice", (*g)->name);
	assert_true(n > 0);
}

static void test_command_options_are_well_formed(void **state)
{
	(void)state;
	CLI_FOR_EACH_COMMAND(grp, c) {
		char name[64];
		cli_command_fullname(c, name, sizeof(name));
		for (const struct cli_option *o = c->options; o && o->name; o++) {
			if (!o->help || !o->help[0])
				fail_msg("%s --%s has no help", name, o->name);
			if (o->type != OPT_FLAG && !o->argname)
				fail_msg("%s --%s takes a value but has no argname", name, o->name);
			if (o->type == OPT_ENUM && (!o->choices || !o->choices[0]))
				fail_msg("%s --%s is an enum without choices", name, o->name);
			/* A command option with a global option's name would shadow it. */
			for (const struct cli_option *g = cli_global_options; g->name; g++) {
				if (!strcmp(g->name, o->name))
					fail_msg("%s --%s shadows a global option", name, o->name);
				if (o->short_name && g->short_name == o->short_name)
					fail_msg("%s -%c shadows a global option", name, o->short_name);
			}
			for (const struct cli_option *q = o + 1; q->name; q++)
				if (!strcmp(q->name, o->name))
					fail_msg("%s --%s is listed twice", name, o->name);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_arguments),
		cmocka_unit_test(test_group_command),
		cmocka_unit_test(test_top_level_command),
		cmocka_unit_test(test_group_without_subcommand),
		cmocka_unit_test(test_unknown_command_suggests),
		cmocka_unit_test(test_unknown_group_command_suggests),
		cmocka_unit_test(test_hidden_command_runs_but_is_not_suggested),
		cmocka_unit_test(test_global_option_before_command),
		cmocka_unit_test(test_global_option_after_command),
		cmocka_unit_test(test_global_option_between_group_and_command),
		cmocka_unit_test(test_command_option_after_command),
		cmocka_unit_test(test_command_option_before_command_is_unknown),
		cmocka_unit_test(test_option_of_other_command_is_unknown),
		cmocka_unit_test(test_long_option_with_equals),
		cmocka_unit_test(test_long_option_empty_value_with_equals),
		cmocka_unit_test(test_value_may_start_with_dash),
		cmocka_unit_test(test_short_flag_cluster),
		cmocka_unit_test(test_short_option_value_attached_and_separate),
		cmocka_unit_test(test_short_cluster_ending_in_valued_option),
		cmocka_unit_test(test_long_name_of_short_option),
		cmocka_unit_test(test_last_value_wins),
		cmocka_unit_test(test_too_many_values),
		cmocka_unit_test(test_double_dash_ends_options),
		cmocka_unit_test(test_lone_dash_is_positional),
		cmocka_unit_test(test_passthrough_keeps_later_options),
		cmocka_unit_test(test_missing_value),
		cmocka_unit_test(test_flag_given_a_value),
		cmocka_unit_test(test_int_validation),
		cmocka_unit_test(test_duration_validation),
		cmocka_unit_test(test_enum_validation),
		cmocka_unit_test(test_unknown_long_option),
		cmocka_unit_test(test_unknown_short_option),
		cmocka_unit_test(test_argument_counts),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_parse_duration_accepts),
		cmocka_unit_test(test_parse_duration_rejects),
		cmocka_unit_test(test_parse_duration_rejects_overflow_after_unit),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_edit_distance_too_long),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_suggest_limit_grows_with_length),
		cmocka_unit_test(test_find_group),
		cmocka_unit_test(test_find_command),
		cmocka_unit_test(test_command_fullname),
		cmocka_unit_test(test_command_table_is_complete),
		cmocka_unit_test(test_command_options_are_well_formed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
