/* Small helpers shared by the engine, the shell and the tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static void
die_oom(void)
{
	/* Out of memory is the one condition nothing can answer sensibly. */
	fputs("mxlb: out of memory\n", stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die_oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		die_oom();
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		die_oom();
	p = realloc(p, n * size != 0 ? n * size : 1);
	if (p == NULL)
		die_oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		die_oom();
	return p;
}

char *
xstrndup_(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		die_oom();
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) == -1)
		die_oom();
	return s;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

size_t
strlcpy_(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size != 0) {
		size_t n = len >= size ? size - 1 : len;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* Length of the valid UTF-8 sequence at s that is not a C1 control, or 0. */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned cp;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, past U+10FFFF; C1 controls (U+0080 to
	 * U+009F) are read as escape sequences by some terminals. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || cp <= 0x9f)
		return 0;
	return n;
}

/* The escaped form of the character at s into out (at least 5 bytes);
 * returns how many bytes of s it took and sets *outn. */
static size_t
escape_one(const unsigned char *s, char *out, size_t *outn)
{
	static const char hex[] = "0123456789abcdef";
	size_t n;

	switch (s[0]) {
	case '\\': memcpy(out, "\\\\", 2); *outn = 2; return 1;
	case '\n': memcpy(out, "\\n", 2); *outn = 2; return 1;
	case '\r': memcpy(out, "\\r", 2); *outn = 2; return 1;
	case '\t': memcpy(out, "\\t", 2); *outn = 2; return 1;
	}
	if (s[0] >= 0x20 && s[0] < 0x7f) {
		out[0] = (char)s[0];
		*outn = 1;
		return 1;
	}
	if (s[0] >= 0x80 && (n = utf8_len(s)) != 0) {
		memcpy(out, s, n);
		*outn = n;
		return n;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[s[0] >> 4];
	out[3] = hex[s[0] & 0xf];
	*outn = 4;
	return 1;
}

char *
str_escape_buf(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t len = 0, total = 0, n, limit;
	char one[5];

	if (size == 0)
		return dst;
	for (const unsigned char *p = s; *p != '\0'; total += n)
		p += escape_one(p, one, &n);
	/* Whole pieces only, so no escape or UTF-8 sequence is cut. */
	limit = total <= size - 1 ? size - 1 : (size > 4 ? size - 4 : 0);
	while (*s != '\0') {
		size_t took = escape_one(s, one, &n);
		if (len + n > limit)
			break;
		memcpy(dst + len, one, n);
		len += n;
		s += took;
	}
	if (*s != '\0' && len + 3 <= size - 1) {
		memcpy(dst + len, "...", 3);
		len += 3;
	}
	dst[len] = '\0';
	return dst;
}

char *
str_escape(const char *src)
{
	size_t size = strlen(src ? src : "") * 4 + 1;

	return str_escape_buf(xmalloc(size), size, src);
}

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void *
array_insert_(void *v, size_t *n, size_t size, size_t i)
{
	char *p = xreallocarray(v, *n + 1, size);

	memmove(p + (i + 1) * size, p + i * size, (*n - i) * size);
	(*n)++;
	return p;
}

struct timeval
ms_timeval(uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000 * 1000) };

	return tv;
}

bool
set_has(const void *v, size_t n, size_t size, const void *key,
    bool (*match)(const void *, const void *))
{
	const char *p = v;

	for (size_t i = 0; i < n; i++, p += size)
		if (match != NULL ? match(p, key) : memcmp(p, key, size) == 0)
			return true;
	return false;
}

void
errs_add(struct errs *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*ARRAY_PUSH(e->v, e->n) = xvasprintf(fmt, ap);
	va_end(ap);
}

void
errs_free(struct errs *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = 0;
}
