/* The library's log hook. */
#ifndef AIPLAT_LOG_H
#define AIPLAT_LOG_H

/* Log hook: the library reports what it does (never secrets); the caller prints. */
typedef enum aiplat_log_level { AIPLAT_LOG_DEBUG = 0, AIPLAT_LOG_INFO } aiplat_log_level;
typedef void (*aiplat_log_fn)(aiplat_log_level level, const char *msg, void *ctx);
void aiplat_set_log(aiplat_log_fn fn, void *ctx);
void aiplat_log(aiplat_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
