/* Command-line parsing against the command table: dispatch and options. */
#ifndef AIPLAT_PARSE_OPTIONS_H
#define AIPLAT_PARSE_OPTIONS_H

#include "cli.h"

struct cli_parse {
	const struct cli_group *group;    /* set when argv named a group */
	const struct cli_command *cmd;    /* the command, or NULL */
	struct cli_values values;
	char **args;                      /* positionals (malloc'd array, strings from argv) */
	int nargs;
	bool help, version;
	char error[512];                  /* set when parsing fails */
	char hint[512];
};

/*
 * Parses argv (argv[0] is the program). Global options may appear anywhere;
 * a command's own options after the command. Returns 0, or -1 with
 * p->error (and maybe p->hint) describing the usage error.
 */
int cli_parse_argv(struct cli_parse *p, int argc, char **argv);
void cli_parse_dispose(struct cli_parse *p);

/* Looks a value up in a parsed set (last one wins). */
const char *cli_values_get(const struct cli_values *v, const char *name);

#endif
