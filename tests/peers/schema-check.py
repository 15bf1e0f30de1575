#!/usr/bin/env python3
"""schema-check.py SCHEMA FILE...: validates each JSON file against the
config's JSON Schema with python3-jsonschema (Draft 2020-12).  Prints one
line per file, "valid FILE" or "invalid FILE: PATH: MESSAGE", and exits 1
if any file is invalid; exit 2 if the schema itself is not a valid schema."""
import json
import sys

import jsonschema


def main():
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    cls = jsonschema.Draft202012Validator
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print("schema is not a Draft 2020-12 schema: %s" % e.message)
        return 2
    v = cls(schema)
    bad = 0
    for path in sys.argv[2:]:
        with open(path) as f:
            doc = json.load(f)
        errs = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
        if errs:
            bad += 1
            e = errs[0]
            where = "/".join(str(p) for p in e.path) or "(top)"
            print("invalid %s: %s: %s" % (path, where, e.message))
        else:
            print("valid %s" % path)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
