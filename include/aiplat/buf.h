/* A growable, always NUL-terminated byte buffer. */
#ifndef AIPLAT_BUF_H
#define AIPLAT_BUF_H

#include <stddef.h>
#include <stdarg.h>

typedef struct aiplat_buf {
	char *ptr;    /* NUL-terminated; never NULL after aiplat_buf_init */
	size_t len;
	size_t cap;
} aiplat_buf;

#define AIPLAT_BUF_INIT { NULL, 0, 0 }

void aiplat_buf_init(aiplat_buf *b);
int aiplat_buf_grow(aiplat_buf *b, size_t extra);
int aiplat_buf_put(aiplat_buf *b, const char *data, size_t len);
int aiplat_buf_puts(aiplat_buf *b, const char *s);
int aiplat_buf_putc(aiplat_buf *b, char c);
int aiplat_buf_printf(aiplat_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int aiplat_buf_vprintf(aiplat_buf *b, const char *fmt, va_list ap);
void aiplat_buf_clear(aiplat_buf *b);
/* Hands the string to the caller (who frees it) and resets the buffer. */
char *aiplat_buf_detach(aiplat_buf *b);
void aiplat_buf_dispose(aiplat_buf *b);

/* Reads a whole file (or stdin for "-") into a buffer. */
int aiplat_buf_read_file(aiplat_buf *b, const char *path);

#endif
