/* Open addressing with linear probing, growth at 70% load. */
#include <stdlib.h>
#include <string.h>
#include "util/map.h"

/* Eight bytes at a time, multiply and fold: much faster than a byte loop
 * on the names and ids an import looks up millions of times. */
static uint64_t hash_key(const void *key, size_t n)
{
	const unsigned char *p = key;
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xFF51AFD7ED558CCDULL);
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	uint64_t tail = 0;
	memcpy(&tail, p, n);
	h = (h ^ tail) * 0xFF51AFD7ED558CCDULL;
	h ^= h >> 32;
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
	uint64_t h = hash_key(key, klen);
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
	aiplat_map_slot *s = find(m, key, klen, hash_key(key, klen));
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
