/*
 * Config model tests: port lists, addresses and CIDR blocks, the field
 * tables, durations, whole-config validation with its exact messages, and
 * the JSON round trip.  Expected messages are what an operator reads.
 */

#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "expect-errs.h"
#include "paths.h"

/* ---- helpers ---------------------------------------------------------- */

/* Loads JSON text; returns the config (NULL when invalid), errors in e. */
static struct config *
load(const char *text, struct errs *e)
{
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	struct config *c;

	if (root == NULL) {
		print_message("bad JSON in test: %d:%d: %s\n", jerr.line,
		    jerr.column, jerr.text);
		fail();
	}
	c = config_from_json(root, e);
	json_decref(root);
	return c;
}

/* A config with exactly one error, and that error is msg. */
static void
expect_only_error(const char *text, const char *msg)
{
	struct errs e = { 0 };
	struct config *c = load(text, &e);

	if (c != NULL || e.n != 1 || !errs_has(&e, msg)) {
		print_message("config: %s\nexpected only: %s\ngot %zu error(s):\n",
		    text, msg, e.n);
		errs_print(&e);
		config_free(c);
		fail();
	}
	errs_free(&e);
}

static void
expect_valid(const char *text)
{
	struct errs e = { 0 };
	struct config *c = load(text, &e);

	if (c == NULL || e.n != 0) {
		print_message("config: %s\nexpected valid, got:\n", text);
		errs_print(&e);
		fail();
	}
	config_free(c);
	errs_free(&e);
}

static char *
ports_fmt(const char *text)
{
	struct portlist l = { 0 };
	char err[FIELD_ERRLEN];
	char *s;

	if (portlist_parse(&l, text, PORT_MIN, PORT_MAX, err,
	    sizeof err) != 0) {
		print_message("\"%s\": %s\n", text, err);
		fail();
	}
	s = portlist_format(&l);
	free(l.v);
	return s;
}

static void
expect_ports(const char *text, const char *formatted, size_t count)
{
	struct portlist l = { 0 };
	char err[FIELD_ERRLEN];
	char *s = ports_fmt(text);

	assert_string_equal(s, formatted);
	free(s);
	assert_int_equal(portlist_parse(&l, text, PORT_MIN, PORT_MAX, err,
	    sizeof err), 0);
	assert_int_equal(portlist_count(&l), count);
	free(l.v);
}

static void
expect_ports_error(const char *text, const char *msg)
{
	struct portlist l = { 0 };
	char err[FIELD_ERRLEN] = "";

	assert_int_equal(portlist_parse(&l, text, PORT_MIN, PORT_MAX, err,
	    sizeof err), -1);
	assert_string_equal(err, msg);
	free(l.v);
}

static const struct field *
field_of(const struct fieldset *fs, const char *key)
{
	const struct field *f = fieldset_find(fs, key);

	assert_non_null(f);
	return f;
}

static int
parse_into(const struct fieldset *fs, void *obj, const char *key,
    const char *text, char *err, size_t errlen)
{
	return field_parse(fs, obj, field_of(fs, key), text, err, errlen);
}

static void
set_ok(const struct fieldset *fs, void *obj, const char *key,
    const char *text)
{
	char err[FIELD_ERRLEN] = "";

	if (parse_into(fs, obj, key, text, err, sizeof err) != 0) {
		print_message("%s %s: %s\n", key, text, err);
		fail();
	}
}

static struct mxaddr
addr(const char *s)
{
	struct mxaddr a;
	char err[FIELD_ERRLEN];

	if (addr_parse(&a, s, err, sizeof err) != 0) {
		print_message("%s\n", err);
		fail();
	}
	return a;
}

static struct cidr
cidr(const char *s)
{
	struct cidr c;
	char err[FIELD_ERRLEN];

	if (cidr_parse(&c, s, err, sizeof err) != 0) {
		print_message("%s\n", err);
		fail();
	}
	return c;
}

/* ---- port lists ------------------------------------------------------- */

static void
test_ports_valid(void **state)
{
	(void)state;
	expect_ports("25", "25", 1);
	expect_ports("25,587", "25,587", 2);
	expect_ports("2500-2510,2525", "2500-2510,2525", 12);
	expect_ports("1,65535", "1,65535", 2);
	expect_ports("587,25", "25,587", 2);
	expect_ports("25,25", "25", 1);
}

static void
test_ports_merge(void **state)
{
	(void)state;
	expect_ports("26,25,20-24", "20-26", 7);
	expect_ports("20-30,25-35", "20-35", 16);
	expect_ports("1-10,12-20,11", "1-20", 20);
	expect_ports("30,10,20", "10,20,30", 3);
	expect_ports("100-200,150", "100-200", 101);
	expect_ports("5-6,1-2,3-4", "1-6", 6);
}

static void
test_ports_errors(void **state)
{
	(void)state;
	expect_ports_error("0", "\"0\" is not a port (1-65535)");
	expect_ports_error("65536", "\"65536\" is not a port (1-65535)");
	expect_ports_error("10-5", "port range \"10-5\" ends before it starts");
	expect_ports_error("", "empty port list");
	expect_ports_error("25,,26", "empty item in port list \"25,,26\"");
	expect_ports_error("25,", "empty item in port list \"25,\"");
	expect_ports_error("abc", "\"abc\" is not a port (1-65535)");
	expect_ports_error("-25", "\"\" is not a port (1-65535)");
	expect_ports_error("25-", "\"\" is not a port (1-65535)");
	expect_ports_error("+25", "\"+25\" is not a port (1-65535)");
	expect_ports_error("1-1025", "more than 1024 ports in one list");
	expect_ports_error("1-1000,2001-2025",
	    "more than 1024 ports in one list");
	expect_ports("1-1024", "1-1024", 1024);
}

static void
test_ports_field(void **state)
{
	struct frontend *fe = frontend_new("in");
	char err[FIELD_ERRLEN] = "";
	char *s;

	(void)state;
	assert_int_equal(parse_into(&frontend_fields, fe, "bind", "10-5", err,
	    sizeof err), -1);
	assert_string_equal(err,
	    "bind: port range \"10-5\" ends before it starts");
	set_ok(&frontend_fields, fe, "bind", "26,25,20-24");
	s = field_format(field_of(&frontend_fields, "bind"), fe);
	assert_string_equal(s, "20-26");
	free(s);
	/* A failed parse leaves the previous value. */
	assert_int_equal(parse_into(&frontend_fields, fe, "bind", "0", err,
	    sizeof err), -1);
	s = field_format(field_of(&frontend_fields, "bind"), fe);
	assert_string_equal(s, "20-26");
	free(s);
	object_free(&frontend_fields, fe);
}

static void
test_portlist_has(void **state)
{
	struct portlist l = { 0 };
	char err[FIELD_ERRLEN];

	(void)state;
	assert_int_equal(portlist_parse(&l, "2500-2510,2525,25", PORT_MIN,
	    PORT_MAX, err, sizeof err), 0);
	assert_true(portlist_has(&l, 25));
	assert_true(portlist_has(&l, 2500));
	assert_true(portlist_has(&l, 2505));
	assert_true(portlist_has(&l, 2510));
	assert_true(portlist_has(&l, 2525));
	assert_false(portlist_has(&l, 24));
	assert_false(portlist_has(&l, 26));
	assert_false(portlist_has(&l, 2499));
	assert_false(portlist_has(&l, 2511));
	assert_false(portlist_has(&l, 2524));
	assert_false(portlist_has(&l, 2526));
	free(l.v);
}

/* ---- addresses and CIDR blocks ---------------------------------------- */

static void
expect_addr(const char *in, int family, const char *out)
{
	struct mxaddr a = addr(in);
	char buf[ADDR_STRLEN];

	assert_int_equal(a.family, family);
	addr_format(&a, buf, sizeof buf);
	assert_string_equal(buf, out);
}

