"""Unit tests import the collection as ansible_collections.octavia.lbaas (the `run`
script links this checkout there), exactly as Ansible loads it."""

from __future__ import annotations

import json
import pathlib
import sys
from unittest import mock

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".tmp" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "octavia" / "lbaas"

if not LINK.exists():  # ./run creates it; make it when pytest runs without ./run
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(pathlib.Path("../../../.."))
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
if str(pathlib.Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(pathlib.Path(__file__).parent))

from ansible.module_utils import basic  # noqa: E402
from ansible.module_utils.testing import patch_module_args  # noqa: E402

from fake_octavia import FakeOctavia  # noqa: E402


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super().__init__(result.get("msg"))
        self.result = result
        self.failed = failed


@pytest.fixture
def fake():
    return FakeOctavia()


@pytest.fixture
def run_module(fake):
    """run_module(module, args, check=False, diff=False) -> result dict (raises
    ModuleExit with .failed for failures when expect_fail is False)."""
    from ansible_collections.octavia.lbaas.plugins.module_utils import cloud

    def run(module, args, check=False, diff=False, expect_fail=False):
        args = dict(args)
        args["_ansible_check_mode"] = check
        args["_ansible_diff"] = diff

        def exit_json(self, **result):
            raise ModuleExit(result, False)

        def fail_json(self, msg, **result):
            result["msg"] = msg
            raise ModuleExit(result, True)

        with patch_module_args(args), \
                mock.patch.object(basic.AnsibleModule, "exit_json", exit_json), \
                mock.patch.object(basic.AnsibleModule, "fail_json", fail_json), \
                mock.patch.object(cloud.CloudModule, "_connect", lambda self: fake), \
                mock.patch.object(cloud.time, "sleep", lambda s: None):
            try:
                module.main()
            except ModuleExit as done:
                result = json.loads(json.dumps(done.result))  # what exit_json could not serialize fails here
                if done.failed and not expect_fail:
                    raise AssertionError("module failed: %s" % result.get("msg")) from None
                if expect_fail and not done.failed:
                    raise AssertionError("module did not fail: %s" % result) from None
                return result
        raise AssertionError("module did not exit")
    return run
