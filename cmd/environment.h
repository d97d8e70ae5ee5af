/*
 * The environment variables aiplat reads: the one table help and the man
 * page (ENVIRONMENT) print, and the one place that turns the environment
 * into the library's configuration (the library reads no variable itself,
 * except the connection variables its conninfo module documents).
 */
#ifndef AIPLAT_CMD_ENVIRONMENT_H
#define AIPLAT_CMD_ENVIRONMENT_H

struct cli_env_var {
	const char *name;               /* "AIPLAT_FORMAT", or a list: "AIPLAT_AS, AIPLAT_ORG" */
	const char *meaning;
};

/* Every variable, in the man page's order; ends with a NULL name. */
extern const struct cli_env_var cli_environment[];

/* Gives the library its settings from the environment: AIPLAT_SECRET_KEY,
 * the provider base-URL overrides, and env:NAME key references. */
void cli_configure_library(void);

#endif
