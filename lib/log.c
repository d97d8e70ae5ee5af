/* The library's only voice: a hook the front end may install. */
#include <stdarg.h>
#include <stdio.h>
#include "aiplat/log.h"

static aiplat_log_fn log_fn;
static void *log_ctx;

void aiplat_set_log(aiplat_log_fn fn, void *ctx)
{
	log_fn = fn;
	log_ctx = ctx;
}

void aiplat_log(aiplat_log_level level, const char *fmt, ...)
{
	if (!log_fn)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fn(level, msg, log_ctx);
}
