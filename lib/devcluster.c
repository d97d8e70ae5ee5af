/*
 * The development cluster behind `aiplat dev`.
 *
 * Layout under ${XDG_DATA_HOME:-~/.local/share}/aiplat:
 *   pg/            the data directory (initdb), owned by the server account
 *   pg/server.log  the server log
 *   run/           the unix socket directory, mode 0700: only the owner connects
 *   initdb.log, pg_ctl.log   output of the tools, for diagnosis
 *   .lock          serialises concurrent start/stop
 *
 * The server listens on no TCP address. Local connections are trusted, which
 * is safe because nobody else can enter the socket directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <ctype.h>
#include <libpq-fe.h>
#include "aiplat/buf.h"
#include "aiplat/db.h"
#include "aiplat/devcluster.h"
#include "aiplat/error.h"
#include "aiplat/log.h"
#include "util/proc.h"

#define DEV_PORT "5432"

static bool is_executable(const char *dir, const char *prog)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, prog);
	return access(path, X_OK) == 0;
}

static bool has_server_tools(const char *dir)
{
	return is_executable(dir, "initdb") && is_executable(dir, "pg_ctl") &&
	       is_executable(dir, "postgres");
}

/* pg_config --bindir, when it names a directory holding the server tools. */
static bool bindir_from_pg_config(char *out, size_t size)
{
	FILE *p = popen("pg_config --bindir 2>/dev/null", "r");
	if (!p)
		return false;
	char line[4096] = "";
	bool ok = fgets(line, sizeof(line), p) != NULL;
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	if (!ok || !line[0] || !has_server_tools(line))
		return false;
	snprintf(out, size, "%s", line);
	return true;
}

/* Debian keeps server binaries in /usr/lib/postgresql/<major>/bin; take the newest. */
static bool bindir_from_debian(char *out, size_t size)
{
	DIR *d = opendir("/usr/lib/postgresql");
	if (!d)
		return false;
	long best = -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long v = strtol(e->d_name, &end, 10);
		char dir[512];
		snprintf(dir, sizeof(dir), "/usr/lib/postgresql/%s/bin", e->d_name);
		if (end != e->d_name && !*end && v > best && has_server_tools(dir))
			best = v;
	}
	closedir(d);
	if (best < 0)
		return false;
	snprintf(out, size, "/usr/lib/postgresql/%ld/bin", best);
	return true;
}

static bool bindir_from_path(char *out, size_t size)
{
	const char *path = getenv("PATH");
	if (!path)
		return false;
	char *copy = strdup(path), *save = NULL;
	bool found = false;
	for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save))
		if (*dir && has_server_tools(dir)) {
			snprintf(out, size, "%s", dir);
			found = true;
		}
	free(copy);
	return found;
}

static int find_bindir(char *out, size_t size)
{
	const char *env = getenv("AIPLAT_PG_BINDIR");
	if (env && *env) {
		if (!has_server_tools(env))
			return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_CONFIG,
			                        "AIPLAT_PG_BINDIR=%s has no initdb, pg_ctl and postgres", env);
		snprintf(out, size, "%s", env);
		return 0;
	}
	if (bindir_from_pg_config(out, size) || bindir_from_debian(out, size) ||
	    bindir_from_path(out, size))
		return 0;
	aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_CONFIG,
	                 "cannot find the PostgreSQL server programs (initdb, pg_ctl, postgres)");
	return aiplat_error_hint("install postgresql (apt-get install postgresql) or set AIPLAT_PG_BINDIR");
}

static const char *server_account_name(void)
{
	if (geteuid() != 0)
		return NULL;
	const char *env = getenv("AIPLAT_SERVER_USER");
	if (env && *env)
		return env;
	return getpwnam("postgres") ? "postgres" : "nobody";
}

