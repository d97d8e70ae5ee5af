/* The distribution rules and `cluster distribute` (see aiplat/cluster.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/cluster.h"
#include "aiplat/error.h"
#include "locks.h"

/* One query: a row per breach. Tables are those of schema aiplat that are
 * not partitions (a partition follows its parent). */
static const char check_sql[] =
	"WITH k AS (SELECT table_name, class FROM aiplat_internal.table_classes),"
	" t AS (SELECT c.oid, c.relname, k.class FROM pg_catalog.pg_class c"
	"        LEFT JOIN k ON k.table_name = c.relname"
	"       WHERE c.relnamespace = 'aiplat'::regnamespace AND c.relkind IN ('r', 'p')"
	"         AND NOT c.relispartition),"
	" org AS (SELECT a.attrelid, a.attnum, a.attnotnull FROM pg_catalog.pg_attribute a"
	"          WHERE a.attname = 'organization_id' AND NOT a.attisdropped),"
	" fk AS (SELECT f.conname, f.conrelid, f.confrelid, f.conkey, f.confkey, f.confdeltype,"
	"               f.confupdtype, ct.relname AS child, ct.class AS child_class,"
	"               pt.relname AS parent, pt.class AS parent_class,"
	"               co.attnum AS child_org, po.attnum AS parent_org"
	"          FROM pg_catalog.pg_constraint f"
	"          JOIN t ct ON ct.oid = f.conrelid"
	"          JOIN t pt ON pt.oid = f.confrelid"
	"          LEFT JOIN org co ON co.attrelid = f.conrelid"
	"          LEFT JOIN org po ON po.attrelid = f.confrelid"
	"         WHERE f.contype = 'f' AND f.conparentid = 0),"
	" trg AS (SELECT tr.tgname, t.relname, t.class, p.oid AS fn, p.prosrc"
	"           FROM pg_catalog.pg_trigger tr JOIN t ON t.oid = tr.tgrelid"
	"           JOIN pg_catalog.pg_proc p ON p.oid = tr.tgfoid WHERE NOT tr.tgisinternal),"
	" fns AS (SELECT p.oid, p.prosrc FROM pg_catalog.pg_proc p"
	"          WHERE p.pronamespace IN ('aiplat'::regnamespace, 'aiplat_internal'::regnamespace)"
	"            AND p.prolang IN (SELECT l.oid FROM pg_catalog.pg_language l"
	"                               WHERE l.lanname IN ('sql', 'plpgsql'))"
	"            AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
	"                             WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid"
	"                               AND d.deptype = 'e')),"
	" upsert_set AS ("
	"   SELECT f.oid, regexp_replace(substring(s.stmt FROM '(?i)do\\s+update\\s+set\\s(.*)$'),"
	"                                '(?i)\\m(returning|where)\\M.*$', '') AS clause"
	"     FROM fns f CROSS JOIN LATERAL regexp_split_to_table(f.prosrc, ';') AS s(stmt)"
	"    WHERE s.stmt ~* 'do\\s+update\\s+set\\s'),"
	" upsert_call AS ("
	"   SELECT u.oid, lower(m.call[1]) AS called FROM upsert_set u"
	"    CROSS JOIN LATERAL regexp_matches(u.clause, '([A-Za-z_][A-Za-z0-9_.]*)\\s*\\(', 'g') AS m(call))"
	" SELECT 'class' AS rule, t.relname AS object,"
	"        'the table has no class in aiplat_internal.table_classes' AS problem"
	"   FROM t WHERE t.class IS NULL"
	" UNION ALL"
	" SELECT 'class', k.table_name, 'classed, but schema aiplat has no such table'"
	"   FROM k WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.relname = k.table_name)"
	" UNION ALL"
	" SELECT 'organization_id', t.relname,"
	"        CASE WHEN o.attrelid IS NULL THEN 'a distributed table without organization_id'"
	"             ELSE 'organization_id may be NULL' END"
	"   FROM t LEFT JOIN org o ON o.attrelid = t.oid"
	"  WHERE t.class = 'distributed' AND (o.attrelid IS NULL OR NOT o.attnotnull)"
	" UNION ALL"
	" SELECT 'primary key', t.relname, 'a distributed table without a primary key'"
	"   FROM t WHERE t.class = 'distributed' AND NOT EXISTS ("
	"     SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conrelid = t.oid AND c.contype = 'p')"
	" UNION ALL"
	" SELECT 'unique', t.relname, format('%s does not include organization_id', i.indexrelid::regclass)"
	"   FROM t JOIN pg_catalog.pg_index i ON i.indrelid = t.oid AND i.indisunique"
	"   LEFT JOIN org o ON o.attrelid = t.oid"
	"  WHERE t.class = 'distributed' AND (o.attnum IS NULL OR NOT o.attnum = ANY (i.indkey::int2[]))"
	" UNION ALL"
	" SELECT 'foreign key', fk.child || '.' || fk.conname,"
	"        format('a reference table may not refer to a distributed one (%s)', fk.parent)"
	"   FROM fk WHERE fk.child_class = 'reference' AND fk.parent_class = 'distributed'"
	" UNION ALL"
	" SELECT 'foreign key', fk.child || '.' || fk.conname,"
	"        format('refers to distributed %s without matching organization_id to organization_id', fk.parent)"
	"   FROM fk WHERE fk.child_class = 'distributed' AND fk.parent_class = 'distributed'"
	"    AND NOT EXISTS (SELECT 1 FROM generate_subscripts(fk.conkey, 1) AS g(n)"
	"                     WHERE fk.conkey[g.n] = fk.child_org AND fk.confkey[g.n] = fk.parent_org)"
	" UNION ALL"
	" SELECT 'foreign key', fk.child || '.' || fk.conname,"
	"        'ON DELETE/UPDATE SET NULL or SET DEFAULT on a key that includes organization_id'"
	"   FROM fk WHERE fk.child_class = 'distributed' AND fk.child_org = ANY (fk.conkey)"
	"    AND (fk.confdeltype IN ('n', 'd') OR fk.confupdtype IN ('n', 'd'))"
	" UNION ALL"
	" SELECT 'policy', t.relname || '.' || p.polname, 'the policy contains a subquery'"
	"   FROM pg_catalog.pg_policy p JOIN t ON t.oid = p.polrelid"
	"  WHERE p.polqual::text LIKE '%{SUBLINK %' OR p.polwithcheck::text LIKE '%{SUBLINK %'"
	" UNION ALL"
	" SELECT DISTINCT 'policy', t.relname || '.' || p.polname,"
	"        format('calls SQL function %s, which reads tables: write it in PL/pgSQL', f.oid::regprocedure)"
	"   FROM pg_catalog.pg_policy p JOIN t ON t.oid = p.polrelid"
	"   JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_policy'::regclass AND d.objid = p.oid"
	"    AND d.refclassid = 'pg_catalog.pg_proc'::regclass"
	"   JOIN pg_catalog.pg_proc f ON f.oid = d.refobjid"
	"  WHERE f.prolang = (SELECT l.oid FROM pg_catalog.pg_language l WHERE l.lanname = 'sql')"
	"    AND f.prosrc ~* '\\mfrom\\M'"
	" UNION ALL"
	" SELECT DISTINCT 'upsert', u.oid::regprocedure::text,"
	"        format('%s() in DO UPDATE SET is not immutable: pass the value in', u.called)"
	"   FROM upsert_call u"
	"  WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_proc p"
	"                 WHERE p.proname = regexp_replace(u.called, '^.*\\.', '') AND p.provolatile <> 'i')"
	" UNION ALL"
	" SELECT 'signature', p.oid::regprocedure::text,"
	"        format('takes or returns the row type of table %s: use a composite type of its own"
	" (Citus rebinds it to a shard when the table is converted)', c.oid::regclass)"
	"   FROM pg_catalog.pg_proc p"
	"   JOIN pg_catalog.pg_type ty ON ty.oid = p.prorettype OR ty.oid = ANY (p.proargtypes)"
	"                              OR ty.oid = ANY (coalesce(p.proallargtypes, '{}'))"
	"   JOIN pg_catalog.pg_class c ON c.oid = ty.typrelid AND c.relkind IN ('r', 'p')"
	"  WHERE p.oid IN (SELECT oid FROM fns)"
	" UNION ALL"
	" SELECT 'trigger', trg.relname || '.' || trg.tgname,"
	"        format('%s creates or drops schemas (on Citus it would run on a worker)', trg.fn::regprocedure)"
	"   FROM trg WHERE trg.prosrc ~* '(create|drop)\\s+schema'"
	" UNION ALL"
	" SELECT 'trigger', trg.relname || '.' || trg.tgname,"
	"        format('%s writes other tables from a reference table without is_redundant_copy"
	" (it would write once per node)', trg.fn::regprocedure)"
	"   FROM trg WHERE trg.class = 'reference'"
	"    AND trg.prosrc ~* '\\m(insert\\s+into|update\\s+aiplat|delete\\s+from|perform\\s+aiplat_internal\\.audit)'"
	"    AND trg.prosrc !~ 'is_redundant_copy'"
	" ORDER BY 1, 2, 3";

