/* Small text helpers: RFC 3339 timestamps, UUIDs, integers, UTF-8, lists of names. */
#ifndef AIPLAT_UTIL_TEXT_H
#define AIPLAT_UTIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * "2026-11-04T06:16:22Z", "2026-11-04 06:16:22.5+01:00", "2026-11-04T06:16:22-0530"
 * -> microseconds since 1970-01-01 UTC. A zone is required; seconds may
 * have up to 6 decimals. Dates are checked (no 31 February).
 */
bool aiplat_parse_timestamp(const char *s, size_t n, int64_t *epoch_us);
/* 8-4-4-4-12 hexadecimal digits -> 16 bytes. */
bool aiplat_parse_uuid(const char *s, size_t n, uint8_t out[16]);
void aiplat_format_uuid(char out[37], const uint8_t in[16]);
/* A non-negative decimal integer without sign, spaces or overflow. */
bool aiplat_parse_count(const char *s, size_t n, int64_t *out);
/* "0.15", "12.3456", "3" -> units of 1/10000 (prices have four decimals). */
bool aiplat_parse_decimal4(const char *s, int64_t *out);
bool aiplat_valid_utf8(const char *s, size_t n);
/* Whether s is one of list[0..n); list joined with ", " into buf. */
bool aiplat_in_list(const char *s, const char *const *list, size_t n);
void aiplat_join_list(char *buf, size_t size, const char *const *list, size_t n);

#endif