int aiplat_devcluster_locate(aiplat_devcluster *dc)
{
	memset(dc, 0, sizeof(*dc));
	char base[4096];
	const char *xdg = getenv("XDG_DATA_HOME");
	if (xdg && xdg[0] == '/') {
		snprintf(base, sizeof(base), "%s", xdg);
	} else {
		const char *home = getenv("HOME");
		if (!home || !*home) {
			struct passwd *pw = getpwuid(geteuid());
			home = pw ? pw->pw_dir : NULL;
		}
		if (!home)
			return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_CONFIG,
			                        "cannot tell the home directory; set HOME or XDG_DATA_HOME");
		snprintf(base, sizeof(base), "%s/.local/share", home);
	}
	if (strlen(base) > 3000)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_CONFIG, "data path too long");
	snprintf(dc->root, sizeof(dc->root), "%s/aiplat", base);
	snprintf(dc->datadir, sizeof(dc->datadir), "%s/pg", dc->root);
	snprintf(dc->sockdir, sizeof(dc->sockdir), "%s/run", dc->root);
	snprintf(dc->logfile, sizeof(dc->logfile), "%s/server.log", dc->datadir);
	snprintf(dc->dbname, sizeof(dc->dbname), "aiplat");
	snprintf(dc->superuser, sizeof(dc->superuser), "aiplat");
	const char *acct = server_account_name();
	if (acct) {
		snprintf(dc->server_user, sizeof(dc->server_user), "%s", acct);
	} else {
		struct passwd *pw = getpwuid(geteuid());
		snprintf(dc->server_user, sizeof(dc->server_user), "%s", pw ? pw->pw_name : "?");
	}
	return 0;
}

static pid_t read_pid(const aiplat_devcluster *dc)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/postmaster.pid", dc->datadir);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	long pid = 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

aiplat_devcluster_state aiplat_devcluster_state_of(const aiplat_devcluster *dc, pid_t *pidp)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/PG_VERSION", dc->datadir);
	if (access(path, F_OK) != 0)
		return AIPLAT_DEV_ABSENT;
	pid_t pid = read_pid(dc);
	if (pidp)
		*pidp = pid;
	if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)) {
		snprintf(path, sizeof(path), "%s/.s.PGSQL." DEV_PORT, dc->sockdir);
		if (access(path, F_OK) == 0)
			return AIPLAT_DEV_RUNNING;
	}
	return AIPLAT_DEV_STOPPED;
}

/* Serialises start/stop between concurrent `aiplat dev` invocations. */
static int lock_root(const aiplat_devcluster *dc, int *fd)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/.lock", dc->root);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_OS, "cannot open %s: %s", path,
		                        strerror(errno));
	if (flock(*fd, LOCK_EX) != 0) {
		close(*fd);
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_OS, "cannot lock %s: %s", path,
		                        strerror(errno));
	}
	return 0;
}

/*
 * The server account must be able to walk down to its data directory. When
 * we are root and an ancestor (typically /root, mode 0700) is closed to
 * others, open it for traversal only (o+x: enter, not list) and say so.
 */
static int ensure_traversable(const char *path, const aiplat_account *acct)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		struct stat st;
		if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid != acct->uid &&
		    !(st.st_mode & S_IXOTH)) {
			if (chmod(buf, (st.st_mode & 07777) | S_IXOTH) != 0)
				return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_OS,
				                        "cannot let %s traverse %s: %s", acct->name, buf,
				                        strerror(errno));
			aiplat_log(AIPLAT_LOG_INFO,
			           "granted search permission (o+x) on %s so the server account %s can "
			           "reach its data directory", buf, acct->name);
		}
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

static int run_tool(const aiplat_devcluster *dc, const aiplat_account *acct, const char *logname,
                    const char *const argv[], const char *what)
{
	char log[4200];
	snprintf(log, sizeof(log), "%s/%s", dc->root, logname);
	int status = 0;
	int rc = aiplat_run(argv, acct, dc->root, log, &status);
	if (rc)
		return rc;
	if (status != 0) {
		aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_OS, "%s failed (exit status %d)", what,
		                 status);
		return aiplat_error_hint("see %s", log);
	}
	return 0;
}

static int append_config(const aiplat_devcluster *dc)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/postgresql.conf", dc->datadir);
	FILE *f = fopen(path, "a");
	if (!f)
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_OS, "cannot open %s: %s", path,
		                        strerror(errno));
	fprintf(f, "\n# Added by `aiplat dev start`: a private, socket-only server.\n"
	           "listen_addresses = ''\n"
	           "port = " DEV_PORT "\n"
	           "unix_socket_directories = '%s'\n"
	           "unix_socket_permissions = 0700\n", dc->sockdir);
	return fclose(f) == 0 ? 0 : aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_OS,
	                                             "cannot write %s", path);
}

static int chown_to(const char *path, const aiplat_account *acct)
{
	if (acct->switch_user && chown(path, acct->uid, acct->gid) != 0)
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_OS, "cannot chown %s to %s: %s",
		                        path, acct->name, strerror(errno));
	return 0;
}