int aiplat_cluster_check(aiplat_db *db, aiplat_table **out)
{
	/* Names in the answer are schema-qualified whatever the caller's search_path. */
	int rc = aiplat_db_exec(db, "BEGIN", 0, NULL);
	if (!rc)
		rc = aiplat_db_exec(db, "SET LOCAL search_path = pg_catalog", 0, NULL);
	if (!rc)
		rc = aiplat_db_query_table(db, out, check_sql, 0, NULL);
	aiplat_error saved = *aiplat_error_last();
	aiplat_db_exec(db, "ROLLBACK", 0, NULL);
	if (rc)
		aiplat_error_restore(&saved);
	return rc;
}

/* ---- distribute ------------------------------------------------------------------------- */

/* Each table with its class, what it is now on the cluster (reference,
 * distributed by which column, co-located with org_usage or not, a Citus
 * local table, or nothing yet), and its place in the order: reference
 * tables first, org_usage first of the distributed ones, and every table
 * after the tables it refers to. */
static const char plan_sql[] =
	"WITH RECURSIVE k AS ("
	"   SELECT c.table_name, c.class, ('aiplat.' || quote_ident(c.table_name))::regclass AS rel"
	"     FROM aiplat_internal.table_classes c),"
	" edge AS (SELECT DISTINCT f.conrelid AS child, f.confrelid AS parent FROM pg_catalog.pg_constraint f"
	"           WHERE f.contype = 'f' AND f.conparentid = 0 AND f.conrelid <> f.confrelid"
	"             AND f.conrelid IN (SELECT rel FROM k) AND f.confrelid IN (SELECT rel FROM k)),"
	" depth (rel, d) AS (SELECT rel, 0 FROM k"
	"                    UNION ALL SELECT e.child, depth.d + 1 FROM depth JOIN edge e ON e.parent = depth.rel"
	"                     WHERE depth.d < 100),"
	" target AS (SELECT colocationid FROM pg_catalog.pg_dist_partition"
	"             WHERE logicalrelid = 'aiplat.org_usage'::regclass)"
	" SELECT k.table_name, k.class,"
	"        CASE WHEN p.logicalrelid IS NULL THEN 'local'"
	"             WHEN p.partmethod = 'n' AND p.repmodel = 't' THEN 'reference'"
	"             WHEN p.partmethod = 'n' THEN 'citus local'"
	"             WHEN p.partmethod = 'h'"
	"              AND pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) = 'organization_id'"
	"              AND (k.table_name = 'org_usage' OR p.colocationid = (SELECT colocationid FROM target))"
	"               THEN 'distributed'"
	"             ELSE 'other' END AS now"
	"   FROM k LEFT JOIN pg_catalog.pg_dist_partition p ON p.logicalrelid = k.rel"
	"  ORDER BY k.class = 'distributed', k.table_name <> 'org_usage',"
	"           (SELECT max(d) FROM depth WHERE depth.rel = k.rel), k.table_name";

