/*
 * Applying and rolling back migrations.
 *
 * The ledger aiplat_meta.schema_migrations lives outside the aiplat schema,
 * so rolling everything back (which drops that schema) keeps the history
 * table. Each migration runs in its own transaction together with its ledger
 * row: a failure rolls both back and nothing is left "dirty". Migrations
 * marked transaction:false run statement by statement; if one fails, the
 * ledger row is not written and the earlier statements stay (write them
 * idempotently, e.g. CREATE INDEX CONCURRENTLY IF NOT EXISTS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "aiplat/buf.h"
#include "aiplat/error.h"
#include "aiplat/log.h"
#include "aiplat/migrate.h"
#include "locks.h"

typedef struct applied_row {
	long version;
	char name[256];
	char checksum[65];
	char applied_at[64];
	char duration_ms[32];
} applied_row;

typedef struct ledger {
	applied_row *rows;   /* ascending by version */
	size_t count;
} ledger;

static const char ledger_ddl[] =
	"CREATE SCHEMA IF NOT EXISTS aiplat_meta;"
	"COMMENT ON SCHEMA aiplat_meta IS 'aiplat bookkeeping that outlives the aiplat schema';"
	"CREATE TABLE IF NOT EXISTS aiplat_meta.schema_migrations ("
	"  version     bigint PRIMARY KEY,"
	"  name        text NOT NULL,"
	"  checksum    text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),"
	"  applied_at  timestamptz NOT NULL DEFAULT now(),"
	"  duration_ms numeric(12,3) NOT NULL"
	");"
	"COMMENT ON TABLE aiplat_meta.schema_migrations IS "
	"  'one row per applied migration, with the sha256 of its file';";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ledger_dispose(ledger *l)
{
	free(l->rows);
	memset(l, 0, sizeof(*l));
}

static int ledger_read(aiplat_db *db, ledger *out)
{
	memset(out, 0, sizeof(*out));
	char *exists = NULL;
	int rc = aiplat_db_query_value(db, &exists,
		"SELECT to_regclass('aiplat_meta.schema_migrations') IS NOT NULL", 0, NULL);
	if (rc)
		return rc;
	bool present = exists && !strcmp(exists, "t");
	free(exists);
	if (!present)
		return 0;
	PGresult *res;
	rc = aiplat_db_query(db, &res,
		"SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC',"
		"       'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS applied_at, duration_ms"
		"  FROM aiplat_meta.schema_migrations ORDER BY version", 0, NULL);
	if (rc)
		return rc;
	int n = PQntuples(res);
	out->rows = calloc(n ? (size_t)n : 1, sizeof(applied_row));
	if (!out->rows) {
		PQclear(res);
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		applied_row *r = &out->rows[i];
#define FIELD(column) (aiplat_db_field(res, i, #column) ? aiplat_db_field(res, i, #column) : "")
		r->version = atol(FIELD(version));
		snprintf(r->name, sizeof(r->name), "%s", FIELD(name));
		snprintf(r->checksum, sizeof(r->checksum), "%s", FIELD(checksum));
		snprintf(r->applied_at, sizeof(r->applied_at), "%s", FIELD(applied_at));
		snprintf(r->duration_ms, sizeof(r->duration_ms), "%s", FIELD(duration_ms));
#undef FIELD
	}
	out->count = (size_t)n;
	PQclear(res);
	return 0;
}

static const applied_row *ledger_find(const ledger *l, long version)
{
	for (size_t i = 0; i < l->count; i++)
		if (l->rows[i].version == version)
			return &l->rows[i];
	return NULL;
}

static const aiplat_migration *set_find(const aiplat_migration_set *set, long version)
{
	for (size_t i = 0; i < set->count; i++)
		if (set->items[i].version == version)
			return &set->items[i];
	return NULL;
}

/* Every applied migration whose file now has another checksum. */
/* Applied migrations whose file changed, and applied ones no file has:
 * either way the database is not what the files say. */
