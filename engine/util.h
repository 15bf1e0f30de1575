/* Small helpers shared by the engine, the shell and the tests. */
#ifndef MXLB_UTIL_H
#define MXLB_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup_(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*xvasprintf(const char *, va_list)
	    __attribute__((format(printf, 1, 0)));
size_t	 strlcpy_(char *, const char *, size_t);

/*
 * Text a peer sent (comments, user and server names, banners) made safe for
 * one line of a log or a terminal: control characters, DEL, C1 controls,
 * backslash and invalid UTF-8 become \n, \t, \\ or \xHH; valid UTF-8
 * passes.  str_escape_buf() writes at most size - 1 bytes and ends a
 * truncated result with "..." (never in the middle of an escape); it
 * returns dst.  str_escape() returns a new string the caller frees.
 */
char	*str_escape_buf(char *dst, size_t size, const char *src);
char	*str_escape(const char *src);

/* Monotonic milliseconds, for durations and timers. */
uint64_t now_ms(void);

/* A list of error messages; validation reports them all, not just the first. */
struct errs {
	char	**v;
	size_t	  n;
};
void	errs_add(struct errs *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	errs_free(struct errs *);


#endif
