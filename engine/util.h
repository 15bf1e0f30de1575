/* Small helpers shared by the engine, the shell and the tests. */
#ifndef MXLB_UTIL_H
#define MXLB_UTIL_H

#include <sys/time.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The one growable array: v holds n elements; ARRAY_PUSH(v, n) makes room
 * for one more, counts it and yields its address, as in
 * `*ARRAY_PUSH(l->v, l->n) = x;`.  v and n are evaluated more than once.
 */
#define ARRAY_PUSH(v, n) \
	((v) = xreallocarray((v), (size_t)(n) + 1, sizeof *(v)), &(v)[(n)++])
/* The same at index i (size_t n), the elements from i on moved up one. */
#define ARRAY_INSERT(v, n, i) __extension__ ({				\
	size_t at_ = (i);						\
	(v) = array_insert_((v), &(n), sizeof *(v), at_);		\
	&(v)[at_];							\
})
void	*array_insert_(void *, size_t *, size_t, size_t);

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
/* Milliseconds as libevent's timers take them. */
struct timeval ms_timeval(uint64_t ms);

/*
 * Set membership over an array of n elements of size bytes: true if
 * match(element, key) holds for one; a NULL match compares the element's
 * bytes with key's (pointers, integers).
 */
bool	 set_has(const void *v, size_t n, size_t size, const void *key,
	    bool (*match)(const void *elem, const void *key));

/* A list of error messages; validation reports them all, not just the first. */
struct errs {
	char	**v;
	size_t	  n;
};
void	errs_add(struct errs *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	errs_free(struct errs *);


#endif