static int check_drift(const aiplat_migration_set *set, const ledger *l, aiplat_table *problems)
{
	aiplat_buf changed_names = AIPLAT_BUF_INIT, missing_names = AIPLAT_BUF_INIT;
	int changed = 0, missing = 0;
	for (size_t i = 0; i < l->count; i++) {
		const applied_row *r = &l->rows[i];
		const aiplat_migration *m = set_find(set, r->version);
		if (!m) {
			char what[200];
			snprintf(what, sizeof(what), "version %ld (%s)", r->version, r->name);
			aiplat_buf_printf(&missing_names, "%s%s", missing++ ? ", " : "", what);
			if (problems) {
				const char *cells[4] = { what, "missing", r->checksum, NULL };
				aiplat_table_add_row(problems, cells);
			}
			continue;
		}
		if (!strcmp(m->checksum, r->checksum))
			continue;
		aiplat_buf_printf(&changed_names, "%s%s", changed++ ? ", " : "", m->filename);
		if (problems) {
			const char *cells[4] = { m->filename, "changed", r->checksum, m->checksum };
			aiplat_table_add_row(problems, cells);
		}
	}
	int rc = 0;
	if (changed && missing) {
		aiplat_error_set(AIPLAT_ENEGATIVE, AIPLAT_ERRCLASS_MIGRATE,
		                 "applied migrations changed (%s) and have no file (%s)", changed_names.ptr,
		                 missing_names.ptr);
		rc = aiplat_error_hint("restore the applied files; add new migrations instead of editing "
		                       "or deleting applied ones");
	} else if (changed) {
		aiplat_error_set(AIPLAT_ENEGATIVE, AIPLAT_ERRCLASS_MIGRATE,
		                 "%s changed after %s applied: %s", changed > 1 ? "migrations" : "migration",
		                 changed > 1 ? "they were" : "it was", changed_names.ptr);
		rc = aiplat_error_hint("restore the applied content, or add a new migration "
		                       "instead of editing an applied one");
	} else if (missing) {
		aiplat_error_set(AIPLAT_ENEGATIVE, AIPLAT_ERRCLASS_MIGRATE,
		                 "%s applied to this database but no file has %s: %s",
		                 missing > 1 ? "migrations were" : "a migration was", missing > 1 ? "them" : "it",
		                 missing_names.ptr);
		rc = aiplat_error_hint("use the directory (or the aiplat version) that applied them; "
		                       "migrate status lists every version");
	}
	aiplat_buf_dispose(&changed_names);
	aiplat_buf_dispose(&missing_names);
	return rc;
}

