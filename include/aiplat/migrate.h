/*
 * Schema migrations: dbmate-style files (NNNN_name.sql with `-- migrate:up`
 * and `-- migrate:down` sections), applied one transaction each, recorded
 * with a sha256 checksum in aiplat_meta.schema_migrations, and serialised
 * between concurrent runners by an advisory lock taken with a try-lock loop.
 */
#ifndef AIPLAT_MIGRATE_H
#define AIPLAT_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include "aiplat/db.h"
#include "aiplat/table.h"

typedef struct aiplat_migration {
	long version;            /* the NNNN prefix */
	char *name;              /* the part after NNNN_, without .sql */
	char *filename;          /* NNNN_name.sql */
	char *up;                /* SQL of the up section */
	char *down;              /* SQL of the down section (may be empty) */
	bool up_transaction;     /* false when the up marker says transaction:false */
	bool down_transaction;
	int up_line;             /* line of the file where the up section's SQL starts */
	int down_line;
	char checksum[65];       /* sha256 of the whole file, hex */
} aiplat_migration;

typedef struct aiplat_migration_set {
	aiplat_migration *items; /* sorted by version */
	size_t count;
} aiplat_migration_set;

/* Parses one file's text. AIPLAT_EINVALID (with the file named) on bad input. */
int aiplat_migration_parse(aiplat_migration *out, const char *filename, const char *text,
                           size_t len);
void aiplat_migration_dispose(aiplat_migration *m);

/* The migrations compiled into the library, or those of a directory. */
int aiplat_migration_set_embedded(aiplat_migration_set *out);
int aiplat_migration_set_load_dir(aiplat_migration_set *out, const char *dir);
void aiplat_migration_set_dispose(aiplat_migration_set *set);

/* sha256 of data as 64 lowercase hex digits plus NUL. */
void aiplat_sha256_hex(char out[65], const void *data, size_t len);

/* Splits SQL into statements (quotes, dollar quotes, comments respected). */
int aiplat_sql_split(char ***out, size_t *count, const char *sql);
void aiplat_sql_split_free(char **stmts, size_t count);

typedef struct aiplat_migrate_opts {
	double lock_timeout_s;   /* how long to wait for another runner; default 60 */
	/* Called once when the lock is busy and we start waiting. */
	void (*on_wait)(void *ctx);
	/* Called after each migration is applied or rolled back. */
	void (*on_step)(const aiplat_migration *m, bool up, double seconds, void *ctx);
	void *ctx;
} aiplat_migrate_opts;

#define AIPLAT_MIGRATE_OPTS_INIT { 60.0, NULL, NULL, NULL }

/* Applies pending migrations up to and including `to` (0: all). */
int aiplat_migrate_up(aiplat_db *db, const aiplat_migration_set *set, long to,
                      const aiplat_migrate_opts *opts, int *applied);
/* Rolls back the `steps` most recent migrations (-1: all of them). */
int aiplat_migrate_down(aiplat_db *db, const aiplat_migration_set *set, long steps,
                        const aiplat_migrate_opts *opts, int *rolled_back);
/* version, name, state (applied|pending|changed|missing), applied_at, duration_ms, checksum. */
int aiplat_migrate_status(aiplat_db *db, const aiplat_migration_set *set, aiplat_table **out);
/*
 * Compares applied checksums with the files. AIPLAT_ENEGATIVE, naming every
 * changed file, when any differs; *problems gets the list (may be NULL).
 */
int aiplat_migrate_verify(aiplat_db *db, const aiplat_migration_set *set, aiplat_table **problems);

/* Writes dir/NNNN_name.sql with empty sections; *path is malloc'd. */
int aiplat_migration_new_file(char **path, const char *dir, const char *name);

#endif
