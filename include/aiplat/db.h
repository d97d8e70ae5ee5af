/*
 * Database access: where to connect, the connection handle, parameterised
 * statements, transactions, and acting for a person under row-level security.
 *
 * Every value travels as a bound parameter. Identity settings are always
 * transaction-local (SET LOCAL, validated uuids), so they never leak between
 * transactions, and they reach Citus workers (DESIGN.md sections 4 and 10).
 */
#ifndef AIPLAT_DB_H
#define AIPLAT_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>
#include "aiplat/table.h"

typedef struct aiplat_db aiplat_db;

int aiplat_db_connect(aiplat_db **out, const char *conninfo, const char *application_name);
void aiplat_db_close(aiplat_db *db);
PGconn *aiplat_db_pg(aiplat_db *db);

/* Runs a statement; params are text values, NULL for SQL NULL. */
int aiplat_db_exec(aiplat_db *db, const char *sql, int nparams, const char *const *params);
/* Runs a query and hands the result to the caller (PQclear it). */
int aiplat_db_query(aiplat_db *db, PGresult **out, const char *sql, int nparams,
                    const char *const *params);
int aiplat_db_query_table(aiplat_db *db, aiplat_table **out, const char *sql, int nparams,
                          const char *const *params);
/* First column of the first row as a malloc'd string; *out NULL when no row or NULL. */
int aiplat_db_query_value(aiplat_db *db, char **out, const char *sql, int nparams,
                          const char *const *params);
/*
 * The same, as the connection's identity: outside a transaction, a person
 * gets one of their own around the statement (so row-level security and
 * the identity settings apply); the platform runs the bare statement.
 */
int aiplat_db_query_as(aiplat_db *db, PGresult **out, const char *sql, int nparams,
                       const char *const *params);
int aiplat_db_query_table_as(aiplat_db *db, aiplat_table **out, const char *sql, int nparams,
                             const char *const *params);
int aiplat_db_query_value_as(aiplat_db *db, char **out, const char *sql, int nparams,
                             const char *const *params);

/* Runs several statements without parameters (migration files, seed scripts). */
int aiplat_db_exec_script(aiplat_db *db, const char *sql);

/* Records a failed result as the last error (message, SQLSTATE, code). */
int aiplat_db_error_from_result(const PGresult *res, PGconn *conn);
/* A field of a result by column name: NULL for SQL NULL. A name the
 * statement does not return is a bug: it asserts in debug builds and reads
 * as NULL otherwise. */
const char *aiplat_db_field(const PGresult *res, int row, const char *column);

int aiplat_db_begin(aiplat_db *db);
/* Begins a transaction whose row changes are audited under `action`
 * (e.g. "model.enable") instead of the default <table>.<operation>. */
int aiplat_db_begin_audited(aiplat_db *db, const char *action);
int aiplat_db_commit(aiplat_db *db);
/* Ends a transaction: commits when rc is 0, else rolls back; returns the outcome. */
int aiplat_db_end(aiplat_db *db, int rc);
int aiplat_db_rollback(aiplat_db *db);
bool aiplat_db_in_transaction(aiplat_db *db);

/*
 * Who a command acts for. With no person (platform mode) the connection's
 * own role works on the tables directly; acting for a person switches to
 * the non-owner role aiplat_app inside each transaction, so row-level
 * security decides what is visible.
 */
typedef struct aiplat_identity {
	bool acting;             /* true: a person; false: the platform itself */
	bool via_login_role;     /* the connection's login role is mapped to a user */
	bool is_superadmin;
	char user_id[37];        /* empty when none */
	char email[256];
	char org_id[37];         /* empty when no organisation was chosen */
	char org_slug[128];
} aiplat_identity;

/*
 * Resolves --as EMAIL and --org SLUG against the database (either may be
 * NULL). A connection whose login role is mapped to a user is that user, and
 * may impersonate someone else only when that user is a superadmin
 * (AIPLAT_EPERM otherwise).
 */
int aiplat_identity_resolve(aiplat_db *db, aiplat_identity *out, const char *as_email,
                            const char *org_slug);
/* Makes this connection act as `who` from now on (NULL: the platform). */
void aiplat_db_set_identity(aiplat_db *db, const aiplat_identity *who);
const aiplat_identity *aiplat_db_identity(const aiplat_db *db);

#endif
