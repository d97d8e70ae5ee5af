/* Session-level advisory locks taken without blocking inside a transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "aiplat/error.h"
#include "aiplat/log.h"
#include "locks.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int aiplat_lock_acquire(aiplat_db *db, int key, double timeout_s, const char *what,
                        void (*on_wait)(void *ctx), void *ctx)
{
	char cls[16], k[16];
	snprintf(cls, sizeof(cls), "%d", AIPLAT_LOCK_CLASS);
	snprintf(k, sizeof(k), "%d", key);
	const char *params[2] = { cls, k };
	double start = now_s();
	long delay_ms = 50;
	bool waited = false;
	for (;;) {
		char *got = NULL;
		int rc = aiplat_db_query_value(db, &got,
			"SELECT pg_try_advisory_lock($1::int, $2::int)", 2, params);
		if (rc)
			return rc;
		bool ok = got && strcmp(got, "t") == 0;
		free(got);
		if (ok)
			return 0;
		if (!waited && timeout_s > 0) {
			waited = true;
			aiplat_log(AIPLAT_LOG_INFO, "waiting for the %s lock held by another run", what);
			if (on_wait)
				on_wait(ctx);
		}
		double elapsed = now_s() - start;
		if (elapsed >= timeout_s) {
			if (timeout_s > 0)
				aiplat_error_set(AIPLAT_EBUSY, AIPLAT_ERRCLASS_DB,
				                 "another %s run holds the lock (waited %.1fs)", what, elapsed);
			else
				aiplat_error_set(AIPLAT_EBUSY, AIPLAT_ERRCLASS_DB,
				                 "another %s run holds the lock", what);
			return aiplat_error_set_field("lock_timeout", NULL);
		}
		double left_ms = (timeout_s - elapsed) * 1000.0;
		long sleep_ms = delay_ms < left_ms ? delay_ms : (long)left_ms + 1;
		struct timespec ts = { sleep_ms / 1000, (sleep_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		if (delay_ms < 500)
			delay_ms *= 2;
	}
}

void aiplat_lock_release(aiplat_db *db, int key)
{
	char cls[16], k[16];
	snprintf(cls, sizeof(cls), "%d", AIPLAT_LOCK_CLASS);
	snprintf(k, sizeof(k), "%d", key);
	const char *params[2] = { cls, k };
	aiplat_error saved = *aiplat_error_last();
	aiplat_db_exec(db, "SELECT pg_advisory_unlock($1::int, $2::int)", 2, params);
	aiplat_error_restore(&saved);
}
