/* Starting, stopping and reading the fake AI provider. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "fakeprov.h"
#include "runproc.h"

void fake_provider_start(fake_provider *fp)
{
	memset(fp, 0, sizeof(*fp));
	char *dir = make_temp_dir();
	snprintf(fp->dir, sizeof(fp->dir), "%s", dir);
	free(dir);
	char port_file[320];
	snprintf(port_file, sizeof(port_file), "%s/port", fp->dir);
	snprintf(fp->log_path, sizeof(fp->log_path), "%s/requests.jsonl", fp->dir);
	fp->pid = fork();
	assert_true(fp->pid >= 0);
	if (fp->pid == 0) {
		execl(AIPLAT_FAKE_PROVIDER, "fake_provider", "--port-file", port_file, "--log", fp->log_path,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		char *port = read_file(port_file);
		if (port && atoi(port) > 0) {
			snprintf(fp->base_url, sizeof(fp->base_url), "http://127.0.0.1:%d/v1", atoi(port));
			free(port);
			return;
		}
		free(port);
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	fail_msg("the fake provider did not start");
}

void fake_provider_stop(fake_provider *fp)
{
	if (fp->pid > 0) {
		kill(fp->pid, SIGTERM);
		waitpid(fp->pid, NULL, 0);
		fp->pid = 0;
	}
	rm_rf(fp->dir);
}

char *fake_provider_log(const fake_provider *fp)
{
	char *text = read_file(fp->log_path);
	return text ? text : strdup("");
}

int fake_provider_requests(const fake_provider *fp, const char *model)
{
	char *text = fake_provider_log(fp);
	int n = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *doc = json_loads(line, 0, NULL);
		const char *m = json_string_value(json_object_get(doc, "model"));
		if (m && !strcmp(m, model))
			n++;
		json_decref(doc);
	}
	free(text);
	return n;
}
