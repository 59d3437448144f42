"""Pure input checks of amphora_flavor, amphora_image and keypair (no cloud)."""

from __future__ import annotations

import pytest

from ansible_collections.octavia.lbaas.plugins.modules import amphora_flavor, amphora_image, keypair


@pytest.mark.parametrize("specs", [
    {"hw_rng:allowed": "True"},
    {"hw:cpu_policy": "dedicated", "quota:cpu_shares": "1024"},
    {"resources:CUSTOM_X": "1", "trait:CUSTOM_Y": "required"},
    {"group_policy": "none", "hide_hypervisor_id": "true"},
    {},
])
def test_valid_extra_specs(specs):
    assert amphora_flavor.check_extra_specs(specs) == []


@pytest.mark.parametrize("specs, fragment", [
    ({"bad key": "1"}, "not a valid extra spec"),
    ({"hw:cpu policy": "1"}, "not a valid extra spec"),
    ({"nonamespace": "1"}, "not a known extra spec"),
    ({":x": "1"}, "not a known extra spec"),
    ({"hw:": "1"}, "not a known extra spec"),
    ({"hw_rng:allowed": True}, "must be a string"),
    ({"hw:cpu_cores": 2}, "must be a string"),
    ({"hw:x": "v" * 256}, "longer than 255"),
    ({"hw:" + "k" * 255: "1"}, "at most 255"),
])
def test_invalid_extra_specs(specs, fragment):
    errors = amphora_flavor.check_extra_specs(specs)
    assert len(errors) == 1 and fragment in errors[0], errors


@pytest.mark.parametrize("value, ok", [
    ("sha256:" + "a" * 64, True),
    ("sha512:" + "B" * 128, True),
    ("md5:" + "0" * 32, False),      # MD5 can be forged: refused (issue 13 item 4)
    ("sha256:" + "a" * 63, False),
    ("sha1:" + "a" * 40, False),
    ("a" * 64, False),
])
def test_checksum_format(value, ok):
    match = amphora_image.CHECKSUM.match(value)
    assert bool(match and len(match.group(2)) == amphora_image.DIGEST_LENGTH[match.group(1)]) is ok


def test_key_body_ignores_comments():
    assert keypair.key_body("ssh-ed25519 AAAA one") == keypair.key_body("ssh-ed25519 AAAA  two\n")
    assert keypair.key_body("ssh-ed25519 AAAA") != keypair.key_body("ssh-ed25519 AAAB")
