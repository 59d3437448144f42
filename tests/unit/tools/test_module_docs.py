"""DOCUMENTATION agrees with each module's argument spec (what ansible-test
validate-modules checks), EXAMPLES and RETURN are YAML, the action group lists every
module."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.octavia.lbaas.plugins.doc_fragments import lb_options
from ansible_collections.octavia.lbaas.plugins.plugin_utils import lbaas_docs

import module_docs  # tools/module_docs.py (pytest.ini's pythonpath)
from doc_checks import compare_options as _compare

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", module_docs.MODULES)
def test_documentation_matches_the_argument_spec(name):
    module, cls = lbaas_docs.module_spec(name)
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["module"] == name
    assert doc["short_description"] and doc["description"]
    assert doc["author"] == module_docs.AUTHOR
    assert "octavia.lbaas.cloud" in doc["extends_documentation_fragment"]
    # the options come from the module's variable of the doc fragment lb_options, rendered from the specs
    assert "options" not in doc
    assert "octavia.lbaas.lb_options.%s" % name.upper() in doc["extends_documentation_fragment"]
    options = yaml.safe_load(getattr(lb_options.ModuleDocFragment, name.upper()))["options"]
    assert _compare(options, cls.argument_spec) == []


@pytest.mark.parametrize("name", module_docs.MODULES)
def test_documentation_is_generated_from_the_specs(name):
    module = lbaas_docs.module_spec(name)[0]
    assert module.DOCUMENTATION == module_docs.documentation(name), (
        "run ./run python tools/module_docs.py --write %s" % name)
    path, text, generated = module_docs.rendered(name)
    assert text == generated, "%s: the GENERATED comment is missing; run ./run python tools/module_docs.py --write %s" % (
        path.name, name)


@pytest.mark.parametrize("name", module_docs.MODULES)
def test_examples_and_return_are_yaml(name):
    module, cls = lbaas_docs.module_spec(name)
    examples = yaml.safe_load(module.EXAMPLES)
    assert examples and all("octavia.lbaas.%s" % name in task for task in examples)
    for task in examples:
        options = set(task["octavia.lbaas.%s" % name])
        known = set(cls.argument_spec) | {"cloud", "auth", "wait", "timeout"}
        assert options <= known, options - known
    returned = yaml.safe_load(module.RETURN)
    assert "api_calls" in returned
    for key, value in returned.items():
        assert value.get("description") and value.get("type") and value.get("returned"), key


def test_action_group_lists_every_module():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    assert set(module_docs.MODULES) <= set(runtime["action_groups"]["octavia"])