static int initialise(const aiplat_devcluster *dc, const aiplat_account *acct)
{
	int rc = aiplat_mkdirs(dc->datadir, 0700);
	if (!rc)
		rc = chown_to(dc->datadir, acct);
	if (rc)
		return rc;
	char initdb[4200], superuser[100];
	snprintf(initdb, sizeof(initdb), "%s/initdb", dc->bindir);
	snprintf(superuser, sizeof(superuser), "--username=%s", dc->superuser);
	const char *argv[] = { initdb, "-D", dc->datadir, superuser, "--auth=trust",
	                       "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions", NULL };
	aiplat_log(AIPLAT_LOG_INFO, "initialising a new cluster in %s", dc->datadir);
	if ((rc = run_tool(dc, acct, "initdb.log", argv, "initdb")) != 0)
		return rc;
	return append_config(dc);
}

/* Server options become `-c name=value` words on pg_ctl's -o, which pg_ctl
 * hands to a shell: accept only plain names and values. */
static int validate_server_option(const char *opt)
{
	const char *eq = strchr(opt, '=');
	bool ok = eq && eq != opt && eq[1];
	for (const char *p = opt; ok && p < eq; p++)
		ok = islower((unsigned char)*p) || *p == '_' || *p == '.' || isdigit((unsigned char)*p);
	for (const char *p = eq ? eq + 1 : opt; ok && *p; p++)
		ok = isalnum((unsigned char)*p) || strchr("_.:/-+", *p);
	if (!ok)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                        "server option \"%s\" must look like name=value with a plain value",
		                        opt);
	return 0;
}

static int create_database(const aiplat_devcluster *dc)
{
	char *url;
	int rc = aiplat_devcluster_url(dc, &url);
	if (rc)
		return rc;
	/* Same socket, maintenance database. */
	aiplat_buf b = AIPLAT_BUF_INIT;
	const char *q = strchr(url, '?');
	aiplat_buf_printf(&b, "postgresql:///postgres%s", q ? q : "");
	free(url);
	aiplat_db *db;
	rc = aiplat_db_connect(&db, b.ptr, "aiplat/dev start");
	aiplat_buf_dispose(&b);
	if (rc)
		return rc;
	const char *params[1] = { dc->dbname };
	char *exists = NULL;
	rc = aiplat_db_query_value(db, &exists, "SELECT 1 FROM pg_database WHERE datname = $1", 1,
	                           params);
	if (!rc && !exists) {
		char *ident = PQescapeIdentifier(aiplat_db_pg(db), dc->dbname, strlen(dc->dbname));
		aiplat_buf sql = AIPLAT_BUF_INIT;
		aiplat_buf_printf(&sql, "CREATE DATABASE %s", ident);
		PQfreemem(ident);
		rc = aiplat_db_exec(db, sql.ptr, 0, NULL);
		aiplat_buf_dispose(&sql);
		if (!rc)
			aiplat_log(AIPLAT_LOG_INFO, "created database %s", dc->dbname);
	}
	free(exists);
	aiplat_db_close(db);
	return rc;
}

static int server_account(const aiplat_devcluster *dc, aiplat_account *acct)
{
	memset(acct, 0, sizeof(*acct));
	if (geteuid() != 0)
		return 0;
	int rc = aiplat_account_lookup(acct, dc->server_user);
	if (rc)
		return aiplat_error_hint("set AIPLAT_SERVER_USER to an unprivileged account");
	if (acct->uid == 0)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_CONFIG,
		                        "the server account %s is root; PostgreSQL refuses to run as root",
		                        acct->name);
	return 0;
}