static void
expect_addr_error(const char *in, const char *msg)
{
	struct mxaddr a;
	char err[FIELD_ERRLEN] = "";

	assert_int_equal(addr_parse(&a, in, err, sizeof err), -1);
	assert_string_equal(err, msg);
}

static void
test_addr_parse(void **state)
{
	struct mxaddr a, b;

	(void)state;
	expect_addr("10.0.0.1", AF_INET, "10.0.0.1");
	expect_addr("2001:db8::1", AF_INET6, "2001:db8::1");
	expect_addr("2001:0db8:0000:0000:0000:0000:0000:0001", AF_INET6,
	    "2001:db8::1");
	expect_addr("[2001:db8::1]", AF_INET6, "2001:db8::1");
	expect_addr("::1", AF_INET6, "::1");
	a = addr("[2001:db8::1]");
	b = addr("2001:db8::1");
	assert_int_equal(addr_cmp(&a, &b), 0);
	b = addr("2001:db8::2");
	assert_int_not_equal(addr_cmp(&a, &b), 0);

	expect_addr_error("10.0.0.256",
	    "\"10.0.0.256\" is not an IPv4 or IPv6 address");
	expect_addr_error("10.0.0", "\"10.0.0\" is not an IPv4 or IPv6 address");
	expect_addr_error("2001:db8::g",
	    "\"2001:db8::g\" is not an IPv4 or IPv6 address");
	expect_addr_error("[2001:db8::1",
	    "\"[2001:db8::1\" is not an IPv4 or IPv6 address");
	expect_addr_error("mx.example.org",
	    "\"mx.example.org\" is not an IPv4 or IPv6 address");
	expect_addr_error("", "\"\" is not an IPv4 or IPv6 address");
	expect_addr_error("10.0.0.1:25",
	    "\"10.0.0.1:25\" is not an IPv4 or IPv6 address");
}

static void
expect_cidr_error(const char *in, const char *msg)
{
	struct cidr c;
	char err[FIELD_ERRLEN] = "";

	assert_int_equal(cidr_parse(&c, in, err, sizeof err), -1);
	assert_string_equal(err, msg);
}

static void
test_cidr_parse(void **state)
{
	struct cidr c;
	char buf[ADDR_STRLEN + 8];

	(void)state;
	c = cidr("10.0.0.0/8");
	assert_int_equal(c.prefix, 8);
	cidr_format(&c, buf, sizeof buf);
	assert_string_equal(buf, "10.0.0.0/8");
	c = cidr("10.0.0.1");
	assert_int_equal(c.prefix, 32);
	cidr_format(&c, buf, sizeof buf);
	assert_string_equal(buf, "10.0.0.1");
	c = cidr("[2001:db8::]/32");
	assert_int_equal(c.addr.family, AF_INET6);
	assert_int_equal(c.prefix, 32);
	cidr_format(&c, buf, sizeof buf);
	assert_string_equal(buf, "2001:db8::/32");

	expect_cidr_error("10.0.0.1/8", "\"10.0.0.1/8\" has host bits set after /8");
	expect_cidr_error("192.168.1.129/25",
	    "\"192.168.1.129/25\" has host bits set after /25");
	expect_cidr_error("2001:db8::1/32",
	    "\"2001:db8::1/32\" has host bits set after /32");
	expect_cidr_error("10.0.0.0/33",
	    "\"10.0.0.0/33\": prefix length must be 0-32");
	expect_cidr_error("2001:db8::/129",
	    "\"2001:db8::/129\": prefix length must be 0-128");
	expect_cidr_error("10.0.0.0/", "\"10.0.0.0/\": prefix length must be 0-32");
	expect_cidr_error("10.0.0.0/x", "\"10.0.0.0/x\": prefix length must be 0-32");
	expect_cidr_error("10.0.0.0/-1",
	    "\"10.0.0.0/-1\": prefix length must be 0-32");
	expect_cidr_error("10.0.0.300/8",
	    "\"10.0.0.300\" is not an IPv4 or IPv6 address");
}

static bool
matches(const char *block, const char *a)
{
	struct cidr c = cidr(block);
	struct mxaddr x = addr(a);

	return cidr_match(&c, &x);
}

