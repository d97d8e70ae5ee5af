/* Open addressing with linear probing, FNV-1a hashes, growth at 70% load. */
#include <stdlib.h>
#include <string.h>
#include "util/map.h"

static uint64_t fnv1a(const void *key, size_t n)
{
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h ? h : 1;
}

static aiplat_map_slot *find(const aiplat_map *m, const void *key, size_t klen, uint64_t h)
{
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		aiplat_map_slot *s = &m->slots[i];
		if (!s->key || (s->hash == h && s->klen == klen && !memcmp(s->key, key, klen)))
			return s;
	}
}

static int grow(aiplat_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	aiplat_map_slot *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	aiplat_map old = *m;
	m->slots = slots;
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*find(m, old.slots[i].key, old.slots[i].klen, old.slots[i].hash) = old.slots[i];
	free(old.slots);
	return 0;
}

int aiplat_map_put(aiplat_map *m, const void *key, size_t klen, int64_t value)
{
	if ((m->count + 1) * 10 >= m->cap * 7 && grow(m) != 0)
		return -1;
	uint64_t h = fnv1a(key, klen);
	aiplat_map_slot *s = find(m, key, klen, h);
	if (!s->key) {
		s->key = malloc(klen ? klen : 1);
		if (!s->key)
			return -1;
		memcpy(s->key, key, klen);
		s->klen = klen;
		s->hash = h;
		m->count++;
	}
	s->value = value;
	return 0;
}

bool aiplat_map_get(const aiplat_map *m, const void *key, size_t klen, int64_t *value)
{
	if (!m->cap)
		return false;
	aiplat_map_slot *s = find(m, key, klen, fnv1a(key, klen));
	if (!s->key)
		return false;
	if (value)
		*value = s->value;
	return true;
}

void aiplat_map_dispose(aiplat_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
