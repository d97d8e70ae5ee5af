/* Dispatch: parse, pick the command, prepare the context, run, report. */
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include "cli.h"
#include "environment.h"
#include "error-hints.h"
#include "output.h"
#include "parse-options.h"

/* ---- option accessors ----------------------------------------------------- */

/* A handler may read only what its command declares (or a global option):
 * anything else could never be given. Debug builds stop at the first
 * offence; tests/unit/test_command_options.c checks the literal names. */
static inline bool declared(const struct cli_ctx *ctx, const char *name)
{
	for (const struct cli_option *o = cli_global_options; o->name; o++)
		if (!strcmp(o->name, name))
			return true;
	for (const struct cli_option *o = ctx->cmd ? ctx->cmd->options : NULL; o && o->name; o++)
		if (!strcmp(o->name, name))
			return true;
	return !ctx->cmd;
}

const char *cli_opt(const struct cli_ctx *ctx, const char *name)
{
	assert(declared(ctx, name) && "the command does not declare the option its handler reads");
	return cli_values_get(&ctx->values, name);
}

bool cli_flag(const struct cli_ctx *ctx, const char *name)
{
	return cli_opt(ctx, name) != NULL;
}

long cli_opt_int(const struct cli_ctx *ctx, const char *name, long dflt)
{
	const char *v = cli_opt(ctx, name);
	return v ? strtol(v, NULL, 10) : dflt;   /* validated by the parser */
}

double cli_opt_duration(const struct cli_ctx *ctx, const char *name, double dflt)
{
	double s;
	const char *v = cli_opt(ctx, name);
	return v && cli_parse_duration(v, &s) ? s : dflt;
}

int cli_opt_all(const struct cli_ctx *ctx, const char *name, const char **out, int max)
{
	assert(declared(ctx, name) && "the command does not declare the option its handler reads");
	int n = 0;
	for (int i = 0; i < ctx->values.count && n < max; i++)
		if (!strcmp(ctx->values.items[i].opt->name, name))
			out[n++] = ctx->values.items[i].value;
	return n;
}

/* Where the connection string came from, in this front end's words (-v). */
const char *cli_conn_source_name(aiplat_conn_source src)
{
	switch (src) {
	case AIPLAT_CONN_EXPLICIT:     return "--db";
	case AIPLAT_CONN_AIPLAT_ENV:   return "AIPLAT_DATABASE_URL";
	case AIPLAT_CONN_DATABASE_URL: return "DATABASE_URL";
	case AIPLAT_CONN_LIBPQ_ENV:    return "libpq environment";
	case AIPLAT_CONN_DEV_CLUSTER:  return "development cluster";
	}
	return "?";
}

/* ---- messages --------------------------------------------------------------- */

static void vmessage(struct cli_ctx *ctx, const char *label, const char *colour, const char *fmt,
                     va_list ap)
{
	if (label && ctx->color_err)
		fprintf(ctx->err, "aiplat: %s%s\033[0m: ", colour, label);
	else if (label)
		fprintf(ctx->err, "aiplat: %s: ", label);
	else
		fputs("aiplat: ", ctx->err);
	vfprintf(ctx->err, fmt, ap);
	fputc('\n', ctx->err);
}