/* Character offset (1-based, as PostgreSQL reports) -> line within text. */
static int line_of_position(const char *text, int position)
{
	int line = 0, chars = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if ((*p & 0xC0) != 0x80 && ++chars >= position)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

/* Turns the last (database) error into "file:line: message". */
static int blame(const aiplat_migration *m, bool up, const char *section, const char *stmt_start)
{
	const aiplat_error *e = aiplat_error_last();
	int line = up ? m->up_line : m->down_line;
	if (stmt_start) {
		for (const char *p = section; p < stmt_start; p++)
			if (*p == '\n')
				line++;
	}
	if (e->sql_position > 0)
		line += line_of_position(stmt_start ? stmt_start : section, e->sql_position);
	int code = e->code;
	/* A server-side failure of a migration's SQL is bad input (exit 5),
	 * except lock and connection trouble, which keep their own meaning. */
	if (code != AIPLAT_ECONNECT && code != AIPLAT_EBUSY && code != AIPLAT_EPERM) {
		aiplat_error saved = *e;
		saved.code = AIPLAT_EINVALID;
		aiplat_error_restore(&saved);
	}
	return aiplat_error_prefix("%s:%d (%s)", m->filename, line, up ? "up" : "down");
}

/*
 * Runs a section statement by statement, so an error names its statement's
 * line even when the server reports no position (division by zero, a
 * failed constraint). In a transaction the caller has already begun.
 */
static int run_statements(aiplat_db *db, const aiplat_migration *m, bool up)
{
	const char *sql = up ? m->up : m->down;
	char **stmts;
	size_t n;
	int rc = aiplat_sql_split(&stmts, &n, sql);
	if (rc)
		return rc;
	const char *cursor = sql;
	for (size_t i = 0; i < n && !rc; i++) {
		const char *at = strstr(cursor, stmts[i]);
		if ((rc = aiplat_db_exec_script(db, stmts[i])) != 0)
			blame(m, up, sql, at);
		if (at)
			cursor = at + strlen(stmts[i]);
	}
	aiplat_sql_split_free(stmts, n);
	return rc;
}

/* Runs a section; with `transaction` the caller commits (after writing the
 * ledger) or we roll back here on failure. */
static int run_section(aiplat_db *db, const aiplat_migration *m, bool up)
{
	bool transaction = up ? m->up_transaction : m->down_transaction;
	int rc;
	if (transaction) {
		rc = aiplat_db_exec(db, "BEGIN", 0, NULL);
		if (!rc)
			rc = aiplat_db_exec(db, "SET LOCAL search_path TO aiplat, public", 0, NULL);
		if (!rc && (rc = run_statements(db, m, up)) != 0)
			aiplat_db_rollback(db);
		return rc;
	}
	rc = aiplat_db_exec(db, "SET search_path TO aiplat, public", 0, NULL);
	if (!rc)
		rc = run_statements(db, m, up);
	aiplat_error saved = *aiplat_error_last();
	aiplat_db_exec(db, "RESET search_path", 0, NULL);
	aiplat_error_restore(&saved);
	return rc;
}

static int apply_one(aiplat_db *db, const aiplat_migration *m, const aiplat_migrate_opts *o)
{
	double t0 = now_s();
	int rc = run_section(db, m, true);
	if (rc)
		return rc;
	char version[32], ms[32];
	snprintf(version, sizeof(version), "%ld", m->version);
	snprintf(ms, sizeof(ms), "%.3f", (now_s() - t0) * 1000.0);
	const char *params[4] = { version, m->name, m->checksum, ms };
	rc = aiplat_db_exec(db,
		"INSERT INTO aiplat_meta.schema_migrations (version, name, checksum, duration_ms)"
		" VALUES ($1, $2, $3, $4)", 4, params);
	if (!rc && m->up_transaction)
		rc = aiplat_db_commit(db);
	if (rc && aiplat_db_in_transaction(db))
		aiplat_db_rollback(db);
	if (!rc) {
		aiplat_log(AIPLAT_LOG_DEBUG, "applied %s (%s ms)", m->filename, ms);
		if (o->on_step)
			o->on_step(m, true, now_s() - t0, o->ctx);
	}
	return rc;
}

static int revert_one(aiplat_db *db, const aiplat_migration *m, const aiplat_migrate_opts *o)
{
	double t0 = now_s();
	int rc = run_section(db, m, false);
	if (rc)
		return rc;
	char version[32];
	snprintf(version, sizeof(version), "%ld", m->version);
	const char *params[1] = { version };
	rc = aiplat_db_exec(db, "DELETE FROM aiplat_meta.schema_migrations WHERE version = $1",
	                    1, params);
	if (!rc && m->down_transaction)
		rc = aiplat_db_commit(db);
	if (rc && aiplat_db_in_transaction(db))
		aiplat_db_rollback(db);
	if (!rc) {
		aiplat_log(AIPLAT_LOG_DEBUG, "rolled back %s", m->filename);
		if (o->on_step)
			o->on_step(m, false, now_s() - t0, o->ctx);
	}
	return rc;
}

/* Lock, make sure the ledger exists, read it. Schema changes are the
 * platform's: never while acting for a person. */
static int prepare(aiplat_db *db, const aiplat_migrate_opts *o, ledger *l)
{
	if (aiplat_db_identity(db)->acting)
		return aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
		                        "schema migrations are the platform's to run, not a person's "
		                        "(connect as the schema owner and act for nobody)");
	int rc = aiplat_lock_acquire(db, AIPLAT_LOCK_MIGRATE, o->lock_timeout_s, "migration",
	                             o->on_wait, o->ctx);
	if (rc)
		return rc;
	if ((rc = aiplat_db_exec_script(db, ledger_ddl)) == 0 && (rc = ledger_read(db, l)) == 0)
		return 0;
	aiplat_lock_release(db, AIPLAT_LOCK_MIGRATE);
	return rc;
}

int aiplat_migrate_up(aiplat_db *db, const aiplat_migration_set *set, long to,
                      const aiplat_migrate_opts *opts, int *applied)
{
	aiplat_migrate_opts defaults = AIPLAT_MIGRATE_OPTS_INIT;
	const aiplat_migrate_opts *o = opts ? opts : &defaults;
	ledger l;
	int count = 0;
	if (applied)
		*applied = 0;
	if (to > 0 && !set_find(set, to))
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_MIGRATE,
		                        "there is no migration with version %ld", to);
	int rc = prepare(db, o, &l);
	if (rc)
		return rc;
	rc = check_drift(set, &l, NULL);
	for (size_t i = 0; i < set->count && !rc; i++) {
		const aiplat_migration *m = &set->items[i];
		if (to > 0 && m->version > to)
			break;
		if (ledger_find(&l, m->version))
			continue;
		if ((rc = apply_one(db, m, o)) == 0)
			count++;
	}
	aiplat_lock_release(db, AIPLAT_LOCK_MIGRATE);
	ledger_dispose(&l);
	if (applied)
		*applied = count;
	return rc;
}

