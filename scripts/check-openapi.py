#!/usr/bin/env python3
"""scripts/check-openapi.py OPENAPI.yaml URL CHECKOUT_KEY OPERATOR_KEY READ_KEY

Checks docs/openapi.yaml against a running `perk serve`: every operation listed there is called
once as its `x-perk-check` says (concrete path, key scope, body; "$now" stands for the current
time), must answer the documented
status, and its JSON must have every `required` field of the documented response schema (nested
objects and array items included). Prints one line per problem; exits 1 if there is any.
Used by tests/service/serve.sh."""
import datetime
import json
import sys
import urllib.error
import urllib.request

import yaml


def resolve(spec, schema):
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def missing_fields(spec, schema, value, where):
    schema = resolve(spec, schema)
    problems = []
    if not isinstance(schema, dict):
        return problems
    if schema.get("type") == "object" and isinstance(value, dict):
        for field in schema.get("required", []):
            if field not in value:
                problems.append(f"{where}: missing required field '{field}'")
        for field, sub in schema.get("properties", {}).items():
            if field in value and value[field] is not None:
                problems += missing_fields(spec, sub, value[field], f"{where}.{field}")
    elif schema.get("type") == "object" and value is not None:
        problems.append(f"{where}: expected an object")
    if schema.get("type") == "array" and isinstance(value, list):
        for i, item in enumerate(value[:3]):
            problems += missing_fields(spec, schema.get("items", {}), item, f"{where}[{i}]")
    return problems


def main():
    spec_path, url, ckey, okey, rkey = sys.argv[1:6]
    keys = {"checkout": ckey, "operator": okey, "read": rkey, "none": None}
    spec = yaml.safe_load(open(spec_path, encoding="utf-8"))
    problems = []
    checked = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put"):
                continue
            chk = op.get("x-perk-check")
            if not chk:
                problems.append(f"{method.upper()} {path}: no x-perk-check")
                continue
            body = chk.get("body")
            # "$now" in a body is the current time: the store refuses orders far from its clock
            now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            data = json.dumps(body).replace('"$now"', json.dumps(now)).encode() if body is not None else None
            reqst = urllib.request.Request(url + chk.get("path", path), data=data, method=method.upper())
            key = keys[chk.get("key", "none")]
            if key:
                reqst.add_header("Authorization", "Bearer " + key)
            if data is not None:
                reqst.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(reqst, timeout=10) as resp:
                    status, ctype, text = resp.status, resp.headers.get("Content-Type", ""), resp.read()
            except urllib.error.HTTPError as e:
                status, ctype, text = e.code, e.headers.get("Content-Type", ""), e.read()
            where = f"{method.upper()} {path}"
            want = chk.get("status", 200)
            checked += 1
            if status != want:
                problems.append(f"{where}: status {status}, documented {want}: {text[:200]!r}")
                continue
            resp_doc = op["responses"].get(str(want), {})
            content = resp_doc.get("content", {})
            if "application/json" in content:
                if "application/json" not in ctype:
                    problems.append(f"{where}: Content-Type {ctype}, documented application/json")
                    continue
                problems += missing_fields(spec, content["application/json"].get("schema", {}), json.loads(text), where)
            elif content and not any(ctype.startswith(t.split(";")[0]) for t in content):
                problems.append(f"{where}: Content-Type {ctype}, documented {list(content)}")
            if "x-perk-check-contains" in chk and chk["x-perk-check-contains"].encode() not in text:
                problems.append(f"{where}: answer lacks {chk['x-perk-check-contains']!r}")
    for p in problems:
        print(p)
    print(f"openapi: {checked} operations called, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