void cli_info(struct cli_ctx *ctx, const char *fmt, ...)
{
	if (ctx->verbosity < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmessage(ctx, NULL, NULL, fmt, ap);
	va_end(ap);
}

void cli_warn(struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(ctx, "warning", "\033[33m", fmt, ap);
	va_end(ap);
}

static void print_hint(struct cli_ctx *ctx, const char *hint)
{
	if (hint && *hint)
		fprintf(ctx->err, "%shint:%s %s\n", ctx->color_err ? "\033[36m" : "",
		        ctx->color_err ? "\033[0m" : "", hint);
}

int cli_usage_error(struct cli_ctx *ctx, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(ctx, "error", "\033[31m", fmt, ap);
	va_end(ap);
	print_hint(ctx, hint);
	return CLI_EXIT_USAGE;
}

static void error_line(struct cli_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void error_line(struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(ctx, "error", "\033[31m", fmt, ap);
	va_end(ap);
}

int cli_fail(struct cli_ctx *ctx)
{
	const aiplat_error *e = aiplat_error_last();
	int code = e->code ? e->code : AIPLAT_EINTERNAL;
	char message[sizeof(e->message) + 64], hint[sizeof(e->hint) + 512];
	cli_explain_error(ctx, e, message, sizeof(message), hint, sizeof(hint));
	error_line(ctx, "%s", message);
	if (ctx->verbosity > 0 && e->sqlstate[0])
		fprintf(ctx->err, "  (SQLSTATE %s)\n", e->sqlstate);
	if (!strcmp(e->sqlstate, "25006"))   /* a write on a read-only server: say which flags help */
		print_hint(ctx, "connect to the primary with --db URL; usage report reads a standby with --replica URL");
	else
		print_hint(ctx, hint);
	return cli_exit_status(code);
}

int cli_read_text(struct cli_ctx *ctx, const char *path, char **out)
{
	aiplat_buf b = AIPLAT_BUF_INIT;
	if (aiplat_buf_read_file(&b, path) != 0) {
		aiplat_buf_dispose(&b);
		return cli_fail(ctx);
	}
	/* Text read from a file ends at its last newline. */
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r'))
		b.ptr[--b.len] = '\0';
	*out = aiplat_buf_detach(&b);
	if (!*out)
		*out = strdup("");
	return 0;
}

int cli_print_table(struct cli_ctx *ctx, const aiplat_table *t)
{
	if (out_render(ctx->out, t, ctx->format, ctx->color_out) != 0) {
		error_line(ctx, "cannot write the output");
		return CLI_EXIT_INTERNAL;
	}
	return 0;
}

int cli_print_record(struct cli_ctx *ctx, const aiplat_table *t)
{
	if (out_render_record(ctx->out, t, ctx->format, ctx->color_out) != 0) {
		error_line(ctx, "cannot write the output");
		return CLI_EXIT_INTERNAL;
	}
	return 0;
}

/* ---- connection ------------------------------------------------------------ */

static const char *opt_or_env(const struct cli_ctx *ctx, const char *opt, const char *env)
{
	const char *v = cli_opt(ctx, opt);
	if (v && *v)
		return v;
	v = getenv(env);
	return v && *v ? v : NULL;
}

int cli_connect(struct cli_ctx *ctx)
{
	aiplat_conn_source src;
	if (aiplat_conninfo_resolve(&ctx->conninfo, &src, cli_opt(ctx, "db")) != 0)
		return cli_fail(ctx);
	char appname[128] = "aiplat/";
	cli_command_fullname(ctx->cmd, appname + 7, sizeof(appname) - 7);
	aiplat_log(AIPLAT_LOG_DEBUG, "database from %s", cli_conn_source_name(src));
	if (aiplat_db_connect(&ctx->db, ctx->conninfo, appname) != 0)
		return cli_fail(ctx);
	/* Always resolved: a login role mapped to a person is that person even
	 * without --as, and must not be taken for the platform. */
	const char *as = opt_or_env(ctx, "as", "AIPLAT_AS");
	const char *org = opt_or_env(ctx, "org", "AIPLAT_ORG");
	aiplat_identity who;
	if (aiplat_identity_resolve(ctx->db, &who, as, org) != 0) {
		/* A database without the schema yet (before `migrate up`) has nobody to resolve. */
		const char *state = aiplat_error_last()->sqlstate;
		if (!as && !org && (!strcmp(state, "3F000") || !strcmp(state, "42883")))
			return 0;
		return cli_fail(ctx);
	}
	aiplat_db_set_identity(ctx->db, &who);
	if (who.acting)
		aiplat_log(AIPLAT_LOG_DEBUG, "acting as %s%s%s", who.email, who.org_slug[0] ? " in " : "",
		           who.org_slug);
	return 0;
}

/* ---- logging hook ------------------------------------------------------------ */

static void log_to_stderr(aiplat_log_level level, const char *msg, void *data)
{
	struct cli_ctx *ctx = data;
	if ((level == AIPLAT_LOG_DEBUG && ctx->verbosity < 1) ||
	    (level == AIPLAT_LOG_INFO && ctx->verbosity < 0))
		return;
	fprintf(ctx->err, "%saiplat: %s%s\n", ctx->color_err ? "\033[2m" : "",
	        level == AIPLAT_LOG_DEBUG ? "debug: " : "", msg);
	if (ctx->color_err)
		fputs("\033[0m", ctx->err);
}

/* ---- main ---------------------------------------------------------------------- */

static void print_version(FILE *f)
{
	curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	fprintf(f, "aiplat %s (libpq %d, jansson %s, libcurl %s)\n", aiplat_version(),
	        PQlibVersion(), JANSSON_VERSION, cv ? cv->version : "?");
}

static bool want_color(FILE *f, const struct cli_values *v)
{
	if (cli_values_get(v, "no-color"))
		return false;
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		return false;
	const char *term = getenv("TERM");
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fileno(f));
}

int cli_main(int argc, char **argv)
{
	struct cli_parse p;
	struct cli_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.out = stdout;
	ctx.err = stderr;
	cli_configure_library();

	int rc = cli_parse_argv(&p, argc, argv);
	ctx.values = p.values;
	ctx.cmd = p.cmd;
	ctx.color_err = want_color(stderr, &p.values);
	ctx.color_out = want_color(stdout, &p.values);
	if (rc) {
		rc = cli_usage_error(&ctx, p.hint, "%s", p.error);
		goto out;
	}
	if (p.help) {
		if (p.cmd)
			cli_print_command_help(stdout, p.cmd);
		else if (p.group)
			cli_print_group_help(stdout, p.group);
		else
			cli_print_overview(stdout);
		goto out;
	}
	if (p.version) {
		print_version(stdout);
		goto out;
	}
	if (!p.cmd) {
		if (p.group)
			cli_print_group_help(stderr, p.group);
		else
			cli_print_overview(stderr);
		rc = CLI_EXIT_USAGE;
		goto out;
	}

	ctx.args = p.args;
	ctx.nargs = p.nargs;
	const char *fmt = cli_values_get(&p.values, "format");
	if (!fmt)
		fmt = getenv("AIPLAT_FORMAT");
	if (fmt && out_format_parse(fmt) < 0) {
		rc = cli_usage_error(&ctx, "use table, json, ndjson, csv, tsv or prometheus",
		                     "unknown output format \"%s\" (from AIPLAT_FORMAT)", fmt);
		goto out;
	}
	ctx.format = fmt ? (enum out_format)out_format_parse(fmt)
	                 : (isatty(fileno(stdout)) ? OUT_TABLE : OUT_TSV);
	if (ctx.format == OUT_PROMETHEUS && !(p.cmd->flags & CMD_PROMETHEUS)) {
		rc = cli_usage_error(&ctx, "it is for metrics: aiplat usage report --format prometheus",
		                     "--format prometheus does not apply to this command");
		goto out;
	}
	if (cli_values_get(&p.values, "quiet"))
		ctx.verbosity = -1;
	for (int i = 0; i < p.values.count; i++)
		if (!strcmp(p.values.items[i].opt->name, "verbose"))
			ctx.verbosity++;
	aiplat_set_log(log_to_stderr, &ctx);

	if (p.cmd->flags & CMD_NEED_DB) {
		rc = cli_connect(&ctx);
		if (rc)
			goto out;
	}
	rc = p.cmd->run(&ctx);
out:
	fflush(stdout);
	aiplat_set_log(NULL, NULL);
	aiplat_db_close(ctx.db);
	free(ctx.conninfo);
	cli_parse_dispose(&p);
	return rc;
}
