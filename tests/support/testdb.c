/* Fresh databases on the test cluster, one per test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "runproc.h"
#include "testdb.h"

static const char *cluster_url(void)
{
	static char url[1024];
	if (!url[0]) {
		/* The fixture's cluster is `aiplat dev` under AIPLAT_TEST_XDG. */
		setenv("XDG_DATA_HOME", AIPLAT_TEST_XDG, 1);
		aiplat_devcluster dc;
		assert_int_equal(aiplat_devcluster_locate(&dc), 0);
		if (aiplat_devcluster_state_of(&dc, NULL) != AIPLAT_DEV_RUNNING)
			fail_msg("the test cluster in %s is not running (run the tests through ctest)",
			         AIPLAT_TEST_XDG);
		char *u;
		assert_int_equal(aiplat_devcluster_url(&dc, &u), 0);
		snprintf(url, sizeof(url), "%s", u);
		free(u);
	}
	return url;
}

const char *testdb_url_for(const char *name)
{
	static char url[1024];
	const char *base = cluster_url();
	const char *q = strchr(base, '?');
	snprintf(url, sizeof(url), "postgresql:///%s%s", name, q ? q : "");
	return url;
}

static void admin_exec(const char *sql)
{
	PGconn *c = PQconnectdb(testdb_url_for("postgres"));
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot reach the test cluster: %s", PQerrorMessage(c));
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

void testdb_create(testdb *t, bool migrated)
{
	static int counter;
	snprintf(t->name, sizeof(t->name), "t_%ld_%d", (long)getpid(), ++counter);
	char sql[256];
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE %s", t->name,
	         migrated ? "aiplat_template" : "template0");
	admin_exec(sql);
	snprintf(t->url, sizeof(t->url), "%s", testdb_url_for(t->name));
}

void testdb_drop(testdb *t)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", t->name);
	admin_exec(sql);
}

PGconn *testdb_connect(const testdb *t)
{
	PGconn *c = PQconnectdb(t->url);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot connect to %s: %s", t->name, PQerrorMessage(c));
	PQsetNoticeProcessor(c, NULL, NULL);
	return c;
}

void testdb_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%.200s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

char *testdb_value(PGconn *c, const char *sql, int nparams, const char *const *params)
{
	PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
		fail_msg("%.200s: %s (rows: %d)", sql, PQerrorMessage(c), PQntuples(r));
	char *v = strdup(PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

long testdb_long(PGconn *c, const char *sql, int nparams, const char *const *params)
{
	char *v = testdb_value(c, sql, nparams, params);
	long n = atol(v);
	free(v);
	return n;
}

void testdb_seed(const testdb *t, bool demo)
{
	run_result r;
	if (demo)
		run_aiplat(&r, NULL, NULL, "--db", t->url, "-q", "seed", "--demo", NULL);
	else
		run_aiplat(&r, NULL, NULL, "--db", t->url, "-q", "seed", NULL);
	if (r.status != 0)
		fail_msg("seed failed (%d): %s", r.status, r.err);
	run_result_free(&r);
}
