/*
 * `aiplat seed`: the embedded seed scripts (lib/seed/NNNN_*.sql) in one
 * transaction. 0001_base is always loaded; files named *_demo.sql only with
 * --demo. The summary counts rows per table before and after, so a second
 * run reports zero inserts, and an audit row is written only when something
 * changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/buf.h"
#include "aiplat/embedded.h"
#include "aiplat/error.h"
#include "aiplat/log.h"
#include "aiplat/seed.h"
#include "locks.h"

static const char *const seeded_tables[] = {
	"plans", "organization_types", "permissions", "roles", "role_permissions",
	"ai_models_system", "users", "organizations", "organization_members",
	"org_system_model_config", NULL
};

static bool is_demo(const char *name)
{
	size_t n = strlen(name);
	return n >= 9 && strcmp(name + n - 9, "_demo.sql") == 0;
}

static int count_rows(aiplat_db *db, long counts[])
{
	/* Table names come from the constant list above, never from input. */
	aiplat_buf sql = AIPLAT_BUF_INIT;
	aiplat_buf_puts(&sql, "SELECT ");
	for (int i = 0; seeded_tables[i]; i++)
		aiplat_buf_printf(&sql, "%s(SELECT count(*) FROM aiplat.%s)", i ? ", " : "",
		                  seeded_tables[i]);
	PGresult *res;
	int rc = aiplat_db_query(db, &res, sql.ptr, 0, NULL);
	aiplat_buf_dispose(&sql);
	if (rc)
		return rc;
	for (int i = 0; seeded_tables[i]; i++)
		counts[i] = atol(PQgetvalue(res, 0, i));
	PQclear(res);
	return 0;
}

int aiplat_seed(aiplat_db *db, bool demo, aiplat_table **summary)
{
	enum { N = sizeof(seeded_tables) / sizeof(seeded_tables[0]) };
	long before[N], after[N];
	if (aiplat_db_identity(db)->acting)
	{
		aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
		                 "seeding is done by the platform itself, not as a person");
		return aiplat_error_set_field("identity", NULL);
	}
	char *present = NULL;
	int rc = aiplat_db_query_value(db, &present,
		"SELECT to_regclass('aiplat.org_system_model_config') IS NOT NULL", 0, NULL);
	if (rc)
		return rc;
	bool migrated = present && !strcmp(present, "t");
	free(present);
	if (!migrated) {
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_CONFIG,
		                 "the database has no aiplat schema yet");
		return aiplat_error_set_field("schema", NULL);
	}

	if ((rc = aiplat_db_begin(db)) != 0)
		return rc;
	/* Serialise concurrent seeders: the second waits and then inserts nothing.
	 * Row auditing is off for the bulk load; one summary row is written. */
	rc = aiplat_db_exec(db, "SELECT " AIPLAT_LOCK_XACT_SQL(AIPLAT_LOCK_SEED) ","
	                        "       set_config('aiplat.audit', 'off', true)", 0, NULL);
	if (!rc)
		rc = count_rows(db, before);
	aiplat_buf files = AIPLAT_BUF_INIT;
	for (const struct aiplat_embedded_file *f = aiplat_embedded_seeds; f->name && !rc; f++) {
		if (is_demo(f->name) && !demo)
			continue;
		aiplat_log(AIPLAT_LOG_DEBUG, "loading seed %s", f->name);
		if ((rc = aiplat_db_exec_script(db, f->data)) != 0)
			aiplat_error_prefix("seed %s", f->name);
		aiplat_buf_printf(&files, "%s%s", files.len ? "," : "", f->name);
	}
	if (!rc)
		rc = count_rows(db, after);

	aiplat_table *t = NULL;
	long total = 0;
	if (!rc && (rc = aiplat_table_new(&t, 2)) == 0) {
		aiplat_table_set_column(t, 0, "table", AIPLAT_COL_TEXT);
		aiplat_table_set_column(t, 1, "inserted", AIPLAT_COL_INT);
		for (int i = 0; seeded_tables[i] && !rc; i++) {
			char n[32];
			snprintf(n, sizeof(n), "%ld", after[i] - before[i]);
			total += after[i] - before[i];
			const char *cells[2] = { seeded_tables[i], n };
			rc = aiplat_table_add_row(t, cells);
		}
	}
	if (!rc && total > 0) {
		char inserted[32];
		snprintf(inserted, sizeof(inserted), "%ld", total);
		const char *params[3] = { demo ? "seed.demo" : "seed.base", files.ptr, inserted };
		rc = aiplat_db_exec(db,
			"SELECT aiplat_internal.audit($1, 'seed', $2, NULL,"
			"                    jsonb_build_object('rows_inserted', $3::bigint))", 3, params);
	}
	aiplat_buf_dispose(&files);
	if (!rc)
		rc = aiplat_db_commit(db);
	if (rc) {
		aiplat_db_rollback(db);
		aiplat_table_free(t);
		return rc;
	}
	*summary = t;
	return 0;
}
