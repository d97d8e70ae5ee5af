/* Unit tests for lib/error.c: exit statuses, SQLSTATE mapping, the
 * thread-local last error and its helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "aiplat/error.h"
#include "exit.h"

static int clear_error(void **state)
{
	(void)state;
	aiplat_error_clear();
	return 0;
}

/* ---- exit statuses ------------------------------------------------------- */

static void test_exit_code_each_error(void **state)
{
	(void)state;
	assert_int_equal(cli_exit_status(AIPLAT_OK), 0);
	assert_int_equal(cli_exit_status(AIPLAT_ENEGATIVE), 1);
	assert_int_equal(cli_exit_status(AIPLAT_EUSAGE), 2);
	assert_int_equal(cli_exit_status(AIPLAT_ECONNECT), 3);
	assert_int_equal(cli_exit_status(AIPLAT_EPROVIDER), 4);
	assert_int_equal(cli_exit_status(AIPLAT_EINVALID), 5);
	assert_int_equal(cli_exit_status(AIPLAT_EPERM), 6);
	assert_int_equal(cli_exit_status(AIPLAT_EBUSY), 7);
	assert_int_equal(cli_exit_status(AIPLAT_EINTERNAL), 70);
}

static void test_exit_code_folded_errors(void **state)
{
	(void)state;
	/* "does not exist" is a negative answer; "already exists" is bad input. */
	assert_int_equal(cli_exit_status(AIPLAT_ENOTFOUND), CLI_EXIT_NEGATIVE);
	assert_int_equal(cli_exit_status(AIPLAT_EEXISTS), CLI_EXIT_INVALID);
}

static void test_exit_code_unknown_codes_are_internal(void **state)
{
	(void)state;
	assert_int_equal(cli_exit_status(-10), 70);
	assert_int_equal(cli_exit_status(-69), 70);
	assert_int_equal(cli_exit_status(-1000), 70);
	assert_int_equal(cli_exit_status(1), 70);
}

static void test_exit_enum_values(void **state)
{
	(void)state;
	/* The documented statuses are part of the interface. */
	assert_int_equal(CLI_EXIT_OK, 0);
	assert_int_equal(CLI_EXIT_NEGATIVE, 1);
	assert_int_equal(CLI_EXIT_USAGE, 2);
	assert_int_equal(CLI_EXIT_DB, 3);
	assert_int_equal(CLI_EXIT_PROVIDER, 4);
	assert_int_equal(CLI_EXIT_INVALID, 5);
	assert_int_equal(CLI_EXIT_PERMISSION, 6);
	assert_int_equal(CLI_EXIT_BUSY, 7);
	assert_int_equal(CLI_EXIT_INTERNAL, 70);
}

/* ---- SQLSTATE mapping ------------------------------------------------------ */

static void test_sqlstate_connection(void **state)
{
	(void)state;
	assert_int_equal(aiplat_err_from_sqlstate("08006"), AIPLAT_ECONNECT);
	assert_int_equal(aiplat_err_from_sqlstate("08001"), AIPLAT_ECONNECT);
	assert_int_equal(aiplat_err_from_sqlstate("57P01"), AIPLAT_ECONNECT); /* admin shutdown */
	assert_int_equal(aiplat_err_from_sqlstate("53300"), AIPLAT_ECONNECT); /* too many conns */
}

static void test_sqlstate_permission(void **state)
{
	(void)state;
	assert_int_equal(aiplat_err_from_sqlstate("42501"), AIPLAT_EPERM);
	assert_int_equal(aiplat_err_from_sqlstate("28P01"), AIPLAT_EPERM); /* bad password */
}

static void test_sqlstate_exists_and_invalid(void **state)
{
	(void)state;
	assert_int_equal(aiplat_err_from_sqlstate("23505"), AIPLAT_EEXISTS);
	assert_int_equal(aiplat_err_from_sqlstate("23503"), AIPLAT_EINVALID); /* foreign key */
	assert_int_equal(aiplat_err_from_sqlstate("23514"), AIPLAT_EINVALID); /* check */
	assert_int_equal(aiplat_err_from_sqlstate("22P02"), AIPLAT_EINVALID); /* bad text repr */
	assert_int_equal(aiplat_err_from_sqlstate("42601"), AIPLAT_EINVALID); /* syntax error */
	assert_int_equal(aiplat_err_from_sqlstate("42P01"), AIPLAT_EINVALID); /* undefined table */
}

