/*
 * Config validation from JSON, as the engine does it for `commit` and
 * `mxlbd -c`: json_loadb, then config_from_json.  A config it accepts must
 * survive the trips the engine makes with it, or a commit could run one
 * config and store another:
 *
 *   config_to_json -> config_from_json           equal (config_equal)
 *   config_to_json -> text -> json_loads -> ...  equal (what the history
 *                                                keeps and rollback loads)
 *   config_dup                                   equal
 *   config_validate                              no error
 *
 * and one it refuses must say why.  Any difference aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fail(const char *what, const struct errs *e, const char *text)
{
	fprintf(stderr, "fuzz-config: %s\n", what);
	for (size_t i = 0; e != NULL && i < e->n; i++)
		fprintf(stderr, "  %s\n", e->v[i]);
	if (text != NULL)
		fprintf(stderr, "  exported: %s\n", text);
	abort();
}

/* The export parsed again, from the JSON object or from its text. */
static void
round_trip(const struct config *c, json_t *exported, const char *text)
{
	struct errs e = { NULL, 0 };
	json_error_t jerr;
	struct config *back;
	json_t *j;

	if ((back = config_from_json(exported, &e)) == NULL)
		fail("exported config does not load again", &e, text);
	if (e.n != 0)
		fail("reloaded config loads with errors", &e, text);
	if (!config_equal(c, back))
		fail("config_to_json -> config_from_json differs", NULL, text);
	config_free(back);

	if ((j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		fprintf(stderr, "fuzz-config: %s\n", jerr.text);
		fail("exported text is not JSON", NULL, text);
	}
	if ((back = config_from_json(j, &e)) == NULL)
		fail("exported text does not load again", &e, text);
	if (!config_equal(c, back))
		fail("config text round trip differs", NULL, text);
	config_free(back);
	json_decref(j);
	errs_free(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errs e = { NULL, 0 };
	json_error_t jerr;
	struct config *c, *dup;
	json_t *root, *exported;
	char *text;

	root = json_loadb((const char *)data, size,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL)
		return 0;
	c = config_from_json(root, &e);
	json_decref(root);
	if (c == NULL) {
		if (e.n == 0)
			fail("config refused without an error", NULL, NULL);
		for (size_t i = 0; i < e.n; i++)
			if (e.v[i] == NULL || e.v[i][0] == '\0')
				fail("empty error message", &e, NULL);
		errs_free(&e);
		return 0;
	}
	if (e.n != 0)
		fail("config accepted with errors", &e, NULL);
	if (config_validate(c, &e) != 0 || e.n != 0)
		fail("accepted config does not validate", &e, NULL);

	exported = config_to_json(c);
	if ((text = json_dumps(exported, CONFIG_JSON_FLAGS)) == NULL)
		fail("exported config does not dump", NULL, NULL);
	round_trip(c, exported, text);
	free(text);
	json_decref(exported);

	dup = config_dup(c);
	if (!config_equal(c, dup))
		fail("config_dup differs", NULL, NULL);
	config_free(dup);
	config_free(c);
	return 0;
}
