/*
 * What the people tests share (tests/integration/test_user.c, test_tenant.c,
 * test_role.c): the demo people and organisations they act as, the fixtures,
 * running the binary, reading JSON, looking at the database as the owner,
 * acting as a person through libpq, and making login roles.
 *
 * Databases. Each of those files gets one seeded database of its own in its
 * group setup (people_group_setup). Tests that only read, or whose commands
 * all fail (and that check that nothing was written), run on it (SHARED);
 * they must not depend on one another or on the order they run in. Tests
 * that change something get a fresh clone of the migrated template, seeded,
 * dropped after the test (FRESH). Login roles (cluster-wide) that a FRESH
 * test makes with new_role_name/make_role are dropped after it.
 *
 * What a test allocates (outputs of the binary, JSON documents, query
 * values, an extra connection) is released after it by the fixture, also
 * when an assertion fails half-way.
 *
 * The names are short because the tests were written with them; this file
 * is for the people tests only.
 */
#ifndef AIPLAT_PEOPLE_FIXTURE_H
#define AIPLAT_PEOPLE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <libpq-fe.h>
#include "runproc.h"
#include "testdb.h"

/* The demo data (`aiplat seed --demo`). */
#define OPS "ops@aiplat.test"
#define ALICE "alice@acme-legal.test"
#define AARON "aaron@acme-legal.test"
#define AVA "ava@acme-legal.test"
#define BELLA "bella@brightpath.test"
#define BEN "ben@brightpath.test"
#define ACME "acme-legal"
#define BRIGHT "brightpath"

/* ---- fixtures --------------------------------------------------------------------- */

/* The database the current test works on, and an owner connection to it. */
extern testdb *cur;
extern PGconn *cdb;
/* A connection a test opened itself (closed after the test). */
extern PGconn *extra_conn;

/* Group setup and teardown: the file's shared, seeded database. */
int people_group_setup(void **state);
int people_group_teardown(void **state);
/* Per test: work on the shared database, or on a fresh seeded one. */
int people_use_shared(void **state);
int people_done_shared(void **state);
int people_use_fresh(void **state);
int people_drop_fresh(void **state);

#define SHARED(f) cmocka_unit_test_setup_teardown(f, people_use_shared, people_done_shared)
#define FRESH(f) cmocka_unit_test_setup_teardown(f, people_use_fresh, people_drop_fresh)

/* Kept until the end of the test. */
json_t *keep_doc(json_t *doc);
char *keep_str(char *s);

/* ---- running the binary ------------------------------------------------------------ */

run_result *run_at(const char *url, const char *const *args);

#define RUN(...) run_at(cur->url, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_URL(url, ...) run_at((url), (const char *const[]){ __VA_ARGS__, NULL })

void expect_err(const run_result *r, const char *needle);
/* Runs, expects exit `status` and (unless NULL) `needle` on stderr. */
void expect_run(int status, const char *needle, const char *what, const char *const *args);

#define EXPECT(status, needle, ...) \
	expect_run((status), (needle), #__VA_ARGS__, (const char *const[]){ __VA_ARGS__, NULL })

json_t *json_from(const char *url, const char *const *args);

#define JSON(...) json_from(cur->url, (const char *const[]){ __VA_ARGS__, NULL })
#define JSON_URL(url, ...) json_from((url), (const char *const[]){ __VA_ARGS__, NULL })

/* The `key` string of every object in an array, comma-joined. */
void join_key(char *buf, size_t size, const json_t *arr, const char *key);
/* An array of strings, comma-joined. */
void join_strings(char *buf, size_t size, const json_t *arr);
const char *jstr(const json_t *o, const char *key);
long long jint(const json_t *o, const char *key);

/* ---- looking at the database as the owner ------------------------------------------ */

/* The first value of a query as the owner (released after the test). */
const char *value(const char *sql, const char *param);
long count1(const char *sql, const char *param);
void expect_sql(const char *sql, const char *param, const char *expected);
void user_id(char out[40], const char *email);
void org_id(char out[40], const char *slug);
void system_role_id(char out[40], const char *name);
/* Everything a refused command must leave alone: the people, organisation,
 * member, role and grant rows (contents, not only counts) and the audit log. */
const char *snapshot(void);
void expect_unchanged(const char *before, const char *what);

/* ---- acting as a person directly through libpq --------------------------------------- */

typedef struct sql_outcome {
	char state[6];     /* SQLSTATE of the failure, "" on success */
	long rows;         /* rows affected on success */
	char message[300];
} sql_outcome;

/*
 * Runs one statement the way any client acting for `email` in `slug` would:
 * BEGIN; set aiplat.user_id and aiplat.org_id; SET LOCAL ROLE aiplat_app.
 * Rolls back, unless `commit` (then deferred rules run at COMMIT).
 */
sql_outcome as_person(const char *email, const char *slug, bool commit, const char *sql, int n,
                      const char *const *params);
void expect_sqlstate(sql_outcome o, const char *state, const char *what);
void expect_rows(sql_outcome o, long rows, const char *what);

/* ---- login roles ------------------------------------------------------------------------ */

/* A cluster-unique role name, remembered for dropping at teardown. */
const char *new_role_name(const char *suffix);
const char *make_role(const char *suffix, const char *attributes);
/* The current database's URL for another login role. */
void url_as(char *buf, size_t size, const char *role);
bool in_app_role(const char *role);

#endif
