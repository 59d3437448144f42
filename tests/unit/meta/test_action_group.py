"""meta/runtime.yml's action group `octavia` lists every module that takes `cloud`, so that
`module_defaults: {group/octavia.lbaas.octavia: {cloud: ...}}` reaches all of them, and
nothing else. A module takes `cloud` when its documented options (with the doc fragments it
extends) have it; ansible-test validate-modules keeps those equal to the argument spec."""

from __future__ import annotations

import ast
import importlib
import pathlib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
MODULES = ROOT / "plugins" / "modules"


def _documentation(path):
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError("%s has no DOCUMENTATION" % path.name)


def _fragment_options(name):
    """Options of a doc fragment `octavia.lbaas.<file>[.<VARIABLE>]`; other collections' fragments add none here."""
    parts = name.split(".")
    if parts[:2] != ["octavia", "lbaas"]:
        return {}
    module = importlib.import_module("ansible_collections.octavia.lbaas.plugins.doc_fragments.%s" % parts[2])
    text = getattr(module.ModuleDocFragment, parts[3] if len(parts) > 3 else "DOCUMENTATION")
    return yaml.safe_load(text).get("options") or {}


def documented_options(path):
    doc = _documentation(path)
    options = dict(doc.get("options") or {})
    fragments = doc.get("extends_documentation_fragment") or []
    for fragment in [fragments] if isinstance(fragments, str) else fragments:
        options.update(_fragment_options(fragment))
    return options


def modules_taking_cloud():
    return {path.stem for path in MODULES.glob("*.py") if "cloud" in documented_options(path)}


def action_group():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    return runtime["action_groups"]["octavia"]


def test_the_action_group_lists_every_module_that_takes_cloud():
    assert sorted(modules_taking_cloud() - set(action_group())) == []


def test_the_action_group_lists_only_modules_that_take_cloud():
    assert sorted(set(action_group()) - modules_taking_cloud()) == []
    assert len(action_group()) == len(set(action_group())), "a module is listed twice"


def test_the_check_sees_both_kinds_of_modules():
    # guards the test itself: CloudModule modules have `cloud`, the two that talk to no cloud API do not
    taking = modules_taking_cloud()
    assert {"loadbalancer", "amphora", "mgmt_network", "keypair"} <= taking
    assert not {"pki_certificates", "rabbitmq_account"} & taking
