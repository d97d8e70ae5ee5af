/*
 * Error model of libaiplat.
 *
 * Every fallible function returns 0 on success or a negative aiplat_err code
 * and records details in a thread-local "last error": a message, an optional
 * hint, the subsystem (class), and when relevant the SQLSTATE of the database
 * error or the HTTP status of a provider response. The library never prints
 * and never exits; the front end (cmd/exit.h) turns codes into exit
 * statuses.
 */
#ifndef AIPLAT_ERROR_H
#define AIPLAT_ERROR_H

#include <stdarg.h>

typedef enum aiplat_err {
	AIPLAT_OK        = 0,
	AIPLAT_ENEGATIVE = -1,  /* a negative answer: denied, drift found, no match */
	AIPLAT_EUSAGE    = -2,  /* the caller used the interface wrongly */
	AIPLAT_ECONNECT  = -3,  /* cannot reach the database */
	AIPLAT_EPROVIDER = -4,  /* AI provider or HTTP failure */
	AIPLAT_EINVALID  = -5,  /* invalid input data; nothing was written */
	AIPLAT_EPERM     = -6,  /* permission denied */
	AIPLAT_EBUSY     = -7,  /* a lock is held by another run; try later */
	AIPLAT_ENOTFOUND = -8,  /* the named object does not exist */
	AIPLAT_EEXISTS   = -9,  /* the object already exists */
	AIPLAT_EINTERNAL = -70, /* a bug, an unexpected database error, no memory */
} aiplat_err;

typedef enum aiplat_error_class {
	AIPLAT_ERRCLASS_NONE = 0,
	AIPLAT_ERRCLASS_OS,       /* files, processes, system calls */
	AIPLAT_ERRCLASS_NOMEMORY,
	AIPLAT_ERRCLASS_DB,       /* libpq and server errors */
	AIPLAT_ERRCLASS_MIGRATE,
	AIPLAT_ERRCLASS_CONFIG,   /* connection settings, environment */
	AIPLAT_ERRCLASS_INPUT,    /* validation of user-supplied data */
	AIPLAT_ERRCLASS_ACCESS,   /* identity and permissions */
	AIPLAT_ERRCLASS_QUOTA,
	AIPLAT_ERRCLASS_PROVIDER,
	AIPLAT_ERRCLASS_INTERNAL,
} aiplat_error_class;

typedef struct aiplat_error {
	int code;                  /* an aiplat_err value */
	aiplat_error_class klass;
	char message[1024];
	char hint[512];            /* empty when there is nothing to suggest */
	char sqlstate[6];          /* empty unless the error came from PostgreSQL */
	int http_status;           /* 0 unless the error came from an HTTP peer */
	char provider_error[32];   /* AI providers: a stable kind (see aiplat/provider.h), else empty */
	char request_id[128];      /* AI providers: the provider's request id, when it sent one */
	int sql_position;          /* 1-based character offset into the statement, or 0 */
	/* The input the error is about, in the API's words: a parameter or field
	 * name ("org", "user", "model", "force", "lock_timeout", "sort"). A front
	 * end names its own way of giving it (a flag, a form field); empty when
	 * the error is about no one input. */
	char field[48];
	char value[128];           /* the value concerned, when the field names one */
} aiplat_error;

/* The last error recorded on this thread (code AIPLAT_OK when none). */
const aiplat_error *aiplat_error_last(void);
void aiplat_error_clear(void);
/* Puts back an error saved earlier (for cleanup paths that must not lose it). */
void aiplat_error_restore(const aiplat_error *saved);

/* Records an error and returns code, so callers can `return aiplat_error_set(...)`. */
int aiplat_error_set(int code, aiplat_error_class klass, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int aiplat_error_vset(int code, aiplat_error_class klass, const char *fmt, va_list ap);
/* Adds a hint to the current error; returns the current error's code. */
int aiplat_error_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prefixes the current message with context ("reading foo.sql: ..."). */
int aiplat_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void aiplat_error_set_sqlstate(const char *sqlstate);
void aiplat_error_set_http_status(int status);
/* For AI provider failures: the stable kind and the provider's request id. */
void aiplat_error_set_provider(const char *kind, const char *request_id);
void aiplat_error_set_sql_position(int position);
/* Names the input the current error is about (and the value concerned, or
 * NULL); returns the current code. */
int aiplat_error_set_field(const char *field, const char *value);

/* Maps a SQLSTATE to the aiplat_err code that describes it best. */
int aiplat_err_from_sqlstate(const char *sqlstate);

/* "not_found", "busy", ...: a stable name for the code (JSON error output). */
const char *aiplat_err_name(int code);

#endif
