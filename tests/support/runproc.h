/* Running the aiplat binary from tests, capturing its output. */
#ifndef AIPLAT_RUNPROC_H
#define AIPLAT_RUNPROC_H

#include <sys/types.h>

typedef struct run_result {
	int status;     /* exit status, or 128+signal */
	char *out;      /* stdout, NUL-terminated */
	char *err;      /* stderr */
} run_result;

/*
 * Runs the aiplat binary under test with the NULL-terminated arguments,
 * feeding `input` (may be NULL) on stdin. `env` is a NULL-terminated list of
 * NAME=VALUE to set, or NAME= to unset (may be NULL). The child inherits the
 * rest of the environment, with NO_COLOR=1.
 */
void run_aiplat(run_result *r, const char *input, const char *const *env, ...)
	__attribute__((sentinel));
void run_aiplat_argv(run_result *r, const char *input, const char *const *env,
                     const char *const *argv);
void run_result_free(run_result *r);
/* The same with "--db url" in front of args (a NULL-terminated list). */
void run_aiplat_db(run_result *r, const char *url, const char *input, const char *const *env,
                   const char *const *args);
/* Fails the test, showing both outputs, unless the exit status is `status`
 * (the outputs are freed first, so a failure reports no leak). */
void expect_exit(run_result *r, int status, const char *what);

/* Starts aiplat without waiting; its stdout and stderr go to temp files. */
typedef struct run_async {
	pid_t pid;
	char out_path[64];
	char err_path[64];
} run_async;
void run_aiplat_start(run_async *a, const char *const *env, const char *const *argv);
/* Waits for it and collects the result. */
void run_aiplat_wait(run_async *a, run_result *r);
/* Reads what the process has written to stderr so far (malloc'd). */
char *run_async_stderr(const run_async *a);

/* A fresh temporary directory (malloc'd path); removed by rm_rf. */
char *make_temp_dir(void);
void rm_rf(const char *path);
/* Whole file contents (malloc'd) or NULL. */
char *read_file(const char *path);
void write_file(const char *path, const char *text);

#endif
