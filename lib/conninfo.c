/* Which database to talk to: flag, environment, libpq defaults, dev cluster. */
#include <stdlib.h>
#include <string.h>
#include "aiplat/db.h"
#include "aiplat/devcluster.h"
#include "aiplat/error.h"

const char *aiplat_conn_source_name(aiplat_conn_source src)
{
	switch (src) {
	case AIPLAT_CONN_FLAG:         return "--db";
	case AIPLAT_CONN_AIPLAT_ENV:   return "AIPLAT_DATABASE_URL";
	case AIPLAT_CONN_DATABASE_URL: return "DATABASE_URL";
	case AIPLAT_CONN_LIBPQ_ENV:    return "libpq environment";
	case AIPLAT_CONN_DEV_CLUSTER:  return "development cluster";
	}
	return "?";
}

static const char *nonempty_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static int take(char **out, const char *s)
{
	if (!(*out = strdup(s)))
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
	return 0;
}

int aiplat_conninfo_resolve(char **out, aiplat_conn_source *source, const char *explicit_url)
{
	static const char *const libpq_vars[] = {
		"PGHOST", "PGHOSTADDR", "PGSERVICE", "PGPORT", "PGDATABASE", NULL
	};
	const char *v;
	aiplat_conn_source dummy;
	if (!source)
		source = &dummy;

	if (explicit_url && *explicit_url) {
		*source = AIPLAT_CONN_FLAG;
		return take(out, explicit_url);
	}
	if ((v = nonempty_env("AIPLAT_DATABASE_URL"))) {
		*source = AIPLAT_CONN_AIPLAT_ENV;
		return take(out, v);
	}
	if ((v = nonempty_env("DATABASE_URL"))) {
		*source = AIPLAT_CONN_DATABASE_URL;
		return take(out, v);
	}
	for (const char *const *var = libpq_vars; *var; var++) {
		if (nonempty_env(*var)) {
			*source = AIPLAT_CONN_LIBPQ_ENV;
			return take(out, "");   /* libpq reads its environment itself */
		}
	}
	aiplat_devcluster dc;
	if (aiplat_devcluster_locate(&dc) == 0 &&
	    aiplat_devcluster_state_of(&dc, NULL) == AIPLAT_DEV_RUNNING) {
		*source = AIPLAT_CONN_DEV_CLUSTER;
		return aiplat_devcluster_url(&dc, out);
	}
	aiplat_error_set(AIPLAT_ECONNECT, AIPLAT_ERRCLASS_CONFIG, "no database configured");
	return aiplat_error_hint("pass --db URL, set AIPLAT_DATABASE_URL or DATABASE_URL, "
	                         "or start the development database with `aiplat dev start`");
}