static void
test_cidr_match(void **state)
{
	(void)state;
	assert_true(matches("10.0.0.0/8", "10.0.0.0"));
	assert_true(matches("10.0.0.0/8", "10.255.1.2"));
	assert_false(matches("10.0.0.0/8", "11.0.0.1"));
	assert_false(matches("10.0.0.0/8", "9.255.255.255"));
	assert_true(matches("192.168.1.128/25", "192.168.1.200"));
	assert_false(matches("192.168.1.128/25", "192.168.1.100"));
	assert_true(matches("10.0.0.1", "10.0.0.1"));
	assert_false(matches("10.0.0.1", "10.0.0.2"));
	/* Families never match each other. */
	assert_false(matches("10.0.0.0/8", "::ffff:10.0.0.1"));
	assert_false(matches("::/0", "10.0.0.1"));
	assert_false(matches("0.0.0.0/0", "2001:db8::1"));
	assert_true(matches("0.0.0.0/0", "1.2.3.4"));
	assert_true(matches("0.0.0.0/0", "255.255.255.255"));
	assert_true(matches("::/0", "2001:db8::1"));
	assert_true(matches("::/0", "::1"));

	assert_true(matches("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(matches("2001:db8::/32", "2001:db9::1"));
	assert_true(matches("2001:db8::/127", "2001:db8::1"));
	assert_false(matches("2001:db8::/127", "2001:db8::2"));
	assert_true(matches("2001:db8:8000::/33", "2001:db8:ffff::1"));
	assert_false(matches("2001:db8:8000::/33", "2001:db8:7fff::1"));
	assert_true(matches("2001:db8::1", "2001:db8::1"));
	assert_false(matches("2001:db8::1", "2001:db8::3"));
}

static void
test_cidr_field_error(void **state)
{
	struct frontend *fe = frontend_new("in");
	char err[FIELD_ERRLEN] = "";

	(void)state;
	assert_int_equal(parse_into(&frontend_fields, fe, "allowed-source",
	    "192.168.0.0/16,10.0.0.1/8", err, sizeof err), -1);
	assert_string_equal(err,
	    "allowed-source: \"10.0.0.1/8\" has host bits set after /8");
	assert_false(field_isset(&frontend_fields, fe,
	    field_of(&frontend_fields, "allowed-source")));
	assert_int_equal(parse_into(&frontend_fields, fe, "address",
	    "10.0.0.1,10.0.0.999", err, sizeof err), -1);
	assert_string_equal(err,
	    "address: \"10.0.0.999\" is not an IPv4 or IPv6 address");
	object_free(&frontend_fields, fe);
}

/* Two frontends, the same but for one list field given as two texts. */
static bool
lists_equal(const char *key, const char *x, const char *y)
{
	struct frontend *a = frontend_new("in"), *b = frontend_new("in");
	bool eq;

	set_ok(&frontend_fields, a, key, x);
	set_ok(&frontend_fields, b, key, y);
	eq = object_equal(&frontend_fields, a, b);
	object_free(&frontend_fields, a);
	object_free(&frontend_fields, b);
	return eq;
}

static void
test_lists_are_sets(void **state)
{
	(void)state;
	assert_true(lists_equal("address", "10.0.0.1,10.0.0.2",
	    "10.0.0.2,10.0.0.1"));
	assert_true(lists_equal("address", "10.0.0.1,2001:db8::1,10.0.0.2",
	    "[2001:db8::1],10.0.0.2,10.0.0.1,10.0.0.1"));
	assert_true(lists_equal("address", "2001:db8::1", "2001:db8:0::1"));
	assert_false(lists_equal("address", "10.0.0.1", "10.0.0.1,10.0.0.2"));
	assert_false(lists_equal("address", "10.0.0.1", "10.0.0.2"));
	assert_true(lists_equal("allowed-source", "10.0.0.0/8,192.168.0.0/16",
	    "192.168.0.0/16,10.0.0.0/8,10.0.0.0/8"));
	assert_true(lists_equal("allowed-source", "2001:db8::/32,10.0.0.0/8",
	    "10.0.0.0/8,[2001:db8::]/32"));
	assert_false(lists_equal("allowed-source", "10.0.0.0/8",
	    "10.0.0.0/16"));
	assert_false(lists_equal("allowed-source", "10.0.0.0/8",
	    "10.0.0.0/8,172.16.0.0/12"));
	assert_true(lists_equal("bind", "25,587", "587,25,25"));
	assert_false(lists_equal("bind", "25", "25,587"));
}

/* ---- the field tables ------------------------------------------------- */

static void
check_field(const struct fieldset *fs, const struct field *f,
    const void *obj)
{
	const char *k = fs->kind, *key = f->key;
	char err[FIELD_ERRLEN], *allowed, *s;
	void *tmp;

	if (key == NULL || !name_valid(key) || fieldset_find(fs, key) != f)
		fail_msg("%s field #%zu: bad or duplicate key", k,
		    field_index(fs, f));
	if (f->help == NULL || *f->help == '\0')
		fail_msg("%s %s: no help text", k, key);
	allowed = field_allowed(f);
	if (*allowed == '\0')
		fail_msg("%s %s: no allowed values", k, key);
	if (f->type == FT_ENUM && (f->enums == NULL || f->enums[0] == NULL))
		fail_msg("%s %s: enum without choices", k, key);
	/* What a field means is on the field. */
	if (strncmp(key, "probe", 5) == 0 && !(f->flags & F_PROBE))
		fail_msg("%s %s: no F_PROBE: a change would not restart the "
		    "probes", k, key);
	if ((f->flags & F_FARMREF) && f->type != FT_NAME)
		fail_msg("%s %s: F_FARMREF on a value that is not a name", k,
		    key);
	if ((f->type == FT_PORT || f->type == FT_PORTS) &&
	    (f->min < PORT_MIN || f->max > PORT_MAX))
		fail_msg("%s %s: range %ld-%ld is not within a port's", k, key,
		    f->min, f->max);
	if ((f->type == FT_UINT || f->type == FT_PORT || f->type == FT_PORTS ||
	    f->type == FT_DURATION) && f->min > f->max)
		fail_msg("%s %s: range %ld-%ld is empty", k, key, f->min,
		    f->max);
	for (size_t i = 0; f->type == FT_ENUM && f->enums[i] != NULL; i++)
		if (strstr(allowed, f->enums[i]) == NULL)
			fail_msg("%s %s: choice %s not in \"%s\"", k, key,
			    f->enums[i], allowed);
	free(allowed);
	/* Defaults are values, not settings. */
	if (field_isset(fs, obj, f))
		fail_msg("%s %s: set in a new object", k, key);
	if (f->def == NULL)
		return;
	tmp = object_new(fs);
	if (field_parse(fs, tmp, f, f->def, err, sizeof err) != 0)
		fail_msg("%s %s: default \"%s\": %s", k, key, f->def, err);
	if (!field_equal(f, obj, tmp))
		fail_msg("%s %s: new object does not hold the default", k, key);
	object_free(fs, tmp);
	s = field_format(f, obj);
	if (strcmp(s, f->def) != 0)
		fail_msg("%s %s: default \"%s\" shows as \"%s\"", k, key,
		    f->def, s);
	free(s);
}

static void
check_fieldset(const struct fieldset *fs)
{
	void *obj = object_new(fs);

	assert_true(fs->n > 0);
	assert_true(fs->n <= 64);	/* one set bit each */
	for (size_t i = 0; i < fs->n; i++)
		check_field(fs, &fs->f[i], obj);
	object_free(fs, obj);
}

static void
test_field_tables(void **state)
{
	(void)state;
	check_fieldset(&server_fields);
	check_fieldset(&farm_fields);
	check_fieldset(&frontend_fields);
}

/* The farm's fields that restart its probes: the probe-* ones, the
 * port the servers default to, and the source they connect from. */
static void
test_probe_flags(void **state)
{
	char *got = xstrdup(""), *t;

	(void)state;
	for (size_t i = 0; i < farm_fields.n; i++) {
		if (!(farm_fields.f[i].flags & F_PROBE))
			continue;
		t = xasprintf("%s%s%s", got, *got ? " " : "",
		    farm_fields.f[i].key);
		free(got);
		got = t;
	}
	assert_string_equal(got, "port probe probe-interval probe-timeout "
	    "probe-rise probe-fall probe-port probe-helo source");
	free(got);
	assert_true(fieldset_find(&frontend_fields, "farm")->flags & F_FARMREF);
}

/* A numeric field's range is its table's, ports included. */
struct ranged {
	uint64_t	 set;
	long		 port;
	struct portlist	 ports;
	long		 n;
};

#define R(m)	offsetof(struct ranged, m)
static const struct field ranged_f[] = {
	{ "port", FT_PORT, R(port), 1024, 2000, NULL, NULL, "PORT",
	  "a port above the privileged ones", 0 },
	{ "ports", FT_PORTS, R(ports), 1024, 2000, NULL, NULL, "PORTS",
	  "ports above the privileged ones", 0 },
	{ "n", FT_UINT, R(n), 70000, 80000, NULL, NULL, "N",
	  "a number above a port's range", 0 },
};
#undef R
static const struct fieldset ranged_fields = { "ranged", ranged_f,
    nitems(ranged_f), sizeof(struct ranged) };

static void
expect_range_error(const char *key, const char *text, json_t *j,
    const char *msg)
{
	const struct field *f = fieldset_find(&ranged_fields, key);
	struct ranged *r = object_new(&ranged_fields);
	char err[FIELD_ERRLEN] = "";

	if (text != NULL)
		assert_int_equal(field_parse(&ranged_fields, r, f, text, err,
		    sizeof err), -1);
	else
		assert_int_equal(field_from_json(&ranged_fields, r, f, j, err,
		    sizeof err), -1);
	assert_string_equal(err, msg);
	assert_false(field_isset(&ranged_fields, r, f));
	object_free(&ranged_fields, r);
	json_decref(j);
}

static void
test_field_ranges(void **state)
{
	struct ranged *r = object_new(&ranged_fields);
	const struct field *port = fieldset_find(&ranged_fields, "port");
	const struct field *ports = fieldset_find(&ranged_fields, "ports");
	const struct field *n = fieldset_find(&ranged_fields, "n");
	char err[FIELD_ERRLEN] = "", *s;
	json_t *j;

	(void)state;
	s = field_allowed(port);
	assert_string_equal(s, "1024-2000");
	free(s);
	expect_range_error("port", "25", NULL,
	    "port 25 is out of range 1024-2000");
	expect_range_error("port", "2001", NULL,
	    "port 2001 is out of range 1024-2000");
	expect_range_error("port", NULL, json_integer(80),
	    "port 80 is out of range 1024-2000");
	expect_range_error("ports", "25", NULL,
	    "ports: \"25\" is not a port (1024-2000)");
	expect_range_error("ports", NULL, json_string("1500,3000"),
	    "ports: \"3000\" is not a port (1024-2000)");
	expect_range_error("n", "65535", NULL,
	    "n 65535 is out of range 70000-80000");
	assert_int_equal(field_parse(&ranged_fields, r, port, "1024", err,
	    sizeof err), 0);
	j = json_integer(2000);
	assert_int_equal(field_from_json(&ranged_fields, r, port, j, err,
	    sizeof err), 0);
	json_decref(j);
	j = field_to_json(port, r);
	assert_int_equal(json_integer_value(j), 2000);
	json_decref(j);
	j = json_string("2000,1024-1030");
	assert_int_equal(field_from_json(&ranged_fields, r, ports, j, err,
	    sizeof err), 0);
	json_decref(j);
	s = field_format(ports, r);
	assert_string_equal(s, "1024-1030,2000");
	free(s);
	assert_int_equal(field_parse(&ranged_fields, r, n, "75000", err,
	    sizeof err), 0);
	object_free(&ranged_fields, r);
}

/* The rule of names as people read it (NAME_RULE), as JSON Schema reads it
 * (NAME_PATTERN) and as name_valid() applies it say the same. */
static bool
rule_allows(int c)
{
	const char *p = strstr(NAME_RULE, " of ") + 4;

	while (*p != '\0') {
		if (p[1] == '-' && p[2] != '\0' && p[2] != ' ') {
			if (c >= p[0] && c <= p[2])
				return true;
			p += 3;
		} else if (*p++ == c)
			return true;
		p += strspn(p, " ");
	}
	return false;
}

static void
test_name_rule(void **state)
{
	char s[NAME_LEN_MAX + 2];
	regex_t re;
	int lo, hi;

	(void)state;
	assert_int_equal(regcomp(&re, NAME_PATTERN, REG_EXTENDED | REG_NOSUB),
	    0);
	for (int c = 1; c < 256; c++) {
		bool ok;
		s[0] = (char)c;
		s[1] = '\0';
		ok = name_valid(s);
		if (ok != rule_allows(c) ||
		    ok != (regexec(&re, s, 0, NULL, 0) == 0))
			fail_msg("byte %d: name_valid %d, \"%s\" %d, %s %d", c,
			    ok, NAME_RULE, rule_allows(c), NAME_PATTERN,
			    regexec(&re, s, 0, NULL, 0) == 0);
	}
	assert_int_equal(sscanf(NAME_RULE, "%d-%d of ", &lo, &hi), 2);
	for (int len = 0; len <= NAME_LEN_MAX + 1; len++) {
		memset(s, 'a', (size_t)len);
		s[len] = '\0';
		assert_int_equal(name_valid(s), len >= lo && len <= hi);
		assert_int_equal(regexec(&re, s, 0, NULL, 0) == 0,
		    len >= lo && len <= hi);
	}
	regfree(&re);
	/* The words people have read so far. */
	assert_string_equal(NAME_RULE, "1-63 of A-Z a-z 0-9 _ . -");
	assert_string_equal(NAME_PATTERN, "^[A-Za-z0-9_.-]{1,63}$");
	/* A zone's name also says what its socket is named. */
	assert_true(zone_name_valid("z.1"));
	assert_false(zone_name_valid(".z"));
	assert_non_null(strstr(ZONE_NAME_RULE, NAME_RULE));
}

/* Where mxlbd puts a zone's socket is where mxlb looks for it. */
static void
test_zone_paths(void **state)
{
	char *dir, *sock, *zone;

	(void)state;
	setenv("MXLB_RUNDIR", "/x/run", 1);
	setenv("MXLB_STATEDIR", "/x/state", 1);
	dir = zone_rundir(NULL);
	assert_string_equal(dir, "/x/run");
	free(dir);
	dir = zone_rundir("/flag");
	assert_string_equal(dir, "/flag");
	sock = zone_sock(dir, "inbound");
	assert_string_equal(sock, "/flag/inbound.sock");
	zone = zone_of_sock(strrchr(sock, '/') + 1);
	assert_string_equal(zone, "inbound");
	free(zone);
	free(sock);
	free(dir);
	dir = zone_statedir(NULL);
	assert_string_equal(dir, "/x/state");
	free(dir);
	assert_null(zone_of_sock(".sock"));
	assert_null(zone_of_sock("inbound.sock.tmp"));
	assert_null(zone_of_sock("state.json"));
	unsetenv("MXLB_RUNDIR");
	unsetenv("MXLB_STATEDIR");
}

static void
test_enum_error(void **state)
{
	struct farm *f = farm_new("mx");
	char err[FIELD_ERRLEN] = "";

	(void)state;
	assert_int_equal(parse_into(&farm_fields, f, "balance", "random", err,
	    sizeof err), -1);
	assert_string_equal(err, "balance \"random\" is not one of the choices "
	    "(allowed: roundrobin|leastconn|source|first)");
	set_ok(&farm_fields, f, "balance", "first");
	assert_int_equal(f->balance, BAL_FIRST);
	farm_free(f);
}

/* ---- durations -------------------------------------------------------- */

static long
duration_ms(const char *key, const char *text)
{
	struct farm *f = farm_new("mx");
	const struct field *fd = field_of(&farm_fields, key);
	long v;

	set_ok(&farm_fields, f, key, text);
	v = *(const long *)FIELD_CPTR(f, fd);
	farm_free(f);
	return v;
}

static void
expect_duration_error(const char *key, const char *text, const char *msg)
{
	struct farm *f = farm_new("mx");
	char err[FIELD_ERRLEN] = "";

	assert_int_equal(parse_into(&farm_fields, f, key, text, err,
	    sizeof err), -1);
	assert_string_equal(err, msg);
	farm_free(f);
}

static void
test_durations(void **state)
{
	(void)state;
	assert_int_equal(duration_ms("queue-timeout", "30"), 30000);
	assert_int_equal(duration_ms("queue-timeout", "1.5"), 1500);
	assert_int_equal(duration_ms("queue-timeout", "500ms"), 500);
	assert_int_equal(duration_ms("queue-timeout", "2m"), 120000);
	assert_int_equal(duration_ms("queue-timeout", "1h"), 3600000);
	assert_int_equal(duration_ms("queue-timeout", "2s"), 2000);
	assert_int_equal(duration_ms("queue-timeout", "0"), 0);
	assert_int_equal(duration_ms("probe-interval", "0.1"), 100);

	expect_duration_error("probe-interval", "2h",
	    "probe-interval 2h is out of range 0.1-3600 seconds");
	expect_duration_error("probe-interval", "50ms",
	    "probe-interval 50ms is out of range 0.1-3600 seconds");
	expect_duration_error("probe-interval", "0",
	    "probe-interval 0 is out of range 0.1-3600 seconds");
	expect_duration_error("connect-timeout", "301",
	    "connect-timeout 301 is out of range 0.1-300 seconds");
	expect_duration_error("queue-timeout", "61m",
	    "queue-timeout 61m is out of range 0-3600 seconds");
	expect_duration_error("queue-timeout", "abc",
	    "queue-timeout \"abc\" is not valid (allowed: 0-3600 seconds)");
	expect_duration_error("queue-timeout", "-1",
	    "queue-timeout \"-1\" is not valid (allowed: 0-3600 seconds)");
	expect_duration_error("queue-timeout", "5x",
	    "queue-timeout \"5x\" is not valid (allowed: 0-3600 seconds)");
	expect_duration_error("queue-timeout", "",
	    "queue-timeout \"\" is not valid (allowed: 0-3600 seconds)");
}

static void
test_duration_json(void **state)
{
	struct errs e = { 0 };
	struct config *c = load("{\"zone\":\"z\",\"farms\":[{\"name\":\"mx\","
	    "\"probe-interval\":1.5,\"probe-timeout\":\"500ms\","
	    "\"queue-timeout\":30,\"connect-timeout\":\"2m\"}]}", &e);

	(void)state;
	if (c == NULL) {
		errs_print(&e);
		fail();
	}
	assert_int_equal(c->farms[0]->probe_interval, 1500);
	assert_int_equal(c->farms[0]->probe_timeout, 500);
	assert_int_equal(c->farms[0]->queue_timeout, 30000);
	assert_int_equal(c->farms[0]->connect_timeout, 120000);
	config_free(c);
	expect_only_error("{\"zone\":\"z\",\"farms\":[{\"name\":\"mx\","
	    "\"probe-interval\":-1}]}",
	    "farm mx: probe-interval has the wrong JSON type "
	    "(allowed: 0.1-3600 seconds)");
}

/* ---- validation ------------------------------------------------------- */

static const char good_config[] =
    "{\n"
    "  \"zone\": \"z1\",\n"
    "  \"farms\": [\n"
    "    { \"name\": \"mx\", \"balance\": \"leastconn\",\n"
    "      \"stickiness\": \"source\", \"port\": 25, \"probe\": \"smtp\",\n"
    "      \"probe-interval\": 2.5, \"probe-timeout\": \"500ms\",\n"
    "      \"probe-rise\": 2, \"probe-fall\": 4,\n"
    "      \"probe-helo\": \"lb.example.org\", \"on-unavailable\": \"close\",\n"
    "      \"queue-timeout\": 0, \"connect-timeout\": 5,\n"
    "      \"servers\": [\n"
    "        { \"address\": \"10.0.0.1\", \"weight\": 3, \"priority\": 0 },\n"
    "        { \"address\": \"10.0.0.2\", \"name\": \"mx2\", \"weight\": 0,\n"
    "          \"port\": 2525, \"maxconn\": 100, \"proxyprotocol\": \"v2\" },\n"
    "        { \"address\": \"2001:db8::1\", \"priority\": 10 },\n"
    "        { \"address\": \"10.0.0.9\", \"backup\": true,\n"
    "          \"status\": \"inactive\" }\n"
    "      ] },\n"
    "    { \"name\": \"sub\", \"probe\": \"tcp\", \"servers\": [] }\n"
    "  ],\n"
    "  \"frontends\": [\n"
    "    { \"name\": \"in\", \"bind\": \"25\", \"farm\": \"mx\",\n"
    "      \"address\": [\"192.0.2.1\", \"2001:db8::53\"],\n"
    "      \"allowed-source\": [\"10.0.0.0/8\", \"2001:db8::/32\"],\n"
    "      \"denied-source\": \"10.9.0.0/16,10.8.0.0/16\",\n"
    "      \"maxconn\": 1000, \"source-maxconn\": 10, \"source-rate\": 60,\n"
    "      \"idle-timeout\": 300 },\n"
    "    { \"name\": \"sub\", \"bind\": \"587,2500-2510\", \"farm\": \"sub\",\n"
    "      \"disabled\": true }\n"
    "  ]\n"
    "}\n";

static void
test_good_config(void **state)
{
	struct errs e = { 0 };
	struct config *c = load(good_config, &e);
	struct farm *mx;
	struct frontend *in;

	(void)state;
	if (c == NULL || e.n != 0) {
		errs_print(&e);
		fail();
	}
	assert_int_equal(config_validate(c, &e), 0);
	assert_string_equal(c->zone, "z1");
	assert_int_equal(c->nfarms, 2);
	assert_int_equal(c->nfrontends, 2);
	mx = config_farm(c, "mx");
	assert_non_null(mx);
	assert_int_equal(mx->balance, BAL_LEASTCONN);
	assert_int_equal(mx->stickiness, STICK_SOURCE);
	assert_int_equal(mx->probe_interval, 2500);
	assert_int_equal(mx->nservers, 4);
	assert_non_null(farm_server(mx, "10.0.0.1"));
	assert_non_null(farm_server(mx, "mx2"));
	assert_null(farm_server(mx, "10.0.0.2"));
	assert_non_null(farm_server(mx, "2001:db8::1"));
	assert_int_equal(farm_server(mx, "10.0.0.1")->weight, 3);
	assert_int_equal(farm_server(mx, "mx2")->maxconn, 100);
	assert_int_equal(farm_server(mx, "10.0.0.9")->backup, 1);
	assert_int_equal(farm_server(mx, "10.0.0.9")->status, STATUS_INACTIVE);
	/* Unset fields hold their defaults. */
	assert_int_equal(farm_server(mx, "2001:db8::1")->weight, 1);
	assert_int_equal(config_farm(c, "sub")->balance, BAL_ROUNDROBIN);
	in = config_frontend(c, "in");
	assert_non_null(in);
	assert_int_equal(in->address.n, 2);
	assert_int_equal(in->denied_source.n, 2);
	assert_int_equal(in->idle_timeout, 300000);
	assert_true(portlist_has(&config_frontend(c, "sub")->bind, 2505));
	assert_int_equal(config_frontend(c, "sub")->disabled, 1);
	assert_int_equal(config_frontend(c, "sub")->idle_timeout, 600000);
	config_free(c);
	errs_free(&e);
}

#define FARM_MX(servers) \
	"{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\",\"servers\":[" servers \
	"]}],\"frontends\":[{\"name\":\"in\",\"bind\":\"25\",\"farm\":\"mx\"}]}"

static void
test_bad_values(void **state)
{
	(void)state;
	expect_only_error(FARM_MX("{\"address\":\"10.0.0.1\",\"weight\":300}"),
	    "farm mx: server 10.0.0.1: weight 300 is out of range 0-256");
	expect_only_error(FARM_MX("{\"address\":\"10.0.0.1\",\"name\":\"a\","
	    "\"priority\":70000}"),
	    "farm mx: server a: priority 70000 is out of range 0-65535");
	expect_only_error(FARM_MX("{\"address\":\"10.0.0.1\",\"maxconn\":0}"),
	    "farm mx: server 10.0.0.1: maxconn 0 is out of range 1-1000000");
	expect_only_error(FARM_MX("{\"address\":\"10.0.0.1\",\"port\":70000}"),
	    "farm mx: server 10.0.0.1: port 70000 is out of range 1-65535");
	expect_only_error(FARM_MX("{\"address\":\"10.0.0.1\","
	    "\"proxyprotocol\":\"v3\"}"),
	    "farm mx: server 10.0.0.1: proxyprotocol \"v3\" is not one of the "
	    "choices (allowed: none|v1|v2)");
	expect_only_error(FARM_MX("{\"address\":\"10.0.0.1\",\"weight\":\"x\"}"),
	    "farm mx: server 10.0.0.1: weight \"x\" is not valid "
	    "(allowed: 0-256)");
	expect_only_error(FARM_MX("{\"address\":\"10.0.0.1\",\"backup\":1}"),
	    "farm mx: server 10.0.0.1: backup must be true or false");
	expect_only_error(FARM_MX("{\"address\":\"10.0.0.300\"}"),
	    "farm mx: server 10.0.0.300: address: \"10.0.0.300\" is not an "
	    "IPv4 or IPv6 address");
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\","
	    "\"balance\":\"random\"}]}",
	    "farm mx: balance \"random\" is not one of the choices "
	    "(allowed: roundrobin|leastconn|source|first)");
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\","
	    "\"probe-rise\":0}]}",
	    "farm mx: probe-rise 0 is out of range 1-100");
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\"}],"
	    "\"frontends\":[{\"name\":\"in\",\"bind\":\"25\",\"farm\":\"mx\","
	    "\"allowed-source\":[\"10.0.0.1/8\"]}]}",
	    "frontend in: allowed-source: \"10.0.0.1/8\" has host bits set "
	    "after /8");
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\"}],"
	    "\"frontends\":[{\"name\":\"in\",\"bind\":\"0\",\"farm\":\"mx\"}]}",
	    "frontend in: bind: \"0\" is not a port (1-65535)");
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\"}],"
	    "\"frontends\":[{\"name\":\"in\",\"bind\":\"25\",\"farm\":\"mx\","
	    "\"idle-timeout\":0.5}]}",
	    "frontend in: idle-timeout 0.500 is out of range 1-3600 seconds");
	expect_only_error("{\"zone\":\"z 1\"}",
	    "zone \"z 1\": name must be 1-63 of A-Z a-z 0-9 _ . -");
}

