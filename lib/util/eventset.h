/*
 * The event ids an import has seen: event id -> the organisation (the
 * caller's number for it), time and line it first came with. Flat open
 * addressing, no allocation per entry: a million-event import keeps every
 * id in 64 MB.
 */
#ifndef AIPLAT_UTIL_EVENTSET_H
#define AIPLAT_UTIL_EVENTSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct eventset_entry {
	uint8_t id[16];
	int64_t at;            /* when the first one happened */
	int32_t org;           /* the caller's organisation number */
	uint32_t line;         /* 0: the slot is empty; lines past 2^32-1 are kept as 2^32-1 */
} eventset_entry;

typedef struct eventset {
	eventset_entry *slots;
	size_t cap;            /* a power of two */
	size_t count;
} eventset;

#define EVENTSET_INIT { NULL, 0, 0 }

/*
 * Adds id, first seen for `org` at `at` on `line` (lines count from 1).
 * Returns 0 when it is new, 1 when it was there already (*first is that
 * entry, valid until the next add), -1 when out of memory.
 */
int eventset_add(eventset *s, const uint8_t id[16], int32_t org, int64_t at, uint64_t line,
                 const eventset_entry **first);
/* Makes room for about n entries at once (growing costs a rehash); -1 when out of memory. */
int eventset_reserve(eventset *s, size_t n);
void eventset_dispose(eventset *s);

#endif
