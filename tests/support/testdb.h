/*
 * Test databases on the throwaway cluster that the `pg` ctest fixture runs.
 * Each test gets a fresh database, cloned from the migrated template or
 * empty, and drops it at the end.
 */
#ifndef AIPLAT_TESTDB_H
#define AIPLAT_TESTDB_H

#include <stdbool.h>
#include <libpq-fe.h>
#include "aiplat.h"

typedef struct testdb {
	char name[64];
	char url[1024];
} testdb;

/* A URL for database `name` on the test cluster (static buffer). */
const char *testdb_url_for(const char *name);
/* A new database: a clone of the migrated template, or empty. */
void testdb_create(testdb *t, bool migrated);
void testdb_drop(testdb *t);
/* A libpq connection as the owner (the platform); fails the test on error. */
PGconn *testdb_connect(const testdb *t);
/* Runs SQL as the owner and fails the test unless it succeeds. */
void testdb_exec(PGconn *c, const char *sql);
/* First value of a one-value query, malloc'd ("" for NULL). */
char *testdb_value(PGconn *c, const char *sql, int nparams, const char *const *params);
long testdb_long(PGconn *c, const char *sql, int nparams, const char *const *params);

/* The tokens an organisation (a slug literal) used in its current month. */
#define ORG_TOKENS_SQL(slug)                                                                     \
	"SELECT u.tokens_used FROM aiplat.org_usage u JOIN aiplat.organizations o"                \
	" ON o.id = u.organization_id WHERE o.slug = '" slug "'"
/* Runs `aiplat --db URL seed [--demo]` and asserts success. */
void testdb_seed(const testdb *t, bool demo);

#endif
