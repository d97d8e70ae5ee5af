/*
 * Everything generated from the command table: --help text, man pages and
 * shell completion scripts. Committed copies live in man/ and completions/;
 * a test regenerates them and fails on any difference.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "environment.h"
#include "exit.h"

static bool listed(const struct cli_command *c)
{
	return !(c->flags & CMD_HIDDEN);
}

/* ---- plain-text help ------------------------------------------------------ */

/* Writes text wrapped to `width` columns, every line indented by `indent`. */
static void wrap(FILE *f, const char *text, int indent, int width)
{
	int col = 0;
	const char *p = text;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (!n)
			break;
		if (col > indent && col + 1 + (int)n > width) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0) {
			fprintf(f, "%*s", indent, "");
			col = indent;
		} else {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, n, f);
		col += (int)n;
		p += n;
	}
	if (col)
		fputc('\n', f);
}

static void option_label(char *buf, size_t size, const struct cli_option *o)
{
	int n = 0;
	if (o->short_name)
		n = snprintf(buf, size, "-%c, ", o->short_name);
	snprintf(buf + n, size - (size_t)n, "--%s%s%s", o->name, o->argname ? " " : "",
	         o->argname ? o->argname : "");
}

static void print_options(FILE *f, const struct cli_option *opts)
{
	for (const struct cli_option *o = opts; o && o->name; o++) {
		char label[96];
		option_label(label, sizeof(label), o);
		if (strlen(label) <= 26) {
			fprintf(f, "  %-26s", label);
			/* first line of help on the same line, the rest wrapped below */
			char *copy = strdup(o->help);
			if (!copy)
				return;
			int col = 28;
			char *save = NULL;
			bool first = true;
			for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
				int len = (int)strlen(w);
				if (!first && col + 1 + len > 78) {
					fprintf(f, "\n%28s", "");
					col = 28;
					first = true;
				}
				fprintf(f, "%s%s", first ? "" : " ", w);
				col += len + (first ? 0 : 1);
				first = false;
			}
			fputc('\n', f);
			free(copy);
		} else {
			fprintf(f, "  %s\n", label);
			wrap(f, o->help, 28, 78);
		}
	}
}

/* "aiplat migrate up [--to VERSION] [--dir DIR]" */
static void synopsis(FILE *f, const struct cli_command *c)
{
	char name[128];
	cli_command_fullname(c, name, sizeof(name));
	fprintf(f, "aiplat %s", name);
	for (const struct cli_option *o = c->options; o && o->name; o++)
		fprintf(f, " [--%s%s%s]%s", o->name, o->argname ? " " : "", o->argname ? o->argname : "",
		        (o->flags & OPTF_REPEAT) ? "..." : "");
	if (c->args)
		fprintf(f, " %s", c->args);
}

void cli_print_command_help(FILE *f, const struct cli_command *c)
{
	fputs("usage: ", f);
	synopsis(f, c);
	fputs("\n\n", f);
	char summary[256];
	snprintf(summary, sizeof(summary), "%s", c->summary);
	summary[0] = (char)(summary[0] >= 'a' && summary[0] <= 'z' ? summary[0] - 32 : summary[0]);
	fprintf(f, "%s.\n\n", summary);
	if (c->description) {
		wrap(f, c->description, 0, 78);
		fputc('\n', f);
	}
	if (c->options && c->options->name) {
		fputs("Options:\n", f);
		print_options(f, c->options);
		fputc('\n', f);
	}
	fputs("Global options (--db, --format, --as, --org, -q, -v, --no-color) are described in\n"
	      "`aiplat help`.\n", f);
}

void cli_print_group_help(FILE *f, const struct cli_group *g)
{
	fprintf(f, "usage: aiplat %s <command> [options]\n\n", g->name);
	wrap(f, g->description, 0, 78);
	fputs("\nCommands:\n", f);
	for (const struct cli_command *c = g->commands; c->name; c++) {
		if (listed(c)) {
			char name[64];
			snprintf(name, sizeof(name), "%s%s%s", c->name, c->args ? " " : "", c->args ? c->args : "");
			fprintf(f, "  %-20s %s\n", name, c->summary);
		}
	}
	fprintf(f, "\nRun `aiplat help %s <command>` for a command's options.\n", g->name);
}

