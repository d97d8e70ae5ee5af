/* Running helper programs (initdb, pg_ctl), optionally as another account. */
#ifndef AIPLAT_UTIL_PROC_H
#define AIPLAT_UTIL_PROC_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct aiplat_account {
	bool switch_user;   /* drop from root to uid/gid before exec */
	uid_t uid;
	gid_t gid;
	char name[64];
	char home[1024];
} aiplat_account;

/* Looks up an account by name. */
int aiplat_account_lookup(aiplat_account *out, const char *name);

/*
 * Runs argv[0] (a path) with argv, in directory cwd, as `who` (NULL: as
 * ourselves), appending stdout and stderr to logpath. *status gets the exit
 * status (or 128+signal).
 */
int aiplat_run(const char *const argv[], const aiplat_account *who, const char *cwd,
               const char *logpath, int *status);

/* mkdir -p with the given mode for the directories it creates. */
int aiplat_mkdirs(const char *path, mode_t mode);

#endif
