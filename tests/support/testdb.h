/*
 * Test databases on the throwaway cluster that the `pg` ctest fixture runs.
 * testdb_create gives a fresh database, cloned from the migrated template or
 * empty; testdb_drop drops it.
 *
 * The model: each test file gets its own database(s); tests within a file
 * that use group setup share one and must not depend on the order they run
 * in. A file either creates a database in its group setup
 * (cmocka_run_group_tests(tests, setup, teardown)) and runs all or some of
 * its tests on it, or creates one per test (per-test setup, or in the test
 * body). So a test on a shared database must leave nothing behind that
 * another test reads, or make a database of its own. The cluster itself,
 * and so its roles, is shared by every file, and ctest runs files in
 * parallel: cluster-wide names (login roles, database names) must carry the
 * process id, as testdb_create's names do.
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
/* A new database (t_<pid>_<n>): a clone of the migrated template, or empty. */
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
