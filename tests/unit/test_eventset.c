/* The import's set of event ids: new ids, repeats, growth, reservation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "util/eventset.h"

static void id_of(uint8_t id[16], uint64_t n)
{
	memset(id, 0, 16);
	memcpy(id + 8, &n, 8);   /* ids that differ in their second half only */
}

static void test_new_and_repeated(void **state)
{
	(void)state;
	eventset s = EVENTSET_INIT;
	uint8_t id[16];
	const eventset_entry *first = NULL;
	id_of(id, 7);
	assert_int_equal(eventset_add(&s, id, 3, 1000, 1, &first), 0);
	assert_int_equal(eventset_add(&s, id, 4, 2000, 9, &first), 1);
	/* The first one is kept, whoever comes later. */
	assert_int_equal(first->org, 3);
	assert_int_equal(first->at, 1000);
	assert_int_equal(first->line, 1);
	assert_int_equal(s.count, 1);
	id_of(id, 8);
	assert_int_equal(eventset_add(&s, id, 3, 1000, 2, NULL), 0);
	assert_int_equal(s.count, 2);
	eventset_dispose(&s);
	assert_null(s.slots);
}

/* A hundred thousand ids through several growths: every one found again, none twice. */
static void test_growth(void **state)
{
	(void)state;
	eventset s = EVENTSET_INIT;
	uint8_t id[16];
	for (uint64_t n = 1; n <= 100000; n++) {
		id_of(id, n * 2654435761u);
		assert_int_equal(eventset_add(&s, id, (int32_t)(n % 5), (int64_t)n, n, NULL), 0);
	}
	assert_int_equal(s.count, 100000);
	assert_true(s.cap * 3 >= s.count * 4);
	for (uint64_t n = 1; n <= 100000; n++) {
		const eventset_entry *first = NULL;
		id_of(id, n * 2654435761u);
		assert_int_equal(eventset_add(&s, id, 0, 0, 1, &first), 1);
		assert_int_equal(first->at, (int64_t)n);
		assert_int_equal(first->line, n);
	}
	eventset_dispose(&s);
}

/* Reserving makes room at once; lines past 2^32-1 are kept as 2^32-1; line 0 as 1. */
static void test_reserve_and_lines(void **state)
{
	(void)state;
	eventset s = EVENTSET_INIT;
	assert_int_equal(eventset_reserve(&s, 1000000), 0);
	size_t cap = s.cap;
	assert_true(cap / 4 * 3 >= 1000000);
	uint8_t id[16];
	const eventset_entry *first = NULL;
	id_of(id, 1);
	assert_int_equal(eventset_add(&s, id, 0, 5, 0, NULL), 0);
	assert_int_equal(eventset_add(&s, id, 0, 5, 2, &first), 1);
	assert_int_equal(first->line, 1);
	id_of(id, 2);
	assert_int_equal(eventset_add(&s, id, 0, 5, (uint64_t)1 << 40, NULL), 0);
	assert_int_equal(eventset_add(&s, id, 0, 5, 2, &first), 1);
	assert_int_equal(first->line, UINT32_MAX);
	assert_int_equal(s.cap, cap);   /* no growth */
	assert_int_equal(eventset_reserve(&s, 10), 0);
	assert_int_equal(s.cap, cap);   /* never shrinks */
	eventset_dispose(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_and_repeated),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_reserve_and_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