static void
test_unknown_field(void **state)
{
	(void)state;
	expect_only_error(FARM_MX("{\"address\":\"10.0.0.1\",\"wieght\":2}"),
	    "farm mx: server 10.0.0.1: unknown field \"wieght\" (known: "
	    "address, name, port, weight, priority, backup, proxyprotocol, "
	    "xclient, maxconn, status, agent-port, agent-interval)");
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\","
	    "\"algo\":\"first\"}]}",
	    "farm mx: unknown field \"algo\" (known: servers, name, balance, "
	    "stickiness, port, probe, probe-interval, probe-timeout, "
	    "probe-rise, probe-fall, probe-port, probe-helo, on-unavailable, "
	    "queue-timeout, connect-timeout, source, slowstart, greeting-timeout, "
	    "on-greeting-5xx, passive-health, forward)");
	expect_only_error("{\"zone\":\"z1\",\"farm\":[]}",
	    "config: unknown field \"farm\" (known: zone, farms, frontends)");
}

static void
test_missing_farm(void **state)
{
	(void)state;
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\"}],"
	    "\"frontends\":[{\"name\":\"in\",\"bind\":\"25\",\"farm\":\"mxx\"}]}",
	    "frontend in: farm \"mxx\" does not exist in zone z1");
}

static void
test_duplicates(void **state)
{
	(void)state;
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\"},"
	    "{\"name\":\"mx\"}]}", "farm mx: defined twice");
	expect_only_error(FARM_MX("{\"address\":\"10.0.0.1\"},"
	    "{\"address\":\"10.0.0.1\",\"port\":2525}"),
	    "farm mx: server 10.0.0.1: the name is used twice in the farm "
	    "(give one a name)");
	/* A name may clash with another server's address. */
	expect_only_error(FARM_MX("{\"address\":\"10.0.0.1\"},"
	    "{\"address\":\"10.0.0.2\",\"name\":\"10.0.0.1\"}"),
	    "farm mx: server 10.0.0.1: the name is used twice in the farm "
	    "(give one a name)");
	/* The same address under two names is fine. */
	expect_valid(FARM_MX("{\"address\":\"10.0.0.1\",\"name\":\"a\"},"
	    "{\"address\":\"10.0.0.1\",\"name\":\"b\",\"port\":2525}"));
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\"}],"
	    "\"frontends\":[{\"name\":\"in\",\"bind\":\"25\",\"farm\":\"mx\"},"
	    "{\"name\":\"in\",\"bind\":\"587\",\"farm\":\"mx\"}]}",
	    "frontend in: defined twice");
}