static void test_sqlstate_busy(void **state)
{
	(void)state;
	assert_int_equal(aiplat_err_from_sqlstate("55P03"), AIPLAT_EBUSY); /* lock not available */
	assert_int_equal(aiplat_err_from_sqlstate("40001"), AIPLAT_EBUSY); /* serialization */
	assert_int_equal(aiplat_err_from_sqlstate("40P01"), AIPLAT_EBUSY); /* deadlock */
	assert_int_equal(aiplat_err_from_sqlstate("57014"), AIPLAT_EBUSY); /* query cancelled */
}

static void test_sqlstate_not_found(void **state)
{
	(void)state;
	assert_int_equal(aiplat_err_from_sqlstate("P0002"), AIPLAT_ENOTFOUND); /* no data found */
	assert_int_equal(aiplat_err_from_sqlstate("3D000"), AIPLAT_ENOTFOUND); /* no database */
	assert_int_equal(aiplat_err_from_sqlstate("42704"), AIPLAT_ENOTFOUND); /* undefined object */
}

static void test_sqlstate_internal(void **state)
{
	(void)state;
	assert_int_equal(aiplat_err_from_sqlstate("XX000"), AIPLAT_EINTERNAL);
	assert_int_equal(aiplat_err_from_sqlstate("P0001"), AIPLAT_EINTERNAL); /* raise_exception */
	assert_int_equal(aiplat_err_from_sqlstate(NULL), AIPLAT_EINTERNAL);
	assert_int_equal(aiplat_err_from_sqlstate("bad"), AIPLAT_EINTERNAL);
	assert_int_equal(aiplat_err_from_sqlstate(""), AIPLAT_EINTERNAL);
	/* Six characters is not a SQLSTATE, even with a known prefix. */
	assert_int_equal(aiplat_err_from_sqlstate("235050"), AIPLAT_EINTERNAL);
}

/* ---- the last error ------------------------------------------------------- */

static void test_error_clear_state(void **state)
{
	(void)state;
	aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "x");
	aiplat_error_hint("h");
	aiplat_error_set_sqlstate("22P02");
	aiplat_error_set_http_status(503);
	aiplat_error_set_sql_position(4);
	aiplat_error_clear();
	const aiplat_error *e = aiplat_error_last();
	assert_int_equal(e->code, AIPLAT_OK);
	assert_int_equal(e->klass, AIPLAT_ERRCLASS_NONE);
	assert_string_equal(e->message, "");
	assert_string_equal(e->hint, "");
	assert_string_equal(e->sqlstate, "");
	assert_int_equal(e->http_status, 0);
	assert_int_equal(e->sql_position, 0);
}

static void test_error_set_formats_and_returns_code(void **state)
{
	(void)state;
	int rc = aiplat_error_set(AIPLAT_EBUSY, AIPLAT_ERRCLASS_MIGRATE, "lock %s held by pid %d",
	                          "m", 42);
	assert_int_equal(rc, AIPLAT_EBUSY);
	const aiplat_error *e = aiplat_error_last();
	assert_int_equal(e->code, AIPLAT_EBUSY);
	assert_int_equal(e->klass, AIPLAT_ERRCLASS_MIGRATE);
	assert_string_equal(e->message, "lock m held by pid 42");
}

static void test_error_set_resets_previous_details(void **state)
{
	(void)state;
	aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_DB, "first");
	aiplat_error_hint("first hint");
	aiplat_error_set_sqlstate("42501");
	aiplat_error_set_http_status(403);
	aiplat_error_set_sql_position(7);
	aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "second");
	const aiplat_error *e = aiplat_error_last();
	assert_int_equal(e->code, AIPLAT_EINVALID);
	assert_string_equal(e->message, "second");
	assert_string_equal(e->hint, "");
	assert_string_equal(e->sqlstate, "");
	assert_int_equal(e->http_status, 0);
	assert_int_equal(e->sql_position, 0);
}

static void test_error_set_truncates_long_message(void **state)
{
	(void)state;
	char big[3000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_INTERNAL, "%s", big);
	const aiplat_error *e = aiplat_error_last();
	assert_int_equal(strlen(e->message), sizeof(e->message) - 1);
	assert_int_equal(e->message[0], 'a');
}

