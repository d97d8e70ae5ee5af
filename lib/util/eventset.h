/*
 * The event ids an import has seen: (organisation, event id) -> when and on
 * which line it first came. Flat open addressing, no allocation per entry,
 * so a million-event import keeps every id in about 80 MB.
 */
#ifndef AIPLAT_UTIL_EVENTSET_H
#define AIPLAT_UTIL_EVENTSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct eventset_entry {
	uint8_t id[16];
	int32_t org;           /* the caller's organisation number */
	int64_t at;            /* when the first one happened */
	uint64_t line;         /* 0: the slot is empty */
} eventset_entry;

typedef struct eventset {
	eventset_entry *slots;
	size_t cap;            /* a power of two */
	size_t count;
} eventset;

#define EVENTSET_INIT { NULL, 0, 0 }

/*
 * Adds (org, id), first seen at `at` on `line` (lines count from 1).
 * Returns 0 when it is new, 1 when it was there already (*first is that
 * entry), -1 when out of memory.
 */
int eventset_add(eventset *s, int32_t org, const uint8_t id[16], int64_t at, uint64_t line,
                 const eventset_entry **first);
void eventset_dispose(eventset *s);

#endif
