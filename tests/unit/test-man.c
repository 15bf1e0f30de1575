/*
 * mxlb.json(5) from the field tables (engine/config-man.c): every field of
 * every object is on the page, with its range and default, and the page's
 * example is a config the engine accepts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "config-man.h"

static char *
page(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(config_man(f), 0);
	fclose(f);
	return text;
}

/* The key as the page writes it: .B, hyphens escaped. */
static void
assert_item(const char *text, const char *key)
{
	char want[128];
	size_t n;

	n = (size_t)snprintf(want, sizeof want, ".TP\n.B ");
	for (; *key != '\0' && n + 3 < sizeof want; key++) {
		if (*key == '-')
			want[n++] = '\\';
		want[n++] = *key;
	}
	want[n++] = '\n';
	want[n] = '\0';
	assert_non_null(strstr(text, want));
}

static void
test_every_field_is_on_the_page(void **state)
{
	const struct fieldset *sets[] = { &farm_fields, &server_fields,
	    &frontend_fields };
	char *text = page();

	(void)state;
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; i < sets[k]->n; i++)
			assert_item(text, sets[k]->f[i].key);
	assert_item(text, "zone");
	assert_item(text, "servers");
	/* A range and a default, as the table says them. */
	assert_non_null(strstr(text, "Allowed: 0\\-256.\nDefault: 1.\n"));
	assert_non_null(strstr(text, ".TH MXLB.JSON 5 "));
	free(text);
}

static void
test_example_is_valid(void **state)
{
	struct errs e = { NULL, 0 };
	json_error_t jerr;
	json_t *j = json_loads(config_man_example, 0, &jerr);
	struct config *c;

	(void)state;
	assert_non_null(j);
	c = config_from_json(j, &e);
	for (size_t i = 0; i < e.n; i++)
		fprintf(stderr, "example: %s\n", e.v[i]);
	assert_non_null(c);
	assert_int_equal(config_validate(c, &e), 0);
	assert_int_equal(e.n, 0);
	assert_int_equal(c->nfarms, 1);
	assert_int_equal(c->farms[0]->nservers, 3);
	config_free(c);
	json_decref(j);
	errs_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field_is_on_the_page),
		cmocka_unit_test(test_example_is_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
