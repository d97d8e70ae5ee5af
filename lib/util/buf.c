/* Growable string buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/buf.h"
#include "aiplat/error.h"

static char empty_string[1];

void aiplat_buf_init(aiplat_buf *b)
{
	b->ptr = empty_string;
	b->len = 0;
	b->cap = 0;
}

int aiplat_buf_grow(aiplat_buf *b, size_t extra)
{
	if (b->ptr == NULL)
		aiplat_buf_init(b);
	if (b->len + extra + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = b->cap ? realloc(b->ptr, cap) : malloc(cap);
	if (!p)
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
	if (!b->cap)
		memcpy(p, b->ptr, b->len + 1);
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int aiplat_buf_put(aiplat_buf *b, const char *data, size_t len)
{
	int rc = aiplat_buf_grow(b, len);
	if (rc)
		return rc;
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int aiplat_buf_puts(aiplat_buf *b, const char *s)
{
	return aiplat_buf_put(b, s, strlen(s));
}

int aiplat_buf_putc(aiplat_buf *b, char c)
{
	return aiplat_buf_put(b, &c, 1);
}

int aiplat_buf_vprintf(aiplat_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_INTERNAL, "bad format");
	int rc = aiplat_buf_grow(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int aiplat_buf_printf(aiplat_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = aiplat_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void aiplat_buf_clear(aiplat_buf *b)
{
	if (b->ptr == NULL)
		aiplat_buf_init(b);
	b->len = 0;
	if (b->cap)
		b->ptr[0] = '\0';
}

char *aiplat_buf_detach(aiplat_buf *b)
{
	char *s = (b->ptr && b->cap) ? b->ptr : strdup("");
	aiplat_buf_init(b);
	return s;
}

void aiplat_buf_dispose(aiplat_buf *b)
{
	if (b->ptr && b->cap)
		free(b->ptr);
	aiplat_buf_init(b);
}

int aiplat_buf_read_file(aiplat_buf *b, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_OS, "cannot open %s: %s",
		                        path, strerror(errno));
	char chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if ((rc = aiplat_buf_put(b, chunk, n)) != 0)
			break;
	if (!rc && ferror(f))
		rc = aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_OS, "cannot read %s: %s",
		                      path, strerror(errno));
	if (f != stdin)
		fclose(f);
	return rc;
}
