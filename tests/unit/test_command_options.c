/*
 * Every option a handler reads is one its command declares.
 *
 * A handler that reads an undeclared option (`cli_opt(ctx, "at")` in a
 * command without --at) always gets nothing, silently: the option can never
 * be given. This test reads the sources of cmd/cmd-*.c, finds which
 * functions read which options by name (cli_opt, cli_flag, cli_opt_int,
 * cli_opt_duration, cli_opt_all) and which functions of the same file they
 * call, follows that from each command's handler (`.run = fn` in the
 * group's table), and checks every name against the command's options in
 * the real command table, or the global options. Names that are not
 * literals (read from a table) are left to the assertion in cli_opt, which
 * the sanitised (debug) build runs under every other test.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cli.h"

#define MAX_FUNCS 256
#define MAX_NAMES 64

struct func {
	char name[64];
	const char *body, *end;     /* within the file's text */
	char reads[MAX_NAMES][40];
	int nreads;
	int calls[MAX_FUNCS];
	int ncalls;
};

struct source {
	char path[512];
	char *text;
	struct func funcs[MAX_FUNCS];
	int nfuncs;
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = '\0';
	fclose(f);
	return s;
}

static bool ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Functions start at column 0 ("static int name(...)" then "{" alone on a
 * line) and end at the next "}" at column 0: the project's layout. */
static void find_functions(struct source *s)
{
	for (char *line = s->text; line && *line; ) {
		char *next = strchr(line, '\n');
		next = next ? next + 1 : NULL;
		size_t len = next ? (size_t)(next - line - 1) : strlen(line);
		/* or all on one line: "static int f(struct cli_ctx *ctx) { return g(ctx); }" */
		bool one_line = ident_char(line[0]) && len > 2 && line[len - 1] == '}' &&
		                memchr(line, '{', len) && memchr(line, '(', len) &&
		                (char *)memchr(line, '(', len) < (char *)memchr(line, '{', len);
		bool block = next && !strncmp(next, "{\n", 2);
		if ((block || one_line) && ident_char(line[0]) && s->nfuncs < MAX_FUNCS) {
			char *paren = strchr(line, '(');
			if (paren && paren < line + len) {
				char *e = paren;
				while (e > line && !ident_char(e[-1]))
					e--;
				char *b = e;
				while (b > line && ident_char(b[-1]))
					b--;
				struct func *f = &s->funcs[s->nfuncs++];
				memset(f, 0, sizeof(*f));
				snprintf(f->name, sizeof(f->name), "%.*s", (int)(e - b), b);
				if (one_line && !block) {
					f->body = memchr(line, '{', len);
					f->end = line + len;
				} else {
					f->body = next;
					const char *end = strstr(next, "\n}");
					f->end = end ? end : next + strlen(next);
				}
			}
		}
		line = next;
	}
}

static const char *const readers[] = { "cli_opt(", "cli_flag(", "cli_opt_int(",
                                        "cli_opt_duration(", "cli_opt_all(", NULL };

static void find_reads_and_calls(struct source *s)
{
	for (int i = 0; i < s->nfuncs; i++) {
		struct func *f = &s->funcs[i];
		for (const char *p = f->body; p < f->end; p++) {
			if (p > f->body && ident_char(p[-1]))
				continue;
			for (const char *const *r = readers; *r; r++) {
				size_t n = strlen(*r);
				if (strncmp(p, *r, n))
					continue;
				/* the name is the first string literal after the context */
				const char *q = strchr(p + n, '"');
				const char *close = strchr(p + n, ')');
				/* A name from a table (cmd-model.c's field tables) is checked
				 * at run time instead: cli_opt asserts in debug builds. */
				if (!q || (close && close < q))
					continue;
				const char *e = strchr(q + 1, '"');
				if (f->nreads < MAX_NAMES)
					snprintf(f->reads[f->nreads++], sizeof(f->reads[0]), "%.*s",
					         (int)(e - q - 1), q + 1);
			}
			for (int j = 0; j < s->nfuncs; j++) {
				size_t n = strlen(s->funcs[j].name);
				if (j != i && !strncmp(p, s->funcs[j].name, n) && p[n] == '(' &&
				    f->ncalls < MAX_FUNCS)
					f->calls[f->ncalls++] = j;
			}
		}
	}
}

static int find_func(const struct source *s, const char *name)
{
	for (int i = 0; i < s->nfuncs; i++)
		if (!strcmp(s->funcs[i].name, name))
			return i;
	return -1;
}

