/* Files compiled into the library (migrations, seed data). */
#ifndef AIPLAT_EMBEDDED_H
#define AIPLAT_EMBEDDED_H

#include <stddef.h>

struct aiplat_embedded_file {
	const char *name;  /* base name, e.g. "0001_foundation.sql"; NULL ends the list */
	const char *data;  /* NUL-terminated contents */
	size_t len;
};

extern const struct aiplat_embedded_file aiplat_embedded_migrations[];
extern const struct aiplat_embedded_file aiplat_embedded_seeds[];

#endif
