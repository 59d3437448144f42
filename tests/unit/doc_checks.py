"""Helpers the unit tests share (tests/unit is on pytest's pythonpath)."""

from __future__ import annotations


def compare_options(doc_options, spec, path=""):
    """Where documented options (DOCUMENTATION) and an argument spec disagree, suboptions included."""
    problems = []
    for name in sorted(set(doc_options) | set(spec)):
        where = "%s%s" % (path, name)
        if name not in spec:
            problems.append("%s: documented but not in the argument spec" % where)
            continue
        if name not in doc_options:
            problems.append("%s: not documented" % where)
            continue
        doc, arg = doc_options[name], spec[name]
        if not doc.get("description"):
            problems.append("%s: no description" % where)
        for key, fallback in (("type", "str"), ("elements", None), ("default", None), ("choices", None),
                              ("aliases", None)):
            if doc.get(key, fallback) != arg.get(key, fallback):
                problems.append("%s: %s is %r in the docs, %r in the spec" % (where, key, doc.get(key), arg.get(key)))
        if bool(doc.get("required")) != bool(arg.get("required")):
            problems.append("%s: required differs" % where)
        problems += compare_options(doc.get("suboptions") or {}, arg.get("options") or {}, where + ".")
    return problems
