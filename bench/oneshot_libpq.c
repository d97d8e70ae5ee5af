/*
 * oneshot_libpq: the least a program can do to answer `aiplat quota check`:
 * connect, send the statement lib/quota.c sends (one PQexecParams), print
 * the row as TSV, exit. bench/run times it against the aiplat binary.
 *
 *   oneshot_libpq URL ORG_ID USER MODEL TOKENS [MODE]   (MODE: check)
 *   oneshot_libpq --sql                              print the statement
 *
 * Exit status as aiplat's: 0 allowed, 1 denied, 3 no connection, 70 error.
 */
#include <stdio.h>
#include <string.h>
#include <libpq-fe.h>

/* A copy of the statement in aiplat_quota_admit (lib/quota.c). bench/run
 * compares it with what the aiplat binary sends and warns when they part. */
static const char QUOTA_ADMIT_SQL[] =
	"SELECT allowed, reason, organization, user_email AS user, model_name AS model,"
	" used, lim AS limit, resets_at, user_used, user_limit, user_period,"
	" user_resets_at, org_used, org_quota, org_resets_at, requests_today,"
	" request_limit, requests_reset_at, event_id, reservation_id,"
	" round(cost_micro_usd / 1e6, 6) AS cost_usd"
	"  FROM aiplat.quota_admit($1::uuid, $2, $3, $4::bigint, $5, $6::uuid, $7::bigint, $8::bigint,"
	"                          $9::integer, $10, $11::interval, $12::timestamptz, $13::boolean)";

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--sql")) {
		puts(QUOTA_ADMIT_SQL);
		return 0;
	}
	if (argc < 6 || argc > 7) {
		fprintf(stderr, "usage: oneshot_libpq URL ORG_ID USER MODEL TOKENS [MODE]\n"
		                "       oneshot_libpq --sql\n");
		return 2;
	}
	PGconn *conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "oneshot_libpq: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 3;
	}
	/* Parameters 6-12 (event id, tokens in/out, latency, request id, ttl,
	 * time) are NULL and 13 (force) false for a check, as aiplat sends them. */
	const char *params[13] = { argv[2], argv[3], argv[4], argv[5], argc == 7 ? argv[6] : "check",
	                           NULL, NULL, NULL, NULL, NULL, NULL, NULL, "false" };
	PGresult *res = PQexecParams(conn, QUOTA_ADMIT_SQL, 13, NULL, params, NULL, NULL, 0);
	int status = 70;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		int ncols = PQnfields(res);
		for (int c = 0; c < ncols; c++)
			printf("%s%c", PQfname(res, c), c + 1 < ncols ? '\t' : '\n');
		for (int r = 0; r < PQntuples(res); r++)
			for (int c = 0; c < ncols; c++)
				printf("%s%c", PQgetvalue(res, r, c), c + 1 < ncols ? '\t' : '\n');
		status = PQntuples(res) == 1 && !strcmp(PQgetvalue(res, 0, 0), "t") ? 0 : 1;
	} else {
		fprintf(stderr, "oneshot_libpq: %s", PQerrorMessage(conn));
	}
	PQclear(res);
	PQfinish(conn);
	return status;
}
