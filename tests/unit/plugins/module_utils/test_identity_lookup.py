"""plugins/module_utils/identity_lookup.py: resolve_project, the one lookup of the project
whose names a module looks up (load-balancer and network modules alike)."""

from __future__ import annotations

import types

import pytest

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.identity_lookup import resolve_project


class Identity:
    def __init__(self, projects, fail=None):
        self.projects = projects
        self.fail = fail
        self.calls = 0

    def find_project(self, ref, ignore_missing=True):
        self.calls += 1
        if self.fail:
            raise self.fail
        return next((types.SimpleNamespace(id=pid) for pid, name in self.projects.items() if ref in (pid, name)), None)


def conn(own="own-id", **kwargs):
    return types.SimpleNamespace(current_project_id=own, identity=Identity({"own-id": "admin", "p2": "service"}, **kwargs))


def test_default_is_the_callers_project_without_a_call():
    c = conn()
    assert resolve_project(c, None) == "own-id" and resolve_project(c, "own-id") == "own-id"
    assert c.identity.calls == 0


def test_a_name_or_an_id_is_looked_up():
    assert resolve_project(conn(), "service") == "p2"
    assert resolve_project(conn(), "p2") == "p2"


@pytest.mark.parametrize("kwargs, project, message", [
    ({}, "nope", "project: nope not found"),
    ({"own": None}, None, "Cannot tell which project the credentials are scoped to; give project"),
    ({"fail": RuntimeError("403")}, "service", r"project: cannot look up service \(403\); give the project's ID"),
])
def test_failures_name_the_option(kwargs, project, message):
    with pytest.raises(ModuleError, match=message):
        resolve_project(conn(**kwargs), project)