typedef struct step_log {
	aiplat_table *t;
	bool dry_run;
} step_log;

/* Whether table `name` has had its step in this run. */
static bool logged(const step_log *l, const char *name)
{
	char object[128];
	snprintf(object, sizeof(object), "aiplat.%s", name);
	for (size_t i = 0; i < aiplat_table_nrows(l->t); i++)
		if (!strcmp(aiplat_table_get(l->t, i, "object"), object))
			return true;
	return false;
}

static int log_step(step_log *l, const char *object, const char *klass, const char *action, bool done)
{
	const char *cells[4] = { object, klass, action, done ? "t" : "f" };
	return aiplat_table_add_row(l->t, cells);
}

/* Runs one step in its own transaction (Citus's conversions copy data and
 * take locks on every node: keeping them apart keeps each short). Triggers
 * on distributed tables are checked by the rules, so Citus may accept
 * them; the rows it copies into shards fire them, and are no change
 * (aiplat.copying_rows, which reaches the workers). */
static int run_step(aiplat_db *db, const char *sql, int nparams, const char *const *params)
{
	int rc = aiplat_db_exec(db, "BEGIN", 0, NULL);
	if (!rc)
		rc = aiplat_db_exec_script(db, "SET LOCAL citus.enable_unsafe_triggers = on;"
		                               "SET LOCAL citus.propagate_set_commands = 'local';"
		                               "SET LOCAL aiplat.copying_rows = on;");
	if (!rc)
		rc = aiplat_db_exec(db, sql, nparams, params);
	if (!rc)
		return aiplat_db_exec(db, "COMMIT", 0, NULL);
	aiplat_error saved = *aiplat_error_last();
	aiplat_db_exec(db, "ROLLBACK", 0, NULL);
	aiplat_error_restore(&saved);
	return rc;
}

