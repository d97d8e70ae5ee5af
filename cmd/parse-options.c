/*
 * Parsing: `aiplat [global options] GROUP COMMAND [options] [args]`.
 *
 * Long options take `--name value` or `--name=value`; short ones cluster
 * (`-qv`) and take `-o value` or `-ovalue`. `--` ends options; a lone `-`
 * is an argument (stdin). Values are checked against the option's type
 * here, so handlers only see well-formed input.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "parse-options.h"

static int fail(struct cli_parse *p, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct cli_parse *p, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	snprintf(p->hint, sizeof(p->hint), "%s", hint ? hint : "");
	return -1;
}

bool cli_parse_duration(const char *s, double *seconds)
{
	if (!s || !*s)
		return false;
	errno = 0;
	char *end;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0 || isspace((unsigned char)*s))
		return false;
	if (!*end || !strcmp(end, "s"))
		v *= 1.0;
	else if (!strcmp(end, "ms"))
		v /= 1000.0;
	else if (!strcmp(end, "m"))
		v *= 60.0;
	else if (!strcmp(end, "h"))
		v *= 3600.0;
	else
		return false;
	if (!isfinite(v))   /* after the unit: 1e306h overflows */
		return false;
	*seconds = v;
	return true;
}

static bool parse_int(const char *s, long *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	char *end;
	long v = strtol(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static const struct cli_option *find_long(const struct cli_option *table, const char *name,
                                          size_t len)
{
	for (const struct cli_option *o = table; o && o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	return NULL;
}

static const struct cli_option *find_short(const struct cli_option *table, char c)
{
	for (const struct cli_option *o = table; o && o->name; o++)
		if (o->short_name == c)
			return o;
	return NULL;
}

static const struct cli_option *lookup_long(const struct cli_parse *p, const char *name, size_t len)
{
	const struct cli_option *o = p->cmd ? find_long(p->cmd->options, name, len) : NULL;
	return o ? o : find_long(cli_global_options, name, len);
}

static const struct cli_option *lookup_short(const struct cli_parse *p, char c)
{
	const struct cli_option *o = p->cmd ? find_short(p->cmd->options, c) : NULL;
	return o ? o : find_short(cli_global_options, c);
}

static void context_name(const struct cli_parse *p, char *buf, size_t size)
{
	if (p->cmd)
		cli_command_fullname(p->cmd, buf, size);
	else
		snprintf(buf, size, "aiplat");
}

static int store(struct cli_parse *p, const struct cli_option *o, const char *value)
{
	switch (o->type) {
	case OPT_INT: {
		long v;
		if (!parse_int(value, &v))
			return fail(p, NULL, "--%s expects a whole number, not \"%s\"", o->name, value);
		break;
	}
	case OPT_DURATION: {
		double v;
		if (!cli_parse_duration(value, &v))
			return fail(p, "write a number of seconds, or add a unit: 500ms, 30s, 5m, 1h",
			            "--%s expects a duration, not \"%s\"", o->name, value);
		break;
	}
	case OPT_ENUM: {
		size_t n = 0;
		bool ok = false;
		for (const char *const *c = o->choices; c && *c; c++, n++)
			ok = ok || !strcmp(*c, value);
		if (!ok) {
			char hint[256] = "";
			const char *near = cli_suggest(value, o->choices, n);
			if (near)
				snprintf(hint, sizeof(hint), "did you mean \"%s\"?", near);
			char list[256] = "";
			for (const char *const *c = o->choices; c && *c; c++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				         c == o->choices ? "" : ", ", *c);
			return fail(p, near ? hint : NULL, "--%s must be one of %s, not \"%s\"", o->name,
			            list, value);
		}
		break;
	}
	default:
		break;
	}
	if (p->values.count >= CLI_MAX_VALUES)
		return fail(p, NULL, "too many options");
	p->values.items[p->values.count].opt = o;
	p->values.items[p->values.count].value = value;
	p->values.count++;
	if (!strcmp(o->name, "help") && o == find_long(cli_global_options, "help", 4))
		p->help = true;
	if (!strcmp(o->name, "version") && o == find_long(cli_global_options, "version", 7))
		p->version = true;
	return 0;
}

static int unknown_option(struct cli_parse *p, const char *name, size_t len)
{
	const char *cands[128];
	size_t n = 0;
	for (const struct cli_option *o = cli_global_options; o->name && n < 128; o++)
		cands[n++] = o->name;
	for (const struct cli_option *o = p->cmd ? p->cmd->options : NULL; o && o->name && n < 128; o++)
		cands[n++] = o->name;
	char word[128];
	snprintf(word, sizeof(word), "%.*s", (int)len, name);
	const char *near = cli_suggest(word, cands, n);
	char hint[256], where[128];
	context_name(p, where, sizeof(where));
	if (near)
		snprintf(hint, sizeof(hint), "did you mean --%s?", near);
	else
		snprintf(hint, sizeof(hint), "see `aiplat help%s%s`", p->cmd ? " " : "",
		         p->cmd ? where : "");
	return fail(p, hint, "unknown option --%s for %s", word, where);
}

static int parse_long(struct cli_parse *p, int argc, char **argv, int *i)
{
	const char *arg = argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct cli_option *o = lookup_long(p, arg, len);
	if (!o)
		return unknown_option(p, arg, len);
	if (o->type == OPT_FLAG) {
		if (eq)
			return fail(p, NULL, "--%s takes no value", o->name);
		return store(p, o, "1");
	}
	if (eq)
		return store(p, o, eq + 1);
	if (*i + 1 >= argc)
		return fail(p, NULL, "--%s needs a value (%s)", o->name, o->argname ? o->argname : "VALUE");
	return store(p, o, argv[++*i]);
}

static int parse_short(struct cli_parse *p, int argc, char **argv, int *i)
{
	const char *arg = argv[*i] + 1;
	for (size_t k = 0; arg[k]; k++) {
		const struct cli_option *o = lookup_short(p, arg[k]);
		if (!o) {
			char where[128];
			context_name(p, where, sizeof(where));
			return fail(p, "see `aiplat help`", "unknown option -%c for %s", arg[k], where);
		}
		if (o->type == OPT_FLAG) {
			if (store(p, o, "1"))
				return -1;
			continue;
		}
		if (arg[k + 1])
			return store(p, o, arg + k + 1);
		if (*i + 1 >= argc)
			return fail(p, NULL, "-%c needs a value (%s)", o->short_name,
			            o->argname ? o->argname : "VALUE");
		return store(p, o, argv[++*i]);
	}
	return 0;
}

static int unknown_command(struct cli_parse *p, const char *word)
{
	const char *cands[256];
	size_t n = 0;
	char hint[256];
	if (p->group) {
		for (const struct cli_command *c = p->group->commands; c->name && n < 256; c++)
			if (!(c->flags & CMD_HIDDEN))
				cands[n++] = c->name;
	} else {
		CLI_FOR_EACH_GROUP(g)
			if (n < 256)
				cands[n++] = (*g)->name;
		CLI_FOR_EACH_COMMAND(g, c)
			if (!(*g)->name && !(c->flags & CMD_HIDDEN) && n < 256)
				cands[n++] = c->name;
	}
	const char *near = cli_suggest(word, cands, n);
	if (near)
		snprintf(hint, sizeof(hint), "did you mean `aiplat %s%s%s`?", p->group ? p->group->name : "",
		         p->group ? " " : "", near);
	else
		snprintf(hint, sizeof(hint), "see `aiplat help%s%s`", p->group ? " " : "",
		         p->group ? p->group->name : "");
	if (p->group)
		return fail(p, hint, "unknown %s command \"%s\"", p->group->name, word);
	return fail(p, hint, "unknown command \"%s\"", word);
}

int cli_parse_argv(struct cli_parse *p, int argc, char **argv)
{
	memset(p, 0, sizeof(*p));
	p->args = calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
	if (!p->args)
		return fail(p, NULL, "out of memory");
	bool end_of_options = false, passthrough = false;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (passthrough) {
			/* `aiplat dev psql --help` is aiplat's help; `-- --help` reaches psql. */
			if (p->nargs == 0 && !end_of_options && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
				p->help = true;
				return 0;
			}
			if (p->nargs == 0 && !end_of_options && !strcmp(a, "--")) {
				end_of_options = true;
				continue;
			}
			p->args[p->nargs++] = a;
			continue;
		}
		if (!end_of_options && !strcmp(a, "--")) {
			end_of_options = true;
			continue;
		}
		if (!end_of_options && a[0] == '-' && a[1]) {
			int rc = a[1] == '-' ? parse_long(p, argc, argv, &i) : parse_short(p, argc, argv, &i);
			if (rc)
				return rc;
			continue;
		}
		if (!p->cmd) {
			const struct cli_command *c = NULL;
			if (!p->group) {
				const struct cli_group *g = cli_find_group(a);
				if (g) {
					p->group = g;
					continue;
				}
				c = cli_find_command(NULL, a);
			} else {
				c = cli_find_command(p->group->name, a);
			}
			if (!c) {
				if (p->help)   /* `aiplat --help nonsense`: just show help */
					continue;
				return unknown_command(p, a);
			}
			p->cmd = c;
			passthrough = (c->flags & CMD_PASSTHROUGH) != 0;
			continue;
		}
		p->args[p->nargs++] = a;
	}
	if (p->help || p->version || !p->cmd)
		return 0;
	char name[128];
	cli_command_fullname(p->cmd, name, sizeof(name));
	char hint[200];
	snprintf(hint, sizeof(hint), "usage: aiplat %s%s%s", name, p->cmd->args ? " " : "",
	         p->cmd->args ? p->cmd->args : "");
	if (p->nargs < p->cmd->min_args)
		return fail(p, hint, "%s: missing argument%s", name,
		            p->cmd->min_args - p->nargs > 1 ? "s" : "");
	if (p->cmd->max_args >= 0 && p->nargs > p->cmd->max_args)
		return fail(p, hint, "%s: unexpected argument \"%s\"", name, p->args[p->cmd->max_args]);
	return 0;
}

void cli_parse_dispose(struct cli_parse *p)
{
	free(p->args);
	p->args = NULL;
	p->nargs = 0;
}

const char *cli_values_get(const struct cli_values *v, const char *name)
{
	for (int i = v->count - 1; i >= 0; i--)
		if (!strcmp(v->items[i].opt->name, name))
			return v->items[i].value;
	return NULL;
}
