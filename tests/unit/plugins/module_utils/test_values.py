"""plugins/module_utils/values.py: the one UUID check and the one IP canonicaliser every
module uses."""

from __future__ import annotations

import pytest

from ansible_collections.octavia.lbaas.plugins.module_utils import lbaas_fields, lbaas_specs
from ansible_collections.octavia.lbaas.plugins.module_utils.values import canonical_ip, is_ip, is_uuid


@pytest.mark.parametrize("value, expected", [
    ("8a1f6f39-4bb6-4a5e-8c57-2c0c5b1cbf32", True),
    ("8A1F6F39-4BB6-4A5E-8C57-2C0C5B1CBF32", True),
    # the stricter of the copies this replaced: the dashes are part of an OpenStack ID, so a
    # 32-digit value without them is a name (lbaas and neutron took it for an ID before)
    ("8a1f6f394bb64a5e8c572c0c5b1cbf32", False),
    ("{8a1f6f39-4bb6-4a5e-8c57-2c0c5b1cbf32}", False),
    ("8a1f6f39-4bb6-4a5e-8c57-2c0c5b1cbf32\n", False),
    ("web", False), ("", False), (None, False), (42, False),
])
def test_is_uuid(value, expected):
    assert is_uuid(value) is expected


def test_canonical_ip():
    assert canonical_ip("2001:DB8:0:0::1") == "2001:db8::1"
    assert canonical_ip(" 10.0.0.1 ") == "10.0.0.1"
    assert canonical_ip("web.example.com") == "web.example.com"     # not an address: as given
    assert canonical_ip(None) is None and canonical_ip("") is None
    assert is_ip("::1") and not is_ip(" 10.0.0.1") and not is_ip("10.0.0.256") and not is_ip(None)


def test_the_engine_keeps_its_address_rules():
    """lbaas_fields: an option's address is canonical (spaces dropped); an API's empty or
    non-address value is shown as it is, not replaced by a default."""
    assert lbaas_fields.CHECKS["ip"](" 2001:DB8::1 ", "vip_address") == "2001:db8::1"
    with pytest.raises(lbaas_fields.Invalid, match="vip_address: '' is not an IP address"):
        lbaas_fields.CHECKS["ip"]("", "vip_address")
    view = lbaas_specs.MEMBER.view({"address": "2001:DB8::7", "protocol_port": 80, "monitor_address": ""})
    assert view["address"] == "2001:db8::7" and view["monitor_address"] == ""
