/* A small open-addressing hash map from byte strings to 64-bit values. */
#ifndef AIPLAT_UTIL_MAP_H
#define AIPLAT_UTIL_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct aiplat_map_slot {
	uint64_t hash;
	void *key;          /* NULL: empty */
	size_t klen;
	int64_t value;
} aiplat_map_slot;

typedef struct aiplat_map {
	aiplat_map_slot *slots;
	size_t cap;         /* a power of two */
	size_t count;
} aiplat_map;

#define AIPLAT_MAP_INIT { NULL, 0, 0 }

/* Inserts or replaces; the key is copied. -1 on allocation failure. */
int aiplat_map_put(aiplat_map *m, const void *key, size_t klen, int64_t value);
bool aiplat_map_get(const aiplat_map *m, const void *key, size_t klen, int64_t *value);
void aiplat_map_dispose(aiplat_map *m);

#endif
