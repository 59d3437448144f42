# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Value helpers every module shares, pure (no API call): the one check that a value is
an OpenStack UUID, and the one text form of an IP address."""

from __future__ import annotations

import ipaddress
import re

# The form Nova, Neutron, Glance and Octavia give their IDs: 8-4-4-4-12 hex digits, dashes
# included (Keystone's 32-hex IDs are not UUIDs in this sense: identity_lookup.py).
UUID_RE = re.compile(r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def is_uuid(value):
    """True for a UUID written the way OpenStack writes IDs (a name never is one)."""
    return isinstance(value, str) and bool(UUID_RE.match(value))


def is_ip(value):
    """True for an IPv4 or IPv6 address, written as it is (no surrounding spaces)."""
    try:
        ipaddress.ip_address(str(value))
        return True
    except ValueError:
        return False


def canonical_ip(value):
    """The one text form of an address (IPv6 has many): None and "" give None, a value
    that is not an address comes back as it is."""
    if value is None or value == "":
        return None
    try:
        return ipaddress.ip_address(str(value).strip()).compressed
    except ValueError:
        return value
