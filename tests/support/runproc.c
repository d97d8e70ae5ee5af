/* Child processes for tests: run the binary, capture what it says. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "runproc.h"

char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			char *p = realloc(buf, cap);
			if (!p) {
				free(buf);
				buf = NULL;
			}
			buf = p;
		}
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

char *make_temp_dir(void)
{
	char tmpl[] = "/tmp/aiplat-t-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

void rm_rf(const char *path)
{
	if (!path || strncmp(path, "/tmp/", 5) != 0)
		return;   /* never anything outside /tmp */
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", path, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
}

static void apply_env(const char *const *env)
{
	setenv("NO_COLOR", "1", 1);
	for (const char *const *e = env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(eq - *e), *e);
		if (eq[1])
			setenv(name, eq + 1, 1);
		else
			unsetenv(name);
	}
}

static void exec_child(const char *const *env, const char *const *argv, int in_fd, int out_fd,
                       int err_fd)
{
	if (in_fd >= 0)
		dup2(in_fd, 0);
	dup2(out_fd, 1);
	dup2(err_fd, 2);
	apply_env(env);
	size_t n = 0;
	while (argv[n])
		n++;
	char **args = calloc(n + 2, sizeof(char *));
	args[0] = (char *)AIPLAT_TEST_BINARY;
	for (size_t i = 0; i < n; i++)
		args[i + 1] = (char *)argv[i];
	execv(AIPLAT_TEST_BINARY, args);
	dprintf(2, "cannot run %s: %s\n", AIPLAT_TEST_BINARY, strerror(errno));
	_exit(127);
}

static int temp_file(char *path, size_t size, const char *what)
{
	snprintf(path, size, "/tmp/aiplat-%s-XXXXXX", what);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	return fd;
}

static int wait_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void run_aiplat_argv(run_result *r, const char *input, const char *const *env,
                     const char *const *argv)
{
	char in_path[64], out_path[64], err_path[64];
	int in_fd = -1;
	if (input) {
		in_fd = temp_file(in_path, sizeof(in_path), "in");
		assert_int_equal(write(in_fd, input, strlen(input)), (ssize_t)strlen(input));
		lseek(in_fd, 0, SEEK_SET);
	}
	int out_fd = temp_file(out_path, sizeof(out_path), "out");
	int err_fd = temp_file(err_path, sizeof(err_path), "err");
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		exec_child(env, argv, input ? in_fd : open("/dev/null", O_RDONLY), out_fd, err_fd);
	r->status = wait_status(pid);
	close(out_fd);
	close(err_fd);
	r->out = read_file(out_path);
	r->err = read_file(err_path);
	unlink(out_path);
	unlink(err_path);
	if (input) {
		close(in_fd);
		unlink(in_path);
	}
	assert_non_null(r->out);
	assert_non_null(r->err);
}

void run_aiplat(run_result *r, const char *input, const char *const *env, ...)
{
	const char *argv[64];
	size_t n = 0;
	va_list ap;
	va_start(ap, env);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && n < 63)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	run_aiplat_argv(r, input, env, argv);
}

void run_result_free(run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

void run_aiplat_db(run_result *r, const char *url, const char *input, const char *const *env,
                   const char *const *args)
{
	const char *argv[128] = { "--db", url };
	int n = 2;
	for (int i = 0; args[i]; i++) {
		assert_true(n < 127);
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	run_aiplat_argv(r, input, env, argv);
}

void expect_exit(run_result *r, int status, const char *what)
{
	if (r->status == status)
		return;
	char msg[2048];
	snprintf(msg, sizeof(msg), "%s: exit %d, expected %d\nstdout: %.800s\nstderr: %.800s", what,
	         r->status, status, r->out ? r->out : "", r->err ? r->err : "");
	run_result_free(r);
	fail_msg("%s", msg);
}

void run_aiplat_start(run_async *a, const char *const *env, const char *const *argv)
{
	int out_fd = temp_file(a->out_path, sizeof(a->out_path), "out");
	int err_fd = temp_file(a->err_path, sizeof(a->err_path), "err");
	fflush(NULL);
	a->pid = fork();
	assert_true(a->pid >= 0);
	if (a->pid == 0)
		exec_child(env, argv, open("/dev/null", O_RDONLY), out_fd, err_fd);
	close(out_fd);
	close(err_fd);
}

char *run_async_stderr(const run_async *a)
{
	char *s = read_file(a->err_path);
	return s ? s : strdup("");
}

void run_aiplat_wait(run_async *a, run_result *r)
{
	r->status = wait_status(a->pid);
	r->out = read_file(a->out_path);
	r->err = read_file(a->err_path);
	unlink(a->out_path);
	unlink(a->err_path);
	assert_non_null(r->out);
	assert_non_null(r->err);
}