static int call_vset(int code, aiplat_error_class klass, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int call_vset(int code, aiplat_error_class klass, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = aiplat_error_vset(code, klass, fmt, ap);
	va_end(ap);
	return rc;
}

static void test_error_vset(void **state)
{
	(void)state;
	aiplat_error_hint("stale hint");
	assert_int_equal(call_vset(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_CONFIG, "%d-%s", 7, "x"),
	                 AIPLAT_EUSAGE);
	const aiplat_error *e = aiplat_error_last();
	assert_int_equal(e->code, AIPLAT_EUSAGE);
	assert_int_equal(e->klass, AIPLAT_ERRCLASS_CONFIG);
	assert_string_equal(e->message, "7-x");
	assert_string_equal(e->hint, "");
}

static void test_error_hint(void **state)
{
	(void)state;
	aiplat_error_set(AIPLAT_ECONNECT, AIPLAT_ERRCLASS_CONFIG, "no database");
	int rc = aiplat_error_hint("try %s", "aiplat dev start");
	assert_int_equal(rc, AIPLAT_ECONNECT);
	const aiplat_error *e = aiplat_error_last();
	assert_string_equal(e->hint, "try aiplat dev start");
	assert_string_equal(e->message, "no database");
	/* A second hint replaces the first. */
	aiplat_error_hint("other");
	assert_string_equal(e->hint, "other");
}

static void test_error_hint_without_error_returns_ok(void **state)
{
	(void)state;
	assert_int_equal(aiplat_error_hint("lonely"), AIPLAT_OK);
	assert_string_equal(aiplat_error_last()->hint, "lonely");
}

static void test_error_prefix(void **state)
{
	(void)state;
	aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_MIGRATE, "syntax error at line %d", 3);
	aiplat_error_hint("keep me");
	int rc = aiplat_error_prefix("reading %s", "0001_init.sql");
	assert_int_equal(rc, AIPLAT_EINVALID);
	const aiplat_error *e = aiplat_error_last();
	assert_string_equal(e->message, "reading 0001_init.sql: syntax error at line 3");
	assert_string_equal(e->hint, "keep me");
	assert_int_equal(e->code, AIPLAT_EINVALID);
	/* Prefixes nest, outermost first. */
	aiplat_error_prefix("migrate up");
	assert_string_equal(e->message, "migrate up: reading 0001_init.sql: syntax error at line 3");
}

static void test_error_prefix_truncates(void **state)
{
	(void)state;
	char big[1100];
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_INTERNAL, "%s", big);
	aiplat_error_prefix("ctx");
	const aiplat_error *e = aiplat_error_last();
	assert_int_equal(strlen(e->message), sizeof(e->message) - 1);
	assert_memory_equal(e->message, "ctx: mmm", 8);
}

static void test_error_restore(void **state)
{
	(void)state;
	aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS, "denied");
	aiplat_error_hint("ask an admin");
	aiplat_error_set_sqlstate("42501");
	aiplat_error saved = *aiplat_error_last();

	/* Cleanup code fails and overwrites the error... */
	aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_DB, "rollback failed");
	assert_string_equal(aiplat_error_last()->message, "rollback failed");

	/* ...and the original is put back. */
	aiplat_error_restore(&saved);
	const aiplat_error *e = aiplat_error_last();
	assert_int_equal(e->code, AIPLAT_EPERM);
	assert_int_equal(e->klass, AIPLAT_ERRCLASS_ACCESS);
	assert_string_equal(e->message, "denied");
	assert_string_equal(e->hint, "ask an admin");
	assert_string_equal(e->sqlstate, "42501");
}

static void test_error_sqlstate_http_position(void **state)
{
	(void)state;
	aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_DB, "bad");
	aiplat_error_set_sqlstate("42601");
	aiplat_error_set_http_status(429);
	aiplat_error_set_sql_position(17);
	const aiplat_error *e = aiplat_error_last();
	assert_string_equal(e->sqlstate, "42601");
	assert_int_equal(e->http_status, 429);
	assert_int_equal(e->sql_position, 17);
	/* A SQLSTATE is five characters; longer input is cut, NULL empties it. */
	aiplat_error_set_sqlstate("123456789");
	assert_string_equal(e->sqlstate, "12345");
	aiplat_error_set_sqlstate(NULL);
	assert_string_equal(e->sqlstate, "");
}

/* ---- thread locality ---------------------------------------------------------- */