/* Two frontends "a" and "b" on farm mx, with the given bind and address
 * members (JSON text, may be empty). */
static char *
two_frontends(const char *a, const char *b)
{
	return xasprintf("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\"}],"
	    "\"frontends\":[{\"name\":\"a\",\"farm\":\"mx\",%s},"
	    "{\"name\":\"b\",\"farm\":\"mx\",%s}]}", a, b);
}

static void
expect_clash(const char *a, const char *b)
{
	char *text = two_frontends(a, b);

	expect_only_error(text, "frontend b: listens on an address and port "
	    "that frontend a already has");
	free(text);
}

static void
expect_no_clash(const char *a, const char *b)
{
	char *text = two_frontends(a, b);

	expect_valid(text);
	free(text);
}

static void
test_listen_clash(void **state)
{
	(void)state;
	expect_clash("\"bind\":\"25\"", "\"bind\":\"25\"");
	expect_clash("\"bind\":\"20-30\"", "\"bind\":\"587,25\"");
	expect_clash("\"bind\":\"25\",\"address\":[\"10.0.0.1\"]",
	    "\"bind\":\"25\",\"address\":[\"10.0.0.2\",\"10.0.0.1\"]");
	expect_clash("\"bind\":\"25\",\"address\":[\"2001:db8::1\"]",
	    "\"bind\":\"25\",\"address\":[\"[2001:db8::1]\"]");
	/* No address means every address: it clashes with any. */
	expect_clash("\"bind\":\"25\"",
	    "\"bind\":\"25\",\"address\":[\"10.0.0.1\"]");
	expect_clash("\"bind\":\"25\",\"address\":[\"2001:db8::1\"]",
	    "\"bind\":\"25\"");

	expect_no_clash("\"bind\":\"25\"", "\"bind\":\"587\"");
	expect_no_clash("\"bind\":\"2500-2510\"", "\"bind\":\"2511,2499\"");
	expect_no_clash("\"bind\":\"25\",\"address\":[\"10.0.0.1\"]",
	    "\"bind\":\"25\",\"address\":[\"10.0.0.2\"]");
	expect_no_clash("\"bind\":\"25\",\"address\":[\"10.0.0.1\"]",
	    "\"bind\":\"25\",\"address\":[\"2001:db8::1\"]");
}