int aiplat_migrate_down(aiplat_db *db, const aiplat_migration_set *set, long steps,
                        const aiplat_migrate_opts *opts, int *rolled_back)
{
	aiplat_migrate_opts defaults = AIPLAT_MIGRATE_OPTS_INIT;
	const aiplat_migrate_opts *o = opts ? opts : &defaults;
	ledger l;
	int count = 0;
	if (rolled_back)
		*rolled_back = 0;
	int rc = prepare(db, o, &l);
	if (rc)
		return rc;
	/* Check every migration we are about to revert before touching any. */
	size_t todo = steps < 0 || (size_t)steps > l.count ? l.count : (size_t)steps;
	for (size_t k = 0; k < todo && !rc; k++) {
		const applied_row *r = &l.rows[l.count - 1 - k];
		const aiplat_migration *m = set_find(set, r->version);
		if (!m)
			rc = aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_MIGRATE,
			                      "cannot roll back version %ld (%s): no migration file has it",
			                      r->version, r->name);
		else if (strcmp(m->checksum, r->checksum) != 0)
			rc = aiplat_error_set(AIPLAT_ENEGATIVE, AIPLAT_ERRCLASS_MIGRATE,
			                      "%s changed after it was applied; refusing to run its down "
			                      "section", m->filename);
		else if (!m->down[0] || strspn(m->down, " \t\r\n") == strlen(m->down))
			rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_MIGRATE,
			                      "%s has no -- migrate:down section", m->filename);
	}
	for (size_t k = 0; k < todo && !rc; k++) {
		const aiplat_migration *m = set_find(set, l.rows[l.count - 1 - k].version);
		if ((rc = revert_one(db, m, o)) == 0)
			count++;
	}
	aiplat_lock_release(db, AIPLAT_LOCK_MIGRATE);
	ledger_dispose(&l);
	if (rolled_back)
		*rolled_back = count;
	return rc;
}

int aiplat_migrate_status(aiplat_db *db, const aiplat_migration_set *set, aiplat_table **out)
{
	ledger l;
	int rc = ledger_read(db, &l);
	if (rc)
		return rc;
	aiplat_table *t;
	if ((rc = aiplat_table_new(&t, 5)) != 0) {
		ledger_dispose(&l);
		return rc;
	}
	aiplat_table_set_column(t, 0, "version", AIPLAT_COL_INT);
	aiplat_table_set_column(t, 1, "name", AIPLAT_COL_TEXT);
	aiplat_table_set_column(t, 2, "state", AIPLAT_COL_TEXT);
	aiplat_table_set_column(t, 3, "applied_at", AIPLAT_COL_TIME);
	aiplat_table_set_column(t, 4, "duration_ms", AIPLAT_COL_NUMBER);
	/* Files and ledger merged by version. */
	size_t i = 0, j = 0;
	while (!rc && (i < set->count || j < l.count)) {
		const aiplat_migration *m = i < set->count ? &set->items[i] : NULL;
		const applied_row *r = j < l.count ? &l.rows[j] : NULL;
		char version[32];
		const char *cells[5] = { version, NULL, NULL, NULL, NULL };
		if (m && (!r || m->version < r->version)) {
			snprintf(version, sizeof(version), "%ld", m->version);
			cells[1] = m->name;
			cells[2] = "pending";
			i++;
		} else if (r && (!m || r->version < m->version)) {
			snprintf(version, sizeof(version), "%ld", r->version);
			cells[1] = r->name;
			cells[2] = "missing";   /* applied, but no file has it */
			cells[3] = r->applied_at;
			cells[4] = r->duration_ms;
			j++;
		} else {
			snprintf(version, sizeof(version), "%ld", m->version);
			cells[1] = m->name;
			cells[2] = strcmp(m->checksum, r->checksum) ? "changed" : "applied";
			cells[3] = r->applied_at;
			cells[4] = r->duration_ms;
			i++;
			j++;
		}
		rc = aiplat_table_add_row(t, cells);
	}
	ledger_dispose(&l);
	if (rc) {
		aiplat_table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int aiplat_migrate_verify(aiplat_db *db, const aiplat_migration_set *set, aiplat_table **problems)
{
	ledger l;
	int rc = ledger_read(db, &l);
	if (rc)
		return rc;
	aiplat_table *t = NULL;
	if ((rc = aiplat_table_new(&t, 4)) == 0) {
		aiplat_table_set_column(t, 0, "file", AIPLAT_COL_TEXT);
		aiplat_table_set_column(t, 1, "problem", AIPLAT_COL_TEXT);
		aiplat_table_set_column(t, 2, "applied_checksum", AIPLAT_COL_TEXT);
		aiplat_table_set_column(t, 3, "file_checksum", AIPLAT_COL_TEXT);
		rc = check_drift(set, &l, t);
	}
	ledger_dispose(&l);
	if (problems)
		*problems = t;
	else
		aiplat_table_free(t);
	return rc;
}