struct thread_view {
	int code_seen;
	char message_seen[64];
	int code_after_set;
};

static void *other_thread(void *arg)
{
	struct thread_view *v = arg;
	const aiplat_error *e = aiplat_error_last();
	v->code_seen = e->code;
	snprintf(v->message_seen, sizeof(v->message_seen), "%s", e->message);
	aiplat_error_set(AIPLAT_EBUSY, AIPLAT_ERRCLASS_OS, "set in the other thread");
	v->code_after_set = aiplat_error_last()->code;
	return NULL;
}

static void test_error_is_thread_local(void **state)
{
	(void)state;
	aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS, "set in the main thread");
	struct thread_view v = { -1, "unset", 0 };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, other_thread, &v), 0);
	assert_int_equal(pthread_join(th, NULL), 0);

	/* The other thread started with a clean slate... */
	assert_int_equal(v.code_seen, AIPLAT_OK);
	assert_string_equal(v.message_seen, "");
	assert_int_equal(v.code_after_set, AIPLAT_EBUSY);
	/* ...and its error did not leak into this thread. */
	assert_int_equal(aiplat_error_last()->code, AIPLAT_EPERM);
	assert_string_equal(aiplat_error_last()->message, "set in the main thread");
}

/* ---- names ---------------------------------------------------------------- */

static void test_err_name(void **state)
{
	(void)state;
	assert_string_equal(aiplat_err_name(AIPLAT_OK), "ok");
	assert_string_equal(aiplat_err_name(AIPLAT_ENEGATIVE), "negative");
	assert_string_equal(aiplat_err_name(AIPLAT_EUSAGE), "usage");
	assert_string_equal(aiplat_err_name(AIPLAT_ECONNECT), "connect");
	assert_string_equal(aiplat_err_name(AIPLAT_EPROVIDER), "provider");
	assert_string_equal(aiplat_err_name(AIPLAT_EINVALID), "invalid");
	assert_string_equal(aiplat_err_name(AIPLAT_EPERM), "permission");
	assert_string_equal(aiplat_err_name(AIPLAT_EBUSY), "busy");
	assert_string_equal(aiplat_err_name(AIPLAT_ENOTFOUND), "not_found");
	assert_string_equal(aiplat_err_name(AIPLAT_EEXISTS), "exists");
	assert_string_equal(aiplat_err_name(AIPLAT_EINTERNAL), "internal");
	assert_string_equal(aiplat_err_name(-42), "internal");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_code_each_error),
		cmocka_unit_test(test_exit_code_folded_errors),
		cmocka_unit_test(test_exit_code_unknown_codes_are_internal),
		cmocka_unit_test(test_exit_enum_values),
		cmocka_unit_test(test_sqlstate_connection),
		cmocka_unit_test(test_sqlstate_permission),
		cmocka_unit_test(test_sqlstate_exists_and_invalid),
		cmocka_unit_test(test_sqlstate_busy),
		cmocka_unit_test(test_sqlstate_not_found),
		cmocka_unit_test(test_sqlstate_internal),
		cmocka_unit_test_setup_teardown(test_error_clear_state, clear_error, clear_error),
		cmocka_unit_test_setup_teardown(test_error_set_formats_and_returns_code, clear_error,
		                                clear_error),
		cmocka_unit_test_setup_teardown(test_error_set_resets_previous_details, clear_error,
		                                clear_error),
		cmocka_unit_test_setup_teardown(test_error_set_truncates_long_message, clear_error,
		                                clear_error),
		cmocka_unit_test_setup_teardown(test_error_vset, clear_error, clear_error),
		cmocka_unit_test_setup_teardown(test_error_hint, clear_error, clear_error),
		cmocka_unit_test_setup_teardown(test_error_hint_without_error_returns_ok, clear_error,
		                                clear_error),
		cmocka_unit_test_setup_teardown(test_error_prefix, clear_error, clear_error),
		cmocka_unit_test_setup_teardown(test_error_prefix_truncates, clear_error, clear_error),
		cmocka_unit_test_setup_teardown(test_error_restore, clear_error, clear_error),
		cmocka_unit_test_setup_teardown(test_error_sqlstate_http_position, clear_error,
		                                clear_error),
		cmocka_unit_test_setup_teardown(test_error_is_thread_local, clear_error, clear_error),
		cmocka_unit_test(test_err_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