/*
 * 0.0.0.0 (or ::) written out is the wildcard of its family: the kernel
 * refuses a listener on 10.0.0.1:25 next to one on 0.0.0.0:25 (EADDRINUSE,
 * even with SO_REUSEADDR), so validation must catch it, as the comment on
 * listen_overlap() says it does.
 */
static void
test_listen_clash_explicit_wildcard(void **state)
{
	(void)state;
	expect_clash("\"bind\":\"25\",\"address\":[\"0.0.0.0\"]",
	    "\"bind\":\"25\",\"address\":[\"10.0.0.1\"]");
	expect_clash("\"bind\":\"25\",\"address\":[\"2001:db8::1\"]",
	    "\"bind\":\"25\",\"address\":[\"::\"]");
	/* "::" listens dual-stack: it takes the port on IPv4 too. */
	expect_clash("\"bind\":\"25\",\"address\":[\"10.0.0.1\"]",
	    "\"bind\":\"25\",\"address\":[\"::\"]");
	expect_clash("\"bind\":\"25\",\"address\":[\"::\"]",
	    "\"bind\":\"25\",\"address\":[\"0.0.0.0\"]");
	/* Another IPv6 address leaves IPv4 free. */
	expect_no_clash("\"bind\":\"25\",\"address\":[\"10.0.0.1\"]",
	    "\"bind\":\"25\",\"address\":[\"2001:db8::1\"]");
}

/* Farm mx with one server (JSON members), in front of frontend "in"
 * (JSON members besides name and farm). */
static char *
loop_config(const char *farm, const char *server, const char *fe)
{
	return xasprintf("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\"%s%s,"
	    "\"servers\":[{\"name\":\"s1\",%s}]}],"
	    "\"frontends\":[{\"name\":\"in\",\"farm\":\"mx\",%s}]}",
	    *farm ? "," : "", farm, server, fe);
}

static void
expect_loop(const char *farm, const char *server, const char *fe,
    const char *msg)
{
	char *text = loop_config(farm, server, fe);

	expect_only_error(text, msg);
	free(text);
}

static void
expect_no_loop(const char *farm, const char *server, const char *fe)
{
	char *text = loop_config(farm, server, fe);

	expect_valid(text);
	free(text);
}

#define LOOP_MSG(addr, port, via) "farm mx: server s1: connects to " addr \
	" port " port via ", where frontend in listens: every session would " \
	"loop back into this zone (give the server another address or port)"

/* A server that is the zone's own frontend: one client would chain
 * sessions until the engine runs out of descriptors. */
static void
test_server_loop(void **state)
{
	(void)state;
	/* The port inherited from the frontend, which listens everywhere. */
	expect_loop("", "\"address\":\"127.0.0.1\"", "\"bind\":\"25\"",
	    LOOP_MSG("127.0.0.1", "25", " (the port of frontend in)"));
	expect_loop("", "\"address\":\"::1\"", "\"bind\":\"25,587\"",
	    LOOP_MSG("::1", "25", " (the port of frontend in)"));
	expect_loop("", "\"address\":\"127.0.0.2\"",
	    "\"bind\":\"25\",\"address\":[\"0.0.0.0\"]",
	    LOOP_MSG("127.0.0.2", "25", " (the port of frontend in)"));
	/* "::" is dual-stack: IPv4 loopback reaches it. */
	expect_loop("", "\"address\":\"::ffff:127.0.0.1\"",
	    "\"bind\":\"25\",\"address\":[\"::\"]",
	    LOOP_MSG("127.0.0.1", "25", " (the port of frontend in)"));
	/* The port from the server or the farm. */
	expect_loop("", "\"address\":\"127.0.0.1\",\"port\":2525",
	    "\"bind\":\"25,2525\"", LOOP_MSG("127.0.0.1", "2525", ""));
	expect_loop("\"port\":2525", "\"address\":\"10.0.0.1\"",
	    "\"bind\":\"2525\",\"address\":[\"10.0.0.1\"]",
	    LOOP_MSG("10.0.0.1", "2525", ""));

	/* Another host, or another port, is what a farm is for. */
	expect_no_loop("", "\"address\":\"10.0.0.1\"", "\"bind\":\"25\"");
	expect_no_loop("", "\"address\":\"127.0.0.1\",\"port\":2525",
	    "\"bind\":\"25\"");
	expect_no_loop("\"port\":2525", "\"address\":\"127.0.0.1\"",
	    "\"bind\":\"25\"");
	expect_no_loop("", "\"address\":\"127.0.0.1\"",
	    "\"bind\":\"25\",\"address\":[\"10.0.0.1\"]");
	/* The IPv4 wildcard does not take IPv6 loopback. */
	expect_no_loop("", "\"address\":\"::1\"",
	    "\"bind\":\"25\",\"address\":[\"0.0.0.0\"]");
}