static const char *distribute_action(const char *name)
{
	return !strcmp(name, "org_usage") ? "create_distributed_table (organization_id)"
	                                  : "create_distributed_table (organization_id, co-located with org_usage)";
}

static int refuse_other(const char *object, const char *klass)
{
	return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
	                        "%s is distributed otherwise than its class (%s) says; "
	                        "undistribute it (undistribute_table) and run again", object, klass);
}

/* A reference table, in a step of its own. */
static int make_reference(aiplat_db *db, step_log *l, const char *name, const char *now)
{
	char object[128];
	snprintf(object, sizeof(object), "aiplat.%s", name);
	if (!strcmp(now, "reference"))
		return log_step(l, object, "reference", "already a reference table", true);
	if (!strcmp(now, "other"))
		return refuse_other(object, "reference");
	if (l->dry_run)
		return log_step(l, object, "reference", "create_reference_table", false);
	const char *params[1] = { object };
	if (run_step(db, "SELECT pg_catalog.create_reference_table($1::regclass)", 1, params) != 0)
		return aiplat_error_prefix("%s", object);
	return log_step(l, object, "reference", "create_reference_table", true);
}

/* Foreign keys between distributed tables that are not both distributed
 * yet: Citus cannot distribute a table that a local table refers to, so
 * they are taken off for the conversion and put back after it. */
static const char pending_fks_sql[] =
	"CREATE TEMP TABLE aiplat_pending_fks ON COMMIT DROP AS"
	" SELECT f.conrelid::regclass::text AS tbl, f.conname, pg_catalog.pg_get_constraintdef(f.oid) AS def"
	"   FROM pg_catalog.pg_constraint f"
	"   JOIN aiplat_internal.table_classes ck ON ('aiplat.' || quote_ident(ck.table_name))::regclass = f.conrelid"
	"   JOIN aiplat_internal.table_classes cp ON ('aiplat.' || quote_ident(cp.table_name))::regclass = f.confrelid"
	"  WHERE f.contype = 'f' AND f.conparentid = 0 AND ck.class = 'distributed' AND cp.class = 'distributed'"
	"    AND NOT (f.conrelid IN (SELECT logicalrelid FROM pg_catalog.pg_dist_partition WHERE partmethod = 'h')"
	"             AND f.confrelid IN (SELECT logicalrelid FROM pg_catalog.pg_dist_partition WHERE partmethod = 'h'))";

