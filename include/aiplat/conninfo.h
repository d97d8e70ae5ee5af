/*
 * Which database to talk to. This is the library's one reader of the
 * environment (besides the development cluster, aiplat/devcluster.h):
 * AIPLAT_DATABASE_URL, DATABASE_URL and libpq's own variables.
 */
#ifndef AIPLAT_CONNINFO_H
#define AIPLAT_CONNINFO_H

/* Where a connection string came from, for `-v` and error messages. */
typedef enum aiplat_conn_source {
	AIPLAT_CONN_EXPLICIT = 0,    /* given by the caller */
	AIPLAT_CONN_AIPLAT_ENV,      /* AIPLAT_DATABASE_URL */
	AIPLAT_CONN_DATABASE_URL,    /* DATABASE_URL */
	AIPLAT_CONN_LIBPQ_ENV,       /* PGHOST, PGSERVICE, ... */
	AIPLAT_CONN_DEV_CLUSTER,     /* the running `aiplat dev` cluster */
} aiplat_conn_source;

/*
 * Picks the connection string: explicit (may be NULL), then the environment,
 * then the development cluster when it is running. AIPLAT_ECONNECT with a
 * hint when nothing is configured. *out is malloc'd.
 */
int aiplat_conninfo_resolve(char **out, aiplat_conn_source *source, const char *explicit_url);

#endif
