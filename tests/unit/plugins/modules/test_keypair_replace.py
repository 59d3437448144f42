"""Issue 13 item 2: a keypair replacement that Nova fails half-way loses no key. Nova
cannot be made to fail a create on the test cloud, so its compute proxy is a stand-in
here (the rest of the module, the file writing included, is the real code)."""

from __future__ import annotations

import os
import types

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ansible_collections.octavia.lbaas.plugins.module_utils import cloud
from ansible_collections.octavia.lbaas.plugins.modules import keypair


class Compute:
    def __init__(self, existing, fail_create):
        self.existing = existing
        self.fail_create = fail_create
        self.calls = []

    def get_keypair(self, name, user_id=None):
        return self.existing

    def delete_keypair(self, name, ignore_missing=True, user_id=None):
        self.calls.append(("delete", name))
        self.existing = None

    def create_keypair(self, **attrs):
        self.calls.append(("create", attrs["name"]))
        if self.fail_create:
            raise RuntimeError("Nova fell over")
        return types.SimpleNamespace(name=attrs["name"], public_key=attrs["public_key"], fingerprint="f", user_id=None)


def _old_keypair():
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    public = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return types.SimpleNamespace(name="amp", public_key=public + " amp", fingerprint="old", user_id=None)


def test_a_failed_create_after_the_delete_keeps_the_new_key(run_module, fake, tmp_path):
    compute = Compute(_old_keypair(), fail_create=True)
    fake.compute = compute      # the connection run_module hands the module
    key_file = tmp_path / "amp_key"
    result = run_module(keypair, {"name": "amp", "private_key_file": str(key_file), "replace": True},
                        expect_fail=True)
    # the new key was on disk before the old keypair was deleted, and stays there
    assert compute.calls == [("delete", "amp"), ("create", "amp")]
    assert key_file.stat().st_mode & 0o777 == 0o600
    serialization.load_ssh_private_key(key_file.read_bytes(), password=None)
    assert "the next run creates the keypair from it" in result["msg"]
    assert "PRIVATE KEY" not in str(result)
    # the next run creates the keypair from the file, with the same key
    compute.fail_create = False
    again = run_module(keypair, {"name": "amp", "private_key_file": str(key_file)})
    assert again["changed"] is True and compute.calls[-1] == ("create", "amp")
    private = serialization.load_ssh_private_key(key_file.read_bytes(), password=None)
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    assert again["keypair"]["public_key"].split()[1] == public.decode().split()[1]


def test_the_key_file_is_written_whole_and_never_overwritten(tmp_path):
    module = keypair.Keypair.__new__(keypair.Keypair)
    path = tmp_path / "sub" / "key"
    module.save_private(str(path), "KEY-A\n")
    assert path.read_text() == "KEY-A\n" and path.stat().st_mode & 0o777 == 0o600
    assert os.listdir(path.parent) == ["key"]
    with pytest.raises(cloud.ModuleError):
        module.save_private(str(path), "KEY-B\n")
    assert path.read_text() == "KEY-A\n" and os.listdir(path.parent) == ["key"]