int aiplat_devcluster_start(const aiplat_devcluster *dc_in, const char *const *server_options,
                            bool *started)
{
	aiplat_devcluster dc = *dc_in;
	*started = false;
	if (strlen(dc.sockdir) + sizeof("/.s.PGSQL." DEV_PORT) > sizeof(((struct sockaddr_un *)0)->sun_path)) {
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_CONFIG,
		                 "socket path %s/.s.PGSQL." DEV_PORT " is too long for a unix socket",
		                 dc.sockdir);
		return aiplat_error_hint("set XDG_DATA_HOME to a shorter directory");
	}
	for (const char *const *o = server_options; o && *o; o++) {
		int rc = validate_server_option(*o);
		if (rc)
			return rc;
	}
	aiplat_account acct;
	int rc = server_account(&dc, &acct);
	if (!rc)
		rc = find_bindir(dc.bindir, sizeof(dc.bindir));
	if (!rc)
		rc = aiplat_mkdirs(dc.root, 0755);
	if (rc)
		return rc;
	int lockfd;
	if ((rc = lock_root(&dc, &lockfd)) != 0)
		return rc;
	if (aiplat_devcluster_state_of(&dc, NULL) == AIPLAT_DEV_RUNNING)
		goto out;   /* idempotent: nothing to do */
	if (acct.switch_user && (rc = ensure_traversable(dc.root, &acct)) != 0)
		goto out;
	if (aiplat_devcluster_state_of(&dc, NULL) == AIPLAT_DEV_ABSENT &&
	    (rc = initialise(&dc, &acct)) != 0)
		goto out;
	if ((rc = aiplat_mkdirs(dc.sockdir, 0700)) != 0 || (rc = chown_to(dc.sockdir, &acct)) != 0)
		goto out;
	chmod(dc.sockdir, 0700);

	aiplat_buf opts = AIPLAT_BUF_INIT;
	for (const char *const *o = server_options; o && *o; o++)
		aiplat_buf_printf(&opts, "%s-c %s", opts.len ? " " : "", *o);
	char pg_ctl[4200];
	snprintf(pg_ctl, sizeof(pg_ctl), "%s/pg_ctl", dc.bindir);
	const char *argv[12];
	int n = 0;
	argv[n++] = pg_ctl;
	argv[n++] = "start";
	argv[n++] = "-w";
	argv[n++] = "-t";
	argv[n++] = "60";
	argv[n++] = "-D";
	argv[n++] = dc.datadir;
	argv[n++] = "-l";
	argv[n++] = dc.logfile;
	if (opts.len) {
		argv[n++] = "-o";
		argv[n++] = opts.ptr;
	}
	argv[n] = NULL;
	aiplat_log(AIPLAT_LOG_INFO, "starting the server (as %s) with %s", dc.server_user, dc.bindir);
	rc = run_tool(&dc, &acct, "pg_ctl.log", argv, "pg_ctl start");
	aiplat_buf_dispose(&opts);
	if (rc) {
		aiplat_error_hint("see %s and %s/pg_ctl.log", dc.logfile, dc.root);
		goto out;
	}
	*started = true;
	rc = create_database(&dc);
out:
	close(lockfd);
	return rc;
}

int aiplat_devcluster_stop(const aiplat_devcluster *dc_in, bool *stopped)
{
	aiplat_devcluster dc = *dc_in;
	*stopped = false;
	if (aiplat_devcluster_state_of(&dc, NULL) == AIPLAT_DEV_ABSENT)
		return 0;
	aiplat_account acct;
	int rc = server_account(&dc, &acct);
	if (!rc)
		rc = find_bindir(dc.bindir, sizeof(dc.bindir));
	if (rc)
		return rc;
	int lockfd;
	if ((rc = lock_root(&dc, &lockfd)) != 0)
		return rc;
	pid_t pid = 0;
	aiplat_devcluster_state st = aiplat_devcluster_state_of(&dc, &pid);
	if (st == AIPLAT_DEV_RUNNING || (pid > 0 && kill(pid, 0) == 0)) {
		char pg_ctl[4200];
		snprintf(pg_ctl, sizeof(pg_ctl), "%s/pg_ctl", dc.bindir);
		const char *argv[] = { pg_ctl, "stop", "-w", "-t", "60", "-m", "fast", "-D",
		                       dc.datadir, NULL };
		if ((rc = run_tool(&dc, &acct, "pg_ctl.log", argv, "pg_ctl stop")) == 0)
			*stopped = true;
	}
	close(lockfd);
	return rc;
}

/* Percent-encodes everything but unreserved characters (RFC 3986). */
static void url_encode(aiplat_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p))
			aiplat_buf_putc(b, (char)*p);
		else
			aiplat_buf_printf(b, "%%%02X", *p);
	}
}

int aiplat_devcluster_url(const aiplat_devcluster *dc, char **out)
{
	aiplat_buf b = AIPLAT_BUF_INIT;
	aiplat_buf_puts(&b, "postgresql:///");
	url_encode(&b, dc->dbname);
	aiplat_buf_puts(&b, "?host=");
	url_encode(&b, dc->sockdir);
	aiplat_buf_puts(&b, "&port=" DEV_PORT "&user=");
	url_encode(&b, dc->superuser);
	*out = aiplat_buf_detach(&b);
	return *out ? 0 : aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
}