/* Runs each statement that `generator` (a query of one text column) returns. */
static int run_generated(aiplat_db *db, const char *generator)
{
	aiplat_table *stmts = NULL;
	int rc = aiplat_db_query_table(db, &stmts, generator, 0, NULL);
	for (size_t i = 0; !rc && i < aiplat_table_nrows(stmts); i++)
		rc = aiplat_db_exec(db, aiplat_table_cell(stmts, i, 0), 0, NULL);
	aiplat_table_free(stmts);
	return rc;
}

/*
 * The distributed tables, in one transaction (so that the foreign keys
 * taken off are back, or nothing happened): org_usage first, then each
 * table after those it refers to, co-located. Sequential mode, as Citus
 * asks of a transaction that writes reference and distributed tables.
 */
static int make_distributed(aiplat_db *db, step_log *l, const aiplat_table *plan)
{
	size_t pending = 0;
	for (size_t r = 0; r < aiplat_table_nrows(plan); r++) {
		const char *name = aiplat_table_get(plan, r, "table_name"),
		           *klass = aiplat_table_get(plan, r, "class"), *now = aiplat_table_get(plan, r, "now");
		if (strcmp(klass, "distributed"))
			continue;
		char object[128];
		snprintf(object, sizeof(object), "aiplat.%s", name);
		if (!strcmp(now, "distributed"))
			log_step(l, object, klass, "already distributed by organization_id", true);
		else if (!strcmp(now, "other"))
			return refuse_other(object, klass);
		else
			pending++;
	}
	if (!pending)
		return 0;
	int rc = 0;
	if (!l->dry_run) {
		rc = aiplat_db_exec(db, "BEGIN", 0, NULL);
		if (!rc)
			rc = aiplat_db_exec_script(db, "SET LOCAL citus.enable_unsafe_triggers = on;"
			                               "SET LOCAL citus.propagate_set_commands = 'local';"
			                               "SET LOCAL citus.multi_shard_modify_mode = 'sequential';"
			                               "SET LOCAL aiplat.copying_rows = on;");
		if (!rc)
			rc = aiplat_db_exec(db, pending_fks_sql, 0, NULL);
		if (!rc)
			rc = run_generated(db, "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', tbl, conname)"
			                       "  FROM aiplat_pending_fks");
	}
	for (size_t r = 0; !rc && r < aiplat_table_nrows(plan); r++) {
		const char *name = aiplat_table_get(plan, r, "table_name"),
		           *klass = aiplat_table_get(plan, r, "class"), *now = aiplat_table_get(plan, r, "now");
		if (strcmp(klass, "distributed") || !strcmp(now, "distributed"))
			continue;
		char object[128];
		snprintf(object, sizeof(object), "aiplat.%s", name);
		const char *params[1] = { object };
		if (!l->dry_run &&
		    (rc = aiplat_db_exec(db, !strcmp(name, "org_usage")
		                                 ? "SELECT pg_catalog.create_distributed_table($1::regclass, 'organization_id')"
		                                 : "SELECT pg_catalog.create_distributed_table($1::regclass, 'organization_id',"
		                                   " colocate_with => 'aiplat.org_usage')",
		                         1, params)) != 0) {
			aiplat_error_prefix("%s", object);
			break;
		}
		rc = log_step(l, object, klass, distribute_action(name), !l->dry_run);
	}
	if (l->dry_run)
		return rc;
	if (!rc)
		rc = run_generated(db, "SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', tbl, conname, def)"
		                       "  FROM aiplat_pending_fks");
	if (!rc)
		return aiplat_db_exec(db, "COMMIT", 0, NULL);
	aiplat_error saved = *aiplat_error_last();
	aiplat_db_exec(db, "ROLLBACK", 0, NULL);
	aiplat_error_restore(&saved);
	return rc;
}

