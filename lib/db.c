/* The connection handle, parameterised statements, transactions, identity. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/db.h"
#include "aiplat/error.h"
#include "aiplat/log.h"
#include "util/text.h"

struct aiplat_db {
	PGconn *conn;
	aiplat_identity identity;   /* acting == false: the platform */
};

static int nomem(void)
{
	return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
}

/* libpq messages end with a newline and sometimes carry a "DETAIL:" tail. */
static void trim_message(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "unknown error");
	size_t n = strlen(dst);
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
		dst[--n] = '\0';
}

/* Server notices (NOTICE, WARNING) go to the debug log instead of stderr. */
static void forward_notice(void *arg, const PGresult *res)
{
	(void)arg;
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	aiplat_log(AIPLAT_LOG_DEBUG, "server %s: %s", sev ? sev : "NOTICE", msg ? msg : "");
}

int aiplat_db_connect(aiplat_db **out, const char *conninfo, const char *application_name)
{
	/* Later keywords win over what the URL says; connect_timeout comes first
	 * so a URL can override our default. */
	/* Timestamps print as ISO 8601 in UTC unless the URL sets its own
	 * options; PGOPTIONS (which the keyword would hide) is kept. */
	char options[1024];
	const char *env = getenv("PGOPTIONS");
	snprintf(options, sizeof(options), "-c DateStyle=ISO,YMD -c TimeZone=UTC%s%s",
	         env && *env ? " " : "", env && *env ? env : "");
	const char *keys[] = { "connect_timeout", "options", "dbname", "application_name",
	                       "client_encoding", NULL };
	const char *vals[] = { "10", options, conninfo, application_name ? application_name : "aiplat",
	                       "UTF8", NULL };
	aiplat_db *db = calloc(1, sizeof(*db));
	if (!db)
		return nomem();
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (!db->conn) {
		free(db);
		return nomem();
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		char msg[900];
		trim_message(msg, sizeof(msg), PQerrorMessage(db->conn));
		PQfinish(db->conn);
		free(db);
		aiplat_error_set(AIPLAT_ECONNECT, AIPLAT_ERRCLASS_DB, "cannot connect to the database: %s",
		                 msg);
		return aiplat_error_set_field("database", NULL);
	}
	PQsetNoticeReceiver(db->conn, forward_notice, NULL);
	aiplat_log(AIPLAT_LOG_DEBUG, "connected to database %s as %s (server %d)", PQdb(db->conn),
	           PQuser(db->conn), PQserverVersion(db->conn));
	*out = db;
	return 0;
}

void aiplat_db_close(aiplat_db *db)
{
	if (!db)
		return;
	PQfinish(db->conn);
	free(db);
}

PGconn *aiplat_db_pg(aiplat_db *db)
{
	return db->conn;
}

int aiplat_db_error_from_result(const PGresult *res, PGconn *conn)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	char msg[900];
	int code;

	if (!primary) {
		trim_message(msg, sizeof(msg), PQerrorMessage(conn));
		code = PQstatus(conn) == CONNECTION_BAD ? AIPLAT_ECONNECT : AIPLAT_EINTERNAL;
	} else {
		trim_message(msg, sizeof(msg), primary);
		code = aiplat_err_from_sqlstate(state);
	}
	if (detail)
		aiplat_error_set(code, AIPLAT_ERRCLASS_DB, "%s (%s)", msg, detail);
	else
		aiplat_error_set(code, AIPLAT_ERRCLASS_DB, "%s", msg);
	aiplat_error_set_sqlstate(state);
	const char *pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
	if (pos)
		aiplat_error_set_sql_position(atoi(pos));
	if (hint)
		aiplat_error_hint("%s", hint);
	else if (state && !strcmp(state, "25006")) {
		/* A write on a hot standby (or a server set read-only): not a bug,
		 * not bad input; the writable server is elsewhere. */
		code = aiplat_error_set(AIPLAT_ECONNECT, AIPLAT_ERRCLASS_DB,
		                        "this server is read-only (a hot standby?): %s", msg);
		aiplat_error_set_sqlstate(state);
		aiplat_error_hint("writes go to the primary server; reports may read a standby");
	}
	return code;
}

/* First line of a statement, for debug logs; never parameter values. */
static void log_statement(const char *sql)
{
	while (*sql == ' ' || *sql == '\n' || *sql == '\t')
		sql++;
	int n = (int)strcspn(sql, "\n");
	aiplat_log(AIPLAT_LOG_DEBUG, "sql: %.*s%s", n > 160 ? 160 : n, sql,
	           (n > 160 || sql[n]) ? " ..." : "");
}

