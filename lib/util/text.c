/* Strict little parsers for bulk input (see text.h). */
#include <stdio.h>
#include <string.h>
#include "util/text.h"

static int digits(const char *s, size_t n, size_t at, size_t count)
{
	int v = 0;
	if (at + count > n)
		return -1;
	for (size_t i = 0; i < count; i++) {
		char c = s[at + i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

bool aiplat_parse_timestamp(const char *s, size_t n, int64_t *out)
{
	int y = digits(s, n, 0, 4), mo = digits(s, n, 5, 2), d = digits(s, n, 8, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || n < 19 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || d > days_in_month(y, mo))
		return false;
	int h = digits(s, n, 11, 2), mi = digits(s, n, 14, 2), se = digits(s, n, 17, 2);
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60 || s[13] != ':' || s[16] != ':')
		return false;
	size_t i = 19;
	int64_t micros = 0;
	if (i < n && s[i] == '.') {
		int nd = 0;
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, nd++)
			if (nd < 6)
				micros = micros * 10 + (s[i] - '0');
		if (nd == 0)
			return false;
		for (; nd < 6; nd++)
			micros *= 10;
	}
	int64_t offset = 0;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		int sign = s[i] == '-' ? -1 : 1;
		int oh = digits(s, n, i + 1, 2), om;
		if (oh < 0 || oh > 23)
			return false;
		i += 3;
		if (i < n && s[i] == ':')
			i++;
		om = i < n ? digits(s, n, i, 2) : 0;
		if (i < n) {
			if (om < 0 || om > 59)
				return false;
			i += 2;
		}
		offset = sign * (oh * 3600 + om * 60);
	} else {
		return false;   /* a zone is required: no guessing */
	}
	if (i != n)
		return false;
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
	*out = secs * 1000000 + micros;
	return true;
}

/* Hex digit values plus one (0: not a digit): a table, as an import parses
 * millions of UUIDs. */
static const unsigned char hex_table[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hexval(char c)
{
	return (int)hex_table[(unsigned char)c] - 1;
}

bool aiplat_parse_uuid(const char *s, size_t n, uint8_t out[16])
{
	if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return false;
	size_t b = 0;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			continue;
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[b++] = (uint8_t)(hi * 16 + lo);
		i++;
	}
	return true;
}

void aiplat_format_uuid(char out[37], const uint8_t in[16])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[in[i] >> 4];
		out[o++] = hex[in[i] & 15];
	}
	out[o] = '\0';
}

bool aiplat_parse_count(const char *s, size_t n, int64_t *out)
{
	if (n == 0 || n > 18)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool aiplat_parse_decimal4(const char *s, int64_t *out)
{
	int64_t whole = 0, frac = 0;
	int nfrac = 0;
	const char *p = s;
	if (!*p)
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
		whole = whole * 10 + (*p - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, nfrac++)
			if (nfrac < 4)
				frac = frac * 10 + (*p - '0');
	if (*p)
		return false;
	for (int i = nfrac < 4 ? nfrac : 4; i < 4; i++)
		frac *= 10;
	*out = whole * 10000 + frac;
	return true;
}

bool aiplat_valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	while (p < e) {
		if (*p < 0x80) {
			if (*p == 0)
				return false;
			p++;
			continue;
		}
		size_t len = (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;
		if (!len || p + len > e || (len == 2 && *p < 0xC2))
			return false;
		for (size_t i = 1; i < len; i++)
			if ((p[i] & 0xC0) != 0x80)
				return false;
		p += len;
	}
	return true;
}

bool aiplat_in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

void aiplat_join_list(char *buf, size_t size, const char *const *list, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", list[i]);
}