/* aiplat_app connects to the workers when people act (SET LOCAL ROLE). */
static int app_login(aiplat_db *db, step_log *l)
{
	char *can = NULL;
	int rc = aiplat_db_query_value(db, &can,
		"SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = 'aiplat_app'", 0, NULL);
	if (rc)
		return rc;
	bool done = can && !strcmp(can, "t");
	free(can);
	if (done)
		return log_step(l, "role aiplat_app", "", "already may log in", true);
	if (!l->dry_run && (rc = run_step(db, "ALTER ROLE aiplat_app LOGIN", 0, NULL)) != 0)
		return aiplat_error_prefix("letting aiplat_app log in");
	return log_step(l, "role aiplat_app", "", "ALTER ROLE aiplat_app LOGIN", !l->dry_run);
}

#define ADMIT_SIGNATURE                                                                              \
	"aiplat.quota_admit(uuid,text,text,bigint,text,uuid,bigint,bigint,integer,text,interval,"       \
	"timestamp with time zone,boolean)"

/* The admission step runs on the worker holding its organisation. */
static int delegate_admission(aiplat_db *db, step_log *l)
{
	char *index = NULL;
	int rc = aiplat_db_query_value(db, &index,
		"SELECT distribution_argument_index FROM pg_catalog.pg_dist_object"
		" WHERE classid = 'pg_catalog.pg_proc'::regclass AND objid = '" ADMIT_SIGNATURE "'::regprocedure",
		0, NULL);
	if (rc)
		return rc;
	bool done = index && !strcmp(index, "0");
	free(index);
	if (done)
		return log_step(l, "function aiplat.quota_admit", "", "already runs next to p_org's shards", true);
	if (!l->dry_run &&
	    (rc = run_step(db, "SELECT pg_catalog.create_distributed_function('" ADMIT_SIGNATURE "'::regprocedure,"
	                       " 'p_org', colocate_with => 'aiplat.org_usage')", 0, NULL)) != 0)
		return aiplat_error_prefix("delegating aiplat.quota_admit");
	return log_step(l, "function aiplat.quota_admit", "",
	                "create_distributed_function (p_org, co-located with org_usage)", !l->dry_run);
}

/* Every function of the schema on every node: policies, triggers and the
 * delegated admission step call them there. Citus copies most on its own;
 * this catches the rest (and says which). */
static int propagate_functions(aiplat_db *db, step_log *l)
{
	aiplat_table *missing = NULL;
	int rc = aiplat_db_query_table(db, &missing,
		"SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p"
		" WHERE p.pronamespace IN ('aiplat'::regnamespace, 'aiplat_internal'::regnamespace)"
		"   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_proc'::regclass"
		"                    AND d.objid = p.oid AND d.deptype = 'e')"
		"   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_object o"
		"                    WHERE o.classid = 'pg_catalog.pg_proc'::regclass AND o.objid = p.oid)"
		" ORDER BY 1", 0, NULL);
	if (rc)
		return rc;
	size_t n = aiplat_table_nrows(missing);
	for (size_t i = 0; i < n && !rc && !l->dry_run; i++) {
		const char *params[1] = { aiplat_table_cell(missing, i, 0) };
		if ((rc = run_step(db, "SELECT pg_catalog.create_distributed_function($1::regprocedure)", 1, params)) != 0)
			aiplat_error_prefix("copying %s to the workers", params[0]);
	}
	aiplat_table_free(missing);
	if (rc)
		return rc;
	char action[96];
	if (n)
		snprintf(action, sizeof(action), "create_distributed_function for %zu not on the workers yet", n);
	else
		snprintf(action, sizeof(action), "already on every node");
	return log_step(l, "functions of aiplat", "", action, n == 0 || !l->dry_run);
}

