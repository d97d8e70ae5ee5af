/* Thread-local last error, and the codes SQLSTATEs map to. */
#include <stdio.h>
#include <string.h>
#include "aiplat/error.h"

static _Thread_local aiplat_error last_error;

const aiplat_error *aiplat_error_last(void)
{
	return &last_error;
}

void aiplat_error_clear(void)
{
	memset(&last_error, 0, sizeof(last_error));
}

void aiplat_error_restore(const aiplat_error *saved)
{
	last_error = *saved;
}

int aiplat_error_vset(int code, aiplat_error_class klass, const char *fmt, va_list ap)
{
	aiplat_error_clear();
	last_error.code = code;
	last_error.klass = klass;
	vsnprintf(last_error.message, sizeof(last_error.message), fmt, ap);
	return code;
}

int aiplat_error_set(int code, aiplat_error_class klass, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	aiplat_error_vset(code, klass, fmt, ap);
	va_end(ap);
	return code;
}

int aiplat_error_hint(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error.hint, sizeof(last_error.hint), fmt, ap);
	va_end(ap);
	return last_error.code;
}

int aiplat_error_prefix(const char *fmt, ...)
{
	char prefix[512], old[sizeof(last_error.message)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, last_error.message, sizeof(old));
	snprintf(last_error.message, sizeof(last_error.message), "%s: %s", prefix, old);
	return last_error.code;
}

void aiplat_error_set_sqlstate(const char *sqlstate)
{
	snprintf(last_error.sqlstate, sizeof(last_error.sqlstate), "%s", sqlstate ? sqlstate : "");
}

void aiplat_error_set_sql_position(int position)
{
	last_error.sql_position = position;
}

int aiplat_error_set_field(const char *field, const char *value)
{
	snprintf(last_error.field, sizeof(last_error.field), "%s", field ? field : "");
	snprintf(last_error.value, sizeof(last_error.value), "%s", value ? value : "");
	return last_error.code;
}

void aiplat_error_set_http_status(int status)
{
	last_error.http_status = status;
}

void aiplat_error_set_provider(const char *kind, const char *request_id)
{
	snprintf(last_error.provider_error, sizeof(last_error.provider_error), "%s", kind ? kind : "");
	snprintf(last_error.request_id, sizeof(last_error.request_id), "%s", request_id ? request_id : "");
}

int aiplat_err_from_sqlstate(const char *s)
{
	if (!s || strlen(s) != 5)
		return AIPLAT_EINTERNAL;
	if (!strncmp(s, "08", 2) || !strcmp(s, "57P01") || !strcmp(s, "57P03") ||
	    !strcmp(s, "53300"))
		return AIPLAT_ECONNECT;
	if (!strcmp(s, "42501") || !strncmp(s, "28", 2))
		return AIPLAT_EPERM;
	if (!strcmp(s, "23505"))
		return AIPLAT_EEXISTS;
	if (!strncmp(s, "23", 2) || !strncmp(s, "22", 2))
		return AIPLAT_EINVALID;
	if (!strcmp(s, "55P03") || !strcmp(s, "40001") || !strcmp(s, "40P01") ||
	    !strcmp(s, "57014"))
		return AIPLAT_EBUSY;
	if (!strcmp(s, "P0002") || !strcmp(s, "42704") || !strcmp(s, "3D000"))
		return AIPLAT_ENOTFOUND;
	/* Syntax errors, undefined objects and friends in SQL we were handed
	 * (migration files, seed scripts) are bad input, not our bug. */
	if (!strncmp(s, "42", 2))
		return AIPLAT_EINVALID;
	return AIPLAT_EINTERNAL;
}

const char *aiplat_err_name(int code)
{
	switch (code) {
	case AIPLAT_OK:        return "ok";
	case AIPLAT_ENEGATIVE: return "negative";
	case AIPLAT_EUSAGE:    return "usage";
	case AIPLAT_ECONNECT:  return "connect";
	case AIPLAT_EPROVIDER: return "provider";
	case AIPLAT_EINVALID:  return "invalid";
	case AIPLAT_EPERM:     return "permission";
	case AIPLAT_EBUSY:     return "busy";
	case AIPLAT_ENOTFOUND: return "not_found";
	case AIPLAT_EEXISTS:   return "exists";
	default:               return "internal";
	}
}