int aiplat_db_query(aiplat_db *db, PGresult **out, const char *sql, int nparams,
                    const char *const *params)
{
	log_statement(sql);
	PGresult *res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		int rc = aiplat_db_error_from_result(res, db->conn);
		PQclear(res);
		return rc;
	}
	*out = res;
	return 0;
}

int aiplat_db_exec(aiplat_db *db, const char *sql, int nparams, const char *const *params)
{
	PGresult *res;
	int rc = aiplat_db_query(db, &res, sql, nparams, params);
	if (!rc)
		PQclear(res);
	return rc;
}

/* The first column of the first row, malloc'd (NULL for no row or NULL). */
static int take_value(PGresult *res, char **out)
{
	int rc = 0;
	*out = NULL;
	if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0) &&
	    !(*out = strdup(PQgetvalue(res, 0, 0))))
		rc = nomem();
	PQclear(res);
	return rc;
}

static int take_table(PGresult *res, aiplat_table **out)
{
	int rc = aiplat_table_from_result(out, res);
	PQclear(res);
	return rc;
}

int aiplat_db_query_table(aiplat_db *db, aiplat_table **out, const char *sql, int nparams,
                          const char *const *params)
{
	PGresult *res;
	int rc = aiplat_db_query(db, &res, sql, nparams, params);
	return rc ? rc : take_table(res, out);
}

int aiplat_db_query_value(aiplat_db *db, char **out, const char *sql, int nparams,
                          const char *const *params)
{
	PGresult *res;
	int rc = aiplat_db_query(db, &res, sql, nparams, params);
	return rc ? rc : take_value(res, out);
}

int aiplat_db_exec_script(aiplat_db *db, const char *sql)
{
	/* The simple-query protocol runs a multi-statement string; results after
	 * the first error are discarded by the server. */
	if (!PQsendQuery(db->conn, sql))
		return aiplat_db_error_from_result(NULL, db->conn);
	int rc = 0;
	PGresult *res;
	while ((res = PQgetResult(db->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		if (!rc && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
		    st != PGRES_EMPTY_QUERY)
			rc = aiplat_db_error_from_result(res, db->conn);
		PQclear(res);
	}
	return rc;
}

bool aiplat_db_in_transaction(aiplat_db *db)
{
	return PQtransactionStatus(db->conn) != PQTRANS_IDLE;
}

/* 8-4-4-4-12 hexadecimal digits and nothing else: what may be spliced into a SET command. */
static bool valid_uuid_text(const char *s)
{
	uint8_t bytes[16];
	return strlen(s) == 36 && aiplat_parse_uuid(s, 36, bytes);
}

int aiplat_db_begin(aiplat_db *db)
{
	int rc = aiplat_db_exec(db, "BEGIN", 0, NULL);
	if (rc || !db->identity.acting)
		return rc;
	/* Act for a person: transaction-local settings read by the policies'
	 * helper functions. They are SET LOCAL commands (not set_config) so that
	 * on a Citus cluster they reach the workers too (propagate_set_commands;
	 * a harmless placeholder elsewhere). The values are uuids resolved by
	 * the database, checked here again before they are quoted. On the
	 * owner's connection the role switches to aiplat_app so the policies
	 * apply, before propagation is on: Citus connects to the workers as the
	 * current role anyway, and a role switch forwarded to them would hold
	 * inside SECURITY DEFINER functions too. A mapped login role is subject
	 * to the policies already (it is a member of aiplat_app) and stays
	 * itself, as the workers know people by it. */
	if (!valid_uuid_text(db->identity.user_id) ||
	    (db->identity.org_id[0] && !valid_uuid_text(db->identity.org_id))) {
		aiplat_db_rollback(db);
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_ACCESS, "malformed identity");
	}
	/* Two messages: Citus forwards a SET LOCAL as the whole query string it
	 * came in, so the role switch must not share one with them. */
	if (!db->identity.via_login_role)
		rc = aiplat_db_exec(db, "SET LOCAL ROLE aiplat_app", 0, NULL);
	char sql[400];
	snprintf(sql, sizeof(sql),
	         "SET LOCAL citus.propagate_set_commands = 'local';"
	         "SET LOCAL aiplat.user_id = '%s';"
	         "SET LOCAL aiplat.org_id = '%s';",
	         db->identity.user_id, db->identity.org_id);
	if (!rc)
		rc = aiplat_db_exec_script(db, sql);
	if (rc) {
		aiplat_db_rollback(db);
		aiplat_error_prefix("cannot act as %s", db->identity.email);
	}
	return rc;
}

int aiplat_db_begin_audited(aiplat_db *db, const char *action)
{
	int rc = aiplat_db_begin(db);
	if (rc)
		return rc;
	const char *params[1] = { action };
	if ((rc = aiplat_db_exec(db, "SELECT set_config('aiplat.audit_action', $1, true)", 1,
	                         params)) != 0)
		aiplat_db_rollback(db);
	return rc;
}

int aiplat_db_commit(aiplat_db *db)
{
	return aiplat_db_exec(db, "COMMIT", 0, NULL);
}

int aiplat_db_rollback(aiplat_db *db)
{
	/* Keep the error that made us roll back. */
	aiplat_error saved = *aiplat_error_last();
	PGresult *res = PQexec(db->conn, "ROLLBACK");
	PQclear(res);
	aiplat_error_restore(&saved);
	return 0;
}

/* Column `column` of row 0 into dst ("" for NULL). */
static void copy_field(char *dst, size_t size, const PGresult *res, const char *column)
{
	const char *v = aiplat_db_field(res, 0, column);
	snprintf(dst, size, "%s", v ? v : "");
}

int aiplat_identity_resolve(aiplat_db *db, aiplat_identity *out, const char *as_email,
                            const char *org_slug)
{
	const char *params[2] = { as_email && *as_email ? as_email : NULL,
	                          org_slug && *org_slug ? org_slug : NULL };
	PGresult *res;
	memset(out, 0, sizeof(*out));
	int rc = aiplat_db_query(db, &res,
		"SELECT user_id, email, is_superadmin, via_login_role, org_id, org_slug"
		"  FROM aiplat.resolve_identity($1, $2)", 2, params);
	if (rc)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_ACCESS,
		                        "resolve_identity returned no row");
	}
	copy_field(out->user_id, sizeof(out->user_id), res, "user_id");
	copy_field(out->email, sizeof(out->email), res, "email");
	const char *super = aiplat_db_field(res, 0, "is_superadmin");
	const char *login = aiplat_db_field(res, 0, "via_login_role");
	out->is_superadmin = super && !strcmp(super, "t");
	out->via_login_role = login && !strcmp(login, "t");
	copy_field(out->org_id, sizeof(out->org_id), res, "org_id");
	copy_field(out->org_slug, sizeof(out->org_slug), res, "org_slug");
	out->acting = out->user_id[0] != '\0';
	PQclear(res);
	return 0;
}