static bool declared(const struct cli_command *c, const char *name)
{
	for (const struct cli_option *o = c->options; o && o->name; o++)
		if (!strcmp(o->name, name))
			return true;
	for (const struct cli_option *o = cli_global_options; o->name; o++)
		if (!strcmp(o->name, name))
			return true;
	return false;
}

/* Checks what fn and everything it calls reads; returns the violations. */
static int check_reads(const struct source *s, int fn, const struct cli_command *c,
                       const char *cmdname, bool *seen)
{
	if (seen[fn])
		return 0;
	seen[fn] = true;
	int bad = 0;
	const struct func *f = &s->funcs[fn];
	for (int i = 0; i < f->nreads; i++)
		if (!declared(c, f->reads[i])) {
			print_error("%s: `aiplat %s` reads --%s in %s(), which it does not declare\n",
			            s->path, cmdname, f->reads[i], f->name);
			bad++;
		}
	for (int i = 0; i < f->ncalls; i++)
		bad += check_reads(s, f->calls[i], c, cmdname, seen);
	return bad;
}

/* The group's name in this file: `.name = "x"` right after `cli_group_... = {`. */
static bool group_name(const char *text, char *out, size_t size)
{
	const char *g = strstr(text, "const struct cli_group cli_group_");
	if (!g)
		return false;
	const char *brace = strchr(g, '{');
	const char *p = brace + 1;
	while (*p == '\n' || *p == '\t' || *p == ' ')
		p++;
	if (strncmp(p, ".name = \"", 9)) {
		out[0] = '\0';   /* top-level commands */
		return true;
	}
	p += 9;
	snprintf(out, size, "%.*s", (int)(strchr(p, '"') - p), p);
	return true;
}

static int check_file(struct source *s, int *handlers)
{
	char group[64];
	if (!group_name(s->text, group, sizeof(group)))
		return 0;
	find_functions(s);
	find_reads_and_calls(s);
	int bad = 0;
	/* Each table entry: `.name = "x"` ... `.run = fn`. */
	for (const char *p = strstr(s->text, "\t\t.name = \""); p; p = strstr(p + 1, "\t\t.name = \"")) {
		const char *n = p + strlen("\t\t.name = \"");
		char cmdname[64];
		snprintf(cmdname, sizeof(cmdname), "%.*s", (int)(strchr(n, '"') - n), n);
		const char *run = strstr(p, ".run = ");
		const char *next_entry = strstr(p + 1, "\t\t.name = \"");
		if (!run || (next_entry && run > next_entry))
			fail_msg("%s: command %s has no .run", s->path, cmdname);
		run += strlen(".run = ");
		char fn[64];
		snprintf(fn, sizeof(fn), "%.*s", (int)strcspn(run, ",\n }"), run);
		const struct cli_command *c = cli_find_command(group[0] ? group : NULL, cmdname);
		if (!c)
			fail_msg("%s: command \"%s %s\" is not in the command table", s->path, group, cmdname);
		int i = find_func(s, fn);
		if (i < 0)
			fail_msg("%s: handler %s of %s is not defined in the file", s->path, fn, cmdname);
		char full[128];
		cli_command_fullname(c, full, sizeof(full));
		bool seen[MAX_FUNCS] = { false };
		bad += check_reads(s, i, c, full, seen);
		(*handlers)++;
	}
	return bad;
}

static void test_handlers_read_only_declared_options(void **state)
{
	(void)state;
	const char *dir = AIPLAT_SOURCE_DIR "/cmd";
	DIR *d = opendir(dir);
	assert_non_null(d);
	int bad = 0, files = 0, handlers = 0;
	struct source *s = malloc(sizeof(*s));
	assert_non_null(s);
	for (struct dirent *e; (e = readdir(d)); ) {
		if (strncmp(e->d_name, "cmd-", 4) || !strstr(e->d_name, ".c"))
			continue;
		memset(s, 0, sizeof(*s));
		snprintf(s->path, sizeof(s->path), "%s/%s", dir, e->d_name);
		s->text = slurp(s->path);
		assert_non_null(s->text);
		bad += check_file(s, &handlers);
		free(s->text);
		files++;
	}
	closedir(d);
	free(s);
	/* Every command in the table was reached through its file. */
	int commands = 0;
	CLI_FOR_EACH_COMMAND(g, c)
		commands++;
	assert_true(files > 10);
	assert_int_equal(handlers, commands);
	if (bad)
		fail_msg("%d option(s) read but not declared", bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handlers_read_only_declared_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