/* The loop may go through another frontend of the zone. */
static void
test_server_loop_other_frontend(void **state)
{
	(void)state;
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\","
	    "\"servers\":[{\"address\":\"127.0.0.1\",\"port\":2525}]}],"
	    "\"frontends\":[{\"name\":\"in\",\"farm\":\"mx\",\"bind\":\"25\","
	    "\"address\":[\"192.0.2.1\"]},{\"name\":\"sub\",\"farm\":\"mx\","
	    "\"bind\":\"2525\",\"address\":[\"127.0.0.1\"]}]}",
	    "farm mx: server 127.0.0.1: connects to 127.0.0.1 port 2525, where "
	    "frontend sub listens: every session would loop back into this "
	    "zone (give the server another address or port)");
}

static void
test_missing_required(void **state)
{
	(void)state;
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\"}],"
	    "\"frontends\":[{\"name\":\"in\",\"farm\":\"mx\"}]}",
	    "frontend in: bind is required");
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\"}],"
	    "\"frontends\":[{\"name\":\"in\",\"bind\":\"25\"}]}",
	    "frontend in: farm is required");
	expect_only_error(FARM_MX("{\"address\":\"10.0.0.1\"},"
	    "{\"name\":\"b\",\"weight\":2}"),
	    "farm mx: server b: address is required");
}

/* A server with neither name nor address is known by its position, as the
 * errors found while reading it call it; two of them are two problems. */
static void
test_missing_server_address(void **state)
{
	struct errs e = { 0 };
	struct config *c;

	(void)state;
	c = load(FARM_MX("{\"weight\":2},{\"port\":2525}"), &e);
	assert_null(c);
	expect_error(&e, "farm mx: server #1: address is required");
	expect_error(&e, "farm mx: server #2: address is required");
	if (e.n != 2) {
		errs_print(&e);
		fail_msg("expected 2 errors, got %zu", e.n);
	}
	errs_free(&e);
}

/* One mistake, one message: a missing or bad name is not reported twice. */
static void
test_one_error_per_problem(void **state)
{
	(void)state;
	expect_only_error("{\"farms\":[]}", "config: zone is required (a name)");
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"a b\"}]}",
	    "farm a b: name \"a b\" is not valid (allowed: 1-63 of A-Z a-z "
	    "0-9 _ . -)");
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"port\":25}]}",
	    "farm #1: name is required");
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\"}],"
	    "\"frontends\":[{\"bind\":\"25\",\"farm\":\"mx\"}]}",
	    "frontend #1: name is required");
}

static void
test_many_errors(void **state)
{
	struct errs e = { 0 };
	struct config *c;

	(void)state;
	c = load("{\"zone\":\"z1\","
	    "\"farms\":[{\"name\":\"mx\",\"balance\":\"random\",\"servers\":["
	    "{\"address\":\"10.0.0.1\",\"weight\":300},"
	    "{\"address\":\"10.0.0.2\",\"wieght\":1}]},"
	    "{\"name\":\"mx\"}],"
	    "\"frontends\":[{\"name\":\"in\",\"bind\":\"25\",\"farm\":\"nope\"},"
	    "{\"name\":\"out\",\"bind\":\"25\",\"farm\":\"mx\"},"
	    "{\"name\":\"sub\",\"farm\":\"mx\"}]}", &e);
	assert_null(c);
	expect_error(&e, "farm mx: balance \"random\" is not one of the "
	    "choices (allowed: roundrobin|leastconn|source|first)");
	expect_error(&e, "farm mx: server 10.0.0.1: weight 300 is out of "
	    "range 0-256");
	expect_error(&e, "farm mx: server 10.0.0.2: unknown field \"wieght\" "
	    "(known: address, name, port, weight, priority, backup, "
	    "proxyprotocol, xclient, maxconn, status, agent-port, agent-interval)");
	expect_error(&e, "farm mx: defined twice");
	expect_error(&e, "frontend in: farm \"nope\" does not exist in zone z1");
	expect_error(&e, "frontend out: listens on an address and port that "
	    "frontend in already has");
	expect_error(&e, "frontend sub: bind is required");
	if (e.n != 7) {
		errs_print(&e);
		fail_msg("expected 7 errors, got %zu", e.n);
	}
	errs_free(&e);
}

/* ---- unset, JSON round trip, equality --------------------------------- */

static json_t *
server_json(const struct server *s)
{
	struct config *c = config_new("z");
	struct farm *f = farm_new("mx");
	json_t *root, *j;

	farm_add_server(f, object_dup(&server_fields, s));
	config_add_farm(c, f);
	root = config_to_json(c);
	j = json_array_get(json_object_get(json_array_get(
	    json_object_get(root, "farms"), 0), "servers"), 0);
	json_incref(j);
	json_decref(root);
	config_free(c);
	return j;
}

static void
test_unset_is_not_zero(void **state)
{
	struct mxaddr a = addr("10.0.0.1");
	struct server *unset = server_new(&a), *zero = server_new(&a);
	struct server *one = server_new(&a);
	json_t *j;

	(void)state;
	set_ok(&server_fields, zero, "weight", "0");
	set_ok(&server_fields, one, "weight", "1");
	/* Same value as the default, but a setting. */
	assert_int_equal(unset->weight, one->weight);
	assert_false(object_equal(&server_fields, unset, one));
	assert_false(object_equal(&server_fields, unset, zero));

	j = server_json(unset);
	assert_null(json_object_get(j, "weight"));
	assert_string_equal(json_string_value(json_object_get(j, "address")),
	    "10.0.0.1");
	assert_int_equal(json_object_size(j), 1);
	json_decref(j);

	j = server_json(zero);
	assert_true(json_is_integer(json_object_get(j, "weight")));
	assert_int_equal(json_integer_value(json_object_get(j, "weight")), 0);
	json_decref(j);

	j = server_json(one);
	assert_int_equal(json_integer_value(json_object_get(j, "weight")), 1);
	json_decref(j);

	/* JSON null resets a field to unset. */
	field_reset(&server_fields, one, field_of(&server_fields, "weight"));
	assert_true(object_equal(&server_fields, unset, one));

	object_free(&server_fields, unset);
	object_free(&server_fields, zero);
	object_free(&server_fields, one);
}

static void
test_unset_round_trip(void **state)
{
	struct errs e = { 0 };
	struct config *c;
	json_t *root, *srv;

	(void)state;
	c = load(FARM_MX("{\"address\":\"10.0.0.1\"},"
	    "{\"address\":\"10.0.0.2\",\"weight\":0}"), &e);
	assert_non_null(c);
	root = config_to_json(c);
	srv = json_object_get(json_array_get(json_object_get(root, "farms"), 0),
	    "servers");
	assert_null(json_object_get(json_array_get(srv, 0), "weight"));
	assert_non_null(json_object_get(json_array_get(srv, 1), "weight"));
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(srv, 1), "weight")), 0);
	json_decref(root);
	config_free(c);
}