void cli_print_overview(FILE *f)
{
	fputs("usage: aiplat [global options] <command> [options] [args]\n\n"
	      "Run a multi-tenant AI platform on PostgreSQL: the model catalogue, tenants,\n"
	      "quotas and usage, from scripts and the shell.\n\nCommands:\n", f);
	CLI_FOR_EACH_COMMAND(g, c) {
		if (!listed(c))
			continue;
		char name[128];
		cli_command_fullname(c, name, sizeof(name));
		fprintf(f, "  %-18s %s\n", name, c->summary);
	}
	fputs("\nGlobal options:\n", f);
	print_options(f, cli_global_options);
	fputs("\nExit status:\n", f);
	for (const struct cli_exit_status *e = cli_exit_statuses; e->meaning; e++)
		fprintf(f, "  %-3d %s\n", (int)e->status, e->meaning);
	fputs("\nRun `aiplat help <command>` for a command's options; see aiplat(1).\n", f);
}

/* ---- man pages (roff) ------------------------------------------------------- */

static void roff_text(FILE *f, const char *s)
{
	bool line_start = true;
	for (const char *p = s; *p; p++) {
		if (line_start && (*p == '.' || *p == '\''))
			fputs("\\&", f);
		if (*p == '\\')
			fputs("\\e", f);
		else if (*p == '-')
			fputs("\\-", f);
		else
			fputc(*p, f);
		line_start = *p == '\n';
	}
}

static void roff_option(FILE *f, const struct cli_option *o)
{
	fputs(".TP\n", f);
	if (o->short_name)
		fprintf(f, "\\fB\\-%c\\fR, ", o->short_name);
	fputs("\\fB\\-\\-", f);
	roff_text(f, o->name);
	fputs("\\fR", f);
	if (o->argname) {
		fputs(" \\fI", f);
		roff_text(f, o->argname);
		fputs("\\fR", f);
	}
	fputc('\n', f);
	roff_text(f, o->help);
	fputc('\n', f);
}

static void roff_command(FILE *f, const struct cli_command *c)
{
	fputs(".SS \"", f);
	char name[128];
	cli_command_fullname(c, name, sizeof(name));
	roff_text(f, name);
	fputs("\"\n.B aiplat ", f);
	roff_text(f, name);
	for (const struct cli_option *o = c->options; o && o->name; o++) {
		fputs("\n[\\fB\\-\\-", f);
		roff_text(f, o->name);
		fputs("\\fR", f);
		if (o->argname) {
			fputs(" \\fI", f);
			roff_text(f, o->argname);
			fputs("\\fR", f);
		}
		fputs((o->flags & OPTF_REPEAT) ? "]..." : "]", f);
	}
	if (c->args) {
		fputs("\n\\fI", f);
		roff_text(f, c->args);
		fputs("\\fR", f);
	}
	fputs("\n.PP\n", f);
	if (c->description)
		roff_text(f, c->description);
	else
		roff_text(f, c->summary);
	fputc('\n', f);
	if (c->options && c->options->name) {
		fputs(".RS\n", f);
		for (const struct cli_option *o = c->options; o->name; o++)
			roff_option(f, o);
		fputs(".RE\n", f);
	}
}

static void man_header(FILE *f, const char *title, const char *name, const char *what)
{
	fprintf(f, ".\\\" Generated from the aiplat command table; do not edit.\n"
	           ".\\\" Regenerate with: scripts/gen-docs\n"
	           ".TH %s 1 \"\" \"aiplat %s\" \"aiplat manual\"\n.SH NAME\n", title, aiplat_version());
	roff_text(f, name);
	fputs(" \\- ", f);
	roff_text(f, what);
	fputc('\n', f);
}

