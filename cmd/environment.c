/* The environment variables aiplat reads, and what each means. */
#include <stddef.h>
#include <stdlib.h>
#include "aiplat/config.h"
#include "environment.h"

const struct cli_env_var cli_environment[] = {
	{ "AIPLAT_DATABASE_URL", "database to use when --db is not given" },
	{ "DATABASE_URL", "database to use when neither --db nor AIPLAT_DATABASE_URL is set" },
	{ "PGHOST, PGSERVICE, PGDATABASE, ...",
	  "libpq's own settings, used when none of the above is set" },
	{ "AIPLAT_AS, AIPLAT_ORG", "defaults for --as and --org" },
	{ "AIPLAT_FORMAT", "default for --format" },
	{ "NO_COLOR", "when set and not empty, never colour output" },
	{ "XDG_DATA_HOME", "where the development cluster lives (default ~/.local/share)" },
	{ "AIPLAT_SERVER_USER", "account the development server runs as when aiplat runs as root" },
	{ "AIPLAT_PG_BINDIR", "directory of initdb, pg_ctl and postgres for the development cluster" },
	{ "AIPLAT_SECRET_KEY", "key that encrypts stored API keys (pgcrypto)" },
	{ "AIPLAT_OPENAI_BASE_URL, AIPLAT_ANTHROPIC_BASE_URL",
	  "send every call of that provider kind here instead (local servers, tests)" },
	{ "NAME (a model's env:NAME key)", "the API key of a model stored as a reference" },
	{ NULL, NULL },
};

static const char *nonempty(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static const char *key_from_environment(const char *name, void *arg)
{
	(void)arg;
	return nonempty(name);
}

void cli_configure_library(void)
{
	aiplat_config cfg = AIPLAT_CONFIG_INIT;
	cfg.secret_key = nonempty("AIPLAT_SECRET_KEY");
	cfg.openai_base_url = nonempty("AIPLAT_OPENAI_BASE_URL");
	cfg.anthropic_base_url = nonempty("AIPLAT_ANTHROPIC_BASE_URL");
	cfg.resolve_key_ref = key_from_environment;
	aiplat_config_set(&cfg);
}