static char *
dump(const struct config *c)
{
	json_t *j = config_to_json(c);
	char *s = json_dumps(j, JSON_INDENT(2));

	json_decref(j);
	assert_non_null(s);
	return s;
}

static void
test_json_round_trip(void **state)
{
	struct errs e = { 0 };
	struct config *c1, *c2, *c3;
	char *t1, *t2, *t3;

	(void)state;
	c1 = load(good_config, &e);
	assert_non_null(c1);
	t1 = dump(c1);
	c2 = load(t1, &e);
	if (c2 == NULL) {
		print_message("%s\n", t1);
		errs_print(&e);
		fail();
	}
	assert_true(config_equal(c1, c2));
	assert_true(config_equal(c2, c1));
	t2 = dump(c2);
	assert_string_equal(t1, t2);
	c3 = load(t2, &e);
	assert_non_null(c3);
	t3 = dump(c3);
	assert_string_equal(t2, t3);
	assert_true(config_equal(c1, c3));
	assert_int_equal(e.n, 0);
	/* What was set is written; defaults are not. */
	assert_non_null(strstr(t1, "\"probe-interval\": 2.5"));
	assert_non_null(strstr(t1, "\"probe-timeout\": 0.5"));
	assert_non_null(strstr(t1, "\"bind\": \"587,2500-2510\""));
	assert_null(strstr(t1, "idle-timeout\": 600"));
	free(t1);
	free(t2);
	free(t3);
	config_free(c1);
	config_free(c2);
	config_free(c3);
}

/* A farm's source: "client" (kept as family AF_UNSPEC), or one address;
 * written back as it was given; an address of another family than a
 * server, or the wildcard, is refused with the farm and the reason. */
static void
test_farm_source(void **state)
{
	const struct field *f = fieldset_find(&farm_fields, "source");
	struct farm *a = farm_new("mx"), *b = farm_new("mx");
	char err[FIELD_ERRLEN], *t;

	(void)state;
	assert_non_null(f);
	assert_false(field_isset(&farm_fields, a, f));
	assert_int_equal(field_parse(&farm_fields, a, f, "client", err,
	    sizeof err), 0);
	assert_true(field_isset(&farm_fields, a, f));
	assert_int_equal(a->source.family, AF_UNSPEC);
	t = field_format(f, a);
	assert_string_equal(t, "client");
	free(t);
	assert_int_equal(field_parse(&farm_fields, b, f, "[2001:db8::7]", err,
	    sizeof err), 0);
	assert_int_equal(b->source.family, AF_INET6);
	t = field_format(f, b);
	assert_string_equal(t, "2001:db8::7");
	free(t);
	assert_false(field_equal(f, a, b));
	assert_int_equal(field_parse(&farm_fields, b, f, "client", err,
	    sizeof err), 0);
	assert_true(object_equal(&farm_fields, a, b));
	/* A bad value leaves the field as it was. */
	assert_int_equal(field_parse(&farm_fields, b, f, "clients", err,
	    sizeof err), -1);
	assert_string_equal(err, "source: \"clients\" is neither client nor "
	    "an IPv4 or IPv6 address");
	assert_int_equal(b->source.family, AF_UNSPEC);
	farm_free(a);
	farm_free(b);

	expect_valid("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\","
	    "\"source\":\"client\",\"servers\":[{\"address\":\"10.0.0.1\"},"
	    "{\"address\":\"2001:db8::1\"}]}]}");
	expect_valid("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\","
	    "\"source\":\"10.0.0.9\",\"servers\":[{\"address\":\"10.0.0.1\"}]}]}");
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\","
	    "\"source\":\"10.0.0.9\",\"servers\":[{\"address\":\"10.0.0.1\"},"
	    "{\"address\":\"2001:db8::1\",\"name\":\"v6\"}]}]}",
	    "farm mx: source 10.0.0.9 is IPv4, server v6 is not: it could not "
	    "be reached from it");
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\","
	    "\"source\":\"0.0.0.0\"}]}",
	    "farm mx: source 0.0.0.0 is not one address (no source: the "
	    "address routing picks)");
	expect_only_error("{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\","
	    "\"source\":5}]}",
	    "farm mx: source has the wrong JSON type (allowed: client, or an "
	    "IPv4 or IPv6 address of this host)");
}

/* Durations are exported as people write them: 0.1, not a binary double.
 * The engine dumps with JSON_COMPACT (mxlbd.c). */
static void
test_json_durations_readable(void **state)
{
	struct errs e = { 0 };
	struct config *c;
	json_t *j;
	char *s;

	(void)state;
	c = load("{\"zone\":\"z\",\"farms\":[{\"name\":\"mx\","
	    "\"probe-timeout\":\"100ms\",\"queue-timeout\":0.3,"
	    "\"probe-interval\":1.5}]}", &e);
	assert_non_null(c);
	j = config_to_json(c);
	s = json_dumps(j, CONFIG_JSON_FLAGS);
	if (strstr(s, "\"probe-interval\":1.5") == NULL ||
	    strstr(s, "\"probe-timeout\":0.1,") == NULL ||
	    strstr(s, "\"queue-timeout\":0.3,") == NULL)
		fail_msg("exported: %s", s);
	free(s);
	json_decref(j);
	config_free(c);
}

static void
test_dup_and_change(void **state)
{
	struct errs e = { 0 };
	struct config *c = load(good_config, &e), *d;
	struct server *s;
	struct frontend *fe;

	(void)state;
	assert_non_null(c);
	d = config_dup(c);
	assert_true(config_equal(c, d));
	/* A deep copy: changing the copy leaves the original. */
	s = farm_server(config_farm(d, "mx"), "10.0.0.1");
	set_ok(&server_fields, s, "weight", "5");
	assert_false(config_equal(c, d));
	assert_int_equal(farm_server(config_farm(c, "mx"), "10.0.0.1")->weight,
	    3);
	set_ok(&server_fields, s, "weight", "3");
	assert_true(config_equal(c, d));

	fe = config_frontend(d, "in");
	set_ok(&frontend_fields, fe, "address", "2001:db8::53,192.0.2.1");
	assert_true(config_equal(c, d));	/* the same set */
	set_ok(&frontend_fields, fe, "address", "192.0.2.1");
	assert_false(config_equal(c, d));
	config_free(d);

	d = config_dup(c);
	set_ok(&farm_fields, config_farm(d, "sub"), "probe", "none");
	assert_false(config_equal(c, d));
	config_free(d);

	d = config_dup(c);
	set_ok(&frontend_fields, config_frontend(d, "sub"), "bind",
	    "587,2500-2511");
	assert_false(config_equal(c, d));
	config_free(d);

	d = config_dup(c);
	farm_remove_server(config_farm(d, "mx"), "mx2");
	assert_false(config_equal(c, d));
	config_free(d);
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports_valid),
		cmocka_unit_test(test_ports_merge),
		cmocka_unit_test(test_ports_errors),
		cmocka_unit_test(test_ports_field),
		cmocka_unit_test(test_portlist_has),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_cidr_match),
		cmocka_unit_test(test_cidr_field_error),
		cmocka_unit_test(test_lists_are_sets),
		cmocka_unit_test(test_field_tables),
		cmocka_unit_test(test_probe_flags),
		cmocka_unit_test(test_field_ranges),
		cmocka_unit_test(test_name_rule),
		cmocka_unit_test(test_zone_paths),
		cmocka_unit_test(test_enum_error),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_duration_json),
		cmocka_unit_test(test_good_config),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_unknown_field),
		cmocka_unit_test(test_missing_farm),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_listen_clash),
		cmocka_unit_test(test_listen_clash_explicit_wildcard),
		cmocka_unit_test(test_server_loop),
		cmocka_unit_test(test_server_loop_other_frontend),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_missing_server_address),
		cmocka_unit_test(test_one_error_per_problem),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_unset_is_not_zero),
		cmocka_unit_test(test_unset_round_trip),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_durations_readable),
		cmocka_unit_test(test_dup_and_change),
		cmocka_unit_test(test_farm_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