static void man_main(FILE *f)
{
	man_header(f, "AIPLAT", "aiplat", "run a multi-tenant AI platform on PostgreSQL");
	fputs(".SH SYNOPSIS\n.B aiplat\n[\\fIglobal options\\fR] \\fIcommand\\fR [\\fIoptions\\fR] "
	      "[\\fIargs\\fR]\n.SH DESCRIPTION\n", f);
	roff_text(f, "aiplat keeps the state of a multi-tenant AI platform in PostgreSQL: the system "
	             "model catalogue that superadmins manage, the organisations that enable models "
	             "for their users, per-user token limits and organisation quotas, usage events and "
	             "the audit log. Commands act either as the platform itself (connected as the "
	             "schema owner, no --as) or as a person (--as), in which case row-level security "
	             "in the database decides what they may see and change. See aiplat(7) for the "
	             "concepts.");
	fputs("\n.SH COMMANDS\n", f);
	CLI_FOR_EACH_COMMAND(g, c) {
		if (!listed(c) || !(*g)->name)
			continue;
		char name[128];
		cli_command_fullname(c, name, sizeof(name));
		fputs(".TP\n.B aiplat ", f);
		roff_text(f, name);
		fputc('\n', f);
		roff_text(f, c->summary);
		fprintf(f, "; see\n.BR aiplat\\-%s (1).\n", (*g)->name);
	}
	CLI_FOR_EACH_COMMAND(g, c)
		if (!(*g)->name && listed(c))
			roff_command(f, c);
	fputs(".SH GLOBAL OPTIONS\n", f);
	for (const struct cli_option *o = cli_global_options; o->name; o++)
		roff_option(f, o);
	fputs(".SH OUTPUT\n", f);
	roff_text(f, "Results go to standard output in the format --format chooses. Messages and "
	             "errors go to standard error as \"aiplat: error: ...\", often followed by "
	             "\"hint: ...\".");
	fputc('\n', f);
	for (int i = 0; out_format_names[i]; i++) {
		fputs(".TP\n.B ", f);
		roff_text(f, out_format_names[i]);
		fputc('\n', f);
		roff_text(f, out_format_descriptions[i]);
		fputc('\n', f);
	}
	fputs(".SH ENVIRONMENT\n", f);
	for (const struct cli_env_var *v = cli_environment; v->name; v++) {
		fputs(".TP\n.B ", f);
		roff_text(f, v->name);
		fputc('\n', f);
		roff_text(f, v->meaning);
		fputc('\n', f);
	}
	fputs(".SH EXIT STATUS\n", f);
	for (const struct cli_exit_status *e = cli_exit_statuses; e->meaning; e++) {
		fprintf(f, ".TP\n.B %d\n", (int)e->status);
		roff_text(f, e->meaning);
		fputc('\n', f);
	}
	fputs(".SH FILES\n.TP\n.I ${XDG_DATA_HOME:\\-~/.local/share}/aiplat\n", f);
	roff_text(f, "the development cluster: pg/ (data), run/ (socket), initdb.log, pg_ctl.log");
	fputs("\n.SH SEE ALSO\n", f);
	CLI_FOR_EACH_GROUP(g)
		fprintf(f, ".BR aiplat\\-%s (1),\n", (*g)->name);
	fputs(".BR aiplat (7),\n.BR psql (1)\n", f);
}

