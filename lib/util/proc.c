/* fork/exec helpers for running PostgreSQL's tools. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "aiplat/error.h"
#include "util/proc.h"

int aiplat_account_lookup(aiplat_account *out, const char *name)
{
	memset(out, 0, sizeof(*out));
	struct passwd *pw = getpwnam(name);
	if (!pw)
		return aiplat_error_set(AIPLAT_ENOTFOUND, AIPLAT_ERRCLASS_OS, "no account named %s", name);
	out->switch_user = true;
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	snprintf(out->name, sizeof(out->name), "%s", pw->pw_name);
	snprintf(out->home, sizeof(out->home), "%s", pw->pw_dir ? pw->pw_dir : "/");
	return 0;
}

int aiplat_run(const char *const argv[], const aiplat_account *who, const char *cwd,
               const char *logpath, int *status)
{
	int logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0)
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_OS, "cannot open %s: %s",
		                        logpath, strerror(errno));
	if (who && who->switch_user && fchown(logfd, who->uid, who->gid) != 0) {
		/* Not fatal: the child writes through the inherited descriptor. */
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(logfd);
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_OS, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		if (who && who->switch_user) {
			if (setgroups(0, NULL) != 0 || setgid(who->gid) != 0 || setuid(who->uid) != 0) {
				dprintf(2, "aiplat: cannot switch to account %s: %s\n", who->name,
				        strerror(errno));
				_exit(127);
			}
			setenv("HOME", who->home, 1);
			setenv("USER", who->name, 1);
			setenv("LOGNAME", who->name, 1);
		}
		if (cwd && chdir(cwd) != 0) {
			dprintf(2, "aiplat: cannot enter %s: %s\n", cwd, strerror(errno));
			_exit(127);
		}
		/* PostgreSQL's tools pick these up and would override our flags. */
		unsetenv("PGDATA");
		unsetenv("PGPORT");
		unsetenv("PGHOST");
		execv(argv[0], (char *const *)argv);
		dprintf(2, "aiplat: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(logfd);
	int ws;
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR)
			return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_OS, "waitpid: %s",
			                        strerror(errno));
	}
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return 0;
}

int aiplat_mkdirs(const char *path, mode_t mode)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_OS, "path too long: %s", path);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, mode) != 0 && errno != EEXIST)
				return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_OS,
				                        "cannot create %s: %s", buf, strerror(errno));
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}
