/* Linear probing over event ids, growing at 75% load. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "util/eventset.h"

/* Event ids come from outside (not always random UUIDs): mix all of it. */
static uint64_t hash_of(const uint8_t id[16])
{
	uint64_t a, b;
	memcpy(&a, id, 8);
	memcpy(&b, id + 8, 8);
	uint64_t h = (a ^ 0x9E3779B97F4A7C15ULL) * 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 29;
	h = (h ^ b) * 0xFF51AFD7ED558CCDULL;
	h ^= h >> 32;
	return h;
}

static eventset_entry *slot_for(eventset_entry *slots, size_t cap, const uint8_t id[16])
{
	size_t mask = cap - 1;
	for (size_t i = hash_of(id) & mask;; i = (i + 1) & mask) {
		eventset_entry *e = &slots[i];
		if (!e->line || !memcmp(e->id, id, 16))
			return e;
	}
}

/* A zeroed table. Large ones are asked for in transparent huge pages:
 * every insert lands on a random slot, and with 4 KiB pages nearly every
 * one would miss the TLB as well as the cache. */
static eventset_entry *new_table(size_t cap)
{
	size_t bytes = cap * sizeof(eventset_entry);
	if (bytes < ((size_t)4 << 20))
		return calloc(cap, sizeof(eventset_entry));
	void *p = NULL;
	if (posix_memalign(&p, (size_t)2 << 20, bytes) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE);   /* a hint: fine if refused */
#endif
	memset(p, 0, bytes);
	return p;
}

static int grow_to(eventset *s, size_t cap)
{
	eventset_entry *slots = new_table(cap);
	if (!slots)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i].line)
			*slot_for(slots, cap, s->slots[i].id) = s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

static int grow(eventset *s)
{
	return grow_to(s, s->cap ? s->cap * 2 : 1024);
}

int eventset_reserve(eventset *s, size_t n)
{
	size_t cap = s->cap ? s->cap : 1024;
	while (cap / 4 * 3 < n && cap < ((size_t)1 << 40))
		cap *= 2;
	return cap > s->cap ? grow_to(s, cap) : 0;
}

int eventset_add(eventset *s, const uint8_t id[16], int32_t org, int64_t at, uint64_t line,
                 const eventset_entry **first)
{
	if ((s->count + 1) * 4 > s->cap * 3 && grow(s) != 0)
		return -1;
	eventset_entry *e = slot_for(s->slots, s->cap, id);
	if (e->line) {
		if (first)
			*first = e;
		return 1;
	}
	memcpy(e->id, id, 16);
	e->org = org;
	e->at = at;
	e->line = line == 0 ? 1 : line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	s->count++;
	return 0;
}

void eventset_dispose(eventset *s)
{
	free(s->slots);
	memset(s, 0, sizeof(*s));
}