static void man_group(FILE *f, const struct cli_group *g)
{
	char title[64], name[64];
	snprintf(title, sizeof(title), "AIPLAT-%s", g->name);
	for (char *p = title; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	snprintf(name, sizeof(name), "aiplat-%s", g->name);
	man_header(f, title, name, g->summary);
	fprintf(f, ".SH SYNOPSIS\n.B aiplat %s\n\\fIcommand\\fR [\\fIoptions\\fR]\n.SH DESCRIPTION\n",
	        g->name);
	roff_text(f, g->description);
	fputs("\n.SH COMMANDS\n", f);
	for (const struct cli_command *c = g->commands; c->name; c++)
		if (listed(c))
			roff_command(f, c);
	fputs(".SH EXIT STATUS\nSee\n.BR aiplat (1).\n.SH SEE ALSO\n.BR aiplat (1)\n", f);
}

/* ---- completion scripts ------------------------------------------------------ */

/* The names of a group's commands, or (g NULL) of the top-level commands. */
static void words_of_group(FILE *f, const struct cli_group *group)
{
	bool first = true;
	CLI_FOR_EACH_COMMAND(g, c) {
		bool same = group ? *g == group : !(*g)->name;
		if (same && listed(c)) {
			fprintf(f, "%s%s", first ? "" : " ", c->name);
			first = false;
		}
	}
}

static void top_words(FILE *f)
{
	bool first = true;
	CLI_FOR_EACH_GROUP(g) {
		fprintf(f, "%s%s", first ? "" : " ", (*g)->name);
		first = false;
	}
	fputc(' ', f);
	words_of_group(f, NULL);
}

static void option_words(FILE *f, const struct cli_option *opts)
{
	for (const struct cli_option *o = opts; o && o->name; o++) {
		fprintf(f, " --%s", o->name);
		if (o->short_name)
			fprintf(f, " -%c", o->short_name);
	}
}

/* Options that take a value, for skipping their argument when locating the command. */
static void value_options_pattern(FILE *f)
{
	bool first = true;
	for (const struct cli_option *o = cli_global_options; o->name; o++)
		if (o->type != OPT_FLAG) {
			fprintf(f, "%s--%s", first ? "" : "|", o->name);
			first = false;
		}
}

static void bash_value_cases(FILE *f, const struct cli_option *opts, const char *indent)
{
	for (const struct cli_option *o = opts; o && o->name; o++) {
		if (o->type == OPT_FLAG)
			continue;
		fprintf(f, "%s--%s", indent, o->name);
		if (o->short_name)
			fprintf(f, "|-%c", o->short_name);
		fputs(")\n", f);
		if (o->type == OPT_ENUM) {
			fprintf(f, "%s  COMPREPLY=($(compgen -W \"", indent);
			for (const char *const *c = o->choices; *c; c++)
				fprintf(f, "%s%s", c == o->choices ? "" : " ", *c);
			fputs("\" -- \"$cur\"))\n", f);
		} else if (o->type == OPT_PATH) {
			fprintf(f, "%s  COMPREPLY=($(compgen -f -- \"$cur\"))\n", indent);
		} else {
			fprintf(f, "%s  COMPREPLY=()\n", indent);
		}
		fprintf(f, "%s  return;;\n", indent);
	}
}

static void gen_bash(FILE *f)
{
	fputs("# bash completion for aiplat -*- shell-script -*-\n"
	      "# Generated by `aiplat completion bash` from the command table; do not edit.\n\n"
	      "_aiplat() {\n"
	      "  local cur prev group=\"\" cmd=\"\" i w\n"
	      "  cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
	      "  prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
	      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "    w=\"${COMP_WORDS[i]}\"\n"
	      "    case \"$w\" in\n      ", f);
	value_options_pattern(f);
	fputs(") ((i++)); continue;;\n"
	      "      -*) continue;;\n"
	      "    esac\n"
	      "    if [[ -z $group ]]; then group=\"$w\"; elif [[ -z $cmd ]]; then cmd=\"$w\"; fi\n"
	      "  done\n"
	      "  case \"$prev\" in\n", f);
	bash_value_cases(f, cli_global_options, "    ");
	fputs("  esac\n  local globals=\"", f);
	option_words(f, cli_global_options);
	fputs("\"\n  case \"$group\" in\n    \"\")\n      COMPREPLY=($(compgen -W \"", f);
	top_words(f);
	fputs(" $globals\" -- \"$cur\"))\n      return;;\n", f);
	CLI_FOR_EACH_GROUP(g) {
		fprintf(f, "    %s)\n      if [[ -z $cmd ]]; then\n"
		           "        COMPREPLY=($(compgen -W \"", (*g)->name);
		words_of_group(f, *g);
		fputs("\" -- \"$cur\"))\n        return\n      fi\n      case \"$cmd\" in\n", f);
		for (const struct cli_command *c = (*g)->commands; c->name; c++) {
			if (!listed(c))
				continue;
			fprintf(f, "        %s)\n          case \"$prev\" in\n", c->name);
			bash_value_cases(f, c->options, "            ");
			fputs("          esac\n          COMPREPLY=($(compgen -W \"", f);
			option_words(f, c->options);
			fputs(" $globals\" -- \"$cur\"));;\n", f);
		}
		fputs("      esac\n      return;;\n", f);
	}
	CLI_FOR_EACH_COMMAND(g, c) {
		if ((*g)->name || !listed(c))
			continue;
		fprintf(f, "    %s)\n      case \"$prev\" in\n", c->name);
		bash_value_cases(f, c->options, "        ");
		fputs("      esac\n      COMPREPLY=($(compgen -W \"", f);
		option_words(f, c->options);
		if (c->arg_choices)
			for (const char *const *a = c->arg_choices; *a; a++)
				fprintf(f, " %s", *a);
		fputs(" $globals\" -- \"$cur\"))\n      return;;\n", f);
	}
	fputs("  esac\n}\ncomplete -F _aiplat aiplat\n", f);
}

static void zsh_quote(FILE *f, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", f);
		else if (*p == '[' || *p == ']' || *p == ':')
			fputc(' ', f);
		else
			fputc(*p, f);
	}
}

