/* Collections of migrations: the embedded ones or a directory's. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/buf.h"
#include "aiplat/embedded.h"
#include "aiplat/error.h"
#include "aiplat/migrate.h"

static int by_version(const void *a, const void *b)
{
	long va = ((const aiplat_migration *)a)->version, vb = ((const aiplat_migration *)b)->version;
	return (va > vb) - (va < vb);
}

static int append(aiplat_migration_set *set, const char *filename, const char *text, size_t len)
{
	aiplat_migration *items = realloc(set->items, (set->count + 1) * sizeof(*items));
	if (!items)
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
	set->items = items;
	int rc = aiplat_migration_parse(&set->items[set->count], filename, text, len);
	if (!rc)
		set->count++;
	return rc;
}

static int finish(aiplat_migration_set *set)
{
	if (set->count > 1)   /* an empty set has no array to sort */
		qsort(set->items, set->count, sizeof(*set->items), by_version);
	for (size_t i = 1; i < set->count; i++)
		if (set->items[i].version == set->items[i - 1].version)
			return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_MIGRATE,
			                        "%s and %s share version %ld",
			                        set->items[i - 1].filename, set->items[i].filename,
			                        set->items[i].version);
	return 0;
}

int aiplat_migration_set_embedded(aiplat_migration_set *out)
{
	memset(out, 0, sizeof(*out));
	int rc = 0;
	for (const struct aiplat_embedded_file *f = aiplat_embedded_migrations; f->name && !rc; f++)
		rc = append(out, f->name, f->data, f->len);
	if (!rc)
		rc = finish(out);
	if (rc)
		aiplat_migration_set_dispose(out);
	return rc;
}

static int is_sql_file(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".sql") == 0;
}

int aiplat_migration_set_load_dir(aiplat_migration_set *out, const char *dir)
{
	memset(out, 0, sizeof(*out));
	DIR *d = opendir(dir);
	if (!d)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_OS,
		                        "cannot open migrations directory %s: %s", dir, strerror(errno));
	int rc = 0;
	struct dirent *e;
	while (!rc && (e = readdir(d)) != NULL) {
		if (!is_sql_file(e->d_name))
			continue;
		aiplat_buf path = AIPLAT_BUF_INIT, text = AIPLAT_BUF_INIT;
		rc = aiplat_buf_printf(&path, "%s/%s", dir, e->d_name);
		if (!rc)
			rc = aiplat_buf_read_file(&text, path.ptr);
		if (!rc)
			rc = append(out, e->d_name, text.ptr, text.len);
		aiplat_buf_dispose(&path);
		aiplat_buf_dispose(&text);
	}
	closedir(d);
	if (!rc)
		rc = finish(out);
	if (rc)
		aiplat_migration_set_dispose(out);
	return rc;
}

void aiplat_migration_set_dispose(aiplat_migration_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		aiplat_migration_dispose(&set->items[i]);
	free(set->items);
	memset(set, 0, sizeof(*set));
}