void aiplat_db_set_identity(aiplat_db *db, const aiplat_identity *who)
{
	if (who)
		db->identity = *who;
	else
		memset(&db->identity, 0, sizeof(db->identity));
}

const aiplat_identity *aiplat_db_identity(const aiplat_db *db)
{
	return &db->identity;
}

/* ---- statements as the identity ------------------------------------------------------ */

/* Whether the statement needs a transaction of its own to run as the identity. */
static bool needs_own_transaction(aiplat_db *db)
{
	return db->identity.acting && !aiplat_db_in_transaction(db);
}

int aiplat_db_query_as(aiplat_db *db, PGresult **out, const char *sql, int nparams,
                       const char *const *params)
{
	*out = NULL;
	if (!needs_own_transaction(db))
		return aiplat_db_query(db, out, sql, nparams, params);
	int rc = aiplat_db_begin(db);
	if (rc)
		return rc;
	rc = aiplat_db_end(db, aiplat_db_query(db, out, sql, nparams, params));
	if (rc) {
		PQclear(*out);
		*out = NULL;
	}
	return rc;
}

int aiplat_db_query_table_as(aiplat_db *db, aiplat_table **out, const char *sql, int nparams,
                             const char *const *params)
{
	*out = NULL;
	PGresult *res;
	int rc = aiplat_db_query_as(db, &res, sql, nparams, params);
	return rc ? rc : take_table(res, out);
}

int aiplat_db_query_value_as(aiplat_db *db, char **out, const char *sql, int nparams,
                             const char *const *params)
{
	*out = NULL;
	PGresult *res;
	int rc = aiplat_db_query_as(db, &res, sql, nparams, params);
	return rc ? rc : take_value(res, out);
}

const char *aiplat_db_field(const PGresult *res, int row, const char *column)
{
	int col = PQfnumber(res, column);
	assert(col >= 0 && "the statement returns no such column");
	if (col < 0 || row >= PQntuples(res) || PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

int aiplat_db_end(aiplat_db *db, int rc)
{
	if (rc) {
		aiplat_db_rollback(db);
		return rc;
	}
	return aiplat_db_commit(db);
}
