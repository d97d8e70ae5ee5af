/* Linear probing over (organisation, event id), growing at 75% load. */
#include <stdlib.h>
#include <string.h>
#include "util/eventset.h"

/* Event ids come from outside (not always random UUIDs): mix all of it. */
static uint64_t hash_of(int32_t org, const uint8_t id[16])
{
	uint64_t a, b;
	memcpy(&a, id, 8);
	memcpy(&b, id + 8, 8);
	uint64_t h = (a ^ ((uint64_t)(uint32_t)org * 0x9E3779B97F4A7C15ULL)) * 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 29;
	h = (h ^ b) * 0xFF51AFD7ED558CCDULL;
	h ^= h >> 32;
	return h;
}

static eventset_entry *slot_for(eventset_entry *slots, size_t cap, int32_t org, const uint8_t id[16])
{
	size_t mask = cap - 1;
	for (size_t i = hash_of(org, id) & mask;; i = (i + 1) & mask) {
		eventset_entry *e = &slots[i];
		if (!e->line || (e->org == org && !memcmp(e->id, id, 16)))
			return e;
	}
}

static int grow(eventset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	eventset_entry *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i].line)
			*slot_for(slots, cap, s->slots[i].org, s->slots[i].id) = s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

int eventset_add(eventset *s, int32_t org, const uint8_t id[16], int64_t at, uint64_t line,
                 const eventset_entry **first)
{
	if ((s->count + 1) * 4 > s->cap * 3 && grow(s) != 0)
		return -1;
	eventset_entry *e = slot_for(s->slots, s->cap, org, id);
	if (e->line) {
		if (first)
			*first = e;
		return 1;
	}
	memcpy(e->id, id, 16);
	e->org = org;
	e->at = at;
	e->line = line ? line : 1;
	s->count++;
	return 0;
}

void eventset_dispose(eventset *s)
{
	free(s->slots);
	memset(s, 0, sizeof(*s));
}
