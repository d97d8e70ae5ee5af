/* Which database to talk to: flag, environment, libpq defaults, dev cluster. */
#include <stdlib.h>
#include <string.h>
#include "aiplat/conninfo.h"
#include "aiplat/db.h"
#include "aiplat/devcluster.h"
#include "aiplat/error.h"

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
		*source = AIPLAT_CONN_EXPLICIT;
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
	return aiplat_error_set_field("database", "unset");
}
