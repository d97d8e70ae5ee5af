/*
 * The embedded default database: a private PostgreSQL cluster under
 * ${XDG_DATA_HOME:-~/.local/share}/aiplat, listening only on a unix socket in
 * a directory that only its owner can enter. When run as root the server runs
 * as an unprivileged account (AIPLAT_SERVER_USER, else postgres, else nobody),
 * because PostgreSQL refuses to run as root.
 */
#ifndef AIPLAT_DEVCLUSTER_H
#define AIPLAT_DEVCLUSTER_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct aiplat_devcluster {
	char root[4096];        /* .../aiplat */
	char datadir[4096];     /* root/pg */
	char sockdir[4096];     /* root/run */
	char logfile[4096];     /* datadir/server.log */
	char bindir[4096];      /* where initdb/pg_ctl/postgres live */
	char server_user[64];   /* account the server runs as */
	char dbname[64];        /* "aiplat" */
	char superuser[64];     /* "aiplat" */
} aiplat_devcluster;

typedef enum aiplat_devcluster_state {
	AIPLAT_DEV_ABSENT = 0,  /* not initialised */
	AIPLAT_DEV_STOPPED,
	AIPLAT_DEV_RUNNING,
} aiplat_devcluster_state;

/* Fills in the paths; does not touch the disk. */
int aiplat_devcluster_locate(aiplat_devcluster *dc);
aiplat_devcluster_state aiplat_devcluster_state_of(const aiplat_devcluster *dc, pid_t *pid);

/* Initialises when needed and starts; a no-op when already running. *started
 * tells which. server_options are extra `-c name=value` settings (may be NULL). */
int aiplat_devcluster_start(const aiplat_devcluster *dc, const char *const *server_options,
                            bool *started);
int aiplat_devcluster_stop(const aiplat_devcluster *dc, bool *stopped);
/* A libpq URL for the cluster's database (malloc'd). */
int aiplat_devcluster_url(const aiplat_devcluster *dc, char **out);

#endif
