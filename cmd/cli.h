/*
 * The aiplat front end: one constant command table is the single source of
 * truth for dispatch, --help, `aiplat help`, the shell completions and the
 * man pages. Each group owns its commands: cmd-<group>.c defines one
 * `const struct cli_group` with its entries, and commands.c only lists the
 * groups. Handlers get a parsed context and return an exit status.
 */
#ifndef AIPLAT_CLI_H
#define AIPLAT_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include "aiplat.h"
#include "exit.h"

/* ---- options -------------------------------------------------------------- */

enum cli_opt_type {
	OPT_FLAG = 0,   /* no value */
	OPT_STRING,
	OPT_INT,        /* a whole number, checked while parsing */
	OPT_DURATION,   /* 90, 90s, 1.5m, 500ms, 2h: read back in seconds */
	OPT_ENUM,       /* one of `choices` */
	OPT_PATH,       /* a file or directory (completion offers files) */
};

#define OPTF_REPEAT 0x1   /* may be given several times; all values kept */

/* Ends every option table. */
#define END_OPTIONS { .name = NULL }

struct cli_option {
	const char *name;               /* long name without dashes; NULL ends a table */
	char short_name;                /* 0 when none */
	enum cli_opt_type type;
	const char *argname;            /* shown in help: --to VERSION */
	const char *help;
	const char *const *choices;     /* OPT_ENUM: NULL-terminated */
	unsigned flags;
};

/* ---- commands -------------------------------------------------------------- */

#define CMD_NEED_DB      0x1  /* connect before running the handler */
#define CMD_PASSTHROUGH  0x2  /* arguments after the command go through untouched */
#define CMD_HIDDEN       0x4  /* not listed in help, completions or man pages */
#define CMD_PROMETHEUS   0x8  /* accepts --format prometheus */

struct cli_ctx;

struct cli_command {
	const char *name;               /* "up"; NULL ends a group's table */
	const char *args;               /* positional synopsis, e.g. "[N]"; NULL when none */
	const char *summary;            /* one line, lower case, no full stop */
	const char *description;        /* paragraphs for help and the man page */
	const struct cli_option *options;
	int min_args, max_args;         /* max_args -1: unlimited */
	unsigned flags;
	int (*run)(struct cli_ctx *ctx);
	const char *const *arg_choices; /* completion values for the first positional */
};

/* A group of commands (`aiplat migrate ...`), or, without a name, commands
 * that stand at the top level (`aiplat seed`). */
struct cli_group {
	const char *name;               /* NULL: top-level commands */
	const char *summary;
	const char *description;
	const struct cli_command *commands;   /* ends with an entry without a name */
};

/* The groups in help order, NULL-terminated (commands.c). */
extern const struct cli_group *const cli_groups[];
extern const struct cli_option cli_global_options[];

/* Every command in help order, with its group:
 *   CLI_FOR_EACH_COMMAND(g, c) { ... (*g)->name ... c->name ... } */
#define CLI_FOR_EACH_COMMAND(g, c)                                                               \
	for (const struct cli_group *const *g = cli_groups; *g; g++)                               \
		for (const struct cli_command *c = (*g)->commands; c->name; c++)
/* Every named group: CLI_FOR_EACH_GROUP(g) { ... (*g)->name ... } */
#define CLI_FOR_EACH_GROUP(g)                                                                    \
	for (const struct cli_group *const *g = cli_groups; *g; g++)                               \
		if (!(*g)->name)                                                                         \
			continue;                                                                            \
		else

const struct cli_group *cli_find_group(const char *name);
/* group NULL: a top-level command. */
const struct cli_command *cli_find_command(const char *group, const char *name);
/* The name of the group cmd belongs to; NULL for a top-level command. */
const char *cli_command_group(const struct cli_command *cmd);
/* "migrate up" or "seed" */
void cli_command_fullname(const struct cli_command *cmd, char *buf, size_t size);

/* ---- parsed options ------------------------------------------------------- */

#define CLI_MAX_VALUES 128

struct cli_value {
	const struct cli_option *opt;
	const char *value;              /* "1" for flags; points into argv or a literal */
};

struct cli_values {
	struct cli_value items[CLI_MAX_VALUES];
	int count;
};

/* ---- output ------------------------------------------------------------------ */

/* OUT_PROMETHEUS is the text exposition format, for commands with CMD_PROMETHEUS. */
enum out_format { OUT_TABLE = 0, OUT_JSON, OUT_NDJSON, OUT_CSV, OUT_TSV, OUT_PROMETHEUS };
extern const char *const out_format_names[];          /* indexed by enum out_format */
extern const char *const out_format_descriptions[];   /* likewise */

/* ---- the context handed to handlers -------------------------------------- */

struct cli_ctx {
	const struct cli_command *cmd;
	struct cli_values values;       /* global and command options */
	char **args;                    /* positionals */
	int nargs;
	enum out_format format;
	bool color_out, color_err;
	int verbosity;                  /* -1 quiet, 0 normal, >0 verbose */
	FILE *out, *err;
	aiplat_db *db;                  /* connected when the command has CMD_NEED_DB */
	char *conninfo;
};

/* Option accessors (last value wins; NULL/false/dflt when absent). */
const char *cli_opt(const struct cli_ctx *ctx, const char *name);
bool cli_flag(const struct cli_ctx *ctx, const char *name);
long cli_opt_int(const struct cli_ctx *ctx, const char *name, long dflt);
double cli_opt_duration(const struct cli_ctx *ctx, const char *name, double dflt);
/* All values of a repeatable option, in order; returns how many. */
int cli_opt_all(const struct cli_ctx *ctx, const char *name, const char **out, int max);

/* Parses "90", "90s", "1.5m", "500ms", "2h" into seconds; false when malformed. */
bool cli_parse_duration(const char *s, double *seconds);

/* Messages on stderr. */
void cli_info(struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warn(struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "aiplat: error: ..." (and a hint) and returns `status`. */
int cli_usage_error(struct cli_ctx *ctx, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reports the library's last error and returns the matching exit status
 * (a library usage error, AIPLAT_EUSAGE, exits 2 like the parser's). */
int cli_fail(struct cli_ctx *ctx);

/* A whole file ("-": stdin) without its trailing line ends; reports failures. */
int cli_read_text(struct cli_ctx *ctx, const char *path, char **out);

/* Renders a table in the chosen format on ctx->out. */
int cli_print_table(struct cli_ctx *ctx, const aiplat_table *t);
/* Renders the first row of t as one record (vertical in `table`, an object in `json`). */
int cli_print_record(struct cli_ctx *ctx, const aiplat_table *t);

/* Where a connection string came from, in this front end's words: "--db". */
const char *cli_conn_source_name(aiplat_conn_source src);

/* Connects (resolving --db and friends) and applies --as/--org. */
int cli_connect(struct cli_ctx *ctx);

/* Entry point used by main(). */
int cli_main(int argc, char **argv);

/* Help and generated documentation (docgen.c). */
void cli_print_overview(FILE *f);
void cli_print_group_help(FILE *f, const struct cli_group *g);
void cli_print_command_help(FILE *f, const struct cli_command *cmd);
int cli_generate_completion(FILE *f, const char *shell);
/* Writes man/aiplat.1, man/aiplat-<group>.1 and completions/ under dir. */
int cli_generate_docs(const char *dir);

/* "did you mean" (suggest.c): the closest candidate within a small edit distance. */
const char *cli_suggest(const char *word, const char *const *candidates, size_t n);
size_t cli_edit_distance(const char *a, const char *b);

#endif
