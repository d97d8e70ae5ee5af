/* `migrate new NAME`: the next numbered file with empty sections. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "aiplat/buf.h"
#include "aiplat/error.h"
#include "aiplat/migrate.h"

/* "Add Users-Table" -> "add_users_table"; NULL when nothing usable remains. */
static char *slugify(const char *name)
{
	size_t n = strlen(name);
	char *out = malloc(n + 1), *w = out;
	if (!out)
		return NULL;
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) && c < 0x80)
			*w++ = (char)tolower(c);
		else if (w > out && w[-1] != '_')
			*w++ = '_';
	}
	while (w > out && w[-1] == '_')
		w--;
	*w = '\0';
	if (!*out) {
		free(out);
		return NULL;
	}
	return out;
}

int aiplat_migration_new_file(char **path, const char *dir, const char *name)
{
	char *slug = slugify(name);
	if (!slug)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                        "migration name \"%s\" has no letters or digits", name);
	long max = 0;
	int width = 4;
	DIR *d = opendir(dir);
	if (!d) {
		free(slug);
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_OS,
		                        "cannot open migrations directory %s: %s", dir, strerror(errno));
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long v = strtol(e->d_name, &end, 10);
		if (end != e->d_name && *end == '_' && v > max) {
			max = v;
			if ((int)(end - e->d_name) > width)
				width = (int)(end - e->d_name);
		}
	}
	closedir(d);

	aiplat_buf b = AIPLAT_BUF_INIT;
	aiplat_buf_printf(&b, "%s/%0*ld_%s.sql", dir, width, max + 1, slug);
	free(slug);
	int fd = open(b.ptr, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		int rc = aiplat_error_set(errno == EEXIST ? AIPLAT_EEXISTS : AIPLAT_EINVALID,
		                          AIPLAT_ERRCLASS_OS, "cannot create %s: %s", b.ptr,
		                          strerror(errno));
		aiplat_buf_dispose(&b);
		return rc;
	}
	static const char body[] =
		"-- migrate:up\n\n\n"
		"-- migrate:down\n\n";
	ssize_t w = write(fd, body, sizeof(body) - 1);
	int saved = errno;
	close(fd);
	if (w != (ssize_t)(sizeof(body) - 1)) {
		unlink(b.ptr);
		int rc = aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_OS, "cannot write %s: %s",
		                          b.ptr, strerror(saved));
		aiplat_buf_dispose(&b);
		return rc;
	}
	*path = aiplat_buf_detach(&b);
	return 0;
}