static void zsh_specs(FILE *f, const struct cli_option *opts)
{
	for (const struct cli_option *o = opts; o && o->name; o++) {
		fputs(" \\\n      '", f);
		if (o->flags & OPTF_REPEAT)
			fputc('*', f);
		fprintf(f, "--%s[", o->name);
		zsh_quote(f, o->help);
		fputc(']', f);
		if (o->type == OPT_ENUM) {
			fprintf(f, ":%s:(", o->argname);
			for (const char *const *c = o->choices; *c; c++)
				fprintf(f, "%s%s", c == o->choices ? "" : " ", *c);
			fputc(')', f);
		} else if (o->type == OPT_PATH) {
			fprintf(f, ":%s:_files", o->argname);
		} else if (o->type != OPT_FLAG) {
			fprintf(f, ":%s: ", o->argname);
		}
		fputc('\'', f);
		if (o->short_name) {
			fprintf(f, " \\\n      '-%c[", o->short_name);
			zsh_quote(f, o->help);
			fputs("]'", f);
		}
	}
}

static void zsh_describe_list(FILE *f, const struct cli_group *group)
{
	CLI_FOR_EACH_COMMAND(g, c) {
		bool same = group ? *g == group : !(*g)->name;
		if (!same || !listed(c))
			continue;
		fprintf(f, "    '%s:", c->name);
		zsh_quote(f, c->summary);
		fputs("'\n", f);
	}
}

static void gen_zsh(FILE *f)
{
	fputs("#compdef aiplat\n"
	      "# zsh completion for aiplat.\n"
	      "# Generated by `aiplat completion zsh` from the command table; do not edit.\n\n"
	      "_aiplat() {\n"
	      "  local -a globals commands\n"
	      "  globals=(", f);
	zsh_specs(f, cli_global_options);
	fputs("\n  )\n  commands=(\n", f);
	CLI_FOR_EACH_GROUP(g) {
		fprintf(f, "    '%s:", (*g)->name);
		zsh_quote(f, (*g)->summary);
		fputs("'\n", f);
	}
	zsh_describe_list(f, NULL);
	fputs("  )\n"
	      "  local curcontext=\"$curcontext\" state line\n"
	      "  typeset -A opt_args\n"
	      "  _arguments -C $globals '1:command:->command' '*::arg:->args' && return\n"
	      "  case $state in\n"
	      "    command) _describe -t commands 'aiplat command' commands ;;\n"
	      "    args)\n"
	      "      case $words[1] in\n", f);
	CLI_FOR_EACH_GROUP(g) {
		fprintf(f, "        %s)\n          if (( CURRENT == 2 )); then\n"
		           "            local -a sub; sub=(\n", (*g)->name);
		zsh_describe_list(f, *g);
		fprintf(f, "            )\n            _describe -t commands 'aiplat %s command' sub\n"
		           "            return\n          fi\n          case $words[2] in\n", (*g)->name);
		for (const struct cli_command *c = (*g)->commands; c->name; c++) {
			if (!listed(c))
				continue;
			fprintf(f, "            %s) _arguments $globals", c->name);
			zsh_specs(f, c->options);
			fputs(" '*:argument: ' ;;\n", f);
		}
		fputs("          esac ;;\n", f);
	}
	CLI_FOR_EACH_COMMAND(g, c) {
		if ((*g)->name || !listed(c))
			continue;
		fprintf(f, "        %s) _arguments $globals", c->name);
		zsh_specs(f, c->options);
		if (c->arg_choices) {
			fputs(" '1:argument:(", f);
			for (const char *const *a = c->arg_choices; *a; a++)
				fprintf(f, "%s%s", a == c->arg_choices ? "" : " ", *a);
			fputs(")'", f);
		}
		fputs(" ;;\n", f);
	}
	fputs("      esac ;;\n  esac\n}\n\n_aiplat \"$@\"\n", f);
}