static int mark_functions(aiplat_db *db, step_log *l)
{
	if (l->dry_run)
		return log_step(l, "nested execution", "", "aiplat_internal.mark_functions_for_citus()", false);
	char *n = NULL;
	int rc = aiplat_db_query_value(db, &n, "SELECT aiplat_internal.mark_functions_for_citus()", 0, NULL);
	if (rc)
		return aiplat_error_prefix("marking the functions");
	char action[96];
	snprintf(action, sizeof(action), n && strcmp(n, "0") ? "nested execution allowed in %s more"
	                                                    : "already allow nested execution%.0s",
	         n ? n : "0");
	free(n);
	return log_step(l, "nested execution", "", action, true);
}

static int check_ready(aiplat_db *db)
{
	if (aiplat_db_identity(db)->acting)
		return aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
		                        "distributing the schema is the platform's to do, not a person's");
	char *version = NULL;
	int rc = aiplat_db_query_value(db, &version,
		"SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'citus'", 0, NULL);
	if (rc)
		return rc;
	free(version);
	if (!version) {
		aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_CONFIG,
		                 "this server has no Citus: the citus extension is not installed in this database");
		return aiplat_error_hint("on a Citus coordinator, a superuser runs CREATE EXTENSION citus first");
	}
	aiplat_table *breaches = NULL;
	if ((rc = aiplat_cluster_check(db, &breaches)) != 0)
		return rc;
	size_t n = aiplat_table_nrows(breaches);
	aiplat_table_free(breaches);
	if (n) {
		aiplat_error_set(AIPLAT_ENEGATIVE, AIPLAT_ERRCLASS_INPUT,
		                 "%zu breach%s of the distribution rules; nothing was changed", n, n == 1 ? "" : "es");
		return aiplat_error_set_field("distribution_rules", NULL);
	}
	return 0;
}

int aiplat_cluster_distribute(aiplat_db *db, bool dry_run, aiplat_table **out)
{
	*out = NULL;
	int rc = check_ready(db);
	if (rc)
		return rc;
	step_log l = { NULL, dry_run };
	if ((rc = aiplat_table_new(&l.t, 4)) != 0)
		return rc;
	aiplat_table_set_column(l.t, 0, "object", AIPLAT_COL_TEXT);
	aiplat_table_set_column(l.t, 1, "class", AIPLAT_COL_TEXT);
	aiplat_table_set_column(l.t, 2, "action", AIPLAT_COL_TEXT);
	aiplat_table_set_column(l.t, 3, "done", AIPLAT_COL_BOOL);
	/* One distribution at a time, and none while migrations run. */
	if ((rc = aiplat_lock_acquire(db, AIPLAT_LOCK_MIGRATE, 0, "migration or distribution", NULL, NULL)) != 0) {
		aiplat_table_free(l.t);
		return rc;
	}
	/* Functions first: triggers run them on the workers as rows are copied. */
	rc = mark_functions(db, &l);
	/* Reference tables one by one; the plan is read again after each, since
	 * a conversion changes what the others are (Citus makes local tables
	 * that refer to a new reference table Citus local tables). */
	aiplat_table *plan = NULL;
	while (!rc) {
		if ((rc = aiplat_db_query_table(db, &plan, plan_sql, 0, NULL)) != 0)
			break;
		size_t next = 0;
		while (next < aiplat_table_nrows(plan) &&
		       (strcmp(aiplat_table_get(plan, next, "class"), "reference") ||
		        logged(&l, aiplat_table_get(plan, next, "table_name"))))
			next++;
		if (next == aiplat_table_nrows(plan))
			break;
		rc = make_reference(db, &l, aiplat_table_get(plan, next, "table_name"),
		                    aiplat_table_get(plan, next, "now"));
		aiplat_table_free(plan);
		plan = NULL;
	}
	if (!rc)
		rc = make_distributed(db, &l, plan);
	aiplat_table_free(plan);
	if (!rc)
		rc = app_login(db, &l);
	if (!rc)
		rc = propagate_functions(db, &l);
	if (!rc)
		rc = delegate_admission(db, &l);
	aiplat_lock_release(db, AIPLAT_LOCK_MIGRATE);
	if (rc) {
		aiplat_table_free(l.t);
		return rc;
	}
	*out = l.t;
	return 0;
}
