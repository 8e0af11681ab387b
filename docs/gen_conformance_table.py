#!/usr/bin/env python3
"""Regenerates the rule table of docs/conformance.md from the RULES table of
crates/ems-profiles/src/rules.rs: code locations and tests are found by
searching the sources for each rule id. Run from the repository root:

    python3 docs/gen_conformance_table.py

crates/ems-profiles/tests/docs.rs checks the doc and the table agree.
"""
import glob
import re

SRC = open("crates/ems-profiles/src/rules.rs").read()
RULES = re.findall(
    r'r!\(\s*"([A-Z0-9-]+)",\s*(Must|Should|Info),\s*(true|false),\s*T::(\w+),\s*(Some\("([A-Z_ ]+)"\)|None),\s*"([^"]*)",\s*"([^"]*)"\s*\)',
    SRC,
)
CODE = [f for f in glob.glob("crates/*/src/**/*.rs", recursive=True) if "generated" not in f]
TESTS = glob.glob("crates/*/tests/*.rs") + glob.glob("tests/*.rs")
READER = {r: r.replace("-", "_") for r in [
    "SCHEMA-ORDER", "SCHEMA-UNKNOWN", "SCHEMA-REPEATED", "SCHEMA-CONTENT", "PRIMITIVE-EMPTY", "PRIMITIVE-FORMAT",
    "XML-NAMESPACE", "XML-MALFORMED", "XML-DTD", "JSON-MALFORMED", "RESOURCE-TYPE", "INPUT-TOO-LARGE", "INPUT-DEPTH", "INPUT-UTF8"]}
CRITERIA = {"SUB-CRITERIA-PATH": "PATH", "SUB-CRITERIA-KIND": "KIND", "SUB-CRITERIA-UNKNOWN": "UNKNOWN",
            "SUB-CRITERIA-CARDINALITY": "CARDINALITY", "SUB-CRITERIA-VALUE": "VALUE", "SUB-CRITERIA-EVENT": "EVENT"}
try:
    DIGEST = open("../shared/spec/ems-requirements.md").read() + open("../shared/corpus/README.md").read()
except OSError:
    DIGEST = ""
NAMED = set(re.findall(r"\[([A-Z][A-Z0-9]+(?:-[A-Z0-9*]+)+)\]", DIGEST)) | set(re.findall(r"`([A-Z]{2,}(?:-[A-Z0-9]+)+)`", DIGEST))


def named(rid):
    if rid in NAMED:
        return "digest"
    for d in NAMED:
        if d.endswith("*") and rid.startswith(d[:-1]):
            return f"digest ({d})"
    return "**new**"


def read(f):
    return open(f).read()


rows = []
for rid, strength, crit, _code, _s, spine, sec, summary in RULES:
    if rid in READER:
        files = [f for f in CODE if "rules::" + READER[rid] in read(f)]
    elif rid in CRITERIA:
        files = ["crates/ems-match/src/criteria.rs", "crates/ems-profiles/src/subscription.rs"]
    else:
        files = [f for f in CODE if f'"{rid}"' in read(f) and not f.endswith("rules.rs")]
    tests = [f for f in TESTS if f'"{rid}"' in read(f)
             or (rid in READER and "rules::" + READER[rid] in read(f))
             or (rid in CRITERIA and "r::" + CRITERIA[rid] in read(f))]
    publish = {"Must": "error", "Should": "warning", "Info": "information"}[strength]
    receive = "**error**" if crit == "true" else ("information" if strength == "Info" else "warning")
    rows.append((rid, named(rid), sec, publish, receive, spine or "—", summary,
                 "<br>".join(f"`{x}`" for x in sorted(set(files))) or "—",
                 "<br>".join(f"`{x}`" for x in sorted(set(tests))) or "—"))

doc = open("docs/conformance.md").read()
head = doc.split("## Rules")[0]
table = "## Rules\n\n| Rule id | Id from | Digest § | Publish | Receive | Spine code | Requirement | Code | Tests |\n|---|---|---|---|---|---|---|---|---|\n"
table += "".join("| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n" % r for r in rows)
open("docs/conformance.md", "w").write(head + table)
untested = [r[0] for r in rows if r[8] == "—"]
print(f"{len(rows)} rules; untested: {untested or 'none'}")