static void fish_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (const char *p = s; *p; p++) {
		if (*p == '\'' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputc('\'', f);
}

static void fish_options(FILE *f, const char *condition, const struct cli_option *opts)
{
	for (const struct cli_option *o = opts; o && o->name; o++) {
		fputs("complete -c aiplat", f);
		if (condition)
			fprintf(f, " -n '%s'", condition);
		fprintf(f, " -l %s", o->name);
		if (o->short_name)
			fprintf(f, " -s %c", o->short_name);
		if (o->type == OPT_ENUM) {
			fputs(" -x -a ", f);
			fputc('\'', f);
			for (const char *const *c = o->choices; *c; c++)
				fprintf(f, "%s%s", c == o->choices ? "" : " ", *c);
			fputc('\'', f);
		} else if (o->type == OPT_PATH) {
			fputs(" -r -F", f);
		} else if (o->type != OPT_FLAG) {
			fputs(" -x", f);
		}
		fputs(" -d ", f);
		fish_quote(f, o->help);
		fputc('\n', f);
	}
}

static void gen_fish(FILE *f)
{
	fputs("# fish completion for aiplat.\n"
	      "# Generated by `aiplat completion fish` from the command table; do not edit.\n\n"
	      "complete -c aiplat -f\n", f);
	fish_options(f, NULL, cli_global_options);
	CLI_FOR_EACH_GROUP(g) {
		fprintf(f, "complete -c aiplat -n '__fish_use_subcommand' -a %s -d ", (*g)->name);
		fish_quote(f, (*g)->summary);
		fputc('\n', f);
	}
	CLI_FOR_EACH_COMMAND(g, c) {
		if ((*g)->name || !listed(c))
			continue;
		fprintf(f, "complete -c aiplat -n '__fish_use_subcommand' -a %s -d ", c->name);
		fish_quote(f, c->summary);
		fputc('\n', f);
		char cond[128];
		snprintf(cond, sizeof(cond), "__fish_seen_subcommand_from %s", c->name);
		fish_options(f, cond, c->options);
		if (c->arg_choices) {
			fprintf(f, "complete -c aiplat -n '%s' -a '", cond);
			for (const char *const *a = c->arg_choices; *a; a++)
				fprintf(f, "%s%s", a == c->arg_choices ? "" : " ", *a);
			fputs("'\n", f);
		}
	}
	CLI_FOR_EACH_GROUP(g) {
		char subs[512] = "";
		for (const struct cli_command *c = (*g)->commands; c->name; c++)
			if (listed(c))
				snprintf(subs + strlen(subs), sizeof(subs) - strlen(subs), "%s%s",
				         subs[0] ? " " : "", c->name);
		for (const struct cli_command *c = (*g)->commands; c->name; c++) {
			if (!listed(c))
				continue;
			fprintf(f, "complete -c aiplat -n '__fish_seen_subcommand_from %s; and not "
			           "__fish_seen_subcommand_from %s' -a %s -d ", (*g)->name, subs, c->name);
			fish_quote(f, c->summary);
			fputc('\n', f);
			char cond[640];
			snprintf(cond, sizeof(cond),
			         "__fish_seen_subcommand_from %s; and __fish_seen_subcommand_from %s",
			         (*g)->name, c->name);
			fish_options(f, cond, c->options);
		}
	}
}

int cli_generate_completion(FILE *f, const char *shell)
{
	if (!strcmp(shell, "bash"))
		gen_bash(f);
	else if (!strcmp(shell, "zsh"))
		gen_zsh(f);
	else if (!strcmp(shell, "fish"))
		gen_fish(f);
	else
		return -1;
	return ferror(f) ? -1 : 0;
}

/* ---- writing the committed copies ---------------------------------------- */

static int write_file(const char *dir, const char *sub, const char *name,
                      void (*gen)(FILE *, const void *), const void *arg)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_OS, "cannot create %s: %s", path,
		                        strerror(errno));
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	FILE *f = fopen(path, "w");
	if (!f)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_OS, "cannot write %s: %s", path,
		                        strerror(errno));
	gen(f, arg);
	if (fclose(f) != 0)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_OS, "cannot write %s", path);
	return 0;
}

static void gen_man_main(FILE *f, const void *arg) { (void)arg; man_main(f); }
static void gen_man_group(FILE *f, const void *arg) { man_group(f, arg); }
static void gen_completion(FILE *f, const void *arg) { cli_generate_completion(f, arg); }

int cli_generate_docs(const char *dir)
{
	int rc = write_file(dir, "man", "aiplat.1", gen_man_main, NULL);
	CLI_FOR_EACH_GROUP(g) {
		if (rc)
			break;
		char name[64];
		snprintf(name, sizeof(name), "aiplat-%s.1", (*g)->name);
		rc = write_file(dir, "man", name, gen_man_group, *g);
	}
	if (!rc)
		rc = write_file(dir, "completions", "aiplat.bash", gen_completion, "bash");
	if (!rc)
		rc = write_file(dir, "completions", "_aiplat", gen_completion, "zsh");
	if (!rc)
		rc = write_file(dir, "completions", "aiplat.fish", gen_completion, "fish");
	return rc;
}
