# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Jinja tests on IP addresses and networks, with Python's ipaddress (no netaddr needed):
roles validate addresses and CIDRs in ansible.builtin.assert before touching a host."""

from __future__ import annotations

import ipaddress


def _address(value):
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None


def _network(value):
    try:
        return ipaddress.ip_network(str(value).strip(), strict=True)
    except ValueError:
        return None


def ip_address(value):
    """True when value is one IPv4 or IPv6 address (no prefix)."""
    return _address(value) is not None


def ip_network(value):
    """True when value is a network in CIDR notation without host bits (10.0.0.0/24)."""
    return "/" in str(value) and _network(value) is not None


def ip_in_network(value, network):
    """True when the address value lies inside network (same IP version)."""
    addr, net = _address(value), _network(network)
    return addr is not None and net is not None and addr.version == net.version and addr in net


class TestModule:
    def tests(self):
        return {"ip_address": ip_address, "ip_network": ip_network,
                "ip_in_network": ip_in_network}
