/*
 * HAProxy's agent-check reply: words separated by spaces, tabs or commas,
 * in any order; a word that starts with "#" starts the description, which
 * runs to the end of the line.  As HAProxy does, "down#disk" (no space
 * before "#") is an error, and so is any word it does not know.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "names.h"
#include "util.h"

static bool
is_sep(char c)
{
	return c == ' ' || c == '\t' || c == ',';
}

/* A whole decimal number of at most 9 digits, or -1. */
static long
number(const char *w, size_t n)
{
	long v = 0;

	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)w[i]))
			return -1;
		v = v * 10 + (w[i] - '0');
	}
	return v;
}

static bool
word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && strncasecmp(w, s, n) == 0;
}

/* "queue=N" anywhere in the description, as mxlb agent writes it. */
static long
reason_queue(const char *r)
{
	const char *p = r;

	while ((p = strstr(p, "queue=")) != NULL) {
		const char *d = p + 6;
		size_t n = strspn(d, "0123456789");
		if ((p == r || is_sep(p[-1])) && (d[n] == '\0' || is_sep(d[n])))
			return number(d, n);
		p = d;
	}
	return -1;
}

static int
word(const char *w, size_t n, struct agent_reply *r, char *err, size_t el)
{
	long v;

	if (n > 1 && w[n - 1] == '%') {
		if ((v = number(w, n - 1)) < 0 || v > 1000) {
			snprintf(err, el, "bad weight \"%.*s\" (0%%-1000%%)",
			    (int)n, w);
			return -1;
		}
		r->pct = (int)v;
	} else if (n > 8 && strncasecmp(w, "maxconn:", 8) == 0) {
		if ((r->maxconn = number(w + 8, n - 8)) < 0) {
			snprintf(err, el, "bad \"%.*s\"", (int)n, w);
			return -1;
		}
	} else if (word_is(w, n, "ready"))
		r->admin = ADMIN_READY;
	else if (word_is(w, n, "drain"))
		r->admin = ADMIN_DRAIN;
	else if (word_is(w, n, "maint"))
		r->admin = ADMIN_MAINT;
	else if (word_is(w, n, "up"))
		r->up = 1;
	else if (word_is(w, n, "down") || word_is(w, n, "fail") ||
	    word_is(w, n, "stopped")) {
		r->up = 0;
		snprintf(r->word, sizeof r->word, "%.*s", (int)n, w);
	} else {
		snprintf(err, el, "unknown word \"%.*s\"", n > 32 ? 32 : (int)n,
		    w);
		return -1;
	}
	return 0;
}

int
agent_parse(const char *line, size_t len, struct agent_reply *r, char *err,
    size_t errlen)
{
	size_t end = 0, i = 0;

	memset(r, 0, sizeof *r);
	r->pct = r->admin = r->up = -1;
	r->maxconn = r->queue = -1;
	while (end < len && line[end] != '\r' && line[end] != '\n')
		end++;
	if (end > AGENT_LINE_MAX) {
		snprintf(err, errlen, "reply longer than %d bytes",
		    AGENT_LINE_MAX);
		return -1;
	}
	for (size_t k = 0; k < end; k++) {
		if (!isprint((unsigned char)line[k]) && line[k] != '\t') {
			snprintf(err, errlen, "reply has a control or 8-bit "
			    "byte at %zu", k + 1);
			return -1;
		}
	}
	while (i < end) {
		size_t n;
		if (is_sep(line[i])) {
			i++;
			continue;
		}
		if (line[i] == '#') {
			snprintf(r->reason, sizeof r->reason, "%.*s",
			    (int)(end - i - 1), line + i + 1);
			r->queue = reason_queue(r->reason);
			break;
		}
		for (n = 0; i + n < end && !is_sep(line[i + n]); n++)
			if (line[i + n] == '#') {
				snprintf(err, errlen, "\"#\" without a space "
				    "before it");
				return -1;
			}
		if (word(line + i, n, r, err, errlen) == -1)
			return -1;
		i += n;
	}
	if (r->pct < 0 && r->admin < 0 && r->up < 0 && r->maxconn < 0 &&
	    r->reason[0] == '\0') {
		snprintf(err, errlen, "empty reply");
		return -1;
	}
	return 0;
}
